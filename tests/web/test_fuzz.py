"""Fuzzing every public input over the real graph: nothing a client sends gives a 5xx or a traceback.

Hypothesis draws query text (from SPARQL fragments, any text, any bytes), ``Accept`` headers and
``format`` values, raw bytes in the query string, ``/doc/`` and ``/data/`` paths, and
reconciliation batches, extensions, suggestions and previews, and sends them through the Flask
test client to an app over the real on-disk graph (``seeded_store``), queries running in the
request thread. Every answer must be under 500, except a 503 or 504 in the one error shape (no
capacity, no store, a query over its time limit: documented refusals), must not contain
``Traceback``, and every 4xx must be the one error shape. The run is derandomised (the same
examples each time) and small, a few seconds in all; ``benchmarks/fuzz.py`` runs longer, against
a real server.
"""

from __future__ import annotations

import json
import re
import string
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nhs_ai_workforce.core.settings import Settings
from nhs_ai_workforce.web.app import create_app

#: Each test draws this many examples; six tests, well under ten seconds together.
EXAMPLES = 60
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

#: An uncaught exception's trace (the words alone may be drawn as input and echoed in a 404).
TRACEBACK = re.compile(rb'^Traceback \(most recent call last\):\s+File "', re.MULTILINE)
ERROR_KEYS = {"ok", "status", "title", "error", "line", "column"}
MEDIA_TYPES = [
    "application/sparql-results+json", "application/sparql-results+xml", "text/csv", "text/tab-separated-values",
    "text/turtle", "application/n-triples", "application/ld+json", "application/rdf+xml", "application/trig",
    "application/n-quads", "text/html", "application/json", "application/xml", "*/*", "text/*", "image/png",
]
FORMATS = ["json", "xml", "csv", "tsv", "ttl", "turtle", "nt", "jsonld", "rdfxml", "trig", "nq", "html", "png"]
PREFIXES = ("PREFIX aiwf: <https://w3id.org/nhs-ai-workforce/def/aiwf#> "
            "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> PREFIX xsd: <http://www.w3.org/2001/XMLSchema#> ")
#: Pieces of SPARQL, joined at random: mostly malformed, sometimes valid, always small (LIMIT).
FRAGMENTS = [
    "SELECT", "ASK", "CONSTRUCT", "DESCRIBE", "*", "?s", "?p", "?o", "?x", "{", "}", "(", ")", ".", ";", ",",
    "?s ?p ?o", "?s rdfs:label ?o", "?s a aiwf:Review", "FILTER", "BIND", "AS", "OPTIONAL", "UNION", "MINUS",
    "GRAPH ?g", "VALUES ?x { 1 2 }", "<urn:f>(?o)", "xsd:integer(?o)", "STR(?o)", "REGEX(?o, \"(a+)+$\")",
    "COUNT(*)", "GROUP BY ?s", "ORDER BY ?o", "LIMIT 5", "OFFSET 2", "FROM <urn:g>", "SERVICE <http://x/>",
    "\"\\u0000\"", "'é'", "1e999", "-0", "\"x\"@en", "\"1\"^^xsd:integer", "<>", "<a b>", "_:b", "[]", "#",
    "INSERT DATA", "LOAD <http://example.org/>", "\\", "\"", "'''", "\n", "?", "$", "@", "^^",
]
QUERIES = st.one_of(
    st.lists(st.sampled_from(FRAGMENTS), max_size=12).map(lambda parts: PREFIXES + " ".join(parts) + " LIMIT 5"),
    st.text(max_size=200),
    st.binary(max_size=200),  # any bytes: %-escaped in a URL or a form, raw in a direct POST
)
#: Header text: printable, and no line breaks (a client cannot send those in a header).
HEADER_TEXT = st.text(string.printable.replace("\n", "").replace("\r", ""), max_size=40)
ACCEPTS = st.one_of(st.none(), st.sampled_from(MEDIA_TYPES),
                    st.lists(st.sampled_from(MEDIA_TYPES), max_size=3).map(", ".join),
                    HEADER_TEXT, st.builds("{};q={}".format, st.sampled_from(MEDIA_TYPES), HEADER_TEXT))
FORMAT_VALUES = st.one_of(st.none(), st.sampled_from(FORMATS + MEDIA_TYPES), st.text(max_size=20))
#: A raw query string: text, %-escapes and bytes as WSGI carries them (latin-1 characters).
RAW_QUERY_STRINGS = st.binary(max_size=60).map(lambda raw: raw.decode("latin-1"))
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
LIMITS = st.one_of(st.none(), st.integers(), st.text(max_size=8), st.sampled_from(["Infinity", "NaN", "1e999"]))
QUERY_OBJECTS = st.fixed_dictionaries(
    {"query": st.one_of(st.text(max_size=40), JSON_VALUES)},
    optional={"limit": LIMITS, "type": JSON_VALUES, "properties": JSON_VALUES, "type_strict": JSON_VALUES},
)
BATCHES = st.one_of(
    st.dictionaries(st.text(max_size=4), QUERY_OBJECTS, max_size=3).map(json.dumps),
    JSON_VALUES.map(json.dumps),
    st.text(max_size=80),
    st.sampled_from(["{\"q0\": {\"query\": \"x\", \"limit\": Infinity}}", "[" * 3000, "[" * 2000 + "]" * 2000]),
)


@pytest.fixture(scope="module")
def client(seeded_store):
    app = create_app({"SETTINGS": Settings().with_(store_dir=seeded_store), "EXECUTOR": "in-process"})
    return app.test_client()


@pytest.fixture(scope="module")
def known(client) -> dict[str, list[str]]:
    """Real entity IRIs and /doc/ paths, so some examples reach pages that exist."""
    query = "SELECT DISTINCT ?s { ?s a ?t FILTER(isIRI(?s)) } LIMIT 40"
    rows = client.get("/sparql", query_string={"query": query}).get_json()["results"]["bindings"]
    iris = [row["s"]["value"] for row in rows]
    paths = [iri.split("/id/", 1)[1] for iri in iris if "/id/" in iri]
    assert iris and paths
    return {"iris": iris, "paths": paths}


def sound(response) -> None:
    """No 5xx but the documented 503/504, no traceback, and every error in the one shape."""
    body = response.get_data()
    where = f"{response.request.method} {response.request.path} -> {response.status_code}: {body[:300]!r}"
    assert TRACEBACK.search(body) is None, where
    assert response.status_code < 500 or response.status_code in (503, 504), where
    if response.status_code >= 400 and response.mimetype == "application/json" and response.request.method != "HEAD":
        error = json.loads(body)
        assert set(error) == ERROR_KEYS and error["status"] == response.status_code, where


def headers(accept: str | None) -> dict[str, str]:
    return {} if accept is None else {"Accept": accept}


def params(**values) -> dict[str, str]:
    return {key: value for key, value in values.items() if value is not None}


@FUZZ
@given(query=QUERIES, accept=ACCEPTS, fmt=FORMAT_VALUES, how=st.sampled_from(["get", "head", "form", "direct"]),
       graph=st.one_of(st.none(), st.text(max_size=20), st.just("https://w3id.org/nhs-ai-workforce/graph/background")))
def test_sparql_queries(client, query, accept, fmt, how, graph):
    args = params(format=fmt, **{"default-graph-uri": graph})
    encoded = urlencode({"query": query, **args})  # bytes are %-escaped as they are
    if how in ("get", "head"):
        response = client.open("/sparql", method=how.upper(), query_string=encoded, headers=headers(accept))
    elif how == "form":
        response = client.post("/sparql", data=encoded, headers=headers(accept),
                               content_type="application/x-www-form-urlencoded")
    else:
        body = query if isinstance(query, bytes) else query.encode("utf-8", errors="surrogatepass")
        response = client.post("/sparql", data=body, query_string=args, headers=headers(accept),
                               content_type="application/sparql-query")
    sound(response)


@FUZZ
@given(raw=RAW_QUERY_STRINGS, body=st.binary(max_size=120), accept=ACCEPTS,
       content_type=st.sampled_from(["application/sparql-query", "application/x-www-form-urlencoded",
                                     "application/sparql-query; charset=latin-1", "text/plain", "multipart/form-data",
                                     "application/sparql-update"]))
def test_sparql_raw_bytes(client, raw, body, accept, content_type):
    sound(client.get("/sparql", environ_overrides={"QUERY_STRING": raw}, headers=headers(accept)))
    sound(client.post("/sparql", data=body, content_type=content_type, headers=headers(accept),
                      environ_overrides={"QUERY_STRING": raw}))


@FUZZ
@given(data=st.data(), accept=ACCEPTS, suffix=st.sampled_from(["", ".html", ".ttl", ".jsonld", ".nt", ".rdf", ".trig",
                                                               ".nq", ".png", "/", "/x"]),
       q=st.one_of(st.none(), st.text(max_size=20)), raw=RAW_QUERY_STRINGS)
def test_doc_and_id_paths(client, known, data, accept, suffix, q, raw):
    path = data.draw(st.one_of(st.sampled_from(known["paths"]), st.text(max_size=30),
                               st.builds("{}/{}".format, st.sampled_from(["role", "initiative", "graph", "x"]),
                                         st.text(max_size=20))))
    for prefix in ("/doc/", "/id/"):
        sound(client.get(prefix + quote(path + suffix, safe="/"), query_string=params(q=q), headers=headers(accept)))
    sound(client.get("/doc/", query_string=params(q=q), headers=headers(accept)))
    sound(client.get("/doc/" + quote(path, safe="/"), environ_overrides={"QUERY_STRING": raw}))


@FUZZ
@given(name=st.one_of(st.text(max_size=30), st.sampled_from(["void", "void.ttl", "void.jsonld", "graphs/", "x.nq",
                                                              "nhs-ai-workforce.nq", "../pyproject.toml"])),
       accept=ACCEPTS, fmt=FORMAT_VALUES, ontology=st.text(max_size=20))
def test_data_and_def_paths(client, name, accept, fmt, ontology):
    sound(client.get("/data/" + quote(name, safe="/"), headers=headers(accept)))
    sound(client.get("/data/", query_string=params(format=fmt), headers=headers(accept)))
    sound(client.get("/data/void", query_string=params(format=fmt), headers=headers(accept)))
    sound(client.get("/def/aiwf/" + quote(ontology, safe="/"), headers=headers(accept)))
    sound(client.get("/def/aiwf", query_string=params(format=fmt), headers=headers(accept)))


@FUZZ
@given(batch=BATCHES, extend=st.one_of(st.text(max_size=40), st.fixed_dictionaries(
           {"ids": JSON_VALUES, "properties": JSON_VALUES}).map(json.dumps)),
       how=st.sampled_from(["get", "post"]), draft=JSON_VALUES.map(json.dumps))
def test_reconcile_batches_and_extensions(client, batch, extend, how, draft):
    send = client.get if how == "get" else client.post
    key = "query_string" if how == "get" else "data"
    sound(send("/reconcile", **{key: {"queries": batch}}))
    sound(send("/reconcile", **{key: {"extend": extend}}))
    for path in ("/reconcile/1.0-draft/match", "/reconcile/1.0-draft/extend"):
        sound(client.post(path, data=batch, content_type="application/json"))
        sound(client.post(path, data=draft, content_type="application/json"))


@FUZZ
@given(data=st.data(), prefix=st.text(max_size=20), number=st.one_of(st.none(), st.text(max_size=8),
                                                                     st.integers().map(str)),
       kind=st.sampled_from(["entity", "type", "property"]), draft=st.booleans(), callback=st.one_of(
           st.none(), st.text(max_size=12)))
def test_reconcile_suggest_and_preview(client, known, data, prefix, number, kind, draft, callback):
    base = "/reconcile/1.0-draft" if draft else "/reconcile"
    entity = data.draw(st.one_of(st.sampled_from(known["iris"]), st.text(max_size=40)))
    sound(client.get(f"{base}/suggest/{kind}", query_string=params(prefix=prefix, cursor=number, limit=number,
                                                                    type=data.draw(st.text(max_size=10)),
                                                                    callback=callback)))
    for page in ("preview", "view"):
        sound(client.get(f"{base}/{page}", query_string=params(id=entity, width=number, height=number)))
    sound(client.get(f"{base}/propose_properties" if not draft else f"{base}/extend/propose",
                     query_string=params(type=prefix, limit=number)))
