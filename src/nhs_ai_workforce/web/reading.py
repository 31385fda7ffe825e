"""Reading a request's body and parameters, with one error for each way a client can get it wrong."""

from __future__ import annotations

from flask import request
from werkzeug.datastructures import MultiDict

from ..core.errors import BadRequest, ServiceError
from ..sparql.negotiation import first_understood

FORM = "application/x-www-form-urlencoded"
#: The parameters clients name the result format with (Virtuoso's ``format``, others' ``output``).
FORMAT_PARAMETERS = ("format", "output")


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


def result_format(params: MultiDict) -> str | None:
    """The result format asked for: the first ``format`` or ``output`` value that names a syntax we write.

    Clients send several (SPARQLWrapper: ``format=tsv&format=text/tab-separated-values&output=tsv``);
    if none is understood the first is returned, so the 406 names it.
    """
    return first_understood([value for name in FORMAT_PARAMETERS for value in params.getlist(name)])


def unsupported_type(needs: str) -> ServiceError:
    """415 for a body of another type; ``needs`` says which types the route takes."""
    given = f"Content-Type {request.mimetype!r}" if request.mimetype else "no Content-Type"
    return ServiceError(415, "Unsupported media type", f"{needs}; the request has {given}")
