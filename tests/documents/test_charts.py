"""The charts page and its queries: each chart's query gives the figures the seeds state.

The queries in ``queries/charts/`` are sent through the app's own ``/sparql`` (as the page
sends them) over a store built from the real seeds.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from nhs_ai_workforce.core.settings import DEFAULT_BASE, Settings
from nhs_ai_workforce.documents.charts import KINDS, chart_list, read_chart
from nhs_ai_workforce.web.app import create_app

ROOT = Path(__file__).resolve().parents[2]
CHART_FILES = sorted((ROOT / "queries" / "charts").glob("*.rq"))
CONFIG_BLOCK = re.compile(r'<script type="application/json" id="aiwf-charts-config">(.*?)</script>', re.S)
BREAKDOWNS = {
    "technology-types": "technology-type",
    "diagnostic-subtypes": "diagnostic-subtype",
    "clinical-areas": "clinical-area",
    "workforce-groups": "workforce-group",
}


@pytest.fixture(scope="module")
def client(seeded_store):
    settings = Settings().with_(store_dir=seeded_store)
    return create_app({"SETTINGS": settings, "EXECUTOR": "in-process"}).test_client()


@pytest.fixture(scope="module")
def charts() -> dict:
    return {chart.id: chart for chart in chart_list(Settings())}


def _answer(client, query: str) -> list[dict[str, str]]:
    """The rows of the answer ``/sparql`` gives the page: a form POST asking for SPARQL JSON."""
    response = client.post("/sparql", data={"query": query}, headers={"Accept": "application/sparql-results+json"})
    assert response.status_code == 200, response.get_data(as_text=True)
    return [{name: term["value"] for name, term in row.items()} for row in response.get_json()["results"]["bindings"]]


def _seed(name: str) -> list[dict[str, str]]:
    with (ROOT / "seeds" / name).open(encoding="utf-8") as table:
        return list(csv.DictReader(table))


def _figures(rows) -> list[tuple[str, float]]:
    return [(row["categoryLabel"], float(row["value"])) for row in rows]


# -- the queries ---------------------------------------------------------------------------------

def test_every_chart_file_says_how_to_draw_it():
    assert len(CHART_FILES) == 6
    for path in CHART_FILES:
        chart = read_chart(path, DEFAULT_BASE)
        assert chart.kind in KINDS and chart.title != path.stem and chart.description, path
        assert re.fullmatch(r"[a-z0-9-]+", chart.id)


def test_counts_chart_gives_240_technologies_67_areas_155_groups(client, charts):
    rows = _answer(client, charts["roadmap-counts"].query)
    assert [(row["category"].rsplit("/", 1)[1], int(row["value"])) for row in rows] == [
        ("ai-technologies", 240), ("clinical-areas", 67), ("workforce-groups", 155),
    ]
    assert {row["sectionLocator"] for row in rows} == {"Box 1, paragraph 1", "Box 1, paragraph 3", "Box 1, paragraph 4"}


def test_projection_chart_gives_32000_and_78000_wte(client, charts):
    rows = _answer(client, charts["workforce-projection-2030"].query)
    assert [(row["category"].rsplit("/", 1)[1], float(row["value"])) for row in rows] == [
        ("additional-need", 32000.0), ("forecast-total", 78000.0),
    ]
    assert {(row["unitLabel"], row["unitNotation"]) for row in rows} == {("whole-time equivalent", "WTE")}
    assert {row["sectionLocator"] for row in rows} == {"list item 1"}
    assert all(row["reportTitle"].startswith("Data driven healthcare in 2030") for row in rows)
    assert "baseline year of the additional need is not stated" in rows[0]["datasetNote"]


@pytest.mark.parametrize(("chart_id", "breakdown"), sorted(BREAKDOWNS.items()))
def test_share_charts_give_every_seeded_share_largest_first(client, charts, chart_id, breakdown):
    rows = _answer(client, charts[chart_id].query)
    seeded = [row for row in _seed("technology_shares.csv") if row["breakdown"] == breakdown]
    assert len(rows) == len(seeded) >= 2
    (shares_note,) = [row["note"] for row in _seed("datasets.csv") if row["key"] == "ai-roadmap-technology-shares"]
    assert "need not add up to 100" in shares_note
    assert sorted(row["category"] for row in rows) == sorted(f"{DEFAULT_BASE}/id/{row['category']}" for row in seeded)
    by_category = {f"{DEFAULT_BASE}/id/{row['category']}": float(row["share_percent"]) for row in seeded}
    assert [float(row["value"]) for row in rows] == [by_category[row["category"]] for row in rows]
    assert [float(row["value"]) for row in rows] == sorted((float(row["value"]) for row in rows), reverse=True)
    for row in rows:
        assert (row["unitLabel"], row["unitNotation"]) == ("per cent", "%")
        assert row["datasetNote"] == shares_note
        assert row["sectionLocator"].startswith("Box 1, paragraph")
        assert row["reportTitle"] == "AI Roadmap"


def test_technology_types_chart_gives_the_roadmaps_shares(client, charts):
    rows = _answer(client, charts["technology-types"].query)
    assert _figures(rows) == [
        ("Diagnostic", 34), ("Automation/Service efficiency", 29), ("P4 Medicine", 17), ("Remote monitoring", 14),
    ]
    assert {row["baseLabel"] for row in rows} == {"all AI technologies in the AI Roadmap's horizon scan"}


def test_subtype_shares_are_of_the_diagnostic_technologies_only(client, charts):
    rows = _answer(client, charts["diagnostic-subtypes"].query)
    assert _figures(rows) == [("Imaging", 49), ("Cardiorespiratory and neurology", 27)]
    assert {row["baseLabel"] for row in rows} == {"diagnostic AI technologies in the AI Roadmap's horizon scan"}
    assert "not the number of diagnostic technologies" in rows[0]["baseNote"]


def test_queries_follow_the_configured_base(tmp_path):
    charts = chart_list(Settings().with_(base="http://localhost:8000", store_dir=tmp_path / "store"))
    shares = next(chart for chart in charts if chart.id == "technology-types")
    assert "<http://localhost:8000/id/breakdown/technology-type>" in shares.query
    assert "PREFIX aiwf:           <http://localhost:8000/def/aiwf/>" in shares.query
    assert DEFAULT_BASE not in shares.query


# -- the page ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def page(client) -> str:
    response = client.get("/charts")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    return response.get_data(as_text=True)


def _config(page: str) -> dict:
    match = CONFIG_BLOCK.search(page)
    assert match, "the page carries its charts as a JSON block"
    return json.loads(match.group(1))


def test_page_loads_echarts_and_its_script_from_this_site(client, page):
    version = json.loads((ROOT / "node_modules" / "echarts" / "package.json").read_text())["version"]
    assert f'<script src="/static/vendor/echarts/echarts.min.js?v={version}"></script>' in page
    assert '<script src="/static/charts.js"></script>' in page
    for url in re.findall(r'(?:src|<link[^>]*href)="([^"]*)"', page):
        assert url.startswith(("/", "data:")), url
    script = client.get("/static/charts.js")
    assert script.status_code == 200 and "echarts.init" in script.get_data(as_text=True)
    assert client.get(f"/static/vendor/echarts/echarts.min.js?v={version}").status_code == 200


def test_page_embeds_every_chart_query_and_shows_it(page, charts):
    config = _config(page)
    assert config["endpoint"] == "/sparql"
    assert [chart["id"] for chart in config["charts"]] == list(charts)
    assert [chart["query"] for chart in config["charts"]] == [path.read_text(encoding="utf-8") for path in CHART_FILES]
    for chart in charts.values():
        assert f'<section class="chart chart-{chart.kind}" id="chart-{chart.id}"' in page
        assert f'<h2 id="chart-{chart.id}-heading">{chart.title}</h2>' in page
    assert page.count('<details class="chart-query">') == len(charts)


def test_each_chart_links_its_query_to_the_editor_and_its_data_as_csv(client, page, charts):
    editors = re.findall(r'<a href="([^"]*)" data-link="editor">', page)
    csvs = re.findall(r'<a href="([^"]*)" data-link="csv">', page)
    assert len(editors) == len(csvs) == len(charts)
    for chart, editor, data in zip(charts.values(), editors, csvs, strict=True):
        url = urlsplit(editor.replace("&amp;", "&"))
        assert (url.path, url.query) == ("/", "")
        assert parse_qs(url.fragment) == {"query": [chart.query], "tabTitle": [chart.title]}
        response = client.get(data.replace("&amp;", "&"))
        assert response.status_code == 200 and response.mimetype == "text/csv"
    counts = client.get(csvs[0].replace("&amp;", "&")).get_data(as_text=True)
    assert ",240," in counts and ",67," in counts and ",155," in counts


def test_missing_echarts_gives_a_clear_503(tmp_path):
    app = create_app({"SETTINGS": Settings().with_(store_dir=tmp_path / "store"),
                      "ECHARTS_DIR": str(tmp_path / "node_modules" / "echarts")})
    response = app.test_client().get("/charts")
    assert response.status_code == 503
    text = response.get_data(as_text=True)
    assert "make setup" in text and "echarts" in text and "<script" not in text


# -- the tables rendered on the server ----------------------------------------------------------

TABLE = re.compile(r'<section class="chart chart-\w+" id="chart-(?P<id>[a-z0-9-]+)".*?</section>', re.S)
ROW = re.compile(r'<tr data-category="(?P<iri>[^"]+)"><th scope="row">'
                 r'<a href="(?P<href>[^"]+)">(?P<label>[^<]+)</a></th>'
                 r'<td class="number" data-value="(?P<value>[^"]+)">(?P<text>[^<]+)</td>')


def _sections(page: str) -> dict[str, str]:
    return {match.group("id"): match.group(0) for match in TABLE.finditer(page)}


def test_every_table_is_rendered_on_the_server_with_the_queries_figures(client, page, charts):
    sections = _sections(page)
    assert list(sections) == list(charts)
    assert "Loading" not in page and "aria-busy" not in page
    for chart_id, chart in charts.items():
        answer = _answer(client, chart.query)
        rows = [match.groupdict() for match in ROW.finditer(sections[chart_id])]
        expected = list(dict.fromkeys((row["category"], row["categoryLabel"], float(row["value"])) for row in answer))
        assert [(row["iri"], row["label"], float(row["value"])) for row in rows] == expected, chart_id
        assert all(row["href"] == "/doc/" + row["iri"].split("/id/", 1)[1] for row in rows)


def test_tables_write_units_notes_and_sources(page):
    sections = _sections(page)
    texts = {chart_id: [(m["label"], m["text"]) for m in ROW.finditer(html)] for chart_id, html in sections.items()}
    assert texts["technology-types"] == [
        ("Diagnostic", "34%"), ("Automation/Service efficiency", "29%"), ("P4 Medicine", "17%"),
        ("Remote monitoring", "14%"),
    ]
    assert texts["roadmap-counts"] == [
        ("AI technologies captured", "240"), ("clinical areas in the database", "67"), ("workforce groups used", "155"),
    ]
    assert texts["workforce-projection-2030"] == [
        ("additional staff needed", "32,000 WTE"), ("forecast workforce size", "78,000 WTE"),
    ]
    shares = sections["technology-types"]
    assert "Unit: per cent (%) of all AI technologies in the AI Roadmap&#39;s horizon scan." in shares
    assert "need not add up to 100" in shares
    assert 'Source: <a href="/doc/section/box-1-para-2">Box 1, paragraph 2</a>' in shares
    assert 'Reported in: <a href="/doc/initiative/ai-roadmap">AI Roadmap</a>' in shares
    assert '<th scope="col" class="number">Share (%)</th>' in shares
    # the figures chart has a table and no canvas; the bar charts a canvas labelled with the figures
    assert 'data-part="canvas"' not in sections["roadmap-counts"]
    assert 'aria-label="Bar chart of Share (%) by technology type: Diagnostic 34%;' in shares


def test_the_script_gets_the_same_figures_as_the_tables(page):
    config = _config(page)
    sections = _sections(page)
    for chart in config["charts"]:
        found = ROW.finditer(sections[chart["id"]])
        rows = [(m["iri"], m["label"], float(m["value"]), m["text"], m["href"]) for m in found]
        assert [(r["iri"], r["label"], r["value"], r["text"], r["href"]) for r in chart["rows"]] == rows
    assert all(chart["percent"] == chart["heading"].endswith("(%)") for chart in config["charts"])


def test_a_chart_query_that_fails_says_so_escaped_and_the_others_still_show(tmp_path, seeded_store):
    queries = tmp_path / "queries" / "charts"
    queries.mkdir(parents=True)
    for path in CHART_FILES[:2]:
        (queries / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    (queries / "09-broken.rq").write_text("# title: <b>Broken</b>\n# chart: bar\nSELECT ?x WHERE { <oops> }\n",
                                          encoding="utf-8")
    settings = Settings().with_(store_dir=seeded_store, root=tmp_path)
    if settings.queries_dir != tmp_path / "queries":
        pytest.skip("the queries folder does not follow the root")
    app = create_app({"SETTINGS": settings, "EXECUTOR": "in-process"})
    text = app.test_client().get("/charts").get_data(as_text=True)
    broken = _sections(text)["broken"]
    assert 'role="alert">The data could not be read:' in broken
    assert "<b>Broken</b>" not in text and "&lt;b&gt;Broken&lt;/b&gt;" in broken
    assert len(re.findall(r'<tr data-category=', _sections(text)["technology-types"])) == 4
