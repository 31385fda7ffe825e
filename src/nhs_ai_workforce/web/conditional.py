"""What every served document and answer shares: validators and 304s, in one place.

Every ``ETag`` is the SHA-256 of the bytes sent (a page, a document, a dump, a SPARQL answer),
strong, and nothing else: equal bytes have equal tags in every server process, in every build and
on every host that serves them, so a tag one replica gave is revalidated by another, and an answer
that a new build leaves unchanged still gets ``304``. :mod:`.compression` makes it weak for the
gzipped variant. ``Last-Modified`` is when the build's data last changed
(:func:`~nhs_ai_workforce.store.live.modified_time`: ``SOURCE_DATE_EPOCH`` when the build had one).
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from flask import Response, request


def conditional(response: Response, body: bytes, modified: datetime | None, *, etag: str | None = None) -> Response:
    """``response`` with a strong ``ETag`` (``etag``, the SHA-256 of ``body`` when known, else computed)
    and ``Last-Modified``; 304 when a ``GET`` or ``HEAD`` says the client has it."""
    response.set_etag(etag or hashlib.sha256(body).hexdigest())
    if modified is not None:
        response.last_modified = modified
    return response.make_conditional(request)
