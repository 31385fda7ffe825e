"""Where the graph's IRIs live on this server.

The data is minted under one base (``AIWF_BASE``). The server answers for every IRI under it
at the same path, whatever host it runs on: ``{base}/id/org/x`` is served at ``/id/org/x``
on localhost and on the real domain alike. Pages link IRIs under the base to these local
paths, and every other IRI to itself.
"""

from __future__ import annotations

from urllib.parse import quote, unquote, urlencode

from flask import request, url_for

from .state import state


def base() -> str:
    """The base of the served data, without a trailing slash."""
    return state().settings.base.rstrip("/")


def iri_for_path(path: str) -> str:
    """The IRI under the base that the request path ``path`` (``/id/...``) stands for."""
    return base() + quote(unquote(path), safe="/:@!$&'()*+,;=-._~")


def local_path(iri: str) -> str | None:
    """The path on this server of ``iri``, or ``None`` if it is not under the base."""
    prefix = base()
    if iri == prefix or not iri.startswith(prefix + "/"):
        return None
    return iri[len(prefix):]


def href(iri: str) -> str:
    """A link for ``iri``: a path on this server for IRIs under the base, else the IRI itself.

    ``/id/`` IRIs link straight to their ``/doc/`` page, saving the browser a 303.
    """
    path = local_path(iri)
    if path is None:
        return iri
    if path.startswith("/id/"):
        path = "/doc/" + path[len("/id/"):]
    return request.script_root + path


def query_link(query: str, **params: str) -> str:
    """``/sparql?query=...`` (plus ``params`` such as ``format``) on this server."""
    return url_for("sparql.sparql") + "?" + urlencode({"query": query, **params}, quote_via=quote)


def editor_link(query: str, title: str) -> str:
    """The home page's editor with ``query`` open in a tab named ``title`` (``static/query-ui.js``
    opens a tab from a ``#query=...&tabTitle=...`` fragment and runs it)."""
    return url_for("ui.home") + "#" + urlencode({"query": query, "tabTitle": title}, quote_via=quote)
