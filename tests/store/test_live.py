"""The live store held in memory when it is small (``CurrentStore(memory_bytes=...)``)."""

from __future__ import annotations

import tempfile
import time

import pyoxigraph as ox
import pytest
from rdflib import Literal
from rdflib import namespace as vocab

from conftest import make_dataset, make_live
from nhs_ai_workforce.core.settings import Settings
from nhs_ai_workforce.store.live import CurrentStore, open_store, store_bytes, wants_huge_pages

COUNT = "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }"


def _count(store: ox.Store) -> int:
    return int(next(iter(store.query(COUNT, use_default_graph_as_union=True)))["n"].value)


def test_a_small_store_is_queried_in_memory_with_the_same_answers(settings, built_store):
    on_disk = open_store(settings)
    empty = ox.NamedNode(f"{settings.base}/id/graph/empty")
    current = CurrentStore(settings, memory_bytes=store_bytes(built_store))
    held = current.get()
    assert current.in_memory and current.build_id == built_store.name
    assert _count(held) == _count(on_disk) == len(list(on_disk.quads_for_pattern(None, None, None, None)))
    assert set(held.named_graphs()) == set(on_disk.named_graphs())
    held.add(ox.Quad(empty, empty, empty, empty))  # a copy: the build on disk is untouched
    assert _count(open_store(settings)) == _count(on_disk)


def test_a_store_over_the_threshold_stays_on_disk(settings, built_store):
    for memory_bytes in (0, store_bytes(built_store) - 1):
        current = CurrentStore(settings, memory_bytes=memory_bytes)
        current.get()
        assert not current.in_memory


def test_a_new_build_is_loaded_into_memory_when_it_goes_live(settings, ns, built_store):
    current = CurrentStore(settings, memory_bytes=16 * 1024 * 1024)
    before = _count(current.get())
    rows = [("background", ns.thing("x", "new"), vocab.RDFS.label, Literal("new"))]
    new_dir = make_live(settings, make_dataset(ns, rows))
    assert _count(current.get()) == 1 != before
    assert current.in_memory and current.snapshot()[1] == new_dir.name


def test_a_larger_store_is_copied_in_the_background_while_the_one_on_disk_answers(settings, built_store):
    settings = settings.with_(memory_store_at_open_mb=0)  # every store is "larger" than this
    on_disk = _count(open_store(settings))
    current = CurrentStore(settings, memory_bytes=store_bytes(built_store), background=True)
    assert _count(current.get()) == on_disk and not current.in_memory and current.copying
    deadline = time.monotonic() + 30
    while not current.in_memory and time.monotonic() < deadline:
        time.sleep(0.01)
        assert _count(current.get()) == on_disk
    assert current.in_memory and not current.copying
    assert current.moved_into_memory() and not current.moved_into_memory()  # said once
    plain = CurrentStore(settings, memory_bytes=store_bytes(built_store))  # as the server process's
    plain.get()
    assert not plain.copying and not plain.in_memory  # only query processes copy in the background


def test_a_store_that_cannot_be_copied_in_the_background_is_queried_on_disk(settings, built_store, monkeypatch,
                                                                              tmp_path):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "missing"))  # where the copy's N-Quads would go
    current = CurrentStore(settings.with_(memory_store_at_open_mb=0), memory_bytes=store_bytes(built_store),
                           background=True)
    deadline = time.monotonic() + 30
    while current.copying and time.monotonic() < deadline:
        assert _count(current.get()) == _count(open_store(settings))
        time.sleep(0.01)
    assert not current.copying and not current.in_memory and not current.moved_into_memory()


def test_query_processes_ask_for_huge_pages_only_for_a_store_copied_in_the_background(settings, built_store):
    assert 0 < store_bytes(built_store) < 16 * 1024 * 1024  # copied as it is opened by default: 4 KB pages do
    assert not wants_huge_pages(settings)
    background = settings.with_(memory_store_at_open_mb=0)
    assert wants_huge_pages(background)
    assert not wants_huge_pages(background.with_(memory_store_mb=0))  # read from disk: nothing to gain
    assert not wants_huge_pages(background.with_(query_huge_pages="never"))
    assert wants_huge_pages(settings.with_(query_huge_pages="always"))
    assert Settings.from_env({"AIWF_QUERY_HUGE_PAGES": " Never "}).query_huge_pages == "never"
    with pytest.raises(ValueError, match="AIWF_QUERY_HUGE_PAGES: 'sometimes' is not 'auto', 'always' or 'never'"):
        Settings(query_huge_pages="sometimes")
