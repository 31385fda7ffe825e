"""Normalising job titles: the pure functions the matcher applies to queries and labels alike."""

from __future__ import annotations

import pytest

from nhs_ai_workforce.reconcile.normalise import (
    fold,
    label_tokens,
    name_variants,
    normalise,
    normalise_name,
    segments,
    singular,
    split_brackets,
    title_tokens,
    title_variants,
    words,
)


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        # case, punctuation, Unicode quotes and dashes
        ("HEALTH ECONOMISTS", "health economist"),
        ("health-economist!", "health economist"),
        ("Data\u00a0Engineer \u2014 Platforms", "data engineer"),
        ("Cl\u00ednical Scientist", "clinical scientist"),
        # plurals and possessives
        ("Statisticians", "statistician"),
        ("Women\u2019s Services Manager", "women service manager"),
        ("Physics Technicians", "physics technician"),
        ("Genomics Scientists", "genomics scientist"),
        # seniority, grades, contract terms
        ("Snr Statistician", "statistician"),
        ("Chief Data Engineer", "data engineer"),
        ("Deputy Head of Data Engineering", "data engineering"),
        ("Band 8d Statistician", "statistician"),
        ("Statistician Band 7", "statistician"),
        ("Statistician 8B", "statistician"),
        ("Statistician (AfC Band 6)", "statistician"),
        ("Agenda for Change Band 5 Radiographer", "radiographer"),
        ("Locum Cardiologist x3", "cardiologist"),
        ("Trainee Health Economist - Fixed Term", "health economist"),
        ("Part Time Data Engineer 0.6 WTE", "data engineer"),
        ("NHS Clinical Informatician", "clinical informatician"),
        # employers and asides after separators or in brackets
        ("Data Engineer | Leeds Teaching Hospitals", "data engineer"),
        ("Statistician at the Office for National Statistics", "statistician"),
        ("Biostatistician [maternity cover]", "biostatistician"),
        ("Band 6 - Clinical Bioinformatician", "clinical bioinformatician"),
        # 'Consultant' in front is a grade; alone it is a job
        ("Consultant Neurologist", "neurologist"),
        ("Consultant Health Economist", "health economist"),
        ("Consultant", "consultant"),
        ("Radiology Consultant", "radiology doctor"),
        # doctors' training grades, and 'X in Y'
        ("ST5 Registrar in Clinical Radiology", "clinical radiology doctor"),
        ("Senior House Officer, Cardiology", "doctor"),
        ("Clinical Fellow in Cardiology", "cardiology doctor"),
        # abbreviations
        ("GPs with Extended Roles", "general practitioner extended role"),
        ("AI Lead", "artificial intelligence"),
        ("ML Ops Engineer", "machine learning ops engineer"),
        ("BI Developer", "business intelligence developer"),
        ("Senior DDaT Data Specialist", "digital data technology data specialist"),
        # joined prefixes
        ("Bio-informatician", "bioinformatician"),
        ("Non clinical admin", "nonclinical administrative"),
        # only qualifiers: keep what there is rather than nothing
        ("Senior Lead", "senior lead"),
        ("", ""),
        ("!!!", ""),
    ],
)
def test_normalise(title: str, expected: str) -> None:
    assert normalise(title) == expected


def test_fold_straightens_quotes_and_dashes_and_drops_accents() -> None:
    assert fold("\u201cSenior\u201d  Analyst \u2013 R\u00e9gion") == '"senior" analyst - region'


def test_brackets_are_set_aside_and_kept() -> None:
    assert split_brackets("Clinical Scientist (Haematology) {temp}") == ("Clinical Scientist", ["Haematology", "temp"])


def test_segments_split_at_separators_but_not_inside_hyphenated_words() -> None:
    assert segments("Data Engineer - Cloud, Band 7 / Remote") == ["Data Engineer", "Cloud", "Band 7", "Remote"]
    assert segments("Non-Clinical Ward Administrator") == ["Non-Clinical Ward Administrator"]


@pytest.mark.parametrize(
    ("word", "expected"),
    [("engineers", "engineer"), ("radiographers", "radiographer"), ("analyses", "analyse"),
     ("statistics", "statistics"), ("physics", "physics"), ("informatics", "informatics"),
     ("services", "service"), ("secretaries", "secretary"), ("boxes", "box"), ("business", "business"),
     ("diagnosis", "diagnosis"), ("gps", "gps")],
)
def test_singular(word: str, expected: str) -> None:
    assert singular(word) == expected


def test_words_spell_out_abbreviations_and_their_plurals() -> None:
    assert words("GPs and AHPs") == ["general", "practitioner", "and", "allied", "health", "professional"]
    assert words("A.I. engineer") == ["artificial intelligence", "engineer"]
    assert words("its") == ["its"]


def test_doctor_grades_become_doctor() -> None:
    for title in ("Specialty Doctor", "SpR", "FY1", "CT2 Doctor", "Staff Grade", "Junior Doctor"):
        assert title_tokens(title) == ("doctor",), title


def test_trailing_consultant_is_a_doctor_only_after_a_speciality() -> None:
    assert title_tokens("Dermatology Consultant") == ("dermatology", "doctor")
    assert title_tokens("Data Consultant") == ("data", "consultant")


def test_title_variants_try_the_whole_title_and_the_asides() -> None:
    variants = title_variants("Senior Radiographer (Diagnostic) - Airedale")
    readings = [" ".join(v.tokens) for v in variants]
    assert readings[0] == "radiographer"
    assert "radiographer diagnostic" in readings
    assert "radiographer airedale" in readings
    assert variants[0].penalty == 0
    assert all(v.penalty >= 0 for v in variants)


def test_a_grade_before_a_dash_is_not_the_title() -> None:
    assert title_variants("Band 7 - Health Economist")[0].tokens == ("health", "economist")


def test_names_keep_every_word_but_stopwords() -> None:
    assert normalise_name("The NHS Transformation Directorate") == "nhs transformation directorate"
    assert normalise_name("NHS") == "nhs"
    assert [" ".join(v.tokens) for v in name_variants("Data saves lives: reshaping care")] == [
        "data save live reshaping care", "data save live"]


def test_labels_are_read_whole() -> None:
    assert label_tokens("Medic, General Practice", mode="title") == ("doctor", "general", "practice")
    assert label_tokens("Non Clinical, Admin", mode="title") == ("nonclinical", "administrative")
    assert label_tokens("DDaT data specialists", mode="title") == label_tokens(
        "digital, data and technology data specialist", mode="title")
