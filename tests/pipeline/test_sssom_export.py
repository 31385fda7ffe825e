"""The mapping set exported back from RDF as SSSOM/TSV: it round-trips and the ``sssom`` package accepts it.

The export reads the mapping records the build made from ``seeds/mappings.sssom.tsv``, from a real
on-disk store and from the converted dataset, and must give back the seed rows (modulo order and
formatting). ``sssom.parsers.parse_sssom_table`` must read it and ``sssom.validators.validate``
(the SSSOM LinkML JSON schema, prefix-map completeness and strict CURIE checks) must find nothing.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pyoxigraph as ox
import pytest

from nhs_ai_workforce.cli import main
from nhs_ai_workforce.core.settings import Settings
from nhs_ai_workforce.pipeline.build import build
from nhs_ai_workforce.pipeline.convert import convert_seeds
from nhs_ai_workforce.pipeline.mappings import read_mapping_set
from nhs_ai_workforce.pipeline.sssom_export import COLUMNS, ID_COLUMNS, export_sssom
from nhs_ai_workforce.store.live import current_dir

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "seeds" / "mappings.sssom.tsv"
# pandas deprecation notices raised inside the sssom package are not ours to fix
pytestmark = [pytest.mark.filterwarnings("ignore:::sssom"),
              pytest.mark.filterwarnings("ignore:Dataset.default_context:DeprecationWarning")]

METADATA_KEYS = ("mapping_set_id", "mapping_set_title", "mapping_set_description", "license", "mapping_provider")


@pytest.fixture(scope="module")
def store_settings(tmp_path_factory) -> Settings:
    """A real on-disk store built from the real seeds."""
    settings = Settings().with_(store_dir=tmp_path_factory.mktemp("sssom") / "store")
    build(settings, write_dumps=False)
    return settings


@pytest.fixture(scope="module")
def exported(store_settings) -> str:
    store = ox.Store.read_only(str(current_dir(store_settings)))
    return export_sssom(store, store_settings)


@pytest.fixture
def exported_file(tmp_path, exported) -> Path:
    path = tmp_path / "mappings.sssom.tsv"
    path.write_text(exported, encoding="utf-8")
    return path


def expanded_rows(path: Path) -> list[dict[str, str]]:
    """The table's rows with every CURIE expanded to its IRI and confidences as numbers."""
    mapping_set = read_mapping_set(path)
    prefixes = mapping_set.curie_map
    rows = []
    for _, row in mapping_set.rows:
        out = {}
        for column in COLUMNS:
            value = (row.get(column) or "").strip()
            if column in ID_COLUMNS and value:
                prefix, _, local = value.partition(":")
                value = prefixes[prefix] + local
            if column == "confidence" and value:
                value = float(value)
            out[column] = value
        rows.append(out)
    return rows


def as_set(rows: list[dict]) -> set[tuple]:
    return {tuple(sorted(row.items())) for row in rows}


def test_export_round_trips_the_seed_rows(exported_file):
    seed_rows = expanded_rows(SEED)
    out_rows = expanded_rows(exported_file)
    assert len(out_rows) == len(seed_rows) == 50
    assert as_set(out_rows) == as_set(seed_rows)


def test_export_round_trips_the_set_metadata(exported_file):
    seed = read_mapping_set(SEED).metadata
    out = read_mapping_set(exported_file).metadata
    for key in METADATA_KEYS:
        assert out[key] == seed[key], key


def test_curie_map_declares_exactly_the_prefixes_used(exported_file):
    mapping_set = read_mapping_set(exported_file)
    used = {row[column].partition(":")[0] for _, row in mapping_set.rows for column in ID_COLUMNS if row[column]}
    assert set(mapping_set.curie_map) == used
    assert mapping_set.columns == list(COLUMNS)


def test_export_is_deterministic_and_the_same_from_store_and_dataset(store_settings, exported):
    store = ox.Store.read_only(str(current_dir(store_settings)))
    assert export_sssom(store, store_settings) == exported
    dataset = convert_seeds(Settings()).dataset
    assert export_sssom(dataset, Settings()) == exported
    body = [line for line in exported.splitlines() if not line.startswith("#")][1:]
    keys = [(cells[1], cells[11], cells[3], cells[4], cells[0]) for cells in (line.split("\t") for line in body)]
    assert keys == sorted(keys)


def validation_errors(path: Path) -> tuple[object, list[str]]:
    """Parse with the ``sssom`` package and run its default validations; the messages found."""
    from sssom.parsers import parse_sssom_table
    from sssom.validators import validate

    msdf = parse_sssom_table(path)
    reports = validate(msdf, fail_on_error=False)
    messages = [f"{kind.value}: {result.message}" for kind, report in reports.items() for result in report.results]
    return msdf, messages


def test_the_sssom_package_parses_and_validates_the_export(exported_file):
    msdf, errors = validation_errors(exported_file)
    assert errors == []
    assert len(msdf.df) == 50
    assert {"record_id", "subject_id", "predicate_id", "object_id", "mapping_justification",
            "author_id", "mapping_date", "confidence", "comment", "object_source"} <= set(msdf.df.columns)
    assert msdf.metadata["mapping_set_id"] == read_mapping_set(SEED).metadata["mapping_set_id"]


def test_the_validation_is_not_vacuous(tmp_path, exported, caplog):
    """A negative control: the same file with a prefix missing and a confidence above 1 fails."""
    broken = "\n".join(line for line in exported.splitlines() if not line.startswith("#  ddat:"))
    broken = broken.replace("\t0.95\t", "\t1.5\t", 1)
    path = tmp_path / "broken.sssom.tsv"
    path.write_text(broken + "\n", encoding="utf-8")
    with caplog.at_level(logging.CRITICAL):
        _, errors = validation_errors(path)
    assert any("ddat" in message for message in errors)
    assert any("1.5" in message for message in errors)


def test_no_term_found_rows_survive(exported_file):
    seed = [row for row in expanded_rows(SEED) if row["object_id"] == "https://w3id.org/sssom/NoTermFound"]
    out = [row for row in expanded_rows(exported_file) if row["object_id"] == "https://w3id.org/sssom/NoTermFound"]
    assert len(out) == len(seed) == 12
    assert as_set(out) == as_set(seed)
    assert all(not row["object_label"] for row in out)
    msdf, _ = validation_errors(exported_file)
    assert (msdf.df["object_id"] == "sssom:NoTermFound").sum() == 12


def test_clinical_informatician_has_no_soc_2020_code(exported_file):
    mapping_set = read_mapping_set(exported_file)
    rows = [row for _, row in mapping_set.rows
            if row["subject_id"] == "aiwfrole:clinical-informatician" and row["object_source"] == "aiwfscheme:soc2020"]
    assert len(rows) == 1
    row = rows[0]
    assert row["object_id"] == "sssom:NoTermFound"
    assert row["predicate_id"].startswith("skos:")
    assert "No SOC 2020 unit group" in row["comment"]
    assert mapping_set.curie_map["aiwfscheme"].endswith("/id/scheme/")


def test_export_follows_the_base_uri(tmp_path):
    settings = Settings(base="http://localhost:8000")
    text = export_sssom(convert_seeds(settings).dataset, settings)
    path = tmp_path / "local.sssom.tsv"
    path.write_text(text, encoding="utf-8")
    mapping_set = read_mapping_set(path)
    assert mapping_set.curie_map["aiwfrole"] == "http://localhost:8000/id/role/"
    assert mapping_set.metadata["mapping_set_id"] == "http://localhost:8000/id/mapping-set/role-terms"
    assert "nhs-ai-workforce.example.org" not in text
    _, errors = validation_errors(path)
    assert errors == []


def test_prefix_names_come_from_the_seed_file_when_it_is_there(tmp_path, store_settings, exported):
    store = ox.Store.read_only(str(current_dir(store_settings)))
    without_seeds = store_settings.with_(root=tmp_path)
    assert export_sssom(store, without_seeds) == exported  # the built-in prefixes are the seed file's
    (tmp_path / "seeds").mkdir()
    header = SEED.read_text(encoding="utf-8").replace("#   aiwfrole:", "#   role:")
    (tmp_path / "seeds" / "mappings.sssom.tsv").write_text(header, encoding="utf-8")
    renamed = export_sssom(store, without_seeds)
    assert "\trole:data-analyst\t" in renamed and "aiwfrole" not in renamed


def test_cli_writes_the_mapping_set(tmp_path, capsys, store_settings, exported):
    target = tmp_path / "out.sssom.tsv"
    store = ["--store", str(store_settings.store_path)]
    assert main(["mappings", *store, "-o", str(target)]) == 0
    assert target.read_text(encoding="utf-8") == exported
    assert main(["mappings", *store]) == 0
    assert capsys.readouterr().out == exported


def test_cli_without_a_store_is_a_usage_error(tmp_path, capsys):
    assert main(["mappings", "--store", str(tmp_path / "none")]) == 2
    assert "aiwf build" in capsys.readouterr().err


def test_cli_on_a_store_without_mappings_is_a_usage_error(capsys, settings, built_store):
    assert main(["mappings", "--store", str(settings.store_path)]) == 2
    assert "MappingSet" in capsys.readouterr().err
