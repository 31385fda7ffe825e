"""The query editor on the home page (``/#query``): YASGUI served from ``node_modules``, the examples as tabs, no CDN.

The page is checked through Flask's test client, then in Debian's headless Chromium (driven by
Playwright, never a downloaded browser) against a real ``aiwf serve`` process on 127.0.0.1
over a store built from the real seeds: a query is typed, run and read back from the table.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest

from nhs_ai_workforce.core.namespaces import ProjectNamespaces
from nhs_ai_workforce.core.settings import Settings
from nhs_ai_workforce.documents.examples import read_example
from nhs_ai_workforce.web.app import create_app

ROOT = Path(__file__).resolve().parents[2]
QUERY_FILES = sorted((ROOT / "queries").glob("*.rq"))
GOLDACRE = "Better, broader, safer: Using health data for research and analysis"
SCREENSHOT = Path("/tmp/query_ui.png")
CONFIG_BLOCK = re.compile(r'<script type="application/json" id="aiwf-query-ui-config">(.*?)</script>', re.S)
#: The reconciliation service's address, for people to paste into OpenRefine: text, not a request.
RECONCILE_URL = re.compile(r'<code id="reconcile-url">[^<]*</code>')


@pytest.fixture
def client(tmp_path):
    """The app over the project's own queries/ and node_modules/; no store is needed for /."""
    settings = Settings().with_(store_dir=tmp_path / "store")
    return create_app({"SETTINGS": settings}).test_client()


def _page(client) -> tuple[str, dict]:
    response = client.get("/")
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "text/html"
    text = response.get_data(as_text=True)
    match = CONFIG_BLOCK.search(text)
    assert match, "the page carries its configuration as a JSON block"
    return text, json.loads(match.group(1))


# -- through Flask's test client -------------------------------------------------------------

def test_page_lists_every_example_query(client):
    text, config = _page(client)
    assert len(QUERY_FILES) >= 10
    titles = [read_example(path).title for path in QUERY_FILES]
    for title in titles:
        assert html.escape(title) in text, title
    assert [example["title"] for example in config["examples"]] == titles
    # each tab holds the whole file, header comments included
    assert [example["query"] for example in config["examples"]] == [
        path.read_text(encoding="utf-8") for path in QUERY_FILES
    ]
    first = config["examples"][0]
    assert first["title"] == "Initiatives that followed the Topol Review, in publication order"
    assert first["description"].startswith("Lists the reviews, reports, strategies")


def test_page_queries_its_own_endpoint_with_the_project_prefixes(client):
    text, config = _page(client)
    assert config["endpoint"] == "/sparql"
    assert config["prefixes"] == ProjectNamespaces().prefixes()
    assert config["persistenceId"].startswith("aiwf-query-ui-")
    assert 'href="/sparql"' in text
    assert '<section id="query"' in text and '<div id="yasgui"' in text
    script = client.get("/static/query-ui.js")
    assert script.status_code == 200
    assert 'method: "POST"' in script.get_data(as_text=True)


def test_page_loads_nothing_from_other_hosts(client):
    text, _ = _page(client)
    # Namespace IRIs in the example queries are data, not addresses to load: outside that
    # JSON block the page holds no absolute URL at all.
    rest = RECONCILE_URL.sub("", CONFIG_BLOCK.sub("", text))
    assert not re.search(r"https?:|//[a-z0-9.-]+\.[a-z]{2,}", rest, re.I), re.findall(r"\S*https?:\S*", rest)
    for url in re.findall(r'(?:src|href)="([^"]*)"', rest):
        assert url.startswith(("/", "#", "data:")), url
    assert '<script src="/static/vendor/yasgui/yasgui.min.js?v=' in text
    assert '<link rel="stylesheet" href="/static/vendor/yasgui/yasgui.min.css?v=' in text
    assert '<script src="/static/query-ui.js"></script>' in text


def test_examples_follow_the_configured_base(tmp_path):
    settings = Settings().with_(base="http://localhost:8000", store_dir=tmp_path / "store")
    _, config = _page(create_app({"SETTINGS": settings}).test_client())
    assert config["prefixes"]["aiwf"] == "http://localhost:8000/def/aiwf/"
    first = config["examples"][0]["query"]
    assert "PREFIX aiwf:    <http://localhost:8000/def/aiwf/>" in first
    assert "nhs-ai-workforce.example.org" not in first


@pytest.mark.parametrize(("name", "mimetype"), [
    ("yasgui.min.js", "text/javascript"), ("yasgui.min.css", "text/css"),
])
def test_vendor_files_are_served_locally_with_long_cache(client, name, mimetype):
    response = client.get(f"/static/vendor/yasgui/{name}?v=4")
    assert response.status_code == 200
    assert response.mimetype == mimetype
    assert response.cache_control.max_age == 365 * 24 * 3600
    assert response.cache_control.public
    body = response.get_data()
    assert body == (ROOT / "node_modules/@zazuko/yasgui/build" / name).read_bytes()
    assert len(body) > 10_000


@pytest.mark.parametrize("name", ["package.json", "yasgui.esm.js", "..%2Fpackage.json", "../package.json"])
def test_only_whitelisted_vendor_files_are_served(client, name):
    assert client.get(f"/static/vendor/yasgui/{name}").status_code == 404


def test_missing_node_modules_leave_the_home_page_up_and_say_how_to_install(tmp_path):
    app = create_app({"SETTINGS": Settings().with_(store_dir=tmp_path / "store"),
                      "YASGUI_DIR": str(tmp_path / "node_modules" / "@zazuko" / "yasgui")})
    client = app.test_client()
    home = client.get("/")
    assert home.status_code == 200
    for response in (home, client.get("/static/vendor/yasgui/yasgui.min.js")):
        text = response.get_data(as_text=True)
        assert "make setup" in text and "npm ci" in text
        assert "<script" not in text
    assert client.get("/static/vendor/yasgui/yasgui.min.js").status_code == 503


# -- in a real browser against a real server ---------------------------------------------------

@pytest.fixture(scope="module")
def server(seeded_server):
    return seeded_server


@pytest.fixture
def page(local_page, server):
    """The home page with the query editor ready (no saved tabs)."""
    local_page.goto(f"{server}/")
    local_page.wait_for_selector(".yasgui .tabsList .tab")
    return local_page


def _cells(page, tab_id: str) -> list[str]:
    """The text of every cell of the results table in tab ``tab_id``, literals unquoted."""
    cells = page.locator(f'[id="{tab_id}"] .yasr table.dataTable tbody td')
    cells.first.wait_for()
    return [re.sub(r'^"(.*)"(@[a-z-]+|\^\^\S+)?$', r"\1", text.strip(), flags=re.S)
            for text in cells.all_inner_texts()]


def test_typed_query_runs_and_its_answer_shows_in_the_table(page):
    names = page.locator(".yasgui .tabsList .tab a > span").all_inner_texts()
    assert names == [read_example(path).title for path in QUERY_FILES]

    # A new tab starts with the project's prefixes declared.
    page.click(".yasgui .addTab")
    tab_id = page.evaluate("window.aiwfYasgui.getTab().getId()")
    editor = page.locator(f'[id="{tab_id}"] .CodeMirror')
    assert "PREFIX aiwf: <https://nhs-ai-workforce.example.org/def/aiwf/>" in editor.inner_text()

    editor.click()
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.type(
        "SELECT ?title WHERE { ?initiative a aiwf:Review ; dcterms:alternative ?name ; "
        'dcterms:title ?title . FILTER(CONTAINS(STR(?name), "Goldacre")) }'
    )
    # Typing a prefixed name declares its prefix from the project's list.
    value = page.evaluate("window.aiwfYasgui.getTab().getYasqe().getValue()")
    assert "PREFIX aiwf: <https://nhs-ai-workforce.example.org/def/aiwf/>" in value
    assert "PREFIX dcterms: <http://purl.org/dc/terms/>" in value

    with page.expect_response(lambda r: urlsplit(r.url).path == "/sparql" and r.request.method == "POST") as sent:
        page.keyboard.press("Control+Enter")
    assert sent.value.status == 200
    assert "Goldacre" in (sent.value.request.post_data or "")
    cells = _cells(page, tab_id)
    assert GOLDACRE in cells
    assert page.locator(f'[id="{tab_id}"] .yasr table.dataTable thead').inner_text().strip() == "title"
    page.screenshot(path=str(SCREENSHOT), full_page=True)


def test_an_example_tab_runs_with_the_run_button(page):
    example = read_example(QUERY_FILES[0])
    page.click(f'[id="tab-{example.id}"]')
    panel = page.locator(f'[id="{example.id}"]')
    assert "Initiatives that followed the Topol Review" in panel.locator(".CodeMirror").inner_text()
    panel.locator(".yasqe_queryButton").click()
    cells = _cells(page, example.id)
    assert GOLDACRE in cells
    assert "Year of the digital profession 2022" in cells


#: What a page that has settled looks like: the editor drawn and nothing left to focus it.
SETTLED = "() => document.querySelector('.yasgui .CodeMirror') !== null"


@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 900}, {"width": 390, "height": 844}],
                         ids=["desktop", "phone"])
def test_home_opens_at_the_top(local_page, server, viewport):
    local_page.set_viewport_size(viewport)
    local_page.goto(f"{server}/")
    local_page.wait_for_selector(".yasgui .tabsList .tab")
    local_page.wait_for_function(SETTLED)
    local_page.wait_for_timeout(500)  # CodeMirror focuses on a timer, if at all
    assert local_page.evaluate("window.scrollY") == 0
    assert local_page.evaluate("document.activeElement.closest('.CodeMirror') === null")
    # the editor is far below: the page would have scrolled had it taken focus
    assert local_page.locator("#query").bounding_box()["y"] > viewport["height"]


def test_result_links_open_local_pages(page, server):
    page.evaluate("""() => {
      const yasgui = window.aiwfYasgui;
      yasgui.addTab(true, { name: "Reviews", yasqe: { value:
        "SELECT ?review ?type WHERE { ?review a <https://nhs-ai-workforce.example.org/def/aiwf/Review> ; a ?type }" +
        " ORDER BY ?review LIMIT 5" } });
    }""")
    tab_id = page.evaluate("window.aiwfYasgui.getTab().getId()")
    page.locator(f'[id="{tab_id}"] .yasqe_queryButton').click()
    links = page.locator(f'[id="{tab_id}"] .yasr table.dataTable tbody td a.iri')
    links.first.wait_for()
    hrefs = links.evaluate_all("links => links.map(a => a.href)")
    reviews = [href for href in hrefs if "/initiative/" in href]
    assert reviews and all(href.startswith(f"{server}/doc/initiative/") for href in reviews), hrefs
    # IRIs under the base but not under /id/ (the classes) open on this server too
    assert f"{server}/def/aiwf/Review" in hrefs
    assert not [href for href in hrefs if "example.org" in href]
    first = links.filter(has_text="initiative/").first
    assert first.get_attribute("title").startswith("https://nhs-ai-workforce.example.org/id/initiative/")
    with page.context.expect_page() as opened:
        first.click()
    doc = opened.value
    doc.wait_for_load_state()
    assert urlsplit(doc.url).path.startswith("/doc/initiative/")
    assert doc.locator("h1").inner_text().strip()
    doc.close()


def test_a_share_link_opens_and_runs_its_query(local_page, server):
    query = 'SELECT ?answer WHERE { BIND("shared" AS ?answer) }'
    local_page.goto(f"{server}/#query={quote(query, safe='')}&tabTitle={quote('A shared query')}")
    local_page.wait_for_selector(".yasgui .tabsList .tab")
    tab_id = local_page.evaluate("window.aiwfYasgui.getTab().getId()")
    assert local_page.evaluate("window.aiwfYasgui.getTab().getName()") == "A shared query"
    assert _cells(local_page, tab_id)[-1] == "shared"
    assert local_page.evaluate("window.location.hash") == "#query"
