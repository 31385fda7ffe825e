"""The reconciler against the real graph, built once into a temporary on-disk store (``seeded_store``).

The titles here are the tests' own; the evaluation set in ``benchmarks/data`` is kept apart.
"""

from __future__ import annotations

import pytest

from nhs_ai_workforce.core.settings import Settings
from nhs_ai_workforce.reconcile import MATCH_THRESHOLD, Candidate, Reconciler, load_catalogue
from nhs_ai_workforce.store.live import open_store

BASE = Settings().base
ID = f"{BASE}/id/"
JOB_TYPES = ("role", "workforce-group")


@pytest.fixture(scope="module")
def reconciler(seeded_store) -> Reconciler:
    """The matcher over the catalogue of a real build."""
    settings = Settings().with_(store_dir=seeded_store)
    return Reconciler(load_catalogue(open_store(settings), base=settings.base))


def top(reconciler: Reconciler, text: str, types=JOB_TYPES) -> Candidate | None:
    found = reconciler.match(text, types=types)
    return found[0] if found else None


def key(candidate: Candidate | None) -> str | None:
    return candidate.id.removeprefix(ID) if candidate else None


# -- labels --------------------------------------------------------------------------------


def test_the_preferred_label_matches_exactly(reconciler) -> None:
    best = top(reconciler, "data engineer")
    assert key(best) == "role/data-engineer"
    assert (best.score, best.match, best.matched_by) == (100.0, True, "pref")


def test_an_alternative_label_matches(reconciler) -> None:
    best = top(reconciler, "Clinical Radiologists")
    assert key(best) == "workforce-group/medic-clinical-radiology"
    assert best.match and best.matched_by == "alt" and best.score == 99.0


def test_a_hidden_label_catches_a_known_misspelling(reconciler) -> None:
    best = top(reconciler, "Statitician")
    assert key(best) == "role/statistician"
    assert best.match and best.matched_by == "hidden"
    assert best.score < 100


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Helth Economist", "role/health-economist"),
        ("Clinical Bioinformatitian", "role/clinical-bioinformatician"),
        ("Daat Engineer", None),  # a four-letter word must be spelled right
        ("Data Engnieer", "role/data-engineer"),
    ],
)
def test_typos(reconciler, title: str, expected: str | None) -> None:
    best = top(reconciler, title)
    if expected is None:
        assert not best or not best.match
    else:
        assert key(best) == expected and best.match and best.matched_by == "fuzzy"


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("AI Professionals", "role/ai-professional"),
        ("Digital, Data & Technology Data Specialists", "role/ddat-data-specialist"),
        ("GPs", "workforce-group/medic-general-practice"),
        ("Snr Clinical Informaticist", "role/clinical-informatician"),
    ],
)
def test_abbreviations_and_spelling_variants(reconciler, title: str, expected: str) -> None:
    best = top(reconciler, title)
    assert key(best) == expected and best.match


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Band 8a Principal Health Economist (Secondment)", "role/health-economist"),
        ("Clinical Scientist - Sheffield Teaching Hospitals NHS Foundation Trust", "role/clinical-scientist"),
        ("Consultant Cardiologists", "workforce-group/medic-cardiology"),
        ("Specialty Registrar in Clinical Radiology", "workforce-group/medic-clinical-radiology"),
        ("Salaried General Practitioner", "workforce-group/medic-general-practice"),
        ("Senior Business Intelligence Analyst", "role/data-analyst"),
    ],
)
def test_titles_with_grades_employers_and_synonyms(reconciler, title: str, expected: str) -> None:
    best = top(reconciler, title)
    assert key(best) == expected and best.match and best.score >= MATCH_THRESHOLD


def test_the_soc_codes_come_back_with_the_match(reconciler) -> None:
    best = top(reconciler, "Senior Data Analyst")
    assert (key(best), best.soc2020, best.isco, best.match) == ("role/data-analyst", "3544", "2511", True)


# -- no match ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "title",
    ["Plumber", "Nurse", "Porter", "Chef", "Accountant", "Physiotherapist", "Pharmacist", "Midwife",
     "Estates Electrician", "Ward Housekeeper", "Therapeutic Radiographers", "Engineer", "Analyst"],
)
def test_unrelated_titles_do_not_match(reconciler, title: str) -> None:
    assert not any(candidate.match for candidate in reconciler.match(title))


def test_a_title_sharing_no_word_has_no_candidate(reconciler) -> None:
    assert reconciler.match("Plumber") == []
    assert reconciler.match("") == []
    assert reconciler.match("   ") == []


def test_an_ambiguous_title_is_not_a_match(reconciler) -> None:
    found = reconciler.match("Scientist", types=["role"])
    assert not found[0].match
    assert {key(found[0]), key(found[1])} == {"role/clinical-scientist", "role/data-scientist"}
    assert found[0].score == found[1].score
    # equal scores are ordered by name, so the answer never changes
    assert found[0].name < found[1].name


def test_a_broader_modifier_alone_is_weaker_than_the_full_label(reconciler) -> None:
    plain = top(reconciler, "Radiographers")
    assert key(plain) == "workforce-group/diagnostic-radiographer"
    assert plain.score < top(reconciler, "Senior Diagnostic Radiographers").score


def test_a_tie_between_labels_of_one_candidate_goes_the_same_way_every_time(reconciler) -> None:
    # "personal assistant" and "administrative assistant" (both synonyms) read "Laundry Assistant" equally
    found = [top(reconciler, "Laundry Assistant") for _ in range(3)]
    assert {(key(c), c.score, c.matched_label) for c in found} == {
        ("workforce-group/non-clinical-admin", 60.0, "administrative assistant")}
    assert Reconciler(reconciler.catalogue).match("Laundry Assistant", types=JOB_TYPES)[0] == found[0]


def test_an_extra_head_noun_changes_the_job(reconciler) -> None:
    best = top(reconciler, "Data Engineer Recruitment Consultant")
    assert not best or not best.match


# -- the call ------------------------------------------------------------------------------


def test_the_type_filter(reconciler) -> None:
    organisations = reconciler.match("Health Education England", types=["organisation"])
    assert key(organisations[0]) == "organisation/health-education-england" and organisations[0].match
    assert all(key(c).startswith("organisation/") for c in organisations)
    roles = reconciler.match("Health Education England", types=["role"])
    assert all(key(c).startswith("role/") for c in roles)
    by_iri = reconciler.match("Topol Review", types=[f"{BASE}/def/aiwf/Initiative"])
    assert key(by_iri[0]) == "initiative/topol-review"
    with pytest.raises(ValueError, match="unknown type"):
        reconciler.match("x", types=["planet"])


def test_all_types_by_default(reconciler) -> None:
    assert key(reconciler.match("DHSC")[0]) == "organisation/department-of-health-and-social-care"


def test_limit_order_and_rounding(reconciler) -> None:
    found = reconciler.match("clinical", limit=3)
    assert len(found) <= 3
    assert [c.score for c in found] == sorted((c.score for c in found), reverse=True)
    assert all(0 <= c.score <= 100 and round(c.score, 1) == c.score for c in found)
    assert len(reconciler.match("clinical", limit=None)) >= len(found)


def test_properties_raise_candidates_with_that_code(reconciler) -> None:
    plain = {key(c): c.score for c in reconciler.match("Scientist", types=["role"])}
    raised = reconciler.match("Scientist", types=["role"], properties=[{"pid": "isco", "v": "2511"}])
    assert key(raised[0]) == "role/data-scientist"
    assert raised[0].score == plain["role/data-scientist"] + 5


def test_candidates_are_plain_data(reconciler) -> None:
    data = top(reconciler, "Data Scientists").to_dict()
    assert data["id"] == f"{ID}role/data-scientist"
    assert data["types"] == [{"id": f"{BASE}/def/aiwf/RoleConcept", "name": "Role concept"}]
    assert set(data) >= {"id", "name", "score", "match", "types", "description", "soc2020", "isco", "esco"}
