"""What every served document shares: validators from its bytes and the build time, and 304s."""

from __future__ import annotations

import hashlib
from datetime import datetime

from flask import Response, request


def conditional(response: Response, body: bytes, modified: datetime | None) -> Response:
    """``response`` with a strong ``ETag`` (SHA-256 of ``body``) and ``Last-Modified``; 304 when the client has it."""
    response.set_etag(hashlib.sha256(body).hexdigest())
    if modified is not None:
        response.last_modified = modified
    return response.make_conditional(request)
