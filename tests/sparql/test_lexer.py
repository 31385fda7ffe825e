"""The one lexical scan: the query form and its faults, the prologue, dataset clauses, keywords, nesting."""

from __future__ import annotations

import pickle
import re
import time

import pyoxigraph as ox
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nhs_ai_workforce.core.errors import ServiceError
from nhs_ai_workforce.sparql import execution, lexer
from nhs_ai_workforce.sparql.execution import QueryJob, dataset_options, execute
from nhs_ai_workforce.sparql.guard import QueryRefused, check_query
from nhs_ai_workforce.sparql.lexer import UPDATE_KEYWORDS, lex


def query_form(text: str) -> str:
    return lex(text).query_form()


def has_dataset_clause(text: str) -> bool:
    return lex(text).has_dataset


@pytest.mark.parametrize(
    ("text", "form"),
    [
        ("SELECT * { ?s ?p ?o }", "SELECT"),
        ("select * { ?s ?p ?o }", "SELECT"),
        ("ASK {}", "ASK"),
        ("CONSTRUCT WHERE { ?s ?p ?o }", "CONSTRUCT"),
        ("DESCRIBE <http://example.org/>", "DESCRIBE"),
        ("# a comment\n  PREFIX ex: <http://example.org/>\nPREFIX : <http://x/> ASK {}", "ASK"),
        ("BASE <http://example.org/> PREFIX a.b-c: <x> #SELECT\nDESCRIBE <y>", "DESCRIBE"),
        ("PREFIX ex:<http://example.org/>CONSTRUCT {} WHERE {}", "CONSTRUCT"),
        ("PREFIX é: <http://example.org/> SELECT * {}", "SELECT"),
        ("INSERT DATA { <a:b> <a:c> <a:d> }", "UPDATE"),
        ("PREFIX ex: <http://example.org/> DELETE WHERE { ?s ?p ?o }", "UPDATE"),
        ("WITH <http://g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }", "UPDATE"),
        ("clear all", "UPDATE"),
        ("LOAD <http://example.org/data.ttl>", "UPDATE"),
    ],
)
def test_query_form(text, form):
    assert query_form(text) == form


@pytest.mark.parametrize(
    ("text", "line", "column", "fragment"),
    [
        ("SELEC * {}", 1, 1, "'SELEC'"),
        ("PREFIX ex: <http://example.org/>\n\n  FOO", 3, 3, "'FOO'"),
        ("PREFIX ex <http://example.org/> SELECT * {}", 1, 8, "prefix name"),
        ("PREFIX ex: SELECT * {}", 1, 12, "an IRI"),
        ("BASE SELECT", 1, 6, "an IRI after BASE"),
        ("{ ?s ?p ?o }", 1, 1, "SELECT, ASK, CONSTRUCT or DESCRIBE"),
    ],
)
def test_query_form_points_at_the_fault(text, line, column, fragment):
    with pytest.raises(ServiceError) as caught:
        query_form(text)
    error = caught.value
    assert (error.status, error.title, error.line, error.column) == (400, "Malformed query", line, column)
    assert fragment in error.message


@pytest.mark.parametrize("text", ["", "   \n", "# only a comment\n"])
def test_an_empty_query_is_missing(text):
    with pytest.raises(ServiceError, match="empty") as caught:
        query_form(text)
    assert caught.value.title == "Missing query"


def test_dataset_clause_detection():
    assert has_dataset_clause("SELECT * FROM NAMED <http://g> { GRAPH ?g { ?s ?p ?o } }")
    assert has_dataset_clause("select * from <http://g> { }")
    assert not has_dataset_clause("SELECT * { ?s ?p 'FROM <x>' } # FROM <y>")
    assert not has_dataset_clause("PREFIX from: <http://x/> SELECT * { ?s from:p ?from }")


# -- what else the scan reads -------------------------------------------------------------------


def test_the_scan_reads_the_prologue_datasets_keywords_and_depth():
    lexed = lex(
        "BASE <http://example.org/a/> PREFIX g: <graphs/> # FROM <nope>\n"
        "SELECT * FROM <b> FROM NAMED g:c { ?s ?p [ ?q ( 'SERVICE {' ) ] }"
    )
    assert lexed.form == "SELECT"
    assert (lexed.base, lexed.prefixes) == ("http://example.org/a/", {"g": "http://example.org/a/graphs/"})
    assert [(c.keyword, c.written, c.iri) for c in lexed.datasets] == [
        ("FROM", "<b>", "http://example.org/a/b"),
        ("FROM NAMED", "g:c", "http://example.org/a/graphs/c"),
    ]
    assert lexed.keywords == () and lexed.depth == 3


def test_update_keywords_are_one_set_and_using_is_a_dataset_clause():
    assert {"INSERT", "DELETE", "WITH"} <= UPDATE_KEYWORDS and "LOAD" not in UPDATE_KEYWORDS
    lexed = lex("WITH <http://g> DELETE { ?s ?p ?o } USING NAMED <http://h> WHERE { ?s ?p ?o }")
    assert lexed.form == "UPDATE"
    assert [keyword for keyword, _ in lexed.keywords] == ["WITH", "DELETE"]
    assert [(c.keyword, c.iri) for c in lexed.datasets] == [("USING NAMED", "http://h")]
    assert not lexed.has_dataset


def test_a_scan_survives_pickling_with_its_fault():
    for text in ("SELECT * FROM <http://g> {}", "SELEC"):
        lexed = lex(text)
        copy = pickle.loads(pickle.dumps(lexed))
        assert copy == lexed and copy.datasets == lexed.datasets
    with pytest.raises(ServiceError, match="SELEC") as caught:
        pickle.loads(pickle.dumps(lex("SELEC"))).query_form()
    assert (caught.value.status, caught.value.line, caught.value.column) == (400, 1, 1)


def test_with_in_a_query_is_refused():
    with pytest.raises(QueryRefused, match="WITH is SPARQL Update"):
        check_query("WITH <http://g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }", max_bytes=1000)


def test_a_job_carrying_its_scan_is_never_scanned_again(monkeypatch):
    store = ox.Store()
    graph = ox.NamedNode("http://example.org/g")
    store.add(ox.Quad(graph, graph, graph, graph))
    text = "SELECT * FROM <http://example.org/g> { ?s ?p ?o }"
    job = QueryJob(text, "application/sparql-results+json", lexed=check_query(text, max_bytes=1000))
    scans = []
    monkeypatch.setattr(lexer, "_scan", lambda text: scans.append(text) or lexer._Scan([""], [], text, 0, [], set()))
    assert dataset_options(job) == {}  # FROM: the query's own dataset, read from the scan
    assert b"http://example.org/g" in execute(store, job).body  # FROM <g>: g is the default graph
    assert scans == []
    assert dataset_options(QueryJob(text, job.media_type)) == {"use_default_graph_as_union": True}
    assert scans == [text]  # without a scan the executor makes one (here a fake that finds nothing)
    assert execution.lex is lexer.lex


def test_a_request_is_scanned_once(monkeypatch, settings, built_store):
    from nhs_ai_workforce.web.app import create_app

    client = create_app({"SETTINGS": settings, "EXECUTOR": "in-process"}).test_client()
    graph = f"{settings.base.rstrip('/')}/id/graph/background"
    scans = []
    scan = lexer._scan
    monkeypatch.setattr(lexer, "_scan", lambda text: scans.append(text) or scan(text))
    query = f"SELECT (COUNT(*) AS ?n) FROM <{graph}> {{ ?s ?p ?o }}"
    response = client.get("/sparql", query_string={"query": query})
    assert response.status_code == 200
    assert scans == [query]
    second = client.get("/sparql", query_string={"query": query})
    assert second.status_code == 200 and scans == [query]  # the same text again: remembered, not scanned


@pytest.mark.parametrize("variant", [
    "SELECT ?s WHERE { ?s ?p 'a  b' }",
    "  SELECT   ?s\n\tWHERE {\n  ?s ?p 'a  b'  # the subjects\n}\n",
    "SELECT ?s # one\nWHERE # two\n{ ?s ?p 'a  b' }",
])
def test_the_normal_form_ignores_spaces_and_comments_but_not_strings(variant):
    assert lex(variant).normal == "SELECT ?s WHERE { ?s ?p 'a  b' }"


def test_the_normal_form_keeps_what_spaces_separate():
    assert lex("ASK { FILTER(1 != 2) }").normal != lex("ASK { FILTER(1 ! = 2) }").normal
    assert lex("SELECT ?a{}").normal == "SELECT ?a{}" != lex("SELECT ?a {}").normal


def test_a_text_with_a_quote_the_scan_cannot_pair_is_its_own_normal_form():
    broken = "SELECT * { ?s ?p \"a\n  b\" }"  # a line break in a short string: malformed
    assert lex(broken).normal == broken != lex('SELECT * { ?s ?p "a b" }').normal


@pytest.mark.parametrize(("text", "volatile"), [
    ("SELECT (NOW() AS ?t) {}", True),
    ("SELECT (rand() AS ?r) {}", True),
    ("SELECT (STRUUID() AS ?u) {}", True),
    ("SELECT ?uuid { ?uuid <http://example.org/now> 'RAND()' . ?s ex:uuid ?o }", False),
    ("SELECT (COUNT(*) AS ?n) { ?s ?p ?o }", False),
])
def test_volatile_functions_are_found_outside_strings_iris_and_names(text, volatile):
    assert lex(text, {"ex": "http://example.org/"}).volatile is volatile


def test_a_base_that_is_no_iri_is_left_to_the_parser_not_raised():
    lexed = lex("BASE <http://[x/> SELECT * FROM <a> { ?s ?p ?o }")
    assert lexed.form == "SELECT" and lexed.base == "http://[x/"
    assert [(c.written, c.iri) for c in lexed.datasets] == [("<a>", None)]


def test_the_normal_form_keeps_strings_and_iris_and_makes_each_run_of_spaces_one():
    text = "PREFIX ex: <urn:x:>  # a comment\n\tSELECT ?s{?s ex:p  'a  # b' ; ex:q \"\"\"c\n  d\"\"\"}  \n"
    assert lex(text).normal == "PREFIX ex: <urn:x:> SELECT ?s{?s ex:p 'a  # b' ; ex:q \"\"\"c\n  d\"\"\"}"
    assert lex("SELECT * { ?s ?p 'broken\n' }").normal == "SELECT * { ?s ?p 'broken\n' }"  # unpaired: as sent


def test_the_scan_names_the_prefixes_its_prefixed_names_use():
    text = ("PREFIX own: <urn:own:> SELECT * { own:s aiwf:p :o ; ex:q _:b . "
            "FILTER(?x != 'skos:no' && ?y != <urn:dcterms:no>) } # rdfs:no")
    assert lex(text).prefix_names == {"own", "aiwf", "", "ex", "_"}
    predeclared = {"own": "urn:x:", "aiwf": "urn:aiwf:", "skos": "urn:skos:", "dcterms": "urn:d:", "rdfs": "urn:r:"}
    assert lex(text).predeclared_used(predeclared) == {"aiwf": "urn:aiwf:"}  # own: is the query's own


# One token at a time, by the plain expression the scan used before it read by slices: a word is
# a word unless a colon follows its run of name characters. Slow (and quadratic on ``a.a.a...``),
# but plainly right: the scan must read every text into the same tokens.
_ONE_TOKEN = re.compile(
    r"(?:\s+|\#[^\n\r]*)*+"
    r"(?:(?P<word>[^\W\d]\w*+)(?![\w.\-\u00B7]*:)"
    r"|(?P<pname>(?:[^\W\d][\w.\-\u00B7]*)?:(?:[\w\-.:%\u00B7]|\\[^\s])*)"
    r"|(?P<literal>[?$][\w\u00B7\u0300-\u036F\u203F-\u2040]*"
    r'|"""(?:[^"\\]|\\.|"(?!""))*"""'
    r"|'''(?:[^'\\]|\\.|'(?!''))*'''"
    r'|"(?:[^"\\\n\r]|\\.)*"'
    r"|'(?:[^'\\\n\r]|\\.)*'"
    r"|@[A-Za-z]+(?:-[A-Za-z0-9]+)*"
    r"|\^\^"
    r"|\d*\.?\d+(?:[eE][+-]?\d+)?)"
    r"|(?P<iri><[^<>\"{}|^`\\\x00-\x20]*>)"
    r"|(?P<open>[({\[])"
    r"|(?P<close>[)}\]])"
    r"|(?P<end>\Z)"
    r"|(?P<other>.))",
    re.DOTALL,
)
_PIECES = ["SELECT", "ask", "PREFIX", "BASE", "FROM", "NAMED", "SERVICE", "insert", "now", "\u017felect", "a", "é",
           "²", "٣", "_", "ex", ":", "::", "a:", "ex:a", "_:b", "a.b:c", ".", "-", "·", "5", ".5", "1e3", "e",
           "?x", "$y", "?", "'s'", '"s"', "'''l'''", '"""l"""', "'", '"', "@en", "@", "^^", "^", "\\", "\\'",
           "<urn:x>", "<", ">", "<a b>", "{", "}", "(", ")", "[", "]", "%", ";", ",", "ﬃ", "\x00",
           " ", "\n", "\t", "# c\n", "#c"]


def _one_token_at_a_time(text: str) -> tuple[list[tuple[str, str, int]], str]:
    """The tokens of ``text`` and its normal form, one match at a time."""
    tokens, pieces = [], []
    for match in _ONE_TOKEN.finditer(text):
        kind = match.lastgroup
        if kind == "end":
            break
        if match.start(kind) != match.start() and tokens:
            pieces.append(" ")
        pieces.append(match.group(kind))
        tokens.append((kind, match.group(kind), match.start(kind)))
    paired = not any(kind == "other" and token in "\"'" for kind, token, _ in tokens)
    return tokens, "".join(pieces) if paired else text


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=14).map("".join))
def test_the_scan_reads_every_text_as_a_one_token_at_a_time_reading_does(text):
    scan = lexer._scan(text)
    tokens = [(scan.kind(index), token, scan.offset(index)) for index, token in enumerate(scan.tokens)]
    assert (tokens, scan.normal) == _one_token_at_a_time(text)


def test_runs_of_name_characters_are_read_once_so_a_hostile_text_scans_in_linear_time():
    text = "SELECT * { " + "a." * 128 * 1024 + " }"  # 256 KB, the largest query the endpoint reads
    started = time.monotonic()
    lexed = lex(text)
    # A generous bound: looking ahead for a colon from each of the 131,072 words took about a
    # minute; reading each run once takes a tenth of a second.
    assert time.monotonic() - started < 10
    assert lexed.form == "SELECT" and lexed.depth == 1 and lexed.normal == text
