"""Published dumps: byte-for-byte reproducible, faithful, and refusing what they cannot publish."""

from __future__ import annotations

import io
import json
import random
import re

import pyoxigraph as ox
import pytest
from rdflib import BNode, Dataset, Literal, URIRef
from rdflib import namespace as vocab

from conftest import make_dataset, sample_triples
from nhs_ai_workforce.core.terms import BlankNodeError, oxigraph_quads
from nhs_ai_workforce.store.dumps import GRAPHS_DIR, NQUADS_FILE, TRIG_FILE, DumpError, dump_files, export, write_dumps


def parsed(data: bytes, fmt: ox.RdfFormat) -> set:
    """Quads for dataset formats, triples for graph formats."""
    items = ox.parse(data, format=fmt)
    return set(items) if fmt.supports_datasets else {quad.triple for quad in items}


def test_dumps_are_identical_whatever_the_insertion_order(settings, ns):
    rows = sample_triples(ns)
    first = dump_files(oxigraph_quads(make_dataset(ns, rows)), settings)
    shuffled = rows[:]
    random.Random(7).shuffle(shuffled)
    again = dump_files(oxigraph_quads(make_dataset(ns, shuffled)), settings)
    assert first == again
    assert set(first) == {
        settings.data_dir / NQUADS_FILE,
        settings.data_dir / TRIG_FILE,
        settings.data_dir / GRAPHS_DIR / "background.ttl",
        settings.data_dir / GRAPHS_DIR / "ontology.ttl",
        settings.data_dir / GRAPHS_DIR / "inferred.ttl",
    }


def test_written_files_are_reproducible_bytes(settings, dataset):
    paths = write_dumps(oxigraph_quads(dataset), settings)
    first = {p: p.read_bytes() for p in paths}
    write_dumps(oxigraph_quads(dataset), settings)
    assert {p: p.read_bytes() for p in paths} == first
    leftovers = [p for p in settings.data_dir.rglob(".*")]
    assert leftovers == []  # no temporary files remain


def test_nquads_are_sorted_and_round_trip(settings, dataset):
    data = dump_files(oxigraph_quads(dataset), settings)[settings.data_dir / NQUADS_FILE]
    lines = data.splitlines()
    assert lines == sorted(lines)
    assert parsed(data, ox.RdfFormat.N_QUADS) == set(oxigraph_quads(dataset))


def test_trig_round_trips_with_graphs_in_sorted_order(settings, ns, dataset):
    data = dump_files(oxigraph_quads(dataset), settings)[settings.data_dir / TRIG_FILE]
    assert parsed(data, ox.RdfFormat.TRIG) == set(oxigraph_quads(dataset))
    text = data.decode()
    positions = [text.index(f"\ngraph:{n} {{") for n in ("background", "inferred", "ontology")]
    assert positions == sorted(positions)
    prefixes = [line for line in text.splitlines() if line.startswith("@prefix")]
    assert prefixes == sorted(prefixes)
    assert "aiwf:Review" in text
    assert "initiative:topol-review" in text  # one prefix per kind of thing, never id:kind\/key
    assert f"@prefix graph: <{ns.base}/id/graph/> ." in prefixes
    assert not re.search(r"(?<![\w-])id:", text)


def test_each_graph_file_holds_only_its_graph(settings, ns, dataset):
    files = dump_files(oxigraph_quads(dataset), settings)
    for name in ("background", "ontology", "inferred"):
        triples = parsed(files[settings.data_dir / GRAPHS_DIR / f"{name}.ttl"], ox.RdfFormat.TURTLE)
        expected = {q.triple for q in oxigraph_quads(dataset.graph(ns.graph(name)))}
        assert triples == expected


def test_blank_nodes_fail_loudly_and_write_nothing(settings, ns, dataset):
    dataset.graph(ns.graph("background")).add((BNode(), vocab.RDFS.label, Literal("anon")))
    with pytest.raises(BlankNodeError):
        write_dumps(oxigraph_quads(dataset), settings)
    assert not settings.data_dir.exists()


def test_triples_outside_project_graphs_are_refused(settings, ns):
    stray = Dataset()
    stray.add((ns.thing("x", "a"), vocab.RDFS.label, Literal("default graph")))
    with pytest.raises(DumpError, match="default graph"):
        dump_files(oxigraph_quads(stray), settings)
    other = Dataset()
    other.graph(URIRef("http://example.org/g")).add((ns.thing("x", "a"), vocab.RDFS.label, Literal("x")))
    with pytest.raises(DumpError, match="not a project graph"):
        dump_files(oxigraph_quads(other), settings)


def test_graph_files_of_emptied_graphs_are_removed(settings, ns, dataset):
    write_dumps(oxigraph_quads(dataset), settings)
    stale = settings.data_dir / GRAPHS_DIR / "inferred.ttl"
    assert stale.exists()
    rows = [row for row in sample_triples(ns) if row[0] != "inferred"]
    write_dumps(oxigraph_quads(make_dataset(ns, rows)), settings)
    assert not stale.exists()


@pytest.mark.parametrize(
    ("name", "fmt"),
    [("nquads", ox.RdfFormat.N_QUADS), ("trig", ox.RdfFormat.TRIG)],
)
def test_dataset_exports_keep_the_graphs(dataset, name, fmt):
    assert parsed(export(_store(dataset), name), fmt) == set(oxigraph_quads(dataset))


def test_jsonld_export_keeps_the_graphs(ns, dataset):
    documents = json.loads(export(_store(dataset), "jsonld"))
    graphs = {doc["@id"] for doc in documents if "@graph" in doc}
    assert graphs == {str(ns.graph(n)) for n in ("background", "ontology", "inferred")}


@pytest.mark.parametrize(
    ("name", "fmt"),
    [("turtle", ox.RdfFormat.TURTLE), ("ntriples", ox.RdfFormat.N_TRIPLES)],
)
def test_triple_exports_are_the_distinct_union(ns, dataset, name, fmt):
    data = export(_store(dataset), name, prefixes=ns.prefixes())
    triples = [quad.triple for quad in ox.parse(data, format=fmt)]
    assert set(triples) == {q.triple for q in oxigraph_quads(dataset)}
    assert len(triples) == len(set(triples))  # the triple in two graphs appears once


def test_export_writes_to_files_and_streams(tmp_path, settings, built_store, dataset):
    from nhs_ai_workforce.store.live import open_store

    store = open_store(settings)
    target = tmp_path / "out" / "graph.nq"
    assert export(store, "nquads", target) is None
    assert parsed(target.read_bytes(), ox.RdfFormat.N_QUADS) == set(oxigraph_quads(dataset))
    buffer = io.BytesIO()
    export(store, "ntriples", buffer)
    assert buffer.getvalue().count(b"\n") == len({q.triple for q in oxigraph_quads(dataset)})
    with pytest.raises(ValueError, match="unknown format"):
        export(store, "rdfa")


def _store(dataset) -> ox.Store:
    """An in-memory pyoxigraph store holding ``dataset``."""
    store = ox.Store()
    store.extend(oxigraph_quads(dataset))
    return store


# -- staged writes: all the dump files change together or not at all -----------------------

def _files(settings) -> dict:
    return {p: p.read_bytes() for p in settings.data_dir.rglob("*") if p.is_file()}


def _changed(ns):
    rows = [*sample_triples(ns), ("background", ns.thing("x", "new"), vocab.RDFS.label, Literal("new"))]
    return oxigraph_quads(make_dataset(ns, rows))


def test_staged_dumps_touch_nothing_until_committed(settings, ns, dataset):
    from nhs_ai_workforce.store.dumps import stage_dumps

    write_dumps(oxigraph_quads(dataset), settings)
    before = _files(settings)
    staged = stage_dumps(_changed(ns), settings)
    assert staged.directory.parent == settings.data_dir and staged.directory.is_dir()
    assert {p: p.read_bytes() for p in before} == before  # data/ itself unchanged
    staged.abort()
    assert _files(settings) == before
    assert list(settings.data_dir.glob(".*")) == []


def test_a_failure_while_writing_leaves_data_untouched(settings, ns, dataset, monkeypatch):
    import errno
    import os

    from nhs_ai_workforce.store import staging

    write_dumps(oxigraph_quads(dataset), settings)
    before = _files(settings)
    calls = []

    def full_disk(fd):
        calls.append(fd)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(staging.os, "fsync", full_disk)
    with pytest.raises(OSError, match="No space left"):
        write_dumps(_changed(ns), settings)
    assert _files(settings) == before
    assert list(settings.data_dir.glob(".*")) == []


def test_a_failed_commit_puts_back_every_file_it_replaced(settings, ns, dataset, monkeypatch):
    from pathlib import Path

    from nhs_ai_workforce.store.dumps import stage_dumps

    write_dumps(oxigraph_quads(dataset), settings)
    before = _files(settings)
    staged = stage_dumps(_changed(ns), settings)
    real_replace = Path.replace
    moved = []

    def failing_replace(self, target):
        moved.append(target)
        if len(moved) == 3:  # the third file moved into place; the restores after it succeed
            raise OSError("rename refused")
        return real_replace(self, target)

    monkeypatch.setattr(Path, "replace", failing_replace)
    with pytest.raises(OSError, match="rename refused"):
        staged.commit()
    monkeypatch.undo()
    assert len(moved) == 5  # two moved in, the third refused, the two put back
    assert _files(settings) == before
    assert list(settings.data_dir.glob(".*")) == []


def test_commit_removes_graph_files_of_graphs_now_empty(settings, ns, dataset):
    write_dumps(oxigraph_quads(dataset), settings)
    inferred = settings.data_dir / GRAPHS_DIR / "inferred.ttl"
    assert inferred.exists()
    rows = [row for row in sample_triples(ns) if row[0] != "inferred"]
    write_dumps(oxigraph_quads(make_dataset(ns, rows)), settings)
    assert not inferred.exists()


def test_staging_directories_of_killed_builds_are_removed(settings, dataset):
    from nhs_ai_workforce.store.dumps import remove_staging

    write_dumps(oxigraph_quads(dataset), settings)
    before = _files(settings)
    leftover = settings.data_dir / ".staging-0123456789ab"
    (leftover / GRAPHS_DIR).mkdir(parents=True)
    (leftover / GRAPHS_DIR / "background.ttl").write_bytes(b"half written")
    assert remove_staging(settings) == [leftover]
    assert not leftover.exists()
    assert _files(settings) == before
