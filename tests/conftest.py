"""Shared fixtures: settings rooted in a temporary directory and a tiny dataset and store."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from rdflib import Dataset, Literal
from rdflib import namespace as vocab

from nhs_ai_workforce.core.namespaces import ProjectNamespaces
from nhs_ai_workforce.core.settings import Settings
from nhs_ai_workforce.core.terms import oxigraph_quads
from nhs_ai_workforce.store.builds import load_store, swap_in

#: Fixtures that mark the tests using them, so ``-m "not browser"`` reads as it sounds.
MARKING_FIXTURES = {
    "seeded_server": ("server",),
    "seeded_remote": ("server",),
    "site": ("server",),
    "browser": ("browser", "server"),
    "local_page": ("browser", "server"),
    "no_script_page": ("browser", "server"),
}

#: The two ways of serving the graph: the embedded store, or a remote store (``oxigraph serve`` loaded
#: by ``aiwf publish``) read through the SPARQL Protocol (``AIWF_SPARQL_URL``).
STORE_MODES = ("embedded", "remote")


def pytest_collection_modifyitems(items):
    """Mark tests by the real components they use (see :data:`MARKING_FIXTURES`)."""
    for item in items:
        for fixture in getattr(item, "fixturenames", ()):
            for name in MARKING_FIXTURES.get(fixture, ()):
                item.add_marker(name)


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch):
    """Tests never see the caller's AIWF_* / HOST / PORT settings."""
    for name in [name for name in os.environ if name.startswith("AIWF_")] + ["HOST", "PORT"]:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(root=tmp_path)


@pytest.fixture
def ns(settings) -> ProjectNamespaces:
    return ProjectNamespaces(settings.base)


def sample_triples(ns: ProjectNamespaces) -> list[tuple]:
    """(graph name, s, p, o) rows: two reviews, an organisation, a class, one shared label."""
    aiwf = ns.AIWF
    RDF, RDFS, OWL, XSD = vocab.RDF, vocab.RDFS, vocab.OWL, vocab.XSD
    topol = ns.thing("initiative", "topol-review")
    roadmap = ns.thing("initiative", "ai-roadmap")
    hee = ns.thing("organisation", "hee")
    return [
        ("background", topol, RDF.type, aiwf.Review),
        ("background", topol, RDFS.label, Literal("The Topol Review", lang="en")),
        ("background", topol, aiwf.issued, Literal("2019-02-11", datatype=XSD.date)),
        ("background", topol, aiwf.publisher, hee),
        ("background", roadmap, RDF.type, aiwf.Review),
        ("background", roadmap, RDFS.label, Literal("AI Roadmap", lang="en")),
        ("background", roadmap, aiwf.technologies, Literal(240)),
        ("background", roadmap, RDFS.comment, Literal('Line one\nline "two", with\ttab')),
        ("background", hee, RDF.type, aiwf.Organisation),
        ("background", hee, RDFS.label, Literal("Health Education England", lang="en")),
        ("ontology", aiwf.Review, RDF.type, OWL.Class),
        ("ontology", aiwf.Review, RDFS.label, Literal("Review", lang="en")),
        ("ontology", aiwf.Organisation, RDF.type, OWL.Class),
        # the same triple in two graphs: unions must count it once
        ("inferred", topol, RDF.type, aiwf.Review),
    ]


def make_dataset(ns: ProjectNamespaces, rows=None) -> Dataset:
    dataset = Dataset()
    for name, s, p, o in sample_triples(ns) if rows is None else rows:
        dataset.graph(ns.graph(name)).add((s, p, o))
    return dataset


def make_live(settings: Settings, dataset: Dataset) -> Path:
    """Load ``dataset`` as a new on-disk store under ``settings`` and swap it in; its directory."""
    new_dir = load_store(oxigraph_quads(dataset), settings)
    swap_in(new_dir, settings)
    return new_dir


def numbered_store(settings: Settings, count: int = 500) -> Settings:
    """Make a live store of the sample triples plus ``count`` numbered notes under ``settings``; return them."""
    ns = ProjectNamespaces(settings.base)
    rows = sample_triples(ns) + [
        ("background", ns.thing("note", str(i)), ns.AIWF.number, Literal(i)) for i in range(count)
    ]
    make_live(settings, make_dataset(ns, rows))
    return settings


@pytest.fixture
def dataset(ns) -> Dataset:
    return make_dataset(ns)


@pytest.fixture
def built_store(settings, dataset):
    """A live on-disk store built from the sample dataset; returns its directory."""
    return make_live(settings, dataset)


#: Debian's nginx, for the production layouts of the README (deploy/*.conf).
NGINX = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)


@pytest.fixture(scope="session")
def nginx_binary() -> str:
    """The nginx binary; skipped when it is not installed, except in CI, which must run these tests."""
    if NGINX is None:
        if os.environ.get("CI"):
            pytest.fail("nginx is not installed (Debian: apt-get install nginx); .ci/run installs it")
        pytest.skip("nginx is not installed (Debian: apt-get install nginx)")
    return NGINX


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


@pytest.fixture(scope="session")
def seeded_store(tmp_path_factory) -> Path:
    """A live on-disk store built once from the real seeds (default base); its directory."""
    from nhs_ai_workforce.pipeline.build import build

    store = tmp_path_factory.mktemp("seeded") / "store"
    build(Settings().with_(store_dir=store), write_dumps=False)
    return store


@pytest.fixture(scope="session")
def seeded_server(seeded_store):
    """``aiwf serve`` on a free port of 127.0.0.1 over :func:`seeded_store`; its origin."""
    from servers import running_server

    with running_server(seeded_store) as origin:
        yield origin


@pytest.fixture(scope="session")
def seeded_remote(seeded_store, tmp_path_factory):
    """``oxigraph serve`` on a free port of 127.0.0.1, loaded with :func:`seeded_store` by ``aiwf publish``;
    its origin (its query endpoint, what ``AIWF_SPARQL_URL`` names, is ``{origin}/query``)."""
    from remote_servers import published_oxigraph

    with published_oxigraph(tmp_path_factory.mktemp("seeded-remote") / "oxigraph", seeded_store) as origin:
        yield origin


def remote_settings(origin: str, directory: Path, **changes) -> Settings:
    """Settings of a server reading the remote store at ``origin`` (its answers and dumps kept in ``directory``)."""
    return Settings(sparql_url=f"{origin}/query", store_dir=directory / "store", **changes)


@pytest.fixture(scope="session")
def remote_seeded_server(seeded_remote, tmp_path_factory):
    """``aiwf serve`` on a free port of 127.0.0.1 reading :func:`seeded_remote` (``AIWF_SPARQL_URL``); its origin.
    It has no local store: ``AIWF_STORE`` names a directory that holds none."""
    from servers import running_server

    local = tmp_path_factory.mktemp("remote-mode") / "store"
    with running_server(local, env={"AIWF_SPARQL_URL": f"{seeded_remote}/query"}) as origin:
        yield origin


@pytest.fixture(scope="session", params=STORE_MODES)
def site(request):
    """A real ``aiwf serve`` over the real seeds, once over the embedded store and once reading the same
    build from ``oxigraph serve`` (:func:`remote_seeded_server`); its origin. Tests that take it run in both."""
    return request.getfixturevalue("seeded_server" if request.param == "embedded" else "remote_seeded_server")


@pytest.fixture(scope="session", params=STORE_MODES)
def seeded_settings(request, tmp_path_factory):
    """Settings of an app over the real seeds: the embedded :func:`seeded_store`, or reading it from
    :func:`seeded_remote`. Tests that take it (through Flask's test client) run in both modes."""
    if request.param == "embedded":
        return Settings().with_(store_dir=request.getfixturevalue("seeded_store"))
    return remote_settings(request.getfixturevalue("seeded_remote"), tmp_path_factory.mktemp("remote-app"))


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, headless, driven by Playwright; skipped only off CI when not installed."""
    in_ci = os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")
    if not CHROMIUM.exists():
        reason = f"Debian's chromium is not installed at {CHROMIUM} (apt-get install chromium)"
        if in_ci:
            pytest.fail(f"{reason}; CI must run the browser tests")
        pytest.skip(reason)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as error:  # pragma: no cover - the test extra installs it
        if in_ci:
            raise
        pytest.skip(f"playwright is not installed ({error}); run make setup")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        try:
            yield chromium
        finally:
            chromium.close()


def _one_origin(requests: list[str]) -> None:
    """Something was requested, and everything from one server on 127.0.0.1 (the one the test opened)."""
    assert requests, "nothing was requested"
    origins = {f"{urlsplit(url).scheme}://{urlsplit(url).netloc}" for url in requests}
    assert len(origins) == 1 and urlsplit(requests[0]).hostname == "127.0.0.1", origins


@pytest.fixture
def no_script_page(browser):
    """A Chromium page with JavaScript disabled that refuses other hosts; on teardown it asserts
    that something was requested and nothing from another host (or another server)."""
    context = browser.new_context(java_script_enabled=False, service_workers="block")
    requests: list[str] = []
    context.on("request", lambda request: requests.append(request.url))
    context.route("**/*", lambda route: route.continue_() if urlsplit(route.request.url).hostname == "127.0.0.1"
                  else route.abort())
    page = context.new_page()
    page.set_default_timeout(20_000)
    yield page
    _one_origin(requests)
    context.close()


@pytest.fixture
def local_page(browser):
    """A fresh Chromium page that refuses other hosts; on teardown it asserts that nothing was
    requested from another host (or another server) and that no script error or console error happened."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, service_workers="block")
    requests: list[str] = []
    problems: list[str] = []
    context.on("request", lambda request: requests.append(request.url))

    def local_only(route):
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            route.abort()

    context.route("**/*", local_only)
    page = context.new_page()
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("console", lambda message: message.type == "error" and problems.append(f"console: {message.text}"))
    page.set_default_timeout(20_000)
    yield page
    outside = [url for url in requests if urlsplit(url).hostname != "127.0.0.1"]
    assert outside == [], f"requests to other hosts: {outside}"
    _one_origin(requests)
    assert problems == []
    context.close()
