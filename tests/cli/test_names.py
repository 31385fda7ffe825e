"""Every name ``aiwf query`` prints in its table pastes back into a query and means the same IRI."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pyoxigraph as ox
import pytest
from test_query_process import aiwf_command

from nhs_ai_workforce.core.namespaces import ProjectNamespaces, sparql_name
from nhs_ai_workforce.core.settings import Settings
from nhs_ai_workforce.sparql.formatting import format_result
from nhs_ai_workforce.store.live import open_store
from nhs_ai_workforce.store.query import run_query

QUERIES = sorted((Path(__file__).resolve().parents[2] / "queries").glob("*.rq"))
PREFIXES = ProjectNamespaces().prefixes()


def table_cells(table: str) -> list[list[str]]:
    """The cells of a table as ``render_table`` prints it, cut at the header rule's columns."""
    lines = table.splitlines()
    spans, start = [], 0
    for dashes in lines[1].split("  "):
        spans.append((start, start + len(dashes)))
        start += len(dashes) + 2
    spans[-1] = (spans[-1][0], None)
    return [[line[a:b].strip() for a, b in spans] for line in lines[2:-1]]


def pasted_back(store: ox.Store, name: str) -> str:
    """The IRI ``name`` stands for when pasted into a query."""
    result = run_query(store, f"SELECT ?x {{ VALUES ?x {{ {name} }} }}", prefixes=PREFIXES)
    return next(iter(result))["x"].value


@pytest.mark.slow
@pytest.mark.parametrize("query", QUERIES, ids=lambda path: path.stem)
def test_every_name_in_the_table_pastes_back(seeded_store, query):
    store = open_store(Settings(store_dir=seeded_store))
    text = query.read_text(encoding="utf-8")
    table = format_result(run_query(store, text, prefixes=PREFIXES), "table", prefixes=PREFIXES).decode()
    answer = json.loads(format_result(run_query(store, text, prefixes=PREFIXES), "json"))
    variables = answer["head"]["vars"]
    cells = table_cells(table)
    assert len(cells) == len(answer["results"]["bindings"])
    for row, binding in zip(cells, answer["results"]["bindings"], strict=True):
        for cell, variable in zip(row, variables, strict=True):
            term = binding.get(variable)
            if term and term["type"] == "uri":
                assert pasted_back(store, cell) == term["value"], cell


def test_a_name_printed_by_the_command_is_accepted_by_the_command(settings, built_store):
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("AIWF_")}, "AIWF_STORE": str(settings.store_path)}

    def aiwf_query(text: str) -> str:
        result = subprocess.run([*aiwf_command(), "query", text], env=env, capture_output=True, timeout=60)
        assert result.returncode == 0, result.stderr
        return result.stdout.decode()

    printed = table_cells(aiwf_query("SELECT DISTINCT ?r { ?r a aiwf:Review } ORDER BY ?r"))
    assert printed == [["initiative:ai-roadmap"], ["initiative:topol-review"]]
    labels = table_cells(aiwf_query(f"SELECT ?l {{ {printed[1][0]} rdfs:label ?l }}"))
    assert labels == [["The Topol Review@en"]]


@pytest.mark.parametrize(("iri", "name"), [
    ("https://nhs-ai-workforce.example.org/def/aiwf/Review", "aiwf:Review"),
    ("https://nhs-ai-workforce.example.org/id/initiative/topol-review", "initiative:topol-review"),
    ("https://nhs-ai-workforce.example.org/id/organisation/nhs-ai-lab", "organisation:nhs-ai-lab"),
    ("https://nhs-ai-workforce.example.org/id/graph/background", "graph:background"),
    ("http://www.w3.org/ns/org#Organization", "org:Organization"),  # W3C ORG keeps org:
    ("https://nhs-ai-workforce.example.org/id/initiative/a/b", "initiative:a\\/b"),
    ("https://nhs-ai-workforce.example.org/id/x/a.b.", "id:x\\/a.b\\."),
    ("https://nhs-ai-workforce.example.org/id/-x/%41~", "id:\\-x\\/%41\\~"),
    ("http://www.w3.org/2004/02/skos/core#", "<http://www.w3.org/2004/02/skos/core#>"),
    ("http://data.europa.eu/esco/isco/C2211", "<http://data.europa.eu/esco/isco/C2211>"),
])
def test_names_are_prefixed_where_sparql_allows_else_whole_iris(iri, name):
    assert sparql_name(iri, PREFIXES) == name
    assert pasted_back(ox.Store(), name) == iri
