"""The pool of killable query processes: time limit, kill and respawn, crashes, limits, store swaps."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from conftest import make_dataset, make_live, numbered_store, sample_triples
from nhs_ai_workforce.core.channel import lifeline
from nhs_ai_workforce.core.errors import ServiceError
from nhs_ai_workforce.core.processes import Child, ProcessTimedOut, launch, run_in_process, stop
from nhs_ai_workforce.core.settings import Settings
from nhs_ai_workforce.sparql.execution import InProcessExecutor, QueryJob, outcome_message
from nhs_ai_workforce.sparql.pool import PooledExecutor

JSON = "application/sparql-results+json"
#: 4 cross products of a store of ~500 triples: 6e10 rows, far beyond any time limit here.
RUNAWAY = "SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
COUNT = "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }"


def _count(outcome) -> int:
    return int(json.loads(outcome.body)["results"]["bindings"][0]["n"]["value"])


def _gone(pid: int) -> bool:
    """Has the process ended and been reaped (or at least stopped running)?"""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")


def _wait_gone(pid: int, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _gone(pid):
            return True
        time.sleep(0.05)
    return False


@pytest.fixture(scope="module")
def big_settings(tmp_path_factory) -> Settings:
    """A live store of ~500 triples, and a 1 s time limit."""
    return numbered_store(Settings(root=tmp_path_factory.mktemp("workers"), query_timeout_s=1.0))


@pytest.fixture(scope="module")
def pool(big_settings):
    with PooledExecutor(big_settings, spares=1).start() as executor:
        assert executor.wait_ready(), "the query processes did not start"
        yield executor


def test_a_query_runs_in_a_child_and_matches_the_in_process_answer(pool, big_settings):
    from nhs_ai_workforce.store.live import CurrentStore

    job = QueryJob(COUNT, JSON)
    expected = InProcessExecutor(big_settings, CurrentStore(big_settings).get).run(job)
    assert pool.run(job) == expected
    assert _count(expected) == 514
    assert os.getpid() not in pool.pids()
    assert len(pool.pids()) == pool.size + pool.spares == 3


def test_a_runaway_query_is_stopped_its_process_killed_and_the_next_query_answered_at_once(pool):
    before = set(pool.pids())
    started = time.monotonic()
    with pytest.raises(ServiceError) as caught:
        pool.run(QueryJob(RUNAWAY, JSON))
    elapsed = time.monotonic() - started
    assert caught.value.status == 504
    assert caught.value.title == "Query timed out"
    assert "query timed out after 1 s" in caught.value.message
    assert elapsed < 10  # the limit is 1 s; generous slack for a loaded machine
    killed = pool.killed[-1]
    assert killed in before
    assert _wait_gone(killed), f"the runaway query's process {killed} is still running"

    started = time.monotonic()
    assert _count(pool.run(QueryJob(COUNT, JSON))) == 514
    assert time.monotonic() - started < 3  # a warm spare answers; no waiting for a new process
    deadline = time.monotonic() + 10
    while len(pool.pids()) < pool.target and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(pool.pids()) == pool.target, "the killed process was not replaced"
    assert killed not in pool.pids()


def test_simple_queries_are_answered_while_a_runaway_query_runs(pool):
    results: dict[str, object] = {}

    def runaway():
        try:
            pool.run(QueryJob(RUNAWAY, JSON))
        except ServiceError as error:
            results["runaway"] = error.status

    thread = threading.Thread(target=runaway)
    thread.start()
    time.sleep(0.2)
    answers = [_count(pool.run(QueryJob(COUNT, JSON))) for _ in range(5)]
    thread.join()
    assert answers == [514] * 5
    assert results["runaway"] == 504


def test_concurrent_queries_from_many_threads(pool):
    answers: list[int] = []

    def ask():
        answers.append(_count(pool.run(QueryJob(COUNT, JSON))))

    threads = [threading.Thread(target=ask) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [514] * 12


def _computing(pid: int) -> bool:
    """Is one of the threads of ``pid`` running (the query, not an idle wait on the pipe)?"""
    for stat in Path(f"/proc/{pid}/task").glob("*/stat"):
        try:
            if stat.read_text().rsplit(")", 1)[1].split()[0] == "R":
                return True
        except (FileNotFoundError, ProcessLookupError):
            pass
    return False


def _kill_mid_query(settings: Settings, signum: int) -> ServiceError:
    """Send ``signum`` to the process running a runaway query; the error its request got."""
    with PooledExecutor(settings.with_(query_timeout_s=60.0), size=1, spares=1).start() as executor:
        assert executor.wait_ready()
        outcome: dict[str, ServiceError | None] = {}
        thread = threading.Thread(target=lambda: outcome.update(error=_run_catching(executor)))
        thread.start()
        deadline = time.monotonic() + 10
        while not executor.pids(busy=True) and time.monotonic() < deadline:
            time.sleep(0.02)
        (victim,) = executor.pids(busy=True)
        while not _computing(victim) and time.monotonic() < deadline:  # it has the job, not just the slot
            time.sleep(0.02)
        os.kill(victim, signum)
        thread.join(20)
        assert _wait_gone(victim)
        assert _count(executor.run(QueryJob(COUNT, JSON))) == 514  # replaced, and the server lives on
        error = outcome["error"]
        assert isinstance(error, ServiceError)
        return error


def test_a_process_that_dies_of_its_query_is_reported_as_the_querys_fault(big_settings):
    error = _kill_mid_query(big_settings, signal.SIGSEGV)  # what a stack overflow in Oxigraph looks like
    assert (error.status, error.title) == (400, "Query too demanding")
    assert "SIGSEGV" in error.message


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_a_process_killed_from_outside_is_a_503_not_the_querys_fault(big_settings, signum):
    error = _kill_mid_query(big_settings, signum)
    assert (error.status, error.title, error.retry_after) == (503, "Query process lost", 1)
    assert signal.Signals(signum).name in error.message
    assert "outside the query" in error.message


def _run_catching(executor: PooledExecutor) -> ServiceError | None:
    try:
        executor.run(QueryJob(RUNAWAY, JSON))
    except ServiceError as error:
        return error
    return None


def test_the_result_size_limit(big_settings):
    with PooledExecutor(big_settings, size=1, spares=0, result_limit_bytes=200) as executor:
        assert _count(executor.run(QueryJob(COUNT, JSON))) == 514
        with pytest.raises(ServiceError) as caught:
            executor.run(QueryJob("SELECT * { ?s ?p ?o }", JSON))
    assert caught.value.status == 400
    assert "larger than the limit of 200 bytes" in caught.value.message


@pytest.mark.parametrize(
    ("job", "fragment"),
    [
        (QueryJob("SELECT * { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }", JSON), "SERVICE"),
        (QueryJob("SELECT * FROM <http://127.0.0.1:9/g> { ?s ?p ?o }", JSON), "not a graph of this store"),
        (QueryJob("ASK {}", JSON, default_graphs=("file:///etc/passwd",)), "default-graph-uri"),
        (QueryJob("SELECT * " + "{" * 500 + "}" * 500, JSON), "nests 500 levels deep"),
        (QueryJob("SELECT * WHERE { ?s ?p ?o", JSON), "expected"),
    ],
)
def test_the_pool_refuses_what_the_guard_refuses(pool, job, fragment):
    with pytest.raises(ServiceError) as caught:
        pool.run(job)
    assert caught.value.status == 400
    assert fragment in caught.value.message


def test_children_reopen_the_store_when_a_new_build_is_swapped_in(tmp_path):
    from nhs_ai_workforce.core.namespaces import ProjectNamespaces

    settings = Settings(root=tmp_path)
    ns = ProjectNamespaces(settings.base)
    make_live(settings, make_dataset(ns))
    with PooledExecutor(settings, size=1, spares=1).start() as executor:
        assert _count(executor.run(QueryJob(COUNT, JSON))) == 14
        make_live(settings, make_dataset(ns, sample_triples(ns)[:3]))
        assert [_count(executor.run(QueryJob(COUNT, JSON))) for _ in range(4)] == [3] * 4


def test_query_processes_copy_a_larger_store_in_the_background_and_keep_it(big_settings):
    settings = big_settings.with_(memory_store_at_open_mb=0)  # every store is "larger" than this
    with PooledExecutor(settings, size=2, spares=0).start() as executor:
        assert executor.wait_ready()
        pids = sorted(executor.pids())
        deadline = time.monotonic() + 30
        while executor.report()["in_memory"] < 2 and time.monotonic() < deadline:
            assert _count(executor.run(QueryJob(COUNT, JSON))) == 514  # from disk, then from memory
        assert executor.report()["in_memory"] == 2
        assert [_count(executor.run(QueryJob(COUNT, JSON))) for _ in range(4)] == [514] * 4
        assert sorted(executor.pids()) == pids  # neither was replaced for the memory its copy holds


def test_a_child_keeps_the_memory_of_its_store_copy_but_not_a_querys(big_settings):
    from nhs_ai_workforce.sparql.query_process import COPYING

    with PooledExecutor(big_settings, size=1, spares=0, memory_mb=16).start() as executor:
        assert executor.wait_ready()
        outcome = executor.run(QueryJob(COUNT, JSON))
        for held, kept in ((COPYING, True), (None, False)):
            child = executor.try_take()
            child.baseline = -1024.0  # as if its memory had grown by a GB since it was ready
            child.sent = 0.0  # and its query had run for long enough to take it
            executor.settle(child, ("ok", outcome_message(outcome, None), held))
            assert (child.pid in executor.pids()) is kept
        assert executor.wait_ready()
        child = executor.try_take()
        executor.settle(child, ("ok", outcome_message(outcome, None), 1e6))  # its memory when it swapped its copy in
        assert child.pid in executor.pids() and child.baseline == 1e6 and executor.report()["in_memory"] == 1


def test_a_childs_memory_is_read_after_a_quick_query_only_every_so_often(big_settings):
    from nhs_ai_workforce.sparql.pool import MEMORY_READ_EVERY

    with PooledExecutor(big_settings, size=1, spares=0, memory_mb=16).start() as executor:
        assert executor.wait_ready()
        outcome = executor.run(QueryJob(COUNT, JSON))
        child = executor.try_take()
        child.baseline = -1024.0  # as if its memory had grown by a GB since it was ready
        child.jobs, child.sent = MEMORY_READ_EVERY + 1, time.monotonic()  # a job sent just now
        executor.settle(child, ("ok", outcome_message(outcome, None), None))
        assert child.pid in executor.pids()  # not read: a query this quick cannot have taken a GB
        child = executor.try_take()
        child.jobs, child.sent = 2 * MEMORY_READ_EVERY, time.monotonic()
        executor.settle(child, ("ok", outcome_message(outcome, None), None))
        assert child.pid not in executor.pids()  # read at every MEMORY_READ_EVERY-th job, and replaced


def test_no_store_is_a_503(tmp_path):
    with PooledExecutor(Settings(root=tmp_path), size=1, spares=0) as executor, pytest.raises(ServiceError) as caught:
        executor.run(QueryJob(COUNT, JSON))
    assert (caught.value.status, caught.value.title, caught.value.retry_after) == (503, "Store unavailable", 30)


def test_close_kills_every_child(big_settings):
    executor = PooledExecutor(big_settings, size=2, spares=1).start()
    assert executor.wait_ready()
    pids = executor.pids()
    executor.close()
    assert all(_wait_gone(pid) for pid in pids)
    with pytest.raises(ServiceError) as caught:
        executor.run(QueryJob(COUNT, JSON))
    assert (caught.value.status, caught.value.title, caught.value.retry_after) == (503, "Server stopping", 5)


CHILDREN_OF_A_KILLED_PARENT = """
import sys
from pathlib import Path
from nhs_ai_workforce.core.settings import Settings
from nhs_ai_workforce.sparql.execution import QueryJob
from nhs_ai_workforce.sparql.pool import PooledExecutor
if __name__ == "__main__":
    executor = PooledExecutor(Settings(root=Path(sys.argv[1]), query_timeout_s=600), size=1, spares=1).start()
    executor.wait_ready()
    print(" ".join(map(str, executor.pids())), flush=True)
    executor.run(QueryJob(sys.argv[2], "text/csv"))  # runs until this process is killed
"""


def test_children_exit_when_their_server_process_is_killed(big_settings, tmp_path):
    script = tmp_path / "parent.py"
    script.write_text(CHILDREN_OF_A_KILLED_PARENT)
    parent = subprocess.Popen(
        [sys.executable, str(script), str(big_settings.root), RUNAWAY], stdout=subprocess.PIPE, text=True
    )
    try:
        pids = [int(pid) for pid in parent.stdout.readline().split()]
        assert len(pids) == 2
        time.sleep(0.3)  # the runaway query is running in one of them
    finally:
        parent.kill()
        parent.wait()
        parent.stdout.close()
    assert all(_wait_gone(pid) for pid in pids), "a query process outlived its server process"


def _sleep(seconds: float) -> str:
    time.sleep(seconds)
    return "done"


def test_run_in_process_returns_raises_and_times_out():
    assert run_in_process(_sleep, 0, timeout_s=30) == "done"
    with pytest.raises(ProcessTimedOut):
        run_in_process(_sleep, 30, timeout_s=0.5)
    with pytest.raises(ValueError, match="invalid literal"):
        run_in_process(int, "not a number", timeout_s=30)


# -- the allocator of the query processes -------------------------------------------------------

_CHILDREN_MEMORY = """
import json, sys
from pathlib import Path
from nhs_ai_workforce.core.settings import Settings
from nhs_ai_workforce.sparql.pool import PooledExecutor
if __name__ == "__main__":
    pool = PooledExecutor(Settings.from_env().with_(store_dir=Path(sys.argv[1]))).start()
    assert pool.wait_ready(60)
    rollups = [Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines() for pid in pool.pids()]
    print(json.dumps({
        "jemalloc": all("libjemalloc" in Path(f"/proc/{pid}/maps").read_text() for pid in pool.pids()),
        "huge_kb": [int(line.split()[1]) for rollup in rollups for line in rollup if line.startswith("AnonHugePages:")],
    }))
    pool.close()
"""


def _children_memory(tmp_path: Path, store: Path, **settings: str) -> dict:
    """Started with ``AIWF_*`` ``settings``: do a pool's children map jemalloc, and their huge pages (KB)."""
    script = tmp_path / "children_memory.py"
    script.write_text(_CHILDREN_MEMORY)
    ours = ("AIWF_", "MALLOC_", "GLIBC_", "LD_PRELOAD")
    env = {name: value for name, value in os.environ.items() if not name.startswith(ours)}
    env.update({f"AIWF_{name.upper()}": value for name, value in settings.items()})
    done = subprocess.run([sys.executable, str(script), str(store)], env=env, capture_output=True, text=True,
                          timeout=120, check=True)
    return json.loads(done.stdout)


def _jemalloc_or_skip() -> None:
    from nhs_ai_workforce.core.processes import query_allocator

    if query_allocator("auto") is None:
        if os.environ.get("CI", "").lower() not in ("", "0", "false", "no"):
            pytest.fail("libjemalloc2 is not installed; .ci/run installs it")
        pytest.skip("jemalloc is not installed (Debian: apt-get install libjemalloc2)")


def test_query_processes_preload_jemalloc_unless_told_not_to(tmp_path, built_store, settings):
    _jemalloc_or_skip()
    assert _children_memory(tmp_path, settings.store_path, query_allocator="auto")["jemalloc"]
    assert not _children_memory(tmp_path, settings.store_path, query_allocator="system")["jemalloc"]


@pytest.mark.parametrize("allocator", ["auto", "system"])
def test_query_processes_told_to_ask_for_huge_pages_hold_them(tmp_path, built_store, settings, allocator):
    mode = Path("/sys/kernel/mm/transparent_hugepage/enabled")
    if not mode.is_file() or "[never]" in mode.read_text():
        pytest.skip("this kernel gives no transparent huge pages")
    if allocator == "auto":
        _jemalloc_or_skip()
    held = _children_memory(tmp_path, settings.store_path, query_allocator=allocator, query_huge_pages="always")
    assert len(held["huge_kb"]) == 2 and all(kb >= 2048 for kb in held["huge_kb"])
    if "[madvise]" in mode.read_text():  # only what is asked for
        unasked = _children_memory(tmp_path, settings.store_path, query_allocator=allocator, query_huge_pages="never")
        assert unasked["huge_kb"] == [0, 0]


def test_an_allocator_that_is_not_a_file_is_refused():
    from nhs_ai_workforce.core.processes import query_allocator

    assert query_allocator("system") is None
    with pytest.raises(ValueError, match=r"AIWF_QUERY_ALLOCATOR: '/no/such/lib\.so'"):
        query_allocator("/no/such/lib.so")


def test_a_childs_memory_is_read_through_one_descriptor_that_stop_closes():
    watch, keep = lifeline()
    process, conn = launch(_sleep, 30, watch=watch)
    child = Child(process, conn, process.pid)
    try:
        assert child.resident_mb() > 0 and child.resident_mb() > 0
        assert os.readlink(f"/proc/self/fd/{child.statm}") == f"/proc/{child.pid}/statm"
    finally:
        stop(child)
        keep.close()
    assert child.statm is None and child.resident_mb() is None
