"""Counts that describe the graph: triples per named graph and instances per class."""

from __future__ import annotations

from dataclasses import dataclass

import pyoxigraph as ox

from ..core.namespaces import ProjectNamespaces
from ..core.terms import DEFAULT_GRAPH_LABEL, compact, graph_label

_GRAPH_COUNTS = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
_DEFAULT_COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
_UNION_COUNT = "SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o { ?s ?p ?o } }"
_CLASS_COUNTS = """
SELECT ?class (COUNT(DISTINCT ?thing) AS ?n)
WHERE { ?thing a ?class }
GROUP BY ?class
ORDER BY DESC(?n) ?class
"""


@dataclass(frozen=True)
class Stats:
    """Triples per graph (short names where known), distinct triples overall, class sizes."""

    graphs: list[tuple[str, int]]
    triples: int
    classes: list[tuple[str, int]]


def graph_counts(store: ox.Store, ns: ProjectNamespaces) -> list[tuple[str, int]]:
    """Triples in each named graph (and the default graph if it has any), sorted by name."""
    counts = [
        (graph_label(row["g"], ns), int(row["n"].value))
        for row in store.query(_GRAPH_COUNTS)
    ]
    default = _count(store, _DEFAULT_COUNT, union=False)
    if default:
        counts.append((DEFAULT_GRAPH_LABEL, default))
    return sorted(counts)


def triple_count(store: ox.Store) -> int:
    """Distinct triples in the union of all graphs."""
    return _count(store, _UNION_COUNT, union=True)


def class_counts(store: ox.Store, prefixes: dict[str, str] | None = None) -> list[tuple[str, int]]:
    """Distinct instances of each class across all graphs, largest first."""
    return [
        (compact(row["class"], prefixes), int(row["n"].value))
        for row in store.query(_CLASS_COUNTS, use_default_graph_as_union=True)
    ]


def collect(store: ox.Store, ns: ProjectNamespaces) -> Stats:
    """All the counts at once."""
    return Stats(
        graphs=graph_counts(store, ns),
        triples=triple_count(store),
        classes=class_counts(store, ns.prefixes()),
    )


def _count(store: ox.Store, query: str, *, union: bool) -> int:
    (row,) = list(store.query(query, use_default_graph_as_union=union))
    return int(row["n"].value)
