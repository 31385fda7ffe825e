"""The ONS SOC 2020 Volume 1 workbook as SKOS: every major, sub-major, minor and unit group.

ONS publishes "SOC 2020 Volume 1: structure and descriptions of unit groups" as an Excel
workbook whose sheet ``SOC2020 descriptions`` has one row per group: its code in one of the four
code columns (major 1 digit, sub-major 2, minor 3, unit 4), its title, its description and, for a
unit group, its related job titles (one per line, each starting ``~``). ``<blank>`` marks an empty
cell. Each group becomes a ``skos:Concept`` at ``{base}/id/soc2020/{code}`` - the IRI the seed
tables already mint for the unit groups they use - in the scheme ``{base}/id/scheme/soc2020``,
with its code as ``skos:notation``, its title as ``skos:prefLabel``, its description as
``skos:definition`` and ``skos:broader`` the group whose code is its own less the last digit.

A related job title names a job classified in the unit group, not the group itself, so it is
a ``skos:example`` (as in the seed tables) and a ``skos:hiddenLabel``: found by label searches
(Skosmos, SPARQL) without being shown as another name of the group, which ``skos:altLabel``
would claim. A title equal to the group's own is only an example (SKOS S13).
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from pathlib import Path

from rdflib import Literal
from rdflib.namespace import RDF, SKOS

from ..core.namespaces import ProjectNamespaces
from ..core.settings import DEFAULT_BASE
from .classification import Classification, Licence, SourceFile, english, fail_on, top_concepts
from .errors import Problem
from .locations import Location

__all__ = ["LICENCE", "SHEET", "read_soc2020"]

SHEET = "SOC2020 descriptions"
#: The columns read, as the workbook heads them (compared with case and spacing ignored).
LEVELS = (("SOC 2020 Major Group", 1), ("SOC 2020 Sub-Major Group", 2), ("SOC 2020 Minor Group", 3),
          ("SOC 2020 Unit Group", 4))
TITLE, DESCRIPTION, RELATED = "SOC 2020 Group Title", "Group Description", "Related Job Titles"
REQUIRED = (*(name for name, _ in LEVELS), TITLE, DESCRIPTION, RELATED)
BLANK = "<blank>"
TITLE_TEXT = "ONS Standard Occupational Classification 2020, Volume 1: structure and descriptions of unit groups"
LICENCE = Licence(
    licence="http://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/",
    rights="Contains public sector information licensed under the Open Government Licence v3.0: "
           "SOC 2020 Volume 1, Office for National Statistics.",
    source="https://www.ons.gov.uk/methodology/classificationsandstandards/standardoccupationalclassificationsoc/"
           "soc2020/soc2020volume1structureanddescriptionsofunitgroups",
)


def _norm(text: object) -> str:
    return " ".join(str(text or "").split()).lower()


def _cell(value: object) -> str:
    """A cell's text: numbers without a decimal point, ``<blank>`` and whitespace as empty."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return "" if text == BLANK else text


def _related(text: str) -> list[str]:
    """The related job titles of a cell: one per line, each without its leading ``~``."""
    found: list[str] = []
    for line in text.splitlines():
        title = line.strip().lstrip("~").strip()
        if title and title not in found:
            found.append(title)
    return found


class _Reader:
    def __init__(self, path: Path, version: str | None) -> None:
        self.path = path
        self.where = f"{path.name}[{SHEET}]"
        self.problems: list[Problem] = []
        self.ns = ProjectNamespaces(DEFAULT_BASE)
        self.scheme = self.ns.thing("scheme", "soc2020")
        self.version = version
        self.codes: dict[str, int] = {}

    def problem(self, row: int, column: str | None, message: str) -> None:
        self.problems.append(Problem(Location(self.where if row else self.path.name, row, column), message))

    def read(self) -> Classification:
        rows = self._rows()
        fail_on(self.problems)
        result = Classification("soc2020", TITLE_TEXT, self.version or "", LICENCE, (SourceFile.of(self.path),))
        result.add(self.scheme, RDF.type, SKOS.ConceptScheme)
        header, body = rows[0], rows[1:]
        index = self._columns(header)
        fail_on(self.problems)
        for number, row in enumerate(body, start=2):
            self._group(result, number, row, index)
        fail_on(self.problems)
        top_concepts(result)
        return result

    def _rows(self) -> list[tuple]:
        import openpyxl  # imported here: only `aiwf import soc2020` needs it
        from openpyxl.utils.exceptions import InvalidFileException

        try:
            book = openpyxl.load_workbook(self.path, read_only=True, data_only=True)
        except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError) as error:
            self.problem(0, None, f"not an Excel .xlsx workbook ({error}); expected the ONS SOC 2020 Volume 1 "
                         "workbook (structure and descriptions of unit groups)")
            return []
        except OSError as error:
            self.problem(0, None, f"cannot read the file: {error.strerror or error}")
            return []
        try:
            if SHEET not in book.sheetnames:
                found = ", ".join(repr(name) for name in book.sheetnames) or "none"
                self.problem(0, None, f"no sheet {SHEET!r} (the workbook has {found}); expected the ONS SOC 2020 "
                             "Volume 1 workbook (structure and descriptions of unit groups)")
                return []
            rows = list(book[SHEET].iter_rows(values_only=True))
            if self.version is None:
                modified = book.properties.modified
                self.version = modified.date().isoformat() if isinstance(modified, dt.datetime) else ""
        finally:
            book.close()
        if not rows:
            self.problem(1, None, "the sheet is empty: its first row must head the columns " + ", ".join(REQUIRED))
        return rows

    def _columns(self, header: tuple) -> dict[str, int]:
        index: dict[str, int] = {}
        for position, name in enumerate(header):
            index.setdefault(_norm(name), position)
        for name in REQUIRED:
            if _norm(name) not in index:
                self.problem(1, name, "column is missing from the header row (the first row of the sheet)")
        return {name: index.get(_norm(name), -1) for name in REQUIRED}

    def _group(self, result: Classification, number: int, row: tuple, index: dict[str, int]) -> None:
        def cell(name: str) -> str:
            position = index[name]
            return _cell(row[position]) if position < len(row) else ""

        codes = [(name, digits, cell(name)) for name, digits in LEVELS if cell(name)]
        title = " ".join(cell(TITLE).split())
        if not codes:
            if title or cell(DESCRIPTION) or cell(RELATED):
                self.problem(number, LEVELS[-1][0], "the row has no code in any of the four code columns")
            return
        if len(codes) > 1:
            self.problem(number, codes[1][0], "a row describes one group: it has codes in "
                         + " and ".join(repr(name) for name, _, _ in codes))
            return
        column, digits, code = codes[0]
        if not re.fullmatch(rf"[0-9]{{{digits}}}", code):
            self.problem(number, column, f"malformed code {code!r}: a code in this column has {digits} digit(s)")
            return
        if code in self.codes:
            self.problem(number, column, f"duplicate code {code!r}: row {self.codes[code]} has it too")
            return
        self.codes[code] = number
        if not title:
            self.problem(number, TITLE, "a group title is required")
            return
        concept = self.ns.thing("soc2020", code)
        result.locations[concept] = Location(self.where, number, None)
        result.add(concept, RDF.type, SKOS.Concept, column)
        result.add(concept, SKOS.prefLabel, english(title), TITLE)
        result.add(concept, SKOS.notation, Literal(code), column)
        result.add(concept, SKOS.inScheme, self.scheme, column)
        if digits > 1:
            result.add(concept, SKOS.broader, self.ns.thing("soc2020", code[:-1]), column)
        if cell(DESCRIPTION):
            result.add(concept, SKOS.definition, english(cell(DESCRIPTION)), DESCRIPTION)
        for related in _related(cell(RELATED)):
            result.add(concept, SKOS.example, english(related), RELATED)
            if related != title:
                result.add(concept, SKOS.hiddenLabel, english(related), RELATED)


def read_soc2020(path: Path, *, version: str | None = None) -> Classification:
    """Every group of the SOC 2020 Volume 1 workbook at ``path`` as SKOS.

    :param version: recorded as the classification's version; by default the date the
        workbook was last modified, as its document properties give it.
    :raises ImportFailed: naming the file, sheet, row and column of every problem found.
    """
    return _Reader(Path(path), version).read()

