"""Queries answered from the front end's I/O loop, without a request thread or the app.

A request thread and the app cost about a millisecond of the server process's CPU per query;
handing a query to a query process from an event loop costs a tenth of that
(``benchmarks/README.md``, "The floor of a cold answer"). So the common request for a query,
read whole in one read, is taken by :class:`Lane` in the I/O thread, as the replay
(:mod:`.replay`) takes a repeated one:

1. **Read.** ``POST /sparql`` over HTTP/1.1 with ``Content-Type: application/sparql-query``
   (UTF-8) and no other headers than ``Host``, ``Accept``, ``Accept-Encoding``,
   ``Content-Length``, ``User-Agent``, ``Referer`` and ``Connection: keep-alive``. Anything else
   (another method, path or header, conditional headers, a proxy to trust) is the app's, as sent.
2. **Checked** as the app checks it: the guard's scan of the text, the result type for
   ``Accept``, the answers kept for the live build. A query the guard refuses, a volatile one,
   one without an acceptable result type and one whose answer is kept go to the app, which
   refuses or answers them in its own words.
3. **Admitted** by the query pool's admission (:meth:`~..sparql.admission.Admission.enter_nowait`):
   the same slots, queue and fair share as the app's requests; a request the admission would
   refuse goes to the app. Once it has a slot, its job goes to an idle query process and the
   loop serves other connections until the reply can be read.
4. **Answered** with the response the app sends for a miss (the same status line and headers:
   ``tests/web/test_lane.py`` compares them), access-logged, and kept as the app keeps answers.

A watch thread kills a query process past the time limit or over its memory share, and gives up
a request that waited for a slot longer than the admission allows, or whose client closed the
connection while it waited (logged as 499; its place in the queue and its client's share freed).
Every error (those, and the errors query processes report), and an answer the app must still
shape (gzipped for a client that takes gzip; the last one of a stopping server, which says
``Connection: close``), goes to the app with the outcome attached (:data:`ENVIRON_KEY`): it
answers without running the query again.

While a connection's request is in the lane the connection reads nothing more, and it is neither
idle nor expired.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import re
import signal
import socket
import threading
import time
from dataclasses import dataclass, replace
from typing import Any

from waitress.channel import HTTPChannel
from werkzeug.http import http_date, parse_accept_header

from ..core.errors import ServiceError
from ..sparql.admission import Ticket, client_key
from ..sparql.execution import QueryJob, QueryOutcome
from ..sparql.guard import check_query
from ..sparql.negotiation import content_type, negotiate, offers_for
from ..sparql.pool import WATCH_S, PooledExecutor
from ..store.answers import CACHE_STATUS, answer_key
from ..store.live import CurrentStore, StoreError, modified_time
from .accesslog import line, write
from .compression import MIN_BYTES, compressible
from .cors import EXPOSE_HEADERS
from .loop import Calls, Readable
from .replay import response_date

__all__ = ["ENVIRON_KEY", "Lane", "fits"]

#: The WSGI environ key of what the lane hands the app with a request: the query's outcome
#: (a :class:`QueryOutcome` with its cache status) or its :class:`ServiceError`.
ENVIRON_KEY = "aiwf.lane"

_HEADERS = {b"host", b"accept", b"accept-encoding", b"content-type", b"content-length", b"user-agent", b"referer",
            b"connection"}
_HOST = re.compile(rb"[a-z0-9.-]+(?::[0-9]{1,5})?")
_DIRECT = re.compile(rb'application/sparql-query(?:\s*;\s*charset\s*=\s*"?utf-8"?)?', re.IGNORECASE)

_log = logging.getLogger(__name__)


@dataclass(eq=False)
class _Request:
    """A request in the lane, from its read to its answer."""

    channel: Any
    raw: bytes
    request_line: str
    job: QueryJob
    key: str
    gzip: bool
    referer: str
    agent: str
    started: float
    ticket: Ticket | None = None
    child: Any = None
    #: While waiting: when it gives up. While running: the time limit.
    deadline: float = 0.0
    #: Why the watch killed its query process: ``"time"``, ``"asked back"`` (its lent slot), or
    #: the memory (MB) it was found using.
    killed: str | float | None = None
    #: The query process's socket, while the I/O loop waits for its reply.
    fd: int = -1
    done: bool = False


def fits(state) -> bool:
    """Can the front end answer ``state``'s queries itself? With the query pool on the embedded
    store (a remote store's build check may fetch, which the I/O thread must never do), and with no
    proxy whose forwarded headers say who the client is."""
    return (isinstance(state.executor, PooledExecutor) and isinstance(state.store, CurrentStore)
            and not state.settings.trusted_proxy)


@functools.lru_cache(maxsize=256)
def _media_type(accept: bytes | None, form: str) -> str:
    """:func:`~..sparql.negotiation.negotiate` of the app, remembered: clients send a few ``Accept`` values."""
    return negotiate(accept.decode("latin-1") if accept is not None else None, offers_for(form), what=f"{form} result")


@functools.lru_cache(maxsize=1024)
def _client(address: str) -> str | None:
    """:func:`~..sparql.admission.client_key`, remembered per peer address."""
    return client_key(address)


def _takes_gzip(accept_encoding: bytes | None) -> bool:
    """Does the client take gzip (as :func:`.compression.compress` reads ``Accept-Encoding``)?"""
    return accept_encoding is not None and parse_accept_header(accept_encoding.decode("latin-1"))["gzip"] > 0


class Lane:
    """Takes queries off the app's hands in the I/O thread (see the module docstring)."""

    def __init__(self, state) -> None:
        self.state = state
        self.pool: PooledExecutor = state.executor
        self._map: dict | None = None
        self._calls: Calls | None = None
        self._watched: set[_Request] = set()
        self._wake = threading.Condition()
        self._closed = False
        #: Requests answered here, and requests handed to the app after they were taken.
        self.answered = 0
        self.handed = 0

    def attach(self, socket_map: dict, calls: Calls) -> None:
        """Serve in the I/O loop of ``socket_map``, whose ``calls`` run what other threads ask."""
        self._map, self._calls = socket_map, calls
        threading.Thread(target=self._watch, name="aiwf-lane-watch", daemon=True).start()

    def close(self) -> None:
        with self._wake:
            self._closed = True
            self._wake.notify_all()

    # -- in the I/O thread

    def take(self, channel, data: bytes) -> bool:
        """Take the request that is all of ``data`` (see the module docstring); ``False``
        leaves it, untouched, to the app."""
        if self._map is None:
            return False
        try:
            request = self._read(channel, data)
        except Exception:  # noqa: BLE001 - the app answers what the lane cannot read, in its own words
            _log.exception("the query lane could not read a request; left to the app")
            return False
        if request is None:
            return False
        try:
            granted = functools.partial(self._granted, request)
            request.ticket = self.pool.admission.enter_nowait(request.job.client, granted)
        except ServiceError:
            return False  # the app refuses it, after waiting a moment for room as it does
        channel.lane_request = request
        if request.ticket.granted:
            self._run(request)
        else:
            request.deadline = time.monotonic() + self.pool.admission.wait_s
            self._watch_over(request)
        return True

    def _read(self, channel, data: bytes) -> _Request | None:
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        if lines[0] != b"POST /sparql HTTP/1.1":
            return None
        headers = {}
        for field in lines[1:]:
            name, colon, value = field.partition(b":")
            name = name.lower()
            if not colon or name not in _HEADERS or name in headers:
                return None
            headers[name] = value.strip()
        host = headers.get(b"host", b"")
        if (not _HOST.fullmatch(host) or host.endswith(b":80")
                or not _DIRECT.fullmatch(headers.get(b"content-type", b""))
                or headers.get(b"content-length") != str(len(body)).encode()
                or headers.get(b"connection", b"keep-alive").lower() != b"keep-alive"):
            return None
        try:
            text = body.decode()
        except UnicodeDecodeError:
            return None
        state, settings = self.state, self.state.settings
        seen = state.scans.get(text)
        try:
            lexed = check_query(text, max_bytes=settings.max_request_bytes, prefixes=state.scans.predeclared,
                                lexed=seen)
            form = lexed.query_form()
            media_type = _media_type(headers.get(b"accept"), form)
        except ServiceError:
            return None
        if form == "UPDATE" or lexed.volatile:
            return None
        state.scans.remember(text, lexed)
        base_url = f"http://{host.decode()}/sparql"
        key = answer_key(lexed.normal, media_type, (), (), base_url, settings.base, settings.result_limit_bytes)
        try:
            # A text this process has not scanned before is not looked for among the kept answers:
            # one is there only if another server process or an earlier run kept it, and the
            # lookup is a file system miss (16 microseconds under load) on every cold query. Such
            # an answer is found from the text's second request here on (README, "Answers reused").
            if seen is not None and state.answers.enabled and state.answers.get(state.store.snapshot()[1], key):
                return None  # a kept answer: the app sends it, and the replay records it
        except (StoreError, OSError):
            return None  # no store yet (the app says 503), or the kept answers cannot be read
        job = QueryJob(text, media_type, base_iri=base_url, lexed=lexed, client=_client(channel.addr[0]),
                       prefixes=lexed.predeclared_used(state.scans.predeclared))
        return _Request(channel, data, lines[0].decode(), job, key, _takes_gzip(headers.get(b"accept-encoding")),
                        headers.get(b"referer", b"").decode("latin-1"),
                        headers.get(b"user-agent", b"").decode("latin-1"), time.monotonic())

    def _granted(self, request: _Request) -> None:
        """Called by the admission when a waiting request gets its slot (in any thread)."""
        self._calls.call_soon(functools.partial(self._run, request))

    def _run(self, request: _Request) -> None:
        if request.done:  # given up while its grant was on its way
            self._leave(request)
            return
        try:
            child = self.pool.try_take()
            sent = child is not None and self.pool.send(child, request.job)
        except Exception:  # noqa: BLE001 - a failure here must neither keep the slot nor leave the client waiting
            _log.exception("the query lane could not send a query")
            child, sent = None, False
        if not sent:
            self._leave(request)
            self._hand_back(request, None)  # the app waits for a query process as it does
            return
        request.child = child
        request.deadline = time.monotonic() + self.pool.timeout_s
        request.fd = child.conn.fileno()
        self._map[request.fd] = Readable(functools.partial(self._replied, request))
        self._watch_over(request)

    def _replied(self, request: _Request) -> None:
        if request.done:
            return
        self._map.pop(request.fd, None)
        with self._wake:  # decided once, against the watch: it kills no process of a request claimed here
            killed = request.killed
            if killed != "asked back":
                request.done = True
                self._watched.discard(request)
        if killed == "asked back":
            self._requeue(request)
            return
        try:
            result = self._result(request, killed)
            if isinstance(result, ServiceError):
                self._hand_back(request, result)
            else:
                self._answer(request, result)
        except Exception as error:  # noqa: BLE001 - a failure here must not leave the client waiting
            _log.exception("the query lane could not answer a query")
            if request.channel.lane_request is request:
                self._hand_back(request, ServiceError(500, "Internal error", f"{type(error).__name__}: {error}"))

    def _result(self, request: _Request, killed: str | float | None) -> QueryOutcome | ServiceError:
        """The reply of the request's query process, or why there is none (``killed`` by the
        watch: ``"time"`` or the memory it used); its slot is freed."""
        child, pool = request.child, self.pool
        reply = None
        if killed is None:
            with contextlib.suppress(EOFError, OSError):
                reply = child.conn.recv()
        try:
            if reply is not None:
                return pool.settle(child, reply)
            if killed == "time":
                return pool.timed_out(child)
            if killed is not None:
                return pool.memory_error(child, killed)
            return pool.lost(child)
        except ServiceError as error:
            return error
        finally:
            self._leave(request)

    def _requeue(self, request: _Request) -> None:
        """Its lent slot was asked back and its query stopped: back to the queue, to start again."""
        self.pool.stop_lent(request.child)
        request.child, request.fd, request.killed = None, -1, None
        granted = self.pool.admission.requeue(request.ticket, functools.partial(self._granted, request))
        self._calls.run_pending()  # the request the slot went to
        if granted:
            self._run(request)
        else:
            request.deadline = time.monotonic() + self.pool.admission.wait_s

    def _leave(self, request: _Request) -> None:
        """Free the request's slot; a lane request it is granted to sends its job at once."""
        self.pool.admission.leave(request.ticket)
        self._calls.run_pending()

    def _give_up(self, request: _Request, *, gone: bool = False) -> None:
        """Take a waiting request out of the queue, unless its slot just came: its time is up (the
        app says so, 503), or its client has ``gone`` (logged as 499, the connection closed)."""
        if request.done or request.child is not None:
            return
        error = self.pool.admission.cancel(request.ticket)
        if error is None:
            return  # granted meanwhile: it runs (a closed connection drops the answer)
        request.done = True
        self._unwatch(request)
        if not gone:
            self._hand_back(request, error)
            return
        request.channel.lane_request = None
        self._log(request, 499, 0)
        request.channel.handle_close()

    def _answer(self, request: _Request, outcome: QueryOutcome) -> None:
        settings, cache = self.state.settings, self.state.answers
        answer = cache.put(outcome.build, request.key, outcome.body, outcome.media_type,
                           min_uses=settings.answer_min_uses)
        status = cache.status(answer)
        channel = request.channel
        if (channel.server.stopping or not channel.connected
                or (request.gzip and len(outcome.body) >= MIN_BYTES and compressible(outcome.media_type))):
            self._hand_back(request, replace(outcome, sha256=answer.sha256, cache=status))
            return
        modified = self._modified(outcome.build)
        fields = [
            ("Access-Control-Allow-Origin", "*"),
            ("Access-Control-Expose-Headers", EXPOSE_HEADERS),
            ("Cache-Status", CACHE_STATUS[status]),
            ("Content-Length", str(len(outcome.body))),
            ("Content-Type", content_type(outcome.media_type)),
            ("Date", response_date().decode("latin-1")),
            ("Etag", f'"{answer.sha256}"'),
            *([("Last-Modified", modified)] if modified is not None else []),
            ("Server", "aiwf"),
            ("Vary", "Accept, Accept-Encoding"),
        ]
        head = "HTTP/1.1 200 OK\r\n" + "".join(f"{name}: {value}\r\n" for name, value in fields) + "\r\n"
        channel.lane_request = None
        channel.send_response(head.encode("latin-1") + outcome.body)
        self.answered += 1
        self._log(request, 200, len(outcome.body))

    @staticmethod
    def _log(request: _Request, status: int, size: int) -> None:
        write(line(request.channel.addr[0], request.request_line, status, size, request.referer, request.agent,
                   (time.monotonic() - request.started) * 1000))

    @functools.lru_cache(maxsize=8)  # noqa: B019 - one lane per server process, a few builds
    def _modified(self, build: str) -> str | None:
        """The ``Last-Modified`` of the answers of ``build``."""
        modified = modified_time(self.state.settings, build)
        return http_date(modified) if modified is not None else None

    def _hand_back(self, request: _Request, result: QueryOutcome | ServiceError | None) -> None:
        """Give the request to the app as if just read, with ``result`` attached (if any)."""
        channel = request.channel
        channel.lane_request = None
        self.handed += 1
        if not channel.connected:
            return
        parser = channel.parser_class(channel.adj)
        parser.lane_result = result
        channel.request = parser
        HTTPChannel.received(channel, request.raw)

    # -- the watch thread

    def _watch_over(self, request: _Request) -> None:
        with self._wake:
            self._watched.add(request)
            self._wake.notify()

    def _unwatch(self, request: _Request) -> None:
        with self._wake:
            self._watched.discard(request)

    def _watch(self) -> None:
        """Kill query processes past the time limit or over their memory share; give up
        requests that waited too long for a slot (in the I/O thread)."""
        while True:
            with self._wake:
                while not self._watched and not self._closed:
                    self._wake.wait()
                if self._closed:
                    return
                watched = list(self._watched)
            try:
                self._check(watched)
            except Exception:  # noqa: BLE001 - the watch must go on
                _log.exception("the query lane's watch failed")
            time.sleep(WATCH_S)

    def _check(self, watched: list[_Request]) -> None:
        now = time.monotonic()
        for request in watched:
            child = request.child
            if child is None:
                if now >= request.deadline:
                    self._calls.call_soon(functools.partial(self._give_up, request))
                elif _gone(request.channel):
                    self._calls.call_soon(functools.partial(self._give_up, request, gone=True))
                continue
            if request.killed is not None or request.done:
                continue
            if request.ticket.asked_back(now):
                why: str | float | None = "asked back"
            elif now >= request.deadline:
                why = "time"
            else:
                why = self.pool.over_memory(child)
            if why is None:
                continue
            with self._wake:  # unless the I/O thread has claimed the reply meanwhile (:meth:`_replied`)
                if request.done or request.child is not child:
                    continue
                request.killed = why
                with contextlib.suppress(OSError):
                    os.kill(child.pid, signal.SIGKILL)  # its socket closes: the I/O loop sees it


def _gone(channel) -> bool:
    """Has the client closed its end of ``channel`` (a peek finds the end of the stream)?"""
    try:
        return channel.socket.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True
