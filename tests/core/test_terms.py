"""rdflib to pyoxigraph conversion: faithful terms, graphs kept, blank nodes refusable."""

from __future__ import annotations

import pyoxigraph as ox
import pytest
from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib import namespace as vocab

from nhs_ai_workforce.core.terms import BlankNodeError, graph_label, oxigraph_quads, to_oxigraph

XSD_DATE = ox.NamedNode("http://www.w3.org/2001/XMLSchema#date")


def test_literals_keep_lexical_form_language_and_datatype():
    assert to_oxigraph(Literal("2021-13", datatype=vocab.XSD.date)) == ox.Literal(
        "2021-13", datatype=XSD_DATE
    )  # ill-typed values reach validation unchanged
    assert to_oxigraph(Literal("NHS", lang="en-GB")) == ox.Literal("NHS", language="en-gb")
    assert to_oxigraph(Literal("plain")) == ox.Literal("plain")


def test_dataset_graphs_are_kept_and_rdflib_default_is_the_default_graph():
    dataset = Dataset()
    s, p = URIRef("http://example.org/s"), URIRef("http://example.org/p")
    dataset.add((s, p, Literal("default")))
    dataset.graph(URIRef("http://example.org/g")).add((s, p, Literal("named")))
    graphs = {q.object.value: q.graph_name for q in oxigraph_quads(dataset)}
    assert graphs == {"default": ox.DefaultGraph(), "named": ox.NamedNode("http://example.org/g")}
    plain = Graph()
    plain.add((s, p, Literal("x")))
    assert [q.graph_name for q in oxigraph_quads(plain)] == [ox.DefaultGraph()]


def test_blank_nodes_can_be_refused():
    graph = Graph()
    graph.add((BNode(), vocab.RDFS.label, Literal("anon")))
    assert isinstance(next(oxigraph_quads(graph)).subject, ox.BlankNode)
    with pytest.raises(BlankNodeError, match="needs an IRI"):
        list(oxigraph_quads(graph, blank_nodes=False))


def test_graph_labels(ns):
    assert graph_label(ox.NamedNode(str(ns.graph("mappings"))), ns) == "mappings"
    assert graph_label(ox.DefaultGraph(), ns) == "(default)"
    assert graph_label(ox.NamedNode("http://example.org/g"), ns) == "http://example.org/g"
