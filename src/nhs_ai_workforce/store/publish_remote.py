"""Publishing the live build to another triple store, then checking that it arrived whole.

Each named graph of the build is serialised (N-Triples by default) from the read-only store into a
temporary file and sent with one SPARQL 1.1 Graph Store Protocol ``PUT {graph store}?graph={IRI}``,
which replaces that graph on the remote, so publishing twice leaves the same data. When every
graph is sent, the remote's query endpoint counts the triples of each
(``SELECT (COUNT(*) AS ?n) WHERE { GRAPH <g> { ?s ?p ?o } }``) and each count is compared with the
number of triples sent. Graphs the remote holds that the build does not are left alone.

Last, the publication record (:mod:`.publication`) replaces the graph ``{base}/id/graph/publication``
on the remote: a new publication id, the build sent, the time, and the graphs of the dataset there (a
publication of some graphs only keeps the others the record named before). A server reading the
remote (``AIWF_SPARQL_URL``) reads it to know what it serves, and drops what it derived from the
graph when the id changes. It is written even when a count differs (the remote holds what was sent),
but not when a graph could not be sent: publish again.

Every call goes through :func:`..core.remote.request`: time limits, bounded retries, errors with
the remote's status. The default graph is not published (a build puts nothing there).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlencode, urlsplit, urlunsplit

import pyoxigraph as ox

from ..core.remote import Credentials, RemoteAnswerError, RemotePolicy, request, select
from . import publication as record
from .builds import new_build_id

#: Syntaxes a graph can be sent in: name -> (pyoxigraph format, media type).
GRAPH_FORMATS = {
    "ntriples": (ox.RdfFormat.N_TRIPLES, "application/n-triples"),
    "turtle": (ox.RdfFormat.TURTLE, "text/turtle"),
}
#: A graph's serialisation is kept in memory up to this size, then spills to a temporary file.
SPOOL_BYTES = 16 * 1024 * 1024

#: How each store's documentation spells its Graph Store endpoint (the end of its path) and, beside
#: it, its query endpoint: (Graph Store path ending, query path ending, store).
ENDPOINT_PAIRS = (
    ("/store", "/query", "Oxigraph"),
    ("/data", "/query", "Apache Jena Fuseki"),
    ("/rdf-graphs/service", "", "RDF4J and GraphDB"),
    ("/sparql-graph-crud-auth", "/sparql-auth", "Virtuoso"),
    ("/sparql-graph-crud", "/sparql", "Virtuoso"),
)


def query_endpoint_for(graph_store: str) -> str | None:
    """The query endpoint beside the Graph Store endpoint ``graph_store``, for the stores in
    :data:`ENDPOINT_PAIRS`; ``None`` when its spelling is not one of theirs.

    >>> query_endpoint_for("http://127.0.0.1:7878/store")
    'http://127.0.0.1:7878/query'
    >>> query_endpoint_for("http://localhost:3030/ds/data")
    'http://localhost:3030/ds/query'
    >>> query_endpoint_for("http://localhost:7200/repositories/aiwf/rdf-graphs/service")
    'http://localhost:7200/repositories/aiwf'
    >>> query_endpoint_for("http://localhost:8890/sparql-graph-crud-auth")
    'http://localhost:8890/sparql-auth'
    >>> query_endpoint_for("http://localhost:8080/gsp") is None
    True
    """
    parts = urlsplit(graph_store)
    if parts.query or parts.fragment:
        return None
    path = parts.path.rstrip("/")
    for ending, query_ending, _ in ENDPOINT_PAIRS:
        if path.endswith(ending):
            return urlunsplit(parts._replace(path=path[: -len(ending)] + query_ending))
    return None


@dataclass(frozen=True)
class Remote:
    """The store published to: its Graph Store and query endpoints, the call limits, the credentials."""

    graph_store: str
    query_endpoint: str
    policy: RemotePolicy = field(default_factory=RemotePolicy)
    credentials: Credentials | None = None

    def graph_url(self, graph: str) -> str:
        """The Graph Store URL of the graph named ``graph`` (indirect identification, ``?graph=``).

        >>> Remote("http://h/store", "http://h/query").graph_url("https://x.org/id/graph/a b")
        'http://h/store?graph=https%3A%2F%2Fx.org%2Fid%2Fgraph%2Fa+b'
        """
        return f"{self.graph_store}{'&' if '?' in self.graph_store else '?'}{urlencode({'graph': graph})}"

    def calls(self) -> dict:
        """The options every call to this remote takes."""
        return {"policy": self.policy, "credentials": self.credentials}


@dataclass(frozen=True)
class GraphSent:
    """One graph sent: its IRI, its triples (and how many have a blank node), bytes, seconds, the status."""

    graph: str
    triples: int
    blank_node_triples: int
    size: int
    seconds: float
    status: int


@dataclass(frozen=True)
class GraphCount:
    """The build's and the remote's triple counts of one graph."""

    graph: str
    ours: int
    theirs: int

    @property
    def matches(self) -> bool:
        return self.ours == self.theirs


@dataclass
class Published:
    """What :func:`publish` did: the graphs sent, the counts compared, the time it took."""

    remote: Remote
    sent: list[GraphSent] = field(default_factory=list)
    counts: list[GraphCount] = field(default_factory=list)
    default_graph_triples: int = 0
    seconds: float = 0.0
    #: The record written last (:mod:`.publication`), if one was.
    publication: record.Publication | None = None

    @property
    def mismatches(self) -> list[GraphCount]:
        return [count for count in self.counts if not count.matches]

    @property
    def triples(self) -> int:
        return sum(graph.triples for graph in self.sent)

    @property
    def blank_node_triples(self) -> int:
        return sum(graph.blank_node_triples for graph in self.sent)


def named_graphs(store: ox.Store) -> list[ox.NamedNode]:
    """The store's named graphs, sorted by IRI (graphs named by a blank node cannot be
    addressed on another store and are left out)."""
    return sorted((g for g in store.named_graphs() if isinstance(g, ox.NamedNode)), key=lambda g: g.value)


def choose_graphs(available: Iterable[ox.NamedNode], wanted: Iterable[str]) -> list[ox.NamedNode]:
    """The graphs of ``available`` named in ``wanted``, each by its IRI or its last path segment.

    >>> graphs = [ox.NamedNode("https://x.org/id/graph/background"), ox.NamedNode("https://x.org/id/graph/links")]
    >>> [g.value for g in choose_graphs(graphs, ["links"])]
    ['https://x.org/id/graph/links']

    :raises ValueError: for a name no graph has.
    """
    available = list(available)
    chosen = []
    for name in wanted:
        found = [g for g in available if name in (g.value, g.value.rstrip("/").rsplit("/", 1)[-1])]
        if not found:
            names = ", ".join(g.value.rsplit("/", 1)[-1] for g in available) or "none"
            raise ValueError(f"the build has no graph {name!r} (it has: {names})")
        chosen.extend(g for g in found if g not in chosen)
    return chosen


def _triples(quads: Iterable[ox.Quad], counts: list[int]) -> Iterator[ox.Triple]:
    """The triples of ``quads``, counting them (``counts[0]``) and those with a blank node (``counts[1]``)."""
    for quad in quads:
        counts[0] += 1
        if isinstance(quad.subject, ox.BlankNode) or isinstance(quad.object, ox.BlankNode):
            counts[1] += 1
        yield quad.triple


def send_graph(store: ox.Store, graph: ox.NamedNode, remote: Remote, format: str = "ntriples") -> GraphSent:
    """Serialise ``graph`` and ``PUT`` it to the remote, replacing the graph there.

    :raises RemoteError: if the remote cannot be reached or refuses it.
    """
    rdf_format, media_type = GRAPH_FORMATS[format]
    counts = [0, 0]
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as body:
        ox.serialize(_triples(store.quads_for_pattern(None, None, None, graph), counts), body, rdf_format)
        size = body.tell()
        body.seek(0)
        started = time.monotonic()
        answer = request("PUT", remote.graph_url(graph.value), body=body,
                         headers={"Content-Type": f"{media_type}; charset=utf-8"}, **remote.calls())
    return GraphSent(graph.value, counts[0], counts[1], size, time.monotonic() - started, answer.status)


def count_query(graph: str) -> str:
    """The query that counts the triples of ``graph`` on the remote.

    >>> count_query("https://x.org/id/graph/links")
    'SELECT (COUNT(*) AS ?n) WHERE { GRAPH <https://x.org/id/graph/links> { ?s ?p ?o } }'
    """
    return f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH {ox.NamedNode(graph)} {{ ?s ?p ?o }} }}"


def remote_count(remote: Remote, graph: str) -> int:
    """How many triples the remote holds in ``graph``.

    :raises RemoteError: if the query fails or its answer holds no count.
    """
    rows = select(remote.query_endpoint, count_query(graph), **remote.calls())
    try:
        return int(rows[0]["n"])
    except (IndexError, KeyError, ValueError) as error:
        raise RemoteAnswerError("GET", remote.query_endpoint, f"no triple count in the answer: {rows!r:.200}") \
            from error


def send_record(remote: Remote, published: Published, *, base: str, build_id: str | None, partial: bool,
                format: str = "ntriples") -> record.Publication:
    """Write the publication record of ``published`` on ``remote`` (one ``PUT``, replacing the one there).

    A ``partial`` publication (some of the build's graphs) keeps the graphs the remote's record
    named before, with their counts, beside those just sent.

    :raises RemoteError: if the record cannot be read (for a partial one) or written.
    """
    counts = {sent.graph: sent.triples for sent in published.sent}
    if partial:
        try:
            before = record.read(remote.query_endpoint, base, **remote.calls())
        except RemoteAnswerError:
            before = None  # not a SPARQL store's answer: the count check would have said so
        if before is not None:
            counts = {graph: before.triples_of(graph) for graph in before.graphs} | counts
    graphs = tuple(sorted(counts))
    written = record.Publication(new_build_id(), build_id, datetime.now(UTC), graphs,
                                 tuple((graph, counts[graph]) for graph in graphs if counts[graph] is not None))
    rdf_format, media_type = GRAPH_FORMATS[format]
    body = ox.serialize(record.record_triples(written, base), format=rdf_format)
    request("PUT", remote.graph_url(record.graph_iri(base)), body=body,
            headers={"Content-Type": f"{media_type}; charset=utf-8"}, **remote.calls())
    return written


def publish(store: ox.Store, remote: Remote, *, graphs: list[ox.NamedNode] | None = None,
            format: str = "ntriples", progress: Callable[[GraphSent], None] | None = None,
            base: str | None = None, build_id: str | None = None) -> Published:
    """Send each named graph of ``store`` (or only ``graphs``) to ``remote``, then compare the triple counts,
    then (with ``base``) write the publication record of build ``build_id`` (:func:`send_record`).

    The result's ``mismatches`` lists each graph whose remote count differs from the build's.

    :raises RemoteError: if a graph cannot be sent or a count cannot be had; graphs sent before stay sent
        (and the record is left as it was).
    """
    started = time.monotonic()
    published = Published(remote)
    published.default_graph_triples = sum(1 for _ in store.quads_for_pattern(None, None, None, ox.DefaultGraph()))
    every = named_graphs(store)
    for graph in every if graphs is None else graphs:
        sent = send_graph(store, graph, remote, format)
        published.sent.append(sent)
        if progress is not None:
            progress(sent)
    for sent in published.sent:
        published.counts.append(GraphCount(sent.graph, sent.triples, remote_count(remote, sent.graph)))
    if base is not None:
        partial = {sent.graph for sent in published.sent} != {graph.value for graph in every}
        published.publication = send_record(remote, published, base=base, build_id=build_id, partial=partial,
                                            format=format)
    published.seconds = time.monotonic() - started
    return published
