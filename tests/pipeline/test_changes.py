"""Change files: recorded atomically with who/when/why, replayed in order by every build, failing it by name."""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from rdflib import Literal, URIRef
from rdflib import namespace as vocab

from conftest import make_dataset
from nhs_ai_workforce.core.settings import Settings
from nhs_ai_workforce.pipeline.build import build, validate_only
from nhs_ai_workforce.pipeline.changes import change_files, changes_dir, record, replay
from nhs_ai_workforce.pipeline.errors import BuildFailed
from nhs_ai_workforce.pipeline.locations import Location
from nhs_ai_workforce.store.live import current_build_id, open_store

PROJECT = Path(__file__).resolve().parents[2]
BASE = "https://nhs-ai-workforce.example.org"
TOPOL = f"<{BASE}/id/initiative/topol-review>"
BACKGROUND = f"<{BASE}/id/graph/background>"
DCTERMS = "PREFIX dcterms: <http://purl.org/dc/terms/>\n"
WHEN = datetime(2026, 1, 28, 10, 15, 0, tzinfo=UTC)


def write_change(settings: Settings, text: str, **notes) -> Path:
    return record(settings, text, build_id="20260128T101500000000Z-abcdef", when=WHEN, **notes)


# -- recording ------------------------------------------------------------------------------------


def test_a_change_is_numbered_and_says_who_when_why_and_where_it_came_from(settings):
    first = write_change(settings, "INSERT DATA { }", author="A. Curator", comment="first line\nsecond line")
    second = write_change(settings, "DELETE DATA { }")
    assert first == changes_dir(settings) / "0001-20260128T101500Z.ru"
    assert second.name == "0002-20260128T101500Z.ru"
    assert change_files(settings) == [first, second]
    text = first.read_text(encoding="utf-8")
    assert text.splitlines()[:8] == [
        "# Change 0001: a SPARQL update accepted through POST /update (the curators' update route),",
        "# validated against the SHACL shapes before it was served.",
        "# when: 2026-01-28T10:15:00Z",
        "# who: A. Curator",
        "# why: first line second line",
        "# build: 20260128T101500000000Z-abcdef (the store this update produced)",
        f"# base: {BASE}",
        "# Every `aiwf build` replays seeds/changes/*.ru in name order after converting the seed tables.",
    ]
    assert text.endswith("\n\nINSERT DATA { }\n")
    assert "# who: not given (the holder of the update token)" in second.read_text(encoding="utf-8")
    assert sorted(p.name for p in changes_dir(settings).iterdir()) == [first.name, second.name]  # no temp files


def test_numbering_continues_after_the_highest_change(settings):
    folder = changes_dir(settings)
    folder.mkdir(parents=True)
    (folder / "0007-hand-written.ru").write_text("INSERT DATA { }\n", encoding="utf-8")
    (folder / "notes.txt").write_text("not a change\n", encoding="utf-8")
    assert write_change(settings, "INSERT DATA { }").name.startswith("0008-")
    assert [p.name for p in change_files(settings)] == ["0007-hand-written.ru", "0008-20260128T101500Z.ru"]


# -- replaying ------------------------------------------------------------------------------------


def test_without_change_files_the_dataset_is_untouched(settings, dataset):
    locations = {URIRef(f"{BASE}/x"): Location("seeds/x.csv", 2)}
    replayed, located = replay(dataset, settings, locations)
    assert replayed is dataset
    assert located is locations


def test_changes_are_replayed_in_order_and_locate_what_they_touched(settings, ns, dataset):
    topol, roadmap = ns.thing("initiative", "topol-review"), ns.thing("initiative", "ai-roadmap")
    graph = ns.graph("background")
    write_change(settings, f'INSERT DATA {{ GRAPH <{graph}> {{ <{topol}> <{vocab.RDFS.comment}> "added"@en }} }}')
    write_change(settings, f'DELETE DATA {{ GRAPH <{graph}> {{ <{topol}> <{vocab.RDFS.comment}> "added"@en }} }} ;'
                           f'INSERT DATA {{ GRAPH <{graph}> {{ <{topol}> <{vocab.RDFS.comment}> "second"@en }} }}')
    write_change(settings, f"DELETE WHERE {{ GRAPH <{graph}> {{ <{roadmap}> <{vocab.RDFS.label}> ?label }} }}")
    untouched = ns.thing("organisation", "hee")
    before = len(dataset)
    replayed, located = replay(dataset, settings, {untouched: Location("seeds/organisations.csv", 3)})
    background = replayed.graph(graph)
    assert (topol, vocab.RDFS.comment, Literal("second", lang="en")) in background
    assert (topol, vocab.RDFS.comment, Literal("added", lang="en")) not in background
    assert not list(background.objects(roadmap, vocab.RDFS.label))
    assert len(replayed) == before  # one added, one removed
    assert located[topol] == Location("seeds/changes/0002-20260128T101500Z.ru", 0)
    assert located[roadmap] == Location("seeds/changes/0003-20260128T101500Z.ru", 0)
    assert located[untouched] == Location("seeds/organisations.csv", 3)


def test_untouched_triples_keep_their_exact_terms(settings, ns):
    rows = [("background", ns.thing("note", "1"), ns.AIWF.number, Literal("01", datatype=vocab.XSD.integer,
                                                                            normalize=False))]
    dataset = make_dataset(ns, rows)
    write_change(settings, f'INSERT DATA {{ GRAPH <{ns.graph("links")}> {{ <{ns.thing("note", "2")}> '
                           f'<{vocab.RDFS.label}> "two" }} }}')
    replayed, _ = replay(dataset, settings, {})
    numbers = list(replayed.graph(ns.graph("background")).objects(None, ns.AIWF.number))
    assert [str(number) for number in numbers] == ["01"]
    assert (ns.thing("note", "2"), vocab.RDFS.label, Literal("two")) in replayed.graph(ns.graph("links"))


def test_a_change_written_under_another_base_is_replayed_under_this_one(tmp_path, ns):
    other = Settings(root=tmp_path, base="https://staging.example.net")
    topol = f"<{other.base}/id/initiative/topol-review>"
    record(other, f'INSERT DATA {{ GRAPH <{other.base}/id/graph/background> {{ {topol} '
                  f'<{vocab.RDFS.comment}> "moved" }} }}', build_id="b", when=WHEN)
    replayed, _ = replay(make_dataset(ns), Settings(root=tmp_path), {})
    assert (ns.thing("initiative", "topol-review"), vocab.RDFS.comment, Literal("moved")) in replayed.graph(
        ns.graph("background"))


@pytest.mark.parametrize(("update", "fragment"), [
    ("INSERT DATA { GRAPH <g> { ?x } }", "no longer parses"),
    ('INSERT DATA { <http://example.org/a> <http://example.org/b> "c" }', "the default graph"),
    (f'INSERT DATA {{ GRAPH <{BASE}/id/graph/inferred> {{ <http://example.org/a> <http://example.org/b> "c" }} }}',
     f"<{BASE}/id/graph/inferred>"),
])
def test_a_change_that_does_not_apply_fails_the_build_by_name(settings, dataset, update, fragment):
    write_change(settings, "INSERT DATA { }")
    write_change(settings, update)
    with pytest.raises(BuildFailed) as failed:
        replay(dataset, settings, {})
    assert failed.value.report().startswith("seeds/changes/0002-20260128T101500Z.ru: ")
    assert fragment in failed.value.report()


# -- builds from a copy of the project -------------------------------------------------------------


@pytest.fixture
def project(tmp_path) -> Settings:
    """The project's seeds, ontology and shapes copied under a temporary root (never the repo's seeds/)."""
    for name in ("seeds", "ontology", "shapes"):
        shutil.copytree(PROJECT / name, tmp_path / name, ignore=shutil.ignore_patterns("changes"))
    return Settings(root=tmp_path)


@pytest.mark.slow
def test_a_build_replays_the_changes_into_the_store_and_the_dumps(project):
    write_change(project, DCTERMS + f'INSERT DATA {{ GRAPH {BACKGROUND} {{ {TOPOL} dcterms:subject "replayed" }} }}')
    build(project)
    assert bool(open_store(project).query(f'ASK {{ GRAPH {BACKGROUND} {{ {TOPOL} ?p "replayed" }} }}'))
    assert '"replayed"' in (project.data_dir / "nhs-ai-workforce.nq").read_text(encoding="utf-8")


@pytest.mark.slow
def test_a_change_whose_result_breaks_the_shapes_fails_the_build_by_name(project):
    build(project, write_dumps=False)
    before = current_build_id(project)
    write_change(project, DCTERMS + f'INSERT DATA {{ GRAPH {BACKGROUND} {{ {TOPOL} dcterms:title "Another"@en }} }}')
    with pytest.raises(BuildFailed) as failed:
        build(project)
    assert any(str(problem).startswith("seeds/changes/0001-20260128T101500Z.ru: ")
               for problem in failed.value.problems), failed.value.report()
    assert current_build_id(project) == before
    assert not project.data_dir.exists()
    report = validate_only(project)  # `aiwf validate` sees the change too
    assert not report.conforms
    assert any(str(problem).startswith("seeds/changes/0001-") for problem in report.problems)


@pytest.mark.slow
def test_aiwf_build_exits_1_naming_a_change_that_no_longer_parses(project):
    write_change(project, "INSERT DATA { GRAPH <g> { ?x } }")
    done = subprocess.run(
        [sys.executable, "-m", "nhs_ai_workforce.cli", "build", "--no-dumps"],
        env={"PATH": "/usr/bin:/bin", "AIWF_ROOT": str(project.root)}, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 1, done.stderr
    assert "seeds/changes/0001-20260128T101500Z.ru: the update no longer parses" in done.stderr
