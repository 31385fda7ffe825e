"""rdflib terms and datasets as pyoxigraph terms and quads, for the native store and serialisers."""

from __future__ import annotations

from collections.abc import Iterator

import pyoxigraph as ox
from rdflib import BNode, Literal, URIRef
from rdflib.graph import DATASET_DEFAULT_GRAPH_ID, Graph

from .namespaces import ALL_GRAPHS, ProjectNamespaces, sparql_name

OxTerm = ox.NamedNode | ox.BlankNode | ox.Literal
OxGraphName = ox.NamedNode | ox.BlankNode | ox.DefaultGraph

#: How counts and reports name the default graph.
DEFAULT_GRAPH_LABEL = "(default)"


class BlankNodeError(ValueError):
    """A blank node where only IRIs and literals are allowed (the published dumps)."""


def to_oxigraph(term: object, *, blank_nodes: bool = True) -> OxTerm:
    """The pyoxigraph term equal to the rdflib ``term`` (lexical forms kept as they are)."""
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype is not None:
            return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
        return ox.Literal(str(term))
    if isinstance(term, BNode):
        if not blank_nodes:
            raise BlankNodeError(f"blank node _:{term} found; every resource needs an IRI")
        return ox.BlankNode(str(term))
    raise TypeError(f"cannot convert {term!r} to an RDF term")


def graph_name(identifier: object, *, blank_nodes: bool = True) -> OxGraphName:
    """The pyoxigraph graph name for an rdflib graph identifier (rdflib's default -> default)."""
    if identifier is None or identifier == DATASET_DEFAULT_GRAPH_ID:
        return ox.DefaultGraph()
    return to_oxigraph(identifier, blank_nodes=blank_nodes)  # type: ignore[return-value]


def oxigraph_quads(dataset: Graph, *, blank_nodes: bool = True) -> Iterator[ox.Quad]:
    """Every quad of an rdflib ``Dataset`` (or triple of a ``Graph``) as pyoxigraph quads.

    :raises BlankNodeError: if ``blank_nodes`` is false and a blank node appears.
    """
    if hasattr(dataset, "quads"):
        quads = ((s, p, o, getattr(g, "identifier", g)) for s, p, o, g in dataset.quads())
    else:  # a plain Graph: its triples go to the default graph
        quads = ((s, p, o, None) for s, p, o in dataset)
    for s, p, o, g in quads:
        yield ox.Quad(
            to_oxigraph(s, blank_nodes=blank_nodes),
            to_oxigraph(p, blank_nodes=blank_nodes),
            to_oxigraph(o, blank_nodes=blank_nodes),
            graph_name(g, blank_nodes=blank_nodes),
        )


def graph_label(name: OxGraphName, ns: ProjectNamespaces) -> str:
    """The short name of a project graph (``background``...), else its IRI or ``(default)``."""
    if isinstance(name, ox.DefaultGraph):
        return DEFAULT_GRAPH_LABEL
    for label in ALL_GRAPHS:
        if name.value == str(ns.graph(label)):
            return label
    return name.value


def compact(term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple | None,
            prefixes: dict[str, str] | None = None) -> str:
    """A short readable form of a pyoxigraph term: a prefixed name, ``<iri>``, a plain lexical value, ``value@lang``.

    Names paste back into a query as they are printed (:func:`~.namespaces.sparql_name`).

    >>> compact(ox.NamedNode("http://xmlns.com/foaf/0.1/name"), {"foaf": "http://xmlns.com/foaf/0.1/"})
    'foaf:name'
    >>> compact(ox.NamedNode("http://x.org/id/initiative/x"), {"id": "http://x.org/id/"})
    'id:initiative\\\\/x'
    >>> compact(ox.Literal("Review", language="en")), compact(ox.NamedNode("http://x.org/a"))
    ('Review@en', '<http://x.org/a>')
    """
    if term is None:
        return ""
    if isinstance(term, ox.NamedNode):
        return sparql_name(term.value, prefixes or {})
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    if isinstance(term, ox.Literal):
        return f"{term.value}@{term.language}" if term.language else term.value
    return str(term)
