"""Moving IRIs from one base URI to another, so committed files work under any base."""

from __future__ import annotations

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import XSD


def rebase_term(term, from_base: str, to_base: str):
    """``term`` with ``from_base`` replaced by ``to_base`` when it is an IRI under it.

    ``xsd:anyURI`` literals (such as ``vann:preferredNamespaceUri``) are IRIs too and move.
    """
    if isinstance(term, URIRef) and str(term).startswith(from_base):
        return URIRef(to_base + str(term)[len(from_base):])
    if isinstance(term, Literal) and term.datatype == XSD.anyURI and str(term).startswith(from_base):
        return Literal(to_base + str(term)[len(from_base):], datatype=XSD.anyURI)
    return term


def rebase_graph(graph: Graph, from_base: str, to_base: str) -> Graph:
    """A new graph with every IRI under ``from_base`` moved under ``to_base``."""
    moved = Graph()
    for s, p, o in graph:
        moved.add(tuple(rebase_term(t, from_base, to_base) for t in (s, p, o)))
    return moved
