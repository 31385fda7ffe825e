"""The on-disk store: bulk load, atomic swap, read-only handles, failures that change nothing."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pyoxigraph as ox
import pytest
from rdflib import Literal
from rdflib.namespace import RDFS

from conftest import make_dataset, make_live, sample_triples
from nhs_ai_workforce.core.terms import oxigraph_quads
from nhs_ai_workforce.store.builds import load_store, swap_in
from nhs_ai_workforce.store.live import (
    CurrentStore,
    NoStoreError,
    StoreError,
    current_build_id,
    current_dir,
    open_store,
    stores_dir,
)


def quads_of(store: ox.Store) -> set[ox.Quad]:
    return set(store.quads_for_pattern(None, None, None, None))


def labels(store: ox.Store) -> set[str]:
    query = "SELECT ?l { ?s <http://www.w3.org/2000/01/rdf-schema#label> ?l }"
    return {row["l"].value for row in store.query(query, use_default_graph_as_union=True)}


def test_built_store_holds_exactly_the_dataset(settings, dataset, built_store):
    assert settings.store_path.is_symlink()
    assert current_dir(settings) == built_store.resolve()
    assert built_store.parent == stores_dir(settings)
    store = open_store(settings)
    assert quads_of(store) == set(oxigraph_quads(dataset))


def test_link_is_relative_so_the_project_can_move(settings, tmp_path, built_store):
    assert not os.readlink(settings.store_path).startswith("/")
    moved_root = tmp_path.parent / (tmp_path.name + "-moved")
    shutil.copytree(tmp_path, moved_root, symlinks=True)
    moved = settings.with_(root=moved_root)
    assert current_dir(moved).is_relative_to(moved_root)
    assert "The Topol Review" in labels(open_store(moved))


def test_no_store_yet_says_to_build(settings):
    with pytest.raises(NoStoreError, match="run `aiwf build` first"):
        open_store(settings)
    assert current_build_id(settings) is None


def test_swap_replaces_data_and_keeps_only_current_and_previous(settings, ns):
    settings = settings.with_(keep_builds=2)
    first = load_store(oxigraph_quads(make_dataset(ns)), settings)
    swap_in(first, settings)
    second_rows = [*sample_triples(ns), ("background", ns.thing("x", "a"), RDFS.label, Literal("new"))]
    second = load_store(oxigraph_quads(make_dataset(ns, second_rows)), settings)
    assert swap_in(second, settings) == first.resolve()
    assert "new" in labels(open_store(settings))
    third = load_store(oxigraph_quads(make_dataset(ns)), settings)
    swap_in(third, settings)
    kept = {p.name for p in stores_dir(settings).iterdir() if p.is_dir()}
    assert kept == {second.name, third.name}
    assert current_build_id(settings) == third.name


def test_failed_load_leaves_previous_store_readable_and_unchanged(settings, built_store, dataset):
    before = quads_of(open_store(settings))

    def broken_quads():
        yield from oxigraph_quads(dataset)
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError, match="disk on fire"):
        load_store(broken_quads(), settings)
    assert current_dir(settings) == built_store.resolve()
    assert quads_of(open_store(settings)) == before
    assert [p.name for p in stores_dir(settings).iterdir() if p.is_dir()] == [built_store.name]


def test_swap_refuses_to_replace_a_real_directory(settings, dataset):
    settings.store_path.mkdir(parents=True)
    new_dir = load_store(oxigraph_quads(dataset), settings)
    with pytest.raises(StoreError, match="not a symlink"):
        swap_in(new_dir, settings)
    assert settings.store_path.is_dir() and not settings.store_path.is_symlink()


def test_read_only_handles_share_the_store_across_processes(settings, built_store):
    first, second = open_store(settings), open_store(settings)
    script = (
        "import sys, pyoxigraph as ox\n"
        "store = ox.Store.read_only(sys.argv[1])\n"
        "print(len(list(store.quads_for_pattern(None, None, None, None))))\n"
    )
    child = subprocess.run(
        [sys.executable, "-c", script, str(current_dir(settings))],
        capture_output=True, text=True, timeout=60, check=True,
    )
    expected = len(quads_of(first))
    assert int(child.stdout) == expected
    assert len(quads_of(second)) == expected


def test_read_only_handle_cannot_write(settings, built_store):
    store = open_store(settings)
    before = quads_of(store)
    quad = ox.Quad(ox.NamedNode("http://example.org/a"), ox.NamedNode(str(RDFS.label)),
                   ox.Literal("x"))
    with pytest.raises((OSError, RuntimeError), match="read-write"):
        store.add(quad)
    assert quads_of(open_store(settings)) == before


def test_current_store_reopens_after_a_swap_and_old_handles_keep_working(settings, ns, built_store):
    current = CurrentStore(settings)
    old = current.get()
    assert current.get() is old  # cached while the build is unchanged
    rows = [("background", ns.thing("x", "b"), RDFS.label, Literal("rebuilt"))]
    make_live(settings, make_dataset(ns, rows))
    new = current.get()
    assert new is not old
    assert labels(new) == {"rebuilt"}
    assert "The Topol Review" in labels(old)  # the previous build is kept for open handles
    assert current.build_id == current_build_id(settings)
