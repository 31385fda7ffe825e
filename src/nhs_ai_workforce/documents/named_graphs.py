"""What a named graph's document says: its name, what it holds, its size and the classes of its subjects.

Re-exported by :mod:`.describe`, which the resource pages use.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyoxigraph as ox

from ..core.namespaces import GRAPH_DESCRIPTIONS, GRAPHS, IMPORT_GRAPHS, ProjectNamespaces
from ..core.vocab import DCTERMS, PAV, RDFS, SPDX, TYPE, VOID, XSD
from .catalogue import Catalogue
from .void import dataset_iri

__all__ = ["GraphSummary", "Provenance", "describe_graph", "graph_facts", "present_graphs"]


@dataclass(frozen=True)
class Provenance:
    """Where an imported classification's graph came from, as the graph says: licence, rights, the
    publisher's page, version, when it was imported and its files (name, SHA-256)."""

    licence: str = ""
    rights: str = ""
    source: str = ""
    version: str = ""
    imported: str = ""
    files: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class GraphSummary:
    """A named graph: its name, IRI, what it holds, its size and the classes of its subjects."""

    name: str
    iri: str
    description: str
    triples: int
    classes: tuple[tuple[str, str, int], ...]
    provenance: Provenance | None = None


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
    return GraphSummary(name, iri, GRAPH_DESCRIPTIONS.get(name, ""), int(row["n"].value), tuple(classes),
                        _provenance(store, iri) if name in IMPORT_GRAPHS else None)


_PROVENANCE = {DCTERMS + "license": "licence", DCTERMS + "rights": "rights", DCTERMS + "source": "source",
               PAV + "version": "version", PAV + "importedOn": "imported"}


def _provenance(store: ox.Store, iri: str) -> Provenance | None:
    """What the imported graph ``iri`` says about itself, or ``None`` if it says nothing (not imported)."""
    found = {_PROVENANCE[row["p"].value]: row["o"].value
             for row in store.query(f"SELECT ?p ?o {{ GRAPH <{iri}> {{ <{iri}> ?p ?o }} }}")
             if row["p"].value in _PROVENANCE}
    files = tuple(sorted(
        (row["name"].value, row["sha"].value)
        for row in store.query(f"SELECT ?name ?sha {{ GRAPH <{iri}> {{ <{iri}> <{PAV}importedFrom> ?file . "
                               f"?file <{SPDX}fileName> ?name ; <{SPDX}checksum>/<{SPDX}checksumValue> ?sha }} }}")))
    return Provenance(**found, files=files) if found or files else None


def present_graphs(store: ox.Store, base: str) -> tuple[str, ...]:
    """The seed graphs and the imported classifications' graphs that ``store`` holds, in that order."""
    ns = ProjectNamespaces(base)
    return GRAPHS + tuple(name for name in IMPORT_GRAPHS
                          if store.query(f"ASK {{ GRAPH <{ns.graph(name)}> {{ ?s ?p ?o }} }}"))


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
