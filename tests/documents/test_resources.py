"""Linked-data URIs and resource pages (``web/resources.py``) through Flask's test client.

Each test runs over a small on-disk store: the shared sample triples plus a source section, an
editorial note, links out, a blank node and a resource labelled with markup.
"""

from __future__ import annotations

import html
import json
import re
from datetime import timedelta

import pytest
from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib import namespace as vocab

from conftest import make_dataset, make_live, sample_triples
from nhs_ai_workforce.core.namespaces import GRAPH_DESCRIPTIONS, ProjectNamespaces
from nhs_ai_workforce.core.settings import Settings
from nhs_ai_workforce.web.app import create_app

FOAF, DCTERMS, SKOS, RDF, RDFS = vocab.FOAF, vocab.DCTERMS, vocab.SKOS, vocab.RDF, vocab.RDFS
HOSTILE = '</script><script>alert("x")</script> & <b>bold</b>'
ESCO = URIRef("http://data.europa.eu/esco/occupation/d3edb8f8-3a06-47a0-8fb9-9b212c006aa2")
INTERVAL = URIRef("http://reference.data.gov.uk/id/month/2022-01")
PAGE = URIRef("https://www.example.com/ai-roadmap.pdf")
NOTE = "Dates conflict: the text says January 2022; the file name says March 2022."
NEIGHBOURHOOD = re.compile(r'<script type="application/json" id="neighbourhood-data">(.*?)</script>', re.S)
RDF_TYPES = {
    "text/turtle": "turtle",
    "application/ld+json": "json-ld",
    "application/n-triples": "nt",
    "application/rdf+xml": "xml",
}
QUAD_TYPES = {"application/trig": "trig", "application/n-quads": "nquads"}
EXTENSIONS = {"ttl": "text/turtle", "jsonld": "application/ld+json", "nt": "application/n-triples",
              "rdf": "application/rdf+xml", "trig": "application/trig", "nq": "application/n-quads",
              "html": "text/html"}


def rows_for(ns: ProjectNamespaces) -> list[tuple]:
    """The sample triples and what the pages must show: provenance, notes, links, markup."""
    aiwf = ns.AIWF
    roadmap, hee = ns.thing("initiative", "ai-roadmap"), ns.thing("organisation", "hee")
    section, source = ns.thing("section", "box-1"), ns.thing("source", "background")
    role, hostile, scheme = ns.thing("role", "data-analyst"), ns.thing("role", "hostile"), ns.thing("scheme", "soc")
    finding = BNode("finding")
    return [
        *sample_triples(ns),
        ("background", roadmap, aiwf.publisher, hee),
        ("background", roadmap, aiwf.statedIn, section),
        ("background", roadmap, SKOS.editorialNote, Literal(NOTE, lang="en")),
        ("background", roadmap, aiwf.mentions, hostile),
        ("background", roadmap, aiwf.finding, finding),
        ("background", finding, RDFS.label, Literal("Horizon scan of 240 technologies", lang="en")),
        ("links", roadmap, FOAF.page, PAGE),
        ("links", roadmap, aiwf.issuedInterval, INTERVAL),
        ("inferred", roadmap, RDF.type, aiwf.Initiative),
        ("background", section, RDF.type, aiwf.SourceSection),
        ("background", section, RDFS.label, Literal("AI Roadmap main findings (Box 1)", lang="en")),
        ("background", section, aiwf.locator, Literal("Box 1, heading")),
        ("background", section, DCTERMS.isPartOf, source),
        ("background", source, DCTERMS.title, Literal("The background to this research", lang="en")),
        ("background", role, SKOS.prefLabel, Literal("data analyst", lang="en")),
        ("background", role, SKOS.inScheme, scheme),
        ("mappings", role, SKOS.exactMatch, ESCO),
        ("reference", ESCO, SKOS.prefLabel, Literal("data analyst (ESCO)", lang="en")),
        ("background", hostile, RDFS.label, Literal(HOSTILE)),
        ("background", hostile, RDFS.comment, Literal(HOSTILE, lang="en")),
    ]


def make_client(settings: Settings, rows: list[tuple] | None = None):
    ns = ProjectNamespaces(settings.base)
    make_live(settings, make_dataset(ns, rows_for(ns) if rows is None else rows))
    return create_app({"SETTINGS": settings, "TESTING": True}).test_client()


@pytest.fixture
def client(settings):
    return make_client(settings)


def parse(response, media: str) -> Graph | Dataset:
    """The response body parsed by rdflib as ``media``."""
    if media in QUAD_TYPES:
        dataset = Dataset(default_union=True)
        dataset.parse(data=response.get_data(as_text=True), format=QUAD_TYPES[media])
        return dataset
    return Graph().parse(data=response.get_data(as_text=True), format=RDF_TYPES[media])


def html_page(client, path: str) -> str:
    response = client.get(path, headers={"Accept": "text/html"})
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype == "text/html"
    return response.get_data(as_text=True)


def section(text: str, heading: str) -> str:
    """The part of a page from the heading with id ``heading`` to the end of its section."""
    start = text.index(f'id="{heading}"')
    return text[start:text.index("</section>", start)]


# -- /id/ answers 303 -----------------------------------------------------------------------------


def test_a_thing_answers_303_to_its_document(client):
    response = client.get("/id/initiative/ai-roadmap", headers={"Accept": "text/turtle"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/doc/initiative/ai-roadmap"
    assert response.headers["Link"] == '</doc/initiative/ai-roadmap>; rel="describedby"'


def test_a_thing_only_referred_to_has_a_page(client, ns):
    assert client.get("/id/scheme/soc").status_code == 303
    text = html_page(client, "/doc/scheme/soc")
    assert "The graph states nothing about this resource" in text
    assert 'href="/doc/role/data-analyst"' in text


@pytest.mark.parametrize(("path", "location"), [("/id/", "/doc/"), ("/id/initiative/", "/doc/initiative/"),
                                                ("/id/graph/background", "/doc/graph/background")])
def test_listings_and_graphs_redirect_too(client, path, location):
    response = client.get(path)
    assert response.status_code == 303 and response.headers["Location"] == location


# -- documents by Accept and by extension -----------------------------------------------------------


@pytest.mark.parametrize("media", [*RDF_TYPES, *QUAD_TYPES])
def test_document_by_accept(client, ns, media):
    response = client.get("/doc/initiative/ai-roadmap", headers={"Accept": f"{media}, text/html;q=0.5"})
    assert response.status_code == 200
    assert response.mimetype == media
    assert "Accept" in response.vary
    extension = next(ext for ext, m in EXTENSIONS.items() if m == media)
    if media in QUAD_TYPES:  # the .trig and .nq files keep the graphs: they are another representation
        assert "Content-Location" not in response.headers
    else:
        assert response.headers["Content-Location"] == f"/doc/initiative/ai-roadmap.{extension}"
    graph = parse(response, media)
    roadmap = URIRef(ns.thing("initiative", "ai-roadmap"))
    assert (roadmap, RDFS.label, Literal("AI Roadmap", lang="en")) in graph
    assert (roadmap, FOAF.page, PAGE) in graph
    assert (roadmap, SKOS.editorialNote, Literal(NOTE, lang="en")) in graph
    doc = URIRef(f"{ns.base}/doc/initiative/ai-roadmap")
    assert (doc, FOAF.primaryTopic, roadmap) in graph
    assert (doc, DCTERMS.isPartOf, URIRef(f"{ns.base}/data/void#dataset")) in graph


@pytest.mark.parametrize(("extension", "media"), EXTENSIONS.items())
def test_document_by_extension_ignores_accept(client, extension, media):
    response = client.get(f"/doc/initiative/ai-roadmap.{extension}", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response.mimetype == media
    assert "Content-Location" not in response.headers
    if media != "text/html":
        assert "AI Roadmap" in response.get_data(as_text=True)


def test_browsers_and_wildcards_get_html(client):
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    for accept in (browser, "*/*", None):
        response = client.get("/doc/initiative/ai-roadmap", headers={"Accept": accept} if accept else {})
        assert response.mimetype == "text/html", accept
    as_json = client.get("/doc/initiative/ai-roadmap", headers={"Accept": "application/json"})
    assert as_json.mimetype == "application/json"  # JSON-LD, under the type the client named
    assert as_json.headers["Content-Location"] == "/doc/initiative/ai-roadmap.jsonld"
    assert "AI Roadmap" in parse(as_json, "application/ld+json").serialize(format="nt")


def test_link_headers_name_every_alternate(client, ns):
    response = client.get("/doc/initiative/ai-roadmap.ttl")
    links = response.headers["Link"]
    for extension, media in EXTENSIONS.items():
        assert f'</doc/initiative/ai-roadmap.{extension}>; rel="alternate"; type="{media}"' in links
    assert '</doc/initiative/ai-roadmap>; rel="canonical"' in links
    assert f'<{ns.thing("initiative", "ai-roadmap")}>; rel="describes"' in links


def test_nothing_acceptable_is_406_in_the_error_shape(client):
    response = client.get("/doc/initiative/ai-roadmap", headers={"Accept": "image/png"})
    assert response.status_code == 406
    body = response.get_json()
    assert body["ok"] is False and body["status"] == 406 and "text/turtle" in body["error"]


@pytest.mark.parametrize("media", QUAD_TYPES)
def test_a_negotiated_quad_document_is_triples_in_the_default_graph(client, ns, media):
    """Comunica asks for N-Quads first and reads the default graph: every triple must be there, once."""
    response = client.get("/doc/initiative/topol-review", headers={"Accept": media})
    assert response.mimetype == media
    dataset = Dataset()  # no union: only what the default graph holds
    dataset.parse(data=response.get_data(as_text=True), format=QUAD_TYPES[media])
    assert [str(g.identifier) for g in dataset.graphs() if len(g)] == [str(dataset.default_graph.identifier)]
    topol = URIRef(ns.thing("initiative", "topol-review"))
    assert (topol, RDF.type, ns.AIWF.Review) in dataset.default_graph  # stated in two graphs, one triple
    plain = Graph().parse(data=client.get("/doc/initiative/topol-review.nt").get_data(as_text=True), format="nt")
    assert set(dataset.default_graph) == set(plain)  # the same triples as the N-Triples document


def test_the_document_is_the_union_of_the_graphs_without_repeats(client, ns):
    topol = URIRef(ns.thing("initiative", "topol-review"))
    text = client.get("/doc/initiative/topol-review.nt").get_data(as_text=True)
    review_type = f"<{topol}> <{RDF.type}> <{ns.AIWF.Review}> ."
    assert text.count(review_type) == 1  # stated in background and in inferred
    dataset = parse(client.get("/doc/initiative/topol-review.nq"), "application/n-quads")
    graphs = {str(g) for _, _, _, g in dataset.quads((topol, RDF.type, ns.AIWF.Review, None))}
    assert graphs == {str(ns.graph("background")), str(ns.graph("inferred"))}


def test_blank_nodes_come_with_their_statements(client, ns):
    graph = parse(client.get("/doc/initiative/ai-roadmap.ttl"), "text/turtle")
    (finding,) = graph.objects(URIRef(ns.thing("initiative", "ai-roadmap")), ns.AIWF.finding)
    assert isinstance(finding, BNode)
    assert graph.value(finding, RDFS.label) == Literal("Horizon scan of 240 technologies", lang="en")
    assert "Horizon scan of 240 technologies" in html_page(client, "/doc/initiative/ai-roadmap")


# -- caching --------------------------------------------------------------------------------------


def test_conditional_requests_get_304(client):
    first = client.get("/doc/initiative/ai-roadmap.ttl")
    etag, modified = first.headers["ETag"], first.last_modified
    assert etag and modified is not None
    assert client.get("/doc/initiative/ai-roadmap.ttl", headers={"If-None-Match": etag}).status_code == 304
    since = modified.strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert client.get("/doc/initiative/ai-roadmap.ttl", headers={"If-Modified-Since": since}).status_code == 304
    earlier = (modified - timedelta(days=1)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert client.get("/doc/initiative/ai-roadmap.ttl", headers={"If-Modified-Since": earlier}).status_code == 200
    other = client.get("/doc/initiative/ai-roadmap.nt", headers={"If-None-Match": etag})
    assert other.status_code == 200 and other.headers["ETag"] != etag


def test_a_new_build_changes_the_validators(settings, ns):
    client = make_client(settings)
    before = client.get("/doc/initiative/ai-roadmap.ttl").headers["ETag"]
    rows = [*rows_for(ns), ("background", ns.thing("initiative", "ai-roadmap"), RDFS.comment, Literal("new"))]
    make_live(settings, make_dataset(ns, rows))
    response = client.get("/doc/initiative/ai-roadmap.ttl", headers={"If-None-Match": before})
    assert response.status_code == 200 and '"new"' in response.get_data(as_text=True)


# -- not found ------------------------------------------------------------------------------------


def test_unknown_key_gets_a_page_that_helps(client):
    response = client.get("/id/initiative/ai-roadmapp", headers={"Accept": "text/html"})
    assert response.status_code == 404 and response.mimetype == "text/html"
    assert "Accept" in response.vary
    text = response.get_data(as_text=True)
    nearest = re.findall(r'<li><a href="([^"]+)">', re.search(r'<ul class="nearest">(.*?)</ul>', text, re.S).group(1))
    assert len(nearest) == 5 and nearest[0] == "/doc/initiative/ai-roadmap"
    assert '<form class="search" method="get" action="/doc/"' in text
    assert 'value="ai roadmapp"' in text
    assert client.get("/doc/initiative/ai-roadmapp", headers={"Accept": "text/html"}).status_code == 404


def test_unknown_key_gets_the_json_error_shape_for_api_clients(client):
    response = client.get("/doc/initiative/ai-roadmapp", headers={"Accept": "text/turtle"})
    assert response.status_code == 404 and response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"ok", "status", "title", "error", "line", "column"}
    assert body["status"] == 404 and "/id/initiative/ai-roadmapp" in body["error"]
    assert "AI Roadmap (/doc/initiative/ai-roadmap)" in body["error"]


# -- the HTML page --------------------------------------------------------------------------------


def test_page_shows_label_types_properties_and_linked_labels(client):
    text = html_page(client, "/doc/initiative/ai-roadmap")
    assert "<h1>AI Roadmap</h1>" in text
    # the type, by its label, its prefixed name beside it
    assert '<a href="/def/aiwf/Review" title="aiwf:Review">Review</a> <small class="curie">aiwf:Review</small>' in text
    assert '<a href="/doc/organisation/hee" class="local">Health Education England</a>' in text
    assert "240" in text and "xsd:integer" in text
    assert "Line one\nline &#34;two&#34;, with\ttab" in text
    assert '<a href="https://www.example.com/ai-roadmap.pdf" class="external" rel="external">' in text


def test_page_shows_the_editorial_note_first(client):
    text = html_page(client, "/doc/initiative/ai-roadmap")
    assert text.index('class="notice editorial-notes"') < text.index('id="properties-heading"')
    assert NOTE in section(text, "notes-heading")


def test_page_shows_provenance(client):
    text = html_page(client, "/doc/initiative/ai-roadmap")
    stated_in = section(text, "sources-heading")
    assert '<a href="/doc/section/box-1">AI Roadmap main findings (Box 1)</a>' in stated_in
    assert "Box 1, heading" in stated_in
    assert '<a href="/doc/source/background">The background to this research</a>' in stated_in
    provenance = section(text, "provenance-heading")
    for name in ("background", "links", "inferred"):
        assert html.escape(GRAPH_DESCRIPTIONS[name]) in provenance
    assert GRAPH_DESCRIPTIONS["reference"] not in provenance
    # each fact names its graph: the page is from the links graph
    row = re.search(r'ai-roadmap\.pdf.*?</tr>', text, re.S).group(0)
    assert 'href="/doc/graph/links"' in row


def test_page_shows_links_elsewhere_and_mappings(client):
    links = section(html_page(client, "/doc/initiative/ai-roadmap"), "links-heading")
    assert str(INTERVAL) in links and str(PAGE) in links
    links = section(html_page(client, "/doc/role/data-analyst"), "links-heading")
    assert "data analyst (ESCO)" in links and f'href="{ESCO}"' in links
    assert 'href="/doc/graph/mappings"' in links


def test_inferred_facts_are_set_apart(client):
    text = html_page(client, "/doc/initiative/ai-roadmap")
    properties, inferred = section(text, "properties-heading"), section(text, "inferred-heading")
    assert "/def/aiwf/Initiative" not in properties
    assert 'href="/def/aiwf/Initiative"' in inferred


def test_page_lists_incoming_links(client):
    text = html_page(client, "/doc/organisation/hee")
    incoming = section(text, "incoming-heading")
    assert '<a href="/doc/initiative/topol-review">The Topol Review</a>' in incoming
    assert '<a href="/doc/initiative/ai-roadmap">AI Roadmap</a>' in incoming


def test_incoming_links_are_bounded(settings, ns):
    target = ns.thing("organisation", "popular")
    rows = [("background", target, RDFS.label, Literal("Popular"))]
    rows += [("background", ns.thing("initiative", f"i{n:03}"), ns.AIWF.publisher, target) for n in range(503)]
    text = html_page(make_client(settings, rows), "/doc/organisation/popular")
    assert len(re.findall(r'<td><a href="/doc/initiative/i\d{3}">', text)) == 500
    assert "and 3 more" in text and "every incoming statement as CSV" in text


def test_neighbourhood_graph_is_embedded_json(client, ns):
    text = html_page(client, "/doc/initiative/ai-roadmap")
    graph = json.loads(NEIGHBOURHOOD.search(text).group(1))
    nodes = {node["id"]: node for node in graph["nodes"]}
    assert graph["nodes"][0]["id"] == str(ns.thing("initiative", "ai-roadmap"))
    assert nodes[str(ns.thing("organisation", "hee"))] == {
        "id": str(ns.thing("organisation", "hee")), "name": "Health Education England",
        "href": "/doc/organisation/hee", "category": 1}
    assert nodes[str(PAGE)]["category"] == 2
    assert str(ns.AIWF.Review) not in nodes  # types are left out
    index = [node["id"] for node in graph["nodes"]]
    publisher = {"source": 0, "target": index.index(str(ns.thing("organisation", "hee"))), "name": "publisher"}
    assert publisher in graph["links"]
    assert '<script src="/static/vendor/echarts/echarts.min.js?v=' in text
    assert '<script src="/static/neighbourhood.js"></script>' in text


def test_markup_in_literals_is_escaped_in_html_and_in_the_embedded_json(client):
    text = html_page(client, "/doc/role/hostile")
    assert "<b>" not in text and 'alert("x")' not in text
    assert "&lt;/script&gt;&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in text
    tags = re.findall(r"<script\b[^>]*>", text)
    assert tags[0] == '<script type="application/json" id="neighbourhood-data">'
    assert all(re.fullmatch(r'<script src="/static/[^"]+">', tag) for tag in tags[1:])
    assert len(tags) == text.count("</script>") == 3
    # the page that links to it carries the label in its graph JSON, escaped for a script element
    block = NEIGHBOURHOOD.search(html_page(client, "/doc/initiative/ai-roadmap")).group(1)
    assert "<" not in block and ">" not in block and "&" not in block
    assert HOSTILE in [node["name"] for node in json.loads(block)["nodes"]]


def test_pages_carry_a_content_security_policy(client):
    response = client.get("/doc/initiative/ai-roadmap", headers={"Accept": "text/html"})
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


# -- browsing -------------------------------------------------------------------------------------


def test_browse_lists_the_kinds_with_counts(client):
    text = html_page(client, "/doc/")
    rows = dict(re.findall(r'<a href="/doc/([a-z-]+)/">[a-z-]+</a></td><td>[^<]*</td><td class="number">(\d+)</td>',
                           text))
    assert rows == {"initiative": "2", "organisation": "1", "role": "2", "scheme": "1", "section": "1", "source": "1"}
    assert 'href="/doc/graph/background"' in text


def test_browse_a_kind_and_filter_it_by_label(client):
    text = html_page(client, "/doc/initiative/")
    assert '<a href="/doc/initiative/ai-roadmap">AI Roadmap</a>' in text
    assert '<a href="/doc/initiative/topol-review">The Topol Review</a>' in text
    filtered = html_page(client, "/doc/initiative/?q=topol")
    assert "/doc/initiative/topol-review" in filtered and "/doc/initiative/ai-roadmap" not in filtered
    assert "1 match for" in filtered


def test_search_every_label_and_suggest_when_nothing_matches(client):
    found = html_page(client, "/doc/?q=health")
    assert '<a href="/doc/organisation/hee">Health Education England</a>' in found
    missed = html_page(client, "/doc/?q=Topl+reviw")
    assert "0 matches" in missed
    nearest = re.search(r'<ul class="nearest">(.*?)</ul>', missed, re.S).group(1)
    assert nearest.startswith('<li><a href="/doc/initiative/topol-review">')


def test_an_unknown_kind_is_404(client):
    assert client.get("/doc/nothing/", headers={"Accept": "text/html"}).status_code == 404


# -- named graphs ---------------------------------------------------------------------------------


def test_graph_pages_describe_the_graph(client, ns):
    text = html_page(client, "/doc/graph/links")
    assert html.escape(GRAPH_DESCRIPTIONS["links"]) in text
    assert "2 triples" in text
    graph = parse(client.get("/doc/graph/links", headers={"Accept": "text/turtle"}), "text/turtle")
    links = URIRef(ns.graph("links"))
    assert graph.value(links, vocab.VOID.triples).toPython() == 2
    assert graph.value(links, DCTERMS.description) == Literal(GRAPH_DESCRIPTIONS["links"], lang="en")
    listing = html_page(client, "/doc/graph/")
    assert all(f'href="/doc/graph/{name}"' in listing for name in GRAPH_DESCRIPTIONS)
    assert client.get("/doc/graph/nothing", headers={"Accept": "text/html"}).status_code == 404


# -- another base ---------------------------------------------------------------------------------


def test_the_same_routes_serve_data_minted_under_another_base(tmp_path):
    settings = Settings(root=tmp_path).with_(base="https://data.example.gov.uk", store_dir=tmp_path / "store")
    client = make_client(settings)
    ns = ProjectNamespaces("https://data.example.gov.uk")
    response = client.get("/id/initiative/ai-roadmap")
    assert response.status_code == 303 and response.headers["Location"] == "/doc/initiative/ai-roadmap"
    graph = parse(client.get("/doc/initiative/ai-roadmap.ttl"), "text/turtle")
    roadmap = URIRef("https://data.example.gov.uk/id/initiative/ai-roadmap")
    assert (roadmap, RDFS.label, Literal("AI Roadmap", lang="en")) in graph
    assert (URIRef("https://data.example.gov.uk/doc/initiative/ai-roadmap"), FOAF.primaryTopic, roadmap) in graph
    text = html_page(client, "/doc/initiative/ai-roadmap")
    assert "https://data.example.gov.uk/id/initiative/ai-roadmap" in text
    assert '<a href="/doc/organisation/hee" class="local">Health Education England</a>' in text
    assert "nhs-ai-workforce.example.org" not in text
    assert str(ns.graph("background")) in html_page(client, "/doc/graph/background")


def test_the_catalogue_is_read_once_per_build(settings, monkeypatch):
    from nhs_ai_workforce.web import resources

    made = []
    real = resources.read_catalogue
    monkeypatch.setattr(resources, "read_catalogue", lambda *args: made.append(args) or real(*args))
    client = make_client(settings)
    for path in ("/doc/", "/doc/initiative/", "/id/initiative/ai-roadmap", "/doc/initiative/ai-roadmap"):
        assert client.get(path).status_code in (200, 303), path
    assert len(made) == 1
    ns = ProjectNamespaces(settings.base)
    renamed = [*rows_for(ns), ("background", ns.thing("initiative", "later"), RDFS.label, Literal("Later", lang="en"))]
    make_live(settings, make_dataset(ns, renamed))
    assert "Later" in client.get("/doc/initiative/").get_data(as_text=True)
    assert len(made) == 2


def test_referred_to_by_folds_entailed_super_property_and_inverse_repeats():
    import pyoxigraph as ox

    from nhs_ai_workforce.core.namespaces import ProjectNamespaces
    from nhs_ai_workforce.documents.catalogue import read_catalogue
    from nhs_ai_workforce.documents.describe import describe

    ns = ProjectNamespaces("https://example.org")
    skos, owl, rdfs = "http://www.w3.org/2004/02/skos/core#", "http://www.w3.org/2002/07/owl#", str(RDFS)
    store = ox.Store()

    def add(graph, s, p, o):
        store.add(ox.Quad(ox.NamedNode(s), ox.NamedNode(p), ox.NamedNode(o), ox.NamedNode(str(ns.graph(graph)))))

    role, other = str(ns.thing("role", "r")), str(ns.thing("role", "o"))
    esco = "http://data.europa.eu/esco/occupation/x"
    add("ontology", skos + "exactMatch", str(RDF.type), owl + "SymmetricProperty")
    add("ontology", skos + "exactMatch", rdfs + "subPropertyOf", skos + "closeMatch")
    add("ontology", skos + "closeMatch", rdfs + "subPropertyOf", skos + "mappingRelation")
    add("ontology", skos + "broader", owl + "inverseOf", skos + "narrower")
    add("mappings", role, skos + "exactMatch", esco)
    for prop in ("exactMatch", "closeMatch", "mappingRelation"):
        add("inferred", esco, skos + prop, role)  # the inverse of the role's own match, and its super-properties
    add("background", other, skos + "broader", role)  # asserted: always shown
    add("inferred", other, skos + "mappingRelation", role)  # entailed, but no sub-property or inverse shown: kept
    description = describe(store, role, read_catalogue(store, ns))
    assert [(row.subject, row.predicate_name, row.predicate_curie) for row in description.incoming] == [
        (other, "broader", "skos:broader"), (other, "mapping relation", "skos:mappingRelation"),
    ]
    assert (description.incoming_total, description.incoming_folded) == (2, 3)
