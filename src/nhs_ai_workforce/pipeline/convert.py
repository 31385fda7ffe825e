"""Seed tables to RDF: every row becomes triples in the named graph of its source.

Everything is built under the default base and moved under the configured base at the end,
so the committed ontology, shapes and mapping CURIEs work under any base. Problems are
collected for the whole run, each with its file, row and column, so a curator
sees every mistake at once; nothing is returned unless every row reads cleanly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from rdflib import Dataset, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, SKOS

from ..core.namespaces import GRAPHS, STANDARD_PREFIXES, ProjectNamespaces
from ..core.settings import DEFAULT_BASE, Settings
from . import cells
from .dates import interval_triples
from .errors import Problem, SeedError
from .locations import Location
from .mappings import mapping_triples, read_mapping_set
from .rebase import rebase_term
from .seedfiles import SeedRows, check_lines, read_csv
from .tables import AGENT_KINDS, EXTERNAL, NOTE, STATED_IN, TABLES, TYPE_NAMES, Column, Table

#: Where reference.data.gov.uk keeps calendar intervals, by the precision of a date.
INTERVAL_PATTERNS = {
    "year": "http://reference.data.gov.uk/id/year/{}",
    "month": "http://reference.data.gov.uk/id/month/{}",
    "day": "http://reference.data.gov.uk/id/day/{}",
}
MULTI_SEPARATOR = "|"
LINKS_FILE = "links.csv"
LINK_COLUMNS = ("subject", "predicate", "target", "evidence")
MAPPINGS_FILE = "mappings.sssom.tsv"


@dataclass
class Converted:
    """The RDF built from the seeds, and where each subject and fact came from."""

    dataset: Dataset
    locations: dict[URIRef, Location] = field(default_factory=dict)
    columns: dict[tuple[URIRef, URIRef], str] = field(default_factory=dict)


@dataclass(frozen=True)
class _Reference:
    kinds: tuple[str, ...]
    key: str
    subject: URIRef
    predicate: URIRef
    inverse: bool
    graph: str
    location: Location


class _Converter:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.ns = ProjectNamespaces(DEFAULT_BASE)
        self.dataset = Dataset()
        self.result = Converted(self.dataset)
        self.problems: list[Problem] = []
        self.references: list[_Reference] = []
        self.defined: dict[str, set[str]] = {}
        self.prefixes = {**STANDARD_PREFIXES, **self.ns.prefixes()}

    # -- helpers ---------------------------------------------------------------------
    def add(self, graph: str, triple: tuple) -> None:
        self.dataset.graph(self.ns.graph(graph)).add(triple)

    def problem(self, location: Location, message: str) -> None:
        self.problems.append(Problem(location, message))

    def _relative(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.settings.root))
        except ValueError:
            return str(path)

    def _read(self, path: Path, name: str) -> SeedRows | None:
        """The rows of a CSV seed file, its problems recorded; ``None`` if it cannot be read."""
        try:
            seed = read_csv(path, name)
        except OSError as error:
            self.problem(Location(name, 0, None), f"cannot read the file: {error.strerror}")
            return None
        self.problems.extend(seed.problems)
        return seed

    # -- tables ----------------------------------------------------------------------
    def read_table(self, table: Table) -> None:
        path = self.settings.seeds_dir / table.file
        name = self._relative(path)
        if not path.is_file():
            self.problem(Location(name, 0, None), "seed table is missing")
            return
        seed = self._read(path, name)
        if seed is None or not self._check_header(table, seed.header, name):
            return
        seen: dict[str, tuple[int, dict[str, str]]] = {}
        for line, row in seed.rows:
            if self._duplicate(table, row, line, name, seen):
                continue
            self.read_row(table, row, Location(name, line, None))

    def _duplicate(self, table: Table, row: dict[str, str], line: int, name: str,
                   seen: dict[str, tuple[int, dict[str, str]]]) -> bool:
        """Whether ``row`` repeats a key already read from this file (reported, not merged).

        Differing values would be merged into one thing with two values for a property, and an
        exact repeat is a copy-and-paste slip; both are errors, so the curator fixes the table.
        """
        key = (row.get(table.key_column) or "").strip()
        if not key:
            return False
        values = {column: (value or "").strip() for column, value in row.items()}
        if key not in seen:
            seen[key] = (line, values)
            return False
        first, earlier = seen[key]
        at = Location(name, line, table.key_column)
        differ = [c for c in values if values[c] != earlier.get(c, "")]
        if differ:
            self.problem(at, f"duplicate key {key!r}: line {first} has the same key with different "
                         f"values in {', '.join(repr(c) for c in differ)}; one key, one row")
        else:
            self.problem(at, f"duplicate key {key!r}: this row repeats line {first} exactly; delete one")
        return True

    def _check_header(self, table: Table, header: list[str], name: str) -> bool:
        known = {c.name for c in table.columns} | {table.key_column, "source", "note"}
        if table.type_column:
            known.add(table.type_column)
        unknown = [h for h in header if h not in known]
        missing = [c for c in sorted(known) if c not in header and c != "note"]
        if table.needs_source is False and "source" in missing:
            missing.remove("source")
        for column in unknown:
            self.problem(Location(name, 1, column), "unknown column; expected one of "
                         + ", ".join(sorted(known)))
        for column in missing:
            self.problem(Location(name, 1, column), "column is missing from the header")
        return not unknown and not missing

    def _subject(self, table: Table, row: dict[str, str], where: Location) -> URIRef | None:
        raw = (row.get(table.key_column) or "").strip()
        at = Location(where.file, where.row, table.key_column)
        if table.kind == EXTERNAL:
            try:
                iri = cells.parse_url(raw)
            except cells.CellError as error:
                self.problem(at, str(error))
                return None
            self.defined.setdefault(EXTERNAL, set()).add(raw)
            return iri
        try:
            if table.kind is None:
                kind, _, key = raw.partition("/")
                cells.parse_key(kind)
            else:
                kind, key = table.kind, raw
            cells.parse_key(key)
        except cells.CellError as error:
            self.problem(at, str(error))
            return None
        self.defined.setdefault(kind, set()).add(key)
        return self.ns.thing(kind, key)

    def _row_graph(self, table: Table, sources: list[str]) -> str:
        if table.graph != "background":
            return table.graph
        if sources and all(s == "reference-identifiers" for s in sources):
            return "reference"
        return "background"

    def read_row(self, table: Table, row: dict[str, str], where: Location) -> None:
        subject = self._subject(table, row, where)
        if subject is None:
            return
        self.result.locations.setdefault(subject, where)
        sources = [s.strip() for s in (row.get("source") or "").split(MULTI_SEPARATOR) if s.strip()]
        graph = self._row_graph(table, sources)
        if table.needs_source and not sources:
            self.problem(Location(where.file, where.row, "source"),
                         "every row needs a source: the key of the section that states it")
        for source in sources:
            kinds = ("source",) if source == "reference-identifiers" else ("section",)
            self.refer(kinds, source, subject, STATED_IN, False, graph,
                       Location(where.file, where.row, "source"))
        for cls in table.classes:
            self.add(graph, (subject, RDF.type, cls))
        if table.type_column:
            self._types(table, row, subject, graph, where)
        for column in table.columns:
            text = (row.get(column.name) or "").strip()
            at = Location(where.file, where.row, column.name)
            if not text:
                if column.required:
                    self.problem(at, "a value is required")
                continue
            values = text.split(MULTI_SEPARATOR) if column.multi else [text]
            for value in (v.strip() for v in values):
                self.read_cell(table, column, value, subject, graph, at)
        note = (row.get("note") or "").strip()
        if note:
            self.add(graph, (subject, NOTE, Literal(note, lang="en")))
        self._derive(table, subject, graph)

    def _types(self, table: Table, row: dict, subject: URIRef, graph: str, where: Location) -> None:
        text = (row.get(table.type_column) or "").strip()
        at = Location(where.file, where.row, table.type_column)
        if not text:
            self.problem(at, "a type is required")
        for name in filter(None, (t.strip() for t in text.split(MULTI_SEPARATOR))):
            if name not in TYPE_NAMES:
                self.problem(at, f"unknown type {name!r}; expected one of "
                             + ", ".join(sorted(TYPE_NAMES)))
                continue
            self.add(graph, (subject, RDF.type, TYPE_NAMES[name]))

    def read_cell(self, table: Table, column: Column, text: str, subject: URIRef,
                  graph: str, at: Location) -> None:
        kind = column.value
        try:
            if kind.startswith("ref") or kind == "agent":
                self._reference(column, text, subject, graph, at)
                return
            value = self._literal(kind, text)
        except cells.CellError as error:
            self.problem(at, str(error))
            return
        self.add(graph, (subject, column.predicate, value))
        self.result.columns.setdefault((subject, column.predicate), column.name)
        if column.predicate == DCTERMS.issued:
            self._issued(subject, value, graph)

    def _literal(self, kind: str, text: str) -> URIRef | Literal:
        parsers = {
            "text": lambda t: Literal(t, lang="en"),
            "string": Literal,
            "date": cells.parse_date,
            "issued": cells.parse_issued,
            "integer": cells.parse_integer,
            "decimal": cells.parse_decimal,
            "boolean": cells.parse_boolean,
            "duration": cells.parse_duration,
            "url": cells.parse_url,
            "curie": lambda t: cells.parse_curie(t, self.prefixes),
        }
        return parsers[kind](text)

    def _reference(self, column: Column, text: str, subject: URIRef, graph: str,
                   at: Location) -> None:
        if column.value == "agent":
            kinds, key = AGENT_KINDS, text
        elif column.value == "ref":
            kind, _, key = text.partition("/")
            cells.parse_key(kind)
            kinds = (kind,)
        else:
            kinds, key = (column.value.removeprefix("ref:"),), text
        cells.parse_key(key)
        self.refer(kinds, key, subject, column.predicate, column.inverse, graph, at)
        if not column.inverse:
            self.result.columns.setdefault((subject, column.predicate), column.name)

    def refer(self, kinds: tuple[str, ...], key: str, subject: URIRef, predicate: URIRef,
              inverse: bool, graph: str, at: Location) -> None:
        self.references.append(_Reference(kinds, key, subject, predicate, inverse, graph, at))

    # -- derived facts ---------------------------------------------------------------
    def _derive(self, table: Table, subject: URIRef, graph: str) -> None:
        scheme = table.extra.get("scheme")
        if scheme:
            self.refer(("scheme",), scheme, subject, SKOS.inScheme, False, graph,
                       self.result.locations[subject])

    def _issued(self, subject: URIRef, value: Literal, graph: str) -> None:
        precision = cells.issued_precision(value)
        self.add(graph, (subject, self.ns.AIWF.issuedPrecision, Literal(precision)))
        interval = URIRef(INTERVAL_PATTERNS[precision].format(value))
        self.add("links", (subject, self.ns.AIWF.issuedInterval, interval))
        for triple in interval_triples(interval, value):
            self.add("links", triple)

    def top_concepts(self) -> None:
        """Concepts without a broader concept are top concepts of their scheme."""
        for graph in ("background", "reference"):
            g = self.dataset.graph(self.ns.graph(graph))
            for concept, scheme in list(g.subject_objects(SKOS.inScheme)):
                if g.value(concept, SKOS.broader) is None:
                    g.add((concept, SKOS.topConceptOf, scheme))

    # -- references ------------------------------------------------------------------
    def resolve(self) -> None:
        for ref in self.references:
            found = [k for k in ref.kinds if ref.key in self.defined.get(k, ())]
            if not found:
                where = " or ".join(ref.kinds)
                self.problem(ref.location, f"unknown {where} key {ref.key!r}: no seed row defines it")
                continue
            target = self.ns.thing(found[0], ref.key)
            triple = (target, ref.predicate, ref.subject) if ref.inverse else (
                ref.subject, ref.predicate, target)
            self.add(ref.graph, triple)

    # -- links and ontology ----------------------------------------------------------
    def read_links(self) -> None:
        path = self.settings.seeds_dir / LINKS_FILE
        name = self._relative(path)
        seed = self._read(path, name)
        if seed is None:
            return
        missing = [c for c in LINK_COLUMNS if c not in seed.header]
        for column in missing:
            self.problem(Location(name, 1, column), "column is missing from the header")
        if missing:
            return
        seen: dict[tuple[str, str, str], int] = {}
        for line, row in seed.rows:
            triple = tuple((row.get(c) or "").strip() for c in ("subject", "predicate", "target"))
            if triple in seen:
                self.problem(Location(name, line, "subject"),
                             f"duplicate link: line {seen[triple]} states the same link; delete one")
                continue
            seen[triple] = line
            self._link(row, line, name)

    def _link(self, row: dict[str, str], line: int, name: str) -> None:
        column = "subject"
        try:
            kind, _, key = (row.get("subject") or "").strip().partition("/")
            cells.parse_key(kind)
            cells.parse_key(key)
            column = "predicate"
            predicate = cells.parse_curie((row.get("predicate") or "").strip(), self.prefixes)
            column = "target"
            target = cells.parse_url((row.get("target") or "").strip())
        except cells.CellError as error:
            self.problem(Location(name, line, column), str(error))
            return
        if not (row.get("evidence") or "").strip():
            self.problem(Location(name, line, "evidence"),
                         "every link needs evidence: the verified identifier row or pattern")
        subject = self.ns.thing(kind, key)
        if key not in self.defined.get(kind, ()):
            self.problem(Location(name, line, "subject"),
                         f"unknown {kind} key {key!r}: no seed row defines it")
        self.add("links", (subject, predicate, target))

    def read_mappings(self) -> None:
        path = self.settings.seeds_dir / MAPPINGS_FILE
        name = self._relative(path)
        try:
            unreadable = check_lines(path, name)
        except OSError as error:
            unreadable = [Problem(Location(name, 0, None), f"cannot read the file: {error.strerror}")]
        if unreadable:
            self.problems.extend(unreadable)
            return
        try:
            mapping_set = read_mapping_set(path)
        except (OSError, ValueError) as error:
            self.problem(Location(name, 0, None), str(error))
            return
        triples, problems = mapping_triples(mapping_set, set(self.result.locations), name)
        for location, message in problems:
            self.problem(location, message)
        for triple in triples:
            self.add("mappings", triple)

    def read_ontology(self) -> None:
        target = self.dataset.graph(self.ns.graph("ontology"))
        for path in sorted(self.settings.ontology_dir.glob("*.ttl")):
            parsed = Graph()
            try:
                parsed.parse(path, format="turtle")
            except Exception as error:  # noqa: BLE001 - rdflib raises many parser types
                self.problem(Location(self._relative(path), 0, None), f"not valid Turtle: {error}")
                continue
            for triple in parsed:
                target.add(triple)


def convert_seeds(settings: Settings) -> Converted:
    """Read every seed table, the links and the ontology into one dataset of named graphs.

    :raises SeedError: listing every unreadable cell, unknown column or dangling key.
    """
    converter = _Converter(settings)
    for table in TABLES:
        converter.read_table(table)
    converter.resolve()
    converter.top_concepts()
    converter.read_links()
    converter.read_mappings()
    converter.read_ontology()
    if converter.problems:
        raise SeedError(converter.problems)
    if settings.base != DEFAULT_BASE:
        return _rebased(converter.result, settings.base)
    return converter.result


def _rebased(result: Converted, base: str) -> Converted:
    """The same conversion with every IRI under the default base moved under ``base``."""
    ns = ProjectNamespaces(DEFAULT_BASE)

    def move(term):
        return rebase_term(term, DEFAULT_BASE, base)

    dataset = Dataset()
    for name in GRAPHS:
        target = dataset.graph(move(ns.graph(name)))
        for triple in result.dataset.graph(ns.graph(name)):
            target.add(tuple(move(t) for t in triple))
    return Converted(
        dataset,
        {move(s): where for s, where in result.locations.items()},
        {(move(s), move(p)): column for (s, p), column in result.columns.items()},
    )
