"""A relative ``AIWF_STORE`` (or ``--store``) means the same store to every part: the dumps under
``/data/`` are served from it through the app and through a real ``aiwf serve``."""

from __future__ import annotations

import os
import subprocess
import urllib.request
from pathlib import Path

import pyoxigraph as ox
import pytest
from test_query_process import aiwf_command

from conftest import numbered_store
from nhs_ai_workforce.core.settings import Settings
from nhs_ai_workforce.web.app import create_app
from servers import ROOT, running_server

DUMPS = ("/data/nhs-ai-workforce.ttl", "/data/nhs-ai-workforce.trig.gz", "/data/graphs/background.ttl")


@pytest.fixture
def store(settings):
    return numbered_store(settings, 5).store_path


def test_dumps_are_served_through_the_app_from_a_relative_store(store, monkeypatch):
    monkeypatch.chdir(store.parent.parent)
    settings = Settings.from_env({"AIWF_STORE": "var/store"})
    assert settings.store_path == store
    client = create_app({"SETTINGS": settings}).test_client()
    for path in DUMPS:
        response = client.get(path)
        assert response.status_code == 200, (path, response.data[:300])
        assert response.data
    turtle = client.get("/data/nhs-ai-workforce.ttl").data
    assert len(list(ox.parse(turtle, format=ox.RdfFormat.TURTLE))) > 5


@pytest.mark.server
def test_dumps_are_served_by_a_real_server_from_a_relative_store(store):
    relative = Path(os.path.relpath(store, ROOT))  # running_server starts `aiwf serve` in the checkout
    assert not relative.is_absolute()
    with running_server(relative) as origin:  # AIWF_STORE=../../tmp/.../var/store
        for path in DUMPS:
            with urllib.request.urlopen(origin + path, timeout=30) as response:
                assert response.status == 200, path
                assert response.read()


def test_cli_commands_take_a_relative_store_option(store):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIWF_")}
    result = subprocess.run([*aiwf_command(), "query", "--store", "var/store", "--format", "csv",
                             "SELECT (COUNT(*) AS ?n) { ?s aiwf:number ?o }"],
                            cwd=store.parent.parent, env=env, capture_output=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode().splitlines() == ["n", "5"]
