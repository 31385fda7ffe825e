"""Overload is shed fast and fairly: a bounded queue, a share per client, and a memory cap.

The admission rules are checked on :class:`Admission` itself (threads that hold slots), then
through a real pool of query processes and through the app with two client addresses.
"""

from __future__ import annotations

import json
import threading
import time
from contextlib import ExitStack

import pytest

from conftest import numbered_store
from nhs_ai_workforce.core.errors import ServiceError
from nhs_ai_workforce.core.settings import Settings
from nhs_ai_workforce.sparql.admission import LEND_QUICK_S, RECLAIM_GRACE_S, Admission
from nhs_ai_workforce.sparql.execution import QueryJob
from nhs_ai_workforce.sparql.pool import PooledExecutor, _memory_shares
from nhs_ai_workforce.web.app import create_app

JSON = "application/sparql-results+json"
RUNAWAY = "SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
#: Sorting a three-way cross product of ~500 triples: 1.4e8 rows, gigabytes if let run.
HUNGRY = "SELECT * { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i } ORDER BY ?c ?f ?i"
COUNT = "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }"


# -- the admission rules -------------------------------------------------------------------


class Holder:
    """A thread that takes a slot for ``client`` and keeps it until released."""

    def __init__(self, admission: Admission, client: str | None) -> None:
        self.admission, self.client = admission, client
        self.entered, self.release = threading.Event(), threading.Event()
        self.error: ServiceError | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            with self.admission.slot(self.client):
                self.entered.set()
                self.release.wait(30)
        except ServiceError as error:
            self.error = error

    def done(self) -> None:
        self.release.set()
        self.thread.join(10)


def _wait_for(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.01)


def _refusal(admission: Admission, client: str | None) -> ServiceError:
    with pytest.raises(ServiceError) as caught, admission.slot(client):
        pass
    return caught.value


def test_past_the_queue_a_request_is_refused_with_503_at_once_not_after_waiting():
    admission = Admission(2, queue=2, per_client=2, wait_s=600)
    holders = [Holder(admission, f"10.0.0.{i}") for i in range(4)]  # 2 running, 2 waiting
    _wait_for(lambda: admission.counts() == (2, 2))
    started = time.monotonic()
    refused = _refusal(admission, "10.0.0.9")
    assert time.monotonic() - started < 5  # refused, not left to wait out the 600 s
    assert (refused.status, refused.title, refused.retry_after) == (503, "Server busy", 5)
    assert "all 2 query slots are taken and 2 queries wait" in refused.message
    for holder in holders:
        holder.done()
    assert all(holder.error is None for holder in holders)
    assert admission.counts() == (0, 0)


def test_a_place_that_frees_during_the_short_wait_is_taken_instead_of_a_503():
    """A burst of quick queries fills the queue for moments only: the next request gets in."""
    admission = Admission(1, queue=1, per_client=1, wait_s=600)
    running, waiting = Holder(admission, "10.0.0.1"), Holder(admission, "10.0.0.2")
    _wait_for(lambda: admission.counts() == (1, 1))
    threading.Timer(0.1, running.done).start()
    late = Holder(admission, "10.0.0.3")
    _wait_for(lambda: waiting.entered.is_set())
    _wait_for(lambda: admission.counts() == (1, 1))  # the late request now waits in the queue
    assert late.error is None
    for holder in (waiting, late):
        holder.done()
    assert late.entered.is_set() and late.error is None
    assert admission.counts() == (0, 0)


def test_one_client_holds_at_most_its_share_and_another_client_runs_at_once():
    admission = Admission(2, queue=4, per_client=1, wait_s=600)
    hog = [Holder(admission, "10.0.0.1") for _ in range(3)]  # 1 running, 2 (half the queue) waiting
    _wait_for(lambda: admission.counts() == (1, 2))
    assert sum(holder.entered.is_set() for holder in hog) == 1
    too_many = _refusal(admission, "10.0.0.1")
    assert (too_many.status, too_many.title, too_many.retry_after) == (429, "Too many queries", 5)
    assert "1 queries running and 2 waiting" in too_many.message
    other = Holder(admission, "10.0.0.2")
    assert other.entered.wait(5), "the other client's query waited behind the hog"
    for holder in (*hog, other):
        holder.done()
    assert all(holder.error is None for holder in (*hog, other))


def test_a_freed_slot_goes_to_a_waiting_newcomer_before_the_hogs_earlier_requests():
    admission = Admission(1, queue=6, per_client=1, wait_s=600)
    first = Holder(admission, "10.0.0.1")
    assert first.entered.wait(5)
    hog_waiting = [Holder(admission, "10.0.0.1") for _ in range(2)]
    _wait_for(lambda: admission.counts() == (1, 2))
    newcomer = Holder(admission, "10.0.0.2")
    _wait_for(lambda: admission.counts() == (1, 3))
    first.done()
    assert newcomer.entered.wait(5)
    assert not any(holder.entered.is_set() for holder in hog_waiting)
    newcomer.done()
    _wait_for(lambda: sum(holder.entered.is_set() for holder in hog_waiting) == 1)
    for holder in hog_waiting:
        holder.done()
    assert all(holder.error is None for holder in hog_waiting)


def test_a_waiting_request_that_gets_no_slot_in_time_is_refused_with_503():
    admission = Admission(1, queue=2, per_client=1, wait_s=0.2)
    holder = Holder(admission, "10.0.0.1")
    assert holder.entered.wait(5)
    refused = _refusal(admission, "10.0.0.2")
    assert (refused.status, refused.title, refused.retry_after) == (503, "Server busy", 1)
    assert "no query slot came free within 0.2 s" in refused.message
    assert admission.counts() == (1, 0)  # it left the queue
    holder.done()


def test_requests_without_a_client_share_the_slots_but_have_no_per_client_cap():
    admission = Admission(2, queue=0, per_client=1, wait_s=600)
    holders = [Holder(admission, None) for _ in range(2)]
    _wait_for(lambda: admission.counts() == (2, 0))
    assert _refusal(admission, None).status == 503
    for holder in holders:
        holder.done()


# -- the memory shares ---------------------------------------------------------------------------


def quick_client(admission: Admission, client: str) -> Admission:
    """``admission`` after one quick query of ``client`` (only a client whose queries end quickly borrows)."""
    admission.leave(admission.enter(client))
    return admission


def test_a_slot_nobody_else_wants_is_lent_past_the_share_and_asked_back_for_another_client():
    admission = quick_client(Admission(2, queue=4, per_client=1, wait_s=600, lend=True), "10.0.0.1")
    own, lent = admission.enter("10.0.0.1"), admission.enter("10.0.0.1")
    assert (own.borrowed, lent.borrowed) == (False, True)
    assert admission.counts() == (2, 0)
    granted = threading.Event()
    other = admission.enter_nowait("10.0.0.2", granted.set)
    assert not other.granted
    assert own.reclaimed_at is None and lent.reclaimed_at is not None  # the loan, not the share
    assert not lent.asked_back(lent.reclaimed_at) and lent.asked_back(lent.reclaimed_at + RECLAIM_GRACE_S)
    assert admission.requeue(lent) is False  # its query stopped: the slot goes to the other client
    assert granted.is_set() and other.granted
    assert admission.counts() == (2, 1)
    admission.leave(own)
    assert lent.granted and not lent.borrowed  # again, within its share
    for ticket in (other, lent):
        admission.leave(ticket)
    assert admission.report() == {"running": 0, "waiting": 0, "lent": 0, "loans": 1, "asked_back": 1}


def test_a_loan_becomes_the_share_when_the_clients_own_slot_frees_and_is_no_longer_asked_back():
    admission = quick_client(Admission(2, queue=4, per_client=1, wait_s=600, lend=True), "10.0.0.1")
    own, lent = admission.enter("10.0.0.1"), admission.enter("10.0.0.1")
    other = admission.enter_nowait("10.0.0.2", lambda: None)
    assert lent.reclaimed_at is not None
    admission.leave(own)  # the other client gets that slot; the loan need not end
    assert other.granted
    assert (lent.borrowed, lent.reclaimed_at) == (False, None)
    for ticket in (other, lent):
        admission.leave(ticket)


def test_no_slot_is_lent_while_another_client_was_served_lately():
    admission = quick_client(Admission(2, queue=4, per_client=1, wait_s=600, lend=True), "10.0.0.1")
    admission.leave(admission.enter("10.0.0.2"))
    own = admission.enter("10.0.0.1")
    waiting = admission.enter_nowait("10.0.0.1", lambda: None)
    assert not waiting.granted and admission.counts() == (1, 1)  # the other client may be back at once
    assert admission.cancel(waiting) is not None
    admission.leave(own)


def test_no_slot_is_lent_to_a_client_with_a_long_query_nor_to_one_never_seen_nor_without_lending(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(time, "monotonic", lambda: clock[0])
    admission = Admission(2, queue=4, per_client=1, wait_s=600, lend=True)
    first = admission.enter("10.0.0.1")
    assert not admission.enter_nowait("10.0.0.1", lambda: None).granted  # no query of it has ended yet
    admission = quick_client(Admission(2, queue=4, per_client=1, wait_s=600, lend=True), "10.0.0.1")
    first = admission.enter("10.0.0.1")
    clock[0] += LEND_QUICK_S + 0.01
    assert not admission.enter_nowait("10.0.0.1", lambda: None).granted  # the running one is long
    admission = quick_client(Admission(2, queue=4, per_client=1, wait_s=600, lend=True), "10.0.0.1")
    first = admission.enter("10.0.0.1")
    clock[0] += LEND_QUICK_S + 0.01
    admission.leave(first)  # its last query was long
    admission.enter("10.0.0.1")
    assert not admission.enter_nowait("10.0.0.1", lambda: None).granted
    strict = Admission(2, queue=4, per_client=1, wait_s=600)
    strict.enter("10.0.0.1")
    assert not strict.enter_nowait("10.0.0.1", lambda: None).granted


def test_one_memory_cap_is_shared_by_every_query_process_of_the_server():
    settings = Settings(query_memory_mb=12288, workers=2, query_workers=2)
    per_query, idle = _memory_shares(settings, 2, 1, None)
    # Each server process: 2 running queries at their share, 1 idle spare at most at its allowance.
    assert settings.workers * (2 * per_query + 1 * idle) <= 12288
    assert per_query > 2800
    assert _memory_shares(settings.with_(query_memory_mb=0), 2, 1, None) == (0, 0)


def test_the_default_memory_cap_is_half_the_machine():
    import os

    machine_mb = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 2**20
    assert Settings().query_memory_mb == machine_mb // 2
    assert Settings.from_env({"AIWF_QUERY_MEMORY_MB": "1024"}).query_memory_mb == 1024
    env = {"AIWF_QUERY_QUEUE": "3", "AIWF_QUERY_SLOTS_PER_CLIENT": "2"}
    assert (Settings.from_env(env).query_queue, Settings.from_env(env).query_slots_per_client) == (3, 2)


# -- through a real pool and the app -----------------------------------------------------------------


@pytest.fixture(scope="module")
def store_settings(tmp_path_factory) -> Settings:
    return numbered_store(Settings(root=tmp_path_factory.mktemp("overload"), query_timeout_s=20.0))


def _count(body: bytes) -> int:
    return int(json.loads(body)["results"]["bindings"][0]["n"]["value"])


def test_a_query_over_its_memory_share_is_stopped_with_an_error_naming_the_limit(store_settings):
    with PooledExecutor(store_settings, size=1, spares=1, memory_mb=150).start() as pool:
        assert pool.wait_ready()
        busy_before = set(pool.pids())
        with pytest.raises(ServiceError) as caught:
            pool.run(QueryJob(HUNGRY, JSON))
        error = caught.value
        assert (error.status, error.title) == (400, "Query used too much memory")
        assert "memory limit of 150 MB" in error.message
        assert "AIWF_QUERY_MEMORY_MB" in error.message
        assert pool.killed[-1] in busy_before
        assert _count(pool.run(QueryJob(COUNT, JSON)).body) == 514  # the server lives on


def test_query_processes_start_and_answer_under_a_one_gigabyte_total(store_settings):
    settings = store_settings.with_(query_memory_mb=1024, workers=2)
    with PooledExecutor(settings).start() as pool:
        assert pool.wait_ready(), "query processes failed to start under AIWF_QUERY_MEMORY_MB=1024"
        assert pool.memory_mb > 100
        answers = [_count(pool.run(QueryJob(COUNT, JSON)).body) for _ in range(4)]
        assert answers == [514] * 4
        assert not pool.killed


def _hog(pool: PooledExecutor, count: int) -> tuple[list[int], list[threading.Thread]]:
    """``count`` threads that each send one runaway query of client 10.0.0.1: its statuses, the threads."""
    statuses: list[int] = []

    def one() -> None:
        try:
            pool.run(QueryJob(RUNAWAY, JSON, client="10.0.0.1"))
            statuses.append(200)
        except ServiceError as error:
            statuses.append(error.status)

    threads = [threading.Thread(target=one, daemon=True) for _ in range(count)]
    for thread in threads:
        thread.start()
    return statuses, threads


def test_a_clients_runaway_queries_do_not_take_every_slot_of_the_pool_without_lending(store_settings):
    settings = store_settings.with_(query_lend=False)
    with PooledExecutor(settings, size=2, spares=1, queue=2, per_client=1).start() as pool:
        assert pool.wait_ready()
        statuses, threads = _hog(pool, 6)
        _wait_for(lambda: len(statuses) >= 4)  # 1 runs, 1 waits, the other 4 are refused at once
        assert sorted(statuses[:4]) == [429] * 4
        assert pool.admission.counts() == (1, 1)
        assert _count(pool.run(QueryJob(COUNT, JSON, client="10.0.0.2")).body) == 514
        pool.close()  # ends the hog's queries
        for thread in threads:
            thread.join(30)


def test_a_clients_runaway_queries_borrow_the_free_slot_and_give_it_back_to_another_client(store_settings):
    with PooledExecutor(store_settings, size=2, spares=1, queue=2, per_client=1).start() as pool:
        assert pool.wait_ready()
        assert _count(pool.run(QueryJob(COUNT, JSON, client="10.0.0.1")).body) == 514  # a quick one first
        statuses, threads = _hog(pool, 6)
        _wait_for(lambda: len(statuses) >= 3 and pool.admission.counts() == (2, 1))
        assert statuses == [429] * 3  # 1 runs in its share, 1 in the lent slot, 1 waits
        started = time.monotonic()
        assert _count(pool.run(QueryJob(COUNT, JSON, client="10.0.0.2")).body) == 514
        assert time.monotonic() - started < 5  # not the runaway's time limit
        assert len(pool.killed) == 1  # the lent slot's query was stopped...
        assert statuses == [429] * 3  # ...and not failed: it waits to start again
        assert pool.admission.counts() == (1, 2)
        pool.close()
        for thread in threads:
            thread.join(30)


def test_the_app_counts_each_client_address_separately(store_settings):
    app = create_app({"SETTINGS": store_settings.with_(query_slots_per_client=1, query_queue=2)})
    executor = app.extensions["aiwf"].executor
    with ExitStack() as stack:
        stack.callback(executor.close)
        responses: list = []

        def hog() -> None:
            client = app.test_client()
            responses.append(client.get("/sparql", query_string={"query": RUNAWAY}, headers={"Accept": JSON},
                                        environ_base={"REMOTE_ADDR": "192.0.2.1"}))

        threads = [threading.Thread(target=hog, daemon=True) for _ in range(4)]
        for thread in threads:
            thread.start()
        _wait_for(lambda: len(responses) >= 1)  # 2 run (one in the lent slot), 1 waits, 1 is refused
        for refused in responses[:1]:
            assert refused.status_code == 429
            assert refused.headers["Retry-After"] == "5"
            body = json.loads(refused.data)
            assert (body["ok"], body["title"]) == (False, "Too many queries")
        other = app.test_client().get("/sparql", query_string={"query": COUNT}, headers={"Accept": JSON},
                                      environ_base={"REMOTE_ADDR": "192.0.2.2"})
        assert other.status_code == 200
        assert _count(other.data) == 514
        executor.close()
        for thread in threads:
            thread.join(30)


# -- through a real `aiwf serve` ----------------------------------------------------------------


def _get(source: str, origin: str, path: str, timeout: float = 30) -> tuple[int, dict, bytes]:
    """GET ``path`` from the connection's own source address (127.0.0.x: another client)."""
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(origin)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout, source_address=(source, 0))
    try:
        conn.request("GET", path, headers={"Accept": JSON})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


@pytest.mark.slow
@pytest.mark.server
def test_a_flood_of_runaway_queries_from_one_address_leaves_others_and_health_answered(store_settings):
    from urllib.parse import quote

    from servers import running_server

    env = {"AIWF_WORKERS": "1", "AIWF_QUERY_TIMEOUT": "5", "AIWF_QUERY_QUEUE": "1"}
    with running_server(store_settings.store_path, env=env) as origin:
        stop = threading.Event()
        hog_statuses: list[tuple[int, str | None]] = []

        def hog() -> None:
            while not stop.is_set():
                status, headers, _ = _get("127.0.0.1", origin, "/sparql?query=" + quote(RUNAWAY))
                hog_statuses.append((status, headers.get("Retry-After")))

        hogs = [threading.Thread(target=hog, daemon=True) for _ in range(20)]
        for thread in hogs:
            thread.start()
        try:
            _wait_for(lambda: sum(status == 429 for status, _ in hog_statuses) >= 10, timeout=30)
            for _ in range(10):
                status, _, body = _get("127.0.0.2", origin, "/sparql?query=" + quote(COUNT))
                assert status == 200, body
                assert _count(body) == 514
                health, _, _ = _get("127.0.0.2", origin, "/health")
                assert health == 200
        finally:
            stop.set()
            for thread in hogs:
                thread.join(30)
        # The hog's runaway queries time out (504) or are refused with Retry-After: 429 past its
        # share, 503 when its one waiting query got no slot in time; never a 500 or a hang.
        refused = [(status, retry) for status, retry in hog_statuses if status != 504]
        assert all(status in (429, 503) and retry for status, retry in refused), set(refused)
        assert sum(status == 429 for status, _ in refused) >= 10
