"""The SPARQL 1.1 Protocol at /sparql, through Flask's test client.

The matrix: every query form (SELECT, ASK, CONSTRUCT, DESCRIBE) x every result media type x
the three request forms (GET, form POST, direct POST); each body is parsed back with the
parser for its type. Then the dataset parameters, the refusals and their statuses, HEAD, and
the union default graph compared with rdflib on the real graph.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import shutil

import pyoxigraph as ox
import pytest
from rdflib import Dataset
from werkzeug.datastructures import MultiDict

from conftest import make_dataset, make_live, sample_triples
from nhs_ai_workforce.core.namespaces import GRAPHS, ProjectNamespaces
from nhs_ai_workforce.core.settings import Settings
from nhs_ai_workforce.core.terms import to_oxigraph
from nhs_ai_workforce.sparql.execution import QueryOutcome
from nhs_ai_workforce.sparql.negotiation import GRAPH_TYPES, SOLUTION_TYPES
from nhs_ai_workforce.store.live import current_dir
from nhs_ai_workforce.web.app import create_app

NS = ProjectNamespaces()
AIWF = str(NS.AIWF)
TOPOL = str(NS.thing("initiative", "topol-review"))
ROADMAP = str(NS.thing("initiative", "ai-roadmap"))
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"

SELECT = f"""PREFIX aiwf: <{AIWF}>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
# every review and its label
SELECT DISTINCT ?r ?label WHERE {{ ?r a aiwf:Review ; rdfs:label ?label }} ORDER BY ?r"""
ASK = f"ASK {{ <{TOPOL}> a <{AIWF}Review> }}"
CONSTRUCT = f"CONSTRUCT {{ ?r a <{AIWF}Review> }} WHERE {{ ?r a <{AIWF}Review> }}"
DESCRIBE = f"DESCRIBE <{ROADMAP}>"

FORMS = ("get", "form", "direct")


@pytest.fixture(scope="module")
def settings(tmp_path_factory) -> Settings:
    """A store holding conftest's sample dataset, shared by the module."""
    settings = Settings(root=tmp_path_factory.mktemp("protocol"))
    make_live(settings, make_dataset(NS))
    return settings


@pytest.fixture(scope="module")
def app(settings):
    return create_app({"SETTINGS": settings})


@pytest.fixture
def client(app):
    return app.test_client()


def send(client, form: str, query: str, *, headers=None, params=None, method="POST"):
    """Send ``query`` as a GET, a form POST or a direct POST; ``params`` go where the form puts them."""
    params = list((params or {}).items()) if isinstance(params, dict) else list(params or [])
    if form == "get":
        return client.get("/sparql", query_string=[("query", query), *params], headers=headers)
    if form == "form":
        return client.open("/sparql", method=method, data=MultiDict([("query", query), *params]), headers=headers,
                           content_type="application/x-www-form-urlencoded")
    return client.open("/sparql", method=method, query_string=params, data=query.encode(), headers=headers,
                       content_type="application/sparql-query")


# -- the matrix: query form x media type x request form ---------------------------------------


def solutions(body: bytes, media_type: str):
    """Parse SELECT or ASK results of any type we write: rows of strings, or a bool."""
    if SOLUTION_TYPES[media_type] == ox.QueryResultsFormat.CSV:
        text = body.decode()
        if text in ("true", "false"):
            return text == "true"
        rows = list(csv.reader(io.StringIO(text)))
        return [tuple(row) for row in rows[1:]]
    parsed = ox.parse_query_results(body, format=SOLUTION_TYPES[media_type])
    if isinstance(parsed, ox.QueryBoolean):
        return bool(parsed)
    names = [variable.value for variable in parsed.variables]
    return [tuple(solution[name].value for name in names) for solution in parsed]


def triples(body: bytes, media_type: str) -> set[ox.Triple]:
    return {quad.triple for quad in ox.parse(body, format=GRAPH_TYPES[media_type])}


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("media_type", list(SOLUTION_TYPES))
def test_select_in_every_results_type(client, form, media_type):
    response = send(client, form, SELECT, headers={"Accept": media_type})
    assert response.status_code == 200, response.data
    assert response.mimetype == media_type
    assert solutions(response.data, media_type) == [
        (ROADMAP, "AI Roadmap"),
        (TOPOL, "The Topol Review"),
    ]


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("media_type", list(SOLUTION_TYPES))
def test_ask_in_every_results_type(client, form, media_type):
    response = send(client, form, ASK, headers={"Accept": media_type})
    assert response.status_code == 200, response.data
    assert response.mimetype == media_type
    assert solutions(response.data, media_type) is True
    no = send(client, form, ASK.replace("Review", "Nothing"), headers={"Accept": media_type})
    assert solutions(no.data, media_type) is False


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("media_type", list(GRAPH_TYPES))
def test_construct_in_every_rdf_type(client, form, media_type):
    response = send(client, form, CONSTRUCT, headers={"Accept": media_type})
    assert response.status_code == 200, response.data
    assert response.mimetype == media_type
    review = ox.NamedNode(AIWF + "Review")
    rdf_type = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    assert triples(response.data, media_type) == {
        ox.Triple(ox.NamedNode(TOPOL), rdf_type, review),
        ox.Triple(ox.NamedNode(ROADMAP), rdf_type, review),
    }


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("media_type", list(GRAPH_TYPES))
def test_describe_in_every_rdf_type(client, form, media_type):
    response = send(client, form, DESCRIBE, headers={"Accept": media_type})
    assert response.status_code == 200, response.data
    assert response.mimetype == media_type
    described = triples(response.data, media_type)
    assert {t.subject for t in described} == {ox.NamedNode(ROADMAP)}
    assert ox.Literal("AI Roadmap", language="en") in {t.object for t in described}
    assert len(described) == 4


def test_dataset_types_put_the_triples_in_the_default_graph(client):
    for media_type, rdf_format in (("application/trig", ox.RdfFormat.TRIG),
                                   ("application/n-quads", ox.RdfFormat.N_QUADS)):
        response = send(client, "get", CONSTRUCT, headers={"Accept": media_type})
        quads = list(ox.parse(response.data, format=rdf_format))
        assert quads and all(quad.graph_name == ox.DefaultGraph() for quad in quads)


# -- headers and negotiation over HTTP -------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "mimetype"),
    [
        (None, "application/sparql-results+json"),
        ("*/*", "application/sparql-results+json"),
        ("application/*", "application/sparql-results+json"),
        ("text/csv;q=0.5, application/sparql-results+json;q=0.9", "application/sparql-results+json"),
        ("application/sparql-results+xml, */*;q=0.1", "application/sparql-results+xml"),
        ("text/html,application/xhtml+xml,*/*;q=0.8", "text/html"),  # a browser: the query page
        ("text/*", "text/csv"),
    ],
)
def test_accept_examples(client, accept, mimetype):
    response = client.get("/sparql", query_string={"query": SELECT}, headers={"Accept": accept} if accept else {})
    assert response.status_code == 200
    assert response.mimetype == mimetype


@pytest.mark.parametrize("form", FORMS)
def test_format_parameter_overrides_accept(client, form):
    response = send(client, form, SELECT, headers={"Accept": "application/sparql-results+json"},
                    params={"format": "csv"})
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    ttl = send(client, form, CONSTRUCT, headers={"Accept": "text/html"}, params={"format": "ttl"})
    assert ttl.mimetype == "text/turtle"
    wrong = send(client, form, CONSTRUCT, params={"format": "csv"})
    assert wrong.status_code == 406
    assert "text/turtle" in wrong.get_json()["error"]


def test_unacceptable_accept_is_406_listing_the_types(client):
    response = client.get("/sparql", query_string={"query": SELECT},
                          headers={"Accept": "image/png, application/pdf"})
    assert response.status_code == 406
    body = response.get_json()
    assert body["title"] == "Not acceptable"
    assert "application/sparql-results+json" in body["error"] and "text/csv" in body["error"]
    # a POST that only takes text/html gets the same refusal, as an HTML page (a GET gets the query page)
    page = client.post("/sparql", data={"query": SELECT}, headers={"Accept": "text/html"})
    assert page.status_code == 406 and page.mimetype == "text/html"


@pytest.mark.parametrize(
    ("query", "accept", "content_type"),
    [
        (SELECT, "text/csv", "text/csv; charset=utf-8"),
        (SELECT, "text/tab-separated-values", "text/tab-separated-values; charset=utf-8"),
        (SELECT, "application/sparql-results+json", "application/sparql-results+json"),
        (CONSTRUCT, "text/turtle", "text/turtle; charset=utf-8"),
        (CONSTRUCT, "application/n-triples", "application/n-triples"),
    ],
)
def test_content_type_and_vary(client, query, accept, content_type):
    response = client.get("/sparql", query_string={"query": query}, headers={"Accept": accept})
    assert response.headers["Content-Type"] == content_type
    assert "Accept" in response.headers["Vary"]


def test_head_mirrors_get_without_a_body(client):
    for query_string in ({"query": SELECT}, {}):
        get = client.get("/sparql", query_string=query_string, headers={"Accept": "text/csv, text/turtle"})
        head = client.head("/sparql", query_string=query_string, headers={"Accept": "text/csv, text/turtle"})
        assert head.status_code == get.status_code == 200
        assert head.data == b""
        assert head.headers["Content-Type"] == get.headers["Content-Type"]
        assert head.headers["Content-Length"] == str(len(get.data))
    bad = client.head("/sparql", query_string={"query": "SELEC"})
    assert bad.status_code == 400 and bad.data == b""


# -- the dataset: protocol parameters, FROM, the union default graph ---------------------------

COUNT = "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }"
GRAPH_NAMES = "SELECT DISTINCT ?g { GRAPH ?g { ?s ?p ?o } } ORDER BY ?g"


def values(response) -> list[str]:
    assert response.status_code == 200, response.data
    body = json.loads(response.data)
    return [next(iter(b.values()))["value"] for b in body["results"]["bindings"]]


@pytest.mark.parametrize("form", FORMS)
def test_default_graph_uri_restricts_the_default_graph(client, form):
    ontology, background = str(NS.graph("ontology")), str(NS.graph("background"))
    assert values(send(client, form, COUNT, params={"default-graph-uri": ontology})) == ["3"]
    both = [("default-graph-uri", ontology), ("default-graph-uri", background)]
    assert values(send(client, form, COUNT, params=both)) == ["13"]
    # no named-graph-uri: GRAPH sees no graphs
    assert values(send(client, form, GRAPH_NAMES, params={"default-graph-uri": ontology})) == []


@pytest.mark.parametrize("form", FORMS)
def test_named_graph_uri_limits_graph_and_empties_the_default_graph(client, form):
    ontology, inferred = str(NS.graph("ontology")), str(NS.graph("inferred"))
    params = [("named-graph-uri", inferred), ("named-graph-uri", ontology)]
    assert values(send(client, form, GRAPH_NAMES, params=params)) == sorted([inferred, ontology])
    assert values(send(client, form, COUNT, params=params)) == ["0"]
    full = [("default-graph-uri", ontology), ("named-graph-uri", inferred)]
    assert values(send(client, form, COUNT, params=full)) == ["3"]
    assert values(send(client, form, GRAPH_NAMES, params=full)) == [inferred]


def test_without_dataset_parameters_the_default_graph_is_the_union(client):
    # Oxigraph's union is a bag: the sample's one triple stored in two graphs counts twice
    assert values(send(client, "get", COUNT)) == [str(len(sample_triples(NS)))]
    stored = sorted(str(NS.graph(g)) for g in ("background", "inferred", "ontology"))
    assert values(send(client, "get", GRAPH_NAMES)) == stored


def test_from_in_the_query_is_respected_and_the_protocol_overrides_it(client):
    ontology, background = str(NS.graph("ontology")), str(NS.graph("background"))
    from_ontology = f"SELECT (COUNT(*) AS ?n) FROM <{ontology}> {{ ?s ?p ?o }}"
    assert values(send(client, "get", from_ontology)) == ["3"]
    assert values(send(client, "get", from_ontology, params={"default-graph-uri": background})) == ["10"]


@pytest.mark.parametrize("form", FORMS)
def test_a_relative_graph_iri_is_400(client, form):
    response = send(client, form, COUNT, params={"default-graph-uri": "not an iri"})
    assert response.status_code == 400
    assert "default-graph-uri" in response.get_json()["error"]


def test_relative_iris_resolve_against_the_endpoint(client):
    response = client.post("/sparql", data="CONSTRUCT { <s> <p> 1 } WHERE {}", content_type="application/sparql-query",
                           headers={"Accept": "application/n-triples"}, base_url="http://www.example")
    assert response.status_code == 200, response.data
    (triple,) = triples(response.data, "application/n-triples")
    assert triple.subject == ox.NamedNode("http://www.example/s")


# -- refusals ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "status", "title", "fragment"),
    [
        ({"query_string": {"query": "SELECT * WHERE {\n  ?s ?p \n}"}}, 400, "Malformed query", "error at"),
        ({"query_string": {"query": "SELEC * { ?s ?p ?o }"}}, 400, "Malformed query", "SELEC"),
        ({"query_string": {"query": "  # nothing\n"}}, 400, "Missing query", "empty"),
        ({"query_string": {"default-graph-uri": "http://example.org/g"}}, 400, "Missing query", "no 'query'"),
        ({"query_string": [("query", "ASK {}"), ("query", "ASK { ?s ?p ?o }")]}, 400, "Repeated parameter",
         "one 'query'"),
        ({"query_string": [("query", "ASK {}"), ("format", "yaml"), ("output", "png")]}, 406, "Not acceptable",
         "'yaml'"),
        ({"query_string": {"query": "INSERT DATA { <a:b> <a:c> <a:d> }"}}, 400, "Not a query", "read-only"),
        ({"query_string": {"update": "CLEAR ALL"}}, 403, "Updates not allowed", "read-only"),
        ({"query_string": {"query": "SELECT * { SERVICE <http://evil.example/> { ?s ?p ?o } }"}}, 400, None,
         "SERVICE"),
    ],
)
def test_bad_get_requests(client, kwargs, status, title, fragment):
    response = client.get("/sparql", **kwargs)
    assert response.status_code == status
    body = response.get_json()
    assert body["ok"] is False and body["status"] == status
    if title:
        assert body["title"] == title
    assert fragment in body["error"]


def test_syntax_errors_carry_line_and_column(client):
    response = client.get("/sparql", query_string={"query": "SELECT * WHERE {\n  ?s ?p \n}"})
    body = response.get_json()
    assert body["line"] == 3 and body["column"] >= 1
    assert body["error"].startswith(f"error at 3:{body['column']}: ")


@pytest.mark.parametrize(
    ("data", "content_type", "status", "fragment"),
    [
        ({"update": "CLEAR ALL"}, "application/x-www-form-urlencoded", 403, "read-only"),
        ([("update", "CLEAR NAMED"), ("update", "CLEAR DEFAULT")], "application/x-www-form-urlencoded", 403,
         "read-only"),
        ({"query": "ASK {}", "update": "CLEAR ALL"}, "application/x-www-form-urlencoded", 403, "read-only"),
        ("CLEAR ALL", "application/sparql-update", 403, "read-only"),
        ({"default-graph-uri": "http://example.org/"}, "application/x-www-form-urlencoded", 400, "no 'query'"),
        ([("query", "ASK {}"), ("query", "ASK {?s ?p ?o}")], "application/x-www-form-urlencoded", 400, "one 'query'"),
        ("", "application/sparql-query", 400, "empty"),
        ("ASK {}", "text/plain", 415, "text/plain"),
        ("query=ASK%20%7B%7D", None, 415, "no Content-Type"),
        ('{"query": "ASK {}"}', "application/json", 415, "application/sparql-query"),
        ("ASK {}".encode("utf-16"), "application/sparql-query; charset=UTF-16", 415, "UTF-8"),
        ("query=ASK%20%7B%7D", "application/x-www-form-urlencoded; charset=latin1", 415, "UTF-8"),
        (b"ASK { ?s ?p '\xff' }", "application/sparql-query", 400, "UTF-8"),
    ],
)
def test_bad_post_requests(client, data, content_type, status, fragment):
    data = MultiDict(data) if isinstance(data, list) else data
    response = client.post("/sparql", data=data, content_type=content_type)
    assert response.status_code == status, response.data
    assert fragment in response.get_json()["error"]


def test_direct_post_with_a_query_parameter_too_is_400(client):
    response = client.post("/sparql?query=ASK%20%7B%7D", data="ASK {}", content_type="application/sparql-query")
    assert response.status_code == 400
    assert "query" in response.get_json()["error"]


def test_a_query_in_the_url_and_the_form_body_is_two_queries(client):
    response = client.post("/sparql?query=ASK%20%7B%7D", data={"query": "ASK { ?s ?p ?o }"})
    assert response.status_code == 400 and "one 'query'" in response.get_json()["error"]
    same = client.post("/sparql?query=ASK%20%7B%7D", data={"query": "ASK {}"})  # a client repeating itself
    assert same.status_code == 200 and same.get_json()["boolean"] is True


@pytest.mark.parametrize(
    ("params", "query", "mimetype"),
    [
        # SPARQLWrapper's defaults: format, output and results, with the media type added for some
        ([("format", "tsv"), ("format", "text/tab-separated-values"), ("output", "tsv"),
          ("output", "text/tab-separated-values"), ("results", "tsv")], "SELECT", "text/tab-separated-values"),
        ([("format", "json-ld"), ("format", "application/ld+json"), ("output", "json-ld")], "CONSTRUCT",
         "application/ld+json"),
        ([("format", "rdf+xml"), ("format", "application/rdf+xml")], "CONSTRUCT", "application/rdf+xml"),
        ([("format", "n3"), ("output", "n3")], "CONSTRUCT", "text/turtle"),
        ([("format", "rdf")], "CONSTRUCT", "application/rdf+xml"),
        # the first value the server understands wins; identical repeats are one
        ([("format", "x-unknown"), ("format", "csv"), ("format", "json")], "SELECT", "text/csv"),
        ([("output", "xml")], "SELECT", "application/sparql-results+xml"),
        ([("format", "text/plain")], "CONSTRUCT", "text/plain"),
        ([("format", "text/n3")], "CONSTRUCT", "text/n3"),
    ],
)
def test_repeated_and_client_format_parameters(client, params, query, mimetype):
    text = {"SELECT": SELECT, "CONSTRUCT": CONSTRUCT}[query]
    for _ in range(2):  # the same query twice is one query
        params = [("query", text), *params]
    response = client.get("/sparql", query_string=params)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == mimetype


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_other_methods_are_405_with_allow(client, method):
    response = client.open("/sparql", method=method, query_string={"query": "ASK {}"},
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 405
    assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "POST", "HEAD", "OPTIONS"}
    assert method in response.get_json()["error"]


def test_oversize_requests_are_413(settings):
    app = create_app({"SETTINGS": settings.with_(max_request_bytes=64)})
    client = app.test_client()
    big = "ASK { ?s ?p ?o }" + " " * 100
    for response in (
        client.post("/sparql", data={"query": big}),
        client.post("/sparql", data=big, content_type="application/sparql-query"),
        client.get("/sparql", query_string={"query": big}),
    ):
        assert response.status_code == 413
        assert "64" in response.get_json()["error"]


def test_no_store_is_503_but_the_service_is_still_described(tmp_path):
    client = create_app({"SETTINGS": Settings(root=tmp_path)}).test_client()
    response = client.get("/sparql", query_string={"query": "ASK {}"})
    assert response.status_code == 503
    assert "aiwf build" in response.get_json()["error"]
    description = client.get("/sparql")
    assert description.status_code == 200 and b"sd:Service" in description.data


# -- the executor interface -----------------------------------------------------------------


class RecordingExecutor:
    def __init__(self):
        self.jobs = []

    def run(self, job):
        self.jobs.append(job)
        return QueryOutcome(b"x,y\r\n", job.media_type)


def test_the_blueprint_hands_a_job_to_the_executor(settings):
    app = create_app({"SETTINGS": settings})
    executor = RecordingExecutor()
    app.extensions["aiwf"] = dataclasses.replace(app.extensions["aiwf"], executor=executor)
    response = app.test_client().post(
        "/sparql?named-graph-uri=http://example.org/n",
        data={"query": SELECT, "default-graph-uri": "http://example.org/d"},
        headers={"Accept": "text/csv"},
    )
    assert response.status_code == 200 and response.data == b"x,y\r\n"
    (job,) = executor.jobs
    assert job.text == SELECT
    assert job.media_type == "text/csv"
    assert job.default_graphs == ("http://example.org/d",)
    assert job.named_graphs == ("http://example.org/n",)


# -- the real graph: rdflib and HTTP agree on the union default graph --------------------------


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    """The real graph built into a temporary store; an app on it and rdflib on a copy of it."""
    from nhs_ai_workforce.pipeline.build import build

    settings = Settings().with_(store_dir=tmp_path_factory.mktemp("real") / "store")
    build(settings, write_dumps=False)
    copy = tmp_path_factory.mktemp("rdflib") / "store"
    shutil.copytree(current_dir(settings), copy)
    dataset = Dataset(store="Oxigraph", default_union=True)
    dataset.open(str(copy))
    yield create_app({"SETTINGS": settings}).test_client(), dataset
    dataset.close()


REAL_QUERIES = [
    "SELECT ?s ?label WHERE { ?s a <http://www.w3.org/2004/02/skos/core#Concept> ; "
    "<http://www.w3.org/2004/02/skos/core#prefLabel> ?label }",
    f"SELECT ?i ?title WHERE {{ ?i a <{AIWF}Review> ; <http://purl.org/dc/terms/title> ?title }}",
    "SELECT ?p (COUNT(*) AS ?n) WHERE { ?s ?p ?o } GROUP BY ?p",
    "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g",
]


def http_rows(client, query, **params) -> set[tuple]:
    response = client.post("/sparql", data={"query": query, **params})
    assert response.status_code == 200, response.data
    parsed = ox.parse_query_results(response.data, format=ox.QueryResultsFormat.JSON)
    names = [v.value for v in parsed.variables]
    return {tuple(str(solution[name]) for name in names) for solution in parsed}


def rdflib_rows(dataset, query) -> set[tuple]:
    return {tuple(str(to_oxigraph(term)) for term in row) for row in dataset.query(query)}


@pytest.mark.slow
@pytest.mark.parametrize("query", REAL_QUERIES)
def test_rdflib_and_http_give_the_same_rows(real, query):
    client, dataset = real
    expected = rdflib_rows(dataset, query)
    assert expected, "the query should match something in the real graph"
    assert http_rows(client, query) == expected


@pytest.mark.slow
def test_default_graph_uri_restricts_the_real_graph_to_one_named_graph(real):
    client, dataset = real
    count = "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }"
    per_graph = dict(rdflib_rows(dataset, REAL_QUERIES[-1]))
    total = 0
    for name in GRAPHS:
        graph = f"<{NS.graph(name)}>"
        (row,) = http_rows(client, count, **{"default-graph-uri": str(NS.graph(name))})
        assert row[0] == per_graph[graph]
        total += int(row[0].split('"')[1])
    (union,) = http_rows(client, count)
    assert int(union[0].split('"')[1]) == total  # the build keeps each triple in one graph


@pytest.mark.slow
def test_the_service_description_counts_every_project_graph(real):
    client, dataset = real
    per_graph = dict(rdflib_rows(dataset, REAL_QUERIES[-1]))
    response = client.get("/sparql", headers={"Accept": "application/n-triples"})
    described = triples(response.data, "application/n-triples")
    sd = "http://www.w3.org/ns/sparql-service-description#"
    names = {t.subject: t.object for t in described if t.predicate == ox.NamedNode(sd + "name")}
    inner = {t.subject: t.object for t in described if t.predicate == ox.NamedNode(sd + "graph")}
    counts = {t.subject: t.object for t in described if t.predicate == ox.NamedNode("http://rdfs.org/ns/void#triples")}
    listed = {str(name): str(counts[inner[entry]]) for entry, name in names.items()}
    assert listed == per_graph
    assert {f"<{NS.graph(name)}>" for name in GRAPHS} == set(listed)


@pytest.mark.slow
def test_named_graph_uri_with_graph_on_the_real_graph(real):
    client, _ = real
    mappings = str(NS.graph("mappings"))
    query = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"
    assert http_rows(client, query, **{"named-graph-uri": mappings}) == {(f"<{mappings}>",)}


# -- the documentation ------------------------------------------------------------------------


def test_readme_documents_the_endpoint():
    from pathlib import Path

    from nhs_ai_workforce.sparql.negotiation import FORMAT_NAMES
    from nhs_ai_workforce.sparql.service_description import FORMAT_IRIS

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("## SPARQL endpoint", 1)[1].split("\n## ", 1)[0]
    for media_type in FORMAT_IRIS:
        assert f"`{media_type}`" in section, media_type
    for name in ("json", "xml", "csv", "tsv", "ttl", "nt", "jsonld", "rdfxml", "trig", "nq"):
        assert name in FORMAT_NAMES and f"`{name}`" in section, name
    for status in ("400", "403", "404", "405", "406", "413", "415", "503"):
        assert f"`{status}`" in section, status
    assert "union of all named graphs" in section
    for parameter in ("default-graph-uri", "named-graph-uri", "format", "FROM NAMED"):
        assert parameter in section
