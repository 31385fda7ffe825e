"""The home page at ``/``: what the dataset is, its counts, where to go next, and the query editor.

The editor (``#query``) is YASGUI with the ``queries/`` examples as tabs and the project's
prefixes. YASGUI comes from the npm registry and is served by :mod:`.assets`, so the page makes
no request to any other host. The counts are read from the live store once per build.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path

import pyoxigraph as ox
from flask import Blueprint, Response, current_app, render_template, request

from ..core.namespaces import GRAPH_DESCRIPTIONS, GRAPHS, ProjectNamespaces
from ..core.settings import DEFAULT_BASE, Settings
from ..documents.stats import graph_counts, triple_count
from ..reconcile.api import service_types
from ..store.live import StoreError
from .assets import PACKAGES, package_dir, package_version
from .state import state

blueprint = Blueprint("ui", __name__)

_HEADER = re.compile(r"#\s*(?P<key>[a-z]+):\s*(?P<value>.*)")

#: The kinds of thing the home page counts: (what to call them, their class as a prefixed name).
MAIN_KINDS = (
    ("Initiatives (reviews, reports, strategies, plans, programmes)", "aiwf:Initiative"),
    ("Organisations", "org:Organization"),
    ("People", "foaf:Person"),
    ("Role concepts", "aiwf:RoleConcept"),
    ("Uses of a role term in an initiative", "aiwf:TermUsage"),
    ("Recommendations", "aiwf:Recommendation"),
    ("Aims", "aiwf:Aim"),
    ("Technology types and subtypes", "aiwf:TechnologyType"),
    ("Clinical areas", "aiwf:ClinicalArea"),
    ("Workforce groups", "aiwf:WorkforceGroup"),
    ("Statistical observations", "qb:Observation"),
    ("Mappings to standard occupation codes", "sssom:Mapping"),
    ("Sections of the source document", "aiwf:SourceSection"),
)
_SSSOM = "https://w3id.org/sssom/"

#: Things worth opening first, as ``{kind}/{key}`` under ``{base}/id/``.
START_HERE = (
    "source/background",
    "initiative/this-research",
    "initiative/topol-review",
    "initiative/ai-roadmap",
    "scheme/role-terms",
)


@dataclass(frozen=True)
class ExampleQuery:
    """One competency question from ``queries/``: its tab id, title, description and text."""

    id: str
    title: str
    description: str
    query: str


def read_header(text: str) -> dict[str, str]:
    """The ``# key: value`` comments that open a query file; a value goes on over the comment lines after it.

    >>> read_header("# title: A title\\n# description: One\\n#   two.\\nASK {}\\n# title: ignored\\n")
    {'title': 'A title', 'description': 'One two.'}
    """
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
    return {key: " ".join(parts).strip() for key, parts in header.items()}


def rebase(text: str, base: str) -> str:
    """``text`` with IRIs under the default base moved to ``base``."""
    if base.rstrip("/") == DEFAULT_BASE:
        return text
    return text.replace(f"{DEFAULT_BASE}/", f"{base.rstrip('/')}/")


def read_example(path: Path, base: str = DEFAULT_BASE) -> ExampleQuery:
    """The example in ``path``: ``# title:`` and ``# description:`` come from its header comments.

    The query text is the whole file, with IRIs under the default base moved to ``base``.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = Path(folder) / "01-example.rq"
    ...     _ = path.write_text("# title: A title\\n# description: One\\n#   two.\\nASK {}\\n")
    ...     example = read_example(path)
    >>> example.id, example.title, example.description
    ('q01-example', 'A title', 'One two.')
    """
    text = path.read_text(encoding="utf-8")
    header = read_header(text)
    return ExampleQuery(
        id=f"q{path.stem}",
        title=header.get("title") or path.stem,
        description=header.get("description", ""),
        query=rebase(text, base),
    )


def example_queries(settings: Settings) -> list[ExampleQuery]:
    """Every ``queries/*.rq`` file, in file-name order."""
    return [read_example(path, settings.base) for path in sorted(settings.queries_dir.glob("*.rq"))]


# -- counts -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GraphCount:
    """A named graph: its short name, IRI, what it holds and its number of triples."""

    name: str
    iri: str
    description: str
    triples: int


@dataclass(frozen=True)
class KindCount:
    """How many things of one main kind (class, by prefixed name and IRI) the graph describes."""

    label: str
    curie: str
    iri: str
    count: int


@dataclass(frozen=True)
class Overview:
    """What the home page says about one build: triples per graph, things per kind, where to start."""

    build_id: str | None
    graphs: list[GraphCount]
    triples: int
    kinds: list[KindCount]
    start: list[tuple[str, str]]


def overview() -> Overview | None:
    """The live build's overview, made once per build id; ``None`` if no store is built yet."""
    current = state()
    try:
        store = current.store.get()
    except StoreError:
        return None
    cache: dict[str | None, Overview] = current_app.extensions.setdefault("aiwf-home-overview", {})
    build_id = current.store.build_id
    made = cache.get(build_id)
    if made is None:
        made = collect_overview(store, ProjectNamespaces(current.settings.base), build_id)
        cache.clear()
        cache[build_id] = made
    return made


def collect_overview(store: ox.Store, ns: ProjectNamespaces, build_id: str | None = None) -> Overview:
    """Count triples per named graph and things per main kind, and title the starting points."""
    graphs = [
        GraphCount(name, str(ns.graph(name)) if name in GRAPHS else name, GRAPH_DESCRIPTIONS.get(name, ""), n)
        for name, n in graph_counts(store, ns)
    ]
    order = {name: i for i, name in enumerate(GRAPHS)}
    graphs.sort(key=lambda graph: (order.get(graph.name, len(order)), graph.name))
    return Overview(build_id, graphs, triple_count(store), kind_counts(store, ns), titles(store, ns))


def kind_counts(store: ox.Store, ns: ProjectNamespaces) -> list[KindCount]:
    """Distinct instances of each of :data:`MAIN_KINDS` across all graphs."""
    prefixes = {**ns.prefixes(), "sssom": _SSSOM}
    kinds = [(label, curie, prefixes[curie.partition(":")[0]] + curie.partition(":")[2]) for label, curie in MAIN_KINDS]
    values = " ".join(f"<{iri}>" for *_, iri in kinds)
    query = f"SELECT ?class (COUNT(DISTINCT ?x) AS ?n) {{ VALUES ?class {{ {values} }} ?x a ?class }} GROUP BY ?class"
    counts = {row["class"].value: int(row["n"].value) for row in store.query(query, use_default_graph_as_union=True)}
    return [KindCount(label, curie, iri, counts.get(iri, 0)) for label, curie, iri in kinds]


def titles(store: ox.Store, ns: ProjectNamespaces) -> list[tuple[str, str]]:
    """(IRI, title) of each of :data:`START_HERE` that the graph has, in that order."""
    iris = [f"{ns.base}/id/{path}" for path in START_HERE]
    values = " ".join(f"<{iri}>" for iri in iris)
    query = f"""
    SELECT ?thing ?title WHERE {{
      VALUES ?thing {{ {values} }}
      ?thing <http://purl.org/dc/terms/title>|<http://www.w3.org/2004/02/skos/core#prefLabel> ?title
    }} ORDER BY ?thing ?title"""
    found: dict[str, str] = {}
    for row in store.query(query, use_default_graph_as_union=True):
        found.setdefault(row["thing"].value, row["title"].value)
    return [(iri, found[iri]) for iri in iris if iri in found]


# -- the page -------------------------------------------------------------------------------------


def editor_config(settings: Settings, examples: list[ExampleQuery], version: str) -> dict:
    """What ``static/query-ui.js`` needs: the endpoint, prefixes, examples and where tabs are saved."""
    prefixes = ProjectNamespaces(settings.base).prefixes()
    # The saved tabs are keyed by what the page offers, so new or edited examples replace them.
    fingerprint = hashlib.sha256(
        json.dumps([version, prefixes, [asdict(e) for e in examples]], sort_keys=True).encode()
    ).hexdigest()[:12]
    return {
        "endpoint": f"{request.script_root}/sparql",
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
    html = render_template(
        "home.html",
        overview=overview(),
        examples=examples,
        config=editor_config(settings, examples, version) if version else None,
        version=version,
        yasgui_package=PACKAGES["yasgui"].package,
        prefixes=ProjectNamespaces(settings.base).prefixes(),
        reconcile_url=request.url_root.rstrip("/") + "/reconcile",
        reconcile_types=service_types(settings.base),
    )
    response = Response(html, mimetype="text/html")
    response.headers["Cache-Control"] = "no-cache"
    return response
