"""Links out: every IRI the data points to outside itself was checked, and links.csv says where.

An outbound IRI is an IRI in object position that is neither under the base nor in a vocabulary
namespace the ontology reuses. Each must be the identifier of a ``verified`` row of
``../shared/reference/identifiers.csv`` or match a verified ``uri_pattern`` row; two other
checked sources are accepted and named: the ESCO v1.2.0 reference tables (for the ESCO concept
scheme IRIs) and the web addresses the source document itself gives. The reference data is
read from ``$AIWF_SHARED`` or the ``shared`` directory beside the checkout.
"""

from __future__ import annotations

import csv
import os
import re
from functools import cache
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Graph
from rdflib.namespace import RDFS

from nhs_ai_workforce.core.namespaces import STANDARD_PREFIXES, ProjectNamespaces
from nhs_ai_workforce.core.settings import Settings

SETTINGS = Settings()
NS = ProjectNamespaces()
SHARED = Path(os.environ.get("AIWF_SHARED") or Path(__file__).resolve().parents[2].parent / "shared")
REFERENCE = SHARED / "reference"
IDENTIFIERS = REFERENCE / "identifiers.csv"
SOURCE_TEXT = SHARED / "seed" / "background.txt"
DUMP = SETTINGS.data_dir / "nhs-ai-workforce.nq"

pytestmark = pytest.mark.skipif(
    not IDENTIFIERS.is_file(),
    reason=f"no reference identifiers at {IDENTIFIERS}: set AIWF_SHARED to the directory holding reference/",
)

#: The licence the project publishes under (ontology header, SSSOM header, pyproject): not an identifier.
LICENCE = "http://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"
#: Reused vocabularies whose terms appear only as values, so the ontology declares none of them:
#: SSSOM's mapping-justification vocabulary (the mapping set's curie_map declares it).
VALUE_VOCABULARIES = ("https://w3id.org/semapv/vocab/",)
EVIDENCE = re.compile(r"identifiers\.csv: (?P<entity>.+) / (?P<kind>[a-z0-9_]+) \(verified\)")
ENGLAND = "http://statistics.data.gov.uk/id/statistical-geography/E92000001"


@cache
def verified_rows() -> tuple[dict[str, str], ...]:
    with IDENTIFIERS.open(newline="", encoding="utf-8") as handle:
        return tuple(row for row in csv.DictReader(handle) if row["confidence"] == "verified")


def pattern_regex(pattern: str) -> re.Pattern:
    """A ``uri_pattern`` row as a regular expression: each ``{placeholder}`` is one path segment or part."""
    parts = re.split(r"\{[^}]+\}", pattern)
    return re.compile("[^/]+".join(re.escape(part) for part in parts))


@cache
def verified_identifiers() -> frozenset[str]:
    return frozenset(row["identifier"] for row in verified_rows() if row["kind"] != "uri_pattern")


@cache
def verified_patterns() -> tuple[re.Pattern, ...]:
    return tuple(pattern_regex(row["identifier"]) for row in verified_rows() if row["kind"] == "uri_pattern")


@cache
def esco_reference_iris() -> frozenset[str]:
    """Concept and concept-scheme IRIs of the ESCO v1.2.0 reference tables."""
    found = set()
    for path in sorted(REFERENCE.glob("esco_*.csv")):
        with path.open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                found.add(row["conceptUri"])
                found.update(iri.strip() for iri in row["inScheme"].split(",") if iri.strip())
    return frozenset(found)


@cache
def source_addresses() -> frozenset[str]:
    """The web addresses the source document gives (its references)."""
    text = SOURCE_TEXT.read_text(encoding="utf-8") if SOURCE_TEXT.is_file() else ""
    return frozenset(match.rstrip(".,;)") for match in re.findall(r"https?://\S+", text))


@cache
def vocabulary_namespaces() -> tuple[str, ...]:
    """Namespaces of the vocabularies the ontology reuses, and the standard prefixes."""
    reused = Graph().parse(SETTINGS.ontology_dir / "reused.ttl", format="turtle")
    defined_by = {str(o) for o in reused.objects(None, RDFS.isDefinedBy)}
    return tuple(sorted({*defined_by, *STANDARD_PREFIXES.values(), *VALUE_VOCABULARIES}))


def checked_by(iri: str) -> str | None:
    """What vouches for ``iri``, or ``None``."""
    if iri in verified_identifiers():
        return "identifier"
    if any(p.fullmatch(iri) for p in verified_patterns()):
        return "uri_pattern"
    if iri in esco_reference_iris():
        return "ESCO reference table"
    if iri in source_addresses():
        return "source document"
    if iri == LICENCE:
        return "licence"
    return None


@cache
def outbound_iris() -> frozenset[str]:
    namespaces = vocabulary_namespaces()
    found = set()
    for quad in ox.parse(path=str(DUMP), format=ox.RdfFormat.N_QUADS):
        if isinstance(quad.object, ox.NamedNode):
            iri = quad.object.value
            if not iri.startswith(NS.base + "/") and not iri.startswith(namespaces):
                found.add(iri)
    return frozenset(found)


def test_every_outbound_iri_is_checked():
    unchecked = sorted(iri for iri in outbound_iris() if checked_by(iri) is None)
    assert unchecked == []


def test_the_check_refuses_what_was_not_verified():
    probable = [row["identifier"] for row in csv.DictReader(IDENTIFIERS.open(encoding="utf-8"))
                if row["confidence"] != "verified" and row["identifier"].startswith("http")]
    assert probable, "identifiers.csv has no unverified web identifiers to test with"
    for iri in probable:
        if iri not in verified_identifiers():
            assert checked_by(iri) is None, iri
    assert checked_by("http://statistics.data.gov.uk/id/statistical-geography/E92000001/extra") is None
    assert checked_by("http://reference.data.gov.uk/id/month/2022-01") == "uri_pattern"


def test_links_reach_each_kind_of_target():
    kinds = {checked_by(iri) for iri in outbound_iris()}
    assert {"identifier", "uri_pattern", "source document"} <= kinds
    assert ENGLAND in outbound_iris()
    assert any(iri.startswith("http://reference.data.gov.uk/id/month/") for iri in outbound_iris())


def links_rows() -> list[dict[str, str]]:
    with (SETTINGS.seeds_dir / "links.csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize("row", links_rows(), ids=lambda row: f"{row['subject']} {row['predicate']}")
def test_each_link_names_the_verified_row_it_comes_from(row):
    match = EVIDENCE.fullmatch(row["evidence"].strip())
    assert match, f"evidence must read 'identifiers.csv: <entity> / <kind> (verified)': {row['evidence']!r}"
    named = [r for r in verified_rows() if (r["entity"], r["kind"]) == (match["entity"], match["kind"])]
    assert named, f"no verified row for {match['entity']!r} / {match['kind']}"
    target = row["target"].strip()
    assert any(
        target == r["identifier"] or (r["kind"] == "uri_pattern" and pattern_regex(r["identifier"]).fullmatch(target))
        for r in named
    ), f"{target} is not the identifier of the row named"


@cache
def built() -> ox.Store:
    store = ox.Store()
    store.load(path=str(DUMP), format=ox.RdfFormat.N_QUADS)
    return store


def test_organisations_link_to_their_verified_govuk_pages():
    names = {row["entity"]: row["identifier"] for row in verified_rows() if row["kind"] == "govuk_org"}
    query = """SELECT ?org ?name { ?org a <http://www.w3.org/ns/org#Organization> ;
                                        <http://xmlns.com/foaf/0.1/name> ?name }"""
    checked = 0
    for row in built().query(query, use_default_graph_as_union=True):
        page = names.get(row["name"].value)
        if page:
            ask = f"ASK {{ {row['org']} <http://xmlns.com/foaf/0.1/page> <{page}> }}"
            assert built().query(ask, use_default_graph_as_union=True), (row["org"], page)
            checked += 1
    assert checked >= 2  # Health Education England and the Department of Health and Social Care


def test_only_health_education_england_is_scoped_to_england_and_says_why():
    spatial = list(built().query(
        "SELECT ?thing ?place { ?thing <http://purl.org/dc/terms/spatial> ?place }", use_default_graph_as_union=True))
    assert [(row["thing"].value, row["place"].value) for row in spatial] == [
        (str(NS.thing("organisation", "health-education-england")), ENGLAND)]
    notes = built().query(f"""SELECT ?note {{ <{NS.thing('organisation', 'health-education-england')}>
        <http://www.w3.org/2004/02/skos/core#editorialNote> ?note }}""", use_default_graph_as_union=True)
    assert any("never names England" in row["note"].value for row in notes)
