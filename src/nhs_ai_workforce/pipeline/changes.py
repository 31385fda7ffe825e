"""Change files: every update accepted by ``POST /update``, kept under ``seeds/changes/`` and replayed by every build.

An accepted update is written as ``seeds/changes/NNNN-<UTC time>.ru``: the SPARQL Update text
after a comment header saying when it was accepted, who sent it and why (when the curator gave
an ``author`` and a ``comment``), the build it produced and the base URI its IRIs are under.
The files sit beside the seed tables, so a change shows in ``git diff`` like any edit to them.

Every build (:mod:`.build`) converts the seed tables and then :func:`replay` applies the change
files in name order to the converted graphs, before inference and SHACL, so a build from
``seeds/`` reproduces every accepted update. A change that no longer applies (its text does not
parse, or it leaves triples outside the graphs an update may write) fails the build with
``seeds/changes/FILE: message``; the subjects a change touched are located in its file, so a
SHACL violation they cause names the file too. With no change files the dataset is returned
untouched, and ``data/`` stays byte for byte what the seed tables give.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pyoxigraph as ox
from rdflib import BNode, Dataset, Literal, URIRef

from ..core.namespaces import IMPORT_GRAPHS, ProjectNamespaces, store_graphs
from ..core.settings import Settings
from ..core.terms import graph_name, to_oxigraph
from .errors import BuildFailed, Problem
from .locations import Location

__all__ = [
    "CHANGES_DIR",
    "Change",
    "change_files",
    "changes_dir",
    "outside_graphs",
    "record",
    "replay",
    "writable_graphs",
]

#: The folder under ``seeds/`` that holds the change files.
CHANGES_DIR = "changes"
SUFFIX = ".ru"
#: The time in a change file's name and header.
TIME_FORMAT = "%Y%m%dT%H%M%SZ"
#: The longest ``author`` or ``comment`` a header keeps.
MAX_NOTE_CHARS = 500

_NUMBER = re.compile(r"^(\d+)-")
_BASE_LINE = re.compile(r"^# base: (\S+)$", re.MULTILINE)
_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


@dataclass(frozen=True)
class Change:
    """One recorded update: its file, its path as the build reports it, and its text."""

    path: Path
    name: str
    text: str

    @property
    def base(self) -> str | None:
        """The base URI the change was written under (its header's ``# base:`` line)."""
        header = self.text.split("\n\n", 1)[0]
        match = _BASE_LINE.search(header)
        return match.group(1) if match else None


def changes_dir(settings: Settings) -> Path:
    """``seeds/changes/`` of the project."""
    return settings.seeds_dir / CHANGES_DIR


def change_files(settings: Settings) -> list[Path]:
    """The change files in the order builds replay them (by name: ``0001-...``, ``0002-...``)."""
    folder = changes_dir(settings)
    if not folder.is_dir():
        return []
    return sorted(path for path in folder.iterdir() if path.suffix == SUFFIX and path.is_file())


def _shown(path: Path, settings: Settings) -> str:
    try:
        return path.relative_to(settings.root).as_posix()
    except ValueError:
        return str(path)


# -- recording ----------------------------------------------------------------------------------


def _one_line(text: str | None) -> str | None:
    if text is None:
        return None
    folded = " ".join(text.split())
    return folded or None


def header(number: int, when: datetime, *, build_id: str, base: str, author: str | None = None,
           comment: str | None = None) -> str:
    """The comment lines that open change file ``number`` (SPARQL comments, so the file still parses)."""
    author, comment = _one_line(author), _one_line(comment)
    return "\n".join([
        f"# Change {number:04d}: a SPARQL update accepted through POST /update (the curators' update route),",
        "# validated against the SHACL shapes before it was served.",
        f"# when: {when.strftime('%Y-%m-%dT%H:%M:%SZ')}",
        f"# who: {author or 'not given (the holder of the update token)'}",
        f"# why: {comment or 'not given'}",
        f"# build: {build_id} (the store this update produced)",
        f"# base: {base}",
        "# Every `aiwf build` replays seeds/changes/*.ru in name order after converting the seed tables.",
    ])


def record(settings: Settings, text: str, *, build_id: str, author: str | None = None,
           comment: str | None = None, when: datetime | None = None) -> Path:
    """Write ``text`` as the next change file, atomically; return its path.

    The caller holds the build lock, so no other change takes the same number. The file is
    written beside its final name, flushed to disk and renamed, so a build never reads half
    of it.
    """
    when = when or datetime.now(UTC)
    folder = changes_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    numbers = [int(match.group(1)) for path in change_files(settings) if (match := _NUMBER.match(path.name))]
    number = max(numbers, default=0) + 1
    final = folder / f"{number:04d}-{when.strftime(TIME_FORMAT)}{SUFFIX}"
    body = header(number, when, build_id=build_id, base=settings.base, author=author, comment=comment)
    content = f"{body}\n\n{text.strip()}\n"
    temporary = folder / f".{final.name}.tmp"
    try:
        with temporary.open("x", encoding="utf-8", newline="\n") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        if final.exists():
            raise FileExistsError(f"{final} already exists")
        temporary.replace(final)
        _sync_dir(folder)
    finally:
        temporary.unlink(missing_ok=True)
    return final


def _sync_dir(folder: Path) -> None:
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms that cannot open a directory
        return
    try:
        os.fsync(descriptor)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(descriptor)


# -- replaying ----------------------------------------------------------------------------------


def writable_graphs(settings: Settings) -> frozenset[str]:
    """The graphs an update may write: the store's, except ``inferred`` (the build recomputes it) and
    the imported classifications' (``aiwf import`` replaces them)."""
    ns = ProjectNamespaces(settings.base)
    return store_graphs(settings) - {str(ns.graph(name)) for name in ("inferred", *IMPORT_GRAPHS)}


def outside_graphs(store: ox.Store, allowed: frozenset[str]) -> list[str]:
    """The graphs other than ``allowed`` that hold triples in ``store`` ('the default graph', ``<iri>``)."""
    outside = []
    if next(iter(store.quads_for_pattern(None, None, None, ox.DefaultGraph())), None) is not None:
        outside.append("the default graph")
    outside.extend(
        f"<{name.value}>"
        for name in store.named_graphs()
        if name.value not in allowed and next(iter(store.quads_for_pattern(None, None, None, name)), None)
    )
    return outside


def read_changes(settings: Settings) -> list[Change]:
    """Every change file, in replay order."""
    return [Change(path, _shown(path, settings), path.read_text(encoding="utf-8"))
            for path in change_files(settings)]


def rebased_text(change: Change, base: str) -> str:
    """The change's text with IRIs under the base it was written under moved under ``base``."""
    written = change.base
    if not written or written == base:
        return change.text
    return change.text.replace(f"<{written}", f"<{base}")


def replay(dataset: Dataset, settings: Settings,
           locations: dict[URIRef, Location]) -> tuple[Dataset, dict[URIRef, Location]]:
    """Apply every change file, in order, to the converted ``dataset``.

    Returns the changed dataset and the locations, with each subject a change touched located
    in that change's file. Without change files both come back as they were given.

    :raises BuildFailed: naming the first change file that does not apply.
    """
    changes = read_changes(settings)
    if not changes:
        return dataset, locations
    originals: dict[ox.Quad, list[tuple]] = {}
    for s, p, o, g in dataset.quads():
        identifier = getattr(g, "identifier", g)
        quad = ox.Quad(to_oxigraph(s), to_oxigraph(p), to_oxigraph(o), graph_name(identifier))
        originals.setdefault(quad, []).append((s, p, o, identifier))
    store = ox.Store()
    store.bulk_extend(originals)
    start = set(store)  # as Oxigraph holds them: some typed literals in canonical form
    allowed = {f"<{name}>" for name in writable_graphs(settings)}
    located = dict(locations)
    for change in changes:
        before = set(store)
        try:
            store.update(rebased_text(change, settings.base))
        except SyntaxError as error:
            raise BuildFailed([_problem(change, f"the update no longer parses: {error}")]) from None
        after = set(store)
        outside = sorted({_graph_shown(quad.graph_name) for quad in after - before
                          if _graph_shown(quad.graph_name) not in allowed})
        if outside:
            raise BuildFailed([_problem(
                change, f"the update writes triples in {', '.join(outside)}, outside the graphs an update may write")])
        for quad in before.symmetric_difference(after):
            if isinstance(quad.subject, ox.NamedNode):
                located[URIRef(quad.subject.value)] = Location(change.name, 0)
    for quad, rows in originals.items():
        if quad not in store:  # compared as Oxigraph compares terms, so untouched triples stay as written
            for s, p, o, g in rows:
                dataset.graph(g).remove((s, p, o))
    for quad in set(store) - start:
        graph = dataset.graph(_rdflib(quad.graph_name))
        graph.add((_rdflib(quad.subject), _rdflib(quad.predicate), _rdflib(quad.object)))
    return dataset, located


def _graph_shown(name: ox.NamedNode | ox.BlankNode | ox.DefaultGraph) -> str:
    return "the default graph" if isinstance(name, ox.DefaultGraph) else f"<{name.value}>"


def _problem(change: Change, message: str) -> Problem:
    return Problem(Location(change.name, 0), message)


def _rdflib(term):
    """The rdflib term equal to a pyoxigraph one (plain literals stay plain)."""
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        if term.datatype.value == _XSD_STRING:
            return Literal(term.value)
        return Literal(term.value, datatype=URIRef(term.datatype.value))
    raise TypeError(f"cannot convert {term!r} to an rdflib term")
