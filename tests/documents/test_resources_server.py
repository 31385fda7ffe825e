"""Dereferencing URIs against a real ``aiwf serve`` over the real seeds, as curl or a crawler would.

Each RDF answer is parsed by rdflib and must hold the triples the seeds state about the AI
Roadmap; the validators must produce ``304``s and an unknown key a helpful ``404``.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from rdflib import Dataset, Graph, Literal, URIRef
from rdflib import namespace as vocab

from nhs_ai_workforce.core.namespaces import ProjectNamespaces

NS = ProjectNamespaces()
ROADMAP = URIRef(NS.thing("initiative", "ai-roadmap"))
DOC = URIRef(f"{NS.base}/doc/initiative/ai-roadmap")
TITLE_GRAPH = str(NS.graph("background"))
HEE = URIRef(NS.thing("organisation", "health-education-england"))
EXPECTED = [
    (ROADMAP, vocab.DCTERMS.title, Literal("AI Roadmap", lang="en")),
    (ROADMAP, vocab.DCTERMS.publisher, HEE),
    (ROADMAP, vocab.RDF.type, NS.AIWF.Roadmap),  # background graph
    (ROADMAP, vocab.RDF.type, NS.AIWF.Initiative),  # inferred graph
    (ROADMAP, NS.AIWF.issuedInterval, URIRef("http://reference.data.gov.uk/id/month/2022-01")),  # links graph
    (ROADMAP, NS.AIWF.statedIn, URIRef(NS.thing("section", "box-1"))),
    (DOC, vocab.FOAF.primaryTopic, ROADMAP),
    (DOC, vocab.DCTERMS.isPartOf, URIRef(f"{NS.base}/data/void#dataset")),
]
FORMATS = {  # media type: (extension, rdflib parser)
    "text/turtle": ("ttl", "turtle"),
    "application/ld+json": ("jsonld", "json-ld"),
    "application/n-triples": ("nt", "nt"),
    "application/rdf+xml": ("rdf", "xml"),
    "application/trig": ("trig", "trig"),
    "application/n-quads": ("nq", "nquads"),
}


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


@pytest.fixture(scope="module")
def server(seeded_server):
    return seeded_server


def fetch(url: str, headers: dict[str, str] | None = None, method: str = "GET"):
    """(status, headers, body) of one request; redirects are not followed and errors are answers."""
    request = urllib.request.Request(url, headers=headers or {}, method=method)
    try:
        with _OPENER.open(request, timeout=30) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.headers, error.read()


def parse(body: bytes, parser: str) -> Graph:
    graph = Dataset(default_union=True) if parser in ("trig", "nquads") else Graph()
    graph.parse(data=body.decode("utf-8"), format=parser)
    return graph


def test_the_uri_answers_303_to_its_document_on_this_server(server):
    status, headers, _ = fetch(f"{server}/id/initiative/ai-roadmap", {"Accept": "text/turtle"})
    assert status == 303
    assert headers["Location"] == "/doc/initiative/ai-roadmap"


@pytest.mark.parametrize("media", FORMATS)
def test_each_rdf_type_by_accept(server, media):
    status, headers, body = fetch(f"{server}/doc/initiative/ai-roadmap", {"Accept": media})
    assert status == 200
    assert headers.get_content_type() == media
    assert "Accept" in headers["Vary"]
    graph = parse(body, FORMATS[media][1])
    for triple in EXPECTED:
        assert triple in graph, triple


@pytest.mark.parametrize("media", FORMATS)
def test_each_rdf_type_by_extension(server, media):
    extension, parser = FORMATS[media]
    status, headers, body = fetch(f"{server}/doc/initiative/ai-roadmap.{extension}")
    assert status == 200 and headers.get_content_type() == media
    assert f'</doc/initiative/ai-roadmap.{extension}>; rel="alternate"; type="{media}"' in headers["Link"]
    graph = parse(body, parser)
    for triple in EXPECTED:
        assert triple in graph, triple


#: What Comunica sends: N-Quads first, HTML far down.
COMUNICA = ("application/n-quads,application/trig;q=0.95,application/ld+json;q=0.9,application/n-triples;q=0.8,"
            "text/turtle;q=0.6,application/rdf+xml;q=0.5,text/n3;q=0.35,application/xml;q=0.3,text/xml;q=0.3,"
            "text/html;q=0.2,application/xhtml+xml;q=0.18,application/json;q=0.135")


def test_a_negotiated_document_is_triples_in_the_default_graph(server):
    """Comunica reads the default graph of what it gets: the thing's triples must all be there."""
    status, headers, body = fetch(f"{server}/doc/initiative/ai-roadmap", {"Accept": COMUNICA})
    assert status == 200 and headers.get_content_type() == "application/n-quads"
    dataset = Dataset()
    dataset.parse(data=body.decode("utf-8"), format="nquads")
    assert len(dataset.default_graph) == len(body.decode().splitlines())
    for triple in EXPECTED:
        assert triple in dataset.default_graph, triple
    _, _, named = fetch(f"{server}/doc/initiative/ai-roadmap.nq")  # the graphs, when asked for by name
    graphs = Dataset()
    graphs.parse(data=named.decode("utf-8"), format="nquads")
    assert TITLE_GRAPH in {str(g) for *_, g in graphs.quads((ROADMAP, vocab.DCTERMS.title, None, None))}


@pytest.mark.parametrize(("accept", "media"), [("text/plain, */*;q=0.1", "text/plain"),
                                               ("text/n3, */*;q=0.1", "text/n3")])
def test_rdflibs_old_types_get_n_triples_and_turtle(server, accept, media):
    status, headers, body = fetch(f"{server}/doc/initiative/ai-roadmap", {"Accept": accept})
    assert status == 200 and headers.get_content_type() == media
    graph = parse(body, "nt" if media == "text/plain" else "n3")
    for triple in EXPECTED:
        assert triple in graph, triple


def test_html_by_accept_and_by_extension(server):
    for url, headers in ((f"{server}/doc/initiative/ai-roadmap", {"Accept": "text/html"}),
                         (f"{server}/doc/initiative/ai-roadmap.html", {})):
        status, answer, body = fetch(url, headers)
        assert status == 200 and answer.get_content_type() == "text/html"
        assert "<h1>AI Roadmap</h1>" in body.decode("utf-8")


def test_nothing_acceptable_is_406(server):
    status, headers, body = fetch(f"{server}/doc/initiative/ai-roadmap", {"Accept": "image/png"})
    assert status == 406 and headers.get_content_type() == "application/json"
    assert json.loads(body)["status"] == 406


def test_conditional_requests_are_304(server):
    url = f"{server}/doc/initiative/ai-roadmap"
    status, headers, _ = fetch(url, {"Accept": "text/turtle"})
    assert status == 200 and headers["ETag"] and headers["Last-Modified"]
    status, again, body = fetch(url, {"Accept": "text/turtle", "If-None-Match": headers["ETag"]})
    assert status == 304 and body == b"" and again["ETag"] == headers["ETag"]
    status, _, _ = fetch(url, {"Accept": "text/turtle", "If-Modified-Since": headers["Last-Modified"]})
    assert status == 304
    status, _, _ = fetch(url, {"Accept": "application/n-triples", "If-None-Match": headers["ETag"]})
    assert status == 200  # another representation, another tag


def test_head_answers_like_get_without_a_body(server):
    status, headers, body = fetch(f"{server}/doc/initiative/ai-roadmap.ttl", method="HEAD")
    assert status == 200 and body == b"" and headers.get_content_type() == "text/turtle"


def test_unknown_key_is_a_404_that_helps(server):
    status, headers, body = fetch(f"{server}/id/initiative/ai-roadmapp", {"Accept": "text/html"})
    assert status == 404 and headers.get_content_type() == "text/html"
    text = body.decode("utf-8")
    assert '<li><a href="/doc/initiative/ai-roadmap">AI Roadmap</a>' in text
    assert '<input id="q" name="q" type="search"' in text
    status, headers, body = fetch(f"{server}/id/initiative/ai-roadmapp")
    assert status == 404 and headers.get_content_type() == "application/json"
    assert json.loads(body)["title"] == "Not found"
