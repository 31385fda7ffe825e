"""The build: publishes only validated data, and a failure changes nothing already published."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import BNode, Dataset, Literal
from rdflib import namespace as vocab

from conftest import make_dataset
from nhs_ai_workforce.core.terms import BlankNodeError, oxigraph_quads
from nhs_ai_workforce.pipeline.build import Steps, build, validate_only
from nhs_ai_workforce.pipeline.errors import BuildFailed, Problem, SeedError
from nhs_ai_workforce.pipeline.locations import Location
from nhs_ai_workforce.store.dumps import NQUADS_FILE
from nhs_ai_workforce.store.live import build_time, current_build_id, modified_time, open_store, stores_dir

PROJECT = Path(__file__).resolve().parents[2]
BAD_DATE = Problem(Location("seeds/initiatives.csv", 7, "issued"), "not a date: '2021-13'")


@dataclass
class FakeConverted:
    dataset: Dataset
    locations: dict = field(default_factory=dict)


@dataclass
class FakeReport:
    conforms: bool
    problems: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    text: str = ""


def steps_for(dataset: Dataset, report: FakeReport | None = None, inferred: int = 0) -> Steps:
    def materialise(data, ns):
        return inferred

    return Steps(
        convert=lambda settings: FakeConverted(dataset),
        materialise=materialise,
        validate=lambda data, settings, locations: report or FakeReport(conforms=True),
    )


def snapshot(settings) -> dict:
    """Everything a build may change: the data files and the store's content and build id."""
    files = {p: p.read_bytes() for p in settings.data_dir.rglob("*") if p.is_file()}
    store = set(open_store(settings).quads_for_pattern(None, None, None, None))
    return {"files": files, "store": store, "build": current_build_id(settings)}


def test_build_publishes_store_and_dumps(settings, ns, dataset):
    result = build(settings, steps=steps_for(dataset, inferred=1))
    assert current_build_id(settings) == result.build_id
    assert set(open_store(settings).quads_for_pattern(None, None, None, None)) == set(
        oxigraph_quads(dataset)
    )
    assert result.graph_counts == {"background": 10, "inferred": 1, "ontology": 3}
    assert result.total_quads == 14
    assert result.inferred == 1
    assert settings.data_dir / NQUADS_FILE in result.dumps
    assert {"convert", "inference", "validation", "store", "dumps", "swap"} <= set(result.timings)


def test_build_without_dumps_leaves_data_alone(settings, dataset):
    result = build(settings, write_dumps=False, steps=steps_for(dataset))
    assert result.dumps == []
    assert not settings.data_dir.exists()
    assert current_build_id(settings) == result.build_id


def test_a_build_records_source_date_epoch_as_when_its_data_changed(settings, dataset):
    plain = build(settings, write_dumps=False, steps=steps_for(dataset))
    assert modified_time(settings, plain.build_id) == build_time(plain.build_id)
    dated = settings.with_(source_date_epoch=1767225600)  # SOURCE_DATE_EPOCH=1767225600
    result = build(dated, write_dumps=False, steps=steps_for(dataset))
    assert modified_time(settings, result.build_id) == datetime(2026, 1, 1, tzinfo=UTC)


def test_warnings_do_not_stop_the_build(settings, dataset):
    report = FakeReport(conforms=True, warnings=[BAD_DATE])
    assert build(settings, steps=steps_for(dataset, report)).warnings == [BAD_DATE]


def test_shacl_violations_change_nothing(settings, ns, dataset):
    build(settings, steps=steps_for(dataset))
    before = snapshot(settings)
    changed = make_dataset(ns)
    changed.graph(ns.graph("background")).add(
        (ns.thing("x", "y"), vocab.RDFS.label, Literal("must not be published"))
    )
    report = FakeReport(conforms=False, problems=[BAD_DATE])
    with pytest.raises(BuildFailed) as caught:
        build(settings, steps=steps_for(changed, report))
    assert caught.value.problems == [BAD_DATE]
    assert "seeds/initiatives.csv:7 column 'issued': not a date: '2021-13'" in caught.value.report()
    assert snapshot(settings) == before
    assert len([p for p in stores_dir(settings).iterdir() if p.is_dir()]) == 1


def test_unreadable_seeds_become_build_failed(settings, dataset):
    build(settings, steps=steps_for(dataset))
    before = snapshot(settings)

    def convert(settings):
        raise SeedError([BAD_DATE])

    steps = Steps(convert=convert, materialise=lambda d, n: 0,
                  validate=lambda d, s, locations: FakeReport(conforms=True))
    with pytest.raises(BuildFailed) as caught:
        build(settings, steps=steps)
    assert caught.value.problems == [BAD_DATE]
    assert snapshot(settings) == before


def test_a_failure_after_loading_discards_the_new_store(settings, ns, dataset):
    build(settings, steps=steps_for(dataset))
    before = snapshot(settings)
    with_blank = make_dataset(ns)
    with_blank.graph(ns.graph("background")).add((BNode(), vocab.RDFS.label, Literal("anon")))
    with pytest.raises(BlankNodeError):
        build(settings, steps=steps_for(with_blank))
    assert snapshot(settings) == before
    assert [p.name for p in stores_dir(settings).iterdir() if p.is_dir()] == [before["build"]]


def test_validate_only_writes_nothing(settings, dataset):
    report = FakeReport(conforms=False, problems=[BAD_DATE], text="1 violation")
    assert validate_only(settings, steps=steps_for(dataset, report)) is report
    assert not settings.data_dir.exists()
    assert not settings.store_path.parent.exists()


@pytest.mark.slow
def test_real_seeds_build_into_a_queryable_store(tmp_path):
    from nhs_ai_workforce.core.settings import Settings

    for name in ("seeds", "ontology", "shapes"):
        shutil.copytree(PROJECT / name, tmp_path / name)
    settings = Settings(root=tmp_path)
    result = build(settings)
    assert result.graph_counts.get("background", 0) > 0
    store = open_store(settings)
    assert bool(store.query("ASK { GRAPH ?g { ?s ?p ?o } }"))
    # the dump and the store hold exactly the same quads
    from_dump = ox.Store()
    from_dump.load((settings.data_dir / NQUADS_FILE).read_bytes(), ox.RdfFormat.N_QUADS)
    assert set(from_dump) == set(store)


@pytest.mark.slow
def test_committed_data_equals_a_fresh_build_byte_for_byte(tmp_path):
    """``data/`` is reproducible from the seeds: rebuild into a copy and compare every file."""
    from nhs_ai_workforce.core.settings import Settings

    for name in ("seeds", "ontology", "shapes"):
        shutil.copytree(PROJECT / name, tmp_path / name)
    build(Settings(root=tmp_path))
    committed = sorted(p.relative_to(PROJECT / "data") for p in (PROJECT / "data").rglob("*") if p.is_file())
    fresh = sorted(p.relative_to(tmp_path / "data") for p in (tmp_path / "data").rglob("*") if p.is_file())
    assert committed == fresh
    for relative in committed:
        assert (PROJECT / "data" / relative).read_bytes() == (tmp_path / "data" / relative).read_bytes(), (
            f"data/{relative} differs from a fresh build: run `aiwf build` and commit data/"
        )


# -- all or nothing: dumps staged, leftovers of killed builds removed ----------------------

def test_a_dump_failure_changes_neither_store_nor_data(settings, ns, dataset):
    from nhs_ai_workforce.store.dumps import DumpError

    build(settings, steps=steps_for(dataset))
    before = snapshot(settings)
    outside = make_dataset(ns)
    outside.graph(ns.thing("x", "not-a-graph")).add((ns.thing("x", "y"), vocab.RDFS.label, Literal("z")))
    with pytest.raises(DumpError, match="not a project graph"):
        build(settings, steps=steps_for(outside))
    assert snapshot(settings) == before
    assert [p.name for p in stores_dir(settings).iterdir() if p.is_dir()] == [before["build"]]
    assert list(settings.data_dir.glob(".*")) == []


def test_a_full_disk_while_writing_dumps_changes_nothing(settings, ns, dataset, monkeypatch):
    import errno
    import os

    from nhs_ai_workforce.store import staging

    build(settings, steps=steps_for(dataset))
    before = snapshot(settings)
    changed = make_dataset(ns)
    changed.graph(ns.graph("background")).add((ns.thing("x", "y"), vocab.RDFS.label, Literal("new")))

    def full_disk(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(staging.os, "fsync", full_disk)
    with pytest.raises(OSError, match="No space left"):
        build(settings, steps=steps_for(changed))
    monkeypatch.undo()
    assert snapshot(settings) == before
    assert [p.name for p in stores_dir(settings).iterdir() if p.is_dir()] == [before["build"]]
    assert list(settings.data_dir.glob(".*")) == []


def test_a_failed_move_into_data_swaps_the_previous_store_back(settings, ns, dataset, monkeypatch):
    from nhs_ai_workforce.store.staging import StagedFiles

    build(settings, steps=steps_for(dataset))
    before = snapshot(settings)
    changed = make_dataset(ns)
    changed.graph(ns.graph("background")).add((ns.thing("x", "y"), vocab.RDFS.label, Literal("new")))

    def refuse(self):
        self.abort()
        raise OSError("data/ is read-only")

    monkeypatch.setattr(StagedFiles, "commit", refuse)
    with pytest.raises(OSError, match="read-only"):
        build(settings, steps=steps_for(changed))
    monkeypatch.undo()
    assert snapshot(settings) == before
    assert [p.name for p in stores_dir(settings).iterdir() if p.is_dir()] == [before["build"]]


def test_the_next_build_removes_what_a_killed_build_left(settings, dataset):
    from nhs_ai_workforce.store.builds import PARTIAL_SUFFIX

    build(settings, steps=steps_for(dataset))
    partial = stores_dir(settings) / ("20200101T000000000000Z-dead00" + PARTIAL_SUFFIX)
    store = ox.Store(str(partial))  # a real half-loaded store
    store.add(next(iter(oxigraph_quads(dataset))))
    del store
    staging = settings.data_dir / ".staging-deadbeef0000"
    staging.mkdir()
    (staging / NQUADS_FILE).write_bytes(b"half written")
    result = build(settings, steps=steps_for(dataset))
    assert not partial.exists() and not staging.exists()
    assert current_build_id(settings) == result.build_id
    assert not any(p.name.endswith(PARTIAL_SUFFIX) for p in stores_dir(settings).iterdir())
