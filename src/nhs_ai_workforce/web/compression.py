"""gzip for large text answers, when the client's ``Accept-Encoding`` allows it.

Every text answer (HTML, SPARQL results, RDF documents and dumps, JSON, scripts) of at least
:data:`MIN_BYTES` goes out gzipped to a client that accepts ``gzip``; the gzipped dumps
(``application/gzip``) and anything already encoded are left alone, as are partial (``206``)
answers, which are ranges of the plain bytes. Text answers say ``Vary: Accept-Encoding``, and to
a client that accepts gzip their ``ETag`` is weak (``W/"..."``, as nginx does): the two encodings
are the same document, and ``If-None-Match`` compares weakly, so either tag still gets ``304``.

An answer with a strong ``ETag`` names its bytes (the pages, documents and SPARQL answers made
once per build, the dumps, the scripts), so its gzipped bytes are kept by that tag, in each
server process, up to :data:`MEMO_BYTES`: a page sent again is not compressed again (gzip is
0.4 ms of the 1.4 ms a 40 KB resource page costs otherwise).
"""

from __future__ import annotations

import gzip
import threading
from collections import OrderedDict

from flask import Flask, Response, request

#: Smaller answers fit in one packet anyway.
MIN_BYTES = 1024
#: Larger answers go out plain rather than hold a thread compressing them.
MAX_BYTES = 64 * 1024 * 1024
#: Gzipped bytes kept per server process, by strong ``ETag`` (least recently used go first).
MEMO_BYTES = 16 * 1024 * 1024
_TEXT_TYPES = {"application/json", "application/javascript", "application/xml", "application/n-triples",
               "application/n-quads", "application/trig", "application/sparql-query", "image/svg+xml"}


def register(app: Flask) -> None:
    """Compress the app's answers (an ``after_request`` hook)."""
    app.after_request(compress)


def compressible(mimetype: str | None) -> bool:
    """Is ``mimetype`` text that gzip shrinks?

    >>> compressible("text/csv"), compressible("application/ld+json"), compressible("application/gzip")
    (True, True, False)
    """
    if not mimetype:
        return False
    return mimetype.startswith("text/") or mimetype in _TEXT_TYPES or mimetype.endswith(("+json", "+xml"))


def compress(response: Response) -> Response:
    """``response`` gzipped if it is large text and the client takes gzip; ``Vary`` and ``ETag`` to match."""
    if response.status_code not in (200, 304) or not compressible(response.mimetype):
        return response
    response.vary.add("Accept-Encoding")
    if request.accept_encodings["gzip"] <= 0 or "Content-Encoding" in response.headers:
        return response
    etag, weak = response.get_etag()
    if etag and not weak:
        response.set_etag(etag, weak=True)
    if response.status_code != 200 or not _sized(response):
        return response
    named = etag if etag and not weak else None
    zipped = _memo.get(named) if named else None
    if zipped is None:
        response.direct_passthrough = False  # a file (send_file): read it
        zipped = gzip.compress(response.get_data(), compresslevel=6, mtime=0)
        if named:
            _memo.put(named, zipped)
    else:
        close = getattr(response.response, "close", None)  # a file (send_file): left unread, closed
        if close is not None:
            response.call_on_close(close)
        response.direct_passthrough = False
    response.set_data(zipped)
    response.headers["Content-Encoding"] = "gzip"
    response.headers.pop("Accept-Ranges", None)  # ranges are served from the plain bytes only
    return response


def _sized(response: Response) -> bool:
    """Is the body's length known and between the limits? (Streams of unknown length are left alone.)"""
    length = response.content_length
    return length is not None and MIN_BYTES <= length <= MAX_BYTES


class _Memo:
    """Bytes by key, at most ``limit`` bytes in all, the least recently used dropped first (thread-safe)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.size = 0
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            data = self._items.get(key)
            if data is not None:
                self._items.move_to_end(key)
            return data

    def put(self, key: str, data: bytes) -> None:
        if len(data) > self.limit // 8:
            return
        with self._lock:
            if key in self._items:
                return
            self._items[key] = data
            self.size += len(data)
            while self.size > self.limit:
                _, dropped = self._items.popitem(last=False)
                self.size -= len(dropped)


_memo = _Memo(MEMO_BYTES)
