"""One prefix per kind of thing under ``{base}/id/``, so names print short and paste back."""

from __future__ import annotations

import re
from pathlib import Path

from nhs_ai_workforce.core.namespaces import KINDS, ProjectNamespaces, curie, sparql_name
from nhs_ai_workforce.core.settings import DEFAULT_BASE
from nhs_ai_workforce.core.vocab import ORG, STANDARD_PREFIXES

DATA = Path(__file__).resolve().parents[2] / "data" / "nhs-ai-workforce.nq"
PN_PREFIX = re.compile(r"[A-Za-z](?:[\w.\-]*[\w\-])?")


def test_every_kind_of_thing_in_the_data_has_its_own_prefix():
    kinds = set(re.findall(re.escape(f"<{DEFAULT_BASE}/id/") + r"([^/>]+)/", DATA.read_text(encoding="utf-8")))
    assert kinds and kinds <= set(KINDS), sorted(kinds - set(KINDS))
    prefixes = ProjectNamespaces().prefixes()
    for kind in kinds:
        assert prefixes[kind] == f"{DEFAULT_BASE}/id/{kind}/"


def test_the_prefixes_are_valid_sparql_and_clash_with_no_standard_one():
    prefixes = ProjectNamespaces("http://x.org").prefixes()
    assert not set(KINDS) & set(STANDARD_PREFIXES)
    assert prefixes["org"] == ORG and prefixes["organisation"] == "http://x.org/id/organisation/"
    assert prefixes["id"] == "http://x.org/id/"  # anything of another kind
    assert len(set(prefixes.values())) == len(prefixes)
    assert all(PN_PREFIX.fullmatch(name) for name in prefixes)


def test_the_longest_namespace_wins():
    prefixes = ProjectNamespaces("http://x.org").prefixes()
    assert curie("http://x.org/id/workforce-group/nursing", prefixes) == "workforce-group:nursing"
    assert sparql_name("http://x.org/id/initiative/ai-roadmap", prefixes) == "initiative:ai-roadmap"
    assert sparql_name("http://x.org/id/other/a", prefixes) == "id:other\\/a"
