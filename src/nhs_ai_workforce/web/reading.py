"""Reading a request's body and parameters, with one error for each way a client can get it wrong."""

from __future__ import annotations

from flask import request
from werkzeug.datastructures import MultiDict

from ..core.errors import BadRequest, ServiceError

FORM = "application/x-www-form-urlencoded"


def require_utf8(what: str) -> None:
    """415 unless the request's ``charset`` (if any) is UTF-8; ``what`` names the body in the message."""
    charset = request.mimetype_params.get("charset")
    if charset is not None and charset.lower() not in ("utf-8", "utf8"):
        raise ServiceError(415, "Unsupported charset", f"{what} bodies must be UTF-8, not {charset!r}")


def body_text(title: str) -> str:
    """The body decoded as UTF-8; 400 titled ``title`` (e.g. "Malformed query") if it is not."""
    try:
        return request.get_data().decode("utf-8")
    except UnicodeDecodeError as error:
        raise BadRequest(f"the body is not UTF-8: {error}", title) from None


def one_or_none(params: MultiDict, name: str) -> str | None:
    """The single value of ``name`` in ``params``, or ``None``; 400 if it is repeated."""
    values = params.getlist(name)
    if len(values) > 1:
        raise BadRequest(f"give one {name!r} parameter, not {len(values)}", "Repeated parameter")
    return values[0] if values else None


def unsupported_type(needs: str) -> ServiceError:
    """415 for a body of another type; ``needs`` says which types the route takes."""
    given = f"Content-Type {request.mimetype!r}" if request.mimetype else "no Content-Type"
    return ServiceError(415, "Unsupported media type", f"{needs}; the request has {given}")
