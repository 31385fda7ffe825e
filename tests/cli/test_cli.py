"""The ``aiwf`` commands, run through ``main`` against a small on-disk store."""

from __future__ import annotations

import csv
import io
import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pyoxigraph as ox
import pytest

from conftest import sample_triples
from nhs_ai_workforce.cli import main
from nhs_ai_workforce.core.terms import oxigraph_quads

COUNT = "SELECT (COUNT(DISTINCT ?s) AS ?n) { ?s a <https://nhs-ai-workforce.example.org/def/aiwf/Review> }"


@pytest.fixture
def store_args(settings, built_store):
    return ["--store", str(settings.store_path)]


def test_query_table_by_default(capsys, store_args):
    assert main(["query", COUNT, *store_args]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].strip() == "n"
    assert lines[2].strip() == "2"
    assert lines[-1] == "(1 row)"


@pytest.mark.parametrize("fmt", ["csv", "tsv", "json"])
def test_query_formats(capsys, store_args, fmt):
    assert main([*store_args, "query", "--format", fmt, COUNT]) == 0  # options before or after
    out = capsys.readouterr().out
    if fmt == "json":
        assert json.loads(out)["results"]["bindings"][0]["n"]["value"] == "2"
    elif fmt == "csv":
        assert list(csv.reader(io.StringIO(out))) == [["n"], ["2"]]
    else:
        assert out.splitlines() == ["?n", "2"]


def test_project_prefixes_are_predeclared(capsys, store_args):
    query = "SELECT (COUNT(DISTINCT ?s) AS ?n) { ?s a aiwf:Review ; rdfs:label ?l }"
    assert main(["query", "--format", "csv", query, *store_args]) == 0
    assert capsys.readouterr().out.splitlines() == ["n", "2"]


def test_query_from_file_and_stdin(capsys, monkeypatch, tmp_path, store_args):
    query_file = tmp_path / "count.rq"
    query_file.write_text(COUNT)
    assert main(["query", "-f", str(query_file), "--format", "csv", *store_args]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "2"
    monkeypatch.setattr(sys, "stdin", io.StringIO(COUNT))
    assert main(["query", "-", "--format", "csv", *store_args]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "2"


def test_malformed_query_is_a_usage_error(capsys, store_args):
    assert main(["query", "SELEC nothing", *store_args]) == 2
    assert "malformed query" in capsys.readouterr().err


def test_missing_query_file_is_a_usage_error(capsys, tmp_path, store_args):
    assert main(["query", "-f", str(tmp_path / "nope.rq"), *store_args]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_commands_without_a_store_say_to_build(capsys, tmp_path):
    assert main(["stats", "--store", str(tmp_path / "var" / "store")]) == 2
    assert "run `aiwf build` first" in capsys.readouterr().err


def test_store_comes_from_the_environment(capsys, monkeypatch, settings, built_store):
    monkeypatch.setenv("AIWF_STORE", str(settings.store_path))
    assert main(["query", "--format", "csv", COUNT]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "2"


def test_bad_arguments_exit_with_2(capsys):
    with pytest.raises(SystemExit) as caught:
        main(["query", "--format", "html", "ASK {}"])
    assert caught.value.code == 2
    with pytest.raises(SystemExit) as caught:
        main([])
    assert caught.value.code == 2


def test_help_documents_exit_codes(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "0  success" in out and "1  the data are invalid" in out and "2  usage" in out
    assert "124  query: stopped at the time limit" in out and "130  stopped by Ctrl-C" in out


def test_stats(capsys, ns, store_args):
    assert main(["stats", *store_args]) == 0
    out = capsys.readouterr().out
    assert f"{len(sample_triples(ns)) - 1} distinct triples" in out
    rows = {line.split()[0]: line.split()[1] for line in out.splitlines() if len(line.split()) == 2}
    assert rows["background"] == "10" and rows["ontology"] == "3" and rows["aiwf:Review"] == "2"


def test_export_to_file_and_stdout(capsysbinary, tmp_path, dataset, store_args):
    target = tmp_path / "graph.trig"
    assert main(["export", "--format", "trig", "-o", str(target), *store_args]) == 0
    assert set(ox.parse(target.read_bytes(), format=ox.RdfFormat.TRIG)) == set(
        oxigraph_quads(dataset)
    )
    assert main(["export", "--format", "ntriples", *store_args]) == 0
    out = capsysbinary.readouterr().out
    triples = {q.triple for q in ox.parse(out, format=ox.RdfFormat.N_TRIPLES)}
    assert triples == {q.triple for q in oxigraph_quads(dataset)}


def test_export_rdfxml_writes_the_union_of_the_graphs(capsysbinary, dataset, store_args):
    assert main(["export", "--format", "rdfxml", *store_args]) == 0
    out = capsysbinary.readouterr().out
    assert out.startswith(b"<?xml")
    triples = {q.triple for q in ox.parse(out, format=ox.RdfFormat.RDF_XML)}
    assert triples == {q.triple for q in oxigraph_quads(dataset)}  # the triple in two graphs: once


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_serve_answers_sparql_over_http(settings, built_store):
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "nhs_ai_workforce.cli", "serve", "--store",
         str(settings.store_path), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{base}/health", timeout=5) as response:
                    health = json.load(response)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        queries = health.pop("queries")
        assert health == {"status": "ok", "build": built_store.name, "replay": {"recorded": 0, "replayed": 0},
                          "lane": {"answered": 0, "handed": 0}}
        assert queries.pop("in_memory") <= 2  # the query processes that have started so far
        assert queries == {"running": 0, "waiting": 0, "lent": 0, "loans": 0, "asked_back": 0, "copying": 0}
        url = f"{base}/sparql?" + urllib.parse.urlencode({"query": COUNT})
        request = urllib.request.Request(url, headers={"Accept": "text/csv"})
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.read().decode().splitlines() == ["n", "2"]
        with urllib.request.urlopen(f"{base}/health", timeout=5) as response:
            assert json.load(response)["queries"]["in_memory"] >= 1  # a small store: copied as it is opened
    finally:
        server.terminate()
        server.wait(timeout=10)


PROJECT = Path(__file__).resolve().parents[2]

def _copy_project(root: Path) -> None:
    for name in ("seeds", "ontology", "shapes"):
        shutil.copytree(PROJECT / name, root / name)


@pytest.mark.slow
def test_build_then_query_the_real_graph(capsys, monkeypatch, tmp_path):
    _copy_project(tmp_path)
    monkeypatch.setenv("AIWF_ROOT", str(tmp_path))
    assert main(["build"]) == 0
    out = capsys.readouterr().out
    assert "background" in out and "seconds" in out
    assert (tmp_path / "data" / "nhs-ai-workforce.nq").exists()
    assert main(["query", "--format", "csv", "ASK { ?s a ?c }"]) == 0


@pytest.mark.slow
def test_build_with_a_bad_seed_cell_exits_1_and_keeps_the_old_store(capsys, monkeypatch, tmp_path):
    _copy_project(tmp_path)
    monkeypatch.setenv("AIWF_ROOT", str(tmp_path))
    assert main(["build", "--no-dumps"]) == 0
    before = (tmp_path / "var" / "store").resolve()
    seeds = tmp_path / "seeds" / "initiatives.csv"
    rows = list(csv.reader(io.StringIO(seeds.read_text(encoding="utf-8"))))
    issued = rows[0].index("issued")
    rows[2][issued] = "2021-13"
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    seeds.write_text(buffer.getvalue(), encoding="utf-8")
    capsys.readouterr()
    assert main(["build"]) == 1
    err = capsys.readouterr().err
    assert "seeds/initiatives.csv:3 column 'issued'" in err
    assert (tmp_path / "var" / "store").resolve() == before
    assert not (tmp_path / "data").exists()


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (b",Topol,", b",To\x00pol,", "column 'family_name': control character U+0000 (NUL) at character 3"),
        (b",Topol,", b",T\xf6pol,", "column 'family_name': not UTF-8 at byte"),
        (b"https://topol.hee.nhs.uk/the-topol-review/", b"https://topol.hee.nhs.uk/the>topol-review/",
         "column 'web_address': not an IRI: '>'"),
    ],
)
def test_bad_seed_bytes_exit_1_with_a_located_message_and_no_traceback(tmp_path, old, new, message):
    _copy_project(tmp_path)
    file = "citations.csv" if old.startswith(b"https") else "people.csv"
    path = tmp_path / "seeds" / file
    raw = path.read_bytes()
    line = raw[: raw.index(old)].count(b"\n") + 1
    path.write_bytes(raw.replace(old, new, 1))
    import os

    env = {**os.environ, "AIWF_ROOT": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "nhs_ai_workforce.cli", "build"], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert f"seeds/{file}:{line} {message}" in done.stderr
    assert not (tmp_path / "data").exists() and not (tmp_path / "var" / "store").exists()


@pytest.mark.parametrize("error", ["dump", "blank", "disk"])
def test_a_build_failing_while_writing_exits_1_with_a_message(capsys, monkeypatch, tmp_path, error):
    import errno
    import os

    from nhs_ai_workforce.core.terms import BlankNodeError
    from nhs_ai_workforce.pipeline import build as build_module
    from nhs_ai_workforce.store.dumps import DumpError

    raised = {
        "dump": DumpError("triple in the default graph DEFAULT, not a project graph: <a> <b> <c>"),
        "blank": BlankNodeError("blank node _:b0 found; every resource needs an IRI"),
        "disk": OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(tmp_path / "data" / ".staging-x")),
    }[error]

    def failing_build(settings, **options):
        raise raised

    monkeypatch.setattr(build_module, "build", failing_build)
    monkeypatch.setenv("AIWF_ROOT", str(tmp_path))
    assert main(["build"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("build failed; the live store and data/ are unchanged.\n")
    assert str(raised) in err and "Traceback" not in err


def _builds(settings, ns, count: int) -> list[str]:
    from rdflib import Literal
    from rdflib.namespace import RDFS

    from conftest import make_dataset
    from nhs_ai_workforce.store.builds import load_store, swap_in

    made = []
    for i in range(count):
        rows = [("background", ns.thing("x", "a"), RDFS.label, Literal(f"build {i}"))]
        new_dir = load_store(oxigraph_quads(make_dataset(ns, rows)), settings)
        swap_in(new_dir, settings)
        made.append(new_dir.name)
    return made


def test_builds_lists_the_kept_builds_and_the_live_one(capsys, settings, ns):
    first, second = _builds(settings, ns, 2)
    assert main(["builds", "--store", str(settings.store_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    live = next(line for line in lines if second in line)
    older = next(line for line in lines if first in line)
    assert "live" in live and "live" not in older
    assert lines.index(live) < lines.index(older)
    assert " 1 " in f" {live} "  # one quad


def test_rollback_and_back_again(capsys, settings, ns):
    from nhs_ai_workforce.store.live import current_build_id

    first, second = _builds(settings, ns, 2)
    store = ["--store", str(settings.store_path)]
    assert main(["rollback", *store]) == 0
    assert f"-> {first} (was {second})" in capsys.readouterr().out
    assert current_build_id(settings) == first
    assert main(["query", "--format", "csv", "SELECT ?l { ?s rdfs:label ?l }", *store]) == 0
    assert capsys.readouterr().out.splitlines() == ["l", "build 0"]
    assert main(["rollback", second, *store]) == 0
    assert current_build_id(settings) == second


def test_rollback_with_nothing_to_roll_back_to_is_a_usage_error(capsys, settings, ns):
    (_only,) = _builds(settings, ns, 1)
    assert main(["rollback", "--store", str(settings.store_path)]) == 2
    assert "no build before the live build" in capsys.readouterr().err
    assert main(["rollback", "no-such-build", "--store", str(settings.store_path)]) == 2
    assert "no complete build 'no-such-build' is kept" in capsys.readouterr().err
