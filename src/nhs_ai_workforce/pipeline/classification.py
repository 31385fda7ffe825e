"""A classification read from a user-supplied file, as SKOS, and what reading one has in common.

:mod:`.soc2020` reads the ONS SOC 2020 Volume 1 workbook and :mod:`.esco` the ESCO occupations
and ISCO-08 groups CSV files into a :class:`Classification`: its triples (IRIs under the default
base, like the seed conversion), where each subject came from (file and row, so the shapes'
findings point at the row) and what the conversion left out. :mod:`.imports` checks, records and
publishes it. A file that cannot be read as the published format raises :class:`ImportFailed`
naming the file, sheet, row and column; no partial classification is ever returned.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import Literal, URIRef
from rdflib.namespace import RDF, SKOS

from .errors import DataError, Problem
from .locations import Location

__all__ = ["Classification", "ImportFailed", "Licence", "SourceFile", "Triple", "english", "fail_on", "top_concepts"]

Triple = tuple[URIRef, URIRef, URIRef | Literal]


class ImportFailed(DataError):
    """A classification file that cannot be read or does not conform; nothing was changed."""


@dataclass(frozen=True)
class Licence:
    """The terms a classification is reused under: licence IRI, the attribution to show, and its publisher's page."""

    licence: str
    rights: str
    source: str


@dataclass(frozen=True)
class SourceFile:
    """A file an import was read from: its name (without folders) and SHA-256."""

    name: str
    sha256: str

    @classmethod
    def of(cls, path: Path) -> SourceFile:
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        return cls(path.name, digest.hexdigest())


@dataclass
class Classification:
    """One classification as SKOS: ``name`` is its graph (``soc2020``, ``esco``)."""

    name: str
    title: str
    version: str
    licence: Licence
    files: tuple[SourceFile, ...]
    triples: set[Triple] = field(default_factory=set)
    #: The file and row of each subject, and the column that filled each (subject, predicate).
    locations: dict[URIRef, Location] = field(default_factory=dict)
    columns: dict[tuple[URIRef, URIRef], str] = field(default_factory=dict)
    #: What the conversion left out or changed, one sentence each (shown by ``aiwf import``).
    notes: list[str] = field(default_factory=list)

    def add(self, subject: URIRef, predicate: URIRef, value: URIRef | Literal, column: str | None = None) -> None:
        self.triples.add((subject, predicate, value))
        if column:
            self.columns.setdefault((subject, predicate), column)

    def concepts(self) -> set[URIRef]:
        return {s for s, p, o in self.triples if p == RDF.type and o == SKOS.Concept}


def english(text: str) -> Literal:
    """``text`` as an English literal, the project's convention for human-language text."""
    return Literal(text, lang="en")


def top_concepts(classification: Classification) -> None:
    """Concepts without a broader concept are top concepts of each of their schemes (as the seed build does)."""
    with_broader = {s for s, p, _ in classification.triples if p == SKOS.broader}
    for concept, _, scheme in [t for t in classification.triples if t[1] == SKOS.inScheme]:
        if concept not in with_broader:
            classification.add(concept, SKOS.topConceptOf, scheme)


def fail_on(problems: Iterable[Problem]) -> None:
    """Raise :class:`ImportFailed` with ``problems`` if there are any."""
    found = list(problems)
    if found:
        raise ImportFailed(found)
