"""The publication record: what ``aiwf publish`` leaves on a remote store so a server reading it knows
what it serves.

A server that reads a remote store (``AIWF_SPARQL_URL``, :mod:`.remote_store`) keeps what it derives
from the graph (pages, the reconciliation catalogue, VoID and statistics, SPARQL answers, their
``ETag`` s) per build, as a server over the embedded store does. On a remote the build is not a
directory it can look at, so ``aiwf publish`` writes, after the graphs and their counts, one more
named graph, ``{base}/id/graph/publication``, holding::

    <{base}/id/graph/publication>
        dcterms:identifier "20261203T101500123456Z-a1b2c3" ;  # this publication: new at every publish
        pav:version "20261202T143600383633Z-d043b0" ;         # the build it came from
        dcterms:issued "2026-12-03T10:15:00.123456Z"^^xsd:dateTime ;
        dcterms:hasPart <{base}/id/graph/background>, ... .   # the graphs of the dataset on this remote
    <{base}/id/graph/background> void:triples 1234 .

The identifier has the form of a build id (:func:`.builds.new_build_id`), so a server keys its caches
and ``ETag`` s on it and reads its time as ``Last-Modified``. It is new at every publication, not the
build's: a publication of only some graphs (``--graph``) changes the data under the same build, and
its pages must change too. ``dcterms:hasPart`` names the graphs a query's default graph is the union
of; a graph the remote holds that is not named there (another project's, or one the build no longer
has) is never read. The record graph itself is not one of them: a query cannot see it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pyoxigraph as ox

from ..core import vocab
from ..core.remote import select

__all__ = ["NAME", "Publication", "graph_iri", "read", "record_query", "record_triples"]

#: The last path segment of the record's graph, ``{base}/id/graph/publication``.
NAME = "publication"
PAV, DCTERMS, VOID, XSD = vocab.PAV, vocab.DCTERMS, vocab.VOID, vocab.XSD


def graph_iri(base: str) -> str:
    """The IRI of the record's graph (and of the record) under ``base``.

    >>> graph_iri("https://x.org/")
    'https://x.org/id/graph/publication'
    """
    return f"{base.rstrip('/')}/id/graph/{NAME}"


@dataclass(frozen=True)
class Publication:
    """One publication to a remote store: its id, the build sent, when, and the dataset's graphs there."""

    id: str
    build: str | None
    issued: datetime | None
    graphs: tuple[str, ...]
    triples: tuple[tuple[str, int], ...] = ()

    def triples_of(self, graph: str) -> int | None:
        return dict(self.triples).get(graph)


def record_triples(publication: Publication, base: str) -> list[ox.Triple]:
    """The record of ``publication`` as triples (the graph :func:`graph_iri` holds them).

    >>> when = datetime.fromisoformat("2026-01-02T00:00:00+00:00")
    >>> record = Publication("p1", "b1", when, ("http://x.org/g",), (("http://x.org/g", 3),))
    >>> for triple in record_triples(record, "http://x.org"):
    ...     print(triple.predicate.value.rsplit("/", 1)[-1], triple.object.value)
    identifier p1
    version b1
    issued 2026-01-02T00:00:00+00:00
    hasPart http://x.org/g
    void#triples 3
    """
    record = ox.NamedNode(graph_iri(base))
    triples = [ox.Triple(record, ox.NamedNode(DCTERMS + "identifier"), ox.Literal(publication.id))]
    if publication.build:
        triples.append(ox.Triple(record, ox.NamedNode(PAV + "version"), ox.Literal(publication.build)))
    if publication.issued:
        triples.append(ox.Triple(record, ox.NamedNode(DCTERMS + "issued"),
                                 ox.Literal(publication.issued.isoformat(), datatype=ox.NamedNode(XSD + "dateTime"))))
    counts = dict(publication.triples)
    for graph in publication.graphs:
        triples.append(ox.Triple(record, ox.NamedNode(DCTERMS + "hasPart"), ox.NamedNode(graph)))
    for graph in publication.graphs:
        if graph in counts:
            triples.append(ox.Triple(ox.NamedNode(graph), ox.NamedNode(VOID + "triples"),
                                     ox.Literal(str(counts[graph]), datatype=ox.NamedNode(XSD + "integer"))))
    return triples


def record_query(base: str) -> str:
    """The query that reads the record under ``base``: one row per graph (one without, if it names none)."""
    record = f"<{graph_iri(base)}>"
    return (
        f"SELECT ?id ?build ?issued ?graph ?triples WHERE {{ GRAPH {record} {{ {record} <{DCTERMS}identifier> ?id "
        f"OPTIONAL {{ {record} <{PAV}version> ?build }} OPTIONAL {{ {record} <{DCTERMS}issued> ?issued }} "
        f"OPTIONAL {{ {record} <{DCTERMS}hasPart> ?graph OPTIONAL {{ ?graph <{VOID}triples> ?triples }} }} }} }}"
    )


def from_rows(rows: list[dict[str, str]]) -> Publication | None:
    """The record read from the rows of :func:`record_query`; ``None`` when there is none.

    Several identifiers (a record written twice by hand) resolve to the greatest, as ids sort by time.

    >>> from_rows([{"id": "p1", "build": "b1", "graph": "http://x.org/g", "triples": "3"}]).graphs
    ('http://x.org/g',)
    >>> from_rows([]) is None
    True
    """
    ids = [row["id"] for row in rows if "id" in row]
    if not ids:
        return None
    latest = max(ids)
    mine = [row for row in rows if row.get("id") == latest]
    graphs = tuple(sorted({row["graph"] for row in mine if "graph" in row}))
    triples = []
    for graph in graphs:
        count = next((row["triples"] for row in mine if row.get("graph") == graph and "triples" in row), None)
        if count is not None and count.isdigit():
            triples.append((graph, int(count)))
    build = next((row["build"] for row in mine if "build" in row), None)
    issued = next((row["issued"] for row in mine if "issued" in row), None)
    try:
        when = datetime.fromisoformat(issued.replace("Z", "+00:00")) if issued else None
    except ValueError:
        when = None
    return Publication(latest, build, when, graphs, tuple(triples))


def read(endpoint: str, base: str, **options) -> Publication | None:
    """The record on the remote whose query endpoint is ``endpoint``; ``None`` if it holds none.

    ``options`` go to :func:`..core.remote.request` (``policy``, ``credentials``, ``deadline_s``).

    :raises RemoteError: if the remote cannot be asked or its answer is not SPARQL JSON results.
    """
    return from_rows(select(endpoint, record_query(base), **options))
