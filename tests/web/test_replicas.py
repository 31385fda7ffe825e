"""The replica layout of the README: two `aiwf serve` behind Debian's nginx, configured by
``deploy/nginx-replicas.conf``, each over its own store built apart from the same sources.

Either replica answers a request with the same bytes and the same ``ETag``, and revalidates the
other's; a rolling rebuild (one replica, then the other) under load loses no request, and each
answer is wholly the old build's or the new one's (body, ``ETag`` and ``Last-Modified``); a
rolling restart (``SIGTERM``, then a new `aiwf serve`) under load loses no request and nginx
meets no reset connection.

nginx runs as this test's own process on a free loopback port, with its configuration, pid, logs
and temporary files in a temporary directory (never the system service).
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import re
import shutil
import signal
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import quote

import pytest

from servers import ROOT, build_store, fetch, free_port, running_server, started_server
from slow_clients import REPLICAS_SITE, running_nginx

pytestmark = [pytest.mark.slow, pytest.mark.server]

EPOCH = 1767225600  # SOURCE_DATE_EPOCH of the first builds: 2026-01-01T00:00:00Z
NEW_EPOCH = 1769904000  # of the rebuild: 2026-02-01T00:00:00Z
JSON = "application/sparql-results+json"
#: deploy/nginx-replicas.conf's fail_timeout: how long nginx leaves out a replica that failed a request.
FAIL_TIMEOUT_S = 5
SELECT = "SELECT ?initiative ?title { ?initiative a aiwf:Review ; dcterms:title ?title } ORDER BY ?initiative"
CONSTRUCT = "CONSTRUCT { initiative:topol-review ?p ?o } WHERE { initiative:topol-review ?p ?o }"
TITLE = "SELECT ?title { initiative:topol-review dcterms:title ?title }"
#: (path, Accept): the same request to either replica.
REQUESTS = [
    (f"/sparql?query={quote(SELECT)}", JSON),
    (f"/sparql?query={quote(SELECT)}", "text/csv"),
    (f"/sparql?query={quote(CONSTRUCT)}", "text/turtle"),
    ("/doc/initiative/topol-review", "text/html"),
    ("/doc/initiative/topol-review", "text/turtle"),
    ("/data/void", "text/turtle"),
    ("/data/nhs-ai-workforce.nq", "application/n-quads"),
    ("/sitemap.xml", "application/xml"),
]


@dataclass
class Layout:
    """nginx's port, each replica's origin and store link."""

    port: int
    origins: list[str]
    stores: list[Path]

    @property
    def front(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextlib.contextmanager
def replica_layout(nginx: str, tmp: Path, replicas: int = 2) -> Iterator[Layout]:
    """``replicas`` stores built apart from the project's sources (``SOURCE_DATE_EPOCH=EPOCH``), an
    `aiwf serve` over each and nginx in front of them, configured by deploy/nginx-replicas.conf."""
    stores = [tmp / f"replica-{n}" / "store" for n in range(replicas)]
    for store in stores:
        build_store(store, env={"SOURCE_DATE_EPOCH": str(EPOCH)})
    env = {"AIWF_TRUSTED_PROXY": "127.0.0.1", "AIWF_WORKERS": "1"}
    with contextlib.ExitStack() as stack:
        origins = [stack.enter_context(running_server(store, env=env)) for store in stores]
        port = free_port()
        (tmp / "nginx").mkdir()
        stack.enter_context(running_nginx(nginx, port, [int(o.rsplit(":", 1)[1]) for o in origins], tmp / "nginx",
                                          site=REPLICAS_SITE))
        yield Layout(port, origins, stores)


@pytest.fixture(scope="module")
def layout(nginx_binary, tmp_path_factory):
    with replica_layout(nginx_binary, tmp_path_factory.mktemp("replicas")) as running:
        yield running


def http_date(epoch: int) -> str:
    return format_datetime(datetime.fromtimestamp(epoch, tz=UTC), usegmt=True)


@pytest.mark.parametrize(("path", "accept"), REQUESTS)
def test_either_replica_answers_the_same_bytes_and_etag(layout, path, accept):
    # As nginx passes them on: the same Host to each replica (the client's, with nginx's port).
    headers = {"Accept": accept, "Host": layout.front.split("://", 1)[1]}
    answers = [fetch(origin + path, headers=headers) for origin in layout.origins]
    answers += [fetch(layout.front + path, headers={"Accept": accept}) for _ in range(4)]  # nginx: both replicas
    (status, first, body), *others = answers
    assert status == 200 and body
    assert first["ETag"] == f'"{hashlib.sha256(body).hexdigest()}"'
    assert first["Last-Modified"] == http_date(EPOCH)
    for other_status, other, other_body in others:
        assert (other_status, other_body) == (200, body)
        assert (other["ETag"], other["Last-Modified"]) == (first["ETag"], first["Last-Modified"])


def test_a_replica_revalidates_the_other_replicas_etag(layout):
    path = f"/sparql?query={quote(SELECT)}"
    _, headers, _ = fetch(layout.origins[0] + path, headers={"Accept": JSON})
    status, again, body = fetch(layout.origins[1] + path, headers={"Accept": JSON, "If-None-Match": headers["ETag"]})
    assert (status, body, again["ETag"]) == (304, b"", headers["ETag"])
    for _ in range(4):  # and through nginx, whichever replica answers
        assert fetch(layout.front + path, headers={"Accept": JSON, "If-None-Match": headers["ETag"]})[0] == 304


def test_only_health_names_each_replicas_own_build(layout):
    builds = [fetch(origin + "/health")[2] for origin in layout.origins]
    assert len(set(builds)) == 2  # two directories on two hosts: what `aiwf rollback` names


# -- a rolling rebuild under load -------------------------------------------------------------


@dataclass
class Load:
    """Client threads sending the same query to nginx until stopped; what each answer was."""

    port: int
    answers: Counter  # (status, body, ETag, Last-Modified) -> how many
    failures: list[str]
    stop: threading.Event

    def run(self, method: str) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        while not self.stop.is_set():
            try:
                if method == "GET":
                    connection.request("GET", f"/sparql?query={quote(TITLE)}", headers={"Accept": JSON})
                else:  # a POST query is sent on to the other replica too (non_idempotent in /sparql)
                    connection.request("POST", "/sparql", body=TITLE.encode(),
                                       headers={"Accept": JSON, "Content-Type": "application/sparql-query"})
                response = connection.getresponse()
                body = response.read()
                self.answers[(response.status, body, response.getheader("ETag"),
                              response.getheader("Last-Modified"))] += 1
            except (OSError, http.client.HTTPException) as error:
                self.failures.append(f"{method}: {type(error).__name__}: {error}")
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        connection.close()


def changed_sources(root: Path) -> Path:
    """The project's sources copied under ``root``, with one seed cell changed: the Topol Review's title."""
    for name in ("seeds", "ontology", "shapes"):
        shutil.copytree(ROOT / name, root / name)
    table = root / "seeds" / "initiatives.csv"
    text = table.read_text(encoding="utf-8")
    old = "The Topol Review: Preparing the Healthcare Workforce to Deliver the Digital Future"
    assert text.count(old) == 1
    table.write_text(text.replace(old, "The Topol Review (rebuilt)"), encoding="utf-8")
    return root


def title_answers(layout: Layout) -> set[bytes]:
    """The answer of each replica to the query the load sends."""
    return {fetch(f"{origin}/sparql?query={quote(TITLE)}", headers={"Accept": JSON})[2] for origin in layout.origins}


def test_a_rolling_rebuild_under_load_loses_no_request_and_never_mixes_builds(nginx_binary, tmp_path):
    new_root = changed_sources(tmp_path / "new-sources")
    with replica_layout(nginx_binary, tmp_path / "layout") as rolling:
        (old,) = title_answers(rolling)
        load = Load(rolling.port, Counter(), [], threading.Event())
        threads = [threading.Thread(target=load.run, args=(method,)) for method in ("GET", "GET", "GET", "POST")]
        for thread in threads:
            thread.start()
        try:
            time.sleep(1)
            for store in rolling.stores:  # one replica, then the other, as the README says
                build_store(store, root=new_root, env={"SOURCE_DATE_EPOCH": str(NEW_EPOCH)})
                time.sleep(1)
        finally:
            load.stop.set()
            for thread in threads:
                thread.join(60)
        (new,) = title_answers(rolling)
    assert old != new and b"The Topol Review (rebuilt)" in new
    assert load.failures == []
    whole = {(200, body, f'"{hashlib.sha256(body).hexdigest()}"', http_date(epoch))
             for body, epoch in ((old, EPOCH), (new, NEW_EPOCH))}
    assert set(load.answers) == whole  # every answer is the old build's or the new one's, headers and all
    assert sum(load.answers.values()) > 50
    print(f"\nrolling rebuild: {sum(load.answers.values())} answers, "
          f"{sum(n for (_, body, _, _), n in load.answers.items() if body == old)} old, none failed")


# -- a rolling restart under load -------------------------------------------------------------


def test_a_rolling_restart_under_load_loses_no_request_and_resets_no_connection(nginx_binary, tmp_path):
    """The README's rolling restart: ``SIGTERM`` to one replica, a new `aiwf serve` in its place,
    then (once nginx tries it again) the other. No request fails, and nginx never meets a reset
    connection: a stopping replica refuses new connections, answers what it has in hand and
    closes its kept-alive connections cleanly."""
    stores = [tmp_path / f"replica-{n}" / "store" for n in range(2)]
    for store in stores:
        build_store(store, env={"SOURCE_DATE_EPOCH": str(EPOCH)})
    env = {"AIWF_TRUSTED_PROXY": "127.0.0.1", "AIWF_WORKERS": "1"}
    ports = [free_port(), free_port()]
    with contextlib.ExitStack() as stack:
        replicas = [stack.enter_context(started_server(store, env=env, port=port))
                    for store, port in zip(stores, ports, strict=True)]
        port = free_port()
        (tmp_path / "nginx").mkdir()
        stack.enter_context(running_nginx(nginx_binary, port, ports, tmp_path / "nginx", site=REPLICAS_SITE))
        load = Load(port, Counter(), [], threading.Event())
        threads = [threading.Thread(target=load.run, args=(method,)) for method in ("GET", "GET", "GET", "POST")]
        for thread in threads:
            thread.start()
        codes = []
        try:
            time.sleep(1)
            for replica, store in zip(replicas, stores, strict=True):  # one, then the other, as the README says
                replica.process.send_signal(signal.SIGTERM)
                codes.append(replica.process.wait(30))
                stack.enter_context(started_server(store, env=env, port=replica.port))
                time.sleep(FAIL_TIMEOUT_S + 1)
        finally:
            load.stop.set()
            for thread in threads:
                thread.join(60)
        errors = (tmp_path / "nginx" / "error.log").read_text()
    assert codes == [0, 0]
    assert load.failures == []
    ((status, *_),) = load.answers  # one answer, from either replica
    assert status == 200 and sum(load.answers.values()) > 50
    resets = [line for line in errors.splitlines() if "reset by peer" in line]
    assert resets == [], "\n".join(resets[:20])
    logged = Counter(re.sub(r"^.*?\*\d+ ", "", line).split(",")[0] for line in errors.splitlines() if "[error]" in line)
    print(f"\nrolling restart: {sum(load.answers.values())} answers, none failed, no reset; nginx: {dict(logged)}")
