"""Slow and idle clients cannot starve `aiwf serve`: requests are read whole before a thread
sees them, late heads and bodies get 408, and each process holds a bounded number of sockets.

The attack is bounded (600 sockets for a few seconds, loopback only); the 60 s figure comes
from ``benchmarks/slow_clients.py``.
"""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path

import pytest

from conftest import make_dataset, make_live, sample_triples
from nhs_ai_workforce.core.namespaces import ProjectNamespaces
from nhs_ai_workforce.core.settings import Settings
from servers import running_server
from slow_clients import HALF_HEAD, SLOW_HEAD, measure_under_attack

pytestmark = [pytest.mark.slow, pytest.mark.server]



@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    settings = Settings(root=tmp_path_factory.mktemp("slow"))
    ns = ProjectNamespaces(settings.base)
    make_live(settings, make_dataset(ns, sample_triples(ns)))
    return settings.store_path


@pytest.fixture(scope="module")
def quick(store):
    """A server whose head and body deadlines are 2 s."""
    with running_server(store, env={"AIWF_HEADER_TIMEOUT": "2", "AIWF_BODY_TIMEOUT": "2"}) as origin:
        yield int(origin.rsplit(":", 1)[1])


def answer(sock: socket.socket, timeout: float = 10) -> tuple[bytes, float]:
    """Everything the server sends until it closes, and how long that took."""
    started = time.monotonic()
    sock.settimeout(timeout)
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data, time.monotonic() - started


def refusal(data: bytes) -> tuple[int, dict]:
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)


def test_a_half_sent_head_gets_408_once_the_header_deadline_passes(quick):
    with socket.create_connection(("127.0.0.1", quick)) as sock:
        sock.sendall(HALF_HEAD)
        data, elapsed = answer(sock)
    status, body = refusal(data)
    assert status == 408
    assert body == {"ok": False, "status": 408, "title": "Request timeout", "line": None, "column": None,
                    "error": "the request head did not arrive within 2 s"}
    assert 1.5 < elapsed < 6


def test_a_body_shorter_than_its_content_length_gets_408(quick):
    with socket.create_connection(("127.0.0.1", quick)) as sock:
        sock.sendall(SLOW_HEAD)
        data, elapsed = answer(sock)
    status, body = refusal(data)
    assert status == 408
    assert body["error"] == "the request body did not arrive within 2 s"
    assert 1.5 < elapsed < 6


def test_a_body_trickled_byte_by_byte_is_cut_off_although_it_never_goes_idle(quick):
    with socket.create_connection(("127.0.0.1", quick)) as sock:
        sock.sendall(SLOW_HEAD)
        started = time.monotonic()
        sock.settimeout(0.3)
        data = b""
        while not data and time.monotonic() - started < 10:
            try:
                sock.sendall(b" ")
                data = sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                break
        data += answer(sock)[0]
    assert refusal(data)[0] == 408
    assert time.monotonic() - started < 8


def test_a_connection_that_sends_nothing_is_closed(quick):
    with socket.create_connection(("127.0.0.1", quick)) as sock:
        data, elapsed = answer(sock)
    assert data == b""
    assert elapsed < 6


def test_normal_requests_are_answered_while_600_slow_clients_hold_sockets(store):
    with running_server(store) as origin:
        port = int(origin.rsplit(":", 1)[1])
        health, queries, held, attack = measure_under_attack(port, "during the attack")
    assert held == 600
    assert sum(attack.answers.values()) == 0  # the default deadlines (10 s, 30 s) had not passed
    for measured in (health, queries):
        assert measured.failures == []
        assert set(measured.statuses) == {200}
        assert len(measured.latencies) > 20
        assert max(measured.latencies) < 2  # the unprotected server answered none in 30 s


def socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return inodes


def connections_to(port: int) -> set[str]:
    """Inodes of the established TCP sockets whose local port is ``port``."""
    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "01":
            found.add(fields[9])
    return found


def server_processes(port: int) -> list[int]:
    """The pids of the processes of the `aiwf serve` listening on ``port``."""
    pids = []
    for environ in Path("/proc").glob("[0-9]*/environ"):
        try:
            if f"PORT={port}".encode() in environ.read_bytes().split(b"\0") and b"serve" in (
                environ.parent / "cmdline"
            ).read_bytes():
                pids.append(int(environ.parent.name))
        except OSError:
            continue
    return pids


def test_each_process_holds_at_most_its_connection_cap(store):
    env = {"AIWF_WORKERS": "1", "AIWF_MAX_CONNECTIONS": "20", "AIWF_HEADER_TIMEOUT": "3"}
    with running_server(store, env=env) as origin:
        port = int(origin.rsplit(":", 1)[1])
        sockets = [socket.create_connection(("127.0.0.1", port)) for _ in range(60)]
        try:
            for sock in sockets:
                sock.sendall(HALF_HEAD)
            time.sleep(1)
            held = max(len(socket_inodes(pid) & connections_to(port)) for pid in server_processes(port))
            assert 10 <= held <= 20
            refused = [refusal(answer(sock, timeout=30)[0])[0] for sock in sockets]
        finally:
            for sock in sockets:
                sock.close()
    assert refused == [408] * 60  # the ones over the cap waited their turn, then got theirs
