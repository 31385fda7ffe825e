"""Inputs that once gave HTTP 500 (issue 10) now get a 4xx in the one error shape, naming the fault.

Each is tried through the Flask test client over the real graph, and the ones whose path differs
in production (queries run in the pool's child processes; raw bytes reach gunicorn unencoded)
through a real ``aiwf serve`` as well.
"""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.parse
import urllib.request

import pytest

from nhs_ai_workforce.core.settings import Settings
from nhs_ai_workforce.reconcile.protocol import MAX_DEPTH
from nhs_ai_workforce.web.app import create_app

UNKNOWN_FUNCTION = "SELECT ?x { BIND(<urn:f>(1) AS ?x) }"
#: Every route that reads its query string (a raw byte there once failed in Werkzeug's decoding).
QUERY_STRING_ROUTES = [
    "/sparql", "/reconcile", "/reconcile/suggest/entity", "/reconcile/preview", "/reconcile/view",
    "/reconcile/1.0-draft", "/reconcile/propose_properties", "/doc/", "/data/", "/data/void", "/def/aiwf",
    "/reconcile/1.0-draft/suggest/type", "/", "/charts", "/health",
]


@pytest.fixture(scope="module")
def client(seeded_store):
    settings = Settings().with_(store_dir=seeded_store)
    return create_app({"SETTINGS": settings, "EXECUTOR": "in-process"}).test_client()


def refused(response, status: int, title: str, *needles: str) -> dict:
    """Assert ``response`` is the one error shape with ``status`` and ``title``; its message names ``needles``."""
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert body is not None, response.get_data(as_text=True)
    assert set(body) == {"ok", "status", "title", "error", "line", "column"}
    assert (body["ok"], body["status"], body["title"]) == (False, status, title)
    for needle in needles:
        assert needle in body["error"]
    return body


# -- an unknown function ------------------------------------------------------------------------


@pytest.mark.parametrize("query", [
    UNKNOWN_FUNCTION,
    "SELECT * { ?s ?p ?o FILTER(<http://example.org/fn>(?o)) } LIMIT 1",
    "SELECT * { ?s ?p ?o } ORDER BY <urn:f>(?o) LIMIT 1",
    "CONSTRUCT { ?s ?p ?x } { ?s ?p ?o BIND(<urn:f>(?o) AS ?x) }",
    "PREFIX ex: <http://example.org/> ASK { FILTER(ex:nope()) }",
])
def test_an_unknown_function_is_a_400_naming_it(client, query):
    response = client.get("/sparql", query_string={"query": query})
    body = refused(response, 400, "Unsupported function", "is not supported")
    assert "custom function <" in body["error"]


def test_a_cast_is_still_a_function_that_works(client):
    query = "PREFIX xsd: <http://www.w3.org/2001/XMLSchema#> SELECT ?x { BIND(xsd:integer('7') AS ?x) }"
    response = client.get("/sparql", query_string={"query": query})
    assert response.status_code == 200
    assert response.get_json()["results"]["bindings"] == [
        {"x": {"type": "literal", "datatype": "http://www.w3.org/2001/XMLSchema#integer", "value": "7"}}
    ]


def test_an_unknown_function_is_a_400_from_the_pool_too(seeded_server):
    """In production the query runs in a pool child: the same 400, not its catch-all 500."""
    url = f"{seeded_server}/sparql?" + urllib.parse.urlencode({"query": UNKNOWN_FUNCTION})
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(url, timeout=30)
    assert caught.value.code == 400
    body = json.loads(caught.value.read())
    assert body["title"] == "Unsupported function" and "<urn:f>" in body["error"]


# -- a raw byte that is not UTF-8 in the query string ------------------------------------------


@pytest.mark.parametrize("path", QUERY_STRING_ROUTES)
def test_a_raw_non_utf8_byte_in_the_query_string_is_a_400(client, path):
    # WSGI carries the raw bytes of the query string as latin-1 characters
    response = client.get(path, environ_overrides={"QUERY_STRING": "query=ASK%7B%7D&x=caf\xe9"})
    refused(response, 400, "Bad query string", "0xe9", "position 21", "UTF-8")


def test_a_browser_gets_the_raw_byte_error_as_a_page(client):
    response = client.get("/doc/", environ_overrides={"QUERY_STRING": "q=\xff"}, headers={"Accept": "text/html"})
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert "0xff" in response.get_data(as_text=True)


def test_percent_encoded_and_utf8_bytes_are_still_read(client):
    """Only raw bytes that are not UTF-8 are refused: UTF-8 ones and %-escapes are read as before."""
    raw_utf8 = "café".encode().decode("latin-1")
    response = client.get("/reconcile/suggest/entity", environ_overrides={"QUERY_STRING": f"prefix={raw_utf8}"})
    assert response.status_code == 200
    assert client.get("/reconcile/suggest/entity?prefix=caf%C3%A9").status_code == 200
    assert client.get("/reconcile/suggest/entity?prefix=caf%E9").status_code == 200  # a bad escape reads as U+FFFD


def raw_get(origin: str, target: bytes) -> tuple[int, bytes]:
    """``GET target`` with its bytes exactly as given (http.client would refuse non-ASCII)."""
    host, port = urllib.parse.urlsplit(origin).netloc.split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


@pytest.mark.parametrize("target", [
    b"/sparql?query=ASK%7B%7D\xff", b"/doc/?x=\xe9", b"/reconcile/suggest/entity?prefix=\xc3",
])
def test_a_raw_byte_through_a_real_server_is_a_400(seeded_server, target):
    """The front server may refuse the request line itself, or pass it to the app: a 400 either way."""
    status, body = raw_get(seeded_server, target)
    assert status == 400, body
    error = json.loads(body)
    assert set(error) == {"ok", "status", "title", "error", "line", "column"} and error["status"] == 400
    assert error["title"] in ("Bad query string", "Bad request"), error


# -- reconciliation JSON ------------------------------------------------------------------------


def test_deeply_nested_queries_are_a_400_before_parsing(client):
    for depth in (MAX_DEPTH + 1, 1_000, 40_000):
        response = client.post("/reconcile", data={"queries": "[" * depth + "]" * depth})
        refused(response, 400, "Malformed reconciliation request", f"deeper than {MAX_DEPTH} levels")


def test_deep_json_is_refused_in_every_reconciliation_input(client):
    deep = '{"ids": ' + "[" * 5_000 + "]" * 5_000 + "}"
    refused(client.get("/reconcile", query_string={"extend": deep}), 400, "Malformed reconciliation request", "deeper")
    for path in ("/reconcile/1.0-draft/match", "/reconcile/1.0-draft/extend"):
        response = client.post(path, data=deep, content_type="application/json")
        refused(response, 400, "Malformed reconciliation request", "'body' is nested deeper")


def test_brackets_inside_strings_do_not_count_as_nesting(client):
    queries = {"q0": {"query": "[" * 500 + "Data analyst" + "{" * 500, "limit": 1}}
    response = client.post("/reconcile", data={"queries": json.dumps(queries)})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert list(response.get_json()) == ["q0"]


def test_nesting_within_the_limit_still_parses(client):
    """A query with a property constraint (five levels) is well within the limit."""
    queries = {"q0": {"query": "Data analyst", "properties": [{"pid": "soc2020", "v": [{"id": "2433"}]}]}}
    response = client.post("/reconcile", data={"queries": json.dumps(queries)})
    assert response.status_code == 200, response.get_data(as_text=True)


@pytest.mark.parametrize(("limit", "needle"), [
    ("Infinity", "Infinity is not a JSON number"),
    ("-Infinity", "-Infinity is not a JSON number"),
    ("NaN", "NaN is not a JSON number"),
    ("1e999", "1e999 is too large for a number"),
    ('"Infinity"', "limit must be a finite number, not 'Infinity'"),
    ('"1e999"', "limit must be a finite number"),
])
def test_a_limit_that_is_not_a_finite_number_is_a_400(client, limit, needle):
    queries = '{"q0": {"query": "Data analyst", "limit": ' + limit + "}}"
    for response in (client.post("/reconcile", data={"queries": queries}),
                     client.get("/reconcile", query_string={"queries": queries})):
        refused(response, 400, "Malformed reconciliation request", needle)


def test_non_finite_numbers_are_refused_in_draft_bodies(client):
    body = '{"queries": [{"conditions": [{"matchType": "name", "propertyValue": "x"}], "limit": Infinity}]}'
    response = client.post("/reconcile/1.0-draft/match", data=body, content_type="application/json")
    refused(response, 400, "Malformed reconciliation request", "Infinity is not a JSON number")


def test_deep_json_through_a_real_server_is_a_400(seeded_server):
    data = urllib.parse.urlencode({"queries": "[" * 5_000 + "]" * 5_000}).encode()
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(f"{seeded_server}/reconcile", data=data, timeout=30)
    assert caught.value.code == 400
    assert f"deeper than {MAX_DEPTH}" in json.loads(caught.value.read())["error"]
