"""The application factory and /health, through Flask's test client."""

from __future__ import annotations

from rdflib import Literal
from rdflib import namespace as vocab

from conftest import make_dataset
from nhs_ai_workforce.core.terms import oxigraph_quads
from nhs_ai_workforce.store.builds import load_store, swap_in
from nhs_ai_workforce.web.app import create_app


def test_health_reports_the_live_build(settings, built_store):
    client = create_app({"SETTINGS": settings}).test_client()
    response = client.get("/health")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "build": built_store.name,
                                   "replay": {"recorded": 0, "replayed": 0}, "lane": {"answered": 0, "handed": 0},
                                   "queries": {"running": 0, "waiting": 0, "lent": 0, "loans": 0, "asked_back": 0,
                                               "in_memory": 0, "copying": 0}}
    assert "replay" not in create_app({"SETTINGS": settings.with_(replay_mb=0)}).test_client().get("/health").get_json()
    behind_proxy = create_app({"SETTINGS": settings.with_(trusted_proxy="127.0.0.1")}).test_client()
    assert "lane" not in behind_proxy.get("/health").get_json()  # the proxy's headers say who the client is


def test_health_is_503_without_a_store(settings):
    response = create_app({"SETTINGS": settings}).test_client().get("/health")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unavailable" and "aiwf build" in body["error"]


def test_app_follows_a_new_build_without_restarting(settings, ns, built_store):
    client = create_app({"SETTINGS": settings}).test_client()
    query = {"query": "SELECT ?l { ?s <http://www.w3.org/2000/01/rdf-schema#label> ?l }"}
    assert "rebuilt" not in client.get("/sparql", query_string=query).get_data(as_text=True)
    rows = [("background", ns.thing("x", "b"), vocab.RDFS.label, Literal("rebuilt"))]
    new_dir = load_store(oxigraph_quads(make_dataset(ns, rows)), settings)
    swap_in(new_dir, settings)
    assert "rebuilt" in client.get("/sparql", query_string=query).get_data(as_text=True)
    assert client.get("/health").get_json()["build"] == new_dir.name


def test_settings_come_from_the_environment(monkeypatch, settings, built_store):
    monkeypatch.setenv("AIWF_STORE", str(settings.store_path))
    assert create_app().test_client().get("/health").status_code == 200


def test_request_size_limit_comes_from_settings(settings, built_store):
    app = create_app({"SETTINGS": settings.with_(max_request_bytes=64)})
    response = app.test_client().post("/sparql", data={"query": "ASK { ?s ?p ?o }" + " " * 100})
    assert response.status_code == 413
