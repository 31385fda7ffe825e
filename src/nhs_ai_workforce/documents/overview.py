"""What the home page says about a build: triples per named graph, things per main kind, where to start.

Counted from the store by :func:`collect_overview`, once per build (the web layer keeps it in
the build's memo).
"""

from __future__ import annotations

from dataclasses import dataclass

import pyoxigraph as ox

from ..core.namespaces import ALL_GRAPHS, GRAPH_DESCRIPTIONS, ProjectNamespaces
from ..core.vocab import DCTERMS, SKOS, SSSOM
from .stats import graph_counts, triple_count

__all__ = ["MAIN_KINDS", "START_HERE", "GraphCount", "KindCount", "Overview", "collect_overview", "kind_counts",
           "titles"]

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

#: Things worth opening first, as ``{kind}/{key}`` under ``{base}/id/``.
START_HERE = (
    "source/background",
    "initiative/this-research",
    "initiative/topol-review",
    "initiative/ai-roadmap",
    "scheme/role-terms",
)


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


def collect_overview(store: ox.Store, ns: ProjectNamespaces, build_id: str | None = None) -> Overview:
    """Count triples per named graph and things per main kind, and title the starting points."""
    graphs = [
        GraphCount(name, str(ns.graph(name)) if name in ALL_GRAPHS else name, GRAPH_DESCRIPTIONS.get(name, ""), n)
        for name, n in graph_counts(store, ns)
    ]
    order = {name: i for i, name in enumerate(ALL_GRAPHS)}
    graphs.sort(key=lambda graph: (order.get(graph.name, len(order)), graph.name))
    return Overview(build_id, graphs, triple_count(store), kind_counts(store, ns), titles(store, ns))


def kind_counts(store: ox.Store, ns: ProjectNamespaces) -> list[KindCount]:
    """Distinct instances of each of :data:`MAIN_KINDS` across all graphs."""
    prefixes = {**ns.prefixes(), "sssom": SSSOM}
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
      ?thing <{DCTERMS}title>|<{SKOS}prefLabel> ?title
    }} ORDER BY ?thing ?title"""
    found: dict[str, str] = {}
    for row in store.query(query, use_default_graph_as_union=True):
        found.setdefault(row["thing"].value, row["title"].value)
    return [(iri, found[iri]) for iri in iris if iri in found]
