"""Resource pages in Debian's headless Chromium against a real ``aiwf serve`` over the real seeds.

The AI Roadmap's page shows its label and its recorded date conflict, draws its neighbourhood
with ECharts, and leads to other pages both from the tables and from the graph, without a
request to any other host and without a console error. Every test runs twice: over the embedded
store, and reading the same build from ``oxigraph serve`` loaded by ``aiwf publish`` (conftest's ``site``).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest

SCREENSHOT = Path("/tmp/resource_page.png")


@pytest.fixture(scope="module")
def server(site):
    """The real seeds served from the embedded store, then from a remote store (conftest's ``site``)."""
    return site


@pytest.fixture
def page(local_page, server):
    """The AI Roadmap's page."""
    local_page.goto(f"{server}/doc/initiative/ai-roadmap")
    return local_page


def test_page_shows_the_label_and_the_recorded_conflict(page):
    assert page.locator("h1").inner_text() == "AI Roadmap"
    notes = page.locator(".editorial-notes")
    assert notes.is_visible()
    assert "Dates conflict" in notes.inner_text()
    assert page.title().startswith("AI Roadmap")


def test_neighbourhood_graph_renders_and_its_nodes_open_their_pages(page, server):
    canvas = page.locator("#neighbourhood canvas")
    canvas.first.wait_for()
    box = canvas.first.bounding_box()
    assert box and box["width"] > 300 and box["height"] > 300
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    names = page.evaluate("window.aiwfNeighbourhood.getOption().series[0].data.map(n => n.name)")
    assert names[0] == "AI Roadmap" and "Health Education England" in names
    # the pixel where ECharts drew Health Education England's node, relative to the canvas
    x, y = page.evaluate("""() => {
        const chart = window.aiwfNeighbourhood;
        const data = chart.getModel().getSeriesByIndex(0).getData();
        const index = data.mapArray(i => data.getName(i)).indexOf("Health Education England");
        return chart.convertToPixel({seriesIndex: 0}, data.getItemLayout(index));
    }""")
    with page.expect_navigation():
        canvas.first.click(position={"x": x, "y": y})
    assert urlsplit(page.url).path == "/doc/organisation/health-education-england"
    assert page.locator("h1").inner_text() == "Health Education England"


def test_a_linked_value_leads_to_its_page(page):
    page.locator("table.statements a", has_text="Unity Insights").first.click()
    page.wait_for_url("**/doc/organisation/unity-insights")
    assert page.locator("h1").inner_text() == "Unity Insights"
    incoming = page.locator("table.incoming")
    assert incoming.locator("a", has_text="AI Roadmap").count() >= 1
