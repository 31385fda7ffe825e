"""The curators' update route: off by default, token-protected, validated, swapped in atomically."""

from __future__ import annotations

import json
import socket
import time

import pytest

from nhs_ai_workforce.core.settings import Settings
from nhs_ai_workforce.pipeline.build import build
from nhs_ai_workforce.store.live import current_build_id, stores_dir
from nhs_ai_workforce.web.app import create_app

TOKEN = "curator-token-0123456789"
BASE = "https://nhs-ai-workforce.example.org"
TOPOL = f"<{BASE}/id/initiative/topol-review>"
BACKGROUND = f"<{BASE}/id/graph/background>"
INFERRED = f"<{BASE}/id/graph/inferred>"
PREFIXES = "PREFIX dcterms: <http://purl.org/dc/terms/>\n"
NEW_DESCRIPTION = "A review, published in 2019, of how to ready the NHS workforce for digital healthcare."
CHANGE_DESCRIPTION = (
    PREFIXES
    + f"WITH {BACKGROUND} DELETE {{ {TOPOL} dcterms:description ?d }} "
    + f'INSERT {{ {TOPOL} dcterms:description "{NEW_DESCRIPTION}"@en }} '
    + f"WHERE {{ {TOPOL} dcterms:description ?d }}"
)
SECOND_TITLE = PREFIXES + f'INSERT DATA {{ GRAPH {BACKGROUND} {{ {TOPOL} dcterms:title "Another title"@en }} }}'
AUTH = {"Authorization": f"Bearer {TOKEN}"}
JSON = {"Accept": "application/sparql-results+json"}


@pytest.fixture(scope="module")
def settings(tmp_path_factory) -> Settings:
    """The project's own seeds and shapes, built into a store in a temporary directory."""
    store = tmp_path_factory.mktemp("update") / "var" / "store"
    settings = Settings(store_dir=store, update_token=TOKEN, query_timeout_s=5.0)
    build(settings, write_dumps=False)
    return settings


@pytest.fixture(scope="module")
def app(settings):
    app = create_app({"SETTINGS": settings, "EXECUTOR": "in-process"})
    return app


@pytest.fixture
def client(app):
    return app.test_client()


def post_update(client, text, headers=AUTH, **kwargs):
    return client.post("/update", data=text, content_type="application/sparql-update", headers=headers, **kwargs)


def ask(client, query: str) -> bool:
    response = client.get("/sparql", query_string={"query": query}, headers=JSON)
    assert response.status_code == 200, response.data
    return json.loads(response.data)["boolean"]


def test_updates_are_off_unless_a_token_is_set(tmp_path, settings):
    app = create_app({"SETTINGS": settings.with_(update_token=None), "EXECUTOR": "in-process"})
    response = post_update(app.test_client(), CHANGE_DESCRIPTION)
    assert response.status_code == 403
    assert "AIWF_UPDATE_TOKEN" in json.loads(response.data)["error"]


def test_the_token_comes_from_the_environment():
    assert Settings.from_env({"AIWF_UPDATE_TOKEN": "abc"}).update_token == "abc"
    assert Settings.from_env({"AIWF_UPDATE_TOKEN": ""}).update_token is None
    assert "abc" not in repr(Settings(update_token="abc"))


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}, {"Authorization": f"Basic {TOKEN}"}],
    ids=["none", "wrong", "no-scheme", "basic"],
)
def test_updates_need_the_bearer_token(client, settings, headers):
    build_id = current_build_id(settings)
    response = post_update(client, CHANGE_DESCRIPTION, headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert current_build_id(settings) == build_id


def test_a_valid_update_is_validated_and_swapped_in(client, settings):
    before = current_build_id(settings)
    assert not ask(client, f'ASK {{ {TOPOL} ?p "{NEW_DESCRIPTION}"@en }}')
    response = post_update(client, CHANGE_DESCRIPTION)
    assert response.status_code == 200, response.data
    body = json.loads(response.data)
    assert body["ok"] is True
    assert body["build"] == current_build_id(settings) != before
    assert body["triples"] > 1000
    assert ask(client, f'ASK {{ GRAPH {BACKGROUND} {{ {TOPOL} ?p "{NEW_DESCRIPTION}"@en }} }}')
    # the inferred graph was recomputed, not lost
    assert ask(client, f"ASK {{ GRAPH {INFERRED} {{ {TOPOL} a ?class }} }}")


def test_an_update_as_a_form_parameter(client, settings):
    before = current_build_id(settings)
    response = client.post("/update", data={"update": CHANGE_DESCRIPTION}, headers=AUTH)
    assert response.status_code == 200, response.data
    assert current_build_id(settings) != before


def test_an_update_that_breaks_the_shapes_is_rejected_with_the_violations(client, settings):
    before = current_build_id(settings)
    stores = sorted(p.name for p in stores_dir(settings).iterdir())
    response = post_update(client, SECOND_TITLE)
    assert response.status_code == 422
    body = json.loads(response.data)
    assert body["title"] == "Update rejected"
    assert body["violations"]
    assert any("title" in violation for violation in body["violations"])
    assert "nothing was changed" in body["error"]
    assert current_build_id(settings) == before
    assert sorted(p.name for p in stores_dir(settings).iterdir()) == stores
    assert not ask(client, f'ASK {{ {TOPOL} ?p "Another title"@en }}')


@pytest.mark.parametrize(
    ("update", "fragment"),
    [
        ('INSERT DATA { <http://example.org/a> <http://example.org/b> "c" }', "the default graph"),
        (
            'INSERT DATA { GRAPH <http://example.org/mine> { <http://example.org/a> <http://example.org/b> "c" } }',
            "<http://example.org/mine>",
        ),
    ],
)
def test_updates_may_only_write_the_stores_graphs(client, update, fragment):
    response = post_update(client, update)
    assert response.status_code == 422
    assert fragment in json.loads(response.data)["error"]


@pytest.mark.parametrize(
    ("update", "status", "fragment"),
    [
        ("INSERT DATA { GRAPH <g> { ?x } }", 400, "Malformed update"),
        ("DELETE { ?s ?p ?o } USING <http://127.0.0.1:9/g> WHERE { ?s ?p ?o }", 400, "USING"),
        (f"INSERT {{ GRAPH {BACKGROUND} {{ ?s ?p ?o }} }} WHERE {{ SERVICE <http://127.0.0.1:9/> {{ ?s ?p ?o }} }}",
         400, "SERVICE"),
        ("INSERT DATA { GRAPH <g> { " + "[ <p> " * 500 + "1" + " ]" * 500 + " } }", 400, "nests"),
    ],
)
def test_refused_updates(client, settings, update, status, fragment):
    before = current_build_id(settings)
    response = post_update(client, update)
    assert response.status_code == status
    assert fragment in response.data.decode()
    assert current_build_id(settings) == before


def test_load_on_the_update_route_never_connects(client, settings):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    listener.setblocking(False)
    try:
        port = listener.getsockname()[1]
        response = post_update(client, f"LOAD <http://127.0.0.1:{port}/data.ttl> INTO GRAPH {BACKGROUND}")
        assert response.status_code == 400
        assert "LOAD is not allowed" in json.loads(response.data)["error"]
        time.sleep(0.1)
        with pytest.raises(BlockingIOError):
            listener.accept()
    finally:
        listener.close()


def test_bad_requests(client):
    assert client.get("/update", headers=AUTH).status_code == 405
    assert client.post("/update", data="x", content_type="text/plain", headers=AUTH).status_code == 415
    assert client.post("/update", data={"query": "ASK {}"}, headers=AUTH).status_code == 400
    response = client.post("/update?using-graph-uri=http://x/", data="CLEAR ALL",
                           content_type="application/sparql-update", headers=AUTH)
    assert response.status_code == 400


def test_a_slow_update_is_stopped_and_changes_nothing(client, settings, app):
    before = current_build_id(settings)
    stores = sorted(p.name for p in stores_dir(settings).iterdir())
    app.extensions["aiwf"] = app.extensions["aiwf"].__class__(
        settings.with_(update_timeout_s=0.01), app.extensions["aiwf"].store, app.extensions["aiwf"].executor
    )
    try:
        response = post_update(client, CHANGE_DESCRIPTION)
    finally:
        app.extensions["aiwf"] = app.extensions["aiwf"].__class__(
            settings, app.extensions["aiwf"].store, app.extensions["aiwf"].executor
        )
    assert response.status_code == 504
    assert "nothing changed" in json.loads(response.data)["error"]
    assert current_build_id(settings) == before
    assert sorted(p.name for p in stores_dir(settings).iterdir()) == stores
