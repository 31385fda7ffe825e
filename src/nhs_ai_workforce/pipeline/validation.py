"""SHACL validation of a build, reported against the seed rows that the bad facts came from.

The shapes live in ``shapes/violations.ttl`` (``sh:Violation``: the build stops) and
``shapes/warnings.ttl`` (``sh:Warning``: reported, still published). pySHACL checks one graph
that merges every named graph of the dataset - seed data, links, mappings, the ontology (so
``sh:class`` follows ``rdfs:subClassOf``) and the inferred triples - with SHACL-SPARQL
enabled. Each result becomes a :class:`~nhs_ai_workforce.pipeline.errors.Problem` that names
the seed file, row and column, the shape's message, the offending value and the shape::

    seeds/technology_shares.csv:2 column 'share_percent': A share is a single percentage
    from 0 to 100; value '340' [Observation_Shape/aiwf:shareOfTechnologies]

(one line in the report).
"""

from __future__ import annotations

import csv
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import PurePath

import pyshacl
from rdflib import Dataset, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, SH, XSD
from rdflib.plugins.sparql import prepareQuery
from rdflib.plugins.sparql.sparql import Query
from rdflib.term import Node

from ..core.namespaces import ALL_GRAPHS, STANDARD_PREFIXES, ProjectNamespaces
from ..core.settings import DEFAULT_BASE, Settings
from .errors import Problem
from .locations import Location
from .rebase import rebase_graph
from .tables import EXTERNAL, NOTE, STATED_IN, TABLES, Table

__all__ = ["CLASSIFICATION_SHAPES", "SHAPES_FILES", "ShapeResult", "ShapesError", "ValidationReport", "load_shapes",
           "merged_graph", "shape_name", "validate"]

#: The shapes files under ``settings.shapes_dir``: mandatory, then recommended.
SHAPES_FILES = ("violations.ttl", "warnings.ttl")
#: The shapes of the classifications imported from user-supplied files (:mod:`.imports`).
CLASSIFICATION_SHAPES = ("classifications.ttl",)

#: How long a literal value may be in a report line before it is cut short.
VALUE_WIDTH = 80

_SEVERITY_ORDER = {"Violation": 0, "Warning": 1, "Info": 2}


class ShapesError(Exception):
    """Shapes that cannot be used: a file that is not Turtle, or a constraint pySHACL refuses."""


@dataclass(frozen=True)
class ShapeResult:
    """One SHACL validation result, in terms a test or a report can use directly.

    ``shape`` is the display name: the local name of a node shape, or for a property shape
    the name of its node shape and its path (``Initiative_Shape/dcterms:issued``).
    ``component`` is the local name of the constraint component that failed; ``path_name``
    is the result path in SPARQL syntax (``dcterms:title``, ``^qb:dataSet``).
    """

    focus: Node
    path: Node | None
    path_name: str | None
    value: Node | None
    shape: str
    component: str
    severity: str
    message: str


@dataclass
class ValidationReport:
    """The outcome of validating one build: ``conforms`` when there is no violation."""

    conforms: bool
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    text: str = ""
    results: list[ShapeResult] = field(default_factory=list)
    seconds: float = 0.0


# -- shapes and data ---------------------------------------------------------------------

def load_shapes(settings: Settings, files: tuple[str, ...] = SHAPES_FILES) -> Graph:
    """The shapes ``files`` (by default both seed shapes files), moved under ``settings.base`` if it
    is not the default base.

    Besides the IRIs, the namespaces that SHACL-SPARQL prefix declarations give as
    ``xsd:anyURI`` literals are moved too, so that the SPARQL constraints still match.
    """
    shapes = Graph()
    for name in files:
        try:
            shapes.parse(settings.shapes_dir / name, format="turtle")
        except (OSError, SyntaxError, ValueError) as error:
            raise ShapesError(f"{settings.shapes_dir / name}: {error}") from error
    if settings.base.rstrip("/") == DEFAULT_BASE:
        return shapes
    moved = rebase_graph(shapes, DEFAULT_BASE, settings.base.rstrip("/"))
    for declaration, namespace in list(moved.subject_objects(SH.namespace)):
        text = str(namespace)
        if text.startswith(DEFAULT_BASE):
            moved.remove((declaration, SH.namespace, namespace))
            rebased = settings.base.rstrip("/") + text[len(DEFAULT_BASE):]
            moved.add((declaration, SH.namespace, Literal(rebased, datatype=XSD.anyURI)))
    return moved


@lru_cache(maxsize=256)
def _prepared(text: str) -> Query:
    """``text`` parsed once per process; a prepared query is evaluated afresh on each use."""
    return prepareQuery(text)


def _canonical(text: str) -> str:
    """``text`` with its leading PREFIX lines sorted: pySHACL writes them in varying order."""
    lines = text.split("\n")
    head = 0
    while head < len(lines) and lines[head].startswith("PREFIX "):
        head += 1
    return "\n".join(sorted(lines[:head]) + lines[head:])


class _PreparedQueryGraph(Graph):
    """A graph that parses each distinct SPARQL text once.

    pySHACL runs every SHACL-SPARQL constraint once per focus node with the same text and a
    different ``$this`` binding; rdflib would parse the text every time, which is most of the
    cost of validation (about 5 s instead of under 1 s on the seeds). Prepared queries evaluate
    exactly as their text does.
    """

    def query(self, query_object, processor="sparql", result="sparql", initNs=None,
              initBindings=None, use_store_provided=True, **kwargs):
        if isinstance(query_object, str) and not initNs and processor == "sparql":
            query_object = _prepared(_canonical(query_object))
        return super().query(query_object, processor, result, initNs, initBindings,
                             use_store_provided, **kwargs)


def merged_graph(dataset: Dataset) -> Graph:
    """One graph holding the triples of every named graph of ``dataset``."""
    merged = _PreparedQueryGraph()
    for s, p, o, _ in dataset.quads((None, None, None, None)):
        merged.add((s, p, o))
    return merged


# -- naming things in reports -------------------------------------------------------------

class _Names:
    """Short, readable names for IRIs, paths and values under one base."""

    def __init__(self, base: str) -> None:
        self.ns = ProjectNamespaces(base)
        self.things = f"{self.ns.base}/id/"
        self.prefixes = sorted(
            ((prefix, iri) for prefix, iri in {**STANDARD_PREFIXES, "aiwf": str(self.ns.AIWF)}.items()),
            key=lambda item: -len(item[1]),
        )

    def iri(self, term: Node) -> str:
        """``organisation/nhs`` for things, ``dcterms:title`` for terms, else ``<iri>``."""
        text = str(term)
        if isinstance(term, URIRef) and text.startswith(self.things):
            return text[len(self.things):]
        for prefix, namespace in self.prefixes:
            if text.startswith(namespace) and len(text) > len(namespace):
                return f"{prefix}:{text[len(namespace):]}"
        return f"<{text}>"

    def value(self, term: Node) -> str:
        if isinstance(term, Literal):
            text = str(term)
            if len(text) > VALUE_WIDTH:
                text = text[: VALUE_WIDTH - 1] + "…"
            return f"'{text}'" + (f"@{term.language}" if term.language else "")
        if isinstance(term, URIRef):
            return self.iri(term)
        return "a blank node"

    def path(self, graph: Graph, path: Node) -> str:
        """A SHACL property path in SPARQL syntax (``^qb:dataSet``, ``foaf:page|foaf:homepage``)."""
        if isinstance(path, URIRef):
            return self.iri(path)
        inverse = graph.value(path, SH.inversePath)
        if inverse is not None:
            return "^" + self.path(graph, inverse)
        for operator, joiner in ((SH.alternativePath, "|"),):
            members = graph.value(path, operator)
            if members is not None:
                return joiner.join(self.path(graph, m) for m in Collection(graph, members))
        for operator, suffix in ((SH.zeroOrMorePath, "*"), (SH.oneOrMorePath, "+"),
                                 (SH.zeroOrOnePath, "?")):
            inner = graph.value(path, operator)
            if inner is not None:
                return f"({self.path(graph, inner)}){suffix}"
        if (path, RDF.first, None) in graph:
            return "/".join(self.path(graph, m) for m in Collection(graph, path))
        return "?"


def _local(term: Node) -> str:
    text = str(term)
    return text.rsplit("#", 1)[-1].rsplit("/", 1)[-1]


def shape_name(shapes: Graph, shape: Node, names: _Names | None = None) -> str:
    """The display name of ``shape``: a node shape's local name, or parent name and path."""
    names = names or _Names(DEFAULT_BASE)
    path = shapes.value(shape, SH.path)
    if path is None:
        return _local(shape) if isinstance(shape, URIRef) else "(anonymous shape)"
    parents = sorted(str(p) for p in shapes.subjects(SH.property, shape) if isinstance(p, URIRef))
    rendered = names.path(shapes, path)
    return f"{_local(URIRef(parents[0]))}/{rendered}" if parents else rendered


# -- results --------------------------------------------------------------------------------

def _message(report: Graph, result: Node) -> str:
    messages = sorted(report.objects(result, SH.resultMessage), key=lambda m: (
        getattr(m, "language", None) != "en", str(m)))
    return str(messages[0]) if messages else "fails a shape"


def _results(report: Graph, shapes: Graph, names: _Names) -> list[ShapeResult]:
    results = []
    # Only the report's own results: those nested under sh:detail explain a failed sh:node.
    for result in report.objects(None, SH.result):
        focus = report.value(result, SH.focusNode)
        source = report.value(result, SH.sourceShape)
        component = report.value(result, SH.sourceConstraintComponent)
        severity = report.value(result, SH.resultSeverity)
        path = report.value(result, SH.resultPath)
        path_name = None
        if isinstance(path, URIRef):
            path_name = names.iri(path)
        elif path is not None:
            # A complex path: the shape's own path node, which the shapes graph describes.
            path = shapes.value(source, SH.path, default=path)
            path_name = names.path(shapes, path)
        results.append(ShapeResult(
            focus=focus,
            path=path,
            path_name=path_name,
            value=report.value(result, SH.value),
            shape=shape_name(shapes, source, names),
            component=_local(component) if component is not None else "",
            severity=_local(severity) if severity is not None else "Violation",
            message=_message(report, result),
        ))
    return results


# -- locations ------------------------------------------------------------------------------

def _table_of(file: str) -> Table | None:
    name = PurePath(file).name
    return next((table for table in TABLES if table.file == name), None)


def _column_of(table: Table, path: Node | None) -> str | None:
    """The column of ``table`` that fills ``path``, if there is exactly one."""
    if not isinstance(path, URIRef):
        return None
    if path == STATED_IN:
        return "source"
    if path == NOTE:
        return "note"
    if path == RDF.type:
        return table.type_column
    matches = [c.name for c in table.columns if c.predicate == path and not c.inverse]
    return matches[0] if len(matches) == 1 else None


class _Locator:
    """Where a result's focus node came from: its seed row and column, or its graphs."""

    def __init__(self, dataset: Dataset, settings: Settings, names: _Names,
                 locations: dict[URIRef, Location], columns: dict[tuple[URIRef, URIRef], str]) -> None:
        self.ns = ProjectNamespaces(settings.base)
        self.graphs = [(name, dataset.graph(self.ns.graph(name))) for name in ALL_GRAPHS]
        self.seeds_dir = settings.seeds_dir
        self.names = names
        self.locations = locations
        self.columns = columns

    def __call__(self, result: ShapeResult) -> tuple[Location, bool]:
        """The location, and whether it names the column that ``result.path`` fills."""
        focus, path = result.focus, result.path
        seen = self.locations.get(focus) if isinstance(focus, URIRef) else None
        if seen is not None:
            return self._in_seeds(focus, path, seen)
        asserted = [name for name, graph in self.graphs if (focus, None, None) in graph]
        held = [name for name in asserted if name != "inferred"] or asserted or [
            name for name, graph in self.graphs if (None, None, focus) in graph]
        where = f"graph {', '.join(held)}" if held else "no graph"
        return Location(f"{self.names.value(focus)} ({where})", 0, None), False

    def _in_seeds(self, focus: URIRef, path: Node | None, seen: Location) -> tuple[Location, bool]:
        table = _table_of(seen.file)
        recorded = self.columns.get((focus, path)) if isinstance(path, URIRef) else None
        if table is None:
            return Location(seen.file, seen.row, recorded), recorded is not None
        column = recorded if recorded and table.column(recorded) else _column_of(table, path)
        if column is None:
            elsewhere = self._in_other_table(focus, path, table, seen)
            if elsewhere is not None:
                return elsewhere, True
        return Location(seen.file, seen.row, column), column is not None

    def _in_other_table(self, focus: URIRef, path: Node | None, table: Table,
                        seen: Location) -> Location | None:
        """The row of another table of the same kind that states ``path`` of ``focus``.

        A subject's location is the first row that describes it; a citation is described by
        sections.csv (its place in the document) and by citations.csv (its number, address and
        access date), and a fact from the second table belongs to that table's row.
        """
        if table.kind is None or table.kind == EXTERNAL:
            return None
        prefix = str(self.ns.thing(table.kind, ""))
        key = str(focus)[len(prefix):] if str(focus).startswith(prefix) else None
        for other in TABLES:
            if other is table or other.kind != table.kind or key is None:
                continue
            column = _column_of(other, path)
            if column is None:
                continue
            with (self.seeds_dir / other.file).open(newline="", encoding="utf-8") as handle:
                reader = csv.DictReader(handle)
                for row in reader:
                    if (row.get(other.key_column) or "").strip() == key:
                        return Location(str(PurePath(seen.file).with_name(other.file)),
                                        reader.line_num, column)
        return None


def _problem(result: ShapeResult, locate: _Locator, names: _Names) -> Problem:
    location, names_column = locate(result)
    message = result.message
    if result.path_name and not names_column:
        message = f"{result.path_name}: {message}"
    if result.value is not None and result.value != result.focus:
        message = f"{message.rstrip('.')}; value {names.value(result.value)}"
    return Problem(location, message, result.shape)


def _order(problem: Problem) -> tuple:
    where = problem.location
    return (where.file, where.row, where.column or "", problem.shape or "", problem.message)


def _text(problems: list[Problem], warnings: list[Problem], seconds: float) -> str:
    lines = [f"SHACL validation: {len(problems)} violation(s), {len(warnings)} warning(s) "
             f"in {seconds:.2f} s"]
    for title, items in (("Violations", problems), ("Warnings", warnings)):
        if items:
            lines.append(f"{title}:")
            lines.extend(f"  {item}" for item in items)
    return "\n".join(lines)


def validate(
    dataset: Dataset,
    settings: Settings,
    locations: dict[URIRef, Location],
    columns: dict[tuple[URIRef, URIRef], str] | None = None,
    *,
    shapes_files: tuple[str, ...] = SHAPES_FILES,
) -> ValidationReport:
    """Check ``dataset`` against the shapes and say where each problem is in the seeds.

    :param locations: the seed file and row of each subject (``Converted.locations``).
    :param columns: the column that filled each (subject, predicate) (``Converted.columns``);
        without it, columns are found from the table definitions where that is unambiguous.
    :param shapes_files: the shapes files to check against (:data:`CLASSIFICATION_SHAPES` for imports).
    :returns: a report; ``conforms`` is false when any ``sh:Violation`` was found.
    :raises ShapesError: if the shapes files cannot be read or used.
    """
    start = time.perf_counter()
    shapes = load_shapes(settings, shapes_files)
    data = merged_graph(dataset)
    # inplace: the merged graph is ours to lose, so pySHACL need not copy it first.
    _, report_graph, report_text = pyshacl.validate(
        data, shacl_graph=shapes, inference="none", advanced=True, allow_warnings=True,
        abort_on_first=False, inplace=True,
    )
    if not isinstance(report_graph, Graph):
        # pySHACL returns, rather than raises, a failure when it cannot use the shapes.
        raise ShapesError(f"pySHACL cannot use the shapes in {settings.shapes_dir}: {report_text}")
    names = _Names(settings.base)
    results = _results(report_graph, shapes, names)
    locate = _Locator(dataset, settings, names, locations, columns or {})
    problems: set[Problem] = set()
    warnings: set[Problem] = set()
    for result in results:
        target = problems if result.severity == "Violation" else warnings
        target.add(_problem(result, locate, names))
    results.sort(key=lambda r: (_SEVERITY_ORDER.get(r.severity, 3), r.shape, str(r.focus),
                                r.component, str(r.value)))
    ordered_problems = sorted(problems, key=_order)
    ordered_warnings = sorted(warnings, key=_order)
    seconds = time.perf_counter() - start
    return ValidationReport(
        conforms=not ordered_problems,
        problems=ordered_problems,
        warnings=ordered_warnings,
        text=_text(ordered_problems, ordered_warnings, seconds),
        results=results,
        seconds=seconds,
    )

