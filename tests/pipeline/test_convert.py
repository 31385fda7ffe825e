"""Seed tables to RDF: the real seeds read cleanly, and bad rows are named precisely."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, FOAF, SKOS, XSD

from nhs_ai_workforce.core.namespaces import ProjectNamespaces
from nhs_ai_workforce.core.settings import Settings
from nhs_ai_workforce.pipeline.convert import convert_seeds
from nhs_ai_workforce.pipeline.errors import SeedError

ROOT = Path(__file__).resolve().parents[2]
NS = ProjectNamespaces()


@pytest.fixture(scope="module")
def converted():
    return convert_seeds(Settings())


@pytest.fixture
def seeds_copy(tmp_path: Path) -> Settings:
    """A writable copy of the project's seeds and ontology."""
    for folder in ("seeds", "ontology"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    return Settings(root=tmp_path)


def edit(settings: Settings, file: str, old: str, new: str) -> None:
    path = settings.seeds_dir / file
    text = path.read_text(encoding="utf-8")
    assert old in text, f"fixture text not found in {file}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def problems_of(settings: Settings) -> list[str]:
    with pytest.raises(SeedError) as caught:
        convert_seeds(settings)
    return [str(p) for p in caught.value.problems]


def test_every_graph_has_triples(converted):
    sizes = {str(g.identifier): len(g) for g in converted.dataset.graphs()}
    for name in ("background", "reference", "mappings", "links", "ontology"):
        assert sizes[str(NS.graph(name))] > 0, name


def test_issued_dates_keep_the_precision_the_source_gives(converted):
    issued = {s: o for s, _, o, _ in converted.dataset.quads((None, DCTERMS.issued, None, None))}
    assert issued[NS.thing("initiative", "topol-review")] == Literal("2019", datatype=XSD.gYear)
    assert issued[NS.thing("initiative", "data-driven-healthcare-2030")] == Literal(
        "2021-03", datatype=XSD.gYearMonth
    )


def test_issued_dates_link_to_reference_intervals(converted):
    links = converted.dataset.graph(NS.graph("links"))
    target = links.value(NS.thing("initiative", "goldacre-review"), NS.AIWF.issuedInterval)
    assert target == URIRef("http://reference.data.gov.uk/id/month/2022-04")


def test_no_blank_nodes(converted):
    from rdflib import BNode

    assert not any(isinstance(t, BNode) for quad in converted.dataset.quads() for t in quad[:4])


def test_locations_name_the_seed_row(converted):
    where = converted.locations[NS.thing("initiative", "ai-roadmap")]
    assert where.file == "seeds/initiatives.csv"
    assert where.row == 14


def test_no_term_found_mappings_make_no_triple(converted):
    mappings = converted.dataset.graph(NS.graph("mappings"))
    informatician = NS.thing("role", "clinical-informatician")
    assert (informatician, SKOS.broadMatch, None) not in mappings
    assert (informatician, SKOS.relatedMatch, None) in mappings


def test_bad_date_names_file_row_and_column(seeds_copy):
    edit(seeds_copy, "citations.csv", "2022-02-28,", "2022-02-30,")
    assert any(
        p.startswith("seeds/citations.csv:2 column 'accessed'") and "not a date" in p
        for p in problems_of(seeds_copy)
    )


def test_unknown_key_is_reported(seeds_copy):
    edit(seeds_copy, "term_usages.csv", "analysts,goldacre-review,", "analysts,goldacre-reveiw,")
    assert any("unknown initiative key 'goldacre-reveiw'" in p for p in problems_of(seeds_copy))


def test_unknown_column_is_reported(seeds_copy):
    edit(seeds_copy, "people.csv", "key,name,family_name", "key,name,surname")
    found = problems_of(seeds_copy)
    assert any("seeds/people.csv:1 column 'surname': unknown column" in p for p in found)
    assert any("column 'family_name': column is missing" in p for p in found)


def test_row_without_a_source_is_refused(seeds_copy):
    edit(seeds_copy, "people.csv", "Topol,reference-3,", "Topol,,")
    assert any("column 'source': every row needs a source" in p for p in problems_of(seeds_copy))


def test_mapping_to_an_unchecked_identifier_is_refused(seeds_copy):
    edit(seeds_copy, "mappings.sssom.tsv", "isco:C2511\tSystems analysts", "isco:C9999\tSystems analysts")
    assert any("column 'object_id'" in p and "isco:C9999" in p for p in problems_of(seeds_copy))


def test_another_base_moves_every_minted_iri(seeds_copy):
    base = "http://localhost:8123"
    converted = convert_seeds(seeds_copy.with_(base=base))
    iris = {str(t) for q in converted.dataset.quads() for t in q[:4] if isinstance(t, URIRef)}
    assert not [i for i in iris if "nhs-ai-workforce.example.org" in i]
    assert f"{base}/id/initiative/topol-review" in iris
    assert f"{base}/def/aiwf/Initiative" in iris


def test_person_names_are_english_text_like_every_name(converted):
    topol = NS.thing("person", "e-topol")
    for predicate in (FOAF.name, FOAF.familyName):
        [value] = [o for _, _, o, _ in converted.dataset.quads((topol, predicate, None, None))]
        assert value.language == "en", predicate


def test_cited_address_is_its_own_property_and_foaf_page_keeps_the_checked_pages(converted):
    """The address reference 3 gives is aiwf:citedAddress; links.csv's checked pages are foaf:page."""
    topol = NS.thing("initiative", "topol-review")
    data = Graph()
    for s, p, o, _ in converted.dataset.quads((None, None, None, None)):
        data.add((s, p, o))
    assert set(data.objects(topol, NS.AIWF.citedAddress)) == {URIRef("https://topol.hee.nhs.uk/the-topol-review/")}
    assert set(data.objects(topol, FOAF.page)) == {
        URIRef("https://topol.hee.nhs.uk/"),
        URIRef("https://topol.hee.nhs.uk/wp-content/uploads/HEE-Topol-Review-2019.pdf"),
    }
    # Each cited address is the web address of a citation of the same initiative.
    for initiative, address in data.subject_objects(NS.AIWF.citedAddress):
        citations = set(data.subjects(NS.AIWF.cites, initiative))
        assert any((c, NS.AIWF.webAddress, address) in data for c in citations), initiative
