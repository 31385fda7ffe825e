"""Published dumps of the graph: reproducible files in ``data/``, the dumps served at ``/data/``, exports.

The files in ``data/`` are byte-for-byte reproducible: quads are sorted (graph, subject,
``rdf:type`` first, predicate, object) before pyoxigraph's streaming serialisers group them,
prefix lines are sorted, and blank nodes are refused. A build writes them all into a staging
directory (``data/.staging-<id>/``) first; only when every file is written are they moved into
place, one ``os.replace`` each (renames need no space), so a failure while rendering or writing
leaves ``data/`` as it was. A staging directory found by a build holding the build lock is from a
killed build and is removed (:func:`remove_staging`).

The served dumps (:class:`ServedDumps`) are rendered the same way from the live store, so
their IRIs are under the served base, and are kept beside the store, one directory per build
that every server process shares.
"""

from __future__ import annotations

import contextlib
import fcntl
import gzip
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import BinaryIO

import pyoxigraph as ox

from ..core.formats import by_name
from ..core.namespaces import ALL_GRAPHS, IMPORT_GRAPHS, ProjectNamespaces
from ..core.settings import Settings
from ..core.terms import BlankNodeError
from ..core.vocab import TYPE
from .live import stores_dir
from .staging import StagedFiles, remove_staged

NQUADS_FILE = "nhs-ai-workforce.nq"
TRIG_FILE = "nhs-ai-workforce.trig"
JSONLD_FILE = "nhs-ai-workforce.jsonld"
TURTLE_FILE = "nhs-ai-workforce.ttl"
GRAPHS_DIR = "graphs"
GZIP_SUFFIX = ".gz"
GZIP_MEDIA_TYPE = "application/gzip"

RDF_TYPE = ox.NamedNode(TYPE)

#: Export format names (as the CLI spells them) to pyoxigraph formats.
EXPORT_FORMATS = {name: by_name(name).rdf for name in ("turtle", "ntriples", "rdfxml", "nquads", "trig", "jsonld")}


def dump_prefixes(ns: ProjectNamespaces) -> dict[str, str]:
    """The project prefixes for pretty dumps: ``aiwf:``, one per kind of thing (``initiative:``...) and
    the standard ones, minus ``id:`` (its local names would need ``\\/``; an IRI under ``{base}/id/``
    of no known kind is written whole)."""
    return {prefix: iri for prefix, iri in ns.prefixes().items() if prefix != "id"}


class DumpError(ValueError):
    """The dataset cannot be dumped as published files (unknown graph, default-graph triples)."""


def _triple_key(triple: ox.Triple | ox.Quad) -> tuple[str, bool, str, str]:
    return (
        str(triple.subject),
        triple.predicate != RDF_TYPE,
        str(triple.predicate),
        str(triple.object),
    )


def _sort_key(quad: ox.Quad) -> tuple[str, str, bool, str, str]:
    return (str(quad.graph_name), *_triple_key(quad))


def sorted_quads(quads: Iterable[ox.Quad]) -> list[ox.Quad]:
    """Distinct quads in the order the dumps print them."""
    return sorted(set(quads), key=_sort_key)


def _sorted_prefix_lines(data: bytes) -> bytes:
    """``data`` with its leading ``@prefix`` lines in alphabetical order."""
    lines = data.splitlines(keepends=True)
    count = 0
    while count < len(lines) and lines[count].startswith(b"@prefix "):
        count += 1
    return b"".join(sorted(lines[:count]) + lines[count:])


def render_nquads(quads: Iterable[ox.Quad]) -> bytes:
    """N-Quads, one distinct line per quad, lines sorted."""
    lines = set(ox.serialize(quads, format=ox.RdfFormat.N_QUADS).splitlines(keepends=True))
    return b"".join(sorted(lines))


def render_trig(quads: Iterable[ox.Quad], prefixes: dict[str, str]) -> bytes:
    """TriG with graphs and subjects in sorted order."""
    data = ox.serialize(sorted_quads(quads), format=ox.RdfFormat.TRIG, prefixes=prefixes)
    return _sorted_prefix_lines(data)


def render_turtle(quads: Iterable[ox.Quad], prefixes: dict[str, str]) -> bytes:
    """Turtle of the triples of ``quads`` (graph names dropped), subjects in sorted order."""
    triples = sorted({q.triple for q in quads}, key=_triple_key)
    data = ox.serialize(triples, format=ox.RdfFormat.TURTLE, prefixes=prefixes)
    return _sorted_prefix_lines(data)


def render_jsonld(quads: Iterable[ox.Quad]) -> bytes:
    """Expanded JSON-LD keeping the named graphs (one ``@graph`` object per graph), in sorted order."""
    return ox.serialize(sorted_quads(quads), format=ox.RdfFormat.JSON_LD)


def gzip_bytes(data: bytes) -> bytes:
    """``data`` gzip-compressed with no timestamp or file name, so equal input gives equal bytes.

    >>> gzip_bytes(b"<a> <b> <c> .") == gzip_bytes(b"<a> <b> <c> .")
    True
    >>> gzip.decompress(gzip_bytes(b"x"))
    b'x'
    """
    return gzip.compress(data, compresslevel=9, mtime=0)


@contextlib.contextmanager
def atomic_writer(path: Path) -> Iterator[BinaryIO]:
    """A binary handle whose content replaces ``path`` in one step when the block succeeds."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    temporary = Path(name)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
        temporary.chmod(0o644)
        temporary.replace(path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` in one step (temporary file in the same directory)."""
    with atomic_writer(path) as handle:
        handle.write(data)


def published_quads(quads: Iterable[ox.Quad], settings: Settings) -> Iterator[ox.Quad]:
    """``quads`` without the imported classifications' graphs, unless ``settings.dump_imports``
    (``AIWF_DUMP_IMPORTS``): by default the dumps hold what the seed tables give, byte for byte."""
    if settings.dump_imports:
        yield from quads
        return
    ns = ProjectNamespaces(settings.base)
    imported = {ox.NamedNode(str(ns.graph(name))) for name in IMPORT_GRAPHS}
    yield from (quad for quad in quads if quad.graph_name not in imported)


def dump_files(quads: Iterable[ox.Quad], settings: Settings) -> dict[Path, bytes]:
    """The bytes of every published dump of ``quads``, by path, without writing anything.

    The imported classifications' graphs are left out unless ``settings.dump_imports``.

    :raises DumpError: for triples in the default graph or in a graph not in ``ALL_GRAPHS``.
    :raises BlankNodeError: if the dataset contains blank nodes.
    """
    ns = ProjectNamespaces(settings.base)
    names = {ox.NamedNode(str(ns.graph(name))): name for name in ALL_GRAPHS}
    by_graph: dict[str, list[ox.Quad]] = {}
    for quad in published_quads(quads, settings):
        if any(isinstance(term, ox.BlankNode) for term in (quad.subject, quad.object, quad.graph_name)):
            raise BlankNodeError(f"blank node found in {quad}; every resource needs an IRI")
        name = names.get(quad.graph_name)  # type: ignore[call-overload]
        if name is None:
            where = "the default graph" if quad.graph_name == ox.DefaultGraph() else "graph"
            raise DumpError(f"triple in {where} {quad.graph_name}, not a project graph: {quad}")
        by_graph.setdefault(name, []).append(quad)
    prefixes = dump_prefixes(ns)
    grouped = [q for graph in by_graph.values() for q in graph]
    out = settings.data_dir
    files = {
        out / NQUADS_FILE: render_nquads(grouped),
        out / TRIG_FILE: render_trig(grouped, prefixes),
    }
    for name in sorted(by_graph):
        files[out / GRAPHS_DIR / f"{name}.ttl"] = render_turtle(by_graph[name], prefixes)
    return files


def stage_dumps(quads: Iterable[ox.Quad], settings: Settings) -> StagedFiles:
    """Render every dump of ``quads`` and write it into a new staging directory in ``data/``.

    :raises DumpError, BlankNodeError: if the dataset cannot be published; nothing is written.
    :raises OSError: if a file cannot be written; the staging directory is removed.
    """
    files = dump_files(quads, settings)
    stale = [path for path in (settings.data_dir / GRAPHS_DIR / f"{name}.ttl" for name in ALL_GRAPHS)
             if path not in files]
    return StagedFiles(files, settings.data_dir, stale=stale)


def write_dumps(quads: Iterable[ox.Quad], settings: Settings) -> list[Path]:
    """Write the N-Quads, TriG and per-graph Turtle dumps into ``data/``; return their paths.

    All are staged first, then moved into place; per-graph files of graphs now empty are removed.
    """
    return stage_dumps(quads, settings).commit()


def remove_staging(settings: Settings) -> list[Path]:
    """Remove staging directories left in ``data/`` by killed builds; call with the build lock held."""
    return remove_staged(settings.data_dir)


_UNION_TRIPLES = "CONSTRUCT { ?s ?p ?o } WHERE { SELECT DISTINCT ?s ?p ?o { ?s ?p ?o } ORDER BY ?s }"


def export(
    source: ox.Store,
    format: str,
    destination: Path | BinaryIO | None = None,
    *,
    prefixes: dict[str, str] | None = None,
) -> bytes | None:
    """Serialise a store as ``format`` (a key of :data:`EXPORT_FORMATS`).

    Turtle, N-Triples and RDF/XML get the union of all graphs; TriG, N-Quads and JSON-LD keep the graphs.
    Returns the bytes when ``destination`` is ``None``; a path is written atomically.
    """
    if format not in EXPORT_FORMATS:
        raise ValueError(f"unknown format {format!r}; expected one of {', '.join(EXPORT_FORMATS)}")
    rdf_format = EXPORT_FORMATS[format]
    if isinstance(destination, str | os.PathLike):
        with atomic_writer(Path(destination)) as handle:
            return _serialise(source, rdf_format, prefixes, handle)
    return _serialise(source, rdf_format, prefixes, destination)


def _serialise(
    store: ox.Store, rdf_format: ox.RdfFormat, prefixes: dict[str, str] | None, output
) -> bytes | None:
    if rdf_format.supports_datasets:
        return store.dump(output, rdf_format, prefixes=prefixes)
    triples = store.query(_UNION_TRIPLES, use_default_graph_as_union=True)
    return ox.serialize(triples, output, rdf_format, prefixes=prefixes)


# -- dumps served from the live store ------------------------------------------------------

@dataclass(frozen=True)
class DumpFile:
    """One served dump: its path under ``/data/``, the RDF syntax inside, what it holds, its bytes.

    ``statements`` counts quads for dataset syntaxes (a triple in two graphs counts twice) and
    distinct triples for Turtle; ``graph`` names the project graph of a per-graph file.
    """

    name: str
    label: str
    media_type: str
    statements: int
    size: int
    sha256: str
    compressed: bool = False
    graph: str | None = None

    @property
    def content_type(self) -> str:
        """The type of the bytes served: gzip for compressed files, else the RDF syntax."""
        return GZIP_MEDIA_TYPE if self.compressed else self.media_type


#: The whole-dataset dumps: (file name, label, media type, union of the graphs rather than quads).
DATASET_DUMPS = (
    (TRIG_FILE, "TriG", "application/trig", False),
    (NQUADS_FILE, "N-Quads", "application/n-quads", False),
    (JSONLD_FILE, "JSON-LD", "application/ld+json", False),
    (TURTLE_FILE, "Turtle (the union of the graphs)", "text/turtle", True),
)


def _entry(name: str, label: str, media_type: str, statements: int, data: bytes, **extra) -> tuple[DumpFile, bytes]:
    digest = hashlib.sha256(data).hexdigest()
    return DumpFile(name, label, media_type, statements, len(data), digest, **extra), data


def render_served_dumps(quads: Iterable[ox.Quad], ns: ProjectNamespaces) -> list[tuple[DumpFile, bytes]]:
    """Every served dump of ``quads``: each whole-dataset syntax plain and gzipped, then one Turtle file
    per project graph. Under the default base the TriG, N-Quads and graph files equal those in ``data/``.
    """
    quads = list(set(quads))
    prefixes = dump_prefixes(ns)
    renderers = {
        TRIG_FILE: lambda: render_trig(quads, prefixes),
        NQUADS_FILE: lambda: render_nquads(quads),
        JSONLD_FILE: lambda: render_jsonld(quads),
        TURTLE_FILE: lambda: render_turtle(quads, prefixes),
    }
    union = len({quad.triple for quad in quads})
    files = []
    for name, label, media_type, is_union in DATASET_DUMPS:
        data = renderers[name]()
        statements = union if is_union else len(quads)
        files.append(_entry(name, label, media_type, statements, data))
        files.append(_entry(name + GZIP_SUFFIX, f"{label}, gzip", media_type, statements, gzip_bytes(data),
                            compressed=True))
    names = {ox.NamedNode(str(ns.graph(name))): name for name in ALL_GRAPHS}
    by_graph: dict[str, list[ox.Quad]] = {}
    for quad in quads:
        if quad.graph_name in names:
            by_graph.setdefault(names[quad.graph_name], []).append(quad)  # type: ignore[index]
    for name in ALL_GRAPHS:
        if name in by_graph:
            data = render_turtle(by_graph[name], prefixes)
            files.append(_entry(f"{GRAPHS_DIR}/{name}.ttl", f"Turtle, graph {name}", "text/turtle",
                                len(by_graph[name]), data, graph=name))
    return files


@dataclass(frozen=True)
class DumpSet:
    """The served dumps of one build: on disk in ``directory``, or in memory when it is ``None``."""

    build_id: str
    files: tuple[DumpFile, ...]
    directory: Path | None = None
    contents: dict[str, bytes] | None = None

    def find(self, name: str) -> DumpFile | None:
        """The dump served as ``/data/{name}``, if any."""
        return next((file for file in self.files if file.name == name), None)

    def path(self, file: DumpFile) -> Path | None:
        """Where ``file`` is on disk (``None`` for dumps kept in memory)."""
        return self.directory / file.name if self.directory else None

    def read(self, file: DumpFile) -> bytes:
        """The bytes of ``file``."""
        path = self.path(file)
        return path.read_bytes() if path else self.contents[file.name]  # type: ignore[index]


MANIFEST = "manifest.json"


class ServedDumps:
    """The dumps of the live store, rendered once per build and shared by every server process.

    They are written to ``{store_path.parent}/dumps/{build_id}/`` with ``manifest.json`` last,
    under a file lock, so the first process renders them and the others read the manifest.
    Dumps of builds whose store is gone are removed. If the directory cannot be written,
    the dumps are rendered in memory instead. A process asks once per build: the web layer
    keeps the :class:`DumpSet` in the build's memo.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.root = settings.store_path.parent / "dumps"

    def get(self, store: ox.Store, build_id: str) -> DumpSet:
        """The dumps of build ``build_id`` (whose store is ``store``): read back, or rendered if none are."""
        directory = self.root / build_id
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            with (self.root / f".{build_id}.lock").open("a") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                found = _read_manifest(directory, build_id, self.settings.dump_imports)
                if found is None:
                    found = self._write(store, build_id, directory)
                    self._prune(keep=build_id)
                return found
        except OSError:
            rendered = self._render(store)
            return DumpSet(build_id, tuple(f for f, _ in rendered), None, {f.name: d for f, d in rendered})

    def _render(self, store: ox.Store) -> list[tuple[DumpFile, bytes]]:
        return render_served_dumps(published_quads(store.quads_for_pattern(None, None, None, None), self.settings),
                                   ProjectNamespaces(self.settings.base))

    def _write(self, store: ox.Store, build_id: str, directory: Path) -> DumpSet:
        rendered = self._render(store)
        for file, data in rendered:
            write_atomic(directory / file.name, data)
        files = tuple(file for file, _ in rendered)
        manifest = {"build": build_id, "imports": self.settings.dump_imports, "files": [asdict(file) for file in files]}
        write_atomic(directory / MANIFEST, json.dumps(manifest, indent=1).encode())
        return DumpSet(build_id, files, directory)

    def _prune(self, keep: str) -> None:
        """Remove the dumps of builds whose store directory no longer exists."""
        kept = {path.name for path in stores_dir(self.settings).glob("*") if path.is_dir()} | {keep}
        for path in self.root.iterdir():
            build = path.name.removeprefix(".").removesuffix(".lock")
            if build not in kept:
                if path.is_dir():
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    path.unlink(missing_ok=True)


def _read_manifest(directory: Path, build_id: str, imports: bool = False) -> DumpSet | None:
    """The dumps recorded in ``directory``'s manifest, if it is complete, for ``build_id`` and with (or
    without) the imported graphs as ``imports`` says."""
    try:
        manifest = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    files = tuple(DumpFile(**entry) for entry in manifest.get("files", ()))
    if manifest.get("build") != build_id or bool(manifest.get("imports")) != imports:
        return None
    if not all((directory / f.name).is_file() for f in files):
        return None
    return DumpSet(build_id, files, directory)
