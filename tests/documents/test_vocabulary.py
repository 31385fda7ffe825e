"""The vocabulary browser (``web/vocabulary.py``, ``documents/vocabulary*.py``) through Flask's test client.

Over the real graph built from the seeds: the scheme list, the role terms' alphabetical index
(every preferred and alternative label, no hidden one) and hierarchy, the data scientist's page
(labels, relations, SSSOM mappings, each initiative's wording, the findings about it), content
negotiation and the one error shape. Over a small made-up scheme: a big index goes one letter
at a time and a big hierarchy stays folded.
"""

from __future__ import annotations

import csv
import html
import re

import pytest
from rdflib import Dataset, Literal, URIRef
from rdflib import namespace as vocab

from conftest import make_live
from nhs_ai_workforce.core.namespaces import ProjectNamespaces
from nhs_ai_workforce.core.settings import Settings
from nhs_ai_workforce.documents import vocabulary
from nhs_ai_workforce.web.app import create_app
from servers import ROOT

NS = ProjectNamespaces()
ROLE = f"{NS.base}/id/role/"
KEYS = {"ok", "status", "title", "error", "line", "column"}
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
SKOS = vocab.SKOS


@pytest.fixture(scope="module")
def client(seeded_store):
    settings = Settings().with_(store_dir=seeded_store)
    return create_app({"SETTINGS": settings, "EXECUTOR": "in-process"}).test_client()


def get_json(client, path: str, **kwargs) -> dict:
    response = client.get(path, headers={"Accept": "application/json"}, **kwargs)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    return response.get_json()


def refused(response, status: int, *needles: str) -> dict:
    """``response`` is the one JSON error shape with ``status``; its message names ``needles``."""
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == KEYS and body["ok"] is False and body["status"] == status
    for needle in needles:
        assert needle in body["error"]
    return body


def role_rows() -> list[dict]:
    with (ROOT / "seeds" / "role_concepts.csv").open(encoding="utf-8") as file:
        return list(csv.DictReader(file))


# -- the scheme list ----------------------------------------------------------------------------


def test_the_list_names_every_scheme_with_its_concept_count(client):
    schemes = {s["key"]: s for s in get_json(client, "/vocab/")["schemes"]}
    assert {"role-terms", "ai-roadmap-workforce-groups", "ai-roadmap-clinical-areas", "ai-roadmap-technology-types",
            "statistics", "soc2020", "esco-occupations", "esco-isco"} <= set(schemes)
    roles = schemes["role-terms"]
    assert roles["concepts"] == len(role_rows()) == 16
    assert roles["iri"] == f"{NS.base}/id/scheme/role-terms"
    assert roles["title"] == "Digital, data and AI workforce role terms"
    assert (roles["href"], roles["json"], roles["document"]) == \
        ("/vocab/role-terms", "/vocab/role-terms.json", "/doc/scheme/role-terms")
    assert roles["graphs"] == ["background"]
    assert schemes["esco-isco"]["iri"] == "http://data.europa.eu/esco/concept-scheme/isco"
    assert schemes["soc2020"]["concepts"] == 13


def test_the_list_page_links_every_scheme_and_the_nav_links_the_list(client):
    page = client.get("/vocab/", headers={"Accept": BROWSER}).get_data(as_text=True)
    assert '<a href="/vocab/role-terms">Digital, data and AI workforce role terms</a>' in page
    assert '<a href="/vocab/">Vocabularies</a>' in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize("path", ["/vocab/role-terms.json", "/vocab/role-terms?format=json",
                                  "/vocab/role-terms?format=application/json"])
def test_json_by_suffix_or_format_is_the_negotiated_json(client, path):
    negotiated = get_json(client, "/vocab/role-terms")
    response = client.get(path, headers={"Accept": BROWSER})
    assert response.mimetype == "application/json"
    assert response.get_json() == negotiated


def test_html_by_default_and_for_browsers_json_by_accept_with_vary(client):
    for accept in (None, "*/*", BROWSER):
        response = client.get("/vocab/role-terms", headers={"Accept": accept} if accept else {})
        assert response.mimetype == "text/html"
    response = client.get("/vocab/role-terms", headers={"Accept": "application/json"})
    assert response.mimetype == "application/json"
    assert "Accept" in {value.strip() for value in response.headers["Vary"].split(",")}
    assert response.headers["Link"] == '</vocab/role-terms.json>; rel="alternate"; type="application/json"'
    again = client.get("/vocab/role-terms", headers={"Accept": "application/json",
                                                     "If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304
    fixed = client.get("/vocab/role-terms.json").headers.get("Vary", "")
    assert "Accept" not in {value.strip() for value in fixed.split(",")}


@pytest.mark.parametrize(("path", "headers"), [
    ("/vocab/role-terms", {"Accept": "image/png"}),
    ("/vocab/role-terms?format=xml", {}),
    ("/vocab/?format=ttl", {}),
    ("/vocab/role-terms/role/data-scientist", {"Accept": "text/csv"}),
])
def test_an_unacceptable_type_is_the_one_406(client, path, headers):
    refused(client.get(path, headers=headers), 406, "vocabulary page")


# -- errors ---------------------------------------------------------------------------------------


def test_an_unknown_scheme_is_the_one_404_with_the_schemes_as_suggestions(client):
    refused(client.get("/vocab/role-term"), 404, "'role-term'", "/vocab/")
    refused(client.get("/vocab/role-term.json"), 404, "'role-term'")
    refused(client.get("/vocab/role-term/role/data-scientist"), 404, "'role-term'")
    page = client.get("/vocab/role-term", headers={"Accept": BROWSER})
    assert page.status_code == 404 and page.mimetype == "text/html"
    assert '<a href="/vocab/role-terms">Digital, data and AI workforce role terms</a>' in page.get_data(as_text=True)


def test_an_unknown_concept_is_the_one_404_naming_the_nearest(client):
    refused(client.get("/vocab/role-terms/role/data-scientst"), 404, "role-terms", "role/data-scientst")
    page = client.get("/vocab/role-terms/role/data-scientst", headers={"Accept": BROWSER}).get_data(as_text=True)
    assert '<a href="/vocab/role-terms/role/data-scientist">data scientist</a>' in page
    refused(client.get("/vocab/role-terms/page", query_string={"uri": "http://example.org/x"}), 404)
    refused(client.get("/vocab/role-terms/role/<x>.json"), 404)


def test_a_concept_asked_for_in_the_wrong_scheme_is_a_404_naming_its_scheme(client):
    body = refused(client.get("/vocab/role-terms/soc2020/3544"), 404, "it is in soc2020")
    assert "soc2020/3544" in body["error"]
    page = client.get("/vocab/role-terms/soc2020/3544", headers={"Accept": BROWSER}).get_data(as_text=True)
    assert 'href="/vocab/soc2020/soc2020/3544"' in page


@pytest.mark.parametrize(("query", "status", "needle"), [
    ({"letter": "ZZ"}, 400, "letter='ZZ'"),
    ({"page": "two"}, 400, "page='two'"),
    ({"page": "0"}, 400, "page=0"),
    ({"page": "2"}, 404, "one page"),
    ({"letter": "D", "page": "9"}, 404, "1 page(s)"),
])
def test_bad_index_parameters_are_refused_in_the_error_shape(client, query, status, needle):
    refused(client.get("/vocab/role-terms", query_string=query), status, needle)


def test_page_without_uri_is_a_400(client):
    refused(client.get("/vocab/role-terms/page"), 400, "?uri=")


# -- the alphabetical index -----------------------------------------------------------------------


def test_the_role_terms_index_lists_every_preferred_and_alternative_label_but_no_hidden_one(client):
    index = get_json(client, "/vocab/role-terms")["index"]
    assert index["inline"] is True and index["letter"] is None
    entries = [entry for section in index["sections"] for entry in section["entries"]]
    expected = set()
    for row in role_rows():
        expected.add((row["pref_label"], None))
        expected |= {(alt, row["pref_label"]) for alt in row["alt_labels"].split("|") if alt}
    assert {(e["label"], e["preferred"]) for e in entries} == expected
    assert index["total"] == len(entries) == len(expected)
    hidden = {h for row in role_rows() for h in row["hidden_labels"].split("|") if h}
    assert hidden and not hidden & {e["label"] for e in entries}
    # each section holds the labels of its letter, in alphabetical order
    for section in index["sections"]:
        labels = [e["label"] for e in section["entries"]]
        assert labels == sorted(labels, key=str.casefold)
        assert all(vocabulary.letter_of(label) == section["letter"] for label in labels)
        assert section["anchor"] == f"letter-{section['letter']}" and section["total"] == len(labels)


def test_index_entries_point_at_their_concept(client):
    index = get_json(client, "/vocab/role-terms")["index"]
    d = next(section for section in index["sections"] if section["letter"] == "D")
    by_label = {e["label"]: e for e in d["entries"]}
    assert by_label["data scientist"] == {
        "label": "data scientist", "language": "en", "type": "prefLabel", "preferred": None,
        "concept": ROLE + "data-scientist", "href": "/vocab/role-terms/role/data-scientist"}
    assert by_label["data scientists"]["type"] == "altLabel"
    assert by_label["data scientists"]["preferred"] == "data scientist"
    assert by_label["data scientists"]["href"] == "/vocab/role-terms/role/data-scientist"
    letters = {letter["letter"]: letter for letter in index["letters"]}
    assert [letter["letter"] for letter in index["letters"]][:26] == [chr(c) for c in range(65, 91)]
    assert letters["D"]["href"] == "#letter-D" and letters["D"]["count"] == len(d["entries"])
    assert letters["E"] == {"letter": "E", "name": "E", "count": 0, "href": None}


def test_the_index_page_shows_alternatives_as_alt_to_preferred(client):
    page = html.unescape(client.get("/vocab/role-terms", headers={"Accept": BROWSER}).get_data(as_text=True))
    assert '<a href="#letter-D" title="15 labels">D</a>' in page
    assert '<section class="letter-section" id="letter-D"' in page
    assert '<li class="alt-label"><a href="/vocab/role-terms/role/data-scientist"><i>data scientists</i> → ' \
           'data scientist</a></li>' in page
    assert '<li class="pref-label"><a href="/vocab/role-terms/role/data-scientist">data scientist</a></li>' in page


def test_one_letter_of_the_index_on_its_own(client):
    index = get_json(client, "/vocab/role-terms", query_string={"letter": "C"})["index"]
    assert index["inline"] is False and index["letter"] == "C"
    assert [s["letter"] for s in index["sections"]] == ["C"]
    assert {e["label"] for e in index["sections"][0]["entries"]} >= {"clinical informatician", "clinical scientists"}
    letters = {letter["letter"]: letter for letter in index["letters"]}
    assert letters["C"]["href"] == "#letter-C"
    assert letters["D"]["href"] == "/vocab/role-terms?letter=D#letter-D"


# -- the hierarchy --------------------------------------------------------------------------------


def _find(nodes: list[dict], concept: str) -> dict | None:
    for node in nodes:
        if node["concept"] == concept:
            return node
        found = _find(node["narrower"] or [], concept)
        if found:
            return found
    return None


def test_the_hierarchy_nests_narrower_concepts_under_their_broader(client):
    view = get_json(client, "/vocab/role-terms")
    assert view["hierarchy_complete"] is True
    tops = {node["label"] for node in view["hierarchy"]}
    assert {"NHS digital technology and health informatics workforce", "AI professional", "data engineer"} <= tops
    assert "data analyst" not in tops and view["top_concepts"] == len(view["hierarchy"])
    workforce = _find(view["hierarchy"], ROLE + "digital-and-informatics-workforce")
    informatics = workforce["narrower"][0]
    assert informatics["concept"] == ROLE + "clinical-informatics-professional"
    children = [node["label"] for node in informatics["narrower"]]
    assert children == sorted(children, key=str.casefold)
    assert {"data analyst", "data scientist", "statistician", "clinical informatician"} <= set(children)
    assert informatics["count"] == len(children)
    analyst = _find(informatics["narrower"], ROLE + "data-analyst")
    assert analyst == {"concept": ROLE + "data-analyst", "label": "data analyst", "notation": None,
                       "href": "/vocab/role-terms/role/data-analyst", "count": 0, "narrower": []}


def test_the_hierarchy_page_is_nested_details_closed_until_expanded(client):
    page = client.get("/vocab/role-terms", headers={"Accept": BROWSER}).get_data(as_text=True)
    nested = re.search(r'<details>\s*<summary><a href="/vocab/role-terms/role/clinical-informatics-professional">'
                       r'clinical informatics professional</a> <span class="count">\(7\)</span></summary>\s*<ul>'
                       r'(.*?)</ul>\s*</details>', page, re.S)
    assert nested and 'href="/vocab/role-terms/role/data-analyst">data analyst</a>' in nested.group(1)
    assert "<details open>" not in page
    expanded = client.get("/vocab/role-terms?expand=all", headers={"Accept": BROWSER}).get_data(as_text=True)
    assert expanded.count("<details open>") == 2 and "<details>" not in expanded


def test_notations_order_a_classification(client):
    view = get_json(client, "/vocab/soc2020")
    codes = [node["notation"] for node in view["hierarchy"]]
    assert codes == sorted(codes) and codes[0] == "2112"


# -- a concept ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def data_scientist(client) -> dict:
    return get_json(client, "/vocab/role-terms/role/data-scientist")


def test_a_concept_has_its_labels_definition_and_relations(data_scientist):
    view = data_scientist
    assert view["concept"] == ROLE + "data-scientist" and view["label"] == "data scientist"
    assert view["prefLabel"] == [{"value": "data scientist", "language": "en"}]
    assert view["altLabel"] == [{"value": "data scientists", "language": "en"}]
    assert {h["value"] for h in view["hiddenLabel"]} == {"data sceintist", "data scientest"}
    assert view["definition"][0]["value"].startswith("A professional who uses statistical")
    assert [b["concept"] for b in view["broader"]] == [ROLE + "clinical-informatics-professional"]
    assert view["broader"][0]["href"] == "/vocab/role-terms/role/clinical-informatics-professional"
    assert view["narrower"] == [] and view["related"] == []
    assert [p["label"] for p in view["path"]] == ["NHS digital technology and health informatics workforce",
                                                  "clinical informatics professional"]
    assert view["scheme"]["key"] == "role-terms" and view["document"] == "/doc/role/data-scientist"
    assert view["top_concept"] is False
    assert view["notes"][0]["type"] == "editorialNote"


def test_a_concept_has_its_mappings_with_predicate_and_justification(data_scientist):
    mappings = {m["object_id"]: m for m in data_scientist["mappings"]}
    esco = mappings["http://data.europa.eu/esco/occupation/258e46f9-0075-4a2e-adae-1ff0477e0f30"]
    assert esco["predicate_id"] == "skos:exactMatch"
    assert esco["mapping_justification"] == "semapv:ManualMappingCuration"
    assert esco["justification_iri"] == "https://w3id.org/semapv/vocab/ManualMappingCuration"
    assert (esco["confidence"], esco["comment"], esco["object_label"]) == (0.95, "Same name and scope.",
                                                                          "data scientist")
    assert esco["record_id"] == f"{NS.base}/id/mapping/data-scientist-esco"
    assert esco["object_href"] == "/vocab/esco-occupations/occupation/258e46f9-0075-4a2e-adae-1ff0477e0f30"
    assert esco["mapping_date"] == "2026-11-28" and esco["author_id"] == f"{NS.base}/id/organisation/aiwf-project"
    isco = mappings["http://data.europa.eu/esco/isco/C2511"]
    assert (isco["predicate_id"], isco["object_notation"], isco["object_href"]) == \
        ("skos:broadMatch", "2511", "/vocab/esco-isco/isco/C2511")
    none = mappings["https://w3id.org/sssom/NoTermFound"]
    assert none["no_term_found"] is True and none["confidence"] == 0.5
    assert none["object_source"] == f"{NS.base}/id/scheme/soc2020"
    # entailed statements (a closeMatch from each exactMatch) are not mappings of their own
    assert {m["predicate_id"] for m in data_scientist["mappings"]} == {"skos:exactMatch", "skos:broadMatch"}
    assert len(data_scientist["mappings"]) == 4


def test_a_concept_has_the_wording_each_initiative_uses(data_scientist):
    wordings = {(w["initiative"].rsplit("/", 1)[-1], w["wording"], w["matches"]) for w in data_scientist["wordings"]}
    assert wordings == {("this-research", "data scientists", "altLabel"),
                        ("data-driven-healthcare-2030", "data scientists", "altLabel")}
    ddh = next(w for w in data_scientist["wordings"] if w["initiative"].endswith("data-driven-healthcare-2030"))
    assert ddh["initiative_href"] == "/doc/initiative/data-driven-healthcare-2030"
    assert [s["href"] for s in ddh["sections"]] == ["/doc/section/item-1"]


def test_a_concept_lists_the_findings_about_it(data_scientist):
    concerned = {c["iri"].rsplit("/", 1)[-1]: c for c in data_scientist["concerned_by"]}
    assert "highest-increase-2030" in concerned
    assert concerned["highest-increase-2030"]["types"] == ["Finding"]


def test_a_standard_code_lists_what_is_mapped_to_it(client):
    view = get_json(client, "/vocab/esco-isco/isco/C2511")
    assert view["label"] == "Systems analysts" and view["notation"][0]["value"] == "2511"
    sources = {(m["subject_id"], m["predicate_id"]) for m in view["mapped_from"]}
    assert (ROLE + "data-scientist", "skos:broadMatch") in sources
    row = next(m for m in view["mapped_from"] if m["subject_id"] == ROLE + "data-scientist")
    assert row["subject_href"] == "/vocab/role-terms/role/data-scientist"


def test_a_concept_outside_the_base_and_esco_is_known_by_its_uri(client):
    schemes = {s["key"]: s for s in get_json(client, "/vocab/")["schemes"]}
    ddat = next(s for s in schemes.values() if s["iri"] == "https://ddat-capability-framework.service.gov.uk")
    iri = "https://ddat-capability-framework.service.gov.uk/role/data-scientist"
    view = get_json(client, f"/vocab/{ddat['key']}/page", query_string={"uri": iri})
    assert view["concept"] == iri and view["label"] == "Data scientist"
    assert view["href"].startswith(f"/vocab/{ddat['key']}/page?uri=https%3A%2F%2F")
    assert client.get(view["json"]).get_json() == view
    assert ROLE + "data-scientist" in {m["subject_id"] for m in view["mapped_from"]}


def test_the_concept_page_shows_the_same_facts(client):
    page = html.unescape(client.get("/vocab/role-terms/role/data-scientist",
                                    headers={"Accept": BROWSER}).get_data(as_text=True))
    assert "<h1>data scientist</h1>" in page
    for text in ("data sceintist", "data scientists", "Same name and scope.", "semapv:ManualMappingCuration",
                 "skos:broadMatch", "No term found", "\u2018data scientists\u2019", "Highest projected increase"):
        assert text in page, text
    assert '<a href="/vocab/esco-isco/isco/C2511">Systems analysts</a>' in page
    assert 'href="/vocab/role-terms/role/clinical-informatics-professional"' in page


def test_resource_pages_link_to_the_vocabulary_browser(client):
    scheme = client.get("/doc/scheme/role-terms", headers={"Accept": BROWSER}).get_data(as_text=True)
    assert 'class="vocabulary-links">In the vocabulary browser: <a href="/vocab/role-terms">' in scheme
    concept = client.get("/doc/role/data-scientist", headers={"Accept": BROWSER}).get_data(as_text=True)
    assert '<a href="/vocab/role-terms/role/data-scientist">' in concept
    other = client.get("/doc/initiative/ai-roadmap", headers={"Accept": BROWSER}).get_data(as_text=True)
    assert "vocabulary-links" not in other


# -- a big scheme ---------------------------------------------------------------------------------


@pytest.fixture
def big_client(tmp_path, monkeypatch):
    """A made-up scheme of 60 concepts (each with an alternative label) under 3 top concepts, with
    the index limit at 50 labels, 10 a page, and the tree at 40 nodes."""
    monkeypatch.setattr(vocabulary, "INLINE_LIMIT", 50)
    monkeypatch.setattr(vocabulary, "LETTER_PAGE", 10)
    monkeypatch.setattr(vocabulary, "TREE_BUDGET", 40)
    settings = Settings(root=tmp_path)
    ns = ProjectNamespaces(settings.base)
    dataset = Dataset()
    graph = dataset.graph(ns.graph("reference"))
    scheme = ns.thing("scheme", "big")
    graph.add((scheme, vocab.RDF.type, SKOS.ConceptScheme))
    graph.add((scheme, SKOS.prefLabel, Literal("Big scheme", lang="en")))
    tops = [ns.thing("code", f"top-{i}") for i in range(3)]
    for i, top in enumerate(tops):
        graph.add((top, SKOS.inScheme, scheme))
        graph.add((top, SKOS.topConceptOf, scheme))
        graph.add((top, SKOS.prefLabel, Literal(f"Top {i}", lang="en")))
    for i in range(60):
        concept = URIRef(ns.thing("code", f"c{i}"))
        graph.add((concept, SKOS.inScheme, scheme))
        graph.add((concept, SKOS.prefLabel, Literal(f"{'ABC'[i % 3]}-code {i:02d}", lang="en")))
        graph.add((concept, SKOS.altLabel, Literal(f"Alias {i:02d}", lang="en")))
        graph.add((concept, SKOS.broader, tops[i % 3] if i < 30 else ns.thing("code", f"c{i - 30}")))
    make_live(settings, dataset)
    return create_app({"SETTINGS": settings, "EXECUTOR": "in-process"}).test_client()


def test_a_big_index_goes_one_letter_at_a_time_in_pages(big_client):
    index = get_json(big_client, "/vocab/big")["index"]
    assert index["inline"] is False and index["letter"] == "A" and index["total"] == 123
    (section,) = index["sections"]
    assert (section["letter"], section["total"], section["pages"], len(section["entries"])) == ("A", 80, 8, 10)
    letters = {letter["letter"]: letter for letter in index["letters"]}
    assert letters["B"]["href"] == "/vocab/big?letter=B#letter-B"
    second = get_json(big_client, "/vocab/big", query_string={"letter": "A", "page": "8"})["index"]["sections"][0]
    assert second["page"] == 8 and len(second["entries"]) == 10
    page = big_client.get("/vocab/big?letter=A&page=2", headers={"Accept": BROWSER}).get_data(as_text=True)
    assert 'href="?letter=A&amp;page=3#letter-A" rel="next"' in page and 'rel="prev"' in page


def test_a_big_hierarchy_is_folded_past_its_budget(big_client):
    view = get_json(big_client, "/vocab/big")
    assert view["hierarchy_complete"] is False
    assert [node["label"] for node in view["hierarchy"]] == ["Top 0", "Top 1", "Top 2"]
    drawn = [0]

    def walk(nodes):
        for node in nodes:
            drawn[0] += 1
            if node["narrower"] is None:
                assert node["count"] > 0
            walk(node["narrower"] or [])

    walk(view["hierarchy"])
    assert drawn[0] == 40
    assert all(len(top["narrower"]) == 10 for top in view["hierarchy"])
    page = big_client.get("/vocab/big", headers={"Accept": BROWSER}).get_data(as_text=True)
    assert 'class="more" href="/vocab/big/code/c1#narrower-heading">1 narrower</a>' in page
    folded = get_json(big_client, "/vocab/big/code/c1")
    assert [n["concept"].rsplit("/", 1)[-1] for n in folded["narrower"]] == ["c31"]
