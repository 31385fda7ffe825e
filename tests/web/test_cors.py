"""CORS on every route: the allow-origin header on every response and 204 preflights."""

from __future__ import annotations

import pytest

from conftest import make_dataset, make_live
from nhs_ai_workforce.core.namespaces import ProjectNamespaces
from nhs_ai_workforce.core.settings import Settings
from nhs_ai_workforce.web.app import create_app
from nhs_ai_workforce.web.cors import MAX_AGE


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    settings = Settings(root=tmp_path_factory.mktemp("cors"))
    make_live(settings, make_dataset(ProjectNamespaces()))
    return create_app({"SETTINGS": settings})


@pytest.fixture
def client(app):
    return app.test_client()


def every_route(app) -> list[tuple[str, set[str]]]:
    """A concrete URL for each route of the app (arguments filled with a dummy) and its methods."""
    routes = []
    for rule in app.url_map.iter_rules():
        url = rule.rule
        for argument in rule.arguments:
            url = url.replace(f"<{argument}>", "x")
            for converter in ("path", "string", "int"):
                url = url.replace(f"<{converter}:{argument}>", "1" if converter == "int" else "x")
        routes.append((url, set(rule.methods or ())))
    return routes


def test_the_app_has_routes_to_check(app):
    urls = [url for url, _ in every_route(app)]
    assert "/sparql" in urls and "/health" in urls


def test_preflight_on_every_route(app, client):
    for url, methods in every_route(app):
        response = client.options(url, headers={
            "Origin": "https://elsewhere.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type, x-custom",
        })
        assert response.status_code == 204, url
        assert response.data == b""
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        allowed = {m.strip() for m in response.headers["Access-Control-Allow-Methods"].split(",")}
        assert allowed == methods, url
        assert {m.strip() for m in response.headers["Allow"].split(",")} == methods
        assert response.headers["Access-Control-Allow-Headers"] == "content-type, x-custom"
        assert response.headers["Access-Control-Max-Age"] == str(MAX_AGE)


def test_preflight_without_requested_headers_lists_the_usual_ones(client):
    response = client.options("/sparql", headers={"Origin": "https://elsewhere.example"})
    assert response.status_code == 204
    allowed = {h.strip().lower() for h in response.headers["Access-Control-Allow-Headers"].split(",")}
    assert {"accept", "content-type"} <= allowed
    assert {"GET", "POST", "HEAD", "OPTIONS"} <= {m.strip() for m in response.headers["Allow"].split(",")}


@pytest.mark.parametrize(
    ("method", "url", "kwargs", "status"),
    [
        ("GET", "/sparql", {"query_string": {"query": "ASK {}"}}, 200),
        ("POST", "/sparql", {"data": {"query": "ASK {}"}}, 200),
        ("POST", "/sparql", {"data": "ASK {}", "content_type": "application/sparql-query"}, 200),
        ("GET", "/sparql", {}, 200),
        ("HEAD", "/sparql", {}, 200),
        ("GET", "/health", {}, 200),
        ("GET", "/sparql", {"query_string": {"query": "SELEC"}}, 400),
        ("PUT", "/sparql", {}, 405),
        ("GET", "/missing", {}, 404),
        ("OPTIONS", "/missing", {}, 404),
    ],
)
def test_every_response_allows_any_origin(client, method, url, kwargs, status):
    response = client.open(url, method=method, headers={"Origin": "https://elsewhere.example"}, **kwargs)
    assert response.status_code == status
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    exposed = {h.strip() for h in response.headers["Access-Control-Expose-Headers"].split(",")}
    assert {"Content-Type", "Vary", "Allow"} <= exposed
    assert "Access-Control-Allow-Credentials" not in response.headers
