"""Moving IRIs from the default base to a configured one."""

from __future__ import annotations

from rdflib import Graph, Literal, URIRef
from rdflib import namespace as vocab

from nhs_ai_workforce.core.namespaces import ProjectNamespaces
from nhs_ai_workforce.core.settings import DEFAULT_BASE
from nhs_ai_workforce.pipeline.rebase import rebase_graph

NEW_BASE = "http://localhost:8000"


def test_iris_under_the_base_move_and_others_stay():
    old, new = ProjectNamespaces(DEFAULT_BASE), ProjectNamespaces(NEW_BASE)
    graph = Graph()
    graph.add((old.AIWF.Review, vocab.RDF.type, vocab.OWL.Class))
    graph.add((old.thing("initiative", "topol-review"), vocab.RDF.type, old.AIWF.Review))
    graph.add((old.AIWF.Review, vocab.RDFS.label, Literal("Review", lang="en")))
    graph.add((URIRef("https://www.gov.uk/x"), vocab.RDFS.seeAlso, URIRef("https://example.org/")))
    moved = rebase_graph(graph, DEFAULT_BASE, NEW_BASE)
    assert set(moved) == {
        (new.AIWF.Review, vocab.RDF.type, vocab.OWL.Class),
        (new.thing("initiative", "topol-review"), vocab.RDF.type, new.AIWF.Review),
        (new.AIWF.Review, vocab.RDFS.label, Literal("Review", lang="en")),
        (URIRef("https://www.gov.uk/x"), vocab.RDFS.seeAlso, URIRef("https://example.org/")),
    }
    assert set(rebase_graph(moved, NEW_BASE, DEFAULT_BASE)) == set(graph)
