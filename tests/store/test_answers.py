"""The answers kept per build (store/answers.py): shared, bounded in bytes, gone with their build."""

from __future__ import annotations

import hashlib
import os
import time

from conftest import make_dataset, make_live
from nhs_ai_workforce.store.answers import COMPACT_BYTES, AnswerCache, answer_key
from nhs_ai_workforce.store.live import current_build_id

JSON = "application/sparql-results+json"


def test_an_answer_kept_by_one_process_is_found_by_another(settings, built_store):
    build = built_store.name
    key = answer_key("ASK {}", JSON)
    first, second = AnswerCache(settings), AnswerCache(settings)  # two server processes
    assert first.get(build, key) is None
    kept = first.put(build, key, b'{"boolean":true}', JSON)
    assert kept.stored and not kept.hit
    found = second.get(build, key)
    assert found is not None and found.hit
    assert (found.body, found.media_type, found.build) == (b'{"boolean":true}', JSON, build)
    assert found.sha256 == kept.sha256 == hashlib.sha256(b'{"boolean":true}').hexdigest()
    assert (first.counts["stored"], first.counts["misses"], second.counts["hits"]) == (1, 1, 1)


def test_an_answer_asked_for_min_uses_times_is_kept_from_then_on(settings, built_store):
    build, cache = built_store.name, AnswerCache(settings)
    once, twice = answer_key("asked once"), answer_key("asked twice")
    assert not cache.put(build, once, b"1", JSON, min_uses=2).stored
    assert not cache.put(build, twice, b"2", JSON, min_uses=2).stored
    assert cache.put(build, twice, b"2", JSON, min_uses=2).stored
    assert cache.get(build, once) is None and cache.get(build, twice).body == b"2"
    assert cache.counts["not yet"] == 2
    other = AnswerCache(settings)  # uses are counted per process
    assert not other.put(build, once, b"1", JSON, min_uses=2).stored


def test_the_cache_is_bounded_and_evicts_the_oldest_unread_answer(settings, built_store):
    build = built_store.name
    cache = AnswerCache(settings, max_bytes=8000)  # an answer may be up to 1000 bytes
    keys = [answer_key("query", n) for n in range(8)]
    for key in keys:  # 8 answers of 997 bytes (with their header): just within the bound
        assert cache.put(build, key, bytes(900), JSON).stored
    assert cache.counts["evicted"] == 0
    first = cache.root / build / keys[0]
    os.utime(first, (first.stat().st_atime, time.time() + 10))  # read after it was kept, as a hit does
    assert cache.put(build, answer_key("one more"), bytes(900), JSON).stored  # over the bound: one goes
    assert cache.counts["evicted"] == 1
    assert cache.get(build, keys[1]) is None, "the oldest unread answer stayed"
    assert all(cache.get(build, key) is not None for key in [keys[0], *keys[2:], answer_key("one more")])
    on_disk = [path for path in (cache.root / build).iterdir() if not path.name.startswith(".")]
    total = sum(path.stat().st_size for path in on_disk)
    assert total <= 8000 and len(on_disk) == 8
    assert (cache.root / ".lock").read_text().split()[:2] == [build, str(total)]  # the state matches the disk


def test_eviction_removes_about_one_answer_per_answer_kept(settings, built_store):
    build = built_store.name
    cache = AnswerCache(settings, max_bytes=8000)
    for n in range(1000):  # a journal line is about 90 bytes: 90 KB of lines in all
        cache.put(build, answer_key("query", n), bytes(900), JSON)
    on_disk = [path for path in (cache.root / build).iterdir() if not path.name.startswith(".")]
    assert len(on_disk) == 8 and cache.counts["evicted"] == 992
    assert {path.name for path in on_disk} == {answer_key("query", n) for n in range(992, 1000)}
    assert (cache.root / build / ".journal").stat().st_size < COMPACT_BYTES  # its read part was dropped


def test_an_answer_over_an_eighth_of_the_bound_is_not_kept(settings, built_store):
    cache = AnswerCache(settings, max_bytes=8000)
    answer = cache.put(built_store.name, answer_key("big"), bytes(1001), JSON)
    assert not answer.stored and answer.sha256 == hashlib.sha256(bytes(1001)).hexdigest()
    assert cache.get(built_store.name, answer_key("big")) is None


def test_answers_die_with_their_build(settings, ns, built_store):
    cache = AnswerCache(settings)
    old = built_store.name
    cache.put(old, answer_key("q"), b"old", JSON)
    assert (cache.root / old).is_dir()
    new = make_live(settings, make_dataset(ns)).name
    assert current_build_id(settings) == new != old
    late = cache.put(old, answer_key("late"), b"old", JSON)  # a query that ran on the old build ends late
    assert not late.stored and cache.get(old, answer_key("late")) is None
    assert cache.put(new, answer_key("q"), b"new", JSON).stored
    assert not (cache.root / old).exists(), "the old build's answers outlived it"
    assert cache.get(new, answer_key("q")).body == b"new"


def test_a_zero_bound_turns_the_cache_off(settings, built_store):
    cache = AnswerCache(settings.with_(answer_cache_mb=0))
    assert not cache.enabled
    assert not cache.put(built_store.name, answer_key("q"), b"x", JSON).stored
    assert cache.get(built_store.name, answer_key("q")) is None
    assert not cache.root.exists()


def test_an_unwritable_directory_means_no_cache_not_an_error(settings, built_store):
    cache = AnswerCache(settings)
    cache.root.parent.mkdir(parents=True, exist_ok=True)
    cache.root.write_text("not a directory")
    answer = cache.put(built_store.name, answer_key("q"), b"x", JSON)
    assert not answer.stored and cache.counts["errors"] == 1
    assert cache.get(built_store.name, answer_key("q")) is None
