"""``aiwf publish``: the real build sent to a real ``oxigraph serve``, and every way a remote can fail."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pyoxigraph as ox
import pytest

from nhs_ai_workforce.cli import main
from nhs_ai_workforce.core.remote import RemotePolicy, select
from nhs_ai_workforce.core.settings import Settings
from nhs_ai_workforce.store import publication
from nhs_ai_workforce.store.live import current_build_id, open_store
from nhs_ai_workforce.store.publish_remote import named_graphs
from remote_servers import Answer, fake_remote, graph_store, running_oxigraph, silent_listener
from servers import ROOT, free_port

TOPOL = "https://nhs-ai-workforce.example.org/id/initiative/topol-review"
BACKGROUND = "https://nhs-ai-workforce.example.org/id/graph/background"
TITLE = "http://purl.org/dc/terms/title"
RECORD = "https://nhs-ai-workforce.example.org/id/graph/publication"
ONE = RemotePolicy(attempts=1)


@pytest.fixture
def store_args(settings, built_store):
    return ["--store", str(settings.store_path)]


def limits(monkeypatch, attempts: int = 3, timeout: float = 10) -> None:
    monkeypatch.setenv("AIWF_REMOTE_ATTEMPTS", str(attempts))
    monkeypatch.setenv("AIWF_REMOTE_TIMEOUT", str(timeout))


def remote_count(origin: str, where: str) -> int:
    return int(select(f"{origin}/query", f"SELECT (COUNT(*) AS ?n) {{ {where} }}", policy=ONE)[0]["n"])


@pytest.mark.slow
@pytest.mark.server
def test_the_real_build_is_published_to_oxigraph_and_checked(capsys, seeded_store, tmp_path):
    store = open_store(Settings().with_(store_dir=seeded_store))
    with running_oxigraph(tmp_path / "oxigraph") as origin:
        assert main(["publish", "--store", str(seeded_store), "--to", f"{origin}/store"]) == 0
        out, error = capsys.readouterr()
        assert "the remote's counts match the build's" in out and "MISMATCH" not in out
        assert "blank nodes" not in error  # a build has none
        for graph in named_graphs(store):
            ours = sum(1 for _ in store.quads_for_pattern(None, None, None, graph))
            assert remote_count(origin, f"GRAPH {graph} {{ ?s ?p ?o }}") == ours > 0, graph
        title = select(f"{origin}/query", f"SELECT ?t {{ GRAPH <{BACKGROUND}> {{ <{TOPOL}> <{TITLE}> ?t }} }}",
                       policy=ONE)
        ours = next(store.quads_for_pattern(ox.NamedNode(TOPOL), ox.NamedNode(TITLE), None)).object.value
        assert title == [{"t": ours}] and "Topol" in ours
        first = publication.read(f"{origin}/query", Settings().base, policy=ONE)
        # publishing again replaces each graph: the same counts, nothing added; and a new record replaces the last
        assert main(["publish", "--store", str(seeded_store), "--to", f"{origin}/store"]) == 0
        out = capsys.readouterr().out
        assert "HTTP 204" in out and f"PUT {RECORD}: publication " in out
        named = sum(1 for quad in store if isinstance(quad.graph_name, ox.NamedNode))
        assert remote_count(origin, f"GRAPH ?g {{ ?s ?p ?o }} FILTER(?g != <{RECORD}>)") == named
        record = publication.read(f"{origin}/query", Settings().base, policy=ONE)
        assert record.id != first.id and record.id in out
        assert record.build == current_build_id(Settings().with_(store_dir=seeded_store))
        assert record.graphs == tuple(graph.value for graph in named_graphs(store))
        assert dict(record.triples) == {graph.value: sum(1 for _ in store.quads_for_pattern(None, None, None, graph))
                                        for graph in named_graphs(store)}
        assert remote_count(origin, f"GRAPH <{RECORD}> {{ <{RECORD}> <http://purl.org/dc/terms/identifier> ?id }}") == 1


@pytest.mark.server
def test_a_partial_publication_keeps_the_other_graphs_in_its_record(capsys, settings, built_store, tmp_path):
    every = [graph.value for graph in named_graphs(open_store(settings))]
    with running_oxigraph(tmp_path / "oxigraph") as origin:
        assert main(["publish", "--store", str(settings.store_path), "--to", f"{origin}/store"]) == 0
        whole = publication.read(f"{origin}/query", Settings().base, policy=ONE)
        assert main(["publish", "--store", str(settings.store_path), "--to", f"{origin}/store",
                     "--graph", "ontology"]) == 0
        part = publication.read(f"{origin}/query", Settings().base, policy=ONE)
    assert "publication" in capsys.readouterr().out
    assert whole.graphs == part.graphs == tuple(sorted(every)) and part.id > whole.id  # ids sort by time
    assert dict(part.triples) == dict(whole.triples)


def test_the_record_is_written_last_and_a_refused_one_fails_the_command(capsys, store_args):
    store = graph_store()
    record_refused = Answer(403, b"read-only graph")

    def handle(request, before):
        return record_refused if request.method == "PUT" and "publication" in request.path else store(request, before)

    with fake_remote(handle) as remote:
        assert main(["publish", *store_args, "--to", remote.url("/store")]) == 3
    puts = [seen.params["graph"][0] for seen in remote.seen if seen.method == "PUT"]
    assert puts[-1] == RECORD and RECORD not in puts[:-1]
    assert remote.seen[-1].method == "PUT"  # after every graph and every count
    error = capsys.readouterr().err
    assert "HTTP 403" in error and "graph(s) were replaced on the remote before this" in error


def test_a_remote_with_other_counts_fails_naming_each_graph_and_both_counts(capsys, store_args, settings):
    with fake_remote(graph_store(counts=lambda graph: 7)) as remote:
        assert main(["publish", *store_args, "--to", remote.url("/store")]) == 4
    error = capsys.readouterr().err
    store = open_store(settings)
    for graph in named_graphs(store):
        ours = sum(1 for _ in store.quads_for_pattern(None, None, None, graph))
        assert f"mismatch: graph <{graph.value}> has {ours} triples in the build but 7 on the remote" in error


def test_a_remote_wanting_credentials_says_which_variables_to_set(capsys, store_args):
    answer = Answer(401, b"Unauthorized", {"WWW-Authenticate": 'Basic realm="store"'})
    with fake_remote(graph_store(put=answer)) as remote:
        assert main(["publish", *store_args, "--to", remote.url("/store")]) == 3
    assert len(remote.seen) == 1  # a 4xx is never retried
    error = capsys.readouterr().err
    assert "HTTP 401 Unauthorized" in error
    assert "set AIWF_PUBLISH_USER and AIWF_PUBLISH_PASSWORD (HTTP Basic) or AIWF_PUBLISH_TOKEN (Bearer)" in error


def test_a_remote_asking_for_digest_says_it_cannot_be_sent(capsys, store_args):
    answer = Answer(401, b"", {"WWW-Authenticate": 'Digest realm="SPARQL", nonce="x"'})
    with fake_remote(graph_store(put=answer)) as remote:
        assert main(["publish", *store_args, "--to", remote.url("/sparql-graph-crud-auth")]) == 3
    assert "asks for Digest authentication" in capsys.readouterr().err


@pytest.mark.parametrize("status, advice", [
    (403, "does not let anonymous callers do this"),
    (404, "no such endpoint on the remote: check --to"),
    (405, "does not take PUT"),
    (413, "raise its request size limit"),
    (415, "try --format turtle"),
])
def test_each_refusal_is_reported_with_its_status_and_what_to_do(capsys, store_args, status, advice):
    with fake_remote(graph_store(put=Answer(status, b"the remote's own words"))) as remote:
        assert main(["publish", *store_args, "--to", remote.url("/store")]) == 3
    error = capsys.readouterr().err
    assert f"HTTP {status}" in error and "the remote's own words" in error and advice in error


def test_credentials_come_from_the_environment_and_never_show_in_argv_or_output(store_args):
    """Run as a process, so its argv can be read from /proc while the remote holds the first PUT."""
    secret = "pw-never-in-argv-7f3"
    release = threading.Event()

    store = graph_store()

    def held_then_stored(request, before):
        if before == 0:
            release.wait(10)
        return store(request, before)

    env = {k: v for k, v in os.environ.items() if not k.startswith("AIWF_")}
    env.update(AIWF_PUBLISH_USER="publisher", AIWF_PUBLISH_PASSWORD=secret)
    with fake_remote(held_then_stored) as remote:
        process = subprocess.Popen([sys.executable, "-m", "nhs_ai_workforce.cli", "publish", *store_args,
                                    "--to", remote.url("/store")], env=env, cwd=ROOT,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while not remote.seen and time.monotonic() < deadline:
            time.sleep(0.05)
        argv = Path(f"/proc/{process.pid}/cmdline").read_bytes()
        release.set()
        out, error = process.communicate(timeout=60)
    assert process.returncode == 0, error.decode()
    assert b"publish" in argv and secret.encode() not in argv
    assert secret.encode() not in out + error
    expected = "Basic " + base64.b64encode(f"publisher:{secret}".encode()).decode()
    assert {seen.headers.get("Authorization") for seen in remote.seen} == {expected}  # the PUTs and the counts


def test_a_bearer_token_is_sent(monkeypatch, store_args):
    monkeypatch.setenv("AIWF_PUBLISH_TOKEN", "tok-42")
    with fake_remote(graph_store()) as remote:
        assert main(["publish", *store_args, "--to", remote.url("/store")]) == 0
    assert {seen.headers.get("Authorization") for seen in remote.seen} == {"Bearer tok-42"}


def test_two_503s_then_success_is_retried_to_success(capsys, monkeypatch, store_args):
    limits(monkeypatch, attempts=3)
    store = graph_store()
    with fake_remote(lambda request, before: Answer(503, headers={"Retry-After": "0"}) if before < 2
                     else store(request, before)) as remote:
        assert main(["publish", *store_args, "--to", remote.url("/store")]) == 0
    assert [seen.method for seen in remote.seen[:3]] == ["PUT"] * 3
    assert "the remote's counts match" in capsys.readouterr().out


def test_a_remote_that_always_fails_is_given_up_on_after_the_attempts(capsys, monkeypatch, store_args):
    limits(monkeypatch, attempts=2)
    with fake_remote(lambda request, before: Answer(503, b"down for maintenance")) as remote:
        started = time.monotonic()
        assert main(["publish", *store_args, "--to", remote.url("/store")]) == 3
        assert time.monotonic() - started < 5
    assert len(remote.seen) == 2
    error = capsys.readouterr().err
    assert "HTTP 503 Service Unavailable: down for maintenance (after 2 attempts)" in error


def test_a_remote_that_never_answers_times_out(capsys, monkeypatch, store_args):
    """A PUT with no answer in time is not sent again (the remote may still be loading it): exit 124."""
    limits(monkeypatch, attempts=3, timeout=0.3)
    with silent_listener() as listener:
        started = time.monotonic()
        assert main(["publish", *store_args, "--to", f"{listener.origin}/store"]) == 124
        assert time.monotonic() - started < 5
    assert len(listener.accepted) == 1
    error = capsys.readouterr().err
    assert "timed out (no answer within 0.3 s)" in error and "AIWF_REMOTE_TIMEOUT" in error


def test_nothing_listening_is_reported_as_unreachable(capsys, monkeypatch, store_args):
    limits(monkeypatch, attempts=1)
    assert main(["publish", *store_args, "--to", f"http://127.0.0.1:{free_port()}/store"]) == 3
    assert "connection refused" in capsys.readouterr().err


@pytest.mark.parametrize("arguments, env, message", [
    (["--to", "http://ann:pw@127.0.0.1:9/store"], {}, "carries credentials"),
    (["--to", "http://127.0.0.1:9/gsp"], {}, "cannot tell the query endpoint"),
    (["--to", "http://127.0.0.1:9/store", "--graph", "nope"], {}, "no graph 'nope'"),
    (["--to", "ftp://127.0.0.1:9/store"], {}, "not an http(s) URL"),
    (["--to", "http://127.0.0.1:9/store"], {"AIWF_PUBLISH_USER": "ann"}, "AIWF_PUBLISH_PASSWORD is not"),
])
def test_usage_mistakes_are_exit_2_before_any_call(capsys, monkeypatch, store_args, arguments, env, message):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with silent_listener() as listener:
        assert main(["publish", *store_args, *arguments]) == 2
    assert message in capsys.readouterr().err and listener.accepted == []


def test_publishing_needs_a_build(capsys, tmp_path):
    assert main(["publish", "--store", str(tmp_path / "none"), "--to", "http://127.0.0.1:9/store"]) == 2
    assert "run `aiwf build` first" in capsys.readouterr().err
