"""The production layout of the README: Debian's nginx, configured by ``deploy/nginx.conf``, in
front of `aiwf serve`, under the same slow-client attack as the server alone.

nginx runs as this test's own process on a free loopback port, with its configuration, pid,
logs and temporary files in a temporary directory (never the system service).
"""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest

from conftest import make_dataset, make_live, sample_triples
from nhs_ai_workforce.core.namespaces import ProjectNamespaces
from nhs_ai_workforce.core.settings import Settings
from servers import free_port, running_server
from slow_clients import ASK, measure_under_attack, running_nginx

pytestmark = [pytest.mark.slow, pytest.mark.server]


@pytest.fixture(scope="module")
def behind_nginx(nginx_binary, tmp_path_factory):
    """(nginx's port, the app's origin): `aiwf serve` with nginx in front, as deploy/nginx.conf says."""
    settings = Settings(root=tmp_path_factory.mktemp("store"))
    ns = ProjectNamespaces(settings.base)
    make_live(settings, make_dataset(ns, sample_triples(ns)))
    with running_server(settings.store_path, env={"AIWF_TRUSTED_PROXY": "127.0.0.1"}) as origin:
        port = free_port()
        with running_nginx(nginx_binary, port, int(origin.rsplit(":", 1)[1]), tmp_path_factory.mktemp("nginx")):
            yield port, origin


def test_queries_pass_through_nginx(behind_nginx):
    port, _ = behind_nginx
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{ASK}", timeout=10) as response:
        assert response.status == 200
        assert response.read() == b'{"head":{},"boolean":true}'


def test_nginx_refuses_an_oversize_body_itself(behind_nginx):
    port, _ = behind_nginx
    request = urllib.request.Request(f"http://127.0.0.1:{port}/sparql", data=b"x" * 300_000, method="POST",
                                     headers={"Content-Type": "application/sparql-query"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 413


def test_normal_requests_are_answered_through_nginx_while_600_slow_clients_hold_sockets(behind_nginx):
    port, _ = behind_nginx
    health, queries, held, _ = measure_under_attack(port, "through nginx during the attack")
    assert held == 600
    for measured in (health, queries):
        assert measured.failures == []
        assert set(measured.statuses) == {200}
        assert len(measured.latencies) > 20
        assert max(measured.latencies) < 2
