"""ESCO's occupations and its ISCO-08 groups, from the CSV files ESCO publishes, as SKOS.

ESCO's classification download (English, CSV) has ``occupations_en.csv`` (one row per occupation:
``conceptUri``, ``iscoGroup``, ``preferredLabel``, ``altLabels`` and ``hiddenLabels`` with one
label per line, ``code``, ``inScheme``, ``description``...) and ``ISCOGroups_en.csv`` (one row per
ISCO-08 group: ``conceptUri`` ``http://data.europa.eu/esco/isco/C{code}``, ``code``,
``preferredLabel``...). Every concept keeps ESCO's own IRI, labels (``@en``), code
(``skos:notation``) and concept schemes.

The hierarchy is in the codes: an occupation's code is its ISCO-08 unit group's code followed by
``.n`` steps (``2511.4``, ``2654.1.7``), so its broader concept is the occupation whose code is its
own less the last step, or, for a code with one step, its ISCO-08 unit group (``iscoGroup``, which
must agree with the code); an ISCO-08 group's broader group has its code less the last digit.
Labels that repeat the preferred label (ESCO lists some among the alternative labels) are left
out, as SKOS S13 requires; ``aiwf import`` says how many.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from rdflib import Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, SKOS

from .cells import CellError, check_iri
from .classification import Classification, Licence, SourceFile, english, fail_on, top_concepts
from .errors import Problem
from .locations import Location
from .seedfiles import read_csv

__all__ = ["ISCO_COLUMNS", "LICENCE", "OCCUPATION_COLUMNS", "read_esco"]

ESCO = "http://data.europa.eu/esco/"
OCCUPATION = re.compile(r"http://data\.europa\.eu/esco/occupation/[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}")
SCHEME = re.compile(r"http://data\.europa\.eu/esco/concept-scheme/[A-Za-z0-9-]+")
OCCUPATION_CODE = re.compile(r"([0-9]{4})(?:\.[0-9]+)+")
ISCO_CODE = re.compile(r"[0-9]{1,4}")
OCCUPATION_COLUMNS = ("conceptType", "conceptUri", "iscoGroup", "preferredLabel", "altLabels", "hiddenLabels",
                      "code", "inScheme", "description")
ISCO_COLUMNS = ("conceptType", "conceptUri", "code", "preferredLabel", "altLabels", "inScheme", "description")
#: Optional columns read when present: column -> property.
NOTES = {"definition": SKOS.definition, "scopeNote": SKOS.scopeNote}
TITLE_TEXT = "ESCO occupations and ISCO-08 groups"
LICENCE = Licence(
    licence="http://data.europa.eu/eli/dec/2011/833/oj",
    rights="This service uses the ESCO classification of the European Commission. Reuse is authorised under "
           "Commission Decision 2011/833/EU on the reuse of Commission documents, provided the source is "
           "acknowledged; adapted here: converted to SKOS, with labels equal to the preferred label left out.",
    source="https://esco.ec.europa.eu/en/use-esco/download",
)
_VERSION_IN_NAME = re.compile(r"v?([0-9]+(?:\.[0-9]+)+)")


def isco_iri(code: str) -> URIRef:
    """ESCO's IRI of the ISCO-08 group ``code``.

    >>> str(isco_iri("2511"))
    'http://data.europa.eu/esco/isco/C2511'
    """
    return URIRef(f"{ESCO}isco/C{code}")


def _lines(text: str) -> list[str]:
    found: list[str] = []
    for line in text.splitlines():
        label = line.strip()
        if label and label not in found:
            found.append(label)
    return found


class _Reader:
    def __init__(self, result: Classification) -> None:
        self.result = result
        self.problems: list[Problem] = []
        self.left_out = 0

    def problem(self, name: str, line: int, column: str | None, message: str) -> None:
        self.problems.append(Problem(Location(name, line, column), message))

    def rows(self, path: Path, columns: tuple[str, ...], kind: str) -> list[tuple[int, dict[str, str]]]:
        """The rows of one CSV file, each with the line it starts on, its header checked; problems recorded."""
        try:
            seed = read_csv(path, path.name)
            starts = _starts(path)
        except OSError as error:
            self.problem(path.name, 0, None, f"cannot read the file: {error.strerror or error}")
            return []
        self.problems.extend(seed.problems)
        missing = [c for c in columns if c not in seed.header]
        for column in missing:
            self.problem(path.name, 1, column, f"column is missing from the header; expected ESCO's {kind} CSV "
                         f"with the columns {', '.join(columns)}")
        if missing:
            return []
        return [(starts.get(line, line), row) for line, row in seed.rows]

    def concept(self, name: str, line: int, row: dict[str, str], iri: URIRef, code: str) -> None:
        """The labels, code, schemes and notes that occupations and ISCO-08 groups share."""
        result = self.result
        result.locations.setdefault(iri, Location(name, line, None))
        result.add(iri, RDF.type, SKOS.Concept, "conceptUri")
        preferred = " ".join((row.get("preferredLabel") or "").split())
        if preferred:
            result.add(iri, SKOS.prefLabel, english(preferred), "preferredLabel")
        result.add(iri, SKOS.notation, Literal(code), "code")
        for column, predicate in (("altLabels", SKOS.altLabel), ("hiddenLabels", SKOS.hiddenLabel)):
            for label in _lines(row.get(column) or ""):
                if label == preferred:
                    self.left_out += 1
                    continue
                result.add(iri, predicate, english(label), column)
        schemes = [s.strip() for s in re.split(r"[,\n]", row.get("inScheme") or "") if s.strip()]
        for scheme in schemes:
            if not SCHEME.fullmatch(scheme):
                self.problem(name, line, "inScheme", f"not an ESCO concept scheme IRI: {scheme!r}")
                continue
            result.add(iri, SKOS.inScheme, URIRef(scheme), "inScheme")
            result.add(URIRef(scheme), RDF.type, SKOS.ConceptScheme)
        description = (row.get("description") or "").strip()
        if description:
            result.add(iri, DCTERMS.description, english(description), "description")
        for column, predicate in NOTES.items():
            text = (row.get(column) or "").strip()
            if text:
                result.add(iri, predicate, english(text), column)

    def iri(self, name: str, line: int, text: str, pattern: re.Pattern[str], what: str) -> URIRef | None:
        try:
            check_iri(text)
        except CellError as error:
            self.problem(name, line, "conceptUri", str(error))
            return None
        if not pattern.fullmatch(text):
            self.problem(name, line, "conceptUri", f"not an ESCO {what} IRI: {text!r}")
            return None
        return URIRef(text)

    def occupations(self, path: Path) -> None:
        seen: dict[str, int] = {}
        codes: dict[str, URIRef] = {}
        parents: list[tuple[URIRef, str, str, int]] = []
        for line, row in self.rows(path, OCCUPATION_COLUMNS, "occupations"):
            if (row.get("conceptType") or "").strip() != "Occupation":
                self.problem(path.name, line, "conceptType",
                             f"expected 'Occupation', not {row.get('conceptType')!r}: is this ESCO's occupations file?")
                continue
            iri = self.iri(path.name, line, (row.get("conceptUri") or "").strip(), OCCUPATION, "occupation")
            code = (row.get("code") or "").strip()
            group = (row.get("iscoGroup") or "").strip()
            match = OCCUPATION_CODE.fullmatch(code)
            if not match:
                self.problem(path.name, line, "code", f"malformed ESCO occupation code {code!r} "
                             "(its ISCO-08 unit group, then .n steps, such as 2511.4)")
            elif match.group(1) != group:
                self.problem(path.name, line, "iscoGroup", f"ISCO-08 group {group!r} does not agree with the code "
                             f"{code!r}, which starts with {match.group(1)!r}")
            if iri is None or not match or match.group(1) != group:
                continue
            for key, kind in ((str(iri), "IRI"), (code, "code")):
                if key in seen:
                    self.problem(path.name, line, "conceptUri" if kind == "IRI" else "code",
                                 f"duplicate {kind} {key!r}: line {seen[key]} has it too")
            if str(iri) in seen or code in seen:
                continue
            seen[str(iri)] = seen[code] = line
            codes[code] = iri
            self.concept(path.name, line, row, iri, code)
            parents.append((iri, code, group, line))
        for iri, code, group, line in parents:
            parent = code.rsplit(".", 1)[0]
            broader = isco_iri(group) if parent == group else codes.get(parent)
            if broader is None:
                self.problem(path.name, line, "code", f"no occupation has the code {parent!r}, which the code "
                             f"{code!r} is under")
                continue
            self.result.add(iri, SKOS.broader, broader, "code")

    def groups(self, path: Path) -> None:
        seen: dict[str, int] = {}
        for line, row in self.rows(path, ISCO_COLUMNS, "ISCO groups"):
            if (row.get("conceptType") or "").strip() != "ISCOGroup":
                self.problem(path.name, line, "conceptType",
                             f"expected 'ISCOGroup', not {row.get('conceptType')!r}: is this ESCO's ISCO groups file?")
                continue
            code = (row.get("code") or "").strip()
            if not ISCO_CODE.fullmatch(code):
                self.problem(path.name, line, "code", f"malformed ISCO-08 code {code!r} (one to four digits)")
                continue
            text = (row.get("conceptUri") or "").strip()
            if text != str(isco_iri(code)):
                self.problem(path.name, line, "conceptUri", f"expected {str(isco_iri(code))!r} for code {code!r}, "
                             f"not {text!r}")
                continue
            if code in seen:
                self.problem(path.name, line, "code", f"duplicate code {code!r}: line {seen[code]} has it too")
                continue
            seen[code] = line
            iri = isco_iri(code)
            self.concept(path.name, line, row, iri, code)
            if len(code) > 1:
                self.result.add(iri, SKOS.broader, isco_iri(code[:-1]), "code")


def _starts(path: Path) -> dict[int, int]:
    """The line each CSV record of ``path`` starts on, by the line it ends on (ESCO's label cells span lines)."""
    reader = csv.reader(io.StringIO(path.read_bytes().decode("utf-8", errors="replace"), newline=""))
    starts, end = {}, 0
    try:
        for _ in reader:
            starts[reader.line_num] = end + 1
            end = reader.line_num
    except csv.Error:
        pass  # read_csv reports it
    return starts


def _version(path: Path) -> str:
    """The ESCO version a file name gives (``occupations_en_1.2.0.csv``, ``v1.2.0``), else ``""``."""
    found = _VERSION_IN_NAME.findall(path.stem)
    return found[-1] if found else ""


def read_esco(occupations: Path, isco_groups: Path, *, version: str | None = None) -> Classification:
    """ESCO's occupations and ISCO-08 groups, from its English CSV files, as SKOS.

    :param version: the ESCO release; by default the version number in the occupations file's
        name (``occupations_en_1.2.0.csv``), if it has one.
    :raises ImportFailed: naming the file, line and column of every problem found.
    """
    occupations, isco_groups = Path(occupations), Path(isco_groups)
    files = tuple(SourceFile.of(p) for p in (occupations, isco_groups) if p.is_file())
    result = Classification("esco", TITLE_TEXT, version or _version(occupations), LICENCE, files)
    reader = _Reader(result)
    reader.groups(isco_groups)
    reader.occupations(occupations)
    fail_on(reader.problems)
    top_concepts(result)
    if reader.left_out:
        result.notes.append(f"{reader.left_out} alternative or hidden label(s) equal to their concept's preferred "
                            "label were left out (SKOS S13)")
    return result
