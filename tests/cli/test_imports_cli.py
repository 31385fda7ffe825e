"""``aiwf import``: load, list and remove a classification from the command line, with clear failures."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from classification_files import SOC_ROWS, write_esco, write_soc_workbook
from nhs_ai_workforce.cli import main
from nhs_ai_workforce.store.live import current_dir

PROJECT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A copy of the project's seeds, ontology and shapes with a built store, and the fixture files."""
    root = tmp_path_factory.mktemp("project")
    for name in ("seeds", "ontology", "shapes"):
        shutil.copytree(PROJECT / name, root / name)
    write_soc_workbook(root / "soc.xlsx")
    write_esco(root / "esco")
    return root


@pytest.fixture
def aiwf(project, monkeypatch):
    monkeypatch.setenv("AIWF_ROOT", str(project))
    monkeypatch.chdir(project)

    def run(*args: str) -> int:
        return main([*args, "--store", str(project / "var" / "store")])

    assert run("build", "--no-dumps") == 0
    return run


def test_import_list_and_remove(aiwf, project, capsys):
    capsys.readouterr()
    assert aiwf("import", "soc2020", "soc.xlsx", "--version", "fixture") == 0
    out = capsys.readouterr().out
    assert out.startswith("imported soc2020: ") and "from soc.xlsx (version fixture)" in out
    assert "soc2020" in out.split("graph")[1]  # the graph counts list it
    assert aiwf("import", "esco", "esco/occupations_en_1.2.0.csv", "--isco-groups", "esco/ISCOGroups_en_1.2.0.csv") == 0
    assert "note: 1 alternative or hidden label(s) equal to" in capsys.readouterr().out
    assert aiwf("import") == 0
    listed = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in listed] == ["soc2020", "esco"]
    assert "version 1.2.0" in listed[1]
    assert aiwf("import", "--remove", "esco") == 0
    assert capsys.readouterr().out.startswith("removed esco")
    assert not (project / "var" / "imports" / "esco.nt").exists()
    assert (project / "var" / "imports" / "soc2020.nt").exists()


def test_a_malformed_file_fails_with_its_place_and_changes_nothing(aiwf, project, capsys):
    bad_row = ("<blank>", "<blank>", "<blank>", "35x9", "x", "d", "<blank>")
    write_soc_workbook(project / "bad.xlsx", [*SOC_ROWS, bad_row])
    live = current_dir_of(project)
    capsys.readouterr()
    assert aiwf("import", "soc2020", "bad.xlsx") == 1
    err = capsys.readouterr().err
    assert "import failed; the live store and var/imports/ are unchanged." in err
    assert "bad.xlsx[SOC2020 descriptions]:7 column 'SOC 2020 Unit Group': malformed code '35x9'" in err
    assert current_dir_of(project) == live


@pytest.mark.parametrize(("args", "message"), [
    (("import", "soc2020", "missing.xlsx"), "missing.xlsx: no such file"),
    (("import", "esco", "esco/occupations_en_1.2.0.csv"), "ESCO needs its ISCO groups file too"),
    (("import", "soc2020"), "give the file to import"),
    (("import", "--remove", "esco", "soc2020"), "--remove takes only the name"),
])
def test_usage_mistakes_exit_2(aiwf, capsys, args, message):
    assert aiwf(*args) == 2
    assert message in capsys.readouterr().err


def current_dir_of(project: Path):
    from nhs_ai_workforce.core.settings import Settings

    return current_dir(Settings(root=project))
