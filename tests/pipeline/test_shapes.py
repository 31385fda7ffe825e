"""The SHACL shapes and the validation report.

- every case of ``fixtures/shapes/cases.yaml`` (a change to a conforming world, with the exact
  results it must produce) behaves as written;
- every constraint of every shape fails in at least one case, so a shape that checks nothing
  (DCAT-AP's ``sh:shape`` typo, a misspelt parameter, a target that matches nothing) fails CI;
- every shape is documented for curators and has the severity of its file;
- the real seeds conform, and a corrupted seed cell is reported at its file, row and column.
"""

from __future__ import annotations

import csv
import shutil
from collections import Counter
from functools import cache
from pathlib import Path

import pyshacl
import pytest
import yaml
from rdflib import Dataset, Graph, URIRef
from rdflib.namespace import DCTERMS, RDF, SH

from nhs_ai_workforce.core.namespaces import ProjectNamespaces
from nhs_ai_workforce.core.settings import DEFAULT_BASE, Settings
from nhs_ai_workforce.pipeline.convert import convert_seeds
from nhs_ai_workforce.pipeline.inference import materialise
from nhs_ai_workforce.pipeline.locations import Location
from nhs_ai_workforce.pipeline.validation import (
    SHAPES_FILES,
    ShapesError,
    ValidationReport,
    load_shapes,
    shape_name,
    validate,
)

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "shapes"
SETTINGS = Settings(root=ROOT)
NS = ProjectNamespaces()
AIWF = NS.AIWF
SEVERITY_OF_FILE = {"violations.ttl": SH.Violation, "warnings.ttl": SH.Warning}
SHACL_ASSETS = Path(pyshacl.__file__).resolve().parent / "assets"

#: Constraint parameters and the component that reports their failure.
PARAMETERS = {
    SH.minCount: "MinCount", SH.maxCount: "MaxCount", SH.datatype: "Datatype",
    SH["class"]: "Class", SH.nodeKind: "NodeKind", SH.pattern: "Pattern", SH["in"]: "In",
    SH.languageIn: "LanguageIn", SH.uniqueLang: "UniqueLang", SH.minInclusive: "MinInclusive",
    SH.maxInclusive: "MaxInclusive", SH.minExclusive: "MinExclusive",
    SH.maxExclusive: "MaxExclusive", SH.minLength: "MinLength", SH.maxLength: "MaxLength",
    SH.disjoint: "Disjoint", SH.equals: "Equals", SH.lessThan: "LessThan",
    SH.lessThanOrEquals: "LessThanOrEquals", SH.hasValue: "HasValue", SH["or"]: "Or",
    SH["and"]: "And", SH.xone: "Xone", SH["not"]: "Not", SH.node: "Node",
    SH.qualifiedMinCount: "QualifiedMinCount", SH.qualifiedMaxCount: "QualifiedMaxCount",
    SH.closed: "Closed", SH.sparql: "SPARQL",
}


# -- the shapes files -------------------------------------------------------------------------

@cache
def shapes_file(name: str) -> Graph:
    return Graph().parse(SETTINGS.shapes_dir / name, format="turtle")


def node_shapes(graph: Graph) -> list[URIRef]:
    return sorted(s for s in set(graph.subjects(RDF.type, SH.NodeShape)) if isinstance(s, URIRef))


def top_level_shapes(graph: Graph) -> list:
    """Named node shapes and the property shapes directly under them."""
    shapes = []
    for node in node_shapes(graph):
        shapes.append(node)
        shapes.extend(sorted(graph.objects(node, SH.property), key=lambda p: shape_name(graph, p)))
    return shapes


def constraint_keys(graph: Graph, shape) -> set[tuple[str, str]]:
    """(shape name, component) for each constraint parameter that ``shape`` itself carries."""
    name = shape_name(graph, shape)
    return {(name, component) for parameter, component in PARAMETERS.items()
            if (shape, parameter, None) in graph}


ALL_SHAPES = [(file, shape) for file in SHAPES_FILES for shape in top_level_shapes(shapes_file(file))]


def _shape_id(item: tuple[str, object]) -> str:
    file, shape = item
    return shape_name(shapes_file(file), shape)


# -- the fixture world ------------------------------------------------------------------------

CASES = yaml.safe_load((FIXTURES / "cases.yaml").read_text(encoding="utf-8"))


@cache
def base_graph() -> Graph:
    return Graph().parse(FIXTURES / "base.ttl", format="turtle")


@cache
def ontology_graph() -> Graph:
    graph = Graph()
    for path in sorted(SETTINGS.ontology_dir.glob("*.ttl")):
        graph.parse(path, format="turtle")
    return graph


def prefixes() -> dict[str, str]:
    return {prefix: str(namespace) for prefix, namespace in base_graph().namespaces() if prefix}


def expand(curie: str) -> URIRef:
    prefix, _, local = curie.partition(":")
    return URIRef(prefixes()[prefix] + local)


def curie(term) -> str:
    text = str(term)
    best = max(((p, n) for p, n in prefixes().items() if text.startswith(n)),
               key=lambda item: len(item[1]), default=None)
    return f"{best[0]}:{text[len(best[1]):]}" if best else text


def validate_world(update: str | None = None, *, locations=None, columns=None) -> ValidationReport:
    """Validate base.ttl, changed by ``update``, with the ontology and inference, like a build."""
    data = Graph()
    for triple in base_graph():
        data.add(triple)
    if update:
        header = "".join(f"PREFIX {p}: <{n}>\n" for p, n in prefixes().items())
        data.update(header + update)
    dataset = Dataset()
    background = dataset.graph(NS.graph("background"))
    for triple in data:
        background.add(triple)
    ontology = dataset.graph(NS.graph("ontology"))
    for triple in ontology_graph():
        ontology.add(triple)
    materialise(dataset, NS)
    return validate(dataset, SETTINGS, locations or {}, columns)


def outcome(report: ValidationReport) -> Counter:
    return Counter(
        (curie(r.focus), r.shape, r.component.removesuffix("ConstraintComponent"))
        for r in report.results
    )


def test_base_world_conforms_without_warnings():
    report = validate_world()
    assert report.conforms
    assert report.results == [], report.text


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_case(case):
    report = validate_world(case["update"])
    expected = Counter(tuple(item) for item in case["expect"])
    assert outcome(report) == expected, report.text
    violations = [r for r in report.results if r.severity == "Violation"]
    assert report.conforms is (not violations)


def test_case_ids_are_unique():
    ids = [c["id"] for c in CASES]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("item", ALL_SHAPES, ids=_shape_id)
def test_every_constraint_fails_in_some_case(item):
    file, shape = item
    graph = shapes_file(file)
    keys = constraint_keys(graph, shape)
    if isinstance(shape, URIRef) and not keys:
        assert list(graph.objects(shape, SH.property)), f"{shape} has no constraint and no property"
        return
    assert keys, f"{shape_name(graph, shape)} carries no constraint, so it can never fire"
    failing = {(name, component) for case in CASES for _, name, component in case["expect"]}
    assert keys - failing == set(), "no case in cases.yaml makes these constraints fail"


@pytest.mark.parametrize("item", ALL_SHAPES, ids=_shape_id)
def test_every_shape_is_documented_with_the_severity_of_its_file(item):
    file, shape = item
    graph = shapes_file(file)
    name = shape_name(graph, shape)
    for predicate in (SH.name, SH.description):
        values = list(graph.objects(shape, predicate))
        assert [v.language for v in values] == ["en"], f"{name} needs one English {predicate}"
    assert list(graph.objects(shape, SH.severity)) == [SEVERITY_OF_FILE[file]], (
        f"{name} must say sh:severity {SEVERITY_OF_FILE[file]}: SHACL does not inherit it")
    sparql = list(graph.objects(shape, SH.sparql))
    holders = sparql or [shape]
    for holder in holders:
        messages = list(graph.objects(holder, SH.message))
        assert [m.language for m in messages] == ["en"], f"{name} needs one English sh:message"
    if sparql:
        # pySHACL would report the shape's message as well as the constraint's.
        assert (shape, SH.message, None) not in graph


@pytest.mark.parametrize("file", SHAPES_FILES)
def test_node_shapes_have_targets_and_unique_names(file):
    graph = shapes_file(file)
    for shape in node_shapes(graph):
        targets = [p for p in (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf)
                   if (shape, p, None) in graph]
        assert targets, f"{shape} has no target, so it never checks anything"
        assert str(shape).endswith("_Shape")
    names = [shape_name(graph, s) for s in top_level_shapes(graph)]
    assert len(names) == len(set(names)), "two shapes share a report name"


def test_shape_names_differ_between_files():
    names = [set(map(str, node_shapes(shapes_file(file)))) for file in SHAPES_FILES]
    assert not names[0] & names[1]


@pytest.mark.parametrize("item", ALL_SHAPES, ids=_shape_id)
def test_each_constraint_parameter_is_given_once(item):
    """One value per parameter, so each constraint can be matched to the case that fails it."""
    file, shape = item
    graph = shapes_file(file)
    for parameter in PARAMETERS:
        assert len(list(graph.objects(shape, parameter))) <= 1, (shape_name(graph, shape), parameter)


@pytest.mark.parametrize("file", SHAPES_FILES)
def test_shapes_use_only_shacl_terms(file):
    """``sh:shape`` (DCAT-AP's bug) or any other made-up sh: term would silently check nothing."""
    vocabulary = {s for s in Graph().parse(SHACL_ASSETS / "shacl.ttl", format="turtle").subjects()}
    used = {t for triple in shapes_file(file) for t in triple
            if isinstance(t, URIRef) and str(t).startswith(str(SH))}
    assert used - vocabulary == set()


@pytest.mark.parametrize("file", SHAPES_FILES)
def test_shapes_are_valid_shacl(file):
    shacl_shacl = Graph().parse(SHACL_ASSETS / "shacl-shacl.ttl", format="turtle")
    conforms, _, text = pyshacl.validate(shapes_file(file), shacl_graph=shacl_shacl)
    assert conforms, text


def provenance_targets() -> list[URIRef]:
    graph = shapes_file("violations.ttl")
    return sorted(graph.objects(URIRef(NS.base + "/def/aiwf-shapes/Provenance_Shape"), SH.targetClass))


@pytest.mark.parametrize("target", provenance_targets(), ids=curie)
def test_provenance_is_required_of_every_target_class(target):
    """For each class the provenance shape targets, an instance without a source fails."""
    world = Graph()
    for triple in (*base_graph(), *ontology_graph()):
        world.add(triple)
    instances = sorted(
        row.thing for row in world.query(
            "SELECT DISTINCT ?thing WHERE { ?thing a/rdfs:subClassOf* ?class }",
            initBindings={"class": target})
        if str(row.thing).startswith(NS.base + "/id/"))
    assert instances, f"base.ttl has no {curie(target)} to test the provenance shape with"
    thing = instances[0]
    report = validate_world(f"DELETE WHERE {{ <{thing}> aiwf:statedIn ?source }}")
    assert outcome(report) == Counter({(curie(thing), "Provenance_Shape/aiwf:statedIn", "MinCount"): 1})


# -- the report --------------------------------------------------------------------------------

def test_problem_names_seed_file_row_column_value_and_shape():
    initiative = expand("initiative:review")
    report = validate_world(
        'DELETE DATA { initiative:review dcterms:issued "2019"^^xsd:gYear } ;'
        ' INSERT DATA { initiative:review dcterms:issued "2019-13-01"^^xsd:date }',
        locations={initiative: Location("seeds/initiatives.csv", 4)},
        columns={(initiative, DCTERMS.issued): "issued"},
    )
    assert not report.conforms
    # The impossible date also has no first and last day (IssuedDates_Shape).
    issued = [str(p) for p in report.problems if str(p).endswith("[Initiative_Shape/dcterms:issued]")]
    assert issued == [
        "seeds/initiatives.csv:4 column 'issued': An initiative has at most one issued date, and it "
        "must be a year, year-month or date (YYYY, YYYY-MM or YYYY-MM-DD); value '2019-13-01' "
        "[Initiative_Shape/dcterms:issued]"
    ]
    assert report.warnings == []
    assert report.text.splitlines()[0].startswith("SHACL validation: 3 violation(s), 0 warning(s)")
    assert "  " + issued[0] in report.text.splitlines()


def test_column_is_found_from_the_table_when_not_recorded():
    analyst = expand("role:analyst")
    report = validate_world(
        'INSERT DATA { role:analyst skos:altLabel "data analyst"@en }',
        locations={analyst: Location("seeds/role_concepts.csv", 4)},
    )
    [problem] = report.problems
    assert problem.location == Location("seeds/role_concepts.csv", 4, "pref_label")
    assert problem.shape == "Concept_Shape/skos:prefLabel"
    assert "value 'data analyst'@en" in problem.message


def test_problem_without_seed_row_names_the_resource_and_its_graph():
    report = validate_world('DELETE DATA { initiative:report dcterms:title "The example report"@en }')
    # Without its title the report (and what is labelled after it) has no label either.
    assert {p.shape for p in report.problems} == {"Initiative_Shape/dcterms:title", "Label_Shape"}
    [problem] = [p for p in report.problems if p.shape == "Initiative_Shape/dcterms:title"]
    assert problem.location.file == "initiative/report (graph background)"
    assert problem.location.row == 0
    assert problem.message.startswith("dcterms:title: An initiative needs exactly one title")


def test_warnings_do_not_stop_conformance():
    report = validate_world("DELETE DATA { initiative:programme foaf:page <https://programme.example.org/> }")
    assert report.conforms
    assert report.problems == []
    assert [p.shape for p in report.warnings] == ["InitiativeCompleteness_Shape/aiwf:citedAddress|foaf:page"]


def test_shapes_move_to_another_base():
    shapes = load_shapes(SETTINGS.with_(base="http://localhost:8000"))
    assert (URIRef("http://localhost:8000/def/aiwf-shapes/Initiative_Shape"), RDF.type, SH.NodeShape) in shapes
    namespaces = {str(n) for n in shapes.objects(None, SH.namespace)}
    assert "http://localhost:8000/def/aiwf/" in namespaces
    assert not any(n.startswith(DEFAULT_BASE) for n in namespaces)


@pytest.mark.parametrize(("addition", "complaint"), [
    ("this is not Turtle", "violations.ttl"),
    ("""aiwfsh:Bad_Shape a sh:NodeShape ; sh:targetClass aiwf:Review ;
        sh:sparql [ sh:select "SELECT $this WHERE { VALUES ?x { 1 } }" ] .""", "VALUES"),
])
def test_unusable_shapes_stop_validation(tmp_path, addition, complaint):
    """pySHACL returns, rather than raises, a failure for shapes it cannot use; so must we not."""
    shutil.copytree(SETTINGS.shapes_dir, tmp_path / "shapes")
    with (tmp_path / "shapes" / "violations.ttl").open("a", encoding="utf-8") as handle:
        handle.write("\n" + addition + "\n")
    dataset = Dataset()
    dataset.graph(NS.graph("background")).parse(FIXTURES / "base.ttl", format="turtle")
    with pytest.raises(ShapesError, match=complaint):
        validate(dataset, Settings(root=tmp_path), {})


# -- the real seeds ------------------------------------------------------------------------------

def build_and_validate(settings: Settings) -> ValidationReport:
    converted = convert_seeds(settings)
    materialise(converted.dataset, ProjectNamespaces(settings.base))
    return validate(converted.dataset, settings, converted.locations, converted.columns)


def test_real_seeds_conform():
    report = build_and_validate(SETTINGS)
    assert report.conforms, report.text
    assert report.problems == []
    # Every warning points at a seed row a curator can open.
    for warning in report.warnings:
        assert warning.location.file.startswith("seeds/") and warning.location.row > 1, warning


@pytest.fixture
def seed_copy(tmp_path: Path) -> Path:
    for folder in ("seeds", "ontology", "shapes"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    return tmp_path


def edit_cell(root: Path, table: str, key: str, column: str, value: str) -> int:
    """Set one cell of a seed table; returns the row's line number."""
    path = root / "seeds" / table
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        fields = reader.fieldnames
        rows = list(reader)
    key_column = fields[0]
    [index] = [i for i, row in enumerate(rows) if row[key_column] == key]
    rows[index][column] = value
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return index + 2


CORRUPTIONS = [
    # table, key, column, new value, expected shape
    ("technology_shares.csv", "type-diagnostic", "share_percent", "340",
     "Observation_Shape/aiwf:shareOfTechnologies"),
    ("role_concepts.csv", "data-engineer", "pref_label", "data analyst", "UniquePrefLabel_Shape"),
    ("role_concepts.csv", "data-analyst", "alt_labels", "data analysts|data analyst",
     "Concept_Shape/skos:prefLabel"),
    ("citations.csv", "reference-3", "number", "0", "Citation_Shape/aiwf:referenceNumber"),
    ("aims.csv", "nhs-ai-lab-objective", "kind", "mission", "Aim_Shape/aiwf:aimKind"),
    ("term_usages.csv", "goldacre-data-analysts", "concept", "initiative/goldacre-review",
     "TermUsage_Shape/aiwf:concept"),
]


@pytest.mark.parametrize(("table", "key", "column", "value", "shape"), CORRUPTIONS,
                         ids=[f"{c[0]}:{c[2]}={c[3]}" for c in CORRUPTIONS])
def test_corrupted_seed_cell_is_reported_where_it_is(seed_copy, table, key, column, value, shape):
    row = edit_cell(seed_copy, table, key, column, value)
    report = build_and_validate(Settings(root=seed_copy))
    assert not report.conforms
    where = [(p.location, p.shape) for p in report.problems]
    # A concept's labels are checked on the preferred label, which the alt_labels cell clashes with.
    expected_column = "pref_label" if column == "alt_labels" else column
    assert (Location(f"seeds/{table}", row, expected_column), shape) in where, report.text


def test_share_total_is_checked_under_another_base(seed_copy):
    """The SPARQL shapes keep working when the build runs under a different base URI."""
    settings = Settings(root=seed_copy, base="http://localhost:8000")
    assert build_and_validate(settings).conforms
    row = edit_cell(seed_copy, "technology_shares.csv", "type-remote-monitoring", "share_percent", "14.5")
    assert build_and_validate(settings).conforms  # 34 + 29 + 17 + 14.5 = 94.5
    edit_cell(seed_copy, "technology_shares.csv", "type-remote-monitoring", "share_percent", "21")
    report = build_and_validate(settings)
    totals = [p for p in report.problems if p.shape == "ShareTotal_Shape"]
    assert {p.location.row for p in totals} == {2, 3, 4, row}
    assert all(p.location.column == "share_percent" for p in totals)
    assert all(p.message.endswith("value '101'") for p in totals), totals
