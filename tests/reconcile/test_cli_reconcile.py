"""``aiwf reconcile``: one title, or a CSV column of them, against a real build of the graph."""

from __future__ import annotations

import csv
import io
import json
import sys

import pytest

from nhs_ai_workforce.cli import main
from nhs_ai_workforce.core.settings import Settings
from nhs_ai_workforce.reconcile.batch import ADDED_COLUMNS, Progress

ID = f"{Settings().base}/id/"


@pytest.fixture(scope="module")
def store_path(tmp_path_factory) -> str:
    from nhs_ai_workforce.pipeline.build import build

    settings = Settings().with_(store_dir=tmp_path_factory.mktemp("cli-reconcile") / "store")
    build(settings, write_dumps=False)
    return str(settings.store_path)


@pytest.fixture
def run(store_path, capsys):
    def run(*args: str) -> tuple[int, str, str]:
        status = main(["reconcile", *args, "--store", store_path])
        out, err = capsys.readouterr()
        return status, out, err

    return run


def read_csv(text: str, delimiter: str = ",") -> tuple[list[str], list[dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    return list(reader.fieldnames or []), list(reader)


# -- one title -----------------------------------------------------------------------------


def test_one_title_prints_a_table_of_candidates(run) -> None:
    status, out, _ = run("Snr Data Analyst - Leeds")
    assert status == 0
    lines = out.splitlines()
    assert lines[0].split()[:4] == ["label", "concept", "score", "match"]
    first = lines[2]
    assert "role/data-analyst" in first and "100.0" in first and "yes" in first
    assert "3544" in first and "2511" in first
    assert lines[-1].endswith("rows)") or lines[-1] == "(1 row)"


def test_json_output(run) -> None:
    status, out, _ = run("Consultant Cardiologists", "--json", "--limit", "2")
    assert status == 0
    result = json.loads(out)
    assert result["query"] == "Consultant Cardiologists"
    assert len(result["candidates"]) <= 2
    best = result["candidates"][0]
    assert best["id"] == f"{ID}workforce-group/medic-cardiology"
    assert best["match"] is True and best["soc2020"] == "2212" and best["isco"] == "2212"


def test_a_title_with_no_candidate(run) -> None:
    status, out, _ = run("Tree Surgeon")
    assert status == 0
    assert out.splitlines()[-1] == "(0 rows)"


def test_type_option(run) -> None:
    status, out, _ = run("Health Education England", "--type", "organisation")
    assert status == 0 and "organisation/health-education-england" in out.splitlines()[2]
    status, out, _ = run("Health Education England")  # job-title kinds by default
    assert "organisation/" not in out
    status, out, _ = run("Topol Review", "--type", "all", "--limit", "1")
    assert "initiative/topol-review" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "nothing to reconcile"),
        (("Analyst", "--csv", "x.csv", "--column", "t"), "not both"),
        (("--csv", "x.csv"), "--column"),
        (("Analyst", "--column", "t"), "go with --csv"),
        (("Analyst", "--limit", "0"), "--limit"),
    ],
)
def test_usage_errors(run, args, message) -> None:
    status, _, err = run(*args)
    assert status == 2 and message in err


def test_without_a_store_it_says_to_build(capsys, tmp_path) -> None:
    assert main(["reconcile", "Data Analyst", "--store", str(tmp_path / "var" / "store")]) == 2
    assert "run `aiwf build` first" in capsys.readouterr().err


# -- a CSV column --------------------------------------------------------------------------

ROSTER = """\
Staff number,Job title,Grade,Notes
1001,Snr Data Analyst - Leeds,Band 7,"has ""quotes"", commas"
1002,Tree Surgeon,Band 3,
1003,Consultant Cardiologists,Consultant,
1004,,Band 5,no title
1005,Clinical Bioinformatitian,Band 6,
"""


def test_csv_round_trip_keeps_every_column_and_row_and_adds_the_codes(run, tmp_path) -> None:
    source = tmp_path / "roster.csv"
    source.write_text(ROSTER, encoding="utf-8")
    target = tmp_path / "out.csv"
    status, out, err = run("--csv", str(source), "--column", "Job title", "-o", str(target))
    assert status == 0 and out == ""
    assert "reconciled 5 rows" in err
    fields, rows = read_csv(target.read_text(encoding="utf-8"))
    original_fields, original = read_csv(ROSTER)
    assert fields == [*original_fields, *ADDED_COLUMNS]
    assert [{k: row[k] for k in original_fields} for row in rows] == original
    analyst, surgeon, cardiologist, empty, bioinformatician = rows
    assert analyst["concept"] == f"{ID}role/data-analyst"
    assert (analyst["label"], analyst["match"]) == ("data analyst", "true")
    assert (analyst["soc2020"], analyst["isco"], analyst["score"]) == ("3544", "2511", "100.0")
    assert (analyst["status"], analyst["soc2020_title"]) == ("matched", "Data analysts")
    assert (analyst["matched_by"], analyst["matched_label"]) == ("pref", "data analyst")
    assert surgeon["status"] in ("none", "review") and surgeon["match"] == "false"
    if surgeon["status"] == "none":
        assert (surgeon["concept"], surgeon["score"], surgeon["soc2020"]) == ("", "", "")
    assert cardiologist["concept"] == f"{ID}workforce-group/medic-cardiology" and cardiologist["soc2020"] == "2212"
    assert (empty["status"], empty["concept"], empty["match"]) == ("none", "", "false")
    assert bioinformatician["label"] == "clinical bioinformatician" and bioinformatician["isco"] == "2131"


def test_csv_from_stdin_to_stdout_keeps_the_delimiter(run, monkeypatch) -> None:
    text = "id;Role\n1;Health Economists\n2;Scientist\n"
    monkeypatch.setattr(sys, "stdin", io.StringIO(text))
    status, out, _ = run("--csv", "-", "--column", "role")  # the column's case does not matter
    assert status == 0
    fields, rows = read_csv(out, delimiter=";")
    assert fields[:2] == ["id", "Role"]
    assert rows[0]["concept"] == f"{ID}role/health-economist"
    # an ambiguous title is not a match, but its best candidate is there to review
    assert rows[1]["status"] == "review" and rows[1]["match"] == "false" and rows[1]["score"]
    assert rows[1]["concept"].startswith(f"{ID}role/") and rows[1]["matched_by"]


def test_a_missing_column_names_the_columns_found(run, tmp_path) -> None:
    source = tmp_path / "roster.csv"
    source.write_text(ROSTER, encoding="utf-8")
    status, out, err = run("--csv", str(source), "--column", "Position")
    assert status == 2 and out == ""
    assert "'Position'" in err and "'Staff number', 'Job title', 'Grade', 'Notes'" in err


def test_an_unreadable_file_is_a_usage_error(run, tmp_path) -> None:
    status, _, err = run("--csv", str(tmp_path / "missing.csv"), "--column", "Job title")
    assert status == 2 and "cannot read" in err


def test_columns_already_named_like_the_added_ones_are_kept(run, tmp_path) -> None:
    source = tmp_path / "in.csv"
    source.write_text("title,concept\nStatisticians,mine\n", encoding="utf-8")
    status, out, _ = run("--csv", str(source), "--column", "title")
    assert status == 0
    fields, rows = read_csv(out)
    assert fields == ["title", "concept", *(f"reconciled_{c}" if c == "concept" else c for c in ADDED_COLUMNS)]
    assert rows[0]["concept"] == "mine" and rows[0]["reconciled_concept"] == f"{ID}role/statistician"


def test_long_files_show_progress_on_stderr(run, tmp_path) -> None:
    source = tmp_path / "long.csv"
    titles = ["Data Engineers", "Tree Surgeon", "Radiologists", "Health Economists"]
    source.write_text("n,title\n" + "".join(f"{i},{titles[i % 4]}\n" for i in range(120)), encoding="utf-8")
    status, out, err = run("--csv", str(source), "--column", "title")
    assert status == 0 and len(read_csv(out)[1]) == 120
    assert "reconciling: 120/120 (100%)" in err
    status, _, err = run("--csv", str(source), "--column", "title", "--no-progress")
    assert "reconciling:" not in err


def test_short_files_show_no_progress(run, tmp_path) -> None:
    source = tmp_path / "short.csv"
    source.write_text("title\nData Engineers\n", encoding="utf-8")
    _, _, err = run("--csv", str(source), "--column", "title")
    assert "reconciling:" not in err


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_progress_bar_redraws_one_line_on_a_terminal() -> None:
    stream = FakeTerminal()
    progress = Progress(200, stream)
    for done in range(1, 201):
        progress(done)
    text = stream.getvalue()
    assert text.startswith("\r") and text.endswith("200/200 (100%)\n")
    assert text.count("\n") == 1
