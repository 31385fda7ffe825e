"""A real ``aiwf serve`` process on a free port of 127.0.0.1, for tests that need HTTP, and ``aiwf build``."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_healthy(url: str, process: subprocess.Popen, timeout_s: float, log: Callable[[], str]) -> None:
    """Wait until ``url`` answers 200; fail with ``log()`` if ``process`` exits or time runs out."""
    deadline = time.monotonic() + timeout_s
    while True:
        if process.poll() is not None:
            pytest.fail(f"{process.args[0]} exited {process.returncode}: {log()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"{url} did not answer within {timeout_s:.0f} s: {log()}")
        time.sleep(0.1)


def stop(process: subprocess.Popen) -> None:
    """Terminate ``process`` and wait for it; kill it if it has not stopped within 10 s."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def aiwf(*args: str) -> list[str]:
    """The command line of ``aiwf args...``: this interpreter's ``aiwf`` script, else its module."""
    script = Path(sys.executable).with_name("aiwf")
    return [str(script), *args] if script.exists() else [sys.executable, "-m", "nhs_ai_workforce.cli", *args]


def aiwf_environment(env: dict[str, str] | None = None) -> dict[str, str]:
    """This process's environment without its ``AIWF_*``, ``HOST`` and ``PORT``, plus ``env``."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("AIWF_") and k not in ("HOST", "PORT")}
    environment.update(env or {})
    return environment


def build_store(store: Path, *, root: Path = ROOT, env: dict[str, str] | None = None) -> str:
    """Run ``aiwf build --no-dumps`` from the sources under ``root`` into the store link ``store``
    (plus ``env``, such as ``SOURCE_DATE_EPOCH``); the id of the build it made."""
    environment = aiwf_environment({"AIWF_ROOT": str(root), "AIWF_STORE": str(store), **(env or {})})
    done = subprocess.run(aiwf("build", "--no-dumps"), env=environment, cwd=root, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()[1]  # "build <id> -> <store>"


@contextlib.contextmanager
def running_server(store: Path, *, timeout_s: float = 60, env: dict[str, str] | None = None,
                   port: int | None = None, cwd: Path = ROOT) -> Iterator[str]:
    """Start ``aiwf serve`` over ``store`` (plus ``env``, which wins) on ``port`` (a free one by
    default) in ``cwd``, wait for ``/health``, yield its origin, stop it."""
    port = port or free_port()
    environment = aiwf_environment({"HOST": "127.0.0.1", "PORT": str(port), "AIWF_STORE": str(store), **(env or {})})
    with running_process(aiwf("serve"), f"http://127.0.0.1:{port}", "/health", timeout_s=timeout_s, env=environment,
                         cwd=cwd) as origin:
        yield origin


@dataclass
class Started:
    """A running ``aiwf serve``: its process, origin and output (stdout and stderr)."""

    process: subprocess.Popen
    origin: str
    log: Path

    @property
    def port(self) -> int:
        return int(self.origin.rsplit(":", 1)[1])

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@contextlib.contextmanager
def started_server(store: Path, *, timeout_s: float = 60, env: dict[str, str] | None = None,
                   port: int | None = None) -> Iterator[Started]:
    """As :func:`running_server`, for tests that stop the server themselves: yields it once
    ``/health`` answers, and stops it at the end if it still runs (with ``SIGTERM``: ``SIGKILL``
    would leave its server processes running)."""
    port = port or free_port()
    environment = aiwf_environment({"HOST": "127.0.0.1", "PORT": str(port), "AIWF_STORE": str(store), **(env or {})})
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "serve.log"
        with log.open("wb") as out:
            process = subprocess.Popen(aiwf("serve"), cwd=ROOT, env=environment, stdout=out, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL)
        started = Started(process, f"http://127.0.0.1:{port}", log)
        try:
            wait_healthy(f"{started.origin}/health", process, timeout_s, started.output)
            yield started
        finally:
            if process.poll() is None:
                stop(process)


@contextlib.contextmanager
def running_process(command: list[str], origin: str, health_path: str, *, timeout_s: float = 60,
                    env: dict[str, str] | None = None, cwd: Path | None = None) -> Iterator[str]:
    """Start a server ``command``, wait until ``origin + health_path`` answers, yield ``origin``, stop it.

    Its output goes to a file, not a pipe (an unread pipe fills up and stalls the server), and is
    shown if it never answers."""
    log = tempfile.TemporaryFile()  # noqa: SIM115 - closed after the server stops, below
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL)

    def output() -> str:
        log.seek(0)
        return log.read().decode(errors="replace")

    try:
        wait_healthy(f"{origin}{health_path}", process, timeout_s, output)
        yield origin
    finally:
        stop(process)
        log.close()


def fetch(url: str, *, method: str = "GET", data: bytes | None = None, headers: dict[str, str] | None = None):
    """(status, headers, body) for any status: HTTP errors are answers too."""
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.headers, error.read()
