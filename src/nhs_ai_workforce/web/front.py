"""The front end of one server process: waitress, with deadlines, a connection cap and our errors.

waitress reads every request, head and body, in one I/O thread (``poll``) and hands it to a
request thread only once it is complete, so a client that sends half a request and stalls
holds a socket, never a thread. On top of waitress's idle timeout this adds deadlines:

- a request's head (request line and headers) must arrive within ``header_timeout_s`` of its
  first byte, and its body within ``body_timeout_s`` of the head, however slowly it trickles;
  a late request gets ``408`` and its connection is closed;
- a connection idle for ``header_timeout_s`` (before a request, or kept alive after one) is closed;
- at most ``max_connections`` open connections per process: more wait in the listen queue;
- a head over ``max_request_bytes`` + 16 KiB gets ``431`` and a body over ``max_request_bytes``
  ``413``, as soon as its headers say so.

Errors waitress answers itself use the app's JSON error shape, and are access-logged too.
"""

from __future__ import annotations

import json
import signal
import socket
import threading
import time
from collections.abc import Callable

from waitress import wasyncore
from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser
from waitress.server import TcpWSGIServer
from waitress.task import ErrorTask, ThreadedTaskDispatcher
from waitress.utilities import Error

from ..core.errors import ServiceError
from .accesslog import AccessLog, line, write
from .errors import error_body

__all__ = ["HEAD_ALLOWANCE", "adjustments", "run"]

#: Room for the request line and headers beyond a ``GET`` query string of ``max_request_bytes``.
HEAD_ALLOWANCE = 16 * 1024
#: How often deadlines are checked, in seconds.
TICK_S = 1

_TITLES = {400: "Bad request", 408: "Request timeout", 413: "Request too large",
           431: "Request head too large", 500: "Internal server error", 501: "Not implemented"}


class RequestTimeout(Error):
    code = 408
    reason = "Request Timeout"


class _Parser(HTTPRequestParser):
    """Remembers when its request began and when its head was complete."""

    def __init__(self, adj: Adjustments) -> None:
        super().__init__(adj)
        self.started = time.monotonic()
        self.head_at: float | None = None

    def received(self, data: bytes) -> int:
        consumed = super().received(data)
        if self.head_at is None and self.headers_finished:
            self.head_at = time.monotonic()
        return consumed


class _ErrorTask(ErrorTask):
    """waitress's own refusals (400, 408, 413, 431...) in the app's JSON error shape."""

    def execute(self) -> None:
        started = time.monotonic()
        error = self.request.error
        limits = self.channel.server.limits
        message = {
            413: f"the request body is over the limit of {limits['body']} bytes",
            431: f"the request line and headers are over {limits['head']} bytes; send long queries by POST",
        }.get(error.code, str(error.body))
        title = _TITLES.get(error.code, error.reason)
        body = json.dumps(error_body(ServiceError(error.code, title, message))).encode()
        self.status = f"{error.code} {error.reason}"
        self.response_headers.extend([("Content-Type", "application/json"), ("Access-Control-Allow-Origin", "*")])
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)
        # waitress stands "GET / HTTP/1.0" in for a head it refused as too large: not what was sent
        first = "-" if error.code == 431 else getattr(self.request, "first_line", b"").decode("latin-1", "replace")
        elapsed_ms = (time.monotonic() - started) * 1000
        write(line(self.channel.addr[0], first or "-", error.code, len(body), "", "", elapsed_ms))


class _Channel(HTTPChannel):
    parser_class = _Parser
    error_task_class = _ErrorTask


class Server(TcpWSGIServer):
    """A waitress server over an already listening socket that enforces the request deadlines."""

    channel_class = _Channel

    def __init__(self, app: Callable, sock: socket.socket, *, map: dict, dispatcher, adj: Adjustments,
                 header_timeout_s: float, body_timeout_s: float, limits: dict[str, int]) -> None:
        self.header_timeout_s = header_timeout_s
        self.body_timeout_s = body_timeout_s
        self.limits = limits
        super().__init__(app, map, True, sock, dispatcher=dispatcher, adj=adj, bind_socket=False,
                         sockinfo=(sock.family, sock.type, sock.proto, sock.getsockname()))

    def maintenance(self, now: float) -> None:
        """Close idle connections; answer 408 to late requests (waitress would just close them)."""
        clock, idle_since = time.monotonic(), now - self.adj.channel_timeout
        for channel in list(self.active_channels.values()):
            if channel.request is not None:
                self._expire(channel, clock)
            elif not channel.requests and channel.last_activity < idle_since:
                channel.will_close = True

    def _expire(self, channel: HTTPChannel, clock: float) -> None:
        """Answer 408 to a request whose head or body is late."""
        with channel.requests_lock:
            request = channel.request
            if request is None or channel.requests or channel.will_close or channel.close_when_flushed:
                return
            if request.head_at is None:
                if clock - request.started <= self.header_timeout_s:
                    return
                request.error = RequestTimeout(f"the request head did not arrive within {self.header_timeout_s:g} s")
            else:
                if clock - request.head_at <= self.body_timeout_s:
                    return
                request.error = RequestTimeout(f"the request body did not arrive within {self.body_timeout_s:g} s")
            request.completed = True
            channel.request = None
            channel.requests.append(request)
        self.add_task(channel)

    def stop_accepting(self) -> None:
        self.accepting = False
        self.del_channel()
        self.socket.close()


def adjustments(settings, sockets: list[socket.socket], threads: int) -> Adjustments:
    """waitress's settings for our limits and timeouts."""
    proxy = {}
    if settings.trusted_proxy:
        proxy = {"trusted_proxy": settings.trusted_proxy, "trusted_proxy_count": 1,
                 "trusted_proxy_headers": "x-forwarded-for x-forwarded-proto x-forwarded-host x-forwarded-port",
                 "clear_untrusted_proxy_headers": True}
    return Adjustments(
        sockets=sockets,
        threads=threads,
        connection_limit=max(1, settings.max_connections),
        channel_timeout=max(1, round(settings.header_timeout_s)),
        cleanup_interval=TICK_S,
        asyncore_use_poll=True,
        max_request_header_size=settings.max_request_bytes + HEAD_ALLOWANCE,
        max_request_body_size=settings.max_request_bytes + 1,  # waitress refuses a body of exactly this
        ident="aiwf",
        **proxy,
    )


def run(app: Callable, sockets: list[socket.socket], settings, *, threads: int, grace_s: float) -> None:
    """Serve ``app`` on ``sockets`` until ``SIGTERM``, then finish the requests in hand (up to
    ``grace_s`` seconds) and return."""
    adj = adjustments(settings, sockets, threads)
    socket_map: dict = {}
    dispatcher = ThreadedTaskDispatcher()
    dispatcher.set_thread_count(threads)
    limits = {"body": settings.max_request_bytes, "head": settings.max_request_bytes + HEAD_ALLOWANCE}
    servers = [
        Server(AccessLog(app), sock, map=socket_map, dispatcher=dispatcher, adj=adj, limits=limits,
               header_timeout_s=settings.header_timeout_s, body_timeout_s=settings.body_timeout_s)
        for sock in sockets
    ]
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    while not stopping.is_set():
        wasyncore.loop(timeout=TICK_S, map=socket_map, use_poll=True, count=1)
    for server in servers:
        server.stop_accepting()
    deadline = time.monotonic() + grace_s
    while _busy(servers) and time.monotonic() < deadline:
        wasyncore.loop(timeout=0.1, map=socket_map, use_poll=True, count=1)
    dispatcher.shutdown(cancel_pending=True, timeout=1)


def _busy(servers: list[Server]) -> bool:
    """Close connections with no request in hand; is any request still being answered?"""
    busy = False
    for server in servers:
        for channel in list(server.active_channels.values()):
            if channel.requests or channel.total_outbufs_len:
                busy = True
            else:
                channel.will_close = True
    return busy
