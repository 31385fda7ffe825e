"""The curated SSSOM mapping set: reading ``seeds/mappings.sssom.tsv`` into RDF.

Each row becomes the mapping triple itself (``subject skos:exactMatch object``) and a mapping
record that keeps SSSOM's metadata (justification, author, date, confidence, comment), using
the slot IRIs of the SSSOM schema. A row whose object is ``sssom:NoTermFound`` records that
the target vocabulary has no code for the subject, and yields no mapping triple.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from rdflib import Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SKOS, XSD

from ..core import vocab
from .cells import CellError, parse_curie
from .locations import Location

SSSOM = Namespace(vocab.SSSOM)
PAV = Namespace(vocab.PAV)
SEMAPV = Namespace(vocab.SEMAPV)
NO_TERM_FOUND = SSSOM.NoTermFound

MAPPING_PREDICATES = frozenset(
    SKOS[name] for name in ("exactMatch", "closeMatch", "broadMatch", "narrowMatch", "relatedMatch")
)
REQUIRED_COLUMNS = (
    "record_id",
    "subject_id",
    "predicate_id",
    "object_id",
    "mapping_justification",
    "author_id",
    "mapping_date",
    "confidence",
)


@dataclass
class MappingSet:
    """An SSSOM mapping set: its metadata block, CURIE map and rows with their lines."""

    path: Path
    metadata: dict
    curie_map: dict[str, str]
    columns: list[str]
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)


def read_mapping_set(path: Path) -> MappingSet:
    """Split an SSSOM/TSV file into its YAML metadata block and its table.

    :raises ValueError: if the metadata block is not YAML or has no ``curie_map``.
    """
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    header = [line[1:] for line in lines if line.startswith("#")]
    body = [line for line in lines if not line.startswith("#")]
    metadata = yaml.safe_load("\n".join(header)) or {}
    if not isinstance(metadata, dict) or not isinstance(metadata.get("curie_map"), dict):
        raise ValueError(f"{path.name}: the '#' metadata block needs a curie_map")
    reader = csv.DictReader(body, delimiter="\t")
    first_line = len(header) + 2
    rows = [(first_line + n, row) for n, row in enumerate(reader)]
    return MappingSet(path, metadata, dict(metadata["curie_map"]), reader.fieldnames or [], rows)


def mapping_triples(
    mapping_set: MappingSet, known: set[URIRef], where: str
) -> tuple[list[tuple], list[tuple[Location, str]]]:
    """The triples of a mapping set, and every problem found, each with its line and column.

    ``known`` holds the subjects and objects that the seeds describe; others are refused so
    that every identifier in a mapping comes from a checked source.
    """
    problems: list[tuple[Location, str]] = []
    triples: list[tuple] = []
    prefixes = mapping_set.curie_map
    set_iri = URIRef(mapping_set.metadata.get("mapping_set_id", ""))
    for column in REQUIRED_COLUMNS:
        if column not in mapping_set.columns:
            problems.append((Location(where, len(mapping_set.metadata) + 1, column),
                             "column is missing from the header"))
    if problems:
        return triples, problems
    triples += _set_triples(mapping_set, set_iri)
    seen: set[URIRef] = set()
    for line, row in mapping_set.rows:
        def fail(column: str, message: str, line: int = line) -> None:
            problems.append((Location(where, line, column), message))

        try:
            record = parse_curie(row["record_id"], prefixes)
            subject = parse_curie(row["subject_id"], prefixes)
            predicate = parse_curie(row["predicate_id"], prefixes)
            target = parse_curie(row["object_id"], prefixes)
            justification = parse_curie(row["mapping_justification"], prefixes)
            author = parse_curie(row["author_id"], prefixes)
        except CellError as error:
            fail("record_id..author_id", str(error))
            continue
        if record in seen:
            fail("record_id", f"record_id used twice: {row['record_id']!r}")
        seen.add(record)
        if subject not in known:
            fail("subject_id", f"no seed row describes {row['subject_id']!r}")
        if target != NO_TERM_FOUND and target not in known:
            fail("object_id", f"{row['object_id']!r} is not among the checked identifiers")
        if predicate not in MAPPING_PREDICATES:
            fail("predicate_id", f"not a SKOS mapping predicate: {row['predicate_id']!r}")
        if not str(justification).startswith(str(SEMAPV)):
            fail("mapping_justification", "must be a semapv: term")
        confidence = _confidence(row["confidence"], fail)
        date = _date(row["mapping_date"], fail)
        if target != NO_TERM_FOUND:
            triples.append((subject, predicate, target))
        triples += [
            (record, RDF.type, SSSOM.Mapping),
            (set_iri, SSSOM.mappings, record),
            (record, OWL.annotatedSource, subject),
            (record, OWL.annotatedProperty, predicate),
            (record, OWL.annotatedTarget, target),
            (record, SSSOM.mapping_justification, justification),
            (record, PAV.authoredBy, author),
        ]
        if confidence is not None:
            triples.append((record, SSSOM.confidence, confidence))
        if date is not None:
            triples.append((record, PAV.authoredOn, date))
        for column, predicate_iri in (("subject_label", SSSOM.subject_label),
                                      ("object_label", SSSOM.object_label),
                                      ("comment", RDFS.comment)):
            if row.get(column):
                triples.append((record, predicate_iri, Literal(row[column], lang="en")))
        if row.get("object_source"):
            try:
                triples.append((record, SSSOM.object_source,
                                parse_curie(row["object_source"], prefixes)))
            except CellError as error:
                fail("object_source", str(error))
    return triples, problems


def _set_triples(mapping_set: MappingSet, set_iri: URIRef) -> list[tuple]:
    meta = mapping_set.metadata
    triples: list[tuple] = [(set_iri, RDF.type, SSSOM.MappingSet)]
    for key, predicate in (("mapping_set_title", DCTERMS.title),
                           ("mapping_set_description", DCTERMS.description)):
        if meta.get(key):
            triples.append((set_iri, predicate, Literal(meta[key], lang="en")))
    for key, predicate in (("license", DCTERMS.license), ("mapping_provider", SSSOM.mapping_provider)):
        if meta.get(key):
            triples.append((set_iri, predicate, URIRef(meta[key])))
    return triples


def _confidence(text: str, fail) -> Literal | None:
    try:
        value = float(text)
    except ValueError:
        fail("confidence", f"not a number: {text!r}")
        return None
    if not 0.0 <= value <= 1.0:
        fail("confidence", f"must be between 0 and 1: {text!r}")
        return None
    return Literal(text, datatype=XSD.double)


def _date(text: str, fail) -> Literal | None:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        fail("mapping_date", f"not a date (YYYY-MM-DD): {text!r}")
        return None
    return Literal(text, datatype=XSD.date)
