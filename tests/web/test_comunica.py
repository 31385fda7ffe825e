"""Comunica, the reference Linked Data query engine, unmodified against a real `aiwf serve`.

Comunica comes from npm as package.json pins it and runs with the machine's Node.js through
``comunica_query.mjs`` (one process per query). Its sources are the endpoint, the ``/id/`` URIs
and ``/doc/`` documents, every dump the VoID lists, and the VoID itself; for a pattern on the
default graph every document gives the rows the ``.ttl`` document gives. Link traversal runs on a
build whose base is the server's own origin (``http://127.0.0.1:PORT``) and follows ``/id/`` links
across three kinds of document. Everything stays on loopback: the script notes each URL fetched.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import pytest

import servers
from nhs_ai_workforce.core.settings import Settings
from servers import ROOT, running_server

pytestmark = [pytest.mark.slow, pytest.mark.server]

SCRIPT = Path(__file__).with_name("comunica_query.mjs")
PACKAGES = ("@comunica/query-sparql", "@comunica/query-sparql-link-traversal")
DEFAULT_BASE = Settings().base
ROADMAP = "/id/initiative/ai-roadmap"
THINGS = (ROADMAP, "/id/organisation/health-education-england", "/id/workforce-group/diagnostic-radiographer")
VOID = "http://rdfs.org/ns/void#"
#: The negotiated /id/ URI and /doc/ document (Comunica asks for N-Quads first) and each triple syntax.
DOCUMENT_SOURCES = ("{id}", "{doc}", "{doc}.ttl", "{doc}.nt", "{doc}.jsonld", "{doc}.rdf")
#: The files that keep each triple in the named graph it comes from.
QUAD_DOCUMENTS = ("{doc}.trig", "{doc}.nq")
QUERY_TIMEOUT_S = 120


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@pytest.fixture(scope="module")
def node() -> str:
    """Node.js with the Comunica packages package.json pins; off CI a missing one skips, in CI it fails."""
    binary = shutil.which("node")
    missing = "node is not installed (Debian: apt-get install nodejs npm)" if binary is None else next(
        (f"{name} is not installed in node_modules (run make setup)" for name in PACKAGES
         if not (ROOT / "node_modules" / name / "package.json").exists()), None)
    if missing:
        if _in_ci():
            pytest.fail(f"{missing}; CI must run the Comunica tests")
        pytest.skip(missing)
    return binary


def comunica(node: str, query: str, *sources: str, traverse: bool = False) -> dict:
    """Run ``query`` in Comunica over ``sources``: {"variables", "bindings", "fetched"}."""
    command = [node, str(SCRIPT), *(["--traverse"] if traverse else [])]
    for source in sources:
        command += ["--source", source]
    done = subprocess.run([*command, query], cwd=ROOT, capture_output=True, text=True, timeout=QUERY_TIMEOUT_S)
    assert done.returncode == 0, f"Comunica failed over {sources}:\n{done.stderr[-3000:]}"
    answer = json.loads(done.stdout)
    outside = [url for url in answer["fetched"] if urlsplit(url).hostname != "127.0.0.1"]
    assert outside == [], f"Comunica fetched from other hosts: {outside}"
    return answer


def rows(answer: dict) -> Counter:
    """The bindings as a multiset of hashable rows."""
    return Counter(tuple(sorted((name, json.dumps(term, sort_keys=True)) for name, term in b.items()))
                   for b in answer["bindings"])


def about(iri: str, *, graph: bool = False, distinct: bool = False) -> str:
    pattern = f"<{iri}> ?p ?o"
    return f"SELECT {'DISTINCT ' if distinct else ''}?p ?o {{ {f'GRAPH ?g {{ {pattern} }}' if graph else pattern} }}"


# -- default base: the server of conftest ---------------------------------------------------------


def test_package_json_pins_the_comunica_that_is_installed():
    manifest = json.loads((ROOT / "package.json").read_text())
    pinned = {**manifest.get("dependencies", {}), **manifest.get("devDependencies", {})}
    lock = json.loads((ROOT / "package-lock.json").read_text())["packages"]
    for name in PACKAGES:
        assert re.fullmatch(r"\d+\.\d+\.\d+", pinned.get(name, "")), f"{name} is not pinned to one version"
        assert lock[f"node_modules/{name}"]["version"] == pinned[name]
        installed = ROOT / "node_modules" / name / "package.json"
        if installed.exists():
            assert json.loads(installed.read_text())["version"] == pinned[name]


@pytest.fixture(scope="module")
def reference(node, seeded_server) -> dict[str, Counter]:
    """Path of each thing -> the rows of ``SELECT ?p ?o { <thing> ?p ?o }`` over its ``.ttl`` document."""
    answers = {}
    for path in THINGS:
        doc = path.replace("/id/", "/doc/", 1)
        answers[path] = rows(comunica(node, about(DEFAULT_BASE + path), f"{seeded_server}{doc}.ttl"))
        assert sum(answers[path].values()) >= 10, f"the .ttl document of {path} gives too few rows"
    return answers


@pytest.mark.parametrize("path", THINGS)
@pytest.mark.parametrize("source", DOCUMENT_SOURCES)
def test_every_document_gives_the_rows_of_the_turtle_document(node, seeded_server, reference, path, source):
    url = seeded_server + source.format(id=path, doc=path.replace("/id/", "/doc/", 1))
    answer = comunica(node, about(DEFAULT_BASE + path), url)
    assert rows(answer) == reference[path]
    assert answer["fetched"][0] == url


@pytest.mark.parametrize("path", THINGS)
@pytest.mark.parametrize("source", QUAD_DOCUMENTS)
def test_the_quad_files_give_the_rows_of_the_turtle_document_from_their_named_graphs(
        node, seeded_server, reference, path, source):
    url = seeded_server + source.format(doc=path.replace("/id/", "/doc/", 1))
    answer = comunica(node, about(DEFAULT_BASE + path, graph=True, distinct=True), url)
    assert rows(answer) == Counter(dict.fromkeys(reference[path], 1))


@pytest.mark.parametrize("typed", [True, False], ids=["sparql-source", "detected-from-service-description"])
def test_the_endpoint_as_a_source_gives_the_rows_of_the_turtle_document(node, seeded_server, reference, typed):
    endpoint = f"{seeded_server}/sparql"
    answer = comunica(node, about(DEFAULT_BASE + ROADMAP), f"sparql@{endpoint}" if typed else endpoint)
    assert rows(answer) == reference[ROADMAP]
    # the rows come from the endpoint's answers (Comunica sends the query by POST), not from a document
    assert answer["fetched"] and {urlsplit(url).path for url in answer["fetched"]} == {"/sparql"}


def _dumps(node: str, origin: str) -> list[str]:
    """The URL of every dump the VoID lists (``void:dataDump``), on this server."""
    answer = comunica(node, f"SELECT DISTINCT ?dump {{ ?d <{VOID}dataDump> ?dump }}", f"{origin}/.well-known/void")
    dumps = sorted(origin + urlsplit(b["dump"]["value"]).path for b in answer["bindings"])
    assert dumps, "the VoID lists no dumps"
    return dumps


def test_every_dump_gives_the_rows_of_the_turtle_document(node, seeded_server, reference):
    """Quad dumps keep each triple in its named graph; the Turtle dumps are triples (the default graph).
    The ``.gz`` files are the same bytes compressed, sent as ``application/gzip``: no RDF client parses them."""
    dumps = _dumps(node, seeded_server)
    gzipped = [url for url in dumps if url.endswith(".gz")]
    plain = [url for url in dumps if not url.endswith(".gz")]
    assert {url + ".gz" for url in plain if "/graphs/" not in url} <= set(gzipped)
    expected = {path: Counter(dict.fromkeys(found, 1)) for path, found in reference.items()}
    graph_files = [url for url in plain if "/graphs/" in url]
    assert len(graph_files) >= 6
    for path in THINGS:
        iri = DEFAULT_BASE + path
        for url in plain:
            if url in graph_files:
                continue
            quads = url.endswith((".trig", ".nq", ".jsonld"))
            answer = comunica(node, about(iri, graph=quads, distinct=True), url)
            assert rows(answer) == expected[path], f"{url} about {path}"
        # the graph files together are the union of the named graphs
        answer = comunica(node, about(iri, distinct=True), *graph_files)
        assert rows(answer) == expected[path], f"the graph files about {path}"


@pytest.mark.parametrize("source", ["/.well-known/void", "/data/void", "/data/"])
def test_the_void_is_a_source(node, seeded_server, source):
    dataset = f"{DEFAULT_BASE}/data/void#dataset"
    answer = comunica(node, f"""SELECT ?endpoint ?space ?triples ?pattern {{
        <{dataset}> <{VOID}sparqlEndpoint> ?endpoint ; <{VOID}uriSpace> ?space ; <{VOID}triples> ?triples .
        OPTIONAL {{ ?linkset <{VOID}uriRegexPattern> ?pattern }} }}""", seeded_server + source)
    found = answer["bindings"]
    assert found, f"{source} does not describe {dataset}"
    assert {b["endpoint"]["value"] for b in found} == {f"{DEFAULT_BASE}/sparql"}
    assert {b["space"]["value"] for b in found} == {f"{DEFAULT_BASE}/"}
    # void:triples counts the distinct triples of the union: the Turtle dump's
    counted = comunica(node, "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }", f"{seeded_server}/data/nhs-ai-workforce.ttl")
    assert {int(b["triples"]["value"]) for b in found} == {int(counted["bindings"][0]["n"]["value"])}
    # Comunica 4 and later compile each void:uriRegexPattern with `new RegExp(pattern, 'u')` when
    # they read a VoID (3.3.0, pinned here, does not yet): in this Node.js, none may be rejected
    patterns = {b["pattern"]["value"] for b in found if "pattern" in b}
    check = subprocess.run([node, "-e", "for (const p of JSON.parse(process.argv[1])) new RegExp(p, 'u')",
                            json.dumps(sorted(patterns))], capture_output=True, text=True, timeout=30)
    assert check.returncode == 0, check.stderr


# -- link traversal on a build under the server's own origin -------------------------------------


@pytest.fixture(scope="module")
def local_server(node, tmp_path_factory):
    """`aiwf serve` at http://127.0.0.1:PORT over a store built with that origin as its base."""
    from nhs_ai_workforce.pipeline.build import build

    port = servers.free_port()
    base = f"http://127.0.0.1:{port}"
    store = tmp_path_factory.mktemp("local-base") / "store"
    build(Settings().with_(store_dir=store, base=base), write_dumps=False)
    with running_server(store, env={"AIWF_BASE": base}, port=port) as origin:
        assert origin == base
        yield origin


def test_link_traversal_follows_id_links_across_three_documents(node, local_server):
    base = local_server
    query = f"""PREFIX aiwf: <{base}/def/aiwf/> PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
        SELECT ?usage ?group ?label {{
          <{base}{ROADMAP}> aiwf:hasTermUsage ?usage . ?usage aiwf:concept ?group . ?group skos:prefLabel ?label }}"""
    # no sources: the IRIs in the query are the seeds, and the links it matches are followed
    answer = comunica(node, query, traverse=True)
    expected = comunica(node, query, f"sparql@{base}/sparql")
    assert len(expected["bindings"]) >= 3
    assert rows(answer) == rows(expected)
    kinds = {urlsplit(url).path.split("/")[2] for url in answer["fetched"] if urlsplit(url).path.startswith("/id/")}
    assert {"initiative", "term-usage", "workforce-group"} <= kinds
    assert len(set(answer["fetched"])) >= 3
