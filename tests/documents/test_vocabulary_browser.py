"""The vocabulary browser in Debian's headless Chromium against a real ``aiwf serve`` over the real seeds.

From the site's navigation to a scheme; the index's letters jump to their sections; the hierarchy's
``<details>`` open and close; a concept opens from the tree and shows its mappings; and all of it
works with JavaScript switched off. No request leaves 127.0.0.1 and no console error is logged. Every
test runs over the embedded store and over a remote store (conftest's ``site``).
"""

from __future__ import annotations

import pytest

INFORMATICS = 'details:has(> summary a[href="/vocab/role-terms/role/clinical-informatics-professional"])'
WORKFORCE = 'details:has(> summary a[href="/vocab/role-terms/role/digital-and-informatics-workforce"])'


@pytest.fixture
def page(local_page):
    local_page.set_viewport_size({"width": 1280, "height": 700})
    return local_page


def _in_view(page, selector: str) -> bool:
    """Is the top of the element within the viewport?"""
    return page.evaluate("""(selector) => {
        const top = document.querySelector(selector).getBoundingClientRect().top;
        return top >= -2 && top < window.innerHeight;
    }""", selector)


def _is_open(page, selector: str) -> bool:
    return page.locator(selector).evaluate("element => element.open")


def _letters_jump_to_their_sections(page, server):
    page.goto(f"{server}/vocab/role-terms")
    assert not _in_view(page, "#letter-S") and page.evaluate("window.scrollY") == 0
    page.locator(".letters a", has_text="S").click()
    page.wait_for_url(f"{server}/vocab/role-terms#letter-S")
    assert _in_view(page, "#letter-S") and page.evaluate("window.scrollY") > 0
    assert page.locator("#letter-S .pref-label a").first.inner_text() == "statistician"
    page.evaluate("window.scrollTo(0, 0)")
    page.locator(".letters a", has_text="D").click()
    page.wait_for_url(f"{server}/vocab/role-terms#letter-D")
    assert _in_view(page, "#letter-D") and page.evaluate("window.scrollY") > 0
    assert page.evaluate("document.querySelector(':target').id") == "letter-D"
    assert page.locator(".letters .empty-letter", has_text="E").count() == 1  # no label starts with E: no link
    assert page.locator(".letters a", has_text="E").count() == 0


def _details_open_and_close(page):
    outer, inner = page.locator(WORKFORCE), page.locator(INFORMATICS)
    analyst = inner.locator('a[href="/vocab/role-terms/role/data-analyst"]')
    assert not _is_open(page, WORKFORCE) and not analyst.is_visible()
    outer.locator("> summary .count").click()
    assert _is_open(page, WORKFORCE) and inner.is_visible() and not analyst.is_visible()
    inner.locator("> summary .count").click()
    assert _is_open(page, INFORMATICS) and analyst.is_visible()
    inner.locator("> summary .count").click()
    assert not _is_open(page, INFORMATICS) and not analyst.is_visible()
    inner.locator("> summary .count").click()
    assert analyst.is_visible()


def test_the_nav_leads_to_the_schemes_and_a_scheme(page, site):
    page.goto(f"{site}/")
    page.locator(".site-nav a", has_text="Vocabularies").click()
    page.wait_for_url(f"{site}/vocab/")
    assert page.locator("h1").inner_text() == "Vocabularies"
    row = page.locator("table.vocab-schemes tr", has=page.locator('a[href="/vocab/role-terms"]'))
    assert row.locator("td.number").inner_text() == "16"
    row.locator('a[href="/vocab/role-terms"]').click()
    page.wait_for_url(f"{site}/vocab/role-terms")
    assert page.locator("h1").inner_text() == "Digital, data and AI workforce role terms"


def test_index_letters_navigate_to_their_sections(page, site):
    _letters_jump_to_their_sections(page, site)


def test_the_hierarchy_expands_and_collapses(page, site):
    page.goto(f"{site}/vocab/role-terms")
    _details_open_and_close(page)


def test_a_concept_opens_from_the_tree_and_shows_its_mappings(page, site):
    page.goto(f"{site}/vocab/role-terms?expand=all")
    page.locator(f'{INFORMATICS} a[href="/vocab/role-terms/role/data-scientist"]').click()
    page.wait_for_url(f"{site}/vocab/role-terms/role/data-scientist")
    assert page.locator("h1").inner_text() == "data scientist"
    rows = page.locator("table.mappings tbody tr")
    assert rows.count() == 4
    esco = rows.filter(has_text="ESCO occupations")
    assert "skos:exactMatch" in esco.inner_text() and "semapv:ManualMappingCuration" in esco.inner_text()
    assert "0.95" in esco.inner_text()
    wordings = page.locator("table.wordings tbody tr")
    assert wordings.count() == 2 and "\u2018data scientists\u2019" in wordings.first.inner_text()
    page.locator(".breadcrumbs a", has_text="clinical informatics professional").click()
    page.wait_for_url("**/vocab/role-terms/role/clinical-informatics-professional")
    assert page.locator(".concept-list a", has_text="data scientist").count() == 1


def test_an_alternative_label_leads_to_its_preferred_concept(page, site):
    page.goto(f"{site}/vocab/role-terms#letter-A")
    page.locator(".alt-label a", has_text="artificial intelligence professionals").click()
    page.wait_for_url(f"{site}/vocab/role-terms/role/ai-professional")
    assert page.locator("h1").inner_text() == "AI professional"
    assert "artificial intelligence professionals" in page.locator(".alt-labels").inner_text()


def test_the_browser_works_without_javascript(no_script_page, site):
    page = no_script_page
    _letters_jump_to_their_sections(page, site)
    _details_open_and_close(page)
    page.locator(f'{INFORMATICS} a[href="/vocab/role-terms/role/data-analyst"]').click()
    page.wait_for_url(f"{site}/vocab/role-terms/role/data-analyst")
    assert page.locator("h1").inner_text() == "data analyst"
    assert page.locator("table.mappings tbody tr").count() >= 3
    page.goto(f"{site}/doc/scheme/role-terms")
    page.locator(".vocabulary-links a").click()
    page.wait_for_url(f"{site}/vocab/role-terms")
