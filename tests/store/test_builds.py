"""Keeping the last N builds, listing them, rolling back atomically, and cleaning up killed builds."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime

import pyoxigraph as ox
import pytest
from rdflib import Literal
from rdflib.namespace import RDFS

from conftest import make_dataset
from nhs_ai_workforce.core.settings import Settings
from nhs_ai_workforce.core.terms import oxigraph_quads
from nhs_ai_workforce.store.builds import (
    PARTIAL_SUFFIX,
    RollbackError,
    build_lock,
    keep_count,
    list_builds,
    load_store,
    remove_leftovers,
    rollback,
    source_date,
    swap_in,
)
from nhs_ai_workforce.store.live import (
    BUILD_RECORD,
    CurrentStore,
    build_time,
    current_build_id,
    modified_time,
    open_store,
    stores_dir,
)


def labelled(settings, ns, label: str):
    """Load and swap in a build whose only triple carries ``label``; return its directory."""
    rows = [("background", ns.thing("x", "a"), RDFS.label, Literal(label))]
    new_dir = load_store(oxigraph_quads(make_dataset(ns, rows)), settings)
    swap_in(new_dir, settings)
    return new_dir


def live_label(settings) -> str:
    store = open_store(settings)
    return next(iter(store.quads_for_pattern(None, None, None, None))).object.value


def kept(settings) -> list[str]:
    return sorted(p.name for p in stores_dir(settings).iterdir() if p.is_dir())


def test_the_newest_n_builds_are_kept(settings, ns):
    settings = settings.with_(keep_builds=3)
    made = [labelled(settings, ns, f"build {i}").name for i in range(5)]
    assert kept(settings) == made[-3:]
    assert current_build_id(settings) == made[-1]


def test_at_least_two_builds_are_kept_whatever_the_setting(settings, ns):
    settings = settings.with_(keep_builds=1)
    assert keep_count(settings) == 2
    made = [labelled(settings, ns, f"build {i}").name for i in range(3)]
    assert kept(settings) == made[-2:]


def test_keep_builds_comes_from_the_environment():
    assert Settings.from_env({"AIWF_KEEP_BUILDS": "5"}).keep_builds == 5
    assert Settings.from_env({}).keep_builds == 3


def test_list_builds_newest_first_with_live_flag_and_quads(settings, ns):
    first = labelled(settings, ns, "one")
    second = labelled(settings, ns, "two")
    found = list_builds(settings)
    assert [b.build_id for b in found] == [second.name, first.name]
    assert [b.live for b in found] == [True, False]
    assert [b.quads for b in found] == [1, 1]
    assert found[0].time is not None and found[0].time >= found[1].time


def test_list_builds_skips_partial_directories(settings, ns):
    labelled(settings, ns, "one")
    (stores_dir(settings) / ("20990101T000000000000Z-abcdef" + PARTIAL_SUFFIX)).mkdir()
    assert [b.build_id for b in list_builds(settings)] == [current_build_id(settings)]


def test_rollback_restores_the_previous_build_atomically(settings, ns):
    first = labelled(settings, ns, "one")
    second = labelled(settings, ns, "two")
    reader = CurrentStore(settings)
    assert reader.build_id is None and live_label(settings) == "two"
    reader.get()
    assert rollback(settings) == (second.name, first.name)
    assert settings.store_path.is_symlink()
    assert current_build_id(settings) == first.name
    assert live_label(settings) == "one"
    assert reader.get() is not None and reader.build_id == first.name  # readers follow the link
    assert kept(settings) == sorted([first.name, second.name])  # nothing deleted: can roll forward


def test_rollback_to_a_named_build_and_forward_again(settings, ns):
    settings = settings.with_(keep_builds=3)
    first, _second, third = (labelled(settings, ns, name) for name in ("one", "two", "three"))
    assert rollback(settings, first.name) == (third.name, first.name)
    assert live_label(settings) == "one"
    assert rollback(settings, third.name) == (first.name, third.name)
    assert live_label(settings) == "three"
    assert rollback(settings) == (third.name, first.name)  # the build live before, not the next older
    assert rollback(settings) == (first.name, third.name)  # and a second rollback undoes the first


def test_rollback_without_a_record_goes_to_the_newest_older_build(settings, ns):
    from nhs_ai_workforce.store.builds import previous_link

    settings = settings.with_(keep_builds=3)
    _first, second, third = (labelled(settings, ns, name) for name in ("one", "two", "three"))
    previous_link(settings).unlink()
    assert rollback(settings) == (third.name, second.name)


def test_a_build_after_a_rollback_keeps_the_rolled_back_build(settings, ns):
    first = labelled(settings, ns, "one")
    labelled(settings, ns, "two")
    rollback(settings)
    third = labelled(settings, ns, "three")
    assert first.name in kept(settings) and third.name in kept(settings)
    assert rollback(settings) == (third.name, first.name)


def test_rollback_refuses_what_it_cannot_do(settings, ns):
    with pytest.raises(RollbackError, match="no build is live"):
        rollback(settings)
    only = labelled(settings, ns, "one")
    with pytest.raises(RollbackError, match="no build before"):
        rollback(settings)
    with pytest.raises(RollbackError, match="already live"):
        rollback(settings, only.name)
    with pytest.raises(RollbackError, match="no complete build 'nope' is kept"):
        rollback(settings, "nope")
    assert current_build_id(settings) == only.name


def test_leftovers_of_a_killed_build_are_removed(settings, ns):
    labelled(settings, ns, "one")
    killed = stores_dir(settings) / ("20990101T000000000000Z-abcdef" + PARTIAL_SUFFIX)
    store = ox.Store(str(killed))  # a real half-loaded store, as a killed build leaves it
    store.add(ox.Quad(ox.NamedNode("http://example.org/s"), ox.NamedNode("http://example.org/p"),
                      ox.Literal("half")))
    del store
    with build_lock(settings):
        assert remove_leftovers(settings) == [killed]
    assert not killed.exists()
    assert live_label(settings) == "one"


def test_a_build_another_store_link_points_at_is_never_pruned(settings, ns):
    """Two store links in one checkout share ``var/stores/``: building one never removes the other's build."""
    other = settings.with_(store_dir=settings.root / "var" / "other-store", keep_builds=2)
    settings = settings.with_(keep_builds=2)
    theirs = labelled(other, ns, "other store")
    made = [labelled(settings, ns, f"build {i}").name for i in range(4)]
    assert theirs.name in kept(settings)
    assert current_build_id(other) == theirs.name and live_label(other) == "other store"
    assert kept(settings) == sorted([theirs.name, *made[-2:]])  # the linked build does not use up the limit


def test_a_build_the_previous_link_of_another_store_points_at_is_kept(settings, ns):
    other = settings.with_(store_dir=settings.root / "var" / "other-store", keep_builds=2)
    settings = settings.with_(keep_builds=2)
    first, second = labelled(other, ns, "first"), labelled(other, ns, "second")
    assert (settings.root / "var" / "other-store.previous").resolve() == first.resolve()
    for i in range(3):
        labelled(settings, ns, f"build {i}")
    assert {first.name, second.name} <= set(kept(settings))
    assert rollback(other) == (second.name, first.name)


def test_dangling_and_foreign_links_in_var_are_ignored(settings, ns, tmp_path):
    settings = settings.with_(keep_builds=2)
    var = settings.root / "var"
    var.mkdir(parents=True)
    (var / "dangling").symlink_to(var / "stores" / "gone")
    (var / "elsewhere").symlink_to(tmp_path)
    made = [labelled(settings, ns, f"build {i}").name for i in range(3)]
    assert kept(settings) == made[-2:]


def test_relative_store_paths_are_taken_against_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert Settings.from_env({"AIWF_STORE": "var/store"}).store_path == tmp_path / "var" / "store"
    assert Settings(store_dir="x/store").store_path == tmp_path / "x" / "store"
    assert Settings.from_env({"AIWF_ROOT": "."}).root == tmp_path


def test_each_build_records_when_its_data_last_changed(settings, ns):
    made = labelled(settings, ns, "now")
    record = json.loads((made / BUILD_RECORD).read_text())
    assert record["build"] == made.name
    assert modified_time(settings, made.name) == build_time(made.name)  # made without SOURCE_DATE_EPOCH: its own time
    assert live_label(settings) == "now" and len(open_store(settings)) == 1  # the record does not disturb the store


def test_a_build_with_source_date_epoch_records_that_time(settings, ns):
    settings = settings.with_(source_date_epoch=1767225600)
    rows = [("background", ns.thing("x", "a"), RDFS.label, Literal("dated"))]
    made = load_store(oxigraph_quads(make_dataset(ns, rows)), settings, modified=source_date(settings))
    assert json.loads((made / BUILD_RECORD).read_text())["modified"] == "2026-01-01T00:00:00Z"
    assert modified_time(settings, made.name) == datetime(2026, 1, 1, tzinfo=UTC)
    assert len(ox.Store.read_only(str(made))) == 1


def test_a_build_without_a_record_is_dated_by_its_id_else_its_directory(settings, ns):
    made = labelled(settings, ns, "old")
    (made / BUILD_RECORD).unlink()  # as a build made before records were written
    assert modified_time(settings, made.name) == build_time(made.name)
    handmade = stores_dir(settings) / "handmade"
    handmade.mkdir()
    os.utime(handmade, (1767225600, 1767225600))
    assert modified_time(settings, "handmade") == datetime(2026, 1, 1, tzinfo=UTC)
    assert modified_time(settings, "missing") is None and modified_time(settings, None) is None


def test_source_date_epoch_comes_from_the_environment():
    assert Settings.from_env({"SOURCE_DATE_EPOCH": "1767225600"}).source_date_epoch == 1767225600
    assert Settings.from_env({"SOURCE_DATE_EPOCH": ""}).source_date_epoch is None
    assert source_date(Settings.from_env({})) is None
    with pytest.raises(ValueError, match="SOURCE_DATE_EPOCH"):
        Settings.from_env({"SOURCE_DATE_EPOCH": "yesterday"})
