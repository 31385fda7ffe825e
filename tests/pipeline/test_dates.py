"""Issue dates compare and sort as xsd:date (aiwf:issuedStart/aiwf:issuedEnd), with no STR().

``dcterms:issued`` mixes ``xsd:gYear`` and ``xsd:gYearMonth``: a typed comparison between them
drops rows. The derived first and last days compare across precisions; the reference.data.gov.uk
intervals carry their own begin and end instants. Checked on the built dump in ``data/``.
"""

from __future__ import annotations

import datetime as dt
from functools import cache

import pyoxigraph as ox
import pytest
from rdflib import Literal, URIRef
from rdflib.namespace import XSD

from nhs_ai_workforce.core.settings import Settings
from nhs_ai_workforce.pipeline.dates import interval_triples, issued_bounds

DUMP = Settings().data_dir / "nhs-ai-workforce.nq"
PREFIXES = """
PREFIX aiwf: <https://nhs-ai-workforce.example.org/def/aiwf/>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX time: <http://www.w3.org/2006/time#>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
PREFIX initiative: <https://nhs-ai-workforce.example.org/id/initiative/>
"""
ROADMAP = "initiative:ai-roadmap"  # issued "2022-01"
YEAR_2022 = "initiative:year-of-the-digital-profession-2022"  # issued "2022"
HEART = "initiative:putting-data-digital-tech-at-the-heart"  # issued "2021-11"


@cache
def store() -> ox.Store:
    built = ox.Store()
    built.load(path=str(DUMP), format=ox.RdfFormat.N_QUADS)
    return built


def select(query: str) -> list[dict[str, str]]:
    rows = store().query(PREFIXES + query, use_default_graph_as_union=True)
    return [{v.value: row[v].value for v in rows.variables if row[v] is not None} for row in rows]


def test_typed_comparison_of_issue_dates_drops_rows_but_issued_start_does_not():
    # The problem: a year-month and a year-only date are not comparable as typed literals.
    stated = select(f"""SELECT ?x WHERE {{
        {ROADMAP} dcterms:issued ?mine . ?x dcterms:issued ?other FILTER (?x = {HEART} || ?x = {YEAR_2022})
        FILTER (?mine > ?other) }}""")
    assert [row["x"].rsplit("/", 1)[1] for row in stated] == ["putting-data-digital-tech-at-the-heart"]
    later = select(f"""SELECT ?x WHERE {{
        ?x aiwf:issuedStart ?start . {HEART} aiwf:issuedStart ?otherStart
        FILTER (?start > ?otherStart) }} ORDER BY ?start ?x""")
    names = [row["x"].rsplit("/", 1)[1] for row in later]
    assert "ai-roadmap" in names and "year-of-the-digital-profession-2022" in names
    assert "putting-data-digital-tech-at-the-heart" not in names


def test_ordering_by_issued_start_puts_a_year_before_its_first_month():
    rows = select(f"""SELECT ?x ?start ?end WHERE {{
        VALUES ?x {{ {ROADMAP} {YEAR_2022} {HEART} }}
        ?x aiwf:issuedStart ?start ; aiwf:issuedEnd ?end }} ORDER BY ?start DESC(?end)""")
    assert [(r["x"].rsplit("/", 1)[1], r["start"], r["end"]) for r in rows] == [
        ("putting-data-digital-tech-at-the-heart", "2021-11-01", "2021-11-30"),
        ("year-of-the-digital-profession-2022", "2022-01-01", "2022-12-31"),
        ("ai-roadmap", "2022-01-01", "2022-01-31"),
    ]


def test_every_issued_date_has_its_first_and_last_day_in_the_inferred_graph():
    rows = select("""SELECT ?x ?issued ?start ?end ?g WHERE {
        ?x dcterms:issued ?issued .
        OPTIONAL { GRAPH ?g { ?x aiwf:issuedStart ?start ; aiwf:issuedEnd ?end } } }""")
    assert rows
    for row in rows:
        assert row["g"].endswith("/graph/inferred"), row
        assert row["start"] <= row["end"] and row["start"].startswith(row["issued"][:4]), row


def test_issued_intervals_carry_their_begin_and_end():
    rows = select("""SELECT ?interval ?begin ?end WHERE { GRAPH ?g {
        ?x aiwf:issuedInterval ?interval .
        ?interval time:hasBeginning/time:inXSDDateTime ?begin ; time:hasEnd/time:inXSDDateTime ?end }
        FILTER (STRENDS(STR(?g), "/graph/links")) }""")
    found = {row["interval"]: (row["begin"], row["end"]) for row in rows}
    assert found["http://reference.data.gov.uk/id/month/2022-01"] == ("2022-01-01T00:00:00", "2022-02-01T00:00:00")
    assert found["http://reference.data.gov.uk/id/year/2022"] == ("2022-01-01T00:00:00", "2023-01-01T00:00:00")
    intervals = {r["i"] for r in select("SELECT DISTINCT ?i WHERE { ?x aiwf:issuedInterval ?i }")}
    assert intervals == set(found)


@pytest.mark.parametrize(("text", "datatype", "bounds"), [
    ("2022", XSD.gYear, ("2022-01-01", "2022-12-31")),
    ("2024-02", XSD.gYearMonth, ("2024-02-01", "2024-02-29")),
    ("2023-02", XSD.gYearMonth, ("2023-02-01", "2023-02-28")),
    ("2021-03-15", XSD.date, ("2021-03-15", "2021-03-15")),
    ("2019-13", XSD.gYearMonth, None),
    ("2019, spring", None, None),
])
def test_issued_bounds(text, datatype, bounds):
    found = issued_bounds(Literal(text, datatype=datatype))
    assert (found and tuple(d.isoformat() for d in found)) == bounds if bounds else found is None


def test_interval_ends_at_the_first_instant_after_it():
    interval = URIRef("http://reference.data.gov.uk/id/day/2021-12-31")
    triples = list(interval_triples(interval, Literal("2021-12-31", datatype=XSD.date)))
    ends = [o for _, p, o in triples if str(p).endswith("hasEnd")]
    assert ends == [URIRef("http://reference.data.gov.uk/id/gregorian-instant/2022-01-01T00:00:00")]
    assert dt.date(2022, 1, 1).isoformat() in str(ends[0])
