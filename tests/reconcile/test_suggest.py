"""The suggest service reads what was typed as the matcher reads a title: abbreviations spelled
out from the same table, seniority and grades dropped, the last word possibly unfinished."""

from __future__ import annotations

import pytest

from nhs_ai_workforce.core.settings import Settings
from nhs_ai_workforce.reconcile import load_catalogue
from nhs_ai_workforce.reconcile.suggest import suggest_entities
from nhs_ai_workforce.store.live import open_store

ID = f"{Settings().base}/id/"


@pytest.fixture(scope="module")
def catalogue(seeded_store):
    settings = Settings().with_(store_dir=seeded_store)
    return load_catalogue(open_store(settings), base=settings.base)


def suggested(catalogue, prefix: str, **options) -> list[str]:
    return [item["id"].removeprefix(ID) for item in suggest_entities(catalogue, prefix, **options)["result"]]


@pytest.mark.parametrize(
    ("prefix", "first"),
    [
        ("Snr Data An", "role/data-analyst"),
        ("Jnr Stat", "role/statistician"),
        ("Band 7 Data Sci", "role/data-scientist"),
        ("Hd of Data Eng", "role/data-engineer"),
        ("Senior data analysts", "role/data-analyst"),
        ("Snr BI An", "role/data-analyst"),  # business intelligence analyst, a curated synonym
        ("ML Eng", "role/ai-professional"),  # machine learning engineer
        ("CCIO", "role/clinical-informatician"),  # chief clinical information officer
        ("CNIO", "role/clinical-informatician"),
        ("AI Lead", "initiative/ai-roadmap"),  # a seniority word at the end leaves the rest
    ],
)
def test_abbreviations_and_seniority_in_suggest(catalogue, prefix: str, first: str) -> None:
    assert suggested(catalogue, prefix)[0] == first


def test_what_was_typed_still_wins_a_tie(catalogue) -> None:
    assert suggested(catalogue, "nhs ai")[0] == "organisation/nhs-ai-lab"
    assert suggested(catalogue, "bio")[0] == "role/biostatistician"
    assert "role/data-analyst" in suggested(catalogue, "BI")  # and spelled out, after the "bi..." names


def test_seniority_alone_suggests_every_kind_of_job(catalogue) -> None:
    assert suggested(catalogue, "snr", types=["role"], limit=100) == suggested(catalogue, "", types=["role"],
                                                                               limit=100)
    assert suggested(catalogue, "Snr", types=["role"])


def test_an_abbreviation_of_no_concept_suggests_nothing(catalogue) -> None:
    assert suggested(catalogue, "IG", types=["role"]) == []
