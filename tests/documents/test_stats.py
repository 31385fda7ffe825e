"""Counts per graph and per class, read from the store with SPARQL."""

from __future__ import annotations

from conftest import sample_triples
from nhs_ai_workforce.documents.stats import class_counts, collect, graph_counts, triple_count
from nhs_ai_workforce.store.live import open_store


def test_graph_counts_match_the_dataset(settings, ns, built_store):
    store = open_store(settings)
    expected = {}
    for name, *_ in sample_triples(ns):
        expected[name] = expected.get(name, 0) + 1
    assert graph_counts(store, ns) == sorted(expected.items())


def test_union_counts_a_triple_in_two_graphs_once(settings, ns, built_store):
    store = open_store(settings)
    assert triple_count(store) == len(sample_triples(ns)) - 1


def test_class_counts_are_distinct_instances_largest_first(settings, ns, built_store):
    counts = class_counts(open_store(settings), ns.prefixes())
    # ties are ordered by IRI: http://www.w3.org/... sorts before https://...
    assert counts == [("owl:Class", 2), ("aiwf:Review", 2), ("aiwf:Organisation", 1)]


def test_collect_gathers_everything(settings, ns, built_store):
    stats = collect(open_store(settings), ns)
    assert dict(stats.graphs)["background"] == 10
    assert ("aiwf:Review", 2) in stats.classes
    assert stats.triples == len(sample_triples(ns)) - 1
