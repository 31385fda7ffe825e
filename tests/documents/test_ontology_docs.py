"""The ontology at /def/: its documentation page, its RDF by content negotiation, term redirects.

Most tests run against the real seeds (the session ``seeded_store``) through Flask's test
client; one builds the seeds under another base, one talks to a real ``aiwf serve`` process.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from html.parser import HTMLParser
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SKOS

from conftest import make_dataset, make_live
from nhs_ai_workforce.core.namespaces import DEFAULT, ProjectNamespaces
from nhs_ai_workforce.core.settings import DEFAULT_BASE, Settings
from nhs_ai_workforce.documents import ontology as ontology_doc
from nhs_ai_workforce.pipeline.rebase import rebase_graph
from nhs_ai_workforce.web.app import create_app

ONTOLOGY_FILE = Settings().ontology_dir / "aiwf.ttl"
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
KINDS = (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty)
RDF_SYNTAXES = {
    "text/turtle": "turtle",
    "application/rdf+xml": "xml",
    "application/ld+json": "json-ld",
    "application/n-triples": "nt",
}
EXTENSIONS = {"ttl": "text/turtle", "rdf": "application/rdf+xml", "jsonld": "application/ld+json",
              "nt": "application/n-triples", "html": "text/html"}
ERROR_KEYS = {"ok", "status", "title", "error", "line", "column"}


@pytest.fixture(scope="module")
def ontology() -> Graph:
    return Graph().parse(ONTOLOGY_FILE)


def terms_of(graph: Graph, ns: ProjectNamespaces = DEFAULT) -> dict[str, URIRef]:
    """Local name -> IRI of every class and property the ontology file defines."""
    found = {}
    for kind in KINDS:
        for term in graph.subjects(RDF.type, kind):
            if str(term).startswith(str(ns.AIWF)):
                found[str(term)[len(str(ns.AIWF)):]] = term
    return found


def app_for(store: Path, **settings):
    return create_app({"SETTINGS": Settings().with_(store_dir=store, **settings), "EXECUTOR": "in-process"})


@pytest.fixture(scope="module")
def client(seeded_store):
    return app_for(seeded_store).test_client()


@pytest.fixture(scope="module")
def page(client) -> Page:
    response = client.get("/def/aiwf", headers={"Accept": BROWSER})
    assert response.status_code == 200
    return Page.parse(response.get_data(as_text=True))


class Page(HTMLParser):
    """The ids of a page, with the text and the links inside each element that has one."""

    VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"})

    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.texts: dict[str, list[str]] = {}
        self.links: dict[str, list[str]] = {}
        self.hrefs: list[str] = []
        self._open: list[tuple[str, str | None]] = []

    @classmethod
    def parse(cls, html: str) -> Page:
        parser = cls()
        parser.feed(html)
        parser.close()
        return parser

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "href" in attrs:
            self.hrefs.append(attrs["href"])
            for _, open_id in self._open:
                if open_id:
                    self.links[open_id].append(attrs["href"])
        if tag in self.VOID:
            return
        self._open.append((tag, attrs.get("id")))
        if attrs.get("id"):
            self.ids.append(attrs["id"])
            self.texts[attrs["id"]] = []
            self.links[attrs["id"]] = []

    def handle_endtag(self, tag):
        while self._open and self._open.pop()[0] != tag:
            pass

    def handle_data(self, data):
        for _, open_id in self._open:
            if open_id:
                self.texts[open_id].append(data)

    def text(self, element_id: str) -> str:
        return " ".join(" ".join(self.texts[element_id]).split())


def parse(body: bytes, media_type: str) -> Graph:
    return Graph().parse(data=body, format=RDF_SYNTAXES[media_type])


def no_redirect_opener() -> urllib.request.OpenerDirector:
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    return urllib.request.build_opener(NoRedirect)


# -- the documentation page ---------------------------------------------------------------------


def test_every_class_and_property_has_an_anchor_and_its_label(page, ontology):
    terms = terms_of(ontology)
    assert len(terms) > 60
    for name, iri in terms.items():
        assert name in page.texts, f"no element with id {name!r}"
        entry = page.text(name)
        label = str(ontology.value(iri, RDFS.label))
        assert label in entry, name
        assert str(iri) in entry, name
        assert str(ontology.value(iri, SKOS.definition)) in entry, name
        assert f"#{name}" in page.links["sec-contents"], f"{name} is not in the table of contents"


def test_anchors_are_unique_and_nothing_else_is_documented_as_a_term(page, ontology):
    assert len(page.ids) == len(set(page.ids)), "duplicate ids make anchors ambiguous"
    toc_terms = {href[1:] for href in page.links["sec-contents"] if not href.startswith("#sec-")}
    assert toc_terms == set(terms_of(ontology))


def test_each_entry_links_its_related_terms(page, ontology):
    """Super classes and properties, domains, ranges and inverses, both ways, link to their anchors."""
    terms = terms_of(ontology)
    aiwf = str(DEFAULT.AIWF)
    checked = 0
    for predicate in (RDFS.subClassOf, RDFS.subPropertyOf, RDFS.domain, RDFS.range, OWL.inverseOf):
        for s, o in ontology.subject_objects(predicate):
            source = str(s)[len(aiwf):]
            if str(o).startswith(aiwf):
                target = str(o)[len(aiwf):]
                assert f"#{target}" in page.links[source], (source, predicate, target)
                if predicate in (RDFS.subClassOf, RDFS.subPropertyOf, OWL.inverseOf):
                    assert f"#{source}" in page.links[target], (target, "inverse of", predicate, source)
            else:
                assert str(o) in page.links[source], (source, predicate, o)
            checked += 1
    assert checked > 100
    assert set(terms) >= {"follows", "followedBy"}


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("follows", ["Inverse of", "followed by", "Characteristics", "transitive"]),
        ("followedBy", ["Inverse of", "follows", "transitive"]),  # inverseOf is only stated on follows
        ("issuedPrecision", ["Characteristics", "functional", "xsd:string"]),
        ("breakdown", ["Also a", "qb:DimensionProperty"]),
        ("Initiative", ["Subclass of", "prov:Entity", "Superclass of", "Publication", "In the domain of", "follows"]),
        ("originatesIn", ["Subproperty of", "prov:wasInfluencedBy"]),
    ],
)
def test_entries_state_characteristics_and_reused_terms(page, name, shown):
    entry = page.text(name)
    for text in shown:
        assert text in entry, (name, text)


def test_functional_is_only_said_of_functional_properties(page, ontology):
    for name, iri in terms_of(ontology).items():
        if (iri, RDF.type, OWL.Class) in ontology:
            continue
        functional = (iri, RDF.type, OWL.FunctionalProperty) in ontology
        characteristics = page.text(name).partition("Characteristics")[2].partition("Statements")[0]
        assert ("functional" in characteristics) == functional, name


def test_the_header_gives_the_ontology_metadata(page, ontology, client):
    html = client.get("/def/aiwf.html").get_data(as_text=True)
    header = page.text("sec-metadata")
    assert f"<h1>{ontology.value(DEFAULT.ontology, DCTERMS.title)}</h1>" in html
    assert "Version 0.1.0" in html
    assert " ".join(str(ontology.value(DEFAULT.ontology, DCTERMS.description)).split()) in header
    for label in ("Version IRI", "Licence", "Creator", "Created", "Modified", "Preferred prefix", "Namespace"):
        assert label in header
    assert "http://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/" in page.links["sec-metadata"]
    assert "NHS AI workforce knowledge graph maintainers" in header  # the creator's foaf:name, from reused.ttl
    assert "/doc/organisation/aiwf-project" in page.links["sec-metadata"]
    assert "/def/aiwf/0.1.0" in page.links["sec-metadata"]
    for extension in ("ttl", "rdf", "jsonld", "nt"):
        assert f"/def/aiwf.{extension}" in page.links["sec-metadata"]


def test_classes_link_to_where_their_instances_are_browsed(page):
    assert "/doc/initiative/" in page.links["Review"]
    assert "/doc/role/" in page.links["RoleConcept"]
    assert "Instances" in page.text("AITechnology")  # no instances yet: still says so
    assert "0 instances" in page.text("AITechnology")


# -- the RDF document ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("text/turtle", "text/turtle"),
        ("application/rdf+xml", "application/rdf+xml"),
        ("application/ld+json", "application/ld+json"),
        ("application/n-triples", "application/n-triples"),
        (None, "text/turtle"),
        ("*/*", "text/turtle"),
        ("application/json", "application/ld+json"),
        ("text/turtle;q=0.5, application/n-triples", "application/n-triples"),
        ("text/*;q=0.9, text/html;q=0.1", "text/turtle"),
        ("application/rdf+xml;q=0.9, text/html;q=0.8", "application/rdf+xml"),
    ],
)
def test_the_ontology_iri_answers_rdf_by_accept(client, ontology, accept, expected):
    response = client.get("/def/aiwf", headers={"Accept": accept} if accept else {})
    assert response.status_code == 200
    assert response.mimetype == expected
    assert "Accept" in response.vary
    assert isomorphic(parse(response.data, expected), ontology)


def test_the_ontology_iri_answers_the_page_to_browsers(client):
    response = client.get("/def/aiwf", headers={"Accept": BROWSER})
    assert response.mimetype == "text/html"
    assert response.headers["Content-Location"] == "/def/aiwf.html"
    assert 'id="Review"' in response.get_data(as_text=True)


def test_the_rdf_document_leaves_the_reused_declarations_out(client):
    graph = parse(client.get("/def/aiwf.ttl").data, "text/turtle")
    assert (URIRef("http://purl.org/dc/terms/title"), RDF.type, OWL.DatatypeProperty) not in graph
    subjects = {str(s) for s in graph.subjects()}
    assert all(s == str(DEFAULT.ontology) or s.startswith(str(DEFAULT.AIWF)) for s in subjects)


@pytest.mark.parametrize(("extension", "media_type"), EXTENSIONS.items())
def test_each_extension_names_one_representation(client, ontology, extension, media_type):
    response = client.get(f"/def/aiwf.{extension}", headers={"Accept": "image/png"})  # Accept is ignored
    assert response.status_code == 200
    assert response.mimetype == media_type
    assert "Accept" not in response.vary
    if media_type == "text/html":
        assert 'id="follows"' in response.get_data(as_text=True)
    else:
        assert isomorphic(parse(response.data, media_type), ontology)
    links = response.headers["Link"]
    for other_extension, other_type in EXTENSIONS.items():
        assert (f'</def/aiwf.{other_extension}>; rel="alternate"; type="{other_type}"' in links) == (
            other_type != media_type
        )


def test_an_unknown_extension_is_404_naming_the_real_ones(client):
    response = client.get("/def/aiwf.owl")
    assert response.status_code == 404
    assert set(response.json) == ERROR_KEYS
    assert "/def/aiwf.ttl" in response.json["error"]


def test_a_format_parameter_overrides_accept(client):
    response = client.get("/def/aiwf?format=nt", headers={"Accept": "text/turtle"})
    assert response.mimetype == "application/n-triples"


def test_nothing_acceptable_is_406_in_the_error_shape(client):
    response = client.get("/def/aiwf", headers={"Accept": "image/png, text/html;q=0"})
    assert response.status_code == 406
    assert set(response.json) == ERROR_KEYS
    assert "text/turtle" in response.json["error"] and "text/html" in response.json["error"]


@pytest.mark.parametrize("accept", ["text/turtle", BROWSER, "application/ld+json"])
def test_conditional_requests_get_304(client, accept):
    first = client.get("/def/aiwf", headers={"Accept": accept})
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert first.status_code == 200 and etag and modified
    assert client.get("/def/aiwf", headers={"Accept": accept, "If-None-Match": etag}).status_code == 304
    assert client.get("/def/aiwf", headers={"Accept": accept, "If-Modified-Since": modified}).status_code == 304
    stale = client.get("/def/aiwf", headers={"Accept": accept, "If-None-Match": '"stale"'})
    assert stale.status_code == 200 and stale.data == first.data


def test_each_representation_has_its_own_etag(client):
    tags = {client.get(f"/def/aiwf.{extension}").headers["ETag"] for extension in EXTENSIONS}
    assert len(tags) == len(EXTENSIONS)


def test_head_answers_like_get_without_a_body(client):
    response = client.head("/def/aiwf", headers={"Accept": "text/turtle"})
    assert response.status_code == 200
    assert response.data == b""
    assert int(response.headers["Content-Length"]) > 1000


# -- term IRIs ----------------------------------------------------------------------------------


def test_every_term_iri_redirects_browsers_to_its_anchor(client, ontology):
    for name in terms_of(ontology):
        response = client.get(f"/def/aiwf/{name}", headers={"Accept": BROWSER})
        assert response.status_code == 303, name
        assert response.headers["Location"] == f"/def/aiwf#{name}"
        assert "Accept" in response.vary


@pytest.mark.parametrize(
    ("accept", "location"),
    [
        ("text/turtle", "/def/aiwf.ttl"),
        ("application/rdf+xml", "/def/aiwf.rdf"),
        ("application/ld+json", "/def/aiwf.jsonld"),
        ("application/n-triples", "/def/aiwf.nt"),
        (None, "/def/aiwf.ttl"),
    ],
)
def test_term_iris_redirect_rdf_clients_to_the_document(client, accept, location):
    response = client.get("/def/aiwf/Review", headers={"Accept": accept} if accept else {})
    assert response.status_code == 303
    assert response.headers["Location"] == location
    followed = client.get(location)
    media_type = EXTENSIONS[location.rsplit(".", 1)[1]]
    assert (DEFAULT.AIWF.Review, RDFS.label, Literal("Review", lang="en")) in parse(followed.data, media_type)


def test_the_namespace_redirects_to_the_document(client):
    assert client.get("/def/aiwf/", headers={"Accept": BROWSER}).headers["Location"] == "/def/aiwf"
    assert client.get("/def/aiwf/", headers={"Accept": "text/turtle"}).headers["Location"] == "/def/aiwf.ttl"


def test_the_version_iri_answers_the_current_document(client, ontology):
    version = ontology.value(DEFAULT.ontology, OWL.versionIRI)
    path = str(version)[len(DEFAULT_BASE):]
    response = client.get(path, headers={"Accept": "text/turtle"})
    assert response.status_code == 200
    assert isomorphic(parse(response.data, "text/turtle"), ontology)
    assert 'id="Review"' in client.get(path, headers={"Accept": BROWSER}).get_data(as_text=True)


@pytest.mark.parametrize(
    ("name", "suggested"), [("Reveiw", "Review"), ("review", "Review"), ("followsBy", "followedBy")]
)
def test_an_unknown_term_is_404_naming_the_nearest_terms(client, name, suggested):
    response = client.get(f"/def/aiwf/{name}", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert set(response.json) == ERROR_KEYS
    assert suggested in response.json["error"]


def test_an_unknown_term_far_from_any_says_where_the_list_is(client):
    response = client.get("/def/aiwf/Zzzzzz", headers={"Accept": BROWSER})
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "/def/aiwf lists every term" in response.get_data(as_text=True)


# -- /def/ --------------------------------------------------------------------------------------


def test_def_lists_the_vocabulary_for_browsers(client):
    response = client.get("/def/", headers={"Accept": BROWSER})
    page = Page.parse(response.get_data(as_text=True))
    html = response.get_data(as_text=True)
    assert "NHS AI workforce ontology" in html and "0.1.0" in html
    assert {"/def/aiwf", "/def/aiwf/0.1.0", "/def/aiwf.ttl", "/def/aiwf.jsonld"} <= set(page.hrefs)


def test_def_lists_the_vocabulary_as_json(client):
    response = client.get("/def/", headers={"Accept": "application/json"})
    [vocabulary] = response.json["vocabularies"]
    assert vocabulary["iri"] == str(DEFAULT.ontology)
    assert vocabulary["versionIRI"] == str(DEFAULT.version)
    assert vocabulary["documents"]["text/turtle"].endswith("/def/aiwf.ttl")


# -- other bases, other stores ------------------------------------------------------------------


OTHER_BASE = "https://data.example.gov.uk"


@pytest.fixture(scope="module")
def other_base_client(tmp_path_factory):
    """The real seeds built and served under :data:`OTHER_BASE`."""
    from nhs_ai_workforce.pipeline.build import build

    store = tmp_path_factory.mktemp("other-base") / "store"
    build(Settings().with_(base=OTHER_BASE, store_dir=store), write_dumps=False)
    return app_for(store, base=OTHER_BASE).test_client()


def test_served_under_another_base_the_rdf_and_the_page_use_it(other_base_client, ontology):
    client = other_base_client
    graph = parse(client.get("/def/aiwf.ttl").data, "text/turtle")
    assert isomorphic(graph, rebase_graph(ontology, DEFAULT_BASE, OTHER_BASE))
    iris = {term for triple in graph for term in triple if isinstance(term, URIRef)}
    assert not [iri for iri in iris if iri.startswith(DEFAULT_BASE + "/")]
    page = Page.parse(client.get("/def/aiwf", headers={"Accept": BROWSER}).get_data(as_text=True))
    assert not [href for href in page.hrefs if DEFAULT_BASE in href]
    for name in terms_of(ontology):
        assert f"{OTHER_BASE}/def/aiwf/{name}" in page.text(name)
        assert DEFAULT_BASE not in page.text(name)
    assert client.get("/def/aiwf/Review", headers={"Accept": BROWSER}).headers["Location"] == "/def/aiwf#Review"
    listed = client.get("/def/", headers={"Accept": "application/json"}).json["vocabularies"][0]
    assert listed["iri"] == f"{OTHER_BASE}/def/aiwf"


def test_served_under_another_base_the_preferred_namespace_moves_too(other_base_client):
    assert DEFAULT_BASE not in other_base_client.get("/def/aiwf.ttl").get_data(as_text=True)


def _ontology_store(settings, rows_for) -> None:
    ns = ProjectNamespaces(settings.base)
    rows = [("ontology", s, p, o) for s, p, o in rows_for(ns)]
    make_live(settings, make_dataset(ns, rows))


def test_literals_are_escaped(settings):
    evil = '<script>alert("label")</script>'

    def rows(ns):
        term = ns.AIWF.Evil
        return [
            (ns.ontology, RDF.type, OWL.Ontology),
            (ns.ontology, DCTERMS.title, Literal("<b>Bold</b> & co", lang="en")),
            (ns.ontology, DCTERMS.description, Literal("<img src=x onerror=alert(1)>")),
            (term, RDF.type, OWL.Class),
            (term, RDFS.label, Literal(evil, lang="en")),
            (term, SKOS.definition, Literal("<i>in</i> & <u>out</u>")),
            (term, RDFS.comment, Literal("</article><h1>broken")),
        ]

    _ontology_store(settings, rows)
    html = app_for(settings.store_path).test_client().get("/def/aiwf.html").get_data(as_text=True)
    for raw in (evil, "<b>Bold</b>", "<img src=x", "<i>in</i>", "</article><h1>"):
        assert raw not in html
    assert "&lt;script&gt;alert(&#34;label&#34;)&lt;/script&gt;" in html
    assert "&lt;b&gt;Bold&lt;/b&gt; &amp; co" in html
    page = Page.parse(html)
    assert "Evil" in page.ids and "<i>in</i> & <u>out</u>" in page.text("Evil")


def test_a_store_without_the_ontology_is_a_clear_500(settings, built_store):
    response = app_for(settings.store_path).test_client().get("/def/aiwf", headers={"Accept": "application/json"})
    assert response.status_code == 500
    assert set(response.json) == ERROR_KEYS
    assert "owl:Ontology" in response.json["error"]


def test_the_document_is_made_once_per_build(settings, monkeypatch):
    def rows(ns):
        return [(ns.ontology, RDF.type, OWL.Ontology), (ns.ontology, DCTERMS.title, Literal("First"))]

    _ontology_store(settings, rows)
    made = []
    real = ontology_doc.make_doc
    monkeypatch.setattr(ontology_doc, "make_doc", lambda *args: made.append(args) or real(*args))
    client = app_for(settings.store_path).test_client()
    for accept in ("text/turtle", BROWSER, "text/turtle", "application/n-triples"):
        assert client.get("/def/aiwf", headers={"Accept": accept}).status_code == 200
    client.get("/def/aiwf/", headers={"Accept": BROWSER})
    assert len(made) == 1
    _ontology_store(settings, lambda ns: [*rows(ns)[:1], (ns.ontology, DCTERMS.title, Literal("Second"))])
    assert "Second" in client.get("/def/aiwf.ttl").get_data(as_text=True)
    assert len(made) == 2


def test_the_rdf_bytes_do_not_vary_between_runs(seeded_store):
    import pyoxigraph as ox

    store = ox.Store.read_only(str(seeded_store.resolve()))
    first, second = (ontology_doc.make_doc(store, DEFAULT_BASE).rdf for _ in range(2))
    assert first == second  # the ETag is a hash of the bytes, so every worker must write the same


# -- a real server ------------------------------------------------------------------------------


def test_a_real_server_publishes_the_ontology(seeded_server, ontology):
    request = urllib.request.Request(f"{seeded_server}/def/aiwf", headers={"Accept": "text/turtle"})
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.headers.get_content_type() == "text/turtle"
        assert "Accept" in response.headers["Vary"]
        etag = response.headers["ETag"]
        assert isomorphic(parse(response.read(), "text/turtle"), ontology)

    conditional = urllib.request.Request(
        f"{seeded_server}/def/aiwf", headers={"Accept": "text/turtle", "If-None-Match": etag}
    )
    with pytest.raises(urllib.error.HTTPError) as not_modified:
        urllib.request.urlopen(conditional, timeout=30)
    assert not_modified.value.code == 304

    opener = no_redirect_opener()
    term = urllib.request.Request(f"{seeded_server}/def/aiwf/follows", headers={"Accept": BROWSER})
    with pytest.raises(urllib.error.HTTPError) as see_other:
        opener.open(term, timeout=30)
    assert see_other.value.code == 303
    assert see_other.value.headers["Location"] == "/def/aiwf#follows"


def test_a_real_server_answers_unknown_terms_in_the_error_shape(seeded_server):
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(f"{seeded_server}/def/aiwf/Reveiw", timeout=30)
    assert missing.value.code == 404
    body = json.loads(missing.value.read())
    assert set(body) == ERROR_KEYS and "Review" in body["error"]


def test_a_browser_following_a_term_iri_lands_on_its_entry(browser, seeded_server):
    page = browser.new_page(viewport={"width": 1000, "height": 700})
    try:
        page.goto(f"{seeded_server}/def/aiwf/TechnologySubtype")
        assert page.url == f"{seeded_server}/def/aiwf#TechnologySubtype"
        entry = page.locator("article:target")
        assert entry.get_attribute("id") == "TechnologySubtype"
        assert "Technology subtype" in entry.locator("h3").inner_text()
        assert entry.is_visible() and 0 <= entry.bounding_box()["y"] < 700  # scrolled to the entry
    finally:
        page.close()


def test_a_class_without_instances_points_to_where_its_figures_are(page):
    """aiwf:AITechnology has no instances: its entry sends readers to the Roadmap's observations."""
    entry = page.text("AITechnology")
    assert "no instance of this class" in entry and "qb:Observation" in entry
    assert any(link.endswith("/id/dataset/ai-roadmap-technology-shares") or
               link.endswith("/doc/dataset/ai-roadmap-technology-shares") for link in page.links["AITechnology"])
    assert "never mixes the two bases" in page.text("TechnologySubtype")
