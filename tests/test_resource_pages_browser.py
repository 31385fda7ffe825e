"""Resource pages in Debian's headless Chromium against a real ``aiwf serve`` over the real seeds.

The AI Roadmap's page shows its label and its recorded date conflict, draws its neighbourhood
with ECharts, and leads to other pages both from the tables and from the graph, without a
request to any other host and without a console error.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest

SCREENSHOT = Path("/tmp/resource_page.png")


@pytest.fixture(scope="module")
def server(seeded_server):
    return seeded_server


@pytest.fixture
def page(browser, server):
    """A fresh page that records every request, refuses other hosts and collects errors."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, service_workers="block")
    requests: list[str] = []
    problems: list[str] = []
    context.on("request", lambda request: requests.append(request.url))

    def local_only(route):
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            route.abort()

    context.route("**/*", local_only)
    page = context.new_page()
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("console", lambda message: message.type == "error" and problems.append(f"console: {message.text}"))
    page.set_default_timeout(20_000)
    page.goto(f"{server}/doc/initiative/ai-roadmap")
    yield page
    outside = [url for url in requests if urlsplit(url).hostname != "127.0.0.1"]
    assert outside == [], f"requests to other hosts: {outside}"
    assert problems == []
    context.close()


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
