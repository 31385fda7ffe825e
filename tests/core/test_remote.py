"""Remote calls (core/remote.py) against small local servers: retries, time limits, credentials, errors."""

from __future__ import annotations

import io
import time

import pytest

from nhs_ai_workforce.core.remote import (
    Credentials,
    CredentialsError,
    RemoteAnswerError,
    RemotePolicy,
    RemoteStatusError,
    RemoteTimeout,
    RemoteUnreachable,
    check_url,
    request,
    select,
)
from remote_servers import Answer, count_answer, fake_remote, silent_listener
from servers import free_port

FAST = RemotePolicy(connect_timeout_s=2, read_timeout_s=2, attempts=3, backoff_s=0.01)


def fixed(*answers: Answer):
    """A handler giving ``answers`` in turn, then the last one for ever."""
    return lambda request, before: answers[min(before, len(answers) - 1)]


def test_a_2xx_answer_is_returned_with_its_body_and_headers():
    with fake_remote(fixed(Answer(200, b"hello", {"X-Kind": "test"}))) as remote:
        answer = request("GET", remote.url("/thing"), policy=FAST)
    assert (answer.status, answer.body, answer.header("x-kind")) == (200, b"hello", "test")
    assert remote.seen[0].headers["User-Agent"].startswith("aiwf")


def test_503_twice_then_204_succeeds_and_a_file_body_is_sent_whole_each_time():
    waits: list[float] = []
    body = io.BytesIO(b"<a> <b> <c> .\n" * 1000)
    with fake_remote(fixed(Answer(503), Answer(503), Answer(204))) as remote:
        answer = request("PUT", remote.url("/store?graph=g"), body=body, policy=FAST, sleep=waits.append)
    assert answer.status == 204
    assert [seen.body for seen in remote.seen] == [body.getvalue()] * 3
    assert waits == [0.01, 0.02]  # backoff doubles


def test_a_remote_that_always_fails_is_given_up_after_the_attempts():
    waits: list[float] = []
    with (
        fake_remote(fixed(Answer(503, b"overloaded, come back later"))) as remote,
        pytest.raises(RemoteStatusError) as failure,
    ):
        request("PUT", remote.url("/store"), body=b"x", policy=FAST, sleep=waits.append)
    assert len(remote.seen) == 3 and len(waits) == 2
    error = failure.value
    assert (error.status, error.attempts) == (503, 3)
    assert "HTTP 503" in str(error) and "overloaded, come back later" in str(error) and "after 3 attempts" in str(error)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 405, 413, 415])
def test_4xx_is_never_retried(status):
    with fake_remote(fixed(Answer(status, b"no"))) as remote, pytest.raises(RemoteStatusError) as failure:
        request("PUT", remote.url("/store"), body=b"x", policy=FAST, sleep=lambda s: None)
    assert len(remote.seen) == 1
    assert failure.value.status == status and failure.value.attempts == 1


def test_429_is_retried_after_the_wait_the_remote_asks_for():
    waits: list[float] = []
    with fake_remote(fixed(Answer(429, headers={"Retry-After": "2"}), Answer(200, b"ok"))) as remote:
        assert request("GET", remote.url("/q"), policy=FAST, sleep=waits.append).body == b"ok"
    assert waits == [2.0]


def test_a_retry_after_longer_than_the_longest_wait_ends_the_retries():
    with (
        fake_remote(fixed(Answer(503, headers={"Retry-After": "3600"}), Answer(200))) as remote,
        pytest.raises(RemoteStatusError),
    ):
        request("GET", remote.url("/q"), policy=FAST, sleep=lambda s: None)
    assert len(remote.seen) == 1


def test_retries_really_wait_and_stay_within_their_bound():
    policy = RemotePolicy(connect_timeout_s=1, read_timeout_s=1, attempts=4, backoff_s=0.1)
    with fake_remote(fixed(Answer(502))) as remote:
        started = time.monotonic()
        with pytest.raises(RemoteStatusError):
            request("GET", remote.url("/q"), policy=policy)
        elapsed = time.monotonic() - started
    assert len(remote.seen) == 4
    assert 0.6 <= elapsed < 3  # 0.1 + 0.2 + 0.4 s of waiting


def test_nothing_listening_is_unreachable_after_the_attempts():
    url = f"http://127.0.0.1:{free_port()}/store"
    with pytest.raises(RemoteUnreachable, match="connection refused") as failure:
        request("GET", url, policy=FAST, sleep=lambda s: None)
    assert failure.value.attempts == 3


def test_an_unknown_host_is_not_retried():
    with pytest.raises(RemoteUnreachable, match="unknown host") as failure:
        request("GET", "http://no-such-host.invalid/store", policy=FAST, sleep=lambda s: None)
    assert failure.value.attempts == 1


def test_a_remote_that_accepts_and_never_answers_times_out_within_the_limit():
    policy = RemotePolicy(connect_timeout_s=1, read_timeout_s=0.3, attempts=2, backoff_s=0.05)
    with silent_listener() as listener:
        started = time.monotonic()
        with pytest.raises(RemoteTimeout, match=r"no answer within 0\.3 s") as failure:
            request("GET", f"{listener.origin}/query", policy=policy)
        elapsed = time.monotonic() - started
    assert failure.value.attempts == 2 and len(listener.accepted) == 2
    assert elapsed < 2


def test_a_put_that_gets_no_answer_in_time_is_not_sent_again():
    policy = RemotePolicy(connect_timeout_s=1, read_timeout_s=0.3, attempts=3, backoff_s=0.05)
    with silent_listener() as listener, pytest.raises(RemoteTimeout) as failure:
        request("PUT", f"{listener.origin}/store", body=b"<a> <b> <c> .", policy=policy)
    assert failure.value.attempts == 1 and len(listener.accepted) == 1


def test_a_deadline_bounds_the_whole_call_whatever_the_read_limit():
    policy = RemotePolicy(connect_timeout_s=5, read_timeout_s=30, attempts=5, backoff_s=0.05)
    with silent_listener() as listener:
        started = time.monotonic()
        with pytest.raises(RemoteTimeout):
            request("GET", f"{listener.origin}/query", policy=policy, deadline_s=0.5)
        assert time.monotonic() - started < 1.5


def test_an_answer_over_the_size_limit_is_refused_not_read():
    policy = RemotePolicy(attempts=1, max_answer_bytes=1000)
    with (
        fake_remote(fixed(Answer(200, b"x" * 5000))) as remote,
        pytest.raises(RemoteAnswerError, match="over 1000 bytes"),
    ):
        request("GET", remote.url("/big"), policy=policy)


def test_an_early_answer_to_a_large_body_is_reported_with_its_status():
    """A server refusing a body it never reads (413) is reported as its answer, not as a dropped connection."""
    with (
        fake_remote(fixed(Answer(413, b"payload too large")), read_body=False) as remote,
        pytest.raises(RemoteStatusError) as failure,
    ):
        request("PUT", remote.url("/store"), body=io.BytesIO(b"x" * (4 * 1024 * 1024)), policy=FAST,
                sleep=lambda s: None)
    assert failure.value.status == 413 and "payload too large" in str(failure.value)


def test_basic_credentials_are_sent_and_never_shown():
    credentials = Credentials.from_env("T", {"T_USER": "ann", "T_PASSWORD": "s3cret-pw"})
    with fake_remote(fixed(Answer(403, b"forbidden"))) as remote, pytest.raises(RemoteStatusError) as failure:
        request("PUT", remote.url("/store"), body=b"x", policy=FAST, credentials=credentials)
    assert remote.seen[0].headers["Authorization"] == "Basic YW5uOnMzY3JldC1wdw=="
    assert "s3cret" not in str(failure.value) and "YW5u" not in str(failure.value)
    assert "s3cret" not in repr(credentials)


def test_a_bearer_token_is_sent():
    credentials = Credentials.from_env("T", {"T_TOKEN": "tok-123"})
    with fake_remote(fixed(Answer(204))) as remote:
        request("PUT", remote.url("/store"), body=b"x", policy=FAST, credentials=credentials)
    assert remote.seen[0].headers["Authorization"] == "Bearer tok-123"


@pytest.mark.parametrize("env, message", [
    ({"T_USER": "ann"}, "T_USER is set but T_PASSWORD is not"),
    ({"T_PASSWORD": "pw"}, "T_PASSWORD is set but T_USER is not"),
    ({"T_TOKEN": "t", "T_USER": "ann", "T_PASSWORD": "pw"}, "either T_TOKEN or"),
    ({"T_USER": "a:b", "T_PASSWORD": "pw"}, "may not contain ':'"),
])
def test_incomplete_or_contradictory_credentials_are_refused(env, message):
    with pytest.raises(CredentialsError, match=message):
        Credentials.from_env("T", env)


@pytest.mark.parametrize("url", ["ftp://h/store", "http:///store", "http://ann:pw@h/store", "http://h:port/x"])
def test_urls_that_cannot_or_must_not_be_used_are_refused(url):
    with pytest.raises(ValueError):
        check_url(url)


def test_select_reads_sparql_json_results():
    with fake_remote(fixed(count_answer(42))) as remote:
        assert select(remote.url("/query"), "SELECT (COUNT(*) AS ?n) {}", policy=FAST) == [{"n": "42"}]
    assert remote.seen[0].headers["Accept"] == "application/sparql-results+json"
    assert remote.seen[0].params["query"] == ["SELECT (COUNT(*) AS ?n) {}"]


def test_select_refuses_an_answer_that_is_not_sparql_results():
    with (
        fake_remote(fixed(Answer(200, b"<html>welcome</html>"))) as remote,
        pytest.raises(RemoteAnswerError, match="not SPARQL JSON results"),
    ):
        select(remote.url("/query"), "SELECT * {}", policy=FAST)
