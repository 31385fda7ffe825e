"""The "how to query" examples of the ontology's main classes: ``queries/classes/{Class}.rq``.

Each file names a class of the ontology, runs on the real seeds with only the prefixes the
endpoint predeclares, and returns rows; ``/def/aiwf`` shows it in its class's entry with links
that run it and open it in the editor.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pyoxigraph as ox
import pytest
from rdflib import Graph
from rdflib.namespace import OWL, RDF
from test_ontology_docs import BROWSER, Page, app_for

from nhs_ai_workforce.core.namespaces import DEFAULT
from nhs_ai_workforce.core.settings import Settings
from nhs_ai_workforce.documents.examples import ExampleQuery, class_examples, read_header
from nhs_ai_workforce.web import ontology as ontology_web

SETTINGS = Settings()
FILES = sorted((SETTINGS.queries_dir / "classes").glob("*.rq"))
#: The classes with instances in the data that must each keep an example.
MAIN_CLASSES = {
    "Initiative", "RoleConcept", "TermUsage", "Aim", "Recommendation", "WorkforceGroup",
    "TechnologyType", "ClinicalArea", "SourceSection", "Citation", "SourceDocument",
}


@pytest.fixture(scope="module")
def store(seeded_store):
    return ox.Store.read_only(str(seeded_store.resolve()))


@pytest.fixture(scope="module")
def client(seeded_store):
    return app_for(seeded_store).test_client()


@pytest.fixture(scope="module")
def page_html(client) -> str:
    response = client.get("/def/aiwf", headers={"Accept": BROWSER})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def ontology_classes() -> set[str]:
    graph = Graph().parse(SETTINGS.ontology_dir / "aiwf.ttl")
    aiwf = str(DEFAULT.AIWF)
    return {str(c)[len(aiwf):] for c in graph.subjects(RDF.type, OWL.Class) if str(c).startswith(aiwf)}


def test_every_main_class_keeps_an_example():
    assert {path.stem for path in FILES} >= MAIN_CLASSES


@pytest.mark.parametrize("path", FILES, ids=lambda path: path.stem)
def test_each_file_names_a_class_and_has_a_header(path):
    assert path.stem in ontology_classes(), f"{path.name} names no class of the ontology"
    text = path.read_text(encoding="utf-8")
    header = read_header(text)
    assert header.get("title") and header.get("description"), path.name
    assert not re.search(r"^\s*PREFIX\b", text, re.MULTILINE | re.IGNORECASE), "the endpoint predeclares them"
    assert f"aiwf:{path.stem}" in text, f"{path.name} does not query its class"


@pytest.mark.parametrize("path", FILES, ids=lambda path: path.stem)
def test_each_example_returns_rows_on_the_seeds(store, path):
    query = path.read_text(encoding="utf-8")
    rows = list(store.query(query, use_default_graph_as_union=True, prefixes=DEFAULT.prefixes()))
    assert rows, f"{path.name} returns no rows"


def test_the_page_shows_how_to_query_each_class(page_html):
    page = Page.parse(page_html)
    for name, example in class_examples(SETTINGS).items():
        block = f"{name}-query"
        assert block in page.ids, f"no 'How to query' block for {name}"
        text = page.text(block)
        assert "How to query" in text and example.title in text
        assert " ".join(example.query.split()) in text, f"the query of {name} is not shown whole"
        run, editor = page.links[block]
        assert parse_qs(urlsplit(run).query)["query"] == [example.query]
        assert urlsplit(run).path == "/sparql"
        assert urlsplit(editor).path == "/"
        fragment = parse_qs(urlsplit(editor).fragment)
        assert fragment == {"query": [example.query], "tabTitle": [example.title]}


def test_the_block_is_inside_its_class_entry(page_html):
    for name in class_examples(SETTINGS):
        entry = page_html.split(f'<article class="term" id="{name}"', 1)[1].split("</article>", 1)[0]
        assert f'id="{name}-query"' in entry, name
        assert "<pre><code" in entry


def test_properties_show_no_block(page_html):
    assert 'id="statedIn-query"' not in page_html
    assert page_html.count('class="how-to-query') == len(class_examples(SETTINGS))


def test_the_run_links_answer_result_pages_with_rows(client, page_html):
    page = Page.parse(page_html)
    for name in class_examples(SETTINGS):
        run = page.links[f"{name}-query"][0]  # the parser has already decoded the attribute
        response = client.get(run, headers={"Accept": BROWSER})
        assert response.status_code == 200, name
        assert response.mimetype == "text/html"
        body = response.get_data(as_text=True)
        assert '<table class="results">' in body and "<td class=\"row-number\">1</td>" in body, name


def test_the_example_is_escaped(seeded_store, monkeypatch):
    evil = ExampleQuery("class-Aim", "<b>Aims</b>", "</pre><script>x()</script>",
                        'SELECT * WHERE { ?a a aiwf:Aim } # </code></pre><script>alert(1)</script>')
    monkeypatch.setattr(ontology_web, "class_examples", lambda settings: {"Aim": evil})
    html = app_for(seeded_store).test_client().get("/def/aiwf.html").get_data(as_text=True)
    for raw in ("<b>Aims</b>", "<script>x()</script>", "<script>alert(1)</script>"):
        assert raw not in html
    assert "&lt;/code&gt;&lt;/pre&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in html
    page = Page.parse(html)
    assert "Aim-query" in page.ids and "Initiative-query" not in page.ids
