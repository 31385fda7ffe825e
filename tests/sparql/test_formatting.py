"""SPARQL on a real on-disk store, and every output format."""

from __future__ import annotations

import csv
import io
import json

import pyoxigraph as ox
import pytest

from nhs_ai_workforce.core.terms import compact
from nhs_ai_workforce.sparql.formatting import format_result, render_table
from nhs_ai_workforce.store.live import open_store
from nhs_ai_workforce.store.query import run_query

LABELS = """
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX aiwf: <https://nhs-ai-workforce.example.org/def/aiwf/>
SELECT DISTINCT ?review ?label ?count WHERE {
  ?review a aiwf:Review ; rdfs:label ?label .
  OPTIONAL { ?review aiwf:technologies ?count }
} ORDER BY ?label
"""


@pytest.fixture
def store(settings, built_store):
    return open_store(settings)


def select(store, fmt, ns=None):
    prefixes = ns.prefixes() if ns else None
    return format_result(run_query(store, LABELS), fmt, prefixes=prefixes).decode()


def test_csv_has_header_values_and_empty_unbound_cells(store, ns):
    rows = list(csv.reader(io.StringIO(select(store, "csv"))))
    assert rows == [
        ["review", "label", "count"],
        [str(ns.thing("initiative", "ai-roadmap")), "AI Roadmap", "240"],
        [str(ns.thing("initiative", "topol-review")), "The Topol Review", ""],
    ]


def test_tsv_uses_rdf_term_syntax(store, ns):
    lines = select(store, "tsv").splitlines()
    assert lines[0].split("\t") == ["?review", "?label", "?count"]
    assert lines[1].split("\t") == [
        f"<{ns.thing('initiative', 'ai-roadmap')}>", '"AI Roadmap"@en', "240"
    ]


def test_json_is_sparql_results_json(store):
    result = json.loads(select(store, "json"))
    assert result["head"]["vars"] == ["review", "label", "count"]
    bindings = result["results"]["bindings"]
    assert [b["label"] for b in bindings] == [
        {"type": "literal", "value": "AI Roadmap", "xml:lang": "en"},
        {"type": "literal", "value": "The Topol Review", "xml:lang": "en"},
    ]
    assert "count" not in bindings[1]


def test_table_is_aligned_with_prefixed_names_and_a_row_count(store, ns):
    lines = select(store, "table", ns).splitlines()
    assert lines[0].split() == ["review", "label", "count"]
    assert set(lines[1]) <= {"-", " "}
    assert lines[2].split("  ")[0] == "initiative:ai-roadmap"  # pastes back into a query as it is
    assert "AI Roadmap@en" in lines[2] and lines[2].rstrip().endswith("240")
    assert lines[0].index("label") == lines[2].index("AI Roadmap")  # columns line up
    assert lines[-1] == "(2 rows)"


def test_default_graph_is_the_union_of_the_named_graphs(store):
    query = "SELECT DISTINCT ?class { ?class a <http://www.w3.org/2002/07/owl#Class> }"
    assert len(list(run_query(store, query))) == 2  # from the ontology graph
    assert list(run_query(store, query, default_union=False)) == []


def test_union_repeats_a_triple_asserted_in_two_graphs(store, ns):
    """Oxigraph's union default graph is not a set: use DISTINCT (or keep graphs disjoint)."""
    topol = ns.thing("initiative", "topol-review")
    query = f"SELECT ?c {{ <{topol}> a ?c }}"
    assert len(list(run_query(store, query))) == 2
    assert len(list(run_query(store, query.replace("SELECT", "SELECT DISTINCT")))) == 1


def test_default_graph_can_be_restricted_to_some_graphs(store, ns):
    query = "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }"
    (row,) = run_query(store, query, default_graph=[ox.NamedNode(str(ns.graph("ontology")))])
    assert row["n"].value == "3"


def test_ask_and_construct(store, ns):
    assert format_result(run_query(store, "ASK { ?s ?p ?o }"), "table") == b"true\n"
    assert json.loads(format_result(run_query(store, "ASK { ?s ?p 'nope' }"), "json")) == {
        "head": {}, "boolean": False
    }
    construct = "CONSTRUCT { ?s a ?o } WHERE { ?s a ?o }"
    data = format_result(run_query(store, construct), "table", prefixes=ns.prefixes())
    triples = {q.triple for q in ox.parse(data, format=ox.RdfFormat.TURTLE)}
    assert len(triples) == 5  # distinct typed things across graphs
    assert data.startswith(b"@prefix")


def test_malformed_query_raises_syntax_error(store):
    with pytest.raises(SyntaxError):
        run_query(store, "SELEC ?x WHERE { ?x ?y ?z }")
    with pytest.raises(SyntaxError):  # updates are not queries
        run_query(store, "INSERT DATA { <a:b> <a:c> <a:d> }")


def test_unknown_format_is_refused(store):
    with pytest.raises(ValueError, match="unknown format"):
        format_result(run_query(store, LABELS), "html")


def test_table_cells_are_single_line_and_clipped():
    table = render_table(["x"], [["a\nb\tc"], ["y" * 100]], max_width=10)
    lines = table.splitlines()
    assert lines[2] == "a b c"
    assert lines[3] == "y" * 9 + "…"
    assert lines[-1] == "(2 rows)"
    assert render_table(["x"], [["1"]]).splitlines()[-1] == "(1 row)"


def test_compact_terms():
    prefixes = {"ex": "http://example.org/", "exa": "http://example.org/a/"}
    assert compact(ox.NamedNode("http://example.org/a/b"), prefixes) == "exa:b"  # longest wins
    assert compact(ox.NamedNode("http://other.org/x"), prefixes) == "<http://other.org/x>"
    assert compact(ox.Literal("hi", language="en")) == "hi@en"
    assert compact(None) == ""
