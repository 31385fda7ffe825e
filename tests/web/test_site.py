"""``/robots.txt`` and ``/sitemap.xml``: crawlers may read everything and find every ``/doc/`` page."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from urllib.parse import urlsplit

import pytest

from nhs_ai_workforce.core.namespaces import GRAPHS, ProjectNamespaces
from nhs_ai_workforce.core.settings import Settings
from nhs_ai_workforce.web.app import create_app

SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def sitemap_urls(body: bytes) -> list[str]:
    root = ET.fromstring(body)
    assert root.tag == f"{SITEMAP}urlset"
    return [url.findtext(f"{SITEMAP}loc") for url in root.findall(f"{SITEMAP}url")]


@pytest.fixture
def client(settings, built_store):
    return create_app({"SETTINGS": settings, "EXECUTOR": "in-process"}).test_client()


def test_robots_allows_everything_and_points_at_the_sitemap(client):
    response = client.get("/robots.txt", base_url="https://graph.example.net")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    lines = response.get_data(as_text=True).splitlines()
    assert "User-agent: *" in lines and "Allow: /" in lines
    assert "Disallow: /" not in lines
    assert "Sitemap: https://graph.example.net/sitemap.xml" in lines


def test_sitemap_lists_every_doc_page_under_the_requests_host(client, ns):
    response = client.get("/sitemap.xml", base_url="http://127.0.0.1:8123")
    assert response.status_code == 200
    assert response.mimetype == "application/xml"
    urls = sitemap_urls(response.data)
    assert all(url.startswith("http://127.0.0.1:8123/") for url in urls)
    paths = [urlsplit(url).path for url in urls]
    assert set(paths) >= {"/", "/doc/", "/doc/initiative/", "/doc/organisation/",
                          "/doc/initiative/topol-review", "/doc/initiative/ai-roadmap", "/doc/organisation/hee"}
    assert {f"/doc/graph/{name}" for name in GRAPHS} <= set(paths)
    assert len(paths) == len(set(paths))
    for path in paths:
        assert client.get(path, headers={"Accept": "text/html"}).status_code == 200, path
    elsewhere = sitemap_urls(client.get("/sitemap.xml", base_url="https://graph.example.net").data)
    assert [urlsplit(url).path for url in elsewhere] == paths
    assert all(url.startswith("https://graph.example.net/") for url in elsewhere)


def test_sitemap_has_the_build_time_and_answers_conditional_requests(client, built_store):
    response = client.get("/sitemap.xml")
    lastmod = ET.fromstring(response.data).find(f"{SITEMAP}url/{SITEMAP}lastmod").text
    assert lastmod.startswith(built_store.name[:4] + "-")  # the build id starts with its year
    assert response.headers["ETag"] and response.headers["Last-Modified"]
    again = client.get("/sitemap.xml", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_sitemap_without_a_store_is_503(settings):
    response = create_app({"SETTINGS": settings}).test_client().get("/sitemap.xml")
    assert response.status_code == 503


@pytest.mark.slow
def test_every_thing_of_the_real_graph_is_in_the_sitemap_and_its_page_answers(seeded_store):
    from nhs_ai_workforce.documents.catalogue import read_catalogue
    from nhs_ai_workforce.store.live import open_store

    settings = Settings(store_dir=seeded_store)
    client = create_app({"SETTINGS": settings, "EXECUTOR": "in-process"}).test_client()
    paths = [urlsplit(url).path for url in sitemap_urls(client.get("/sitemap.xml").data)]
    catalogue = read_catalogue(open_store(settings), ProjectNamespaces(settings.base))
    things = {f"/doc/{kind}/{key}" for kind, key in catalogue.things.values() if kind != "graph"}
    assert things <= set(paths)
    for path in sorted(things)[::7]:  # a spread of kinds; every page is the same code
        assert client.get(path, headers={"Accept": "text/html"}).status_code == 200, path
