"""The reconciler against the real graph, built once into a temporary on-disk store (``seeded_store``).

The titles here are the tests' own; the evaluation set in ``benchmarks/data`` is kept apart.
"""

from __future__ import annotations

import pytest

from nhs_ai_workforce.core.settings import Settings
from nhs_ai_workforce.reconcile import (
    MATCH_MARGIN,
    MATCH_THRESHOLD,
    Candidate,
    Catalogue,
    Entity,
    Label,
    Reconciler,
    entity_types,
    load_catalogue,
)
from nhs_ai_workforce.reconcile.candidate import MATCHED_BY
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


# -- abbreviations, and when a match can be trusted (issue 13) ------------------------------


@pytest.mark.parametrize(
    ("title", "expected", "label", "kind"),
    [
        ("Snr BI Analyst - Finance", "role/data-analyst", "business intelligence analyst", "synonym"),
        ("Jnr ML Engineer", "role/ai-professional", "machine learning engineer", "synonym"),
        ("Principal ML Scientist", "role/ai-professional", "machine learning scientist", "synonym"),
        ("Deputy CNIO", "role/clinical-informatician", "chief nursing information officer", "synonym"),
        ("Jnr Data Scientist", "role/data-scientist", "data scientist", "pref"),
        ("Snr Statistician (AfC Band 8a)", "role/statistician", "statistician", "pref"),
    ],
)
def test_abbreviations_are_spelled_out_before_matching(reconciler, title, expected, label, kind) -> None:
    best = top(reconciler, title)
    assert key(best) == expected and best.match
    assert (best.matched_label, best.matched_by) == (label, kind)


@pytest.mark.parametrize("title", ["BI Developer", "Head of Business Intelligence", "Power BI Developer", "BI Manager",
                                   "Hd of BI"])
def test_business_intelligence_is_not_artificial_intelligence(reconciler, title: str) -> None:
    found = reconciler.match(title, types=JOB_TYPES, limit=None)
    assert "role/ai-professional" not in {key(c) for c in found}
    assert not any(c.match for c in found)


def test_information_governance_is_not_information_analysis(reconciler) -> None:
    found = reconciler.match("IG Officer", types=JOB_TYPES, limit=None)
    assert "role/data-analyst" not in {key(c) for c in found}
    assert not any(c.match for c in found)


@pytest.mark.parametrize("title", ["Nurse", "Bank Nurse", "Staff Nurse", "Nursing"])
def test_a_nurse_is_not_a_nurse_informatician(reconciler, title: str) -> None:
    assert "role/clinical-informatician" not in {key(c) for c in reconciler.match(title, limit=None)}
    assert key(top(reconciler, "Nurse Informatician")) == "role/clinical-informatician"


@pytest.mark.parametrize(
    ("title", "broad"),
    [
        ("AI Researcher", "role/ai-professional"),  # a head in place of "professional"
        ("Senior AI Scientist", "role/ai-professional"),
        ("Digital Officer", "role/digital-professional"),
        ("Senior Economist", "role/health-economist"),  # a modifier missing
        ("Specialist Radiographer", "workforce-group/diagnostic-radiographer"),
        ("Hd of Data Engineering", "role/data-engineer"),  # a discipline for its practitioner
        ("Windows Administrator", "workforce-group/non-clinical-admin"),  # one weak word shared
    ],
)
def test_similarity_alone_is_a_candidate_not_a_match(reconciler, title: str, broad: str) -> None:
    best = top(reconciler, title)
    assert key(best) == broad
    assert best.score >= MATCH_THRESHOLD and not best.match


def test_every_candidate_says_why_it_was_proposed(reconciler) -> None:
    titles = ["Snr BI Analyst", "AI Researcher", "Clinical", "Statitician", "Data Engnieer", "GP Registrar",
              "Topol Review", "NHS AI Lab", "Health Education England", "Digital Officer", "Medic"]
    for title in titles:
        for candidate in reconciler.match(title, limit=None):
            assert candidate.matched_label, (title, candidate)
            assert candidate.matched_by in MATCHED_BY, (title, candidate)
            assert candidate.to_dict()["matched_by"] == candidate.matched_by
            feature = candidate.as_result()["features"][0]
            assert feature["id"] == f"matched_{candidate.matched_by}" and candidate.matched_label in feature["name"]


def test_a_match_is_made_on_a_label_the_query_holds(reconciler) -> None:
    """Spelled right, a matched title holds its label word for word; ``fuzzy`` matches are typos."""
    for title in ["Snr BI Analyst", "Lead Clinical Informatician", "Clinical Data Analyst", "AI Researcher",
                  "Senior Economist", "Windows Administrator", "Consultant Cardiologist", "Hd of Data Engineering"]:
        for candidate in reconciler.match(title, limit=None):
            assert not candidate.match or candidate.matched_by != "fuzzy", (title, candidate)
    typo = top(reconciler, "Senior Data Engnieer")
    assert typo.match and (typo.matched_label, typo.matched_by) == ("data engineer", "fuzzy")


# -- near ties, on a catalogue of three entities ---------------------------------------------


@pytest.fixture(scope="module")
def small() -> Reconciler:
    role = entity_types(BASE)[0]

    def entity(slug: str, *labels: tuple[str, str]) -> Entity:
        return Entity(f"{ID}role/{slug}", labels[0][0], (role,), tuple(Label(text, kind) for text, kind in labels))

    entities = [entity("health-data-analyst", ("health data analyst", "pref")),
                entity("data-analyst", ("data analyst", "pref")),
                entity("statistician", ("statistician", "pref")),
                entity("medical-statistician", ("medical statistician", "alt"))]
    return Reconciler(Catalogue(BASE, entity_types(BASE), {e.id: e for e in entities}), synonyms={})


def test_a_near_tie_is_not_a_match(small) -> None:
    first, second = small.match("Public Health Data Analyst")[:2]
    assert (key(first), key(second)) == ("role/health-data-analyst", "role/data-analyst")
    assert first.score - second.score < MATCH_MARGIN  # both labels are whole in the title
    assert not first.match and not second.match


def test_a_clear_lead_is_a_match(small) -> None:
    first, second = small.match("Clinical Data Analyst")[:2]
    assert key(first) == "role/data-analyst" and first.score < 100  # not exact: a word in front
    assert first.match and first.score - second.score >= MATCH_MARGIN


def test_the_only_label_spelled_exactly_wins_a_near_tie(small) -> None:
    first, second = small.match("Medical Statistician")[:2]
    assert key(first) == "role/medical-statistician" and first.matched_by == "alt"
    assert first.score - second.score < MATCH_MARGIN and second.matched_by == "pref"
    assert first.match and not second.match
