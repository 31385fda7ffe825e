"""Published dumps of the graph: reproducible files in ``data/`` and on-demand exports.

The files in ``data/`` are byte-for-byte reproducible: quads are sorted (graph, subject,
``rdf:type`` first, predicate, object) before pyoxigraph's streaming serialisers group them,
prefix lines are sorted, and every file is written atomically. Blank nodes are refused.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

import pyoxigraph as ox
from rdflib.graph import Graph

from ..core.namespaces import GRAPHS, ProjectNamespaces
from ..core.settings import Settings
from .terms import oxigraph_quads

NQUADS_FILE = "nhs-ai-workforce.nq"
TRIG_FILE = "nhs-ai-workforce.trig"
GRAPHS_DIR = "graphs"

RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")

#: Export format names (as the CLI spells them) to pyoxigraph formats.
EXPORT_FORMATS = {
    "turtle": ox.RdfFormat.TURTLE,
    "ntriples": ox.RdfFormat.N_TRIPLES,
    "nquads": ox.RdfFormat.N_QUADS,
    "trig": ox.RdfFormat.TRIG,
    "jsonld": ox.RdfFormat.JSON_LD,
}


def dump_prefixes(ns: ProjectNamespaces) -> dict[str, str]:
    """The project prefixes for pretty dumps, minus ``id:`` (its local names would need ``\\/``)."""
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


def dump_files(dataset: Graph, settings: Settings) -> dict[Path, bytes]:
    """The bytes of every published dump, by path, without writing anything.

    :raises DumpError: for triples in the default graph or in a graph not in ``GRAPHS``.
    :raises BlankNodeError: if the dataset contains blank nodes.
    """
    ns = ProjectNamespaces(settings.base)
    names = {ox.NamedNode(str(ns.graph(name))): name for name in GRAPHS}
    by_graph: dict[str, list[ox.Quad]] = {}
    for quad in oxigraph_quads(dataset, blank_nodes=False):
        name = names.get(quad.graph_name)  # type: ignore[call-overload]
        if name is None:
            where = "the default graph" if quad.graph_name == ox.DefaultGraph() else "graph"
            raise DumpError(f"triple in {where} {quad.graph_name}, not a project graph: {quad}")
        by_graph.setdefault(name, []).append(quad)
    prefixes = dump_prefixes(ns)
    quads = [q for graph in by_graph.values() for q in graph]
    out = settings.data_dir
    files = {
        out / NQUADS_FILE: render_nquads(quads),
        out / TRIG_FILE: render_trig(quads, prefixes),
    }
    for name in sorted(by_graph):
        files[out / GRAPHS_DIR / f"{name}.ttl"] = render_turtle(by_graph[name], prefixes)
    return files


def write_dumps(dataset: Graph, settings: Settings) -> list[Path]:
    """Write the N-Quads, TriG and per-graph Turtle dumps into ``data/``; return their paths.

    Per-graph files of project graphs that are now empty are removed.
    """
    files = dump_files(dataset, settings)
    for path, data in files.items():
        write_atomic(path, data)
    for name in GRAPHS:
        stale = settings.data_dir / GRAPHS_DIR / f"{name}.ttl"
        if stale not in files:
            stale.unlink(missing_ok=True)
    return list(files)


_UNION_TRIPLES = "CONSTRUCT { ?s ?p ?o } WHERE { SELECT DISTINCT ?s ?p ?o { ?s ?p ?o } ORDER BY ?s }"


def export(
    source: ox.Store | Graph,
    format: str,
    destination: Path | BinaryIO | None = None,
    *,
    prefixes: dict[str, str] | None = None,
) -> bytes | None:
    """Serialise a store or rdflib dataset as ``format`` (a key of :data:`EXPORT_FORMATS`).

    Turtle and N-Triples get the union of all graphs; TriG, N-Quads and JSON-LD keep the graphs.
    Returns the bytes when ``destination`` is ``None``; a path is written atomically.
    """
    if format not in EXPORT_FORMATS:
        raise ValueError(f"unknown format {format!r}; expected one of {', '.join(EXPORT_FORMATS)}")
    rdf_format = EXPORT_FORMATS[format]
    if isinstance(source, Graph):
        store = ox.Store()
        store.extend(oxigraph_quads(source))
        source = store
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
