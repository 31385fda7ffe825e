"""The OWL Lite rules of ``pipeline.inference``, one small dataset per rule, then the real seeds."""

from __future__ import annotations

import doctest

import pytest
from rdflib import Dataset, Literal, URIRef
from rdflib.namespace import ORG, OWL, PROV, RDF, RDFS, SKOS

from nhs_ai_workforce.core.namespaces import ProjectNamespaces
from nhs_ai_workforce.core.settings import Settings
from nhs_ai_workforce.pipeline import inference
from nhs_ai_workforce.pipeline.convert import convert_seeds
from nhs_ai_workforce.pipeline.inference import materialise

NS = ProjectNamespaces("http://example.org")
EX = "http://example.org/def/"
PREFIXES = f"""
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix org: <http://www.w3.org/ns/org#> .
@prefix ex: <{EX}> .
@prefix id: <http://example.org/id/> .
"""


def ex(name: str) -> URIRef:
    return URIRef(EX + name)


def thing(name: str) -> URIRef:
    return URIRef(f"http://example.org/id/{name}")


def build(ontology: str, data: str, graph: str = "background") -> tuple[Dataset, int]:
    """A dataset from two Turtle snippets, materialised; and the count it returned."""
    dataset = Dataset()
    dataset.graph(NS.graph("ontology")).parse(data=PREFIXES + ontology, format="turtle")
    dataset.graph(NS.graph(graph)).parse(data=PREFIXES + data, format="turtle")
    return dataset, materialise(dataset, NS)


def inferred(dataset: Dataset) -> set[tuple]:
    return set(dataset.graph(NS.graph("inferred")))


def test_docstring_example_runs() -> None:
    failures, tried = doctest.testmod(inference)
    assert tried > 0
    assert failures == 0


def test_subclass_types_follow_the_whole_chain() -> None:
    dataset, count = build(
        "ex:Review rdfs:subClassOf ex:Publication . ex:Publication rdfs:subClassOf ex:Initiative .",
        "id:r a ex:Review .",
    )
    assert inferred(dataset) == {
        (thing("r"), RDF.type, ex("Publication")),
        (thing("r"), RDF.type, ex("Initiative")),
    }
    assert count == 2


def test_equivalent_classes_type_both_ways() -> None:
    dataset, _ = build("ex:A owl:equivalentClass ex:B .", "id:a a ex:A . id:b a ex:B .")
    assert inferred(dataset) == {(thing("a"), RDF.type, ex("B")), (thing("b"), RDF.type, ex("A"))}


def test_subproperty_chain() -> None:
    dataset, _ = build(
        "ex:commissionedBy rdfs:subPropertyOf ex:attributedTo ."
        " ex:attributedTo rdfs:subPropertyOf ex:influencedBy .",
        "id:review ex:commissionedBy id:minister .",
    )
    assert inferred(dataset) == {
        (thing("review"), ex("attributedTo"), thing("minister")),
        (thing("review"), ex("influencedBy"), thing("minister")),
    }


def test_subproperty_carries_literals() -> None:
    dataset, _ = build("ex:title rdfs:subPropertyOf ex:label .", 'id:a ex:title "A"@en .')
    assert inferred(dataset) == {(thing("a"), ex("label"), Literal("A", lang="en"))}


@pytest.mark.parametrize("asserted", ["follows", "followedBy"])
def test_inverse_is_read_both_ways(asserted: str) -> None:
    other = {"follows": "followedBy", "followedBy": "follows"}[asserted]
    dataset, _ = build("ex:follows owl:inverseOf ex:followedBy .", f"id:a ex:{asserted} id:b .")
    assert inferred(dataset) == {(thing("b"), ex(other), thing("a"))}


def test_symmetric() -> None:
    dataset, _ = build("ex:related a owl:ObjectProperty , owl:SymmetricProperty .",
                       "id:a ex:related id:b .")
    assert inferred(dataset) == {(thing("b"), ex("related"), thing("a"))}


def test_transitive_closes_long_chains_without_reflexive_triples() -> None:
    dataset, _ = build(
        "ex:follows a owl:ObjectProperty , owl:TransitiveProperty .",
        "id:d ex:follows id:c . id:c ex:follows id:b . id:b ex:follows id:a . id:a ex:follows id:d .",
    )
    nodes = [thing(n) for n in "abcd"]
    closure = {(x, ex("follows"), y) for x in nodes for y in nodes if x != y}
    asserted = set(dataset.graph(NS.graph("background")))
    assert inferred(dataset) == closure - asserted
    assert not any(s == o for s, _, o in inferred(dataset))


def test_symmetric_and_transitive_add_no_self_links() -> None:
    dataset, _ = build(
        "ex:same a owl:ObjectProperty , owl:SymmetricProperty , owl:TransitiveProperty .",
        "id:a ex:same id:b .",
    )
    assert inferred(dataset) == {(thing("b"), ex("same"), thing("a"))}


def test_domain_and_range_type_subject_and_object_with_superclasses() -> None:
    dataset, _ = build(
        "ex:cites a owl:ObjectProperty ; rdfs:domain ex:Citation ; rdfs:range ex:Review ."
        " ex:Review rdfs:subClassOf ex:Initiative .",
        "id:ref3 ex:cites id:topol .",
    )
    assert inferred(dataset) == {
        (thing("ref3"), RDF.type, ex("Citation")),
        (thing("topol"), RDF.type, ex("Review")),
        (thing("topol"), RDF.type, ex("Initiative")),
    }


def test_domain_reaches_subproperties() -> None:
    dataset, _ = build(
        "ex:broader rdfs:subPropertyOf ex:semantic ."
        " ex:semantic a owl:ObjectProperty ; rdfs:domain ex:Concept .",
        "id:a ex:broader id:b .",
    )
    assert (thing("a"), RDF.type, ex("Concept")) in inferred(dataset)


def test_literals_and_datatypes_are_never_typed() -> None:
    dataset, _ = build(
        "ex:accessed a owl:DatatypeProperty ; rdfs:domain ex:Citation ; rdfs:range xsd:date ."
        " ex:label a owl:DatatypeProperty ; rdfs:range ex:Text .",
        'id:ref3 ex:accessed "2022-05-24"^^xsd:date ; ex:label "x" .'
        " id:odd ex:accessed id:notADate .",
    )
    assert inferred(dataset) == {
        (thing("ref3"), RDF.type, ex("Citation")),
        (thing("odd"), RDF.type, ex("Citation")),
    }


def test_domain_of_undeclared_property_is_ignored() -> None:
    dataset, count = build("ex:p rdfs:domain ex:C ; rdfs:range ex:D .", "id:a ex:p id:b .")
    assert count == 0
    assert inferred(dataset) == set()


def test_asserted_triples_are_not_repeated_in_any_graph() -> None:
    dataset, _ = build(
        "ex:Review rdfs:subClassOf ex:Initiative . ex:follows owl:inverseOf ex:followedBy .",
        "id:r a ex:Review , ex:Initiative . id:r ex:follows id:t . id:t ex:followedBy id:r .",
    )
    assert inferred(dataset) == set()
    dataset, _ = build("ex:Review rdfs:subClassOf ex:Initiative .", "id:r a ex:Review .")
    dataset.graph(NS.graph("links")).add((thing("r"), RDF.type, ex("Initiative")))
    assert materialise(dataset, NS) == 0


def test_rules_read_every_data_graph_but_not_the_ontology() -> None:
    for graph in ("background", "reference", "mappings", "links"):
        dataset, _ = build("ex:A rdfs:subClassOf ex:B .", "id:a a ex:A .", graph)
        assert inferred(dataset) == {(thing("a"), RDF.type, ex("B"))}, graph
    dataset, count = build(
        "ex:A rdfs:subClassOf ex:B . ex:p a owl:ObjectProperty ; rdfs:domain ex:A ."
        " ex:q a owl:ObjectProperty ; owl:inverseOf ex:p ; rdfs:subPropertyOf ex:p .", "")
    assert count == 0


def test_blank_nodes_never_appear() -> None:
    dataset, _ = build(
        "ex:p a owl:ObjectProperty ; rdfs:range ex:C ; owl:inverseOf ex:q .",
        "id:a ex:p [ ex:p id:b ] . [] ex:p id:c .",
    )
    assert inferred(dataset) == set()


def test_fixpoint_over_organisation_chains() -> None:
    dataset, _ = build(
        """
        org:subOrganizationOf a owl:ObjectProperty ;
            rdfs:subPropertyOf org:transitiveSubOrganizationOf ;
            owl:inverseOf org:hasSubOrganization .
        org:hasSubOrganization a owl:ObjectProperty .
        org:transitiveSubOrganizationOf a owl:ObjectProperty , owl:TransitiveProperty .
        """,
        "id:lab org:subOrganizationOf id:directorate . id:directorate org:subOrganizationOf id:nhs .",
    )
    lab, directorate, nhs = thing("lab"), thing("directorate"), thing("nhs")
    assert inferred(dataset) == {
        (lab, ORG.transitiveSubOrganizationOf, directorate),
        (directorate, ORG.transitiveSubOrganizationOf, nhs),
        (lab, ORG.transitiveSubOrganizationOf, nhs),
        (directorate, ORG.hasSubOrganization, lab),
        (nhs, ORG.hasSubOrganization, directorate),
    }


def test_fixpoint_over_skos_broader() -> None:
    dataset, _ = build(
        """
        skos:broader a owl:ObjectProperty ; rdfs:subPropertyOf skos:broaderTransitive ;
            owl:inverseOf skos:narrower .
        skos:narrower a owl:ObjectProperty ; rdfs:subPropertyOf skos:narrowerTransitive .
        skos:broaderTransitive a owl:ObjectProperty , owl:TransitiveProperty ;
            owl:inverseOf skos:narrowerTransitive .
        skos:narrowerTransitive a owl:ObjectProperty , owl:TransitiveProperty .
        """,
        "id:analyst skos:broader id:informatics . id:informatics skos:broader id:digital .",
    )
    analyst, informatics, digital = thing("analyst"), thing("informatics"), thing("digital")
    assert inferred(dataset) == {
        (informatics, SKOS.narrower, analyst),
        (digital, SKOS.narrower, informatics),
        (analyst, SKOS.broaderTransitive, informatics),
        (informatics, SKOS.broaderTransitive, digital),
        (analyst, SKOS.broaderTransitive, digital),
        (informatics, SKOS.narrowerTransitive, analyst),
        (digital, SKOS.narrowerTransitive, informatics),
        (digital, SKOS.narrowerTransitive, analyst),
    }


def test_materialise_replaces_the_previous_inferences() -> None:
    dataset, first = build("ex:A rdfs:subClassOf ex:B .", "id:a a ex:A .")
    stale = (thing("z"), RDF.type, ex("Stale"))
    dataset.graph(NS.graph("inferred")).add(stale)
    assert materialise(dataset, NS) == first == 1
    assert stale not in inferred(dataset)


# -- the real seeds ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def seeds() -> tuple[Dataset, ProjectNamespaces, int]:
    settings = Settings()
    ns = ProjectNamespaces(settings.base)
    dataset = convert_seeds(settings).dataset
    return dataset, ns, materialise(dataset, ns)


def test_seeds_infer_a_plausible_number_of_triples(seeds) -> None:
    dataset, ns, count = seeds
    graph = dataset.graph(ns.graph("inferred"))
    assert count == len(graph)
    assert 300 < count < 3000
    asserted = {t for name in ("background", "reference", "mappings", "links", "ontology")
                for t in dataset.graph(ns.graph(name))}
    assert not asserted & set(graph)
    assert not any(isinstance(o, Literal) for o in graph.objects(None, RDF.type))


def test_seeds_organisation_hierarchy(seeds) -> None:
    dataset, ns, _ = seeds
    graph = dataset.graph(ns.graph("inferred"))
    lab = ns.thing("organisation", "nhs-ai-lab")
    directorate = ns.thing("organisation", "nhs-transformation-directorate")
    nhsx = ns.thing("organisation", "nhsx")
    # Both the AI Lab and NHSX sit in the Transformation Directorate (seeds/organisations.csv).
    assert (lab, ORG.transitiveSubOrganizationOf, directorate) in graph
    assert (nhsx, ORG.transitiveSubOrganizationOf, directorate) in graph
    for unit in (lab, nhsx):
        assert (directorate, ORG.hasSubOrganization, unit) in graph
    # W3C ORG defines no transitive inverse, so none is inferred.
    assert not any("transitiveHas" in str(p) for p in graph.predicates())
    assert (lab, RDF.type, ORG.Organization) in graph  # OrganizationalUnit ⊑ Organization


def test_seeds_initiatives(seeds) -> None:
    dataset, ns, _ = seeds
    graph = dataset.graph(ns.graph("inferred"))
    aiwf = ns.AIWF
    topol = ns.thing("initiative", "topol-review")
    report_2030 = ns.thing("initiative", "data-driven-healthcare-2030")
    goldacre = ns.thing("initiative", "goldacre-review")
    secretary = ns.thing("post", "secretary-of-state-for-health-and-social-care")
    assert (topol, aiwf.followedBy, report_2030) in graph
    assert (goldacre, PROV.wasInfluencedBy, secretary) in graph
    assert (goldacre, PROV.wasAttributedTo, secretary) not in graph  # a post is not a prov:Agent
    assert (goldacre, RDF.type, aiwf.Initiative) in graph
    assert (topol, RDF.type, PROV.Entity) in graph


def test_seeds_role_concepts(seeds) -> None:
    dataset, ns, _ = seeds
    graph = dataset.graph(ns.graph("inferred"))
    analyst = ns.thing("role", "data-analyst")
    parent = ns.thing("role", "clinical-informatics-professional")
    assert (analyst, RDF.type, SKOS.Concept) in graph  # RoleConcept ⊑ skos:Concept
    assert (parent, SKOS.narrower, analyst) in graph
    assert (parent, SKOS.narrowerTransitive, analyst) in graph
    assert (analyst, SKOS.broaderTransitive, parent) in graph


def test_seeds_source_documents_are_not_typed_as_sections(seeds) -> None:
    dataset, ns, _ = seeds
    graph = dataset.graph(ns.graph("inferred"))
    for document, *_ in dataset.quads((None, RDF.type, ns.AIWF.SourceDocument, None)):
        assert (document, RDF.type, ns.AIWF.SourceSection) not in graph


def test_seeds_inference_is_deterministic(seeds) -> None:
    dataset, ns, count = seeds
    before = set(dataset.graph(ns.graph("inferred")))
    assert materialise(dataset, ns) == count
    assert set(dataset.graph(ns.graph("inferred"))) == before
    assert OWL.Thing not in set(dataset.graph(ns.graph("inferred")).objects())
    assert URIRef("http://www.w3.org/2001/XMLSchema#date") not in set(dataset.graph(ns.graph("inferred")).objects())


# -- the common label (pipeline.labels) ---------------------------------------------------------

def test_label_is_copied_from_the_naming_property_in_english() -> None:
    dataset, _ = build("", """
        @base <http://example.org/id/> .
        <organisation/a> ex:p <x> ; <http://xmlns.com/foaf/0.1/name> "Agency"@en , "Asiantaeth"@cy .
        <scheme/s> <http://purl.org/dc/terms/title> "Roles"@en-GB .
        <role/r> skos:prefLabel "data analyst"@en ; skos:altLabel "analyst"@en .
        <post/p> rdfs:label "Secretary"@en ; skos:prefLabel "Minister"@en .
    """)
    labels = {(s, o) for s, p, o in inferred(dataset) if p == RDFS.label}
    assert labels == {
        (thing("organisation/a"), Literal("Agency", lang="en")),
        (thing("scheme/s"), Literal("Roles", lang="en")),
        (thing("role/r"), Literal("data analyst", lang="en")),
    }  # the post keeps its asserted label and gets no second one; id:x has nothing to name it


def test_nameless_things_get_labels_composed_from_their_own_data() -> None:
    aiwf = "http://example.org/def/aiwf/"
    dataset, _ = build("", f"""
        @prefix aiwf: <{aiwf}> .
        @prefix qb: <http://purl.org/linked-data/cube#> .
        @base <http://example.org/id/> .
        <initiative/r> <http://purl.org/dc/terms/title> "The Review"@en .
        <aim/a> aiwf:aimOf <initiative/r> ; aiwf:aimKind "purpose" .
        <recommendation/x> aiwf:recommendedBy <initiative/r> .
        <recommendation/y> aiwf:recommendedBy <initiative/r> .
        <term-usage/t> aiwf:usedIn <initiative/r> ; aiwf:labelUsed "data analysts"@en .
        <structure/s> rdfs:label "Structure of counts"@en ; qb:component <component/c1> .
        <component/c1> qb:order 1 ; qb:dimension aiwf:countedKind .
        <dataset/d> <http://purl.org/dc/terms/title> "Counts"@en ; qb:structure <structure/s> .
        <counted-kind/k> skos:prefLabel "technologies"@en .
        <observation/o> qb:dataSet <dataset/d> ; aiwf:countedKind <counted-kind/k> .
    """)
    labels = {s: str(o) for s, p, o in inferred(dataset) if p == RDFS.label}
    assert labels[thing("aim/a")] == "Purpose of The Review"
    assert labels[thing("term-usage/t")] == "'data analysts' in The Review"
    assert labels[thing("component/c1")] == "Component 1 of Structure of counts"
    assert labels[thing("observation/o")] == "Counts: technologies"
    # Two equal composed labels are told apart by the things' keys.
    assert labels[thing("recommendation/x")] == "Recommendation of The Review (x)"
    assert labels[thing("recommendation/y")] == "Recommendation of The Review (y)"
    assert all(o.language == "en" for s, p, o in inferred(dataset) if p == RDFS.label)


def test_seeds_every_thing_has_one_english_label(seeds) -> None:
    dataset, ns, _ = seeds
    things = {s for s, *_ in dataset.quads((None, None, None, None))
              if isinstance(s, URIRef) and str(s).startswith(f"{ns.base}/id/")}
    assert len(things) > 200
    for subject in sorted(things):
        labels = [o for *_, o, _ in dataset.quads((subject, RDFS.label, None, None))]
        assert len(labels) == 1, (subject, labels)
        assert labels[0].language == "en", subject


def test_seeds_derived_labels_are_in_the_inferred_graph(seeds) -> None:
    dataset, ns, _ = seeds
    graph = dataset.graph(ns.graph("inferred"))

    def label(kind: str, key: str) -> str:
        [value] = graph.objects(ns.thing(kind, key), RDFS.label)
        return str(value)

    assert label("person", "e-topol") == "E. Topol"
    assert label("organisation", "nhs-ai-lab") == "NHS AI Lab"
    assert label("aim", "nhs-ai-lab-objective") == "Objective of NHS AI Lab"
    assert label("aim", "plan-goal-equip-system") == (
        "Goal of A plan for digital health and social care (plan-goal-equip-system)")
    assert label("term-usage", "this-research-data-analysts").startswith("'data analysts' in This research")
    assert label("component", "technology-shares-category") == "Component 2 of Structure of AI technology shares"
    assert label("observation", "total-wte-2030") == (
        "NHS digital technology and informatics workforce projection for 2030: forecast workforce size, "
        "NHS digital technology and health informatics workforce, 2030")
    assert label("mapping", "data-scientist-soc2020") == "Mapping of data scientist to no term found (broad match)"
    # An asserted label (sections, posts, structures) is not repeated or replaced.
    assert not list(graph.objects(ns.thing("section", "para-1"), RDFS.label))
