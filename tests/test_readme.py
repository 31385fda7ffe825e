"""Every command in the README's ``sh`` blocks runs as written on a local checkout.

The commands run in order, in a scratch directory (with ``queries/`` linked in, so relative
paths work), against a real ``aiwf serve`` over a fresh build made under the server's own
address, with ``AIWF_STORE`` pointing at a temporary store. ``http://127.0.0.1:8000`` in a
command stands for the test server's origin. Not run: ``make`` (it runs this suite), package
installs, and ``aiwf serve`` (the test server is one). ``curl`` gets ``--fail``, so an HTTP
error fails the command. A command naming any other host must be an example for a real domain
and say so by using the ``your.domain`` placeholder.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pyoxigraph as ox
import pytest

from servers import ROOT, free_port, running_server

README = ROOT / "README.md"
LOCAL = "http://127.0.0.1:8000"
SKIPPED = re.compile(r"^(make|apt-get|apt|pip|pip3|npm|npx|sudo)\b|\baiwf serve\b")
URL = re.compile(r"https?://[^\s'\"<>)]+")

pytestmark = [pytest.mark.slow, pytest.mark.server]


def sh_lines(text: str) -> list[str]:
    """The command lines of the ``sh`` blocks, in order (blank and comment lines left out)."""
    lines, inside = [], False
    for line in text.splitlines():
        if line.strip().startswith("```"):
            inside = line.strip() == "```sh" if not inside else False
            continue
        if inside and line.strip() and not line.strip().startswith("#"):
            lines.append(line.strip())
    return lines


def runnable(line: str) -> bool:
    return not SKIPPED.search(line)


def needs_the_network(line: str) -> bool:
    """Does the command talk to a host other than the local server (and is not a marked example)?"""
    hosts = [url for url in URL.findall(line.split(" #")[0]) if not url.startswith(LOCAL)]
    return bool(hosts) and "your.domain" not in line


def test_the_readme_has_commands_to_run():
    lines = [line for line in sh_lines(README.read_text(encoding="utf-8")) if runnable(line)]
    assert any(line.startswith("aiwf query") for line in lines)
    assert any(line.startswith("curl") for line in lines)
    assert sh_lines("```sh\nmake x  # y\n\n# note\n```\ntext\n```sh\naiwf stats\n```") == ["make x  # y", "aiwf stats"]


def test_no_readme_command_needs_the_network():
    offending = [line for line in sh_lines(README.read_text(encoding="utf-8")) if needs_the_network(line)]
    assert offending == [], "run these against http://127.0.0.1:8000, or mark them with https://your.domain"


@pytest.fixture(scope="module")
def local_site(tmp_path_factory):
    """A store built under ``http://127.0.0.1:<port>`` and ``aiwf serve`` on that port: (origin, env, scratch dir)."""
    scratch = tmp_path_factory.mktemp("readme")
    (scratch / "queries").symlink_to(ROOT / "queries")
    port = free_port()
    origin = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIWF_") and k not in ("HOST", "PORT")}
    env.update(
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        AIWF_BASE=origin, AIWF_STORE=str(scratch / "var" / "store"), HOST="127.0.0.1", PORT=str(port),
    )
    built = subprocess.run(["aiwf", "build"], cwd=scratch, env=env, capture_output=True, timeout=600)
    assert built.returncode == 0, built.stderr.decode()
    with running_server(scratch / "var" / "store", env={"AIWF_BASE": origin}, port=port, cwd=scratch):
        yield origin, env, scratch


def as_run(line: str, origin: str) -> str:
    """The command with the test server's origin, and ``curl`` failing on HTTP errors."""
    line = line.replace(LOCAL, origin)
    return re.sub(r"(^|\|\s*)curl ", r"\1curl --fail --show-error ", line)


def test_every_readme_command_runs_against_a_local_server(local_site):
    origin, env, scratch = local_site
    lines = [line for line in sh_lines(README.read_text(encoding="utf-8"))
             if runnable(line) and not needs_the_network(line) and "your.domain" not in line]
    failures = []
    for line in lines:
        done = subprocess.run(["bash", "-c", "set -o pipefail; " + as_run(line, origin)], cwd=scratch, env=env,
                              capture_output=True, timeout=600)
        if done.returncode != 0:
            failures.append(f"$ {line}\nexit {done.returncode}: {done.stderr.decode(errors='replace')[-800:]}")
    assert failures == [], "\n\n".join(failures)
    assert (scratch / "graph.trig").stat().st_size > 0  # `aiwf export ... -o graph.trig`
    assert (scratch / "out.csv").read_text(encoding="utf-8").startswith("Job title")


def test_iris_built_under_the_local_base_dereference(local_site):
    origin, _, _ = local_site
    iri = f"{origin}/id/initiative/ai-roadmap"
    ask = urllib.parse.urlencode({"query": f"ASK {{ <{iri}> ?p ?o }}"})
    with urllib.request.urlopen(f"{origin}/sparql?{ask}", timeout=30) as response:
        assert json.load(response)["boolean"] is True  # the store's IRI is the server's URL

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    with pytest.raises(urllib.error.HTTPError) as answer:
        opener.open(urllib.request.Request(iri, headers={"Accept": "text/turtle"}), timeout=30)
    assert answer.value.code == 303
    document = urllib.parse.urljoin(iri, answer.value.headers["Location"])
    assert document == f"{origin}/doc/initiative/ai-roadmap"
    with urllib.request.urlopen(urllib.request.Request(document, headers={"Accept": "text/turtle"}),
                                timeout=30) as response:
        triples = list(ox.parse(response.read(), format=ox.RdfFormat.TURTLE, base_iri=document))
    assert any(triple.subject == ox.NamedNode(iri) for triple in triples)
