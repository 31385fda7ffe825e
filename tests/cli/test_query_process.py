"""``aiwf query`` runs its query in a killable process: stopped at ``AIWF_QUERY_TIMEOUT`` and by Ctrl-C.

Each test runs the real command as a subprocess and marks it with an environment variable, so
it can find every process the command started (the query's process) and check
that none is left once the command has exited.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from conftest import numbered_store

#: A cartesian product of the store with itself four times: hours of work on any store.
RUNAWAY = "SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
MARK = "AIWF_TEST_PROCESS_MARK"


def aiwf_command() -> list[str]:
    aiwf = Path(sys.executable).with_name("aiwf")
    return [str(aiwf)] if aiwf.exists() else [sys.executable, "-m", "nhs_ai_workforce.cli"]


def marked(mark: str) -> dict[int, int]:
    """pid -> parent pid of the live (not zombie) processes whose environment carries ``mark``."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if f"{MARK}={mark}".encode() not in (entry / "environ").read_bytes().split(b"\0"):
                continue
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        state, ppid = stat.rsplit(")", 1)[1].split()[:2]
        if state != "Z":
            found[int(entry.name)] = int(ppid)
    return found


def wait_until(condition, what: str, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting: {what}")
        time.sleep(0.05)


def query_running(command: subprocess.Popen, mark: str) -> bool:
    """Has the query's process started? It is the command's child."""
    return command.pid in marked(mark).values()


@pytest.fixture
def store(settings) -> Path:
    return numbered_store(settings).store_path


def start(store: Path, mark: str, **env: str) -> subprocess.Popen:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("AIWF_")}
    environment.update(AIWF_STORE=str(store), **{MARK: mark}, **env)
    return subprocess.Popen([*aiwf_command(), "query", RUNAWAY], env=environment, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)


def test_a_runaway_query_is_stopped_at_the_time_limit(store):
    mark = uuid.uuid4().hex
    started = time.monotonic()
    command = start(store, mark, AIWF_QUERY_TIMEOUT="1")
    out, err = command.communicate(timeout=120)
    took = time.monotonic() - started
    assert command.returncode == 124, err
    assert out == b""
    assert err.decode().strip() == (
        "aiwf query: the query was stopped after 1 s (AIWF_QUERY_TIMEOUT); narrow it, add LIMIT, or raise the limit"
    )
    assert took < 9  # not the default 10 s limit, and not the hours the query would take
    wait_until(lambda: not marked(mark), "the query's processes to exit")


def test_ctrl_c_kills_the_query_process_and_exits_130(store):
    mark = uuid.uuid4().hex
    command = start(store, mark, AIWF_QUERY_TIMEOUT="600")
    try:
        wait_until(lambda: query_running(command, mark), "the query's process to start")
        os.killpg(command.pid, signal.SIGINT)  # what Ctrl-C in a terminal does: the whole group
        _, err = command.communicate(timeout=30)
    finally:
        if command.poll() is None:
            command.kill()
            command.wait()
    assert command.returncode == 130, err
    assert err.decode().strip() == "aiwf query: interrupted"
    wait_until(lambda: not marked(mark), "the query's processes to exit")


def test_sigint_to_the_command_alone_stops_it_too(store):
    mark = uuid.uuid4().hex
    command = start(store, mark, AIWF_QUERY_TIMEOUT="600")
    try:
        wait_until(lambda: query_running(command, mark), "the query's process to start")
        command.send_signal(signal.SIGINT)  # `kill -INT <pid>`: only aiwf gets it
        command.communicate(timeout=30)
    finally:
        if command.poll() is None:
            command.kill()
            command.wait()
    assert command.returncode == 130
    wait_until(lambda: not marked(mark), "the query's processes to exit")


def test_a_quick_query_still_answers(store):
    result = subprocess.run(
        [*aiwf_command(), "query", "--format", "csv", "SELECT (COUNT(*) AS ?n) { ?s aiwf:number ?o }"],
        env={**{k: v for k, v in os.environ.items() if not k.startswith("AIWF_")}, "AIWF_STORE": str(store)},
        capture_output=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode().splitlines() == ["n", "500"]
