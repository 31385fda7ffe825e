"""The query UI at ``/``: YASGUI with the ``queries/`` examples as tabs and the project's prefixes.

YASGUI comes from the npm registry and is served by :mod:`.assets`, so the page makes no
request to any other host.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path

from flask import Blueprint, Response, render_template, request

from ..core.namespaces import ProjectNamespaces
from ..core.settings import DEFAULT_BASE, Settings
from .app import state
from .assets import missing_package, package_dir, package_version

blueprint = Blueprint("ui", __name__)

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


@blueprint.get("/")
def query_ui() -> Response:
    """The query editor, with one tab per example query."""
    settings = state().settings
    folder = package_dir("yasgui")
    if folder is None:
        return missing_package("yasgui")
    examples = example_queries(settings)
    prefixes = ProjectNamespaces(settings.base).prefixes()
    version = package_version(folder)
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
        "query_ui.html", examples=examples, config=config, version=version,
        prefixes=prefixes,
    )
    response = Response(html, mimetype="text/html")
    response.headers["Cache-Control"] = "no-cache"
    return response
