"""The home page at ``/``: what the dataset is, its counts, where to go next, and the query editor.

The editor (``#query``) is YASGUI with the ``queries/`` examples as tabs and the project's
prefixes. YASGUI comes from the npm registry and is served by :mod:`.assets`, so the page makes
no request to any other host. The counts (:mod:`~nhs_ai_workforce.documents.overview`) are read
from the live store once per build.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict

from flask import Blueprint, Response, render_template, request

from ..core.namespaces import ProjectNamespaces
from ..core.settings import Settings
from ..documents import overview as overviews
from ..documents.examples import ExampleQuery, example_queries
from ..reconcile.kinds import entity_types
from ..store.live import StoreError, modified_time
from .state import state
from .vendor import PACKAGES, package_dir, package_version

blueprint = Blueprint("ui", __name__)


def overview() -> overviews.Overview | None:
    """The live build's overview, made once per build; ``None`` if no store is built yet."""
    current = state()
    ns = ProjectNamespaces(current.settings.base)
    try:
        return current.store.derived(
            ("home overview", ns.base),
            lambda store, build_id: overviews.collect_overview(store, ns, build_id),
        )
    except StoreError:
        return None


def editor_config(settings: Settings, examples: list[ExampleQuery], version: str) -> dict:
    """What ``static/query-ui.js`` needs: the endpoint, prefixes, examples and where tabs are saved."""
    prefixes = ProjectNamespaces(settings.base).prefixes()
    # The saved tabs are keyed by what the page offers, so new or edited examples replace them.
    fingerprint = hashlib.sha256(
        json.dumps([version, prefixes, [asdict(e) for e in examples]], sort_keys=True).encode()
    ).hexdigest()[:12]
    return {
        "endpoint": f"{request.script_root}/sparql",
        "base": settings.base.rstrip("/"),
        "root": request.script_root,
        "prefixes": prefixes,
        "examples": [asdict(example) for example in examples],
        "persistenceId": f"aiwf-query-ui-{fingerprint}",
    }


@blueprint.get("/")
def home() -> Response:
    """The home page, with the query editor (one tab per example query) under ``#query``."""
    settings = state().settings
    examples = example_queries(settings)
    folder = package_dir("yasgui")
    version = package_version(folder) if folder else None
    counted = overview()
    html = render_template(
        "home.html",
        overview=counted,
        modified=modified_time(settings, counted.build_id) if counted else None,
        examples=examples,
        config=editor_config(settings, examples, version) if version else None,
        version=version,
        yasgui_package=PACKAGES["yasgui"].package,
        prefixes=ProjectNamespaces(settings.base).prefixes(),
        reconcile_url=request.url_root.rstrip("/") + "/reconcile",
        reconcile_types=entity_types(settings.base),
    )
    response = Response(html, mimetype="text/html")
    response.headers["Cache-Control"] = "no-cache"
    return response
