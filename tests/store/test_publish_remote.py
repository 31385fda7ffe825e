"""Publishing a build to another store (store/publish_remote.py): a real ``oxigraph serve`` process on
127.0.0.1, and a fake one that reports wrong counts."""

from __future__ import annotations

import pyoxigraph as ox
import pytest
from rdflib import BNode, Literal
from rdflib import namespace as vocab

from conftest import make_dataset, make_live, sample_triples
from nhs_ai_workforce.core.remote import RemotePolicy, select
from nhs_ai_workforce.store.live import open_store
from nhs_ai_workforce.store.publish_remote import Remote, choose_graphs, named_graphs, publish
from remote_servers import fake_remote, graph_store, running_oxigraph

pytestmark = pytest.mark.server

POLICY = RemotePolicy(connect_timeout_s=5, read_timeout_s=30, attempts=2, backoff_s=0.1)


@pytest.fixture(scope="module")
def oxigraph(tmp_path_factory):
    """A real ``oxigraph serve`` over an on-disk store; its origin."""
    with running_oxigraph(tmp_path_factory.mktemp("remote") / "oxigraph") as origin:
        yield origin


def remote_of(origin: str) -> Remote:
    return Remote(f"{origin}/store", f"{origin}/query", POLICY)


def remote_values(origin: str, query: str) -> list[dict[str, str]]:
    return select(f"{origin}/query", query, policy=POLICY)


def graph_sizes(store: ox.Store) -> dict[str, int]:
    return {g.value: sum(1 for _ in store.quads_for_pattern(None, None, None, g)) for g in named_graphs(store)}


def test_every_graph_is_sent_and_the_remote_counts_match(settings, built_store, ns, oxigraph):
    store = open_store(settings)
    published = publish(store, remote_of(oxigraph))
    sizes = graph_sizes(store)
    assert {sent.graph: sent.triples for sent in published.sent} == sizes
    assert {count.graph: count.theirs for count in published.counts} == sizes
    assert published.mismatches == [] and published.blank_node_triples == 0
    assert all(sent.status in (200, 201, 204) for sent in published.sent)
    # the triples themselves arrived, literals byte for byte
    roadmap = ns.thing("initiative", "ai-roadmap")
    rows = remote_values(oxigraph, f"SELECT ?c WHERE {{ GRAPH <{ns.graph('background')}> "
                                   f"{{ <{roadmap}> <{vocab.RDFS.comment}> ?c }} }}")
    assert rows == [{"c": 'Line one\nline "two", with\ttab'}]


def test_publishing_again_replaces_each_graph_rather_than_adding_to_it(settings, ns, oxigraph):
    make_live(settings, make_dataset(ns))
    publish(open_store(settings), remote_of(oxigraph))
    again = publish(open_store(settings), remote_of(oxigraph))
    assert again.mismatches == [] and {sent.status for sent in again.sent} <= {200, 204}
    # a smaller build replaces the graph: the triples it dropped are gone from the remote
    fewer = [row for row in sample_triples(ns) if row[0] != "background" or row[2] != vocab.RDFS.label]
    make_live(settings, make_dataset(ns, fewer))
    smaller = publish(open_store(settings), remote_of(oxigraph))
    assert smaller.mismatches == []
    background = next(count for count in smaller.counts if count.graph == str(ns.graph("background")))
    assert background.theirs == sum(1 for row in fewer if row[0] == "background")


def test_turtle_is_sent_when_asked(settings, built_store, oxigraph):
    published = publish(open_store(settings), remote_of(oxigraph), format="turtle")
    assert published.mismatches == [] and published.triples == sum(graph_sizes(open_store(settings)).values())


def test_blank_nodes_are_sent_and_counted(settings, ns, oxigraph):
    note = BNode()
    rows = [*sample_triples(ns), ("links", note, vocab.RDFS.label, Literal("anonymous")),
            ("links", ns.thing("initiative", "topol-review"), vocab.RDFS.seeAlso, note)]
    make_live(settings, make_dataset(ns, rows))
    published = publish(open_store(settings), remote_of(oxigraph))
    assert published.blank_node_triples == 2 and published.mismatches == []


def test_only_the_chosen_graphs_are_sent(settings, built_store, ns, oxigraph):
    store = open_store(settings)
    chosen = choose_graphs(named_graphs(store), ["ontology", str(ns.graph("inferred"))])
    published = publish(store, remote_of(oxigraph), graphs=chosen)
    assert [sent.graph for sent in published.sent] == [str(ns.graph("ontology")), str(ns.graph("inferred"))]
    with pytest.raises(ValueError, match="no graph 'nope'"):
        choose_graphs(named_graphs(store), ["nope"])


def test_a_remote_holding_other_counts_is_a_mismatch_for_each_graph(settings, built_store):
    with fake_remote(graph_store(counts=lambda graph: 1)) as remote:
        published = publish(open_store(settings), remote_of(remote.origin))
    sizes = graph_sizes(open_store(settings))
    expected = {(graph, count, 1) for graph, count in sizes.items() if count != 1}
    assert {(m.graph, m.ours, m.theirs) for m in published.mismatches} == expected
    puts = [seen for seen in remote.seen if seen.method == "PUT"]
    assert [seen.params["graph"][0] for seen in puts] == sorted(sizes)
    assert {seen.headers["Content-Type"] for seen in puts} == {"application/n-triples; charset=utf-8"}
