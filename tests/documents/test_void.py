"""The VoID and DCAT description: counts taken from the store, under the served base, in VoID's terms."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import UTC, datetime

import pyoxigraph as ox
import pytest
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib import namespace as vocab
from rdflib.namespace import DCTERMS, RDF

from conftest import make_dataset, sample_triples
from nhs_ai_workforce.core.namespaces import GRAPH_DESCRIPTIONS, ProjectNamespaces
from nhs_ai_workforce.core.settings import Settings
from nhs_ai_workforce.core.terms import oxigraph_quads
from nhs_ai_workforce.documents import void, void_statistics
from nhs_ai_workforce.store.dumps import render_served_dumps

DCAT, VOID = Namespace(str(vocab.DCAT)), Namespace(str(vocab.VOID))  # plain namespaces: no doctest warnings
BASE = "http://kg.example.test/nhs"
NS = ProjectNamespaces(BASE)
SETTINGS = Settings(base=BASE)
SPDX = "http://spdx.org/rdf/terms#"
GOVUK_HEE = URIRef("https://www.gov.uk/government/organisations/health-education-england")
ENGLAND = URIRef("http://statistics.data.gov.uk/id/statistical-geography/E92000001")
ESCO_DATA_SCIENTIST = URIRef("http://data.europa.eu/esco/occupation/258e46f9-0075-4a2e-adae-1ff0477e0f30")
ISCO_2511 = URIRef("http://data.europa.eu/esco/isco/C2511")


def rows() -> list[tuple]:
    """The shared sample plus links: two to GOV.UK, one geography, ESCO, ISCO, SOC 2020, an interval.

    Also triples that are not links: a description of an ESCO occupation (its subject is not
    ours), a link back from ESCO, and the SOC 2020 scheme holding its unit group.
    """
    skos, foaf, aiwf = vocab.SKOS, vocab.FOAF, NS.AIWF
    hee, topol = NS.thing("organisation", "hee"), NS.thing("initiative", "topol-review")
    role, soc, scheme = NS.thing("role", "data-scientist"), NS.thing("soc2020", "3544"), NS.thing("scheme", "soc2020")
    return [
        *sample_triples(NS),
        ("links", hee, foaf.page, GOVUK_HEE),
        ("links", topol, foaf.page, URIRef("https://www.gov.uk/government/publications/x")),
        ("links", hee, DCTERMS.spatial, ENGLAND),
        ("links", topol, aiwf.issuedInterval, URIRef("http://reference.data.gov.uk/id/year/2019")),
        ("background", role, RDF.type, skos.Concept),
        ("background", role, skos.prefLabel, Literal("data scientist", lang="en")),
        ("mappings", role, skos.exactMatch, ESCO_DATA_SCIENTIST),
        ("mappings", role, skos.broadMatch, ISCO_2511),
        ("mappings", role, skos.broadMatch, soc),
        ("inferred", role, skos.mappingRelation, ESCO_DATA_SCIENTIST),
        ("inferred", ESCO_DATA_SCIENTIST, skos.exactMatch, role),
        ("reference", ESCO_DATA_SCIENTIST, skos.prefLabel, Literal("data scientist", lang="en")),
        ("reference", soc, RDF.type, skos.Concept),
        ("reference", soc, skos.inScheme, scheme),
        ("reference", scheme, skos.hasTopConcept, soc),
        ("ontology", foaf.page, vocab.RDFS.isDefinedBy, URIRef("http://xmlns.com/foaf/0.1/")),
    ]


@pytest.fixture(scope="module")
def store() -> ox.Store:
    store = ox.Store()
    store.extend(oxigraph_quads(make_dataset(NS, rows())))
    return store


@pytest.fixture(scope="module")
def stats(store) -> void_statistics.Statistics:
    return void_statistics.statistics(store, SETTINGS)


@pytest.fixture(scope="module")
def described(store, stats) -> Graph:
    dumps = [file for file, _ in render_served_dumps(store.quads_for_pattern(None, None, None, None), NS)]
    modified = datetime(2026, 1, 28, 10, 15, tzinfo=UTC)
    text = ox.serialize(void.describe(SETTINGS, stats, dumps, modified=modified), format=ox.RdfFormat.TURTLE,
                        prefixes=void.prefixes(BASE))
    return Graph().parse(data=text, format="turtle")


DATASET = URIRef(f"{BASE}/data/void#dataset")


def value(graph: Graph, subject, predicate):
    (found,) = graph.objects(subject, predicate)
    return found.toPython() if isinstance(found, Literal) else found


# -- the counts -------------------------------------------------------------------------------

def test_totals_count_distinct_triples_of_the_union(store, stats):
    quads = len(store)
    assert stats.triples == quads - 1  # the sample's one triple stated in two graphs counts once
    assert stats.subjects == len({q.subject for q in store})
    assert stats.objects == len({q.object for q in store})


def test_entities_are_subjects_under_the_base(stats):
    # topol-review, ai-roadmap, hee, the data scientist role, its SOC 2020 group and scheme, and the two
    # ontology terms minted under the base (aiwf:Review, aiwf:Organisation); not foaf:page or ESCO's occupation.
    assert stats.entities == 8


def test_class_partitions_count_distinct_instances(stats):
    classes = {p.iri: p.count for p in stats.classes}
    assert classes[str(NS.AIWF.Review)] == 2
    assert classes[str(vocab.SKOS.Concept)] == 2
    assert classes[str(vocab.OWL.Class)] == 2


def test_property_partitions_count_distinct_triples(stats):
    properties = {p.iri: p for p in stats.properties}
    assert properties[str(RDF.type)].count == 7  # the type stated in two graphs counts once
    assert properties[str(vocab.FOAF.page)].count == 2
    assert properties[str(vocab.FOAF.page)].subjects == 2
    assert properties[str(vocab.SKOS.broadMatch)].objects == 2


def test_linksets_count_links_from_our_things_per_target_and_predicate(stats):
    found = {ls.target.key: dict(ls.predicates) for ls in stats.linksets}
    skos = vocab.SKOS
    assert found == {
        "govuk": {str(vocab.FOAF.page): 2},
        "reference-intervals": {str(NS.AIWF.issuedInterval): 1},
        "ons-geography": {str(DCTERMS.spatial): 1},
        "esco-occupations": {str(skos.exactMatch): 1, str(skos.mappingRelation): 1},
        "isco-08": {str(skos.broadMatch): 1},
        # the scheme's hasTopConcept stays inside the SOC 2020 subset: not a link
        "soc2020": {str(skos.broadMatch): 1},
    }
    soc = next(ls for ls in stats.linksets if ls.target.key == "soc2020")
    assert soc.entities == 2  # the unit group and its scheme


def test_targets_without_links_get_no_linkset(stats):
    assert {ls.target.key for ls in stats.linksets}.isdisjoint({"capability-framework", "nhs-web"})


def test_target_patterns_match_their_own_iris_only():
    patterns = {t.key: t for t in void_statistics.targets(BASE)}
    examples = {
        "govuk": str(GOVUK_HEE),
        "ons-geography": str(ENGLAND),
        "esco-occupations": str(ESCO_DATA_SCIENTIST),
        "isco-08": str(ISCO_2511),
        "soc2020": f"{BASE}/id/soc2020/3544",
        "capability-framework": "https://ddat-capability-framework.service.gov.uk/role/data-analyst",
        "nhs-web": "https://topol.hee.nhs.uk/",
        "reference-intervals": "http://reference.data.gov.uk/id/month/2022-01",
    }
    for key, iri in examples.items():
        matching = [k for k, target in patterns.items() if re.search(target.pattern, iri)]
        assert matching == [key], iri
    assert not re.search(patterns["nhs-web"].pattern, "https://www.nhs.uk.example.org/")
    assert not re.search(patterns["soc2020"].pattern, f"{BASE}/id/scheme/role-terms")


def test_graphs_are_counted_in_their_usual_order(stats):
    names = [g.name for g in stats.graphs]
    assert names == ["background", "reference", "mappings", "links", "ontology", "inferred"]
    links = next(g for g in stats.graphs if g.name == "links")
    assert (links.triples, links.subjects) == (4, 2)


def test_vocabularies_follow_is_defined_by_then_known_namespaces(stats):
    assert "http://xmlns.com/foaf/0.1/" in stats.vocabularies  # rdfs:isDefinedBy in the ontology graph
    assert str(vocab.SKOS) in stats.vocabularies  # a standard prefix
    assert str(NS.AIWF) in stats.vocabularies


def test_examples_and_sources_are_only_those_present(stats):
    assert stats.examples == (f"{BASE}/id/initiative/ai-roadmap", f"{BASE}/id/initiative/topol-review",
                              f"{BASE}/id/role/data-scientist")
    assert stats.sources == ()


def test_build_time_comes_from_the_build_id(settings):
    assert void.build_time(settings, "20260128T101500123456Z-3fa2c1") == datetime(
        2026, 1, 28, 10, 15, 0, 123456, tzinfo=UTC)
    assert void.build_time(settings, None) is None
    assert void.build_time(settings, "not-a-build") is None


# -- the description --------------------------------------------------------------------------

def test_dataset_metadata(described):
    g = described
    assert {DCAT.Dataset, VOID.Dataset} <= set(g.objects(DATASET, RDF.type))
    assert value(g, DATASET, DCTERMS.license) == URIRef(void.LICENCE)
    assert value(g, DATASET, DCTERMS.title) == void.TITLE
    assert value(g, DATASET, VOID.sparqlEndpoint) == URIRef(f"{BASE}/sparql")
    assert value(g, DATASET, VOID.uriSpace) == f"{BASE}/"
    assert value(g, DATASET, DCTERMS.modified) == datetime(2026, 1, 28, 10, 15, tzinfo=UTC)
    assert value(g, DATASET, DCTERMS.publisher) == NS.thing("organisation", "aiwf-project")
    assert (URIRef(f"{BASE}/data/void"), vocab.FOAF.primaryTopic, DATASET) in g


def test_dataset_counts_are_the_statistics(described, stats):
    g = described
    assert value(g, DATASET, VOID.triples) == stats.triples
    assert value(g, DATASET, VOID.entities) == stats.entities
    assert value(g, DATASET, VOID.distinctSubjects) == stats.subjects
    assert value(g, DATASET, VOID.distinctObjects) == stats.objects
    assert value(g, DATASET, VOID.classes) == len(stats.classes) == len(list(g.objects(DATASET, VOID.classPartition)))
    assert value(g, DATASET, VOID.properties) == len(stats.properties)
    partitions = {value(g, p, VOID["class"]): value(g, p, VOID.entities)
                  for p in g.objects(DATASET, VOID.classPartition)}
    assert partitions[NS.AIWF.Review] == 2


def test_every_dump_is_a_data_dump_and_a_distribution(described):
    g = described
    dumps = set(g.objects(DATASET, VOID.dataDump))
    assert dumps == {URIRef(f"{BASE}/data/nhs-ai-workforce.{ext}{gz}")
                     for ext in ("trig", "nq", "jsonld", "ttl") for gz in ("", ".gz")}
    for distribution in g.objects(DATASET, DCAT.distribution):
        url = value(g, distribution, DCAT.downloadURL)
        assert url in dumps
        assert value(g, distribution, DCAT.byteSize) > 0
        media = str(value(g, distribution, DCAT.mediaType))
        assert media.startswith("https://www.iana.org/assignments/media-types/")
        assert "gzip" not in media
        compressed = list(g.objects(distribution, DCAT.compressFormat))
        assert compressed == ([URIRef("https://www.iana.org/assignments/media-types/application/gzip")]
                              if str(url).endswith(".gz") else [])
        checksum = value(g, distribution, URIRef(SPDX + "checksum"))
        (digest,) = g.objects(checksum, URIRef(SPDX + "checksumValue"))
        assert re.fullmatch("[0-9a-f]{64}", str(digest))


def test_sparql_endpoint_is_a_data_service(described):
    g = described
    (service,) = g.subjects(RDF.type, DCAT.DataService)
    assert value(g, service, DCAT.endpointURL) == URIRef(f"{BASE}/sparql")
    assert value(g, service, DCAT.servesDataset) == DATASET


def test_each_named_graph_is_a_described_subset_with_its_dump(described, stats):
    g = described
    for graph in stats.graphs:
        iri = URIRef(graph.iri)
        assert (DATASET, VOID.subset, iri) in g
        assert value(g, iri, VOID.triples) == graph.triples
        assert value(g, iri, DCTERMS.description) == GRAPH_DESCRIPTIONS[graph.name]
        assert value(g, iri, VOID.dataDump) == URIRef(f"{BASE}/data/graphs/{graph.name}.ttl")


def test_linksets_name_their_targets_predicates_and_counts(described, stats):
    g = described
    for linkset in stats.linksets:
        node = URIRef(f"{BASE}/data/void#links-{linkset.target.key}")
        target = URIRef(f"{BASE}/data/void#{linkset.target.key}")
        assert (node, RDF.type, VOID.Linkset) in g
        assert (DATASET, VOID.subset, node) in g
        assert value(g, node, VOID.subjectsTarget) == DATASET
        assert value(g, node, VOID.objectsTarget) == target
        assert set(g.objects(node, VOID.target)) == {DATASET, target}
        assert value(g, node, VOID.triples) == linkset.triples
        assert value(g, target, VOID.uriRegexPattern) == linkset.target.pattern
        children = {value(g, child, VOID.linkPredicate): value(g, child, VOID.triples)
                    for child in g.objects(node, VOID.subset)}
        assert children == {URIRef(p): n for p, n in linkset.predicates}
    soc = URIRef(f"{BASE}/data/void#soc2020")
    assert (DATASET, VOID.subset, soc) in g  # minted here: a subset, not another dataset
    assert value(g, soc, VOID.entities) == 2


def test_description_is_under_the_served_base_only(described):
    terms = {str(t) for triple in described for t in triple if isinstance(t, URIRef)}
    assert not [t for t in terms if "nhs-ai-workforce.example.org" in t]
    assert {t for t in terms if t.startswith(BASE)}


def test_description_uses_only_terms_its_vocabularies_define(described):
    for term in {t for triple in described for t in triple if isinstance(t, URIRef)}:
        for namespace in (vocab.VOID, vocab.DCAT):
            if str(term).startswith(str(namespace)):
                assert term in namespace, term


@pytest.mark.parametrize("base", [BASE, "https://nhs-ai-workforce.example-org.uk/kg~test#x"])
def test_uri_patterns_are_valid_in_python_and_javascript(base):
    """Comunica reads void:uriRegexPattern with JavaScript's Unicode regexps, which reject ``\\-``."""
    targets = void_statistics.targets(base)
    for target in targets:
        assert not re.search(r"\\[^\^$\\.*+?()\[\]{}|/]", target.pattern), target.pattern  # only syntax escapes
        if target.uri_space:
            assert re.match(target.pattern, target.uri_space + "x")
    soc = next(t for t in targets if t.key == "soc2020")
    assert re.match(soc.pattern, base.rstrip("/") + "/id/soc2020/3544")
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    script = ("const [patterns, iri] = JSON.parse(process.argv[1]);"
              "console.log(JSON.stringify(patterns.map(p => new RegExp(p, 'u').test(iri))))")
    iri = base.rstrip("/") + "/id/soc2020/3544"
    result = subprocess.run([node, "-e", script, json.dumps([[t.pattern for t in targets], iri])],
                            capture_output=True, text=True, check=True, timeout=30)
    assert json.loads(result.stdout) == [t.key == "soc2020" for t in targets]
