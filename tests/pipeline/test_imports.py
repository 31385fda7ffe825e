"""Importing classifications (ONS SOC 2020, ESCO) from user-supplied files into their own named graphs.

Fixture files are written at test time (:mod:`classification_files`) in the published layouts;
the builds run on a copy of the project's seeds, ontology and shapes in a temporary folder, so
neither ``data/`` nor ``var/`` of the checkout is touched.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, SKOS

from classification_files import (
    DATA_ANALYST,
    DATA_SCIENTIST,
    FIXTURE_OCCUPATION,
    ISCO_GROUPS,
    OCCUPATIONS,
    SOC_HEADER,
    SOC_ROWS,
    write_esco,
    write_soc_workbook,
)
from nhs_ai_workforce.core.namespaces import DEFAULT, ProjectNamespaces
from nhs_ai_workforce.core.settings import Settings
from nhs_ai_workforce.core.vocab import DCTERMS as DCT
from nhs_ai_workforce.core.vocab import PAV, SPDX
from nhs_ai_workforce.pipeline.build import build
from nhs_ai_workforce.pipeline.classification import ImportFailed
from nhs_ai_workforce.pipeline.convert import convert_seeds
from nhs_ai_workforce.pipeline.errors import BuildFailed
from nhs_ai_workforce.pipeline.esco import isco_iri, read_esco
from nhs_ai_workforce.pipeline.imports import NotImported, import_classification, remove_import
from nhs_ai_workforce.pipeline.soc2020 import read_soc2020
from nhs_ai_workforce.store import imports as records
from nhs_ai_workforce.store.dumps import NQUADS_FILE, ServedDumps
from nhs_ai_workforce.store.live import current_dir, open_store

PROJECT = Path(__file__).resolve().parents[2]
REFERENCE = PROJECT.parent / "shared" / "reference"
SOC = DEFAULT.thing
ESCO_ISCO = "http://data.europa.eu/esco/concept-scheme/isco"
OGL = "http://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"


def copy_project(root: Path) -> Settings:
    for name in ("seeds", "ontology", "shapes"):
        shutil.copytree(PROJECT / name, root / name)
    return Settings(root=root)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()} \
        if folder.is_dir() else {}


def quads(settings: Settings, graph: str) -> set[ox.Quad]:
    name = ox.NamedNode(str(ProjectNamespaces(settings.base).graph(graph)))
    return set(open_store(settings).quads_for_pattern(None, None, None, name))


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("files")
    occupations, groups = write_esco(folder / "esco")
    return {"soc": write_soc_workbook(folder / "soc2020.xlsx"), "occupations": occupations, "groups": groups}


@pytest.fixture(scope="module")
def imported(tmp_path_factory, files) -> Settings:
    """A copy of the project, built, with both fixture classifications imported."""
    settings = copy_project(tmp_path_factory.mktemp("project"))
    build(settings, write_dumps=False)
    import_classification(settings, read_soc2020(files["soc"]))
    import_classification(settings, read_esco(files["occupations"], files["groups"]))
    return settings


# -- conversion ---------------------------------------------------------------------------------

def test_soc_groups_get_the_iris_the_seed_tables_mint(files):
    soc = read_soc2020(files["soc"])
    assert soc.concepts() == {SOC("soc2020", code) for code in ("3", "35", "354", "3544", "3549")}
    seeds = convert_seeds(Settings()).dataset
    seeded = {s for s, _, _, _ in seeds.quads((None, SKOS.notation, Literal("3544"), None))}
    assert seeded == {SOC("soc2020", "3544")}
    scheme = SOC("scheme", "soc2020")
    assert (SOC("soc2020", "3544"), SKOS.inScheme, scheme) in soc.triples
    assert list(seeds.quads((seeded.pop(), SKOS.inScheme, scheme, None)))


def test_soc_hierarchy_runs_from_unit_group_to_major_group(files):
    triples = read_soc2020(files["soc"]).triples
    for code in ("3544", "354", "35"):
        assert (SOC("soc2020", code), SKOS.broader, SOC("soc2020", code[:-1])) in triples
    assert not [t for t in triples if t[0] == SOC("soc2020", "3") and t[1] == SKOS.broader]
    assert (SOC("soc2020", "3"), SKOS.topConceptOf, SOC("scheme", "soc2020")) in triples
    assert (SOC("soc2020", "3544"), SKOS.notation, Literal("3544")) in triples


def test_soc_related_job_titles_are_examples_and_hidden_labels(files):
    triples = read_soc2020(files["soc"]).triples
    unit, other = SOC("soc2020", "3544"), SOC("soc2020", "3549")
    assert (unit, SKOS.prefLabel, Literal("Data analysts", lang="en")) in triples
    for title in ("Data analyst", "Data officer", "Data quality analyst"):
        assert (unit, SKOS.example, Literal(title, lang="en")) in triples
        assert (unit, SKOS.hiddenLabel, Literal(title, lang="en")) in triples
    assert (unit, SKOS.definition, Literal("Fixture description of unit group 3544.", lang="en")) in triples
    # a title equal to the group's own is an example only (SKOS S13); repeats are dropped
    same = Literal("Fixture unit group 3549", lang="en")
    assert (other, SKOS.example, same) in triples and (other, SKOS.hiddenLabel, same) not in triples
    assert len([t for t in triples if t[0] == other and t[1] == SKOS.example]) == 2


def test_the_workbooks_date_is_the_version_unless_one_is_given(files):
    assert len(read_soc2020(files["soc"]).version) == len("2026-01-28")
    assert read_soc2020(files["soc"], version="SOC 2020 (test)").version == "SOC 2020 (test)"


def test_esco_occupations_keep_their_iris_and_labels(files):
    esco = read_esco(files["occupations"], files["groups"])
    triples = esco.triples
    scientist = URIRef(DATA_SCIENTIST)
    assert esco.version == "1.2.0"
    assert (scientist, SKOS.prefLabel, Literal("data scientist", lang="en")) in triples
    assert {o for s, p, o in triples if s == scientist and p == SKOS.altLabel} == {
        Literal("fixture data science alias", lang="en"), Literal("fixture second alias", lang="en")}
    assert (scientist, SKOS.hiddenLabel, Literal("fixture hidden data label", lang="en")) in triples
    assert (scientist, SKOS.notation, Literal("2511.4")) in triples
    assert (scientist, DCTERMS.description, Literal("Fixture description of data scientist.", lang="en")) in triples
    assert (scientist, SKOS.inScheme, URIRef("http://data.europa.eu/esco/concept-scheme/occupations")) in triples
    assert esco.notes == ["1 alternative or hidden label(s) equal to their concept's preferred label were left "
                          "out (SKOS S13)"]
    assert len(esco.concepts()) == len(OCCUPATIONS) + len(ISCO_GROUPS)


def test_esco_hierarchy_follows_the_codes_up_to_the_isco_groups(files):
    triples = read_esco(files["occupations"], files["groups"]).triples
    assert (URIRef(FIXTURE_OCCUPATION), SKOS.broader, URIRef(DATA_SCIENTIST)) in triples
    assert (URIRef(DATA_SCIENTIST), SKOS.broader, isco_iri("2511")) in triples
    assert (URIRef(DATA_ANALYST), SKOS.broader, isco_iri("2511")) in triples
    for code in ("2511", "251", "25"):
        assert (isco_iri(code), SKOS.broader, isco_iri(code[:-1])) in triples
    assert (isco_iri("2"), SKOS.topConceptOf, URIRef(ESCO_ISCO)) in triples
    assert (isco_iri("2511"), RDF.type, SKOS.Concept) in triples


# -- clear errors for files that are not in the published format ----------------------------------

def _soc_problems(path: Path) -> list[str]:
    with pytest.raises(ImportFailed) as failed:
        read_soc2020(path)
    return [str(p) for p in failed.value.problems]


def test_a_workbook_without_the_descriptions_sheet_is_refused(tmp_path):
    (problem,) = _soc_problems(write_soc_workbook(tmp_path / "x.xlsx", sheet="Sheet1"))
    assert problem.startswith(
        "x.xlsx: no sheet 'SOC2020 descriptions' (the workbook has 'Sheet1', 'SOC2020 Framework')")


def test_a_missing_column_is_named(tmp_path):
    header = tuple(h for h in SOC_HEADER if "Related" not in h)
    rows = [row[:9] for row in [(3, "", "", "", "Fixture major group 3", "", "d", "", "")]]
    (problem,) = _soc_problems(write_soc_workbook(tmp_path / "x.xlsx", rows, header=header))
    assert problem == ("x.xlsx[SOC2020 descriptions]:1 column 'Related Job Titles': column is missing from the "
                       "header row (the first row of the sheet)")


@pytest.mark.parametrize(("row", "expected"), [
    (("<blank>", "<blank>", "<blank>", "35444", "Fixture", "d", "<blank>"),
     "x.xlsx[SOC2020 descriptions]:2 column 'SOC 2020 Unit Group': malformed code '35444': a code in this column "
     "has 4 digit(s)"),
    (("<blank>", "3x", "<blank>", "<blank>", "Fixture", "d", "<blank>"),
     "x.xlsx[SOC2020 descriptions]:2 column 'SOC 2020 Sub-Major Group': malformed code '3x'"),
    (("<blank>", "<blank>", 354, 3544, "Fixture", "d", "<blank>"),
     "x.xlsx[SOC2020 descriptions]:2 column 'SOC 2020 Unit Group': a row describes one group"),
    (("<blank>", "<blank>", "<blank>", "<blank>", "Fixture", "d", "<blank>"),
     "x.xlsx[SOC2020 descriptions]:2 column 'SOC 2020 Unit Group': the row has no code"),
    (("<blank>", "<blank>", "<blank>", 3544, "<blank>", "d", "<blank>"),
     "x.xlsx[SOC2020 descriptions]:2 column 'SOC 2020 Group Title': a group title is required"),
])
def test_a_malformed_row_is_reported_with_its_sheet_row_and_column(tmp_path, row, expected):
    problems = _soc_problems(write_soc_workbook(tmp_path / "x.xlsx", [row]))
    assert problems[0].startswith(expected), problems


def test_a_repeated_code_names_both_rows(tmp_path):
    rows = [SOC_ROWS[3], SOC_ROWS[3]]
    (problem,) = _soc_problems(write_soc_workbook(tmp_path / "x.xlsx", rows))
    assert problem == ("x.xlsx[SOC2020 descriptions]:3 column 'SOC 2020 Unit Group': duplicate code '3544': "
                       "row 2 has it too")


def test_a_file_that_is_not_a_workbook_is_refused(tmp_path):
    path = tmp_path / "soc.xlsx"
    path.write_text("code,title\n3544,Data analysts\n", encoding="utf-8")
    (problem,) = _soc_problems(path)
    assert problem.startswith("soc.xlsx: not an Excel .xlsx workbook")


@pytest.mark.parametrize(("occupations", "groups", "expected"), [
    ([(DATA_ANALYST, "2511", "data analyst", "", "", "2512.3")], None,
     "occupations_en_1.2.0.csv:2 column 'iscoGroup': ISCO-08 group '2511' does not agree with the code '2512.3'"),
    ([(DATA_ANALYST, "2511", "data analyst", "", "", "2511")], None,
     "occupations_en_1.2.0.csv:2 column 'code': malformed ESCO occupation code '2511'"),
    ([("http://data.europa.eu/esco/skill/x", "2511", "data analyst", "", "", "2511.3")], None,
     "occupations_en_1.2.0.csv:2 column 'conceptUri': not an ESCO occupation IRI"),
    ([(FIXTURE_OCCUPATION, "2511", "fixture narrower occupation", "", "", "2511.9.1")], None,
     "occupations_en_1.2.0.csv:2 column 'code': no occupation has the code '2511.9'"),
    ([(DATA_ANALYST, "2511", "data analyst", "", "", "2511.3", "Skill")], None,
     "occupations_en_1.2.0.csv:2 column 'conceptType': expected 'Occupation', not 'Skill'"),
    (None, [("251", "x"), ("2511", "Systems analysts"), ("25", "y"), ("2", "z"), ("25x", "w")],
     "ISCOGroups_en_1.2.0.csv:10 column 'code': malformed ISCO-08 code '25x'"),
])
def test_a_malformed_esco_row_is_reported_with_its_line_and_column(tmp_path, occupations, groups, expected):
    with pytest.raises(ImportFailed) as failed:
        read_esco(*write_esco(tmp_path, occupations, groups))
    assert any(str(p).startswith(expected) for p in failed.value.problems), failed.value.report()


def test_an_esco_file_without_a_column_is_named(tmp_path):
    header = tuple(h for h in ("conceptType", "conceptUri", "iscoGroup", "preferredLabel", "altLabels", "code",
                               "inScheme", "description"))
    with pytest.raises(ImportFailed) as failed:
        read_esco(*write_esco(tmp_path, occupation_header=header))
    assert str(failed.value.problems[0]).startswith(
        "occupations_en_1.2.0.csv:1 column 'hiddenLabels': column is missing from the header")


# -- shapes ---------------------------------------------------------------------------------------

def test_the_shapes_catch_an_occupation_whose_isco_group_is_not_in_the_groups_file(tmp_path, imported):
    occupations, groups = write_esco(tmp_path, groups=[g for g in ISCO_GROUPS if g[0] != "2511"])
    with pytest.raises(BuildFailed) as failed:
        import_classification(imported, read_esco(occupations, groups))
    problems = [str(p) for p in failed.value.problems]
    assert any(p.startswith("occupations_en_1.2.0.csv:2 column 'code': A broader group must be one group of the "
                            "classification") and "<http://data.europa.eu/esco/isco/C2511>" in p
               and "[ClassifiedConcept_Shape/skos:broader]" in p for p in problems), problems


def test_the_shapes_catch_a_group_whose_title_differs_from_the_seed_tables(tmp_path, imported):
    rows = [*SOC_ROWS[:3], (*SOC_ROWS[3][:4], "Data analysts and fixture officers", *SOC_ROWS[3][5:])]
    with pytest.raises(BuildFailed) as failed:
        import_classification(imported, read_soc2020(write_soc_workbook(tmp_path / "soc.xlsx", rows)))
    problems = [str(p) for p in failed.value.problems]
    assert any(p.startswith("soc.xlsx[SOC2020 descriptions]:5 column 'SOC 2020 Group Title'")
               and "ClassifiedConcept_Shape/skos:prefLabel" in p for p in problems), problems


def test_the_shapes_file_follows_the_shape_conventions(imported):
    from rdflib import Graph
    from rdflib.namespace import SH

    shapes = Graph().parse(imported.shapes_dir / "classifications.ttl")
    for shape in set(shapes.subjects(RDF.type, SH.NodeShape)):
        assert shapes.value(shape, SH.name) and shapes.value(shape, SH.description)
        assert shapes.value(shape, SH.severity) == SH.Violation
    for prop in set(shapes.objects(None, SH.property)):
        assert shapes.value(prop, SH.message) and shapes.value(prop, SH.severity) == SH.Violation


# -- publishing -----------------------------------------------------------------------------------

def test_an_import_is_recorded_and_served_through_sparql(imported, files):
    from nhs_ai_workforce.web.app import create_app

    record = json.loads(records.record_file(imported, "soc2020").read_bytes())
    assert record["files"] == [{"name": "soc2020.xlsx", "sha256": records.sha256(files["soc"].read_bytes())}]
    assert record["imported"].endswith("Z") and record["version"] and record["licence"] == OGL
    client = create_app({"SETTINGS": imported}).test_client()
    graph = ProjectNamespaces(imported.base).graph("soc2020")
    query = (f"SELECT ?code ?up {{ GRAPH <{graph}> {{ ?c skos:notation ?code ; skos:broader/skos:notation ?up }} }} "
             "ORDER BY ?code")
    response = client.get("/sparql", query_string={"query": query},
                          headers={"Accept": "application/sparql-results+json"})
    assert response.status_code == 200
    rows = [(b["code"]["value"], b["up"]["value"]) for b in response.get_json()["results"]["bindings"]]
    assert rows == [("35", "3"), ("354", "35"), ("3544", "354"), ("3549", "354")]
    ask = f"ASK {{ <{FIXTURE_OCCUPATION}> skos:broader+ <{isco_iri('2')}> ; rdfs:label ?l }}"
    ask = client.get("/sparql", query_string={"query": ask}, headers={"Accept": "application/sparql-results+json"})
    assert ask.get_json()["boolean"] is True
    page = client.get("/doc/graph/soc2020", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "soc2020.xlsx" in page and OGL in page


def test_the_imported_graph_holds_what_the_ontology_entails_from_it_and_inferred_does_not(imported):
    soc = quads(imported, "soc2020")
    ns = ProjectNamespaces(imported.base)
    unit, major = (ox.NamedNode(str(ns.thing("soc2020", c))) for c in ("3544", "3"))
    graph = ox.NamedNode(str(ns.graph("soc2020")))
    skos = "http://www.w3.org/2004/02/skos/core#"
    assert ox.Quad(unit, ox.NamedNode(skos + "broaderTransitive"), major, graph) in soc
    assert ox.Quad(major, ox.NamedNode(skos + "narrower"), ox.NamedNode(str(ns.thing("soc2020", "35"))), graph) in soc
    labels = [q for q in soc if q.subject == major and q.predicate.value.endswith("rdf-schema#label")]
    assert [q.object.value for q in labels] == ["Fixture major group 3"]
    assert not [q for q in quads(imported, "inferred") if q.subject == major]


def test_later_builds_keep_the_imports_and_reuse_their_checks(imported):
    before = snapshot(records.imports_dir(imported))
    result = build(imported, write_dumps=False)
    assert result.graph_counts["soc2020"] > 0 and result.graph_counts["esco"] > 0
    assert snapshot(records.imports_dir(imported)) == before  # nothing needed checking again
    assert result.timings["imports"] < 5


def test_a_failed_import_leaves_the_live_store_and_var_imports_untouched(tmp_path, imported, files):
    live, before = current_dir(imported), snapshot(records.imports_dir(imported))
    rows = [*SOC_ROWS, ("<blank>", "<blank>", "<blank>", 9999, "Fixture unit group without its minor group",
                        "d", "<blank>")]
    with pytest.raises(BuildFailed):
        import_classification(imported, read_soc2020(write_soc_workbook(tmp_path / "soc.xlsx", rows)))
    assert current_dir(imported) == live
    assert snapshot(records.imports_dir(imported)) == before


def test_a_failure_while_recording_swaps_the_previous_store_back(tmp_path, files, monkeypatch):
    from nhs_ai_workforce.store import staging

    settings = copy_project(tmp_path)
    build(settings, write_dumps=False)
    live, before = current_dir(settings), snapshot(records.imports_dir(settings))

    def refuse(self):
        self.abort()
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(staging.StagedFiles, "commit", refuse)
    with pytest.raises(OSError):
        import_classification(settings, read_soc2020(files["soc"]))
    assert current_dir(settings) == live
    assert snapshot(records.imports_dir(settings)) == before


def test_remove_drops_one_import_and_its_files(tmp_path, files):
    settings = copy_project(tmp_path)
    build(settings, write_dumps=False)
    import_classification(settings, read_soc2020(files["soc"]))
    assert quads(settings, "soc2020")
    remove_import(settings, "soc2020")
    assert not quads(settings, "soc2020")
    assert snapshot(records.imports_dir(settings)) == {}
    with pytest.raises(NotImported):
        remove_import(settings, "esco")
    assert build(settings, write_dumps=False).graph_counts.get("soc2020") is None


# -- dumps, VoID, an import that is absent ------------------------------------------------------------

def test_dumps_leave_the_imports_out_unless_asked(tmp_path, files):
    settings = copy_project(tmp_path)
    build(settings)
    seeds_only = snapshot(settings.data_dir)
    import_classification(settings, read_soc2020(files["soc"]))
    build(settings)
    assert snapshot(settings.data_dir) == seeds_only  # data/ still comes from the seeds alone
    served = ServedDumps(settings).get(open_store(settings), current_dir(settings).name)
    assert served.find("graphs/soc2020.ttl") is None
    with_imports = settings.with_(dump_imports=True)
    build(with_imports)
    assert (settings.data_dir / "graphs" / "soc2020.ttl").is_file()
    graph = str(ProjectNamespaces(settings.base).graph("soc2020"))
    assert f"<{graph}>" in (settings.data_dir / NQUADS_FILE).read_text(encoding="utf-8")
    assert ServedDumps(with_imports).get(open_store(settings), current_dir(settings).name).find("graphs/soc2020.ttl")
    assert Settings.from_env({"AIWF_DUMP_IMPORTS": "1"}).dump_imports
    assert not Settings.from_env({"AIWF_DUMP_IMPORTS": "0"}).dump_imports and not Settings.from_env({}).dump_imports


def _void(settings: Settings) -> set[ox.Triple]:
    from nhs_ai_workforce.documents.void import describe
    from nhs_ai_workforce.documents.void_statistics import statistics

    return set(describe(settings, statistics(open_store(settings), settings), []))


def test_the_void_states_each_imports_licence_source_version_and_files(imported, files):
    void = _void(imported)
    ns = ProjectNamespaces(imported.base)
    soc, esco = (ox.NamedNode(str(ns.graph(name))) for name in ("soc2020", "esco"))

    def values(subject, predicate):
        return {t.object.value for t in void if t.subject == subject and t.predicate == ox.NamedNode(predicate)}

    assert values(soc, DCT + "license") == {OGL}
    assert values(esco, DCT + "license") == {"http://data.europa.eu/eli/dec/2011/833/oj"}
    assert any(v.startswith("This service uses the ESCO classification of the European Commission.")
               for v in values(esco, DCT + "rights"))
    assert values(soc, DCT + "source") == {
        "https://www.ons.gov.uk/methodology/classificationsandstandards/standardoccupationalclassificationsoc/"
        "soc2020/soc2020volume1structureanddescriptionsofunitgroups"}
    assert values(esco, PAV + "version") == {"1.2.0"}
    assert len(values(esco, PAV + "importedFrom")) == 2
    (file,) = values(soc, PAV + "importedFrom")
    assert values(ox.NamedNode(file), SPDX + "fileName") == {"soc2020.xlsx"}
    assert values(soc, "http://rdfs.org/ns/void#triples") == {str(len(quads(imported, "soc2020")))}


def test_an_absent_import_is_an_empty_graph_everywhere(tmp_path):
    from nhs_ai_workforce.documents.stats import graph_counts
    from nhs_ai_workforce.web.app import create_app

    settings = copy_project(tmp_path)
    build(settings, write_dumps=False)
    ns = ProjectNamespaces(settings.base)
    graph = str(ns.graph("soc2020"))
    assert graph not in {t.subject.value for t in _void(settings)}
    assert "soc2020" not in dict(graph_counts(open_store(settings), ns))
    client = create_app({"SETTINGS": settings}).test_client()
    page = client.get("/doc/graph/soc2020", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "has not been imported" in page.get_data(as_text=True)
    assert "/doc/graph/soc2020" not in client.get("/sitemap.xml").get_data(as_text=True)
    listing = client.get("/doc/graph/", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert 'soc2020</a>: ' in listing and "(empty: not imported here)" in listing
    response = client.get("/sparql", query_string={"query": f"SELECT * FROM <{graph}> {{ ?s ?p ?o }}"},
                          headers={"Accept": "application/sparql-results+json"})
    assert response.status_code == 200 and response.get_json()["results"]["bindings"] == []


# -- the real files, when the shared reference folder is there ------------------------------------

needs_reference = pytest.mark.skipif(not (REFERENCE / "soc2020vol1.xlsx").is_file(),
                                     reason=f"the published SOC 2020 and ESCO files are not in {REFERENCE}")


@needs_reference
def test_the_real_files_give_every_soc_unit_group_and_esco_occupation():
    soc = read_soc2020(REFERENCE / "soc2020vol1.xlsx")
    codes = [o.value for s, p, o in soc.triples if p == SKOS.notation]
    assert sum(1 for code in codes if len(code) == 4) == 412  # SOC 2020's unit groups
    assert len(codes) == 412 + 104 + 26 + 9  # with the minor, sub-major and major groups
    esco = read_esco(REFERENCE / "esco_occupations_en_1.2.0.csv", REFERENCE / "esco_ISCOGroups_en_1.2.0.csv")
    occupations = {s for s in esco.concepts() if "/occupation/" in str(s)}
    assert len(occupations) == 3039 and esco.version == "1.2.0"
    assert len(esco.concepts() - occupations) == 619  # ISCO-08 groups


@needs_reference
@pytest.mark.slow
def test_the_real_files_conform_to_the_shapes(tmp_path):
    settings = copy_project(tmp_path)
    build(settings, write_dumps=False)
    import_classification(settings, read_soc2020(REFERENCE / "soc2020vol1.xlsx"))
    result = import_classification(settings, read_esco(REFERENCE / "esco_occupations_en_1.2.0.csv",
                                                       REFERENCE / "esco_ISCOGroups_en_1.2.0.csv"))
    assert result.build.graph_counts["soc2020"] > 7000 and result.build.graph_counts["esco"] > 56000
