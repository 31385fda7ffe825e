"""CORS on every route: any origin may read the public, read-only graph from a web page.

Every response (errors included) carries ``Access-Control-Allow-Origin: *`` and exposes the
headers a client needs (``Content-Type``, ``Vary``, ``Allow``...). An ``OPTIONS`` request to
any route is answered ``204 No Content`` with ``Allow`` and the preflight headers
(``Access-Control-Allow-Methods``, ``-Allow-Headers``, ``-Max-Age``) before the view runs.
No credentials are involved, so the wildcard origin is safe.
"""

from __future__ import annotations

from flask import Flask, Response, request

__all__ = ["ALLOW_HEADERS", "EXPOSE_HEADERS", "MAX_AGE", "register"]

#: Request headers a cross-origin page may send (plus any it asks for in a preflight).
ALLOW_HEADERS = "Accept, Accept-Language, Content-Type, Cache-Control, X-Requested-With"
#: Response headers a cross-origin page may read besides the CORS-safelisted ones.
EXPOSE_HEADERS = "Content-Type, Content-Length, Content-Disposition, Vary, Allow, Link, Location, ETag, Retry-After"
#: How long (seconds) a browser may cache a preflight answer.
MAX_AGE = 86400


def register(app: Flask) -> None:
    """Answer preflights on every route and add the CORS headers to every response."""
    app.before_request(preflight)
    app.after_request(add_cors_headers)


def preflight() -> Response | None:
    """``OPTIONS`` on a known route: 204 with ``Allow`` and the preflight headers."""
    if request.method != "OPTIONS" or request.url_rule is None or request.routing_exception is not None:
        return None  # not a preflight, or a 404 that the error handler answers
    methods = ", ".join(sorted(request.url_rule.methods or ()))
    response = Response(status=204)
    del response.headers["Content-Type"]
    response.headers["Allow"] = methods
    response.headers["Access-Control-Allow-Methods"] = methods
    response.headers["Access-Control-Allow-Headers"] = (
        request.headers.get("Access-Control-Request-Headers") or ALLOW_HEADERS
    )
    response.headers["Access-Control-Max-Age"] = str(MAX_AGE)
    return response


def add_cors_headers(response: Response) -> Response:
    """``Access-Control-Allow-Origin: *`` and the exposed headers, on every response."""
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Expose-Headers"] = EXPOSE_HEADERS
    return response
