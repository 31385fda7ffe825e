"""The loopback relay and its remote calls, against small local servers (no server process needed)."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import pyoxigraph as ox
import pytest

from nhs_ai_workforce.core.errors import ServiceError
from nhs_ai_workforce.core.settings import Settings
from nhs_ai_workforce.sparql.execution import InProcessExecutor, QueryJob
from nhs_ai_workforce.sparql.federated import FederatedExecutor
from nhs_ai_workforce.sparql.federation import MAX_CALLS, ServicePolicy
from nhs_ai_workforce.sparql.guard import QueryRefused
from nhs_ai_workforce.sparql.relay import Relay, forward
from remote_servers import Answer, fake_remote, silent_listener

JSON = "application/sparql-results+json"
ONE_ROW = json.dumps({"head": {"vars": ["x"]}, "results": {"bindings": [{"x": {"type": "literal", "value": "hi"}}]}})


def ok(_request=None, _before=0) -> Answer:
    return Answer(200, ONE_ROW.encode(), {"Content-Type": f"{JSON}; charset=utf-8"})


def policy(*endpoints: str, timeout_s: float = 2.0, **limits) -> ServicePolicy:
    return ServicePolicy(endpoints, timeout_s, query_timeout_s=limits.pop("query_timeout_s", 10.0), **limits)


def later(seconds: float = 10.0) -> float:
    return time.monotonic() + seconds


def test_a_call_is_a_get_with_the_query_and_the_result_types():
    with fake_remote(ok) as remote:
        media_type, body = forward(policy(remote.url("/sparql")), remote.url("/sparql"), "SELECT * {}", later())
    assert (media_type, json.loads(body)) == (JSON, json.loads(ONE_ROW))
    (seen,) = remote.seen
    assert seen.method == "GET" and seen.params["query"] == ["SELECT * {}"]
    assert "application/sparql-results+json" in seen.headers["Accept"]


def test_a_long_query_goes_as_a_form_post():
    with fake_remote(ok) as remote:
        forward(policy(remote.url("/sparql")), remote.url("/sparql"), "SELECT * {} #" + "x" * 5000, later())
    (seen,) = remote.seen
    assert seen.method == "POST" and seen.headers["Content-Type"] == "application/x-www-form-urlencoded"


def test_a_failing_remote_is_retried_a_bounded_number_of_times_and_reported_with_its_status():
    answers = [Answer(503, b"busy", {"Retry-After": "0"}), ok()]
    with fake_remote(lambda request, before: answers[min(before, 1)]) as remote:
        forward(policy(remote.url("/s")), remote.url("/s"), "ASK {}", later())
        assert len(remote.seen) == 2
    with fake_remote(lambda request, before: Answer(500, b"the store is on fire")) as remote:
        with pytest.raises(ServiceError) as caught:
            forward(policy(remote.url("/s"), attempts=3, timeout_s=5), remote.url("/s"), "ASK {}", later())
        assert len(remote.seen) == 3
    assert caught.value.status == 502 and caught.value.title == "Remote endpoint failed"
    assert "HTTP 500" in caught.value.message and "the store is on fire" in caught.value.message
    assert "after 3 attempts" in caught.value.message


def test_a_client_error_is_not_retried():
    with fake_remote(lambda request, before: Answer(400, b"bad query")) as remote:
        with pytest.raises(ServiceError, match="HTTP 400"):
            forward(policy(remote.url("/s")), remote.url("/s"), "ASK {}", later())
        assert len(remote.seen) == 1


def test_an_answer_that_is_not_sparql_results_fails():
    html = Answer(200, b"<html>hello</html>", {"Content-Type": "text/html"})
    with fake_remote(lambda request, before: html) as remote, \
            pytest.raises(ServiceError, match="text/html, not SPARQL results"):
        forward(policy(remote.url("/s")), remote.url("/s"), "ASK {}", later())


def test_a_call_ends_by_the_query_deadline_even_if_its_own_limit_is_longer():
    with silent_listener() as mute:
        started = time.monotonic()
        with pytest.raises(ServiceError) as caught:
            forward(policy(mute.origin, timeout_s=10), mute.origin + "/", "ASK {}", later(0.5))
    assert caught.value.status == 504 and time.monotonic() - started < 2


def test_the_relay_answers_only_for_a_running_query():
    relay = Relay(policy("http://127.0.0.1:9/sparql"))
    try:
        with relay.session(later()) as session:
            address = session.target("http://127.0.0.1:9/sparql")
            assert address.startswith(f"http://127.0.0.1:{relay.start()}/service/")
        with pytest.raises(urllib.error.HTTPError) as caught:  # the query has ended: its address is gone
            urllib.request.urlopen(urllib.request.Request(address, data=b"ASK {}", headers={
                "Content-Type": "application/sparql-query"}), timeout=5)
        assert caught.value.code == 404
    finally:
        relay.close()


@pytest.fixture
def store():
    return ox.Store()


def federated(store, *endpoints, **limits) -> FederatedExecutor:
    settings = Settings(service_allow=endpoints, **limits)
    return FederatedExecutor(InProcessExecutor(settings, lambda: store), settings)


def run(executor, text: str) -> list[dict]:
    body = executor.run(QueryJob(text, JSON)).body
    return json.loads(body)["results"]["bindings"]


def test_repeated_calls_are_answered_once_and_different_ones_are_bounded(store):
    with fake_remote(ok) as remote:
        executor = federated(store, remote.url("/s"))
        try:
            # Oxigraph calls SERVICE inside FILTER EXISTS once per solution, with the same sub-query
            solutions = " ".join(str(n) for n in range(50))
            assert len(run(executor, f"SELECT * {{ VALUES ?n {{ {solutions} }} "
                                     f"FILTER EXISTS {{ SERVICE <{remote.url('/s')}> {{ ?x ?p ?o }} }} }}")) == 50
            assert len(remote.seen) == 1
            branches = " UNION ".join(f"{{ SERVICE <{remote.url('/s')}> {{ ?x ?p{n} ?o }} }}"
                                      for n in range(MAX_CALLS + 1))
            with pytest.raises(ServiceError, match=f"more than {MAX_CALLS} different calls"):
                run(executor, f"SELECT * {{ {branches} }}")
        finally:
            executor.close()


def test_silent_lets_a_listed_endpoint_fail_quietly(store):
    with silent_listener() as mute:
        executor = federated(store, mute.origin + "/sparql", service_timeout_s=0.5)
        try:
            assert run(executor, f"SELECT * {{ SERVICE SILENT <{mute.origin}/sparql> {{ ?s ?p ?o }} }}") == [{}]
            with pytest.raises(ServiceError) as caught:
                run(executor, f"SELECT * {{ SERVICE <{mute.origin}/sparql> {{ ?s ?p ?o }} }}")
            assert caught.value.status == 504
        finally:
            executor.close()


def test_a_nested_service_goes_to_the_outer_endpoint_as_written(store):
    with fake_remote(ok) as outer, fake_remote(ok) as inner:
        executor = federated(store, outer.url("/sparql"), inner.url("/sparql"))
        try:
            run(executor, f"SELECT * {{ SERVICE <{outer.url('/sparql')}> {{ ?x ?p ?o "
                          f"SERVICE <{inner.url('/sparql')}> {{ ?x ?q ?r }} }} }}")
        finally:
            executor.close()
        (seen,) = outer.seen
        assert f"SERVICE <{inner.url('/sparql')}>" in seen.params["query"][0]  # the real address, not the relay's
        assert inner.seen == []  # the outer endpoint runs it; this server never calls it
    nested = f"SELECT * {{ SERVICE <{outer.url('/sparql')}> {{ SERVICE <http://127.0.0.1:9/x> {{ ?x ?q ?r }} }} }}"
    with pytest.raises(QueryRefused, match="is not an endpoint this server may call"):  # listed or refused, nested too
        federated(store, outer.url("/sparql")).run(QueryJob(nested, JSON))
