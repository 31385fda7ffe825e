"""/data/: dumps served from the live store and the VoID/DCAT description, through Flask and a real server."""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from email.message import Message
from html.parser import HTMLParser

import pyoxigraph as ox
import pytest
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib import namespace as vocab

from conftest import make_dataset, sample_triples
from nhs_ai_workforce.core.namespaces import ProjectNamespaces
from nhs_ai_workforce.core.settings import DEFAULT_BASE, Settings
from nhs_ai_workforce.core.terms import oxigraph_quads
from nhs_ai_workforce.store import dumps as dumps_module
from nhs_ai_workforce.store.builds import load_store, swap_in
from nhs_ai_workforce.store.dumps import ServedDumps
from nhs_ai_workforce.store.live import open_store
from nhs_ai_workforce.web.app import create_app

BASE = "http://kg.example.test/nhs"
NS = ProjectNamespaces(BASE)
VOID, DCAT = Namespace(str(vocab.VOID)), Namespace(str(vocab.DCAT))
DATASET_DUMPS = {
    "nhs-ai-workforce.trig": ox.RdfFormat.TRIG,
    "nhs-ai-workforce.nq": ox.RdfFormat.N_QUADS,
    "nhs-ai-workforce.jsonld": ox.RdfFormat.JSON_LD,
    "nhs-ai-workforce.ttl": ox.RdfFormat.TURTLE,
}
RDF_SYNTAXES = {
    "text/turtle": "turtle",
    "application/ld+json": "json-ld",
    "application/n-triples": "nt",
    "application/rdf+xml": "xml",
}
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def rows() -> list[tuple]:
    hee = NS.thing("organisation", "hee")
    return [*sample_triples(NS),
            ("links", hee, vocab.FOAF.page, URIRef("https://www.gov.uk/government/organisations/health-education-england"))]


def build(settings: Settings, extra: list[tuple] = ()) -> str:
    """Load and swap in a store of the sample (plus ``extra`` rows); its build id."""
    new_dir = load_store(oxigraph_quads(make_dataset(NS, [*rows(), *extra])), settings)
    swap_in(new_dir, settings)
    return new_dir.name


@pytest.fixture
def settings(tmp_path) -> Settings:
    settings = Settings(root=tmp_path, base=BASE)
    build(settings)
    return settings


@pytest.fixture
def client(settings):
    return create_app({"SETTINGS": settings, "EXECUTOR": "in-process"}).test_client()


def description(response) -> Graph:
    assert response.status_code == 200, response.data
    return Graph().parse(data=response.data, format=RDF_SYNTAXES[response.mimetype])


def dump_rows(html: str) -> dict[str, dict[str, str]]:
    """``data-*`` attributes of the page's elements, by the file each row names."""

    class Rows(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.found: dict[str, dict[str, str]] = {}
            self.current: str | None = None

        def handle_starttag(self, tag, attrs):
            attrs = dict(attrs)
            if "data-file" in attrs:
                self.current = attrs["data-file"]
                self.found[self.current] = {}
            if self.current and tag == "td" and "data-count" in attrs:
                self.found[self.current]["count"] = attrs["data-count"]
            if self.current and tag == "a" and attrs.get("href", "").startswith("/data/"):
                self.found[self.current].setdefault("hrefs", []).append(attrs["href"])

        def handle_endtag(self, tag):
            if tag == "tr":
                self.current = None

    parser = Rows()
    parser.feed(html)
    return parser.found


# -- the page and the description --------------------------------------------------------------

def test_page_lists_every_dump_with_its_size_and_statements(client):
    response = client.get("/data/", headers={"Accept": BROWSER})
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    found = dump_rows(response.get_data(as_text=True))
    assert set(found) == set(DATASET_DUMPS)
    for name, row in found.items():
        assert row["hrefs"] == [f"/data/{name}", f"/data/{name}.gz"]
        body = client.get(f"/data/{name}").data
        assert int(row["count"]) == len(list(ox.parse(body, format=DATASET_DUMPS[name])))
    page = response.get_data(as_text=True)
    for graph in ("background", "ontology", "inferred", "links"):
        assert f'href="/data/graphs/{graph}.ttl"' in page
    assert "GOV.UK" in page and "/data/void.ttl" in page


@pytest.mark.parametrize("media_type", list(RDF_SYNTAXES))
def test_rdf_clients_get_the_description_at_every_address(client, media_type):
    bodies = set()
    for path in ("/data/", "/data/void", "/.well-known/void"):
        response = client.get(path, headers={"Accept": media_type})
        assert response.mimetype == media_type
        assert "Accept" in response.vary
        graph = description(response)
        assert (URIRef(f"{BASE}/data/void#dataset"), vocab.RDF.type, VOID.Dataset) in graph
        bodies.add(response.data)
    extension = {"text/turtle": "ttl", "application/ld+json": "jsonld", "application/n-triples": "nt",
                 "application/rdf+xml": "rdf"}[media_type]
    file = client.get(f"/data/void.{extension}", headers={"Accept": "text/html"})
    assert file.mimetype == media_type
    bodies.add(file.data)
    assert len(bodies) == 1


def test_description_defaults_to_turtle_and_takes_a_format_parameter(client):
    assert client.get("/data/void").mimetype == "text/turtle"
    assert client.get("/.well-known/void", headers={"Accept": "*/*"}).mimetype == "text/turtle"
    assert client.get("/data/?format=jsonld", headers={"Accept": BROWSER}).mimetype == "application/ld+json"
    assert client.get("/data/", headers={"Accept": "*/*"}).mimetype == "text/html"


def test_description_refuses_what_it_cannot_write(client):
    response = client.get("/data/void", headers={"Accept": "image/png"})
    assert response.status_code == 406
    assert response.json["title"] == "Not acceptable"
    assert "text/turtle" in response.json["error"]


def test_unknown_dump_is_404_in_the_error_shape(client):
    response = client.get("/data/nhs-ai-workforce.rdf")
    assert response.status_code == 404
    assert set(response.json) == {"ok", "status", "title", "error", "line", "column"}


def test_no_store_yet_is_503(tmp_path):
    client = create_app({"SETTINGS": Settings(root=tmp_path), "EXECUTOR": "in-process"}).test_client()
    assert client.get("/data/nhs-ai-workforce.nq").status_code == 503
    assert client.get("/data/void").status_code == 503


# -- the dumps ---------------------------------------------------------------------------------

@pytest.mark.parametrize("name", list(DATASET_DUMPS))
def test_dumps_are_under_the_served_base_and_hold_the_whole_store(client, settings, name):
    response = client.get(f"/data/{name}")
    assert response.status_code == 200
    parsed = list(ox.parse(response.data, format=DATASET_DUMPS[name]))
    store = open_store(settings)
    if DATASET_DUMPS[name].supports_datasets:
        assert set(parsed) == set(store)
    else:
        assert {q.triple for q in parsed} == {q.triple for q in store}
        assert len(parsed) == len({q.triple for q in store})  # the union, each triple once
    assert DEFAULT_BASE.encode() not in response.data
    assert BASE.encode() in response.data


def test_gzip_dumps_are_the_plain_dumps_compressed_without_a_timestamp(client):
    for name in DATASET_DUMPS:
        compressed = client.get(f"/data/{name}.gz")
        assert compressed.mimetype == "application/gzip"
        assert "Content-Encoding" not in compressed.headers
        assert compressed.data[4:8] == b"\0\0\0\0"  # gzip MTIME
        assert gzip.decompress(compressed.data) == client.get(f"/data/{name}").data


def test_graph_files_hold_one_graph_each(client):
    response = client.get("/data/graphs/links.ttl")
    assert response.mimetype == "text/turtle"
    triples = list(ox.parse(response.data, format=ox.RdfFormat.TURTLE))
    assert [str(t.object) for t in triples] == ["<https://www.gov.uk/government/organisations/health-education-england>"]


def test_dumps_are_attachments_with_validators(client, settings):
    response = client.get("/data/nhs-ai-workforce.nq.gz")
    assert response.headers["Content-Disposition"] == "attachment; filename=nhs-ai-workforce.nq.gz"
    assert response.headers["ETag"] == f'"{hashlib.sha256(response.data).hexdigest()}"'
    assert response.last_modified is not None
    assert int(response.headers["Content-Length"]) == len(response.data)
    head = client.head("/data/nhs-ai-workforce.nq.gz")
    assert head.status_code == 200 and head.data == b""
    for header in ("ETag", "Last-Modified", "Content-Length", "Content-Type", "Content-Disposition"):
        assert head.headers[header] == response.headers[header]


@pytest.mark.parametrize("path", ["/data/nhs-ai-workforce.trig", "/data/void", "/data/void.jsonld", "/data/"])
def test_unchanged_answers_are_304(client, path):
    first = client.get(path, headers={"Accept": BROWSER})
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert client.get(path, headers={"Accept": BROWSER, "If-None-Match": etag}).status_code == 304
    assert client.get(path, headers={"Accept": BROWSER, "If-Modified-Since": modified}).status_code == 304
    assert client.get(path, headers={"Accept": BROWSER, "If-None-Match": '"stale"'}).status_code == 200


def test_a_new_build_is_served_at_once_and_old_dumps_are_removed(client, settings):
    first = client.get("/data/nhs-ai-workforce.nq")
    roadmap = NS.thing("initiative", "ai-roadmap")
    second_id = build(settings, [("background", roadmap, vocab.RDFS.label, Literal("Roadmap", lang="en"))])
    second = client.get("/data/nhs-ai-workforce.nq")
    assert second.headers["ETag"] != first.headers["ETag"]
    assert b'"Roadmap"@en' in second.data
    assert client.get(first.request.path, headers={"If-None-Match": first.headers["ETag"]}).status_code == 200
    third_id = build(settings)
    fourth_id = build(settings)  # three builds are kept (AIWF_KEEP_BUILDS), so the first is pruned now
    client.get("/data/void")
    kept = {path.name for path in (settings.store_path.parent / "dumps").iterdir() if path.is_dir()}
    # the first build's store is gone, so are its dumps
    assert kept <= {second_id, third_id, fourth_id} and fourth_id in kept


def test_dumps_are_rendered_once_and_shared_between_processes(settings, monkeypatch):
    store = open_store(settings)
    build_id = settings.store_path.resolve().name
    first = ServedDumps(settings).get(store, build_id)
    assert first.directory is not None
    manifest = json.loads((first.directory / dumps_module.MANIFEST).read_text())
    assert manifest["build"] == build_id

    def refuse(*args, **kwargs):
        raise AssertionError("rendered again")

    monkeypatch.setattr(dumps_module, "render_served_dumps", refuse)
    again = ServedDumps(settings).get(store, build_id)  # another server process
    assert again.files == first.files


def test_dumps_are_kept_in_memory_when_they_cannot_be_written(settings):
    (settings.store_path.parent / "dumps").write_text("not a directory")
    store = open_store(settings)
    served = ServedDumps(settings).get(store, "some-build")
    assert served.directory is None
    file = served.find("nhs-ai-workforce.nq")
    assert len(served.read(file)) == file.size


# -- a real server over the real seeds ---------------------------------------------------------

def fetch(url: str, **headers: str) -> tuple[int, Message, bytes]:
    """Status, headers (names case-insensitive, as HTTP says) and body of a GET."""
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


@pytest.fixture(scope="module")
def served_void(seeded_server) -> Graph:
    status, headers, body = fetch(f"{seeded_server}/.well-known/void", Accept="text/turtle")
    assert status == 200 and headers["Content-Type"].startswith("text/turtle")
    return Graph().parse(data=body, format="turtle")


def test_real_server_dumps_parse_and_match_the_description(seeded_server, served_void):
    sizes = {str(served_void.value(d, DCAT.downloadURL)): int(served_void.value(d, DCAT.byteSize))
             for d in served_void.subjects(vocab.RDF.type, DCAT.Distribution)}
    dataset = URIRef(f"{DEFAULT_BASE}/data/void#dataset")
    triples = int(served_void.value(dataset, VOID.triples))
    quads = sum(int(served_void.value(g, VOID.triples)) for g in served_void.objects(dataset, VOID.subset)
                if str(g).startswith(f"{DEFAULT_BASE}/id/graph/"))
    assert len(sizes) == 2 * len(DATASET_DUMPS)
    for name, syntax in DATASET_DUMPS.items():
        status, _, body = fetch(f"{seeded_server}/data/{name}")
        assert status == 200
        assert len(body) == sizes[f"{DEFAULT_BASE}/data/{name}"]
        parsed = list(ox.parse(body, format=syntax))
        assert len(parsed) == (quads if syntax.supports_datasets else triples)
        status, _, packed = fetch(f"{seeded_server}/data/{name}.gz")
        assert len(packed) == sizes[f"{DEFAULT_BASE}/data/{name}.gz"]
        assert gzip.decompress(packed) == body


def test_real_server_dumps_equal_the_committed_files(seeded_server):
    data = Settings().data_dir
    for name in ("nhs-ai-workforce.nq", "nhs-ai-workforce.trig", "graphs/links.ttl", "graphs/background.ttl"):
        status, _, body = fetch(f"{seeded_server}/data/{name}")
        assert status == 200
        assert body == (data / name).read_bytes(), name


def sparql_count(origin: str, query: str) -> int:
    url = f"{origin}/sparql?" + urllib.parse.urlencode({"query": query})
    status, _, body = fetch(url, Accept="application/sparql-results+json")
    assert status == 200, body
    return int(json.loads(body)["results"]["bindings"][0]["n"]["value"])


def test_real_server_linkset_counts_equal_sparql_counts(seeded_server, served_void):
    dataset = URIRef(f"{DEFAULT_BASE}/data/void#dataset")
    linksets = [ls for ls in served_void.objects(dataset, VOID.subset)
                if (ls, vocab.RDF.type, VOID.Linkset) in served_void]
    assert len(linksets) == 8
    for linkset in linksets:
        target = served_void.value(linkset, VOID.objectsTarget)
        pattern = json.dumps(str(served_void.value(target, VOID.uriRegexPattern)))
        for child in served_void.objects(linkset, VOID.subset):
            predicate = served_void.value(child, VOID.linkPredicate)
            query = f"""SELECT (COUNT(*) AS ?n) {{ SELECT DISTINCT ?s ?o {{ ?s <{predicate}> ?o
                FILTER(isIRI(?o) && STRSTARTS(STR(?s), "{DEFAULT_BASE}/") && REGEX(STR(?o), {pattern})
                       && !REGEX(STR(?s), {pattern})) }} }}"""
            assert int(served_void.value(child, VOID.triples)) == sparql_count(seeded_server, query), child


def test_real_server_links_match_the_seeds(seeded_server, served_void):
    """Linksets counted straight from the seed tables: GOV.UK pages (checked pages from links.csv,
    cited addresses from initiatives.csv, each under its own predicate) and the ONS geography."""
    seeds = Settings().seeds_dir
    with (seeds / "links.csv").open(newline="", encoding="utf-8") as handle:
        links = list(csv.DictReader(handle))
    with (seeds / "initiatives.csv").open(newline="", encoding="utf-8") as handle:
        cited = [address for row in csv.DictReader(handle) for address in row["cited_address"].split("|") if address]
    govuk = [row for row in links if row["predicate"] == "foaf:page" and row["target"].startswith("https://www.gov.uk/")]
    spatial = sum(row["predicate"] == "dcterms:spatial" for row in links)

    def child_count(key: str, predicate: URIRef) -> int:
        node = URIRef(f"{DEFAULT_BASE}/data/void#links-{key}")
        children = [child for child in served_void.objects(node, VOID.subset)
                    if served_void.value(child, VOID.linkPredicate) == predicate]
        return sum(int(served_void.value(child, VOID.triples)) for child in children)

    assert child_count("govuk", vocab.FOAF.page) == len(govuk) > 0
    cited_address = URIRef(f"{DEFAULT_BASE}/def/aiwf/citedAddress")
    assert child_count("govuk", cited_address) == sum(address.startswith("https://www.gov.uk/") for address in cited)
    assert child_count("ons-geography", vocab.DCTERMS.spatial) == spatial == 1


def test_real_server_answers_conditional_requests(seeded_server):
    status, headers, _ = fetch(f"{seeded_server}/data/void", Accept="application/ld+json")
    assert status == 200 and headers["Content-Type"] == "application/ld+json"
    again, _, body = fetch(f"{seeded_server}/data/void", Accept="application/ld+json",
                           **{"If-None-Match": headers["ETag"]})
    assert again == 304 and body == b""
    status, headers, _ = fetch(f"{seeded_server}/data/nhs-ai-workforce.ttl.gz")
    assert status == 200 and headers["Content-Disposition"] == "attachment; filename=nhs-ai-workforce.ttl.gz"
    again, _, _ = fetch(f"{seeded_server}/data/nhs-ai-workforce.ttl.gz",
                        **{"If-Modified-Since": headers["Last-Modified"]})
    assert again == 304


def test_real_server_page_links_every_dump(seeded_server):
    status, headers, body = fetch(f"{seeded_server}/data/", Accept=BROWSER)
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    hrefs = set(re.findall(r'href="(/data/[^"#]+)"', body.decode()))
    for href in hrefs:
        assert fetch(f"{seeded_server}{href}")[0] == 200, href
    assert {f"/data/{name}" for name in DATASET_DUMPS} <= hrefs


def test_readme_documents_the_dumps_and_the_description():
    readme = (Settings().root / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Linked data: dumps and VoID", 1)[1].split("\n## ", 1)[0]
    for text in ("/data/nhs-ai-workforce.trig", ".nq", ".jsonld", "/data/nhs-ai-workforce.ttl", ".gz",
                 "/data/graphs/{name}.ttl", "/data/void", "/.well-known/void", "E92000001", "ETag", "304"):
        assert text in section, text
    for target in ("GOV.UK", "reference.data.gov.uk", "ONS", "ESCO", "ISCO-08", "SOC 2020", "capability framework"):
        assert target in section, target
