"""Pages that read without surprises, in Debian's headless Chromium against a real ``aiwf serve``.

With JavaScript off the charts page holds every chart's figures in its tables; every 404 has the
one design (message, search box, nearest labels where known); reused terms are shown by a label
(``dcterms:title`` as "title") with the prefixed name beside it; and "Referred to by" on a role
concept lists each subject once, folding the entailed super-property and inverse repeats of its
ESCO match. No request leaves 127.0.0.1. Every test runs over the embedded store and over a remote
store (conftest's ``site``).
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

ESCO_DATA_SCIENTIST = "http://data.europa.eu/esco/occupation/258e46f9-0075-4a2e-adae-1ff0477e0f30"


def _table(page, chart_id: str) -> list[tuple[str, str]]:
    rows = page.locator(f"#chart-{chart_id} table.data-table tbody tr")
    return [(row.locator("th").inner_text().strip(), row.locator("td.number").inner_text().strip())
            for row in rows.all()]


def test_charts_read_without_javascript(no_script_page, site):
    page = no_script_page
    page.goto(f"{site}/charts")
    body = page.locator("main").inner_text()
    assert "Loading" not in body
    assert _table(page, "technology-types") == [
        ("Diagnostic", "34%"), ("Automation/Service efficiency", "29%"), ("P4 Medicine", "17%"),
        ("Remote monitoring", "14%"),
    ]
    assert _table(page, "roadmap-counts") == [
        ("AI technologies captured", "240"), ("clinical areas in the database", "67"), ("workforce groups used", "155"),
    ]
    assert _table(page, "workforce-projection-2030") == [
        ("additional staff needed", "32,000 WTE"), ("forecast workforce size", "78,000 WTE"),
    ]
    assert _table(page, "diagnostic-subtypes") == [("Imaging", "49%"), ("Cardiorespiratory and neurology", "27%")]
    shares = page.locator("#chart-technology-types")
    assert "Unit: per cent (%) of all AI technologies" in shares.locator('[data-part="unit"]').inner_text()
    assert "need not add up to 100" in shares.locator('[data-part="notes"]').inner_text()
    assert shares.locator('[data-part="source"] a', has_text="Box 1, paragraph 2").get_attribute("href") == \
        "/doc/section/box-1-para-2"
    assert page.locator("#chart-technology-types canvas").count() == 0  # no script ran
    assert "tables below hold the same figures" in page.locator("noscript").first.inner_text()


def test_with_javascript_the_bars_are_drawn_from_the_same_figures(local_page, site):
    page = local_page
    page.goto(f"{site}/charts")
    page.locator('#chart-technology-types .chart-canvas[data-drawn="true"]').wait_for()
    bars = page.evaluate("""() => echarts.getInstanceByDom(
        document.querySelector('#chart-technology-types .chart-canvas')).getOption().series[0].data""")
    assert bars == [34, 29, 17, 14]
    assert _table(page, "technology-types")[0] == ("Diagnostic", "34%")


@pytest.mark.parametrize(("path", "nearest"), [
    ("/doc/initiative/ai-roadmapp", "AI Roadmap"),
    ("/id/role/data-scientst", "data scientist"),
    ("/def/aiwf/Reveiw", "Review"),
    ("/no/such-page", None),
])
def test_every_404_has_the_one_design(no_script_page, site, path, nearest):
    page = no_script_page
    response = page.goto(f"{site}{path}")
    assert response.status == 404
    assert page.locator("main.not-found-page h1").inner_text() == "404 Not found"
    assert page.locator("main .message[role=alert]").count() == 1
    form = page.locator('main form.search[role="search"]')
    assert form.get_attribute("action") == "/doc/"
    if nearest:
        assert page.locator("ul.nearest a").first.inner_text() == nearest
    else:
        assert page.locator("ul.nearest").count() == 0
        assert page.locator("#q").input_value() == "such page"
    # the search box works without JavaScript
    page.locator("#q").fill("roadmap")
    with page.expect_navigation():
        page.locator("form.search button").click()
    assert urlsplit(page.url).path == "/doc/"
    assert page.locator("table.browse-list a", has_text="AI Roadmap").count() >= 1


def test_reused_terms_are_labelled_with_their_prefixed_name_beside(no_script_page, site):
    page = no_script_page
    page.goto(f"{site}/doc/initiative/ai-roadmap")
    title = page.locator("table.statements th a", has_text="title").first
    assert title.inner_text() == "title"
    assert title.get_attribute("title") == "dcterms:title"
    assert page.locator("table.statements th small.curie", has_text="dcterms:title").count() == 1
    headers = page.locator("table.statements th a").all_inner_texts()
    assert not [text for text in headers if ":" in text], headers  # no CURIE shown as a name


def test_referred_to_by_on_a_role_concept_folds_the_esco_repeats(no_script_page, site):
    page = no_script_page
    page.goto(f"{site}/doc/role/data-scientist")
    incoming = page.locator("#incoming-heading").locator("xpath=..")
    rows = incoming.locator("table.incoming tbody tr")
    subjects = [row.locator("td").first.locator("a").get_attribute("href") for row in rows.all()]
    assert len(subjects) == len(set(subjects)) == 9  # each subject once
    # three findings concern data scientists: the 2030 projection and paragraph 2's two claims
    assert {s for s in subjects if s.startswith("/doc/finding/")} == {
        "/doc/finding/highest-increase-2030", "/doc/finding/role-names-vary",
        "/doc/finding/terminology-consensus-needed"}
    assert ESCO_DATA_SCIENTIST not in subjects  # its exact match is this concept's own statement, shown above
    properties = set(rows.locator("td:nth-child(2) a").all_inner_texts())
    assert properties == {"annotated source", "concept", "concerns role"}
    assert "semantic relation" not in incoming.inner_text()
    folded = incoming.locator("p.folded").inner_text()
    assert folded.startswith("16 more statements entailed by the ontology")
    # the ESCO match is stated once among the concept's own properties, as its exact match
    stated = page.locator("#properties-heading").locator("xpath=..")
    own = stated.locator("table.statements tr", has=page.locator(f'a[href="{ESCO_DATA_SCIENTIST}"]'))
    assert own.count() == 1
    assert "exact match" in own.inner_text() or "exact match" in stated.inner_text()
