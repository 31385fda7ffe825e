"""gzip for large text answers, when the client's ``Accept-Encoding`` allows it.

Every text answer (HTML, SPARQL results, RDF documents and dumps, JSON, scripts) of at least
:data:`MIN_BYTES` goes out gzipped to a client that accepts ``gzip``; the gzipped dumps
(``application/gzip``) and anything already encoded are left alone, as are partial (``206``)
answers, which are ranges of the plain bytes. Text answers say ``Vary: Accept-Encoding``, and to
a client that accepts gzip their ``ETag`` is weak (``W/"..."``, as nginx does): the two encodings
are the same document, and ``If-None-Match`` compares weakly, so either tag still gets ``304``.
"""

from __future__ import annotations

import gzip

from flask import Flask, Response, request

#: Smaller answers fit in one packet anyway.
MIN_BYTES = 1024
#: Larger answers go out plain rather than hold a thread compressing them.
MAX_BYTES = 64 * 1024 * 1024
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
    response.direct_passthrough = False  # a file (send_file): read it
    response.set_data(gzip.compress(response.get_data(), compresslevel=6, mtime=0))
    response.headers["Content-Encoding"] = "gzip"
    response.headers.pop("Accept-Ranges", None)  # ranges are served from the plain bytes only
    return response


def _sized(response: Response) -> bool:
    """Is the body's length known and between the limits? (Streams of unknown length are left alone.)"""
    length = response.content_length
    return length is not None and MIN_BYTES <= length <= MAX_BYTES
