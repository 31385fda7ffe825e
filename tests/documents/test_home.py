"""The home page at ``/``: what the dataset is, its counts, its entry points and the query editor.

Counts are checked against counts made independently from the same store (and, for one kind,
against the seed table it comes from); the page still answers when no store is built.
"""

from __future__ import annotations

import csv
import html
import re
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Literal, URIRef
from rdflib.namespace import RDF

from conftest import make_dataset, make_live, sample_triples
from nhs_ai_workforce.core.namespaces import GRAPHS, ProjectNamespaces
from nhs_ai_workforce.core.settings import Settings
from nhs_ai_workforce.documents import overview as overviews
from nhs_ai_workforce.documents.examples import read_example
from nhs_ai_workforce.documents.stats import class_counts, graph_counts, triple_count
from nhs_ai_workforce.store.live import modified_time
from nhs_ai_workforce.web.app import create_app

ROOT = Path(__file__).resolve().parents[2]
GRAPH_ROW = re.compile(r'<tr data-graph="([^"]+)">.*?data-count="(\d+)"', re.S)
KIND_ROW = re.compile(r'<tr data-class="([^"]+)">.*?data-count="(\d+)"', re.S)
TOTAL = re.compile(r'<tfoot>.*?data-count="(\d+)"', re.S)


def _client(settings: Settings):
    return create_app({"SETTINGS": settings, "EXECUTOR": "in-process"}).test_client()


def _home(client) -> str:
    response = client.get("/")
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "text/html"
    return response.get_data(as_text=True)


@pytest.fixture(scope="module")
def seeded_page(seeded_store) -> str:
    return _home(_client(Settings().with_(store_dir=seeded_store)))


@pytest.fixture(scope="module")
def store(seeded_store) -> ox.Store:
    return ox.Store.read_only(str(seeded_store.resolve()))


def test_triples_per_named_graph_equal_the_stores_counts(seeded_page, store):
    shown = {name: int(n) for name, n in GRAPH_ROW.findall(seeded_page)}
    assert shown == dict(graph_counts(store, ProjectNamespaces()))
    assert set(shown) == set(GRAPHS)
    assert all(n > 0 for n in shown.values())
    (total,) = TOTAL.findall(seeded_page)
    assert int(total) == triple_count(store)


def test_things_per_main_kind_equal_the_stores_class_sizes(seeded_page, store):
    prefixes = {**ProjectNamespaces().prefixes(), "sssom": "https://w3id.org/sssom/"}
    expected = dict(class_counts(store, {}))  # full IRIs in <...>
    shown = {iri: int(n) for iri, n in KIND_ROW.findall(seeded_page)}
    assert [iri for iri in shown] == [prefixes[c.split(":")[0]] + c.split(":")[1] for _, c in overviews.MAIN_KINDS]
    for iri, n in shown.items():
        assert n == expected.get(f"<{iri}>", 0), iri
    aiwf = prefixes["aiwf"]
    with (ROOT / "seeds" / "workforce_groups.csv").open(encoding="utf-8") as seed:
        assert shown[aiwf + "WorkforceGroup"] == sum(1 for _ in csv.DictReader(seed))
    assert shown[aiwf + "Initiative"] > 10


def test_the_page_says_what_the_dataset_is_and_links_everywhere(seeded_page):
    text = seeded_page
    assert "<h1>NHS AI workforce knowledge graph</h1>" in text
    assert "Topol Review" in text
    for href in ("#query", "/charts", "/doc/", "/def/aiwf", "/data/", "/sparql", "#reconciliation"):
        assert f'href="{href}"' in text, href
    assert 'id="query"' in text and 'id="reconciliation"' in text
    # the site navigation sends people to the editor and the reconciliation help on this page
    assert 'href="/#query"' in text and 'href="/#reconciliation"' in text
    assert 'href="/reconcile"' not in text


def test_the_reconciliation_section_gives_the_service_url_and_the_openrefine_steps(seeded_page):
    assert '<code id="reconcile-url">http://localhost/reconcile</code>' in seeded_page
    for step in ("Start reconciling", "Add Standard Service", "Role concept", "Workforce group"):
        assert step in seeded_page, step


def test_the_example_queries_are_listed(seeded_page):
    for path in sorted((ROOT / "queries").glob("*.rq")):
        example = read_example(path)
        assert f'data-tab="{example.id}">{html.escape(example.title)}</button>' in seeded_page


def test_starting_points_link_to_resource_pages_with_their_titles(seeded_page):
    assert ('<a href="/doc/initiative/topol-review">The Topol Review: Preparing the Healthcare Workforce '
            "to Deliver the Digital Future</a>") in seeded_page
    assert '<a href="/doc/initiative/ai-roadmap">AI Roadmap</a>' in seeded_page


def test_without_a_store_the_page_still_renders(tmp_path):
    text = _home(_client(Settings().with_(store_dir=tmp_path / "store")))
    assert "No graph has been built yet" in text and "aiwf build" in text
    assert not GRAPH_ROW.search(text)
    assert 'id="yasgui"' in text
    assert "Example queries" in text


def test_counts_are_made_once_per_build(settings, built_store, monkeypatch):
    made = []
    collect = overviews.collect_overview
    monkeypatch.setattr(overviews, "collect_overview", lambda *args: made.append(args[-1]) or collect(*args))
    client = _client(settings)
    first = _home(client)
    assert _home(client) == first
    assert len(made) == 1
    assert dict(GRAPH_ROW.findall(first))["background"] == "10"

    ns = ProjectNamespaces(settings.base)
    extra = ("background", URIRef(ns.thing("initiative", "another")), RDF.type, ns.AIWF.Review)
    label = ("background", URIRef(ns.thing("initiative", "another")), RDF.value, Literal(1))
    make_live(settings, make_dataset(ns, [*sample_triples(ns), extra, label]))
    second = _home(client)
    assert len(made) == 2 and made[0] != made[1]
    assert dict(GRAPH_ROW.findall(second))["background"] == "12"
    # the date of the build's data, not its id: replicas of the same sources say the same
    assert f"Counted from the data as of {modified_time(settings, made[1]):%d %B %Y, %H:%M UTC}." in second
    assert made[1] not in second
