"""The curators' update route: off by default, token-protected, validated, recorded, swapped in atomically."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nhs_ai_workforce.core.settings import Settings
from nhs_ai_workforce.pipeline.build import build
from nhs_ai_workforce.pipeline.changes import change_files
from nhs_ai_workforce.store.live import build_time, current_build_id, modified_time, open_store, stores_dir
from nhs_ai_workforce.web.app import create_app

PROJECT = Path(__file__).resolve().parents[2]

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


def project_copy(root: Path) -> Settings:
    """The project's own seeds, ontology and shapes copied under ``root`` and built there."""
    for name in ("seeds", "ontology", "shapes"):
        shutil.copytree(PROJECT / name, root / name, ignore=shutil.ignore_patterns("changes"))
    settings = Settings(root=root, update_token=TOKEN, query_timeout_s=10.0)
    build(settings, write_dumps=False)
    return settings


@pytest.fixture(scope="module")
def settings(tmp_path_factory) -> Settings:
    """A copy of the project built in a temporary directory: change files never reach the repo's seeds/."""
    return project_copy(tmp_path_factory.mktemp("update"))


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


def test_an_update_is_dated_when_it_is_made_whatever_source_date_epoch_says(settings):
    dated = settings.with_(source_date_epoch=946684800)  # 2000: the sources' date, not the update's
    client = create_app({"SETTINGS": dated, "EXECUTOR": "in-process"}).test_client()
    response = post_update(client, CHANGE_DESCRIPTION.replace(NEW_DESCRIPTION, "A 2019 review, dated by its update."))
    assert response.status_code == 200, response.data
    build_id = json.loads(response.data)["build"]
    assert modified_time(settings, build_id) == build_time(build_id)
    assert modified_time(settings, build_id).year > 2000


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


# -- durability: every accepted update is a change file that every build replays -------------------


def changes_of(settings) -> list[str]:
    return [path.name for path in change_files(settings)]


def count(settings) -> int:
    return len(open_store(settings))


def test_an_accepted_update_is_recorded_as_a_change_file(client, settings):
    before = changes_of(settings)
    response = client.post(
        "/update?author=A.%20Curator", headers=AUTH,
        data={"update": CHANGE_DESCRIPTION, "comment": "Shorter description,\nfrom the review's foreword"},
    )
    assert response.status_code == 200, response.data
    body = json.loads(response.data)
    after = changes_of(settings)
    assert len(after) == len(before) + 1
    new = after[-1]
    assert body["change"] == f"seeds/changes/{new}"
    assert new.startswith(f"{len(after):04d}-") and new.endswith("Z.ru")
    text = (settings.root / body["change"]).read_text(encoding="utf-8")
    header, _, update = text.partition("\n\n")
    assert "POST /update" in header
    assert "# who: A. Curator" in header
    assert "# why: Shorter description, from the review's foreword" in header
    assert f"# build: {body['build']}" in header
    assert f"# base: {BASE}" in header
    assert "# when: 20" in header
    assert update.strip() == CHANGE_DESCRIPTION.strip()
    assert not list((settings.root / "seeds" / "changes").glob(".*"))  # no temporary file left


def test_an_insert_survives_the_next_aiwf_build(tmp_path):
    settings = project_copy(tmp_path)
    app = create_app({"SETTINGS": settings, "EXECUTOR": "in-process"})
    response = post_update(app.test_client(), CHANGE_DESCRIPTION)
    assert response.status_code == 200, response.data
    env = {**os.environ, "AIWF_ROOT": str(tmp_path)}
    env.pop("AIWF_STORE", None)
    done = subprocess.run([sys.executable, "-m", "nhs_ai_workforce.cli", "build"], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    rebuilt = create_app({"SETTINGS": settings, "EXECUTOR": "in-process"}).test_client()
    assert current_build_id(settings) != json.loads(response.data)["build"]
    assert ask(rebuilt, f'ASK {{ GRAPH {BACKGROUND} {{ {TOPOL} ?p "{NEW_DESCRIPTION}"@en }} }}')
    assert NEW_DESCRIPTION in (tmp_path / "data" / "nhs-ai-workforce.nq").read_text(encoding="utf-8")


@pytest.mark.parametrize("update", [
    "DROP ALL", "CLEAR DEFAULT", f"DROP SILENT GRAPH {BACKGROUND}", f"clear graph {BACKGROUND}",
    f"MOVE {BACKGROUND} TO <{BASE}/id/graph/links>",
])
def test_dropping_whole_graphs_needs_confirmation(client, settings, update):
    before, changes, triples = current_build_id(settings), changes_of(settings), count(settings)
    response = post_update(client, update)
    assert response.status_code == 409, response.data
    body = json.loads(response.data)
    assert body["title"] == "Confirmation needed"
    assert "confirm=yes" in body["error"] and "nothing was changed" in body["error"]
    assert (current_build_id(settings), changes_of(settings), count(settings)) == (before, changes, triples)


def test_removing_much_of_the_graph_needs_confirmation(client, settings):
    before, changes, triples = current_build_id(settings), changes_of(settings), count(settings)
    response = post_update(client, f"DELETE WHERE {{ GRAPH {BACKGROUND} {{ ?s ?p ?o }} }}")
    assert response.status_code == 409, response.data
    error = json.loads(response.data)["error"]
    assert "AIWF_UPDATE_MAX_REMOVED_SHARE" in error and "confirm=yes" in error
    assert (current_build_id(settings), changes_of(settings), count(settings)) == (before, changes, triples)


def test_a_bad_confirm_value_is_refused(client, settings):
    changes = changes_of(settings)
    response = client.post("/update?confirm=maybe", data="DROP ALL", content_type="application/sparql-update",
                           headers=AUTH)
    assert response.status_code == 400
    assert "confirm" in json.loads(response.data)["error"]
    assert changes_of(settings) == changes


def test_a_confirmed_drop_all_is_accepted_recorded_and_replayed(tmp_path):
    settings = project_copy(tmp_path)
    client = create_app({"SETTINGS": settings, "EXECUTOR": "in-process"}).test_client()
    assert count(settings) > 1000
    response = client.post("/update?confirm=yes&comment=start%20again", data="DROP ALL",
                           content_type="application/sparql-update", headers=AUTH)
    assert response.status_code == 200, response.data
    body = json.loads(response.data)
    assert body["removed"] > 1000
    recorded = (settings.root / body["change"]).read_text(encoding="utf-8")
    assert recorded.rstrip().endswith("DROP ALL") and "# why: start again" in recorded
    assert count(settings) == 0
    result = build(settings, write_dumps=False)  # a build from the seeds replays the drop
    assert result.total_quads == 0
    assert count(settings) == 0


def test_the_update_process_has_a_memory_cap(client, settings, app):
    before, changes = current_build_id(settings), changes_of(settings)
    state = app.extensions["aiwf"]
    app.extensions["aiwf"] = state.__class__(settings.with_(update_memory_mb=64), state.store, state.executor)
    try:
        response = post_update(client, CHANGE_DESCRIPTION)
    finally:
        app.extensions["aiwf"] = state
    assert response.status_code == 400, response.data
    assert "AIWF_UPDATE_MEMORY_MB" in json.loads(response.data)["error"]
    assert (current_build_id(settings), changes_of(settings)) == (before, changes)


def test_the_update_time_limit_defaults_to_the_query_time_limit():
    assert Settings(query_timeout_s=7.0).update_time_limit_s == 7.0
    assert Settings.from_env({"AIWF_QUERY_TIMEOUT": "12"}).update_time_limit_s == 12.0
    assert Settings.from_env({"AIWF_QUERY_TIMEOUT": "12", "AIWF_UPDATE_TIMEOUT": "30"}).update_time_limit_s == 30.0
    limits = Settings.from_env({"AIWF_UPDATE_MEMORY_MB": "512", "AIWF_UPDATE_MAX_REMOVED_SHARE": "0.5"})
    assert (limits.update_memory_mb, limits.update_max_removed_share) == (512, 0.5)
