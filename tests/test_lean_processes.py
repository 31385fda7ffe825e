"""What each long-lived process imports: the memory of `aiwf serve` with its defaults depends on it.

A query process imports pyoxigraph and the query code only, the supervisor nothing of the app
(not even its settings),
and a server process not the build's code (pySHACL, rdflib's SPARQL engine), which loads with
the first update. Each is checked in a fresh interpreter, as the processes start.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

#: Entry module -> packages it must not load.
LEAN = {
    "nhs_ai_workforce.sparql.query_process": ("flask", "rdflib", "pyshacl", "multiprocessing", "rapidfuzz"),
    "nhs_ai_workforce.web.supervisor_main": ("flask", "rdflib", "pyoxigraph", "waitress", "dataclasses"),
    "nhs_ai_workforce.web.wsgi": ("flask", "rdflib", "pyoxigraph", "pyshacl", "waitress"),
    "nhs_ai_workforce.web.app": ("pyshacl", "pyparsing", "multiprocessing"),
}


def loaded_by(module: str) -> set[str]:
    code = f"import sys, json; import {module}; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return {name.split(".")[0] for name in json.loads(out)}


@pytest.mark.parametrize("module", sorted(LEAN))
def test_a_process_entry_loads_only_what_it_needs(module):
    loaded = loaded_by(module)
    assert not loaded & set(LEAN[module]), f"{module} loads {sorted(loaded & set(LEAN[module]))}"
    assert "nhs_ai_workforce" in loaded
