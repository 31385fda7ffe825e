"""``/reconcile``: the Reconciliation Service API v0.2 (and the 1.0 draft), checked against the spec's schemas.

Every response body (manifest, query batches by GET and POST, suggest, data extension,
property proposal, the 1.0 draft's match and extend) is validated with ``jsonschema`` (Draft 7)
against the JSON schemas of the W3C community group's specs in
``../shared/conformance/reconciliation-specs`` (or ``$AIWF_SHARED``). ``$ref``\\ s between schema
files are resolved from that folder; nothing is fetched. The requests the tests send are
validated against the query schemas too, and the harness itself is checked on the specs'
own valid and invalid examples.

The app runs over a real on-disk store built from the real seeds, through Flask's test client,
and once through a real ``aiwf serve`` process on 127.0.0.1 doing what OpenRefine does; each of
those tests runs twice, over the embedded store and reading the same build from ``oxigraph serve``
loaded by ``aiwf publish`` (``AIWF_SPARQL_URL``: conftest's ``seeded_settings`` and ``site``).
"""

from __future__ import annotations

import json
import os
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from jsonschema import Draft7Validator
from rdflib import Literal
from rdflib import namespace as vocab
from referencing import Registry
from referencing.jsonschema import DRAFT7

from conftest import make_dataset, make_live, sample_triples
from nhs_ai_workforce.core.errors import BadRequest
from nhs_ai_workforce.core.settings import Settings
from nhs_ai_workforce.reconcile import protocol
from nhs_ai_workforce.web.app import create_app

pytestmark = pytest.mark.conformance  # every response is validated against the spec's schemas

ROOT = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("AIWF_SHARED") or ROOT.parent / "shared")
SPECS = SHARED / "conformance" / "reconciliation-specs"
if not (SPECS / "0.2" / "schemas" / "manifest.json").is_file():
    pytest.skip(
        f"the Reconciliation API schemas are not at {SPECS} (set AIWF_SHARED to the folder holding conformance/)",
        allow_module_level=True,
    )

BASE = Settings().base
ID = f"{BASE}/id/"
ROLE = f"{BASE}/def/aiwf/RoleConcept"
GROUP = f"{BASE}/def/aiwf/WorkforceGroup"
ORGANISATION = "http://www.w3.org/ns/org#Organization"
INITIATIVE = f"{BASE}/def/aiwf/Initiative"
CLASSIFICATIONS = [f"{BASE}/id/scheme/soc2020", "http://data.europa.eu/esco/model#Occupation",
                   "http://data.europa.eu/esco/model#ISCOGroup"]
DATA_ANALYST = f"{ID}role/data-analyst"
CLINICAL_INFORMATICIAN = f"{ID}role/clinical-informatician"
RADIOLOGY = f"{ID}workforce-group/medic-clinical-radiology"


# -- the schemas --------------------------------------------------------------------------------


def _registry(version: str) -> Registry:
    """Every schema file of a version, under its ``$id`` and its file name beside it; nothing remote."""
    resources = []
    for path in sorted((SPECS / version / "schemas").glob("*.json")):
        contents = json.loads(path.read_text(encoding="utf-8"))
        resource = DRAFT7.create_resource(contents)
        uri = contents.get("$id", "").rstrip("#")
        resources += [(uri, resource), (f"{uri.rsplit('/', 1)[0]}/{path.name}", resource)]
    return Registry().with_resources(resources)


_REGISTRIES = {version: _registry(version) for version in ("0.2", "1.0-draft")}


def validator(name: str, version: str = "0.2") -> Draft7Validator:
    schema = json.loads((SPECS / version / "schemas" / f"{name}.json").read_text(encoding="utf-8"))
    Draft7Validator.check_schema(schema)
    return Draft7Validator(schema, registry=_REGISTRIES[version], format_checker=Draft7Validator.FORMAT_CHECKER)


def conforms(instance, name: str, version: str = "0.2") -> None:
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
              for e in validator(name, version).iter_errors(instance)]
    assert not errors, f"not a valid {version} {name}: {errors}"


def _examples():
    for version in ("0.2", "1.0-draft"):
        for folder in sorted((SPECS / version / "examples").iterdir()):
            if (SPECS / version / "schemas" / f"{folder.name}.json").is_file():
                for path in sorted(folder.glob("*/*.json")):
                    name = path.relative_to(SPECS / version / "examples")
                    yield pytest.param(version, folder.name, path, id=f"{version}/{name}")


@pytest.mark.parametrize(("version", "name", "path"), list(_examples()))
def test_the_harness_accepts_the_valid_examples_and_rejects_the_invalid(version, name, path):
    errors = list(validator(name, version).iter_errors(json.loads(path.read_text(encoding="utf-8"))))
    if path.parent.name == "valid":
        assert not errors, [e.message for e in errors]
    else:
        assert errors


# -- the app ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def client(seeded_settings):
    """The app over the real seeds, in the embedded store and then read from a remote store (conftest)."""
    app = create_app({"SETTINGS": seeded_settings, "TESTING": True})
    return app.test_client()


def post_queries(client, queries: dict, version: str = "0.2"):
    conforms(queries, "reconciliation-query-batch", version)
    response = client.post("/reconcile", data={"queries": json.dumps(queries)})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    conforms(response.json, "reconciliation-result-batch")
    return response.json


def get_queries(client, queries: dict):
    conforms(queries, "reconciliation-query-batch")
    response = client.get("/reconcile", query_string={"queries": json.dumps(queries)})
    assert response.status_code == 200, response.get_data(as_text=True)
    conforms(response.json, "reconciliation-result-batch")
    return response.json


def assert_error(response, status: int, *words: str) -> None:
    assert response.status_code == status
    body = response.json
    assert body["ok"] is False and body["status"] == status
    for word in words:
        assert word in body["error"]
    assert response.headers["Access-Control-Allow-Origin"] == "*"


# -- the manifest -------------------------------------------------------------------------------


def test_manifest(client):
    response = client.get("/reconcile")
    assert response.status_code == 200 and response.mimetype == "application/json"
    manifest = response.json
    conforms(manifest, "manifest")
    assert manifest["versions"] == ["0.2"]
    assert manifest["identifierSpace"] == ID
    assert manifest["schemaSpace"] == f"{BASE}/def/aiwf/"
    assert [t["id"] for t in manifest["defaultTypes"]] == [ROLE, GROUP, ORGANISATION, INITIATIVE, *CLASSIFICATIONS]
    assert all(t["name"] for t in manifest["defaultTypes"])
    assert manifest["view"]["url"] == "http://localhost/reconcile/view?id={{id}}"
    assert manifest["preview"]["url"] == "http://localhost/reconcile/preview?id={{id}}"
    assert client.get("/reconcile/").json == manifest


def test_every_service_the_manifest_names_answers(client):
    manifest = client.get("/reconcile").json
    for kind, schema in (("entity", "suggest-entities-response"), ("type", "suggest-types-response"),
                         ("property", "suggest-properties-response")):
        service = manifest["suggest"][kind]
        url = urllib.parse.urlsplit(service["service_url"] + service["service_path"])
        response = client.get(url.path, query_string={"prefix": "d"})
        assert response.status_code == 200, kind
        conforms(response.json, schema)
    proposal = manifest["extend"]["propose_properties"]
    url = urllib.parse.urlsplit(proposal["service_url"] + proposal["service_path"])
    conforms(client.get(url.path, query_string={"type": ROLE}).json, "data-extension-property-proposal")
    for key in ("preview", "view"):
        url = urllib.parse.urlsplit(manifest[key]["url"].replace("{{id}}", urllib.parse.quote(DATA_ANALYST, safe="")))
        response = client.get(f"{url.path}?{url.query}", follow_redirects=True)
        assert response.status_code == 200 and response.mimetype == "text/html", key
        assert "data analyst" in response.get_data(as_text=True)


def test_manifest_by_jsonp(client):
    response = client.get("/reconcile", query_string={"callback": "jsonp_1234"})
    assert response.status_code == 200
    assert response.mimetype == "application/javascript"
    text = response.get_data(as_text=True)
    assert text.startswith("/**/jsonp_1234(") and text.endswith(");")
    conforms(json.loads(text[len("/**/jsonp_1234("):-2]), "manifest")
    assert_error(client.get("/reconcile", query_string={"callback": "alert(document.cookie)//"}), 400, "callback")


# -- queries ------------------------------------------------------------------------------------


def test_queries_by_get_and_post_agree(client):
    queries = {"q0": {"query": "Senior Data Analyst"}, "q1": {"query": "Plumber"}, "q2": {"query": "NHSX"}}
    assert get_queries(client, queries) == post_queries(client, queries)


def test_senior_data_analyst_is_the_data_analyst(client):
    results = post_queries(client, {"q0": {"query": "Senior Data Analyst"}})["q0"]["result"]
    best = results[0]
    assert best["id"] == DATA_ANALYST
    assert best["match"] is True
    assert best["name"] == "data analyst"
    assert best["type"] == [{"id": ROLE, "name": "Role concept"}]
    assert best["description"]
    assert [r["score"] for r in results] == sorted((r["score"] for r in results), reverse=True)
    assert sum(r["match"] for r in results) == 1


def test_a_plumber_matches_nothing(client):
    results = post_queries(client, {"q0": {"query": "Plumber"}})["q0"]["result"]
    assert not any(r["match"] for r in results)


@pytest.mark.parametrize("type_", [GROUP, [GROUP], "workforce-group", [GROUP, INITIATIVE]])
def test_the_type_filter(client, type_):
    queries = {"q0": {"query": "Consultant radiologist", "type": type_}}
    if isinstance(type_, str) and not type_.startswith("http"):
        response = client.post("/reconcile", data={"queries": json.dumps(queries)})  # a key, not a type id
        conforms(response.json, "reconciliation-result-batch")
        results = response.json["q0"]["result"]
    else:
        results = post_queries(client, queries)["q0"]["result"]
    assert results[0]["id"] == RADIOLOGY
    assert results[0]["match"] is True
    allowed = {GROUP, INITIATIVE} if isinstance(type_, list) and len(type_) > 1 else {GROUP}
    assert all({t["id"] for t in r["type"]} & allowed for r in results)


def test_a_type_the_service_does_not_have_gives_nothing(client):
    results = post_queries(client, {"q0": {"query": "data analyst", "type": "http://schema.org/Person"}})
    assert results == {"q0": {"result": []}}


def test_the_limit(client):
    text = "Senior Data Analyst"
    results = post_queries(client, {"q0": {"query": text, "limit": 1}, "q1": {"query": text, "limit": 8},
                                    "q2": {"query": text}})
    assert len(results["q0"]["result"]) == 1
    assert results["q1"]["result"][:1] == results["q0"]["result"]
    assert 1 < len(results["q1"]["result"]) <= 8
    assert len(results["q2"]["result"]) <= protocol.DEFAULT_LIMIT


def test_a_batch_with_types_limits_and_properties(client):
    queries = {
        "plain": {"query": "analyst", "limit": 3},
        "with_soc": {"query": "analyst", "limit": 3, "properties": [{"pid": "soc2020", "v": "3544"}]},
        "contradicted": {"query": "Senior Data Analyst", "properties": [{"pid": "isco", "v": "C2120"}]},
        "by_code_only": {"properties": [{"pid": "isco", "v": ["2511"]}], "type": ROLE, "limit": 10},
        "by_entity_value": {"properties": [{"pid": "soc2020", "v": {"id": f"{ID}soc2020/2212", "name": "2212"}}],
                            "type": GROUP},
        "unknown_pid": {"query": "Senior Data Analyst", "properties": [{"pid": "colour", "v": "blue"}]},
    }
    results = post_queries(client, queries)
    assert set(results) == set(queries)
    plain = {r["id"]: r for r in results["plain"]["result"]}
    with_soc = results["with_soc"]["result"]
    assert with_soc[0]["id"] == DATA_ANALYST and with_soc[0]["match"] is True
    assert with_soc[0]["score"] > plain[DATA_ANALYST]["score"]
    contradicted = results["contradicted"]["result"][0]
    assert contradicted["id"] == DATA_ANALYST and contradicted["match"] is False and contradicted["score"] < 100
    assert {r["id"] for r in results["by_code_only"]["result"]} == {
        DATA_ANALYST, f"{ID}role/data-engineer", f"{ID}role/data-scientist"}
    by_entity_value = {r["id"] for r in results["by_entity_value"]["result"]}
    assert by_entity_value == {RADIOLOGY, f"{ID}workforce-group/medic-cardiology"}
    assert results["unknown_pid"]["result"][0]["match"] is True


@pytest.mark.parametrize(
    ("queries", "words"),
    [
        ("{not json", ["not JSON"]),
        ("", ["empty"]),
        ("[1, 2]", ["object"]),
        ('{"q0": "data analyst"}', ["queries.q0"]),
        ('{"q0": {"limit": 3}}', ["query"]),
        ('{"q0": {"query": 42}}', ["query"]),
        ('{"q0": {"query": "x", "limit": "many"}}', ["limit"]),
        ('{"q0": {"query": "x", "limit": 0}}', ["limit"]),
        ('{"q0": {"query": "x", "type": 7}}', ["type"]),
        ('{"q0": {"query": "x", "properties": [{"p": "soc2020", "v": "1"}]}}', ["properties[0]"]),
    ],
)
def test_malformed_queries_are_400(client, queries, words):
    assert_error(client.post("/reconcile", data={"queries": queries}), 400, *words)
    assert_error(client.get("/reconcile", query_string={"queries": queries}), 400, *words)


def test_a_post_without_queries_is_400(client):
    assert_error(client.post("/reconcile", data={"query": "data analyst"}), 400, "queries")


def test_parse_query_batch_needs_no_flask():
    queries = protocol.parse_query_batch('{"a": {"query": "x", "type": ["role", {"id": "y"}], "limit": 3.0}}')
    assert queries["a"].types == ("role", "y") and queries["a"].limit == 3
    with pytest.raises(BadRequest) as error:
        protocol.parse_query_batch(json.dumps({f"q{n}": {"query": "x"} for n in range(protocol.MAX_QUERIES + 1)}))
    assert error.value.status == 400 and error.value.title == "Malformed reconciliation request"


# -- suggest ------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["0.2", "1.0-draft"])
def test_suggest_entity(client, version):
    root = "/reconcile" if version == "0.2" else "/reconcile/1.0-draft"
    response = client.get(f"{root}/suggest/entity", query_string={"prefix": "data"})
    conforms(response.json, "suggest-entities-response", version)
    ids = [r["id"] for r in response.json["result"]]
    assert DATA_ANALYST in ids[:3]
    assert all(r["notable"] for r in response.json["result"])
    typed = client.get(f"{root}/suggest/entity", query_string={"prefix": "rad", "type": GROUP}).json
    conforms(typed, "suggest-entities-response", version)
    assert {r["id"] for r in typed["result"]} == {RADIOLOGY, f"{ID}workforce-group/diagnostic-radiographer"}
    assert client.get(f"{root}/suggest/entity", query_string={"prefix": "zzzz"}).json == {"result": []}


def test_suggest_entity_pages_with_the_cursor(client):
    def page(**params):
        return client.get("/reconcile/suggest/entity", query_string={"prefix": "d", **params}).json["result"]

    first, second, everything = page(limit=3), page(limit=3, cursor=3), page(limit=50)
    assert len(first) == 3 and everything[:6] == first + second
    assert_error(client.get("/reconcile/suggest/entity", query_string={"prefix": "d", "cursor": "x"}), 400, "cursor")


@pytest.mark.parametrize("version", ["0.2", "1.0-draft"])
def test_suggest_type_and_property(client, version):
    root = "/reconcile" if version == "0.2" else "/reconcile/1.0-draft"
    types = client.get(f"{root}/suggest/type", query_string={"prefix": "work"}).json
    conforms(types, "suggest-types-response", version)
    assert [t["id"] for t in types["result"]] == [GROUP]
    every_type = client.get(f"{root}/suggest/type", query_string={"prefix": ""}).json
    assert [t["id"] for t in every_type["result"]] == [ROLE, GROUP, ORGANISATION, INITIATIVE, *CLASSIFICATIONS]
    props = client.get(f"{root}/suggest/property", query_string={"prefix": "soc"}).json
    conforms(props, "suggest-properties-response", version)
    assert [p["id"] for p in props["result"]] == ["soc2020", "soc2020_title", "soc2020_predicate"]
    isco = client.get(f"{root}/suggest/property", query_string={"prefix": "ISCO"}).json
    assert [p["id"] for p in isco["result"]] == ["isco", "isco_title", "isco_predicate"]


# -- preview and view ---------------------------------------------------------------------------


def test_preview(client):
    response = client.get("/reconcile/preview", query_string={"id": DATA_ANALYST})
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    page = response.get_data(as_text=True)
    for text in ("data analyst", "Role concept", "3544 Data analysts", "2511 Systems analysts", "exact match",
                 "width:420px", "height:220px"):
        assert text in page, text
    no_code = client.get("/reconcile/preview", query_string={"id": CLINICAL_INFORMATICIAN}).get_data(as_text=True)
    assert "no code" in no_code and "No SOC 2020 unit group lists clinical informatician" in no_code
    assert_error(client.get("/reconcile/preview", query_string={"id": f"{ID}role/nobody"}), 404, "nobody")
    assert_error(client.get("/reconcile/preview"), 400, "id")


def test_view_leads_to_the_entity(client):
    response = client.get("/reconcile/view", query_string={"id": RADIOLOGY})
    assert response.status_code == 303
    assert response.headers["Location"] == "/doc/workforce-group/medic-clinical-radiology"
    assert_error(client.get("/reconcile/view", query_string={"id": f"{ID}role/nobody"}), 404)


def test_the_catalogue_and_matcher_are_made_once_per_build(seeded_settings, monkeypatch):
    from nhs_ai_workforce.web import reconcile as view

    made = []
    real = view.load_catalogue
    monkeypatch.setattr(view, "load_catalogue", lambda store, base: made.append(base) or real(store, base=base))
    client = create_app({"SETTINGS": seeded_settings, "TESTING": True}).test_client()
    queries = json.dumps({"q0": {"query": "data analyst"}})
    for path, params in (("/reconcile/suggest/entity", {"prefix": "data"}), ("/reconcile", {"queries": queries}),
                         ("/reconcile/preview", {"id": DATA_ANALYST})):
        assert client.get(path, query_string=params).status_code == 200
    assert made == [Settings().base]


@pytest.fixture
def hostile_client(settings, ns):
    """An app over a small store whose role concept is labelled with markup."""
    hostile = ns.thing("role", "hostile")
    rows = [
        *sample_triples(ns),
        ("background", hostile, vocab.RDF.type, ns.AIWF.RoleConcept),
        ("background", hostile, vocab.SKOS.prefLabel, Literal('<script>alert("x")</script> analyst', lang="en")),
        ("background", hostile, vocab.SKOS.definition,
         Literal("Says <b>bold</b> & <img src=x onerror=alert(1)>", lang="en")),
    ]
    make_live(settings, make_dataset(ns, rows))
    app = create_app({"SETTINGS": settings, "TESTING": True})
    return app.test_client(), str(hostile)


def test_preview_escapes_markup_in_labels(hostile_client):
    client, hostile = hostile_client
    page = client.get("/reconcile/preview", query_string={"id": hostile}).get_data(as_text=True)
    assert "<script" not in page and "<img" not in page and "<b>" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; analyst" in page  # the template escapes every value
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    suggested = client.get("/reconcile/suggest/entity", query_string={"prefix": "<script"}).json
    assert suggested["result"][0]["name"] == '<script>alert("x")</script> analyst'  # JSON carries it verbatim


# -- data extension -----------------------------------------------------------------------------


def test_property_proposal(client):
    for params in ({"type": ROLE}, {"type": ORGANISATION, "limit": 2}, {}):
        response = client.get("/reconcile/propose_properties", query_string=params)
        conforms(response.json, "data-extension-property-proposal")
    role = client.get("/reconcile/propose_properties", query_string={"type": ROLE}).json
    assert {"soc2020", "isco", "esco", "ddat", "definition"} <= {p["id"] for p in role["properties"]}
    assert role["type"] == ROLE
    organisation = client.get("/reconcile/propose_properties", query_string={"type": ORGANISATION}).json
    assert "soc2020" not in {p["id"] for p in organisation["properties"]}


def test_data_extension(client):
    query = {"ids": [DATA_ANALYST, CLINICAL_INFORMATICIAN, f"{ID}role/nobody"],
             "properties": [{"id": p} for p in ("soc2020", "soc2020_title", "soc2020_predicate", "isco", "esco",
                                                "esco_predicate", "ddat", "no_code", "definition", "broader")]}
    conforms(query, "data-extension-query")
    response = client.post("/reconcile", data={"extend": json.dumps(query)})
    assert response.status_code == 200
    body = response.json
    conforms(body, "data-extension-response")
    assert client.get("/reconcile", query_string={"extend": json.dumps(query)}).json == body
    analyst = body["rows"][DATA_ANALYST]
    assert analyst["soc2020"] == [{"str": "3544"}]
    assert analyst["soc2020_title"] == [{"str": "Data analysts"}]
    assert analyst["soc2020_predicate"] == [{"str": "skos:broadMatch"}]
    assert analyst["esco_predicate"] == [{"str": "skos:exactMatch"}]
    assert analyst["isco"] == [{"str": "2511"}]
    assert analyst["esco"] == [{"id": "http://data.europa.eu/esco/occupation/d3edb8f8-3a06-47a0-8fb9-9b212c006aa2",
                                "name": "data analyst"}]
    assert analyst["ddat"][0]["id"] == "https://ddat-capability-framework.service.gov.uk/role/data-analyst"
    informatician = body["rows"][CLINICAL_INFORMATICIAN]
    assert informatician["soc2020"] == []
    assert any("SOC 2020" in value["str"] for value in informatician["no_code"])
    # a concept with no code in a scheme says why: the curator's reason, or that none is curated
    ai = client.post("/reconcile", data={"extend": json.dumps(
        {"ids": [f"{ID}role/ai-professional"], "properties": [{"id": "soc2020"}, {"id": "no_code"}]})}).json
    reasons = [value["str"] for value in ai["rows"][f"{ID}role/ai-professional"]["no_code"]]
    assert ai["rows"][f"{ID}role/ai-professional"]["soc2020"] == []
    assert any(r.startswith("SOC 2020: No SOC 2020 Volume 1 unit group") for r in reasons), reasons
    assert "ESCO occupation: no mapping has been curated yet" in reasons
    assert all(values == [] for values in body["rows"][f"{ID}role/nobody"].values())
    assert_error(client.post("/reconcile", data={"extend": '{"ids": "x"}'}), 400, "ids")


# -- the 1.0 draft ------------------------------------------------------------------------------


def test_draft_manifest(client):
    manifest = client.get("/reconcile/1.0-draft").json
    conforms(manifest, "manifest", "1.0-draft")
    assert manifest["versions"] == ["1.0-draft"]
    assert manifest["view"]["url"] == "http://localhost/reconcile/1.0-draft/view?id={id}"


@pytest.mark.parametrize("path", ["/reconcile/match", "/reconcile/1.0-draft/match"])
def test_draft_match(client, path):
    batch = {"queries": [
        {"conditions": [{"matchType": "name", "propertyValue": "Senior Data Analyst"}]},
        {"type": GROUP, "limit": 3, "conditions": [{"matchType": "name", "propertyValue": "Consultant radiologist"}]},
        {"conditions": [{"matchType": "name", "propertyValue": "Plumber"}]},
        {"conditions": [{"matchType": "name", "propertyValue": "analyst"},
                        {"matchType": "property", "propertyId": "soc2020", "propertyValue": "3544", "required": True}]},
        {"conditions": [{"matchType": "id", "propertyValue": RADIOLOGY}]},
    ]}
    conforms(batch, "reconciliation-query-batch", "1.0-draft")
    response = client.post(path, json=batch)
    assert response.status_code == 200, response.get_data(as_text=True)
    conforms(response.json, "reconciliation-result-batch", "1.0-draft")
    results = [r["candidates"] for r in response.json["results"]]
    assert len(results) == 5
    assert results[0][0]["id"] == DATA_ANALYST and results[0][0]["match"] is True
    assert results[1][0]["id"] == RADIOLOGY and len(results[1]) <= 3
    assert not any(c["match"] for c in results[2])
    assert [c["id"] for c in results[3]] == [DATA_ANALYST]
    assert results[4] == [{"id": RADIOLOGY, "name": "Medic, Clinical Radiology", "score": 100.0, "match": True,
                           "type": [{"id": GROUP, "name": "Workforce group"}],
                           "description": "Doctors working in clinical radiology."}]


@pytest.mark.parametrize("body", ["{oops", "[]", '{"queries": [{"conditions": []}]}',
                                  '{"queries": [{"conditions": [{"matchType": "colour", "propertyValue": "x"}]}]}', ""])
def test_draft_match_refuses_malformed_batches(client, body):
    assert_error(client.post("/reconcile/match", data=body, content_type="application/json"), 400)


def test_draft_extend_and_proposal(client):
    query = {"ids": [DATA_ANALYST], "properties": [{"id": "soc2020"}, {"id": "esco"}]}
    conforms(query, "data-extension-query", "1.0-draft")
    body = client.post("/reconcile/1.0-draft/extend", json=query).json
    conforms(body, "data-extension-response", "1.0-draft")
    assert body["rows"][0]["properties"][0] == {"id": "soc2020", "values": [{"str": "3544"}]}
    proposal = client.get("/reconcile/1.0-draft/extend/propose", query_string={"type": ROLE}).json
    conforms(proposal, "data-extension-property-proposal", "1.0-draft")


# -- CORS ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/reconcile", "/reconcile/suggest/entity", "/reconcile/match",
                                  "/reconcile/preview", "/reconcile/1.0-draft/extend"])
def test_cors_preflight(client, path):
    response = client.options(path, headers={
        "Origin": "https://openrefine.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert response.status_code in (200, 204)
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "GET" in response.headers["Access-Control-Allow-Methods"] or "POST" in response.headers[
        "Access-Control-Allow-Methods"]
    assert "content-type" in response.headers["Access-Control-Allow-Headers"].lower()


def test_cors_on_every_answer(client):
    origin = {"Origin": "https://openrefine.example"}
    for response in (
        client.get("/reconcile", headers=origin),
        client.post("/reconcile", data={"queries": '{"q0": {"query": "x"}}'}, headers=origin),
        client.get("/reconcile/suggest/type", headers=origin),
        client.get("/reconcile/preview", query_string={"id": DATA_ANALYST}, headers=origin),
        client.post("/reconcile", data={"queries": "{"}, headers=origin),
    ):
        assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_no_store_is_503_and_the_manifest_still_needs_none(tmp_path):
    app = create_app({"SETTINGS": Settings(root=tmp_path), "TESTING": True})
    client = app.test_client()
    conforms(client.get("/reconcile").json, "manifest")
    response = client.post("/reconcile", data={"queries": '{"q0": {"query": "x"}}'})
    assert response.status_code == 503
    assert response.headers["Access-Control-Allow-Origin"] == "*"


# -- a real server, as OpenRefine uses it --------------------------------------------------------


@pytest.fixture(scope="module")
def server(site):
    """A real server over the real seeds: the embedded store, then a remote one (conftest's ``site``)."""
    return site


@pytest.mark.slow
def test_openrefine_style_session_against_a_real_server(server):
    with urllib.request.urlopen(f"{server}/reconcile", timeout=10) as response:
        manifest = json.load(response)
    conforms(manifest, "manifest")
    assert manifest["preview"]["url"] == f"{server}/reconcile/preview?id={{{{id}}}}"
    queries = {"q0": {"query": "Senior Data Analyst", "type": ROLE, "type_strict": "should"},
               "q1": {"query": "Consultant radiologist", "type": GROUP},
               "q2": {"query": "Plumber"}}
    conforms(queries, "reconciliation-query-batch")
    body = urllib.parse.urlencode({"queries": json.dumps(queries)}).encode()
    request = urllib.request.Request(
        f"{server}/reconcile", data=body, method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=UTF-8", "Origin": "http://127.0.0.1:3333"})
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        results = json.load(response)
    conforms(results, "reconciliation-result-batch")
    assert results["q0"]["result"][0]["id"] == DATA_ANALYST and results["q0"]["result"][0]["match"] is True
    assert results["q1"]["result"][0]["id"] == RADIOLOGY
    assert not any(r["match"] for r in results["q2"]["result"])
    preview = manifest["preview"]["url"].replace("{{id}}", urllib.parse.quote(DATA_ANALYST, safe=""))
    with urllib.request.urlopen(preview, timeout=10) as response:
        assert response.headers.get_content_type() == "text/html"
        assert "3544" in response.read().decode()



# -- the classifications as types ---------------------------------------------------------------


def test_a_title_reconciles_to_a_soc_2020_unit_group_by_type(client):
    """SOC 2020 unit groups are a type of their own: the seeds' 13 without an import."""
    query = {"q0": {"query": "Senior Data Analyst", "type": f"{BASE}/id/scheme/soc2020", "limit": 3}}
    result = client.post("/reconcile", data={"queries": json.dumps(query)}).json["q0"]["result"]
    best = result[0]
    assert best["id"] == f"{ID}soc2020/3544" and best["name"] == "Data analysts" and best["match"] is True
    assert best["type"] == [{"id": f"{BASE}/id/scheme/soc2020", "name": "SOC 2020 unit group"}]


def test_an_untyped_query_finds_only_the_projects_own_kinds(client):
    """Classifications answer only when asked for: an untyped query keeps its project candidates."""
    result = client.post("/reconcile", data={"queries": json.dumps({"q0": {"query": "data analyst"}})}).json
    ids = [candidate["id"] for candidate in result["q0"]["result"]]
    assert ids[0] == DATA_ANALYST and result["q0"]["result"][0]["match"] is True
    assert not [i for i in ids if "/soc2020/" in i or i.startswith("http://data.europa.eu/esco/")]
