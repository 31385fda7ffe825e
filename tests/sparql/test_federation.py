"""Federated queries (``SERVICE``) through real ``aiwf serve`` processes, and the rules behind them.

Default: ``SERVICE`` is refused, naming the endpoint and how to allow it, and nothing connects out.
Allowed: a second local endpoint (``oxigraph serve``) holds a small graph shaped like ONS's
statistical geographies (``tests/fixtures/ons-geography.ttl``), and the example query in
``queries/federation/`` joins the real graph's organisations with it. Beside it, endpoints that
misbehave: one that redirects to a listener (which must see no connection), one that never
answers, one whose answer is too large.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from nhs_ai_workforce.core.settings import DEFAULT_BASE, Settings
from nhs_ai_workforce.sparql.federation import ServicePolicy, normalise, rewrite, service_clauses
from nhs_ai_workforce.sparql.guard import QueryRefused, check_query
from remote_servers import Answer, fake_remote, oxigraph_command, running_oxigraph, silent_listener
from servers import ROOT, running_server

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "ons-geography.ttl"
EXAMPLE = ROOT / "queries" / "federation" / "01-organisations-with-their-geography.rq"
ONS = "https://statistics.data.gov.uk/sparql"
ENGLAND = "http://statistics.data.gov.uk/id/statistical-geography/E92000001"
JSON = "application/sparql-results+json"
SERVICE_TIMEOUT_S, QUERY_TIMEOUT_S, MAX_BYTES = 1.5, 30, 20_000


def server_test(test):
    """Marks a test that talks HTTP to real server processes (and builds the real graph)."""
    return pytest.mark.server(pytest.mark.slow(test))


def ask(origin: str, query: str) -> tuple[int, dict, dict]:
    """(status, headers, JSON body) of a GET query; errors are answers too."""
    url = f"{origin}/sparql?" + urllib.parse.urlencode({"query": query})
    request = urllib.request.Request(url, headers={"Accept": JSON})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as error:
        with error:
            return error.code, dict(error.headers), json.loads(error.read())


def rows(body: dict) -> list[dict[str, str]]:
    return [{name: term["value"] for name, term in row.items()} for row in body["results"]["bindings"]]


# -- the rules, without a server --------------------------------------------------------------


def test_endpoints_are_compared_normalised_and_exactly():
    policy = ServicePolicy(("HTTPS://Query.Wikidata.org:443/sparql", "http://127.0.0.1:7878/query"))
    assert policy.endpoints == ("https://query.wikidata.org/sparql", "http://127.0.0.1:7878/query")
    assert policy.allows("https://query.wikidata.org/sparql")
    for other in ("http://query.wikidata.org/sparql", "https://query.wikidata.org/sparql/",
                  "https://query.wikidata.org/SPARQL", "https://query.wikidata.org/sparql?x=1",
                  "http://127.0.0.1:7879/query", "https://evil.example/sparql"):
        assert not policy.allows(other), other
    assert normalise("http://[::1]:80/q") == "http://[::1]/q"


@pytest.mark.parametrize("entry", ["query.wikidata.org/sparql", "ftp://x.org/sparql", "http://ann:pw@x.org/q", ""])
def test_a_bad_allow_list_entry_stops_the_start(entry):
    with pytest.raises(ValueError, match="AIWF_SERVICE_ALLOW"):
        ServicePolicy.from_settings(Settings(service_allow=(entry,)))


def test_the_allow_list_and_limits_come_from_the_environment():
    settings = Settings.from_env({"AIWF_SERVICE_ALLOW": " https://a.org/sparql,https://b.org/q  https://c.org/s ",
                                  "AIWF_SERVICE_TIMEOUT": "2.5", "AIWF_SERVICE_MAX_BYTES": "1000"})
    assert settings.service_allow == ("https://a.org/sparql", "https://b.org/q", "https://c.org/s")
    assert (settings.service_timeout_s, settings.service_max_bytes) == (2.5, 1000)
    assert Settings.from_env({}).service_allow == ()
    # each call's limit fits inside the query's
    assert ServicePolicy.from_settings(Settings(service_timeout_s=60, query_timeout_s=4)).timeout_s == 4


def test_clauses_read_through_comments_prefixes_and_base():
    text = ("BASE <https://query.wikidata.org/>\nPREFIX w: <https://query.wikidata.org/>\n"
            "SELECT * { SERVICE # a comment\n SILENT\n<sparql> {} service w:sparql {} SERVICE $e {} }")
    clauses = list(service_clauses(text).values())
    assert [(c.silent, c.iri, c.variable) for c in clauses] == [
        (True, "https://query.wikidata.org/sparql", False),
        (False, "https://query.wikidata.org/sparql", False),
        (False, None, True),
    ]
    routed = rewrite(text, clauses[:2], lambda iri: "http://127.0.0.1:1/service/t")
    assert routed.count("<http://127.0.0.1:1/service/t>") == 2 and "w:sparql" not in routed


def test_the_guard_allows_only_listed_endpoints_and_marks_the_answer_volatile():
    policy = ServicePolicy(("https://query.wikidata.org/sparql",))
    listed = "SELECT * { SERVICE <https://query.wikidata.org/sparql> { ?s ?p ?o } }"
    assert check_query(listed, max_bytes=10_000, services=policy).volatile
    refusals = {
        "SELECT * { SERVICE <https://evil.example/sparql> { ?s ?p ?o } }": "<https://evil.example/sparql> is not",
        "SELECT * { SERVICE SILENT <https://evil.example/sparql> { ?s ?p ?o } }": "SILENT does not change this",
        "SELECT * { SERVICE ?endpoint { ?s ?p ?o } }": "with a variable (?endpoint)",
        "SELECT * { SERVICE undeclared:x { ?s ?p ?o } }": "undeclared:x is not an absolute",
        "SELECT * { SERVICE <sparql> { ?s ?p ?o } }": "<sparql> is not an absolute",
    }
    for query, reason in refusals.items():
        with pytest.raises(QueryRefused, match="AIWF_SERVICE_ALLOW") as caught:
            check_query(query, max_bytes=10_000, services=policy)
        assert reason in caught.value.message and caught.value.status == 400
    # an update never calls out, listed or not; nor does a query outside a request of a federating server
    update = "INSERT { <a:s> <a:p> ?o } WHERE { SERVICE <https://query.wikidata.org/sparql> { ?s ?p ?o } }"
    with pytest.raises(QueryRefused, match="SERVICE is not allowed in an update"):
        check_query(update, max_bytes=10_000, update=True, services=policy)
    with pytest.raises(QueryRefused, match="none are listed"):
        check_query(listed, max_bytes=10_000)


# -- real servers ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def geography(tmp_path_factory) -> str:
    """``oxigraph serve`` over the ONS-shaped fixture; its query endpoint."""
    location = tmp_path_factory.mktemp("ons-geography")
    subprocess.run([oxigraph_command(), "load", "--location", str(location), "--file", str(FIXTURE)],
                   check=True, capture_output=True, timeout=60)
    with running_oxigraph(location) as origin:
        yield f"{origin}/query"


def _large(_request, _before) -> Answer:
    bindings = [{"n": {"type": "literal", "value": str(n)}} for n in range(2000)]
    body = json.dumps({"head": {"vars": ["n"]}, "results": {"bindings": bindings}}).encode()
    return Answer(200, body, {"Content-Type": JSON})


@pytest.fixture(scope="module")
def misbehaving():
    """A trap that must see no connection, an endpoint redirecting to it, one that never answers
    and one whose answer is over the size limit."""
    with silent_listener() as trap, silent_listener() as mute, fake_remote(_large) as large:
        redirect = lambda request, before: Answer(302, b"", {"Location": f"{trap.origin}/sparql"})  # noqa: E731
        with fake_remote(redirect) as moved:
            yield {"trap": trap, "moved": moved.url("/sparql"), "mute": f"{mute.origin}/sparql",
                   "large": large.url("/sparql"), "moved_seen": moved.seen}


@pytest.fixture(scope="module")
def federating(seeded_store, geography, misbehaving):
    """``aiwf serve`` over the real graph, allowing the endpoints above; its origin."""
    allowed = " ".join([geography, misbehaving["moved"], misbehaving["mute"] + ",", misbehaving["large"]])
    env = {"AIWF_SERVICE_ALLOW": allowed, "AIWF_SERVICE_TIMEOUT": str(SERVICE_TIMEOUT_S),
           "AIWF_SERVICE_MAX_BYTES": str(MAX_BYTES), "AIWF_QUERY_TIMEOUT": str(QUERY_TIMEOUT_S), "AIWF_WORKERS": "1"}
    with running_server(seeded_store, env=env) as origin:
        yield origin


@server_test
def test_by_default_service_is_refused_and_nothing_connects(seeded_server):
    with silent_listener() as listener:
        for query in (f"SELECT * {{ SERVICE <{listener.origin}/sparql> {{ ?s ?p ?o }} }}",
                      f"SELECT * {{ SERVICE SILENT <{listener.origin}/sparql> {{ ?s ?p ?o }} }}"):
            status, _, body = ask(seeded_server, query)
            assert status == 400 and body["ok"] is False and body["title"] == "Query refused"
            assert f"<{listener.origin}/sparql> is not an endpoint this server may call" in body["error"]
            assert "AIWF_SERVICE_ALLOW" in body["error"] and "none are listed" in body["error"]
        time.sleep(0.2)
        assert listener.accepted == []


@server_test
def test_the_cli_never_calls_an_endpoint(seeded_store):
    with silent_listener() as listener:
        query = f"SELECT * {{ SERVICE <{listener.origin}/sparql> {{ ?s ?p ?o }} }}"
        command = [sys.executable, "-m", "nhs_ai_workforce.cli", "query", query, "--store", str(seeded_store)]
        ran = subprocess.run(command, env={**os.environ, "AIWF_SERVICE_ALLOW": f"{listener.origin}/sparql"},
                             capture_output=True, timeout=120)
        time.sleep(0.2)
        assert listener.accepted == []
    assert ran.returncode == 2 and b"never calls other endpoints" in ran.stderr


@server_test
def test_the_example_joins_organisations_with_the_geography_graph(federating, geography):
    text = EXAMPLE.read_text(encoding="utf-8")
    assert f"SERVICE <{ONS}>" in text  # the example names the real endpoint; the test points it at ours
    status, headers, body = ask(federating, text.replace(ONS, geography))
    assert status == 200, body
    assert rows(body) == [{
        "organisation": f"{DEFAULT_BASE}/id/organisation/health-education-england",
        "name": "Health Education England", "area": ENGLAND, "areaName": "England", "gssCode": "E92000001",
    }]
    assert headers["Cache-Status"].endswith("detail=volatile")  # an answer from another server is never kept


@server_test
def test_unlisted_variable_and_silent_endpoints_are_refused(federating, geography):
    with silent_listener() as listener:
        refusals = {
            "SELECT * { SERVICE ?endpoint { ?s ?p ?o } }": "with a variable (?endpoint)",
            f"SELECT * {{ SERVICE SILENT <{listener.origin}/sparql> {{ ?s ?p ?o }} }}": "SILENT does not change",
            f"SELECT * {{ SERVICE <{geography}/other> {{ ?s ?p ?o }} }}": f"<{geography}/other> is not",
        }
        for query, reason in refusals.items():
            status, _, body = ask(federating, query)
            assert status == 400 and reason in body["error"] and f"<{geography}>" in body["error"], body
        time.sleep(0.2)
        assert listener.accepted == []


@server_test
def test_a_redirect_is_refused_and_never_followed(federating, misbehaving):
    status, _, body = ask(federating, f"SELECT * {{ SERVICE <{misbehaving['moved']}> {{ ?s ?p ?o }} }}")
    assert status == 502 and body["title"] == "Remote endpoint redirected"
    assert "HTTP 302" in body["error"] and f"<{misbehaving['trap'].origin}/sparql>" in body["error"]
    assert len(misbehaving["moved_seen"]) >= 1  # the listed endpoint was called...
    time.sleep(0.2)
    assert misbehaving["trap"].accepted == []  # ...and where it pointed, never


@server_test
def test_a_silent_endpoint_fails_within_the_call_limit_not_the_query_limit(federating, misbehaving):
    started = time.monotonic()
    status, _, body = ask(federating, f"SELECT * {{ SERVICE <{misbehaving['mute']}> {{ ?s ?p ?o }} }}")
    took = time.monotonic() - started
    assert status == 504 and body["title"] == "Remote endpoint timed out", body
    assert "AIWF_SERVICE_TIMEOUT" in body["error"]
    assert SERVICE_TIMEOUT_S * 0.9 <= took < SERVICE_TIMEOUT_S + 5 < QUERY_TIMEOUT_S


@server_test
def test_an_answer_over_the_size_limit_fails(federating, misbehaving):
    status, _, body = ask(federating, f"SELECT * {{ SERVICE <{misbehaving['large']}> {{ ?n ?p ?o }} }}")
    assert status == 400 and body["title"] == "Remote answer too large"
    assert f"{MAX_BYTES} bytes" in body["error"] and "AIWF_SERVICE_MAX_BYTES" in body["error"]


@server_test
def test_the_service_description_offers_federation_only_when_allowed(federating, seeded_server):
    def description(origin: str) -> str:
        with urllib.request.urlopen(f"{origin}/sparql?format=nt", timeout=30) as response:
            return response.read().decode()

    feature = "<http://www.w3.org/ns/sparql-service-description#BasicFederatedQuery>"
    assert feature in description(federating) and feature not in description(seeded_server)
