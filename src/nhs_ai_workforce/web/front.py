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

A request whose bytes equal an earlier one's, answered from what is kept for the live build, is
answered again from the I/O thread with the response recorded then (:mod:`.replay`), before any
request thread or the app sees it; the common request for a query is answered from the I/O
thread too, its query run by a query process meanwhile (:mod:`.lane`).

On ``SIGTERM`` (:func:`run`) the process stops gracefully, as nginx's ``quit`` does: it accepts
the connections already waiting in the listen queue and closes its listening sockets; it answers
every request it has read, is reading or finds waiting on a connection, saying
``Connection: close`` on the last answer of each connection; it closes idle connections; and it
returns once every connection is closed, or cuts off those still open when the grace period
ends. A connection is closed by shutting its sending side and then reading (and discarding)
what the client still sends for up to :data:`LINGER_S`, so a request that crosses the close
meets a clean end of stream, never a reset that could also discard the end of the last answer.
"""

from __future__ import annotations

import contextlib
import json
import signal
import socket
import threading
import time
from collections.abc import Callable

from waitress import wasyncore
from waitress.adjustments import Adjustments
from waitress.buffers import OverflowableBuffer
from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser
from waitress.server import TcpWSGIServer
from waitress.task import ErrorTask, ThreadedTaskDispatcher, WSGITask
from waitress.utilities import Error

from ..core.errors import ServiceError
from .accesslog import AccessLog, line, write
from .errors import error_body
from .lane import ENVIRON_KEY as LANE_KEY
from .lane import Lane
from .loop import Calls
from .replay import ENVIRON_KEY, MAX_RESPONSE_BYTES, Recording, Replay, response_date
from .stopping import stop

__all__ = ["HEAD_ALLOWANCE", "adjustments", "run"]

#: Room for the request line and headers beyond a ``GET`` query string of ``max_request_bytes``.
HEAD_ALLOWANCE = 16 * 1024
#: How often deadlines are checked, in seconds.
TICK_S = 1
#: How long a connection closed while stopping keeps reading (and discarding) what its client
#: still sends, in seconds: a request already on its way meets the end of the stream, not a reset.
LINGER_S = 1.0

_TITLES = {400: "Bad request", 408: "Request timeout", 413: "Request too large",
           431: "Request head too large", 500: "Internal server error", 501: "Not implemented"}


class RequestTimeout(Error):
    code = 408
    reason = "Request Timeout"


class _Parser(HTTPRequestParser):
    """Remembers when its request began and when its head was complete, and the request's bytes
    when they came in one read."""

    raw: bytes | None = None

    def __init__(self, adj: Adjustments) -> None:
        super().__init__(adj)
        self.started = time.monotonic()
        self.head_at: float | None = None
        self.chunk: bytes | None = None  # the read this request began at the start of, if it did
        self.taken = 0

    def received(self, data: bytes) -> int:
        consumed = super().received(data)
        self.taken += consumed
        if self.head_at is None and self.headers_finished:
            self.head_at = time.monotonic()
        if (self.completed and self.chunk is not None and self.taken == len(self.chunk) and not self.expect_continue
                and self.error is None):
            self.raw = self.chunk  # the whole request was that one read: it may be replayed (:mod:`.replay`)
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


class _Task(WSGITask):
    """A response that says ``Connection: close`` when the server is stopping and no other
    request follows it on its connection; one the app marks replayable is recorded (:mod:`.replay`)."""

    sent_head: bytes | None = None
    sent_body: list[bytes] | None = None
    sent_size = 0

    def build_response_header(self) -> bytes:
        channel = self.channel
        if channel.server.stopping and not channel.more_waiting():
            self.request.headers["CONNECTION"] = "close"  # waitress then closes after this response
        head = super().build_response_header()
        marked = ENVIRON_KEY in (self.environ or {})  # the app has run: a streamed body (a dump) is never marked
        if marked and self.request.raw is not None and channel.server.replay is not None:
            self.sent_head, self.sent_body, self.sent_size = head, [], len(head)
        return head

    def write(self, data: bytes) -> None:
        super().write(data)
        if self.sent_body is not None and data:
            self.sent_size += len(data)
            if self.sent_size > MAX_RESPONSE_BYTES:
                self.sent_head = self.sent_body = None  # too large to record: hold none of it
            else:
                self.sent_body.append(data)

    def service(self) -> None:
        super().service()
        if self.sent_head is not None:
            self._record()

    def get_environment(self) -> dict:
        environ = super().get_environment()
        result = getattr(self.request, "lane_result", None)  # what the lane had for it (:mod:`.lane`)
        if result is not None:
            environ[LANE_KEY] = result
        return environ

    def _record(self) -> None:
        if not (self.close_on_finish or self.chunked_response or self.request.command not in ("GET", "POST")
                or self.status[:3] not in ("200", "304")):
            self.channel.server.replay.record_sent(self.request.raw, self.sent_head, b"".join(self.sent_body),
                                                   self.content_bytes_written, self.environ, self.channel.addr[0])


def _bytes_waiting(sock: socket.socket | None) -> bool:
    """Whether the client has sent bytes not read yet (``False`` at the end of the stream)."""
    try:
        return bool(sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT))
    except (AttributeError, OSError):  # closed, nothing waiting, or a reset
        return False


class _Channel(HTTPChannel):
    parser_class = _Parser
    error_task_class = _ErrorTask
    task_class = _Task
    #: While the server stops: when this connection, its sending side shut, is closed for good.
    lingering_until: float | None = None
    #: The request the lane has in hand (:mod:`.lane`): until it is answered, nothing more is read.
    lane_request = None

    def received(self, data: bytes) -> bool:
        """Replay a recorded response to a request that is all of ``data`` (:mod:`.replay`), take it
        into the lane (:mod:`.lane`), or parse it."""
        replay, lane = self.server.replay, self.server.lane
        if (self.request is None and not self.requests and not self.server.stopping and not self.will_close
                and not self.close_when_flushed):
            recording = replay.find(data, self.addr[0]) if replay is not None else None
            if recording is not None:
                self._replay(recording)
                return True
            if lane is not None and lane.take(self, data):
                return True
            with self.requests_lock:
                if self.request is None and not self.requests:
                    self.request = self.parser_class(self.adj)
                    self.request.chunk = data
        return super().received(data)

    def _replay(self, recording: Recording) -> None:
        started = time.monotonic()
        self.send_response(recording.response(response_date()))
        remote = recording.remote if self.server.replay.trusted_proxy else self.addr[0]
        write(line(remote, recording.request_line, recording.status, recording.size, recording.referer,
                   recording.agent, (time.monotonic() - started) * 1000))

    def send_response(self, payload: bytes) -> None:
        """Send a whole response made in the I/O thread (a replay, the lane's)."""
        with self.outbuf_lock:
            if self.current_outbuf_count:  # a buffer per response, as waitress does: a sent one is freed
                self.outbufs.append(OverflowableBuffer(self.adj.outbuf_overflow))
                self.current_outbuf_count = 0
            self.outbufs[-1].append(payload)
            self.current_outbuf_count += len(payload)
            self.total_outbufs_len += len(payload)
            self._flush_exception(self._flush_some)
        self.last_activity = time.time()

    def more_waiting(self) -> bool:
        """Whether another request follows the one being answered: read, being read, or sent."""
        return len(self.requests) > 1 or self.request is not None or _bytes_waiting(self.socket)

    def idle(self) -> bool:
        """No request in hand, being read or waiting, and nothing left to send (the I/O thread asks)."""
        return not (self.requests or self.request is not None or self.total_outbufs_len
                    or self.lane_request is not None or _bytes_waiting(self.socket))

    def readable(self) -> bool:
        return self.lingering_until is not None or (self.lane_request is None and super().readable())

    def writable(self) -> bool:
        return self.lingering_until is None and super().writable()

    def handle_read(self) -> None:
        if self.lingering_until is None:
            super().handle_read()
            return
        try:
            data = self.socket.recv(65536)  # discarded: the answer to it will never come
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self.close_now()

    def handle_close(self) -> None:
        """Close; while the server stops, shut the sending side and linger (see :data:`LINGER_S`)."""
        if not self.server.stopping:
            super().handle_close()
            return
        if self.lingering_until is not None or self.socket is None:
            self.close_now()
            return
        try:
            self.socket.shutdown(socket.SHUT_WR)
        except OSError:
            self.close_now()
            return
        with self.outbuf_lock:  # as waitress's handle_close, but the socket stays open for reading
            for outbuf in self.outbufs:
                with contextlib.suppress(Exception):
                    outbuf.close()
            self.total_outbufs_len = 0
            self.connected = False
            self.outbuf_lock.notify()
        self.lingering_until = time.monotonic() + LINGER_S

    def close_now(self) -> None:
        """Close the connection at once."""
        if self.socket is not None:
            super().handle_close()


class Server(TcpWSGIServer):
    """A waitress server over an already listening socket that enforces the request deadlines."""

    channel_class = _Channel
    #: Set when the process stops: connections close after their last answer.
    stopping = False
    #: The recorded responses replayed to repeated requests (:mod:`.replay`), if any.
    replay: Replay | None = None
    #: Queries answered from the I/O thread (:mod:`.lane`), if any.
    lane: Lane | None = None

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
            if channel.lingering_until is not None or channel.lane_request is not None:
                continue
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
        """Accept every connection already waiting in the listen queue, then close the
        listening socket (once every process has, the port refuses connections)."""
        while True:
            try:
                conn, addr = self.socket.accept()
            except (BlockingIOError, InterruptedError):
                break
            except ConnectionAbortedError:
                continue
            except OSError:  # out of descriptors: what still waits is reset with the socket
                break
            try:
                self.set_socket_options(conn)
            except OSError:
                conn.close()
                continue
            self.channel_class(self, conn, self.fix_addr(addr), self.adj, map=self._map)
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
        # waitress counts every entry of the socket map: besides the connections, each listening
        # socket and its trigger, and the wake-up socket of run() (a query process's socket
        # waiting for the lane is not counted: connections then wait in the listen queue a moment)
        connection_limit=max(1, settings.max_connections) + 2 * len(sockets) + 1,
        channel_timeout=max(1, round(settings.header_timeout_s)),
        cleanup_interval=TICK_S,
        asyncore_use_poll=True,
        max_request_header_size=settings.max_request_bytes + HEAD_ALLOWANCE,
        max_request_body_size=settings.max_request_bytes + 1,  # waitress refuses a body of exactly this
        ident="aiwf",
        **proxy,
    )


def run(app: Callable, sockets: list[socket.socket], settings, *, threads: int, grace_s: float,
        replay: Replay | None = None, lane: Lane | None = None) -> None:
    """Serve ``app`` on ``sockets`` until ``SIGTERM``, then stop gracefully (see the module
    docstring) within ``grace_s`` seconds and return. With ``replay``, responses the app marks
    replayable are replayed to repeated requests (:mod:`.replay`); with ``lane``, queries are
    answered from the I/O thread (:mod:`.lane`)."""
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
    for server in servers:
        server.replay, server.lane = replay, lane
    stopping = threading.Event()
    wakeup = Calls(socket_map)  # a signal, and a call from another thread, end the loop's wait at once
    if lane is not None:
        lane.attach(socket_map, wakeup)
    previous = signal.set_wakeup_fd(wakeup.wakeup_fd, warn_on_full_buffer=False)
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    try:
        while not stopping.is_set():
            wasyncore.loop(timeout=TICK_S, map=socket_map, use_poll=True, count=1)
        stop(servers, socket_map, time.monotonic() + grace_s, tick_s=TICK_S)
    finally:
        signal.set_wakeup_fd(previous)
        wakeup.close()
        if lane is not None:
            lane.close()
        dispatcher.shutdown(cancel_pending=True, timeout=1)
