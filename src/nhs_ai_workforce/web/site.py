"""``/robots.txt`` and ``/sitemap.xml``: what crawlers may read, and every page about a thing.

The sitemap lists the home page, the browse pages (``/doc/``, one per kind), the named graphs
and the ``/doc/`` page of every thing in the catalogue, with the date of the build's data as ``lastmod``.
The paths are listed once per build (``CurrentStore.derived``); the URLs are absolute under
the host the request came to (``X-Forwarded-Host`` / ``-Proto`` when behind the trusted
proxy), so the same store serves a right sitemap on localhost and on the real domain.
"""

from __future__ import annotations

from urllib.parse import quote
from xml.sax.saxutils import escape

from flask import Blueprint, Response, request

from ..core.namespaces import ProjectNamespaces
from ..documents.catalogue import Catalogue, read_catalogue
from ..documents.named_graphs import present_graphs
from ..store.live import modified_time
from .conditional import conditional
from .state import state

blueprint = Blueprint("site", __name__)

#: The most URLs one sitemap file may hold (sitemaps.org).
SITEMAP_LIMIT = 50_000
_PATH_SAFE = "/:@!$&'()*+,;=-._~%"


def doc_paths(catalogue: Catalogue, graphs: tuple[str, ...]) -> list[str]:
    """The site paths of the home page, the browse pages, the named ``graphs`` and each thing's ``/doc/`` page."""
    prefix = catalogue.base.rstrip("/") + "/id/"
    things = sorted(
        "/doc/" + quote(iri[len(prefix):], safe=_PATH_SAFE)
        for iri, (kind, _) in catalogue.things.items()
        if iri.startswith(prefix) and kind != "graph"
    )
    kinds = [f"/doc/{quote(kind, safe='')}/" for kind, _, _ in catalogue.kinds() if kind != "graph"]
    pages = [f"/doc/graph/{name}" for name in graphs]
    return ["/", "/doc/", *kinds, *pages, *things][:SITEMAP_LIMIT]


def _paths() -> tuple[list[str], str | None]:
    """The sitemap's paths and the build they were read from, made once per build."""
    current = state().store
    ns = ProjectNamespaces(state().settings.base)
    catalogue = current.derived(("catalogue", ns.base), lambda store, _build: read_catalogue(store, ns))
    return current.derived(("sitemap", ns.base),
                           lambda store, build: (doc_paths(catalogue, present_graphs(store, ns.base)), build))


@blueprint.get("/sitemap.xml")
def sitemap() -> Response:
    """Every ``/doc/`` page as an absolute URL under the request's host."""
    paths, build = _paths()
    root = request.host_url.rstrip("/") + request.script_root
    modified = modified_time(state().settings, build)
    lastmod = f"<lastmod>{modified.strftime('%Y-%m-%dT%H:%M:%SZ')}</lastmod>" if modified else ""
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">']
    lines += [f"<url><loc>{escape(root + path)}</loc>{lastmod}</url>" for path in paths]
    lines.append("</urlset>")
    body = ("\n".join(lines) + "\n").encode()
    response = Response(body, content_type="application/xml; charset=utf-8")
    response.headers["Vary"] = "Host"
    return conditional(response, body, modified)


@blueprint.get("/robots.txt")
def robots() -> Response:
    """Every page may be crawled; the sitemap says where they are."""
    root = request.host_url.rstrip("/") + request.script_root
    body = f"User-agent: *\nAllow: /\n\nSitemap: {root}/sitemap.xml\n".encode()
    return Response(body, content_type="text/plain; charset=utf-8")
