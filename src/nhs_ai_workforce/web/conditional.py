"""What every served document and answer shares: validators and 304s, in one place.

A document's or dump's ``ETag`` is the SHA-256 of its bytes; a SPARQL answer's is
``{build}-{first 32 hex digits of that SHA-256}`` (:func:`entity_tag`), so it is equal for
equal answers in every server process and differs from one build to the next. Either is
strong; :mod:`.compression` makes it weak for the gzipped variant. ``Last-Modified`` is the
build's time.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from flask import Response, request


def entity_tag(sha256: str, build: str | None = None) -> str:
    """The opaque tag for bytes whose SHA-256 is ``sha256``, tied to ``build`` when given.

    >>> entity_tag("ab" * 32, "20260128T101500123456Z-3fa2c1")
    '20260128T101500123456Z-3fa2c1-abababababababababababababababab'
    """
    return f"{build}-{sha256[:32]}" if build else sha256


def conditional(response: Response, body: bytes, modified: datetime | None, *, etag: str | None = None) -> Response:
    """``response`` with a strong ``ETag`` (``etag``, else the SHA-256 of ``body``) and ``Last-Modified``;
    304 when a ``GET`` or ``HEAD`` says the client has it."""
    response.set_etag(etag or hashlib.sha256(body).hexdigest())
    if modified is not None:
        response.last_modified = modified
    return response.make_conditional(request)
