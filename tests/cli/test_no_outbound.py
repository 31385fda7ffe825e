"""In the default configuration nothing connects out: a build, the server answering the usual requests,
a query and a publish without a remote open no connection to a listener that every outbound route we can
steer points at.

What can be observed from a test: the proxy variables (``HTTP_PROXY``...) name the listener, so anything
that honours them (urllib, requests) would reach it; the base URI is the listener's address, so every IRI
in the graph points at it, and fetching one (``owl:imports``, a vocabulary, a ``SERVICE`` call, a
reconciliation preview) would reach it too. A connection to some other host would not be seen here;
``SERVICE`` and ``LOAD`` refusals are tested with the SPARQL guard.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request

import pytest

from remote_servers import silent_listener
from servers import ROOT, running_server

pytestmark = [pytest.mark.slow, pytest.mark.server]

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:  # the test's own calls: to the server only
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_build_serve_query_and_publish_without_a_remote_connect_nowhere(tmp_path):
    with silent_listener() as listener:
        base = listener.origin
        env = {k: v for k, v in os.environ.items() if not k.startswith("AIWF_") and k.upper() != "NO_PROXY"}
        env.update({name: base for name in PROXY_VARIABLES}, AIWF_BASE=base)
        store = tmp_path / "var" / "store"
        aiwf = [sys.executable, "-m", "nhs_ai_workforce.cli"]

        def run(*arguments: str) -> subprocess.CompletedProcess:
            return subprocess.run([*aiwf, *arguments, "--store", str(store)], env=env, cwd=ROOT,
                                  capture_output=True, timeout=600)

        built = run("build", "--no-dumps")
        assert built.returncode == 0, built.stderr.decode()
        queried = run("query", "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }", "--format", "csv")
        assert queried.returncode == 0, queried.stderr.decode()
        assert run("publish").returncode == 2  # no remote unless one is named: --to is required

        proxies = {name: base for name in PROXY_VARIABLES}
        with running_server(store, env={"AIWF_BASE": base, **proxies}) as origin:
            service = f"SELECT * {{ SERVICE <{base}/sparql> {{ ?s ?p ?o }} }}"
            reconcile = json.dumps({"q0": {"query": "data scientist"}})
            answers = {
                path: get(origin + path)
                for path in ("/health", "/", "/data/", "/data/void", "/doc/initiative/topol-review",
                             "/sparql?" + urllib.parse.urlencode({"query": "SELECT * { ?s ?p ?o } LIMIT 5"}),
                             "/reconcile?" + urllib.parse.urlencode({"queries": reconcile}))
            }
            refused = get(origin + "/sparql?" + urllib.parse.urlencode({"query": service}))
        assert {path: status for path, (status, _) in answers.items()} == dict.fromkeys(answers, 200)
        assert refused[0] == 400  # SERVICE is refused, not followed
        assert listener.accepted == [], "something connected out to the listener"
