"""One error shape for every error: the same JSON keys for API clients, one HTML template for browsers."""

from __future__ import annotations

import pytest

from conftest import make_dataset, make_live
from nhs_ai_workforce.core.errors import ServiceError
from nhs_ai_workforce.core.namespaces import ProjectNamespaces
from nhs_ai_workforce.core.settings import Settings
from nhs_ai_workforce.web.app import create_app

KEYS = {"ok", "status", "title", "error", "line", "column"}
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    settings = Settings(root=tmp_path_factory.mktemp("errors"), max_request_bytes=1024)
    make_live(settings, make_dataset(ProjectNamespaces()))
    app = create_app({"SETTINGS": settings})

    @app.route("/test-crash")
    def crash():
        raise RuntimeError("secret detail")

    @app.route("/test-refusal")
    def refusal():
        raise ServiceError(418, "Teapot", "a <b>bold</b> refusal", 4, 2)

    return app


@pytest.fixture
def client(app):
    return app.test_client()


# (method, path, keyword arguments, expected status)
ERRORS = [
    ("GET", "/sparql", {"query_string": {"query": "SELECT * {"}}, 400),
    ("GET", "/sparql", {"query_string": {"query": "SELEC"}}, 400),
    ("GET", "/sparql", {"query_string": {"x": "1"}}, 400),
    ("POST", "/sparql", {"data": {"update": "CLEAR ALL"}}, 403),
    ("GET", "/no-such-page", {}, 404),
    ("DELETE", "/sparql", {}, 405),
    ("GET", "/sparql", {"query_string": {"query": "ASK {}", "format": "png"}}, 406),
    ("POST", "/sparql", {"data": {"query": "ASK {" + " " * 2000 + "}"}}, 413),
    ("POST", "/sparql", {"data": "ASK {}", "content_type": "text/plain"}, 415),
    ("GET", "/test-refusal", {}, 418),
    ("GET", "/test-crash", {}, 500),
]


@pytest.mark.parametrize(("method", "path", "kwargs", "status"), ERRORS)
def test_every_json_error_has_the_same_shape(client, method, path, kwargs, status):
    response = client.open(path, method=method, **kwargs)
    assert response.status_code == status
    assert response.mimetype == "application/json"
    assert "Accept" in response.headers["Vary"]
    body = response.get_json()
    assert set(body) == KEYS
    assert body["ok"] is False and body["status"] == status
    assert body["title"] and body["error"]
    assert isinstance(body["title"], str) and isinstance(body["error"], str)


@pytest.mark.parametrize(("method", "path", "kwargs", "status"), ERRORS)
def test_browsers_get_the_html_template(client, method, path, kwargs, status):
    response = client.open(path, method=method, headers={"Accept": BROWSER}, **kwargs)
    assert response.status_code == status
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert page.startswith("<!doctype html>")
    assert f'<span class="status">{status}</span>' in page
    assert 'class="message"' in page


@pytest.mark.parametrize(
    ("accept", "mimetype"),
    [
        (None, "application/json"),
        ("*/*", "application/json"),
        ("application/json", "application/json"),
        ("application/sparql-results+json", "application/json"),
        ("application/json, text/html", "application/json"),
        ("text/html", "text/html"),
        ("text/html, */*;q=0.8", "text/html"),
        (BROWSER, "text/html"),
    ],
)
def test_html_only_when_preferred_to_json(client, accept, mimetype):
    headers = {"Accept": accept} if accept else {}
    response = client.get("/sparql", query_string={"query": "SELEC"}, headers=headers)
    assert response.mimetype == mimetype


def test_syntax_errors_have_a_position_in_both_shapes(client):
    query = {"query": "PREFIX ex: <http://example.org/>\nSELECT * WHERE { ?s ?p }"}
    body = client.get("/sparql", query_string=query).get_json()
    assert body["title"] == "Malformed query" and body["line"] == 2 and body["column"] > 1
    page = client.get("/sparql", query_string=query, headers={"Accept": BROWSER}).get_data(as_text=True)
    assert f"line <strong>{body['line']}</strong>" in page


def test_errors_without_a_position_say_null(client):
    body = client.get("/no-such-page").get_json()
    assert body["line"] is None and body["column"] is None
    assert body["title"] == "Not found" and "/no-such-page" in body["error"]


def test_messages_are_escaped_in_html(client):
    json_body = client.get("/test-refusal").get_json()
    assert json_body == {"ok": False, "status": 418, "title": "Teapot", "error": "a <b>bold</b> refusal",
                         "line": 4, "column": 2}
    page = client.get("/test-refusal", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "<b>bold</b>" not in page and "&lt;b&gt;bold&lt;/b&gt;" in page


def test_405_keeps_allow(client):
    response = client.put("/sparql")
    assert {m.strip() for m in response.headers["Allow"].split(",")} >= {"GET", "POST"}
    assert response.get_json()["title"] == "Method not allowed"


def test_413_names_the_limit(client):
    response = client.post("/sparql", data={"query": "ASK {" + " " * 2000 + "}"})
    assert "1024 bytes" in response.get_json()["error"]


def test_500_hides_the_details(client):
    body = client.get("/test-crash").get_json()
    assert body["status"] == 500 and "secret" not in body["error"]


def test_503_without_a_store(tmp_path):
    client = create_app({"SETTINGS": Settings(root=tmp_path)}).test_client()
    response = client.get("/sparql", query_string={"query": "ASK {}"})
    assert response.status_code == 503
    body = response.get_json()
    assert set(body) == KEYS and body["title"] == "Store unavailable"


@pytest.mark.parametrize("executor", ["pool", "in-process"])
def test_every_503_says_when_to_retry(tmp_path, executor):
    client = create_app(
        {"SETTINGS": Settings(root=tmp_path, update_token="t"), "EXECUTOR": executor}
    ).test_client()
    responses = {
        "query": client.get("/sparql", query_string={"query": "ASK {}"}),
        "health": client.get("/health"),
        "update": client.post("/update", data="INSERT DATA { <a:b> <a:c> <a:d> }",
                              content_type="application/sparql-update", headers={"Authorization": "Bearer t"}),
    }
    for name, response in responses.items():
        assert (name, response.status_code, response.headers.get("Retry-After")) == (name, 503, "30")
    assert set(responses["health"].get_json()) == {"status", "error"}
    assert responses["update"].get_json()["title"] == "Store unavailable"
