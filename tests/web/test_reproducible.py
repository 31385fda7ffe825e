"""Two builds of the same sources serve the same bytes and validators, so replicas are interchangeable.

In-process (Flask's test client over two stores built apart); ``tests/web/test_replicas.py`` runs
the same on real servers behind nginx.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import UTC, datetime
from urllib.parse import quote

import pytest

from conftest import make_dataset
from nhs_ai_workforce.core.namespaces import ProjectNamespaces
from nhs_ai_workforce.core.settings import Settings
from nhs_ai_workforce.core.terms import oxigraph_quads
from nhs_ai_workforce.sparql.execution import execute
from nhs_ai_workforce.store.builds import load_store, source_date, swap_in
from nhs_ai_workforce.store.live import CurrentStore, build_time
from nhs_ai_workforce.web.app import create_app

EPOCH = 1767225600  # SOURCE_DATE_EPOCH: 2026-01-01T00:00:00Z
NS = ProjectNamespaces()
SELECT = "SELECT ?s ?label { ?s rdfs:label ?label } ORDER BY ?s ?label"
CONSTRUCT = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"
#: (path, Accept, has validators): what a replica layout serves that depends on the build.
REQUESTS = [
    (f"/sparql?query={quote(SELECT)}", "application/sparql-results+json", True),
    (f"/sparql?query={quote(SELECT)}", "text/csv", True),
    (f"/sparql?query={quote(CONSTRUCT)}", "text/turtle", True),
    ("/sparql", "text/turtle", False),  # the service description
    ("/doc/initiative/topol-review", "text/html", True),
    ("/doc/initiative/topol-review", "text/turtle", True),
    ("/data/void", "text/turtle", True),
    ("/data/", "text/html", True),
    ("/data/nhs-ai-workforce.nq", "*/*", True),
    ("/sitemap.xml", "*/*", True),
    ("/", "text/html", False),
]


class InThread:
    """Runs each query in the request thread and says which build answered, as the query pool does."""

    def __init__(self, settings: Settings) -> None:
        self.store = CurrentStore(settings)

    def run(self, job):
        store, build = self.store.snapshot()
        return replace(execute(store, job), build=build)


def replica(root, epoch: int | None):
    """A store of the sample triples built under ``root`` (as ``aiwf build`` would, with
    ``SOURCE_DATE_EPOCH=epoch``), and a test client of an app serving it."""
    settings = Settings(root=root, source_date_epoch=epoch)
    swap_in(load_store(oxigraph_quads(make_dataset(NS)), settings, modified=source_date(settings)), settings)
    return create_app({"SETTINGS": settings, "EXECUTOR": InThread(settings)}).test_client()


@pytest.fixture
def replicas(tmp_path):
    return replica(tmp_path / "a", EPOCH), replica(tmp_path / "b", EPOCH)


@pytest.mark.parametrize(("path", "accept", "validated"), REQUESTS)
def test_builds_of_the_same_sources_answer_the_same_bytes_and_validators(replicas, path, accept, validated):
    a, b = (client.get(path, headers={"Accept": accept}) for client in replicas)
    assert a.status_code == b.status_code == 200
    assert a.data == b.data
    for header in ("ETag", "Last-Modified", "Content-Type"):
        assert a.headers.get(header) == b.headers.get(header), header
    assert ("ETag" in a.headers) == ("Last-Modified" in a.headers) == validated
    if validated:
        assert a.headers["ETag"] == f'"{hashlib.sha256(a.data).hexdigest()}"'
        assert a.last_modified == datetime.fromtimestamp(EPOCH, tz=UTC)
        again = replicas[1].get(path, headers={"Accept": accept, "If-None-Match": a.headers["ETag"]})
        assert again.status_code == 304  # a tag from one replica is good on the other


def test_the_dates_in_the_documents_are_source_date_epoch(replicas):
    void = replicas[0].get("/data/void", headers={"Accept": "text/turtle"}).data.decode()
    assert '"2026-01-01T00:00:00Z"^^xsd:dateTime' in void
    assert "<lastmod>2026-01-01T00:00:00Z</lastmod>" in replicas[0].get("/sitemap.xml").get_data(as_text=True)
    assert "the data as of 01 January 2026, 00:00 UTC" in replicas[0].get("/data/").get_data(as_text=True)


def test_only_health_names_the_replicas_own_build(replicas):
    a, b = (client.get("/health").get_json() for client in replicas)
    assert a["status"] == b["status"] == "ok" and a["build"] != b["build"]


def test_without_source_date_epoch_answers_keep_their_etags_and_only_the_dates_differ(tmp_path):
    a, b = replica(tmp_path / "a", None), replica(tmp_path / "b", None)
    path = f"/sparql?query={quote(SELECT)}"
    first, second = a.get(path), b.get(path)
    assert first.data == second.data and first.headers["ETag"] == second.headers["ETag"]
    for client, response in ((a, first), (b, second)):  # each build's own time
        made = build_time(client.get("/health").get_json()["build"])
        assert response.last_modified == made.replace(microsecond=0)
    assert b.get(path, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
