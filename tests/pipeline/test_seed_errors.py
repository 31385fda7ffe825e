"""Seed files that cannot be data: each problem is `file:line column 'x': message`, never a traceback."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from nhs_ai_workforce.core.settings import Settings
from nhs_ai_workforce.pipeline.convert import convert_seeds
from nhs_ai_workforce.pipeline.errors import SeedError

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def seeds(tmp_path: Path) -> Settings:
    for folder in ("seeds", "ontology"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    return Settings(root=tmp_path)


def replace_bytes(settings: Settings, file: str, old: bytes, new: bytes) -> int:
    """Replace the first ``old`` in a seed file; return the byte offset where it was."""
    path = settings.seeds_dir / file
    raw = path.read_bytes()
    offset = raw.index(old)
    path.write_bytes(raw[:offset] + new + raw[offset + len(old):])
    return offset


def line_of(settings: Settings, file: str, text: bytes) -> int:
    raw = (settings.seeds_dir / file).read_bytes()
    return raw[: raw.index(text)].count(b"\n") + 1


def problems(settings: Settings) -> list[str]:
    with pytest.raises(SeedError) as caught:
        convert_seeds(settings)
    return [str(p) for p in caught.value.problems]


def test_a_nul_byte_names_the_cell(seeds):
    line = line_of(seeds, "people.csv", b",Topol,")
    replace_bytes(seeds, "people.csv", b",Topol,", b",To\x00pol,")
    found = problems(seeds)
    assert f"seeds/people.csv:{line} column 'family_name': control character U+0000 (NUL) at character 3; " \
           "remove it (only tabs and line breaks are allowed)" in found
    assert len(found) == 1


def test_other_control_characters_are_refused_but_line_breaks_are_not(seeds):
    line = line_of(seeds, "people.csv", b",Topol,")
    replace_bytes(seeds, "people.csv", b",Topol,", b",Top\x1bol,")
    found = problems(seeds)
    assert any(p.startswith(f"seeds/people.csv:{line} column 'family_name': control character U+001B (ESC)")
               for p in found)


def test_a_byte_that_is_not_utf8_gives_line_column_and_offset(seeds):
    line = line_of(seeds, "people.csv", b",Topol,")
    offset = replace_bytes(seeds, "people.csv", b",Topol,", b",T\xf6pol,")
    found = problems(seeds)
    assert found == [f"seeds/people.csv:{line} column 'family_name': not UTF-8 at byte {offset + 2} (0xf6); "
                     "save the file as UTF-8"]


def test_bad_bytes_in_two_files_are_all_reported(seeds):
    replace_bytes(seeds, "people.csv", b"Topol,", b"T\xf6pol,")
    replace_bytes(seeds, "links.csv", b"GOV.UK", b"GOV\xff.UK")
    found = problems(seeds)
    assert any(p.startswith("seeds/people.csv:") and "not UTF-8" in p for p in found)
    assert any(p.startswith("seeds/links.csv:") and "column 'evidence'" not in p and "not UTF-8" in p
               for p in found)


def test_a_bad_byte_in_the_mapping_set_names_its_line_and_column(seeds):
    offset = replace_bytes(seeds, "mappings.sssom.tsv", b"Systems analysts", b"Systems analysts\xc3")
    line = (seeds.seeds_dir / "mappings.sssom.tsv").read_bytes()[:offset].count(b"\n") + 1
    found = problems(seeds)
    assert len(found) == 1
    assert found[0].startswith(f"seeds/mappings.sssom.tsv:{line} column ")
    assert f"not UTF-8 at byte {offset + len(b'Systems analysts')} (0xc3)" in found[0]


def test_an_iri_with_a_closing_angle_bracket_is_refused(seeds):
    line = line_of(seeds, "citations.csv", b"https://topol.hee.nhs.uk/the-topol-review/")
    replace_bytes(seeds, "citations.csv", b"https://topol.hee.nhs.uk/the-topol-review/",
                  b"https://topol.hee.nhs.uk/the>topol-review/")
    found = problems(seeds)
    assert found == [f"seeds/citations.csv:{line} column 'web_address': not an IRI: '>' at character 29 "
                     "cannot be in an IRI (RFC 3987): 'https://topol.hee.nhs.uk/the>topol-review/'"]


@pytest.mark.parametrize("bad", [b"{", b"|", b"\\", b"^", b"`", b'"'])
def test_characters_rfc_3987_excludes_are_refused_in_link_targets(seeds, bad):
    line = line_of(seeds, "links.csv", b"E92000001")
    replace_bytes(seeds, "links.csv", b"E92000001", b"E92" + bad + b"000001")
    found = problems(seeds)
    assert len(found) == 1 and found[0].startswith(f"seeds/links.csv:{line} column 'target': not an IRI")


def test_a_curie_that_expands_to_a_bad_iri_is_refused(seeds):
    line = line_of(seeds, "links.csv", b"foaf:page")
    replace_bytes(seeds, "links.csv", b"foaf:page", b"foaf:pa<ge")
    found = problems(seeds)
    assert found == [f"seeds/links.csv:{line} column 'predicate': not an IRI: '<' at character 29 cannot be "
                     "in an IRI (RFC 3987): 'http://xmlns.com/foaf/0.1/pa<ge'"]


def test_a_duplicate_key_with_different_values_names_both_rows(seeds):
    path = seeds.seeds_dir / "people.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    first = next(n for n, text in enumerate(lines, start=1) if ",Topol," in text)
    path.write_text("".join(lines) + lines[first - 1].replace(",Topol,", ",Topoll,"), encoding="utf-8")
    found = problems(seeds)
    assert found == [f"seeds/people.csv:{len(lines) + 1} column 'key': duplicate key 'e-topol': line {first} "
                     "has the same key with different values in 'family_name'; one key, one row"]


def test_an_identical_duplicate_row_is_an_error_too(seeds):
    path = seeds.seeds_dir / "people.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    first = next(n for n, text in enumerate(lines, start=1) if ",Topol," in text)
    path.write_text("".join(lines) + lines[first - 1], encoding="utf-8")
    assert problems(seeds) == [f"seeds/people.csv:{len(lines) + 1} column 'key': duplicate key 'e-topol': "
                               f"this row repeats line {first} exactly; delete one"]


def test_a_repeated_link_is_an_error(seeds):
    path = seeds.seeds_dir / "links.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(lines) + lines[1], encoding="utf-8")
    assert problems(seeds) == [f"seeds/links.csv:{len(lines) + 1} column 'subject': duplicate link: line 2 "
                               "states the same link; delete one"]


def test_a_row_with_more_cells_than_the_header_is_refused(seeds):
    line = line_of(seeds, "people.csv", b"Topol,")
    path = seeds.seeds_dir / "people.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[line - 1] = lines[line - 1].rstrip("\n") + ",stray\n"
    path.write_text("".join(lines), encoding="utf-8")
    found = problems(seeds)
    assert any(p.startswith(f"seeds/people.csv:{line}: the row has") and "cells but the header names" in p
               for p in found)
