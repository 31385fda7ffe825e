"""Following links between the pages in Debian's headless Chromium, against a real ``aiwf serve``.

From the home page to the charts, where the charts are drawn from the figures of the tables the
server rendered; from a chart to the pages of its categories and to its query in the editor; from the
home page to a resource. No page may load anything from another host or log an error. Every test
runs over the embedded store and over a remote store (conftest's ``site``).
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

BLUE_PIXELS = """(selector) => {
  const canvas = document.querySelector(selector);
  if (!canvas || !canvas.width) return 0;
  const { data } = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height);
  let blue = 0;
  for (let i = 0; i < data.length; i += 4) {
    if (data[i] === 0 && data[i + 1] === 94 && data[i + 2] === 184 && data[i + 3] === 255) blue++;
  }
  return blue;
}"""


@pytest.fixture(scope="module")
def server(site):
    """The real seeds served from the embedded store, then from a remote store (conftest's ``site``)."""
    return site


@pytest.fixture
def page(local_page):
    return local_page


def _table(page, chart_id: str) -> list[tuple[str, str]]:
    rows = page.locator(f"#chart-{chart_id} table.data-table tbody tr")
    rows.first.wait_for()
    return [(row.locator("th").inner_text().strip(), row.locator("td.number").inner_text().strip())
            for row in rows.all()]


def _open_charts_from_home(page, server):
    page.goto(f"{server}/")
    page.locator("main a", has_text="Charts").first.click()
    page.wait_for_url(f"{server}/charts")
    page.locator("#chart-technology-types .chart-canvas canvas").wait_for()


def test_home_to_charts_draws_each_chart_and_fills_its_table(page, server):
    _open_charts_from_home(page, server)
    assert page.locator("h1").inner_text().startswith("Charts")
    page.locator('#chart-technology-types .chart-canvas[data-drawn="true"]').wait_for()
    assert page.evaluate(f"({BLUE_PIXELS})('#chart-technology-types canvas')") > 2000

    assert _table(page, "technology-types") == [
        ("Diagnostic", "34%"), ("Automation/Service efficiency", "29%"), ("P4 Medicine", "17%"),
        ("Remote monitoring", "14%"),
    ]
    assert _table(page, "diagnostic-subtypes") == [("Imaging", "49%"), ("Cardiorespiratory and neurology", "27%")]
    assert _table(page, "roadmap-counts") == [
        ("AI technologies captured", "240"), ("clinical areas in the database", "67"), ("workforce groups used", "155"),
    ]
    assert _table(page, "workforce-projection-2030") == [
        ("additional staff needed", "32,000 WTE"), ("forecast workforce size", "78,000 WTE"),
    ]
    for chart_id in ("technology-types", "diagnostic-subtypes", "clinical-areas", "workforce-groups",
                     "workforce-projection-2030"):
        assert page.locator(f"#chart-{chart_id} .chart-canvas canvas").count() == 1, chart_id

    shares = page.locator("#chart-technology-types")
    assert "need not add up to 100" in shares.locator('[data-part="notes"]').inner_text()
    assert "Unit: per cent (%) of all AI technologies" in shares.locator('[data-part="unit"]').inner_text()
    source = shares.locator('[data-part="source"] a', has_text="Box 1, paragraph 2")
    assert source.get_attribute("href") == "/doc/section/box-1-para-2"
    label = shares.locator(".chart-canvas").get_attribute("aria-label") or ""
    assert "Diagnostic 34%" in label
    assert shares.get_attribute("aria-busy") is None  # the tables come with the page: nothing to wait for


def test_a_category_link_opens_its_resource_page(page, server):
    _open_charts_from_home(page, server)
    page.locator("#chart-technology-types table.data-table a", has_text="Diagnostic").click()
    page.wait_for_url(f"{server}/doc/technology-type/diagnostic")
    assert "Diagnostic" in page.locator("h1").inner_text()
    assert "Diagnostic" in page.title()


def test_clicking_a_bar_opens_its_category_page(page, server):
    _open_charts_from_home(page, server)
    canvas = page.locator("#chart-clinical-areas .chart-canvas")
    canvas.scroll_into_view_if_needed()
    page.locator('#chart-clinical-areas .chart-canvas[data-drawn="true"]').wait_for()
    x, y = page.evaluate("""(selector) => {
      const element = document.querySelector(selector);
      const [x, y] = echarts.getInstanceByDom(element).convertToPixel({ seriesIndex: 0 }, [4, 3]);
      const box = element.getBoundingClientRect();
      return [box.left + x, box.top + y];
    }""", "#chart-clinical-areas .chart-canvas")
    page.mouse.click(x, y)
    page.wait_for_url(f"{server}/doc/clinical-area/general-practice")


def test_a_charts_query_opens_and_runs_in_the_editor(page, server):
    _open_charts_from_home(page, server)
    with page.expect_response(lambda r: urlsplit(r.url).path == "/sparql" and r.request.method == "POST") as sent:
        page.locator('#chart-technology-types a[data-link="editor"]').click()
    page.wait_for_url(lambda url: urlsplit(url).path == "/")
    assert sent.value.status == 200
    assert page.evaluate("window.aiwfYasgui.getTab().getName()") == "AI technologies by type"
    tab_id = page.evaluate("window.aiwfYasgui.getTab().getId()")
    cells = page.locator(f'[id="{tab_id}"] .yasr table.dataTable tbody td')
    cells.first.wait_for()
    assert any("Automation/Service efficiency" in text for text in cells.all_inner_texts())
    # the examples are still there as tabs beside it
    names = page.locator(".yasgui .tabsList .tab a > span").all_inner_texts()
    assert "AI technologies by type" in names and len(names) > 10


def test_home_to_a_resource_page(page, server):
    page.goto(f"{server}/")
    assert page.locator("h1").inner_text() == "NHS AI workforce knowledge graph"
    assert int(page.locator('tr[data-graph="background"] td.number').get_attribute("data-count")) > 0
    page.locator(".start-here a", has_text="The Topol Review").click()
    page.wait_for_url(f"{server}/doc/initiative/topol-review")
    assert "The Topol Review" in page.locator("h1").inner_text()


def _top(page, element_id: str) -> float:
    return page.evaluate(f"document.getElementById('{element_id}').getBoundingClientRect().top")


def test_the_site_menu_reaches_the_editor_and_the_reconciliation_help(page, server):
    page.goto(f"{server}/charts")
    page.locator(".site-nav a", has_text="Query").click()
    page.wait_for_url(f"{server}/#query")
    page.wait_for_selector(".yasgui .tabsList .tab")
    assert -1 <= _top(page, "query") < 50  # sub-pixel rounding can leave -0.3
    page.locator(".site-nav a", has_text="Reconciliation").click()
    page.wait_for_url(f"{server}/#reconciliation")
    assert -1 <= _top(page, "reconciliation") < 50  # sub-pixel rounding can leave -0.3
    assert page.locator("#reconcile-url").inner_text() == f"{server}/reconcile"
    assert page.locator(".yasgui .tabsList .tab").count() > 10
