"""Small classification files in the published layouts, written at test time for the import tests.

The SOC 2020 workbook has the sheet, headers and cell conventions of ONS's Volume 1 workbook
(codes as numbers or text, ``<blank>`` for empty cells, related job titles one per line after
``~``); the ESCO files have ESCO's CSV headers and multi-line label cells. The rows are written
here for the tests: the groups and occupations the seed tables also name (SOC 2020 3544, ISCO-08
2511, ESCO's data scientist and data analyst) carry the seed tables' codes and labels; everything
else is fixture text (``Fixture ...``) and fixture identifiers (``00000000-...``).
"""

from __future__ import annotations

import csv
from pathlib import Path

SOC_SHEET = "SOC2020 descriptions"
SOC_HEADER = ("SOC\n2020 Major Group", "SOC\n2020 Sub-Major Group", "SOC\n2020 Minor Group", "SOC 2020 Unit Group",
              "SOC\n2020 \nGroup Title", "Groups Classified Within Sub-Groups ", "Group  Description",
              "Typical Entry Routes And Associated Qualifications", "Tasks", "Related Job Titles")
B = "<blank>"

#: (major, sub-major, minor, unit, title, description, related job titles) per row.
SOC_ROWS = [
    (3, B, B, B, "Fixture major group 3", "Fixture description of major group 3.", B),
    (B, "35", B, B, "Fixture sub-major group 35", "Fixture description of sub-major group 35.", B),
    (B, B, 354, B, "Fixture minor group 354", "Fixture description of minor group 354.", B),
    (B, B, B, 3544, "Data analysts", "Fixture description of unit group 3544.",
     "~Data analyst\n\n~Data officer\n\n~Data quality analyst"),
    (B, B, B, "3549", "Fixture unit group 3549", "Fixture description of unit group 3549.",
     "~Fixture job title\n\n~Fixture unit group 3549\n\n~Fixture job title"),
]


def soc_row(major=B, sub=B, minor=B, unit=B, title=B, description=B, related=B) -> tuple:
    return (major, sub, minor, unit, title, "<blank>", description, "Fixture entry routes.", "~fixture task", related)


def write_soc_workbook(path: Path, rows=None, *, sheet: str = SOC_SHEET, header=SOC_HEADER) -> Path:
    """An .xlsx in the layout of ONS's SOC 2020 Volume 1 workbook, with ``rows`` (default :data:`SOC_ROWS`)."""
    import openpyxl

    book = openpyxl.Workbook()
    first = book.active
    first.title = sheet
    first.append(list(header))
    for row in SOC_ROWS if rows is None else rows:
        first.append(list(soc_row(*row)) if len(row) == 7 else list(row))
    book.create_sheet("SOC2020 Framework").append(["Unique ID", "SOC2020\nMajor Group"])
    book.save(path)
    return path


OCCUPATION_HEADER = ("conceptType", "conceptUri", "iscoGroup", "preferredLabel", "altLabels", "hiddenLabels", "status",
                     "modifiedDate", "regulatedProfessionNote", "scopeNote", "definition", "inScheme", "description",
                     "code")
ISCO_HEADER = ("conceptType", "conceptUri", "code", "preferredLabel", "status", "altLabels", "inScheme", "description")
ESCO = "http://data.europa.eu/esco/"
SCHEMES = f"{ESCO}concept-scheme/occupations,\n{ESCO}concept-scheme/member-occupations"
DATA_SCIENTIST = f"{ESCO}occupation/258e46f9-0075-4a2e-adae-1ff0477e0f30"
DATA_ANALYST = f"{ESCO}occupation/d3edb8f8-3a06-47a0-8fb9-9b212c006aa2"
FIXTURE_OCCUPATION = f"{ESCO}occupation/00000000-0000-4000-8000-000000000001"

#: (IRI, ISCO group, preferred, alternative labels, hidden labels, code) per occupation.
OCCUPATIONS = [
    (DATA_SCIENTIST, "2511", "data scientist", "fixture data science alias\ndata scientist\n fixture second alias ",
     "fixture hidden data label", "2511.4"),
    (DATA_ANALYST, "2511", "data analyst", "fixture analyst alias", "", "2511.3"),
    (FIXTURE_OCCUPATION, "2511", "fixture narrower occupation", "", "", "2511.4.1"),
]
#: (code, preferred label) per ISCO-08 group.
ISCO_GROUPS = [("2", "Fixture major group 2"), ("25", "Fixture sub-major group 25"),
               ("251", "Fixture minor group 251"), ("2511", "Systems analysts")]


def occupation_row(iri, group, preferred, alt="", hidden="", code="", concept_type="Occupation") -> dict:
    return {"conceptType": concept_type, "conceptUri": iri, "iscoGroup": group, "preferredLabel": preferred,
            "altLabels": alt, "hiddenLabels": hidden, "status": "released", "modifiedDate": "2024-01-25T11:28:50.295Z",
            "regulatedProfessionNote": f"{ESCO}regulated-professions/unregulated", "scopeNote": "", "definition": "",
            "inScheme": SCHEMES, "description": f"Fixture description of {preferred}.", "code": code}


def isco_row(code, preferred) -> dict:
    schemes = f"{ESCO}concept-scheme/occupations,\n{ESCO}concept-scheme/isco"
    return {"conceptType": "ISCOGroup", "conceptUri": f"{ESCO}isco/C{code}", "code": code, "preferredLabel": preferred,
            "status": "released", "altLabels": "", "inScheme": schemes,
            "description": f"Fixture description of ISCO-08 group {code}."}


def _write(path: Path, header, rows) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(header), extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_esco(folder: Path, occupations=None, groups=None, *, occupation_header=OCCUPATION_HEADER,
               isco_header=ISCO_HEADER) -> tuple[Path, Path]:
    """ESCO's occupations and ISCO groups CSV files (named as ESCO v1.2.0's are) in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    occupation_rows = [occupation_row(*row) for row in (OCCUPATIONS if occupations is None else occupations)]
    isco_rows = [isco_row(*row) for row in (ISCO_GROUPS if groups is None else groups)]
    return (_write(folder / "occupations_en_1.2.0.csv", occupation_header, occupation_rows),
            _write(folder / "ISCOGroups_en_1.2.0.csv", isco_header, isco_rows))
