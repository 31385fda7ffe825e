"""The query UI at ``/``: YASGUI with the ``queries/`` examples as tabs and the project's prefixes.

YASGUI comes from the npm registry (``package.json``; ``make setup`` runs ``npm ci``) and is
served by this blueprint from ``node_modules`` under ``/static/vendor/yasgui/``, so the page
makes no request to any other host. Without ``node_modules`` the page answers 503 and says
how to install it.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path

from flask import Blueprint, Response, abort, current_app, render_template, request, send_file

from ..core.namespaces import ProjectNamespaces
from ..core.settings import DEFAULT_BASE, Settings
from .app import state

blueprint = Blueprint("ui", __name__)

#: The npm package and the files of its prebuilt ``build/`` folder that the page may load.
YASGUI_PACKAGE = "@zazuko/yasgui"
VENDOR_FILES = {
    "yasgui.min.js": "text/javascript",
    "yasgui.min.css": "text/css",
    "yasgui.min.js.map": "application/json",
}
#: The URLs carry the package version (``?v=``), so the files can be cached for a year.
VENDOR_MAX_AGE = 365 * 24 * 3600

_SOURCE_TREE = Path(__file__).resolve().parents[3]
_HEADER = re.compile(r"#\s*(?P<key>[a-z]+):\s*(?P<value>.*)")


@dataclass(frozen=True)
class ExampleQuery:
    """One competency question from ``queries/``: its tab id, title, description and text."""

    id: str
    title: str
    description: str
    query: str


def read_example(path: Path, base: str = DEFAULT_BASE) -> ExampleQuery:
    """The example in ``path``: ``# title:`` and ``# description:`` come from its header comments.

    A header value goes on over the comment lines that follow it until the next ``# key:``
    line. The query text is the whole file, with IRIs under the default base moved to ``base``.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = Path(folder) / "01-example.rq"
    ...     _ = path.write_text("# title: A title\\n# description: One\\n#   two.\\nASK {}\\n")
    ...     example = read_example(path)
    >>> example.id, example.title, example.description
    ('q01-example', 'A title', 'One two.')
    """
    text = path.read_text(encoding="utf-8")
    header: dict[str, list[str]] = {}
    key = None
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        match = _HEADER.fullmatch(line)
        if match:
            key = match["key"]
            header[key] = [match["value"].strip()]
        elif key is not None:
            header[key].append(line.lstrip("#").strip())
    title = " ".join(header.get("title", [])).strip() or path.stem
    description = " ".join(header.get("description", [])).strip()
    if base.rstrip("/") != DEFAULT_BASE:
        text = text.replace(f"{DEFAULT_BASE}/", f"{base.rstrip('/')}/")
    return ExampleQuery(id=f"q{path.stem}", title=title, description=description, query=text)


def example_queries(settings: Settings) -> list[ExampleQuery]:
    """Every ``queries/*.rq`` file, in file-name order."""
    return [read_example(path, settings.base) for path in sorted(settings.queries_dir.glob("*.rq"))]


def yasgui_dir(settings: Settings) -> Path | None:
    """The installed YASGUI package: under the project root, else beside the source tree.

    ``app.config["YASGUI_DIR"]`` overrides the search (for tests and unusual installs).
    """
    configured = current_app.config.get("YASGUI_DIR")
    candidates = [Path(configured)] if configured else [
        root / "node_modules" / YASGUI_PACKAGE for root in (settings.root, _SOURCE_TREE)
    ]
    for folder in candidates:
        if all((folder / "build" / name).is_file() for name in VENDOR_FILES):
            return folder
    return None


def _version(folder: Path) -> str:
    try:
        return str(json.loads((folder / "package.json").read_text(encoding="utf-8"))["version"])
    except (OSError, ValueError, KeyError):
        return "0"


def _missing_assets() -> Response:
    html = render_template("query_ui.html", missing=True, package=YASGUI_PACKAGE)
    response = Response(html, status=503, mimetype="text/html")
    response.headers["Retry-After"] = "3600"
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.get("/")
def query_ui() -> Response:
    """The query editor, with one tab per example query."""
    settings = state().settings
    folder = yasgui_dir(settings)
    if folder is None:
        return _missing_assets()
    examples = example_queries(settings)
    prefixes = ProjectNamespaces(settings.base).prefixes()
    version = _version(folder)
    # The saved tabs are keyed by what the page offers, so new or edited examples replace them.
    fingerprint = hashlib.sha256(
        json.dumps([version, prefixes, [asdict(e) for e in examples]], sort_keys=True).encode()
    ).hexdigest()[:12]
    config = {
        "endpoint": f"{request.script_root}/sparql",
        "prefixes": prefixes,
        "examples": [asdict(example) for example in examples],
        "persistenceId": f"aiwf-query-ui-{fingerprint}",
    }
    html = render_template(
        "query_ui.html", missing=False, examples=examples, config=config, version=version,
        prefixes=prefixes,
    )
    response = Response(html, mimetype="text/html")
    response.headers["Cache-Control"] = "no-cache"
    return response


@blueprint.get("/static/vendor/yasgui/<name>")
def vendor_file(name: str) -> Response:
    """One whitelisted file of YASGUI's prebuilt bundle, cacheable for a year."""
    if name not in VENDOR_FILES:
        abort(404)
    folder = yasgui_dir(state().settings)
    if folder is None:
        return _missing_assets()
    response = send_file(folder / "build" / name, mimetype=VENDOR_FILES[name], max_age=VENDOR_MAX_AGE)
    response.cache_control.public = True
    response.cache_control.immutable = True
    return response
