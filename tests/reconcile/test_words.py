"""The words of a title: abbreviations spelled out from the one table, terms read as one word,
seniority that never decides a match, and short words that never match by their letters."""

from __future__ import annotations

import pytest

from nhs_ai_workforce.reconcile.lexicon import ABBREVIATIONS, TERMS
from nhs_ai_workforce.reconcile.normalise import job_words, normalise
from nhs_ai_workforce.reconcile.scoring import typo_similarity, word_similarity
from nhs_ai_workforce.reconcile.words import words


@pytest.mark.parametrize(
    ("typed", "spelled"),
    [
        ("BI", "business intelligence"),
        ("IG", "information governance"),
        ("ML", "machine learning"),
        ("MLOps", "machine learning operations"),
        ("CCIO", "chief clinical information officer"),
        ("CNIO", "chief nursing information officer"),
        ("Snr", "senior"),
        ("Jnr", "junior"),
        ("Hd", "head"),
        ("Mgr", "manager"),
        ("AfC", "agenda for change"),
    ],
)
def test_abbreviations_are_spelled_out(typed: str, spelled: str) -> None:
    assert words(typed) == words(spelled)


def test_every_abbreviation_of_the_table_reads_as_its_expansion() -> None:
    for abbreviation, expansion in ABBREVIATIONS.items():
        assert words(abbreviation) == words(expansion), abbreviation


def test_the_words_of_a_term_are_one_token() -> None:
    assert words("Business Intelligence Analyst") == ["business intelligence", "analyst"]
    assert words("BI Analyst") == words("Business Intelligence Analyst")
    assert words("Artifical Inteligence") == ["artificial intelligence"]  # a typo in each long word
    assert set(words("BI")).isdisjoint(words("AI"))
    for term in TERMS:
        assert len(words(term)) == 1, term


@pytest.mark.parametrize(
    "title",
    ["Snr Data Analyst", "Jnr Data Analyst", "Senior Data Analyst", "Principal Data Analyst", "Lead Data Analyst",
     "Hd of Data Analysts", "Trainee Data Analyst", "Apprentice Data Analyst", "Band 6 Data Analyst",
     "Data Analyst (AfC Band 7)", "Data Analyst - Band 8a", "Specialist Data Analyst"],
)
def test_seniority_and_grades_are_dropped(title: str) -> None:
    assert normalise(title) == "data analyst"


def test_job_words_keep_only_what_the_job_is() -> None:
    assert job_words("Snr BI Analysts (Band 7)") == ["business", "intelligence", "analyst"]
    assert job_words("Snr") == job_words("Band 7 Lead") == job_words("Hd of") == []


@pytest.mark.parametrize(("a", "b"), [("bi", "ai"), ("ml", "al"), ("ig", "it"), ("cdo", "cto"), ("gp", "gps"),
                                      ("data", "date")])
def test_short_words_never_match_by_their_letters(a: str, b: str) -> None:
    assert typo_similarity(a, b) == word_similarity(a, b) == 0.0


def test_long_words_allow_a_typo() -> None:
    assert typo_similarity("analyst", "anaylst") > 0.8
    assert typo_similarity("informatician", "informatitian") > 0.9
