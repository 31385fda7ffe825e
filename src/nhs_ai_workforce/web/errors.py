"""One error shape for the whole app: JSON for API clients, one HTML template for browsers.

Every refusal (a :class:`~nhs_ai_workforce.core.errors.ServiceError`), every HTTP error
Werkzeug raises (404, 405, 413...), an unreadable store (503) and a remote store that failed (502,
503 or 504, :class:`~nhs_ai_workforce.store.remote_store.RemoteStoreError`) become::

    {"ok": false, "status": 400, "title": "Malformed query",
     "error": "error at 2:9: expected ...", "line": 2, "column": 9}

``line`` and ``column`` are always present, ``null`` when the error has no position. A client
gets ``web/templates/error.html`` instead when its ``Accept`` header prefers ``text/html`` to
JSON (a browser); ``*/*`` or no header gets JSON. ``Allow`` (405) and other headers of the
HTTP error are kept, and an error that says when to retry (``retry_after``, as every 503
:class:`~nhs_ai_workforce.core.errors.Unavailable` does) gets ``Retry-After``. Unexpected
exceptions are 500s in the same shape, without details.

Every 404 has the one design of ``error.html``: the message, a search box over every label and,
where the caller knows them (:func:`not_found`), the nearest things and the kinds to browse.
"""

from __future__ import annotations

from typing import NamedTuple

from flask import Flask, Response, current_app, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError, RequestEntityTooLarge

from ..core.errors import ServiceError, Unavailable
from ..sparql.negotiation import negotiate
from ..store.live import StoreError
from ..store.remote_store import RemoteStoreError

__all__ = ["Suggestion", "error_body", "error_response", "not_found", "register", "wants_html"]

class Suggestion(NamedTuple):
    """A page a 404 suggests: where it is, its label and a small detail (its kind and key)."""

    href: str
    label: str
    detail: str = ""


#: Headers of a Werkzeug HTTP error worth keeping on our response.
_KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate")


def register(app: Flask) -> None:
    """Route every error through :func:`handle`."""
    app.register_error_handler(ServiceError, handle)
    app.register_error_handler(StoreError, handle)
    app.register_error_handler(HTTPException, handle)


def wants_html() -> bool:
    """Does the client prefer ``text/html`` to JSON (a browser rather than an API client)?"""
    accept = request.headers.get("Accept")
    if not accept:
        return False
    try:
        return negotiate(accept, ["application/json", "text/html"]) == "text/html"
    except ServiceError:  # accepts neither: JSON all the same
        return False


def error_body(error: ServiceError) -> dict:
    """The JSON error object."""
    return {
        "ok": False,
        "status": error.status,
        "title": error.title,
        "error": error.message,
        "line": error.line,
        "column": error.column,
    }


def error_response(error: ServiceError, headers: dict[str, str] | None = None, **page: object) -> Response:
    """The response for ``error`` in the shape the client prefers; ``page`` is more for the HTML page."""
    if wants_html():
        page.setdefault("query", _search_words(request.path) if error.status == 404 else "")
        response = Response(
            render_template("error.html", error=error, body=error_body(error), **page),
            status=error.status,
            content_type="text/html; charset=utf-8",
        )
    else:
        response = jsonify(error_body(error))
        response.status_code = error.status
    if error.retry_after is not None:
        response.headers["Retry-After"] = str(error.retry_after)
    response.headers.update(headers or {})
    response.vary.add("Accept")
    return response


def not_found(message: str, *, nearest: list[Suggestion] | tuple = (), query: str | None = None,
              kinds: list | None = None, headers: dict[str, str] | None = None) -> Response:
    """A 404: the JSON error for API clients; for browsers the one 404 page, with the ``nearest``
    pages, a search box filled with ``query`` (else words of the path) and the ``kinds`` to browse."""
    page: dict[str, object] = {"nearest": list(nearest), "kinds": kinds or []}
    if query is not None:
        page["query"] = query
    return error_response(ServiceError(404, "Not found", message), headers, **page)


def _search_words(path: str) -> str:
    """What a 404 page's search box starts with: the last part of the path, in words."""
    last = path.rstrip("/").rsplit("/", 1)[-1]
    return last.rsplit(".", 1)[0].replace("-", " ").replace("_", " ")


def handle(error: Exception) -> Response:
    """The one error handler registered on the app."""
    return error_response(*_as_service_error(error))


def _as_service_error(error: Exception) -> tuple[ServiceError, dict[str, str]]:
    if isinstance(error, ServiceError):
        return error, {}
    if isinstance(error, RemoteStoreError):  # a remote store that failed: 502, 503 or 504
        return error.service_error(), {}
    if isinstance(error, StoreError):
        return Unavailable(str(error)), {}
    if isinstance(error, HTTPException):
        status = error.code or 500
        headers = {key: value for key, value in error.get_headers() if key in _KEPT_HEADERS}
        return ServiceError(status, error.name.capitalize(), _message(error)), headers
    return ServiceError(500, "Internal server error", InternalServerError.description), {}


def _message(error: HTTPException) -> str:
    """Werkzeug's descriptions, made specific where we know more."""
    if isinstance(error, RequestEntityTooLarge):
        limit = current_app.config.get("MAX_CONTENT_LENGTH")
        return f"the request is larger than the limit of {limit} bytes" if limit else str(error.description)
    if error.code == 405:
        allowed = ", ".join(sorted(getattr(error, "valid_methods", None) or []))
        return f"{request.method} is not allowed on {request.path}" + (f"; use {allowed}" if allowed else "")
    if error.code == 404:
        return f"nothing is published at {request.path}"
    if isinstance(error, InternalServerError):
        return InternalServerError.description
    return str(error.description or error.name)
