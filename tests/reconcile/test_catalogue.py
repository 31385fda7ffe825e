"""The one model of a candidate and the one read that fills it, over a real build (``seeded_store``)."""

from __future__ import annotations

import pytest

from nhs_ai_workforce.core.settings import Settings
from nhs_ai_workforce.reconcile import Catalogue, load_catalogue
from nhs_ai_workforce.store.live import open_store

BASE = Settings().base
ID = f"{BASE}/id/"
ESCO_DATA_ANALYST = "http://data.europa.eu/esco/occupation/d3edb8f8-3a06-47a0-8fb9-9b212c006aa2"


@pytest.fixture(scope="module")
def store(seeded_store):
    return open_store(Settings().with_(store_dir=seeded_store))


@pytest.fixture(scope="module")
def catalogue(store) -> Catalogue:
    return load_catalogue(store, base=BASE)


def test_the_catalogue_holds_every_kind_of_candidate(catalogue) -> None:
    kinds = {entity.kind.key for entity in catalogue.entities.values()}
    # the project's four kinds, and the classifications' members the seeds name
    assert kinds == {"role", "workforce-group", "organisation", "initiative", "soc2020", "esco", "isco"}
    ids = {iri.removeprefix(ID) for iri in catalogue.entities}
    assert {"role/data-analyst", "workforce-group/medic-cardiology", "organisation/health-education-england",
            "initiative/topol-review"} <= ids


def test_entities_are_ordered_by_name(catalogue) -> None:
    names = [entity.name.casefold() for entity in catalogue.entities.values()]
    assert names == sorted(names)


def test_concepts_carry_codes_through_the_mappings(catalogue) -> None:
    analyst = catalogue.get(f"{ID}role/data-analyst")
    assert (analyst.soc2020, analyst.isco, analyst.esco) == ("3544", "2511", ESCO_DATA_ANALYST)
    assert analyst.description and "data" in analyst.description
    assert [code.display() for code in analyst.codes_in("soc2020")] == ["3544 Data analysts"]
    # related matches are not codes of the concept
    admin = catalogue.get(f"{ID}workforce-group/non-clinical-admin")
    assert admin.soc2020 is None and admin.isco is None
    assert admin.codes_in("soc2020") == [] and any(c.relation == "relatedMatch" for c in admin.codes)


def test_a_scheme_without_a_code_says_why(catalogue) -> None:
    informatician = catalogue.get(f"{ID}role/clinical-informatician")
    notes = {note.scheme: note.comment for note in informatician.no_codes}
    assert "No SOC 2020 unit group lists clinical informatician" in notes["soc2020"]


def test_soc_job_titles_name_only_the_one_concept_mapped_to_their_group(catalogue) -> None:
    def examples(path: str) -> set[str]:
        return {label.text for label in catalogue.get(ID + path).labels if label.kind == "example"}

    assert "Information management analyst" in examples("role/data-analyst")
    # 2433 holds statisticians, economists and bioinformaticians: it names none of them
    assert examples("role/statistician") == set()
    assert examples("role/health-economist") == set()


def test_names_kinds_and_narrower_types(catalogue) -> None:
    topol = catalogue.get(f"{ID}initiative/topol-review")
    assert topol.type_refs[0] == {"id": f"{BASE}/def/aiwf/Initiative", "name": "Initiative"}
    assert "Review" in [name for _, name in topol.narrower_types]
    assert any(label.kind == "short" for label in topol.labels) == (":" in topol.name)
    radiology = catalogue.get(f"{ID}workforce-group/medic-clinical-radiology")
    assert "clinical radiologists" in radiology.alt_labels and radiology.name not in radiology.alt_labels


def test_types_are_found_by_any_of_their_names(catalogue) -> None:
    role = f"{BASE}/def/aiwf/RoleConcept"
    for name in ("role", role, "RoleConcept", "aiwf:RoleConcept", "Role concept"):
        assert catalogue.type_for(name).key == "role", name
    assert catalogue.type_for("planet") is None
    assert catalogue.type_ids(["role", "RoleConcept", "planet"]) == [role, "planet"]


def test_the_catalogue_is_plain_data_the_same_on_every_read(store, catalogue) -> None:
    again = load_catalogue(store, base=BASE)
    assert again == catalogue and list(again.entities) == list(catalogue.entities)
