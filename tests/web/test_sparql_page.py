"""``/sparql`` in a browser: an HTML page with a query form and the results as a table.

Only a ``GET`` whose ``Accept`` prefers ``text/html`` to every result type gets the page;
SPARQL clients (no ``Accept``, ``*/*``, a results type, ``format=``) get the protocol's answer
as before. Checked through Flask's test client, then in Debian's headless Chromium against a
real ``aiwf serve`` over the real seeds: with JavaScript off, and on a phone-sized screen.
"""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from conftest import make_dataset, make_live
from nhs_ai_workforce.core.namespaces import ProjectNamespaces
from nhs_ai_workforce.core.settings import Settings
from nhs_ai_workforce.web import sparql_page
from nhs_ai_workforce.web.app import create_app

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
NS = ProjectNamespaces()
BACKGROUND = str(NS.graph("background"))
TOPOL = NS.thing("initiative", "topol-review")
LABELS = "SELECT ?s ?label WHERE { ?s <http://www.w3.org/2000/01/rdf-schema#label> ?label } ORDER BY ?label"


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    settings = Settings(root=tmp_path_factory.mktemp("sparql-page"))
    make_live(settings, make_dataset(NS))
    return create_app({"SETTINGS": settings}).test_client()


def _page(client, query: str | None = None, status: int = 200, **params) -> str:
    if query is not None:
        params["query"] = query
    response = client.get("/sparql", query_string=params, headers={"Accept": BROWSER})
    assert response.status_code == status, response.get_data(as_text=True)[:800]
    assert response.mimetype == "text/html"
    assert "Accept" in response.headers["Vary"]
    assert "script-src 'none'" in response.headers["Content-Security-Policy"]
    text = response.get_data(as_text=True)
    assert text.startswith("<!doctype html>") and "<script" not in text
    return text


def _results(text: str) -> str:
    match = re.search(r'<table class="results">.*?</table>', text, re.S)
    assert match, "the page has a results table"
    return match.group(0)


# -- who gets the page ------------------------------------------------------------------------

def test_a_browser_without_a_query_gets_an_empty_form(client):
    text = _page(client)
    assert re.search(r'<form method="get" action="/sparql"', text)
    assert re.search(r'<textarea id="sparql-query" name="query"[^>]*></textarea>', text)
    assert '<button type="submit">Run query</button>' in text
    assert 'href="/sparql?format=ttl" id="service-description"' in text
    assert 'id="results-heading"' not in text and 'role="alert"' not in text
    described = client.get("/sparql?format=ttl", headers={"Accept": BROWSER})
    assert described.mimetype == "text/turtle" and b"sd:Service" in described.data


@pytest.mark.parametrize("accept", [
    None, "*/*", "text/*", "application/sparql-results+json", "application/sparql-results+xml",
    "application/json, text/html", "text/html;q=0.5, application/sparql-results+json",
    "text/csv, text/html;q=0.9",
])
def test_sparql_clients_still_get_machine_formats(client, accept):
    headers = {"Accept": accept} if accept else {}
    answer = client.get("/sparql", query_string={"query": "ASK { ?s ?p ?o }"}, headers=headers)
    assert answer.status_code == 200 and answer.mimetype != "text/html"
    description = client.get("/sparql", headers=headers)  # 406 for a results type, as before
    assert description.status_code in (200, 406) and b'id="sparql-query"' not in description.data


@pytest.mark.parametrize(("params", "mimetype"), [
    ({"query": LABELS, "format": "json"}, "application/sparql-results+json"),
    ({"query": LABELS, "format": "csv"}, "text/csv"),
    ({"query": "CONSTRUCT WHERE { ?s ?p ?o }", "format": "ttl"}, "text/turtle"),
    ({"format": "ttl"}, "text/turtle"),
])
def test_format_overrides_a_browser_accept(client, params, mimetype):
    assert client.get("/sparql", query_string=params, headers={"Accept": BROWSER}).mimetype == mimetype


def test_a_browser_post_is_answered_by_the_protocol(client):
    answer = client.post("/sparql", data={"query": "ASK { ?s ?p ?o }"}, headers={"Accept": BROWSER})
    assert answer.status_code == 200 and answer.mimetype != "text/html"


# -- what the page shows ----------------------------------------------------------------------

def test_select_results_are_a_table_with_local_links(client):
    text = _page(client, LABELS)
    assert "<textarea" in text and html.escape(LABELS, quote=False) in text
    table = _results(text)
    assert [h for h in re.findall(r'<th scope="col"[^>]*>([^<]*)</th>', table)] == ["#", "?s", "?label"]
    assert table.count("<tr>") == 5  # the header and four labelled things
    assert (f'<a href="/doc/initiative/topol-review" class="iri" title="{TOPOL}">initiative:topol-review</a>'
            in table)
    assert '<span class="literal">The Topol Review</span><span class="lang">@en</span>' in table
    assert "4 results." in text
    assert 'id="open-in-editor"' in text


def test_every_value_is_escaped(client):
    query = ('SELECT ?x ?iri WHERE { BIND("</textarea><script>alert(1)</script>" AS ?x) '
             'BIND(IRI("javascript:alert(2)") AS ?iri) }')
    text = _page(client, query)
    assert "<script>" not in text and "</textarea><script" not in text
    assert "&lt;/textarea&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in _results(text)
    assert 'href="javascript:' not in text  # shown, never linked
    assert '<span class="iri">javascript:alert(2)</span>' in text


def test_datatypes_and_external_iris(client):
    text = _page(client, "SELECT ?date ?p WHERE { ?s <https://nhs-ai-workforce.example.org/def/aiwf/issued> ?date ."
                         " BIND(<http://purl.org/dc/terms/title> AS ?p) }")
    table = _results(text)
    assert ('<span class="literal">2019-02-11</span><span class="datatype">^^<a href="http://www.w3.org/2001/'
            'XMLSchema#date" class="iri" title="http://www.w3.org/2001/XMLSchema#date" rel="external nofollow">'
            'xsd:date</a></span>') in table
    assert 'href="http://purl.org/dc/terms/title"' in table and ">dcterms:title<" in table


def test_no_rows_is_a_count_and_no_table(client):
    text = _page(client, "SELECT ?s WHERE { ?s ?p 'nothing' }")
    assert "0 results." in text and '<table class="results">' not in text


def test_ask_shows_the_answer(client):
    assert '<strong id="ask-answer">true</strong>' in _page(client, "ASK { ?s ?p ?o }")
    assert '<strong id="ask-answer">false</strong>' in _page(client, "ASK { ?s ?p 'nothing' }")


def test_construct_shows_triples_and_offers_rdf_downloads(client):
    text = _page(client, f"DESCRIBE <{TOPOL}>")
    table = _results(text)
    assert '<th scope="col">subject</th>' in table and "initiative:topol-review" in table
    labels = re.findall(r'data-format="([^"]+)"', text)
    assert labels == ["Turtle", "N-Triples", "JSON-LD", "RDF/XML"]


def test_download_links_give_the_same_result_in_each_format(client):
    text = _page(client, LABELS, **{"default-graph-uri": BACKGROUND})
    links = dict(re.findall(r'<a href="([^"]+)" data-format="([^"]+)"', text))
    assert sorted(links.values()) == ["CSV", "JSON", "TSV", "XML"]
    for link, label in links.items():
        link = html.unescape(link)
        params = parse_qs(urlsplit(link).query)
        assert params["query"] == [LABELS] and params["default-graph-uri"] == [BACKGROUND]
        answer = client.get(link, headers={"Accept": BROWSER})
        assert answer.status_code == 200 and answer.mimetype != "text/html", label
        assert b"Topol" in answer.data
    # the dataset parameters ride along with the form too
    assert f'<input type="hidden" name="default-graph-uri" value="{BACKGROUND}">' in text


def test_errors_show_in_the_page_with_the_query_kept(client):
    query = "SELECT * WHERE {\n  ?s ?p }"
    text = _page(client, query, status=400)
    assert html.escape(query, quote=False) in text
    assert '<span class="status">400</span> Malformed query' in text
    assert re.search(r'class="message" role="alert">[^<]*error at 2:', text)
    assert "At line <strong>2</strong>" in text
    assert "&#34;ok&#34;: false" in text or "&quot;ok&quot;: false" in text
    assert 'id="results-heading"' not in text
    updated = _page(client, "INSERT DATA { <a:b> <a:c> <a:d> }", status=400)
    assert "Not a query" in updated


def test_long_results_are_cut_and_say_so(client, monkeypatch):
    monkeypatch.setattr(sparql_page, "MAX_ROWS", 2)
    text = _page(client, LABELS)
    assert _results(text).count("<tr>") == 3
    assert "4 results; the first 2 are shown, the downloads have them all." in text


# -- in a real browser against a real server ---------------------------------------------------

REVIEWS = ("SELECT ?review ?title WHERE { ?review a <https://nhs-ai-workforce.example.org/def/aiwf/Review> ; "
           "<http://purl.org/dc/terms/title> ?title } ORDER BY ?title")


@pytest.fixture
def open_page(browser, seeded_server):
    """Make Chromium pages (context options as given) that refuse other hosts; on teardown
    assert, as ``local_page`` does, that nothing was asked of another host and no script failed.
    The console's note on a 400 page load is expected here (an error page is the point)."""
    contexts, requests, problems = [], [], []

    def local_only(route):
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            route.abort()

    def make(**options):
        context = browser.new_context(service_workers="block", **options)
        contexts.append(context)
        context.on("request", lambda request: requests.append(request.url))
        context.route("**/*", local_only)
        page = context.new_page()
        page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
        page.on("console", lambda message: message.type == "error" and "status of 400" not in message.text
                and problems.append(f"console: {message.text}"))
        page.set_default_timeout(20_000)
        return page

    yield make
    assert requests and [url for url in requests if not url.startswith(f"{seeded_server}/")] == []
    assert problems == []
    for context in contexts:
        context.close()


def test_the_sparql_endpoint_link_opens_the_html_page(local_page, seeded_server):
    local_page.goto(f"{seeded_server}/")
    local_page.locator(".site-nav a", has_text="SPARQL endpoint").click()
    local_page.wait_for_url(f"{seeded_server}/sparql")
    assert local_page.locator("h1").inner_text() == "SPARQL endpoint"
    assert local_page.locator("textarea#sparql-query").input_value() == ""
    # the service description is one link away, in Turtle
    with local_page.expect_response(lambda r: "format=ttl" in r.url) as described:
        local_page.locator("#service-description").click()
    assert described.value.headers["content-type"].startswith("text/turtle")


def test_the_form_runs_a_query_without_javascript(open_page, seeded_server):
    page = open_page(java_script_enabled=False, viewport={"width": 390, "height": 844})
    page.goto(f"{seeded_server}/sparql")
    page.fill("#sparql-query", REVIEWS)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: urlsplit(url).path == "/sparql" and "query=" in url)
    assert page.locator("#sparql-query").input_value() == REVIEWS
    cells = page.locator("table.results tbody td").all_inner_texts()
    assert "Better, broader, safer: Using health data for research and analysis@en" in cells
    page.screenshot(path="/tmp/sparql_page.png", full_page=True)
    link = page.locator("table.results a.iri", has_text="initiative:").first
    assert link.get_attribute("href").startswith("/doc/initiative/")
    link.click()
    page.wait_for_url(lambda url: urlsplit(url).path.startswith("/doc/initiative/"))
    assert page.locator("h1").inner_text().strip()
    page.go_back()
    with page.expect_download() as download:  # text/csv: saved, not shown
        page.locator("a[data-format=CSV]").click()
    assert "Topol" in download.value.path().read_text(encoding="utf-8")


def test_a_mistake_shows_its_error_next_to_the_query(open_page, seeded_server):
    local_page = open_page()
    local_page.goto(f"{seeded_server}/sparql")
    local_page.fill("#sparql-query", "SELECT * WHERE {\n  ?s ?p }")
    local_page.click("button[type=submit]")
    alert = local_page.get_by_role("alert")
    assert "error at 2:" in alert.inner_text()
    assert "400" in local_page.locator("#error-heading").inner_text()
    assert local_page.locator("#sparql-query").input_value() == "SELECT * WHERE {\n  ?s ?p }"
    # and the query opens in the editor from here
    local_page.fill("#sparql-query", "ASK { ?s ?p ?o }")
    local_page.click("button[type=submit]")
    assert local_page.locator("#ask-answer").inner_text() == "true"
    local_page.click("#open-in-editor")
    local_page.wait_for_selector(".yasgui .tabsList .tab")
    assert "ASK { ?s ?p ?o }" in local_page.evaluate("window.aiwfYasgui.getTab().getYasqe().getValue()")
