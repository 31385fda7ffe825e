"""What a named graph's document says: its name, what it holds, its size and the classes of its subjects.

Re-exported by :mod:`.describe`, which the resource pages use.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyoxigraph as ox

from ..core.namespaces import GRAPH_DESCRIPTIONS, ProjectNamespaces
from ..core.vocab import DCTERMS, RDFS, TYPE, VOID, XSD
from .catalogue import Catalogue
from .void import dataset_iri

__all__ = ["GraphSummary", "describe_graph", "graph_facts"]


@dataclass(frozen=True)
class GraphSummary:
    """A named graph: its name, IRI, what it holds, its size and the classes of its subjects."""

    name: str
    iri: str
    description: str
    triples: int
    classes: tuple[tuple[str, str, int], ...]


def describe_graph(store: ox.Store, name: str, catalogue: Catalogue) -> GraphSummary:
    """The summary of the named graph ``name`` (one of :data:`GRAPHS`)."""
    ns = ProjectNamespaces(catalogue.base)
    iri = str(ns.graph(name))
    (row,) = list(store.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{iri}> {{ ?s ?p ?o }} }}"))
    classes = [
        (r["c"].value, catalogue.name(r["c"].value), int(r["n"].value))
        for r in store.query(f"SELECT ?c (COUNT(DISTINCT ?s) AS ?n) WHERE {{ GRAPH <{iri}> {{ ?s a ?c }} }} "
                             "GROUP BY ?c ORDER BY DESC(?n) ?c")
    ]
    return GraphSummary(name, iri, GRAPH_DESCRIPTIONS.get(name, ""), int(row["n"].value), tuple(classes))


def graph_facts(summary: GraphSummary, base: str) -> list[ox.Triple]:
    """The triples a named graph's document states: its name, what it holds, its size, its dataset."""
    graph = ox.NamedNode(summary.iri)
    return [
        ox.Triple(graph, ox.NamedNode(TYPE), ox.NamedNode(VOID + "Dataset")),
        ox.Triple(graph, ox.NamedNode(RDFS + "label"), ox.Literal(f"{summary.name} graph", language="en")),
        ox.Triple(graph, ox.NamedNode(DCTERMS + "description"), ox.Literal(summary.description, language="en")),
        ox.Triple(graph, ox.NamedNode(VOID + "triples"),
                  ox.Literal(str(summary.triples), datatype=ox.NamedNode(XSD + "integer"))),
        ox.Triple(graph, ox.NamedNode(DCTERMS + "isPartOf"), ox.NamedNode(dataset_iri(base))),
    ]
