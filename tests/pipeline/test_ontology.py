"""The ontology files pass the checks of STYLE.md ("Ontology checks worth automating").

Every check runs on ``ontology/*.ttl`` (and, where it is about use, on the converted seeds) and
also on a deliberately bad snippet, so each test is known to be able to fail.
"""

from __future__ import annotations

from pathlib import Path

import ontology_checks as checks
import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import OWL, RDF

from nhs_ai_workforce.core.namespaces import DEFAULT, ONTOLOGY_VERSION
from nhs_ai_workforce.core.settings import Settings
from nhs_ai_workforce.pipeline.convert import convert_seeds
from nhs_ai_workforce.pipeline.inference import DATA_GRAPHS, materialise

ONTOLOGY_DIR = Settings().ontology_dir
FILES = sorted(ONTOLOGY_DIR.glob("*.ttl"))
NAMESPACE = str(DEFAULT.AIWF)
ONTOLOGY = DEFAULT.ontology
AIWF = DEFAULT.AIWF

#: Terms kept for data that is not in the seeds yet (the AI Roadmap's individual technologies).
#: Keep this list short; a term that the data starts using must leave it.
KEPT_FOR_FUTURE_DATA = frozenset({
    AIWF.AITechnology, AIWF.technologyType, AIWF.clinicalArea, AIWF.directUser, AIWF.scannedIn,
})

PREFIXES = """
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix vann: <http://purl.org/vocab/vann/> .
@prefix org: <http://www.w3.org/ns/org#> .
@prefix ex: <http://example.org/def/ex/> .
"""
EX_NAMESPACE = "http://example.org/def/ex/"
EX_ONTOLOGY = URIRef("http://example.org/def/ex")


def snippet(text: str) -> Graph:
    return checks.load(PREFIXES + text)


def good_term(name: str, kind: str = "owl:Class", extra: str = "") -> str:
    """A term of the example ontology that passes every term check."""
    return f"""ex:{name} a {kind} ; rdfs:label "{name}"@en ;
        skos:definition "A {name}, for example one."@en ;
        rdfs:isDefinedBy <http://example.org/def/ex> {extra} ."""


@pytest.fixture(scope="module")
def ontology() -> Graph:
    return checks.load(*FILES)


@pytest.fixture(scope="module")
def seed_graphs() -> dict[str, Graph]:
    """Every named graph of the converted seeds, ``inferred`` included."""
    dataset = convert_seeds(Settings()).dataset
    materialise(dataset, DEFAULT)
    names = (*DATA_GRAPHS, "ontology", "inferred")
    return {name: dataset.graph(DEFAULT.graph(name)) for name in names}


def test_both_ontology_files_parse() -> None:
    assert [f.name for f in FILES] == ["aiwf.ttl", "reused.ttl"]
    for path in FILES:
        assert len(checks.load(path)) > 50, path


# -- OWL Lite ---------------------------------------------------------------------------------

@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_owl_lite_constructs_only(path: Path) -> None:
    assert checks.owl_lite_problems(checks.load(path)) == []


def test_owl_lite_allows_restrictions_with_cardinality_zero_or_one() -> None:
    graph = snippet("""
        ex:Review a owl:Class ; rdfs:subClassOf [ a owl:Restriction ;
            owl:onProperty ex:issued ; owl:maxCardinality "1"^^xsd:nonNegativeInteger ] ,
            [ a owl:Restriction ; owl:onProperty ex:cites ; owl:someValuesFrom ex:Review ] .
        ex:issued a owl:DatatypeProperty , owl:FunctionalProperty .
        ex:cites a owl:ObjectProperty ; owl:inverseOf ex:citedBy ; owl:equivalentProperty ex:c .
    """)
    assert checks.owl_lite_problems(graph) == []


@pytest.mark.parametrize(("text", "found"), [
    ("ex:A owl:unionOf ( ex:B ex:C ) .", "owl:unionOf"),
    ("ex:A owl:complementOf ex:B .", "owl:complementOf"),
    ("ex:A owl:oneOf ( ex:b ex:c ) .", "owl:oneOf"),
    ("ex:A owl:disjointWith ex:B .", "owl:disjointWith"),
    ("ex:A rdfs:subClassOf [ owl:onProperty ex:p ; owl:hasValue ex:b ] .", "owl:hasValue"),
    ("ex:A owl:intersectionOf ( ex:B ex:C ) .", "owl:intersectionOf"),
    ("ex:D a owl:DataRange .", "owl:DataRange"),
    ("ex:p a owl:ReflexiveProperty .", "owl:ReflexiveProperty"),
    ("ex:A rdfs:subClassOf [ owl:onProperty ex:p ; owl:cardinality 2 ] .", "cardinality"),
    ('ex:A rdfs:subClassOf [ owl:onProperty ex:p ; owl:maxCardinality "5" ] .', "cardinality"),
    ("ex:A rdfs:subClassOf [ owl:onProperty ex:p ; owl:minCardinality ex:x ] .", "cardinality"),
])
def test_owl_lite_check_refuses(text: str, found: str) -> None:
    problems = checks.owl_lite_problems(snippet(text))
    assert problems
    assert found in " ".join(problems)


# -- header metadata --------------------------------------------------------------------------

GOOD_HEADER = """
<http://example.org/def/ex> a owl:Ontology ;
    dcterms:title "Example"@en ;
    dcterms:description "An example ontology."@en ;
    dcterms:creator <http://example.org/id/someone> ;
    dcterms:license <http://example.org/licence> ;
    owl:versionIRI <http://example.org/def/ex/1.0> ;
    owl:versionInfo "1.0" ;
    vann:preferredNamespacePrefix "ex" ;
    vann:preferredNamespaceUri "http://example.org/def/ex/" .
"""


def test_header_metadata(ontology: Graph) -> None:
    assert checks.header_problems(ontology, ONTOLOGY, NAMESPACE) == []


def test_header_version_matches_the_code(ontology: Graph) -> None:
    assert ontology.value(ONTOLOGY, OWL.versionIRI) == DEFAULT.version
    assert str(ontology.value(ONTOLOGY, OWL.versionInfo)) == ONTOLOGY_VERSION


def test_header_check_accepts_a_complete_header() -> None:
    assert checks.header_problems(snippet(GOOD_HEADER), EX_ONTOLOGY, EX_NAMESPACE) == []


@pytest.mark.parametrize(("line", "replacement", "found"), [
    ('dcterms:title "Example"@en ;', "", "dcterms:title"),
    ('dcterms:description "An example ontology."@en ;', "", "dcterms:description"),
    ("dcterms:creator <http://example.org/id/someone> ;", "", "dcterms:creator"),
    ("dcterms:creator <http://example.org/id/someone> ;", 'dcterms:creator "Someone" ;',
     "dcterms:creator must be an IRI"),
    ("dcterms:license <http://example.org/licence> ;", "", "dcterms:license"),
    ("dcterms:license <http://example.org/licence> ;", 'dcterms:license "OGL" ;',
     "dcterms:license must be an IRI"),
    ("owl:versionIRI <http://example.org/def/ex/1.0> ;", "", "owl:versionIRI"),
    ('owl:versionInfo "1.0" ;', "", "owl:versionInfo"),
    ('vann:preferredNamespacePrefix "ex" ;', "", "vann:preferredNamespacePrefix"),
    ('vann:preferredNamespaceUri "http://example.org/def/ex/" .',
     'vann:preferredNamespaceUri "http://example.org/def/other#" .', "preferredNamespaceUri"),
    ("a owl:Ontology ;", "", "owl:Ontology"),
])
def test_header_check_refuses(line: str, replacement: str, found: str) -> None:
    assert line in GOOD_HEADER
    graph = snippet(GOOD_HEADER.replace(line, replacement))
    problems = checks.header_problems(graph, EX_ONTOLOGY, EX_NAMESPACE)
    assert found in " ".join(problems), problems


# -- terms ------------------------------------------------------------------------------------

def test_every_term_is_labelled_defined_and_named_well(ontology: Graph) -> None:
    assert checks.ours(ontology, NAMESPACE)
    assert checks.term_problems(ontology, ONTOLOGY, NAMESPACE) == []


def test_term_check_accepts_good_terms() -> None:
    graph = snippet(good_term("Review") + good_term("followedBy", "owl:ObjectProperty"))
    assert checks.term_problems(graph, EX_ONTOLOGY, EX_NAMESPACE) == []


@pytest.mark.parametrize(("text", "found"), [
    (good_term("review"), "UpperCamelCase"),
    (good_term("Follows", "owl:ObjectProperty"), "lowerCamelCase"),
    (good_term("followed_by", "owl:DatatypeProperty"), "lowerCamelCase"),
    (good_term("Review", extra='; rdfs:label "Report"@en'), "exactly one rdfs:label"),
    (good_term("Review").replace('"Review"@en', '"Review"'), "rdfs:label in English"),
    (good_term("Review").replace("skos:definition", "skos:note"), "no skos:definition"),
    (good_term("Review", extra="; rdfs:isDefinedBy <http://example.org/other>"),
     "exactly one rdfs:isDefinedBy"),
    (good_term("Review").replace("<http://example.org/def/ex>", "<http://example.org/def/ex/>"),
     "exactly one rdfs:isDefinedBy"),
    (good_term("Review").replace("a owl:Class ;", ""), "not declared"),
])
def test_term_check_refuses(text: str, found: str) -> None:
    problems = checks.term_problems(snippet(text), EX_ONTOLOGY, EX_NAMESPACE)
    assert found in " ".join(problems), problems


def test_at_most_one_domain_and_range(ontology: Graph) -> None:
    assert checks.domain_range_problems(ontology) == []
    bad = snippet("ex:p a owl:ObjectProperty ; rdfs:domain ex:A , ex:B ; rdfs:range ex:C , ex:D .")
    assert len(checks.domain_range_problems(bad)) == 2


def test_inverses_swap_domain_and_range(ontology: Graph) -> None:
    assert checks.inverse_problems(ontology) == []
    good = snippet("""
        ex:cites a owl:ObjectProperty ; rdfs:domain ex:Citation ; rdfs:range ex:Review ;
            owl:inverseOf ex:citedBy .
        ex:citedBy a owl:ObjectProperty ; rdfs:domain ex:Review .
    """)
    assert checks.inverse_problems(good) == []
    clash = snippet("""
        ex:cites a owl:ObjectProperty ; rdfs:domain ex:Citation ; rdfs:range ex:Review ;
            owl:inverseOf ex:citedBy .
        ex:citedBy a owl:ObjectProperty ; rdfs:domain ex:Citation ; rdfs:range ex:Review .
    """)
    assert len(checks.inverse_problems(clash)) == 2
    datatype = snippet("ex:a a owl:DatatypeProperty ; owl:inverseOf ex:b . ex:b a owl:ObjectProperty .")
    assert "is not an owl:ObjectProperty" in " ".join(checks.inverse_problems(datatype))


def test_no_hierarchy_cycles(ontology: Graph) -> None:
    assert checks.cycle_problems(ontology) == []
    bad = snippet("""
        ex:A rdfs:subClassOf ex:B . ex:B rdfs:subClassOf ex:C . ex:C rdfs:subClassOf ex:A .
        ex:D rdfs:subClassOf ex:A .
        ex:p rdfs:subPropertyOf ex:p .
    """)
    problems = checks.cycle_problems(bad)
    assert problems == [
        "cycle in rdfs:subClassOf: <http://example.org/def/ex/A> -> <http://example.org/def/ex/B>"
        " -> <http://example.org/def/ex/C> -> <http://example.org/def/ex/A> (P06)",
        "cycle in rdfs:subPropertyOf: <http://example.org/def/ex/p> -> <http://example.org/def/ex/p>"
        " (P06)",
    ]
    assert checks.cycle_problems(snippet("ex:A rdfs:subClassOf ex:B . ex:C rdfs:subClassOf ex:B .")) == []


def test_no_orphan_classes(ontology: Graph) -> None:
    assert checks.orphan_problems(ontology, NAMESPACE) == []
    bad = snippet(good_term("Lonely") + good_term("Child", extra="; rdfs:subClassOf ex:Parent")
                  + good_term("Parent") + good_term("Target")
                  + good_term("p", "owl:ObjectProperty", "; rdfs:range ex:Target"))
    assert checks.orphan_problems(bad, EX_NAMESPACE) == [
        "<http://example.org/def/ex/Lonely> is an orphan class: no superclass, subclass, "
        "domain or range (P04)"]


# -- declared and used ------------------------------------------------------------------------

def test_every_term_used_is_declared(ontology: Graph, seed_graphs: dict[str, Graph]) -> None:
    assert checks.undeclared_problems([ontology, *seed_graphs.values()], ontology) == []


def test_undeclared_check_finds_classes_and_properties() -> None:
    declarations = snippet("ex:Known a owl:Class . ex:known a owl:ObjectProperty .")
    data = snippet("""
        ex:a a ex:Known , ex:Unknown , owl:Thing ; ex:known ex:b ; ex:unknown "x" ;
            rdfs:label "a" .
        ex:q rdfs:subPropertyOf ex:parent ; rdfs:range ex:Missing , xsd:string .
    """)
    assert checks.undeclared_problems([data], declarations) == [
        f"<{EX_NAMESPACE}{name}> is used but not declared as a class or property"
        for name in ("Missing", "Unknown", "parent", "unknown")
    ]


def test_standard_vocabulary_terms_exist(ontology: Graph, seed_graphs: dict[str, Graph]) -> None:
    assert checks.unknown_vocabulary_terms([ontology, *seed_graphs.values()]) == []
    invented = snippet("org:hasSubOrganization rdfs:subPropertyOf org:transitiveHasSubOrganization .")
    assert checks.unknown_vocabulary_terms([invented]) == [
        "<http://www.w3.org/ns/org#transitiveHasSubOrganization> is not a term of "
        "http://www.w3.org/ns/org#"]


def test_reused_terms_are_defined_by_their_own_vocabulary() -> None:
    reused = checks.load(ONTOLOGY_DIR / "reused.ttl")
    own = checks.load(ONTOLOGY_DIR / "aiwf.ttl")
    assert not checks.ours(reused, NAMESPACE), "our terms belong in aiwf.ttl"
    assert checks.declared(own) <= checks.ours(own, NAMESPACE), "external terms go in reused.ttl"
    for term in sorted(checks.declared(reused)):
        defined_by = list(reused.objects(term, checks.RDFS.isDefinedBy))
        assert len(defined_by) == 1, term
        assert defined_by[0] != ONTOLOGY, term
        assert str(term).startswith(str(defined_by[0])), (term, defined_by)


def test_every_term_of_ours_is_used(ontology: Graph, seed_graphs: dict[str, Graph]) -> None:
    data = [graph for name, graph in seed_graphs.items() if name != "ontology"]
    unused = checks.unused_terms(ontology, NAMESPACE, data)
    assert unused - KEPT_FOR_FUTURE_DATA == set(), "declared but used by no data"
    assert unused >= KEPT_FOR_FUTURE_DATA, "now in use: remove from KEPT_FOR_FUTURE_DATA"


def test_unused_check_finds_unused_terms() -> None:
    declarations = snippet(good_term("Used") + good_term("Unused") + good_term("p", "rdf:Property"))
    data = snippet("<http://example.org/id/x> a ex:Used .")
    assert checks.unused_terms(declarations, EX_NAMESPACE, [data]) == {
        URIRef(EX_NAMESPACE + "Unused"), URIRef(EX_NAMESPACE + "p")}
    assert (URIRef(EX_NAMESPACE + "p"), RDF.type, RDF.Property) in declarations
