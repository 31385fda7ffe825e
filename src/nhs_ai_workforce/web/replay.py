"""Responses replayed byte for byte to repeated requests, before any request thread sees them.

The graph is read-only between builds, so a request whose bytes equal an earlier one's (request
line, headers and body, all of it) asks for the same response again, as long as the same build is
live. When the app answers a request from what it keeps for the build (a SPARQL answer it has
already kept, say), it marks the response replayable (:func:`mark`, with the build's id), and the
front end (:mod:`.front`) records the bytes it sent. The next time a connection's read brings
exactly those request bytes while the same build is live, the recorded response is written back
from the I/O thread, with a fresh ``Date``: no request thread, no Flask, no parsing. This is the
micro-cache a reverse proxy would keep (nginx's ``proxy_cache``), inside each server process.

What is never replayed: a response the app did not mark (errors, refusals, a miss, a volatile
query, pages that depend on anything but the request and the build); a request split over two
reads or sharing a read with another; one whose connection closes after it; any request while the
server is stopping (its last answer must say ``Connection: close``). Behind a trusted proxy
(``AIWF_TRUSTED_PROXY``) the logged client comes from ``X-Forwarded-For`` only when the proxy is
the peer, so a recording is replayed only to the peer it was made for. The recordings are bounded
in bytes (least recently used out first) and die with their build. Each replay writes its own
access-log line.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from waitress.utilities import build_http_date

from .accesslog import request_line

__all__ = ["ENVIRON_KEY", "Recording", "Replay", "mark", "response_date"]

#: The WSGI environ key in which the app leaves the id of the build a response was made from.
ENVIRON_KEY = "aiwf.replay_build"
#: The largest response recorded, in bytes.
MAX_RESPONSE_BYTES = 512 * 1024
_DATE = b"\r\nDate: "


def mark(environ: dict, build: str | None) -> None:
    """Say that this request's response depends only on its bytes and on ``build``."""
    if build:
        environ[ENVIRON_KEY] = build


_date = (0, b"")  # (second, its Date value)


def response_date() -> bytes:
    """The ``Date`` value for a response made in the I/O thread now (formatted once a second)."""
    global _date
    second = int(time.time())
    if _date[0] != second:
        _date = (second, build_http_date(second).encode("latin-1"))
    return _date[1]


@dataclass(frozen=True, slots=True)
class Recording:
    """A response as sent, split around its ``Date`` value, with what its access-log line needs."""

    build: str
    head: bytes  # up to and including "Date: "
    rest: bytes  # from the end of the Date value: the other headers and the body
    status: str
    size: int  # body bytes, as logged
    request_line: str
    referer: str
    agent: str
    peer: str
    remote: str

    @classmethod
    def of(cls, response_head: bytes, body: bytes, **fields) -> Recording | None:
        """A recording of ``response_head`` + ``body``; ``None`` if the head has no ``Date``."""
        start = response_head.find(_DATE)
        if start < 0:
            return None
        start += len(_DATE)
        end = response_head.index(b"\r\n", start)
        return cls(head=response_head[:start], rest=response_head[end:] + body, size=len(body), **fields)

    def response(self, date: bytes) -> bytes:
        return self.head + date + self.rest

    def held(self, request: bytes) -> int:
        """The bytes this recording and its request key hold."""
        return len(request) + len(self.head) + len(self.rest)


class Replay:
    """The recordings of one server process, keyed by the request's bytes.

    ``is_live`` says whether a build is live now, from what the process can check without fetching
    or opening anything (it runs in the I/O thread); ``trusted_proxy`` whether a peer's
    ``X-Forwarded-For`` may be believed.
    """

    def __init__(self, is_live: Callable[[str], bool], *, max_bytes: int, trusted_proxy: bool = False) -> None:
        self.is_live = is_live
        self.max_bytes = max_bytes
        self.trusted_proxy = trusted_proxy
        self.replayed = self.recorded = 0
        self._recordings: OrderedDict[bytes, Recording] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def find(self, request: bytes, peer: str) -> Recording | None:
        """The recording to replay for these request bytes from ``peer``, if any."""
        recording = self._recordings.get(request)
        if recording is None:
            return None
        if self.trusted_proxy and peer != recording.peer:
            return None
        try:
            live = self.is_live(recording.build)
        except Exception:  # noqa: BLE001 - no store, or it cannot be read: let the app say so
            live = False
        if not live:
            self._forget(request)
            return None
        with self._lock:
            if request in self._recordings:
                self._recordings.move_to_end(request)
            self.replayed += 1
        return recording

    def record(self, request: bytes, recording: Recording) -> None:
        """Keep ``recording`` for ``request`` (unless it is too large), dropping the least recently used."""
        size = recording.held(request)
        if size > min(self.max_bytes, MAX_RESPONSE_BYTES):
            return
        with self._lock:
            old = self._recordings.pop(request, None)
            if old is not None:
                self._bytes -= old.held(request)
            self._recordings[request] = recording
            self._bytes += size
            self.recorded += 1
            while self._bytes > self.max_bytes:
                key, dropped = self._recordings.popitem(last=False)
                self._bytes -= dropped.held(key)

    def record_sent(self, request: bytes, head: bytes, body: bytes, written: int, environ: dict, peer: str) -> None:
        """Record a response sent whole (``written`` body bytes, as waitress counted them) for
        ``request``, if the app marked it (:func:`mark`)."""
        build = environ.get(ENVIRON_KEY)
        if build is None or len(body) != written:
            return
        recording = Recording.of(
            head, body, build=build, status=head[9:12].decode("latin-1"), request_line=request_line(environ),
            referer=environ.get("HTTP_REFERER", ""), agent=environ.get("HTTP_USER_AGENT", ""), peer=peer,
            remote=environ.get("REMOTE_ADDR", ""))
        if recording is not None:
            self.record(request, recording)

    def _forget(self, request: bytes) -> None:
        with self._lock:
            old = self._recordings.pop(request, None)
            if old is not None:
                self._bytes -= old.held(request)
