"""Serving from a remote store: the graph read through the SPARQL 1.1 Protocol instead of the embedded store.

With ``AIWF_SPARQL_URL`` set to another store's query endpoint (loaded by ``aiwf publish``), the
server opens no local store. :class:`RemoteStore` answers the part of ``pyoxigraph.Store`` that the
pages, the charts, VoID and the statistics, the service description and the reconciliation catalogue
use (``query``, ``quads_for_pattern``, ``named_graphs``, ``dump``) by sending SPARQL queries, so none
of them changes; :mod:`.remote_live` says which publication is live. Its answers are pyoxigraph
objects, parsed from the remote's SPARQL results (JSON or XML) or RDF (N-Triples, Turtle, RDF/XML).

**The dataset.** The graphs are those the publication record names (:mod:`.publication`), and only
those: the record's own graph and any other graph the remote holds are never read. Each query names
its dataset with the Protocol's ``default-graph-uri`` and ``named-graph-uri`` (sent in a form
``POST``):

- ``use_default_graph_as_union=True``: every graph as ``default-graph-uri`` (the default graph is
  the RDF merge of them: their union) and as ``named-graph-uri`` (``GRAPH`` sees each);
- ``default_graph=`` / ``named_graphs=``: those graphs (Oxigraph's default graph, which a build
  leaves empty and ``aiwf publish`` never sends, is an empty graph here; ``named_graphs`` left out
  means every graph, as in pyoxigraph);
- neither: an empty default graph and every graph named; but in the view a client's query runs on
  (:meth:`RemoteStore.for_query`) the query's own ``FROM`` / ``FROM NAMED`` (no parameters are sent).

Predeclared ``prefixes`` and ``base_iri`` go on one line before the query text (the query's own
``PREFIX`` and ``BASE`` come later and win, as in Oxigraph); the line is taken off the positions
in the remote's syntax errors again.

**Failures.** Every call goes through :func:`..core.remote.request` (time limits, bounded retries;
a 500 is not retried: for a query it is the query's own failure). For a client's query, a remote 400
is a ``SyntaxError`` with the remote's message (as pyoxigraph raises one), and Oxigraph's 500 for an
unknown function the ``RuntimeError`` pyoxigraph raises; a remote that refuses one of the server's own
queries cannot serve it (502). Anything else is a :class:`RemoteStoreError`
with an HTTP status (:func:`remote_failure`): 502 when the remote cannot be reached or fails (its
status named), 504 when it gives no answer in time, 503 when it says it is busy. Messages say "the
remote store", never its address (which is logged).

**What is not supported.** Blank nodes cannot be asked about in a later request (a remote's labels
hold only within one answer), so a pattern naming a blank node finds nothing: a build has no blank
nodes (the pipeline names everything, and ``aiwf publish`` notes any).
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode

import pyoxigraph as ox

from ..core.errors import ServiceError
from ..core.remote import (
    Credentials,
    RemoteAnswerError,
    RemoteAnswerTooLarge,
    RemoteError,
    RemotePolicy,
    RemoteStatusError,
    RemoteTimeout,
    RemoteUnreachable,
    request,
    retry_after_s,
)
from .live import StoreError

__all__ = ["CREDENTIALS_PREFIX", "RemoteStore", "RemoteStoreError", "remote_failure"]

_log = logging.getLogger(__name__)

#: Credentials for the remote come from ``AIWF_SPARQL_USER`` and ``AIWF_SPARQL_PASSWORD`` (HTTP Basic)
#: or ``AIWF_SPARQL_TOKEN`` (Bearer), never from the command line.
CREDENTIALS_PREFIX = "AIWF_SPARQL"
#: The statuses a query is sent again for: too many requests, and gateway failures that may pass.
#: Not 500: a store answers 500 for a query it fails on, and would fail on it again.
QUERY_RETRY_STATUSES = frozenset({429, 502, 503, 504})
#: The largest answer the server's own reads (pages, catalogue, dumps) take from the remote: the
#: whole dataset is read for the dumps, much as the embedded store's quads are.
STORE_READ_MAX_BYTES = 512 * 1024 * 1024
#: The default graph when it must be empty: a graph no store holds (naming an absent graph in
#: ``default-graph-uri`` gives an empty one).
EMPTY_GRAPH = "urn:x-aiwf:empty-default-graph"
#: What is asked for: SPARQL results for solutions and booleans, RDF for graphs (a store offers the
#: types that suit the query's form).
ACCEPT = ("application/sparql-results+json, application/n-triples;q=0.95, application/sparql-results+xml;q=0.9, "
          "text/turtle;q=0.85, application/rdf+xml;q=0.8")
#: Oxigraph's message for a function it does not know (a 500 from ``oxigraph serve``).
_UNKNOWN_FUNCTION = re.compile(r"custom function .* is not supported", re.IGNORECASE)
#: A position in a syntax error: Oxigraph's ``at 2:9`` (and the end of a range, ``-2:12``), Jena's ``line 2``.
_POSITIONS = re.compile(r"(?<=at )(\d+)(?=:\d)|(?<=-)(\d+)(?=:\d)|(?<=line )(\d+)")


class RemoteStoreError(StoreError):
    """The remote store failed to answer: ``status`` (502, 503 or 504) and ``title`` say how."""

    def __init__(self, status: int, title: str, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status, self.title, self.message, self.retry_after = status, title, message, retry_after

    def __reduce__(self):  # copied (a failure held for other requests is raised as a copy) and pickled whole
        return (type(self), (self.status, self.title, self.message, self.retry_after))

    def service_error(self) -> ServiceError:
        """The same failure as the app's one error (:class:`ServiceError`)."""
        return ServiceError(self.status, self.title, self.message, retry_after=self.retry_after)


# -- the store --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RemoteStore:
    """The published graphs of one publication on a remote query endpoint, read as a ``pyoxigraph.Store``.

    ``graphs`` are the IRIs the record names. ``deadline_s`` bounds each call; ``for_queries``
    marks the view the endpoint runs clients' queries on (:meth:`for_query`), where an answer over
    the read limit is the query's fault (400) rather than the remote's.
    """

    endpoint: str
    graphs: tuple[str, ...]
    policy: RemotePolicy
    credentials: Credentials | None = None
    deadline_s: float | None = None
    for_queries: bool = False

    def for_query(self, *, timeout_s: float, max_answer_bytes: int) -> RemoteStore:
        """The same store for one client query, run by :func:`~nhs_ai_workforce.sparql.execution.execute`:
        ``timeout_s`` for the whole call, answers up to ``max_answer_bytes``. ``execute`` passes no dataset
        options only for a query with its own ``FROM`` / ``FROM NAMED``, so this view then sends none."""
        return replace(self, deadline_s=timeout_s, policy=replace(self.policy, max_answer_bytes=max_answer_bytes),
                       for_queries=True)

    # -- what pyoxigraph.Store offers

    def named_graphs(self) -> Iterator[ox.NamedNode]:
        """The published graphs."""
        return iter([ox.NamedNode(graph) for graph in self.graphs])

    def query(
        self,
        query: str,
        *,
        base_iri: str | None = None,
        prefixes: dict[str, str] | None = None,
        use_default_graph_as_union: bool = False,
        default_graph: Any = None,
        named_graphs: Sequence[ox.NamedNode | ox.BlankNode] | None = None,
    ) -> ox.QuerySolutions | ox.QueryBoolean | list[ox.Triple]:
        """Run ``query`` on the remote; the answer as pyoxigraph's (a graph as a list of triples).

        :raises SyntaxError: in the view of a client's query (:meth:`for_query`), for a query the remote
            refuses as malformed (400), with its message.
        :raises RuntimeError: in that view, for a function the remote does not know (as pyoxigraph raises it).
        :raises RemoteStoreError: when the remote cannot be reached, fails, does not answer in time, or
            refuses one of the server's own queries (a store that cannot run them: 502).
        """
        if use_default_graph_as_union and default_graph is not None:
            raise ValueError("use_default_graph_as_union and default_graph cannot be set at the same time")
        dataset = self._dataset(use_default_graph_as_union, default_graph, named_graphs)
        header = "".join(
            [f"BASE <{base_iri}> " if base_iri else ""]
            + [f"PREFIX {name}: <{namespace}> " for name, namespace in (prefixes or {}).items()]
        )
        text = f"{header}\n{query}" if header else query
        body = urlencode([("query", text), *dataset]).encode("utf-8", "surrogatepass")
        try:
            answer = request("POST", self.endpoint, body=body, policy=self.policy, credentials=self.credentials,
                             deadline_s=self.deadline_s, retry_statuses=QUERY_RETRY_STATUSES,
                             headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": ACCEPT})
        except RemoteStatusError as error:
            if self.for_queries and error.status == 400:  # a client's malformed query (the server's own: 502)
                raise SyntaxError(_shift_positions(error.text.strip(), 1 if header else 0)) from None
            if self.for_queries and error.status == 500 and _UNKNOWN_FUNCTION.search(error.text):
                raise RuntimeError(error.text.strip()) from None
            raise self._failure(error) from None
        except RemoteError as error:
            raise self._failure(error) from None
        return self._parse(answer.body, answer.header("Content-Type") or "")

    def quads_for_pattern(self, subject: Any, predicate: Any, object: Any, graph_name: Any = None) -> Iterator[ox.Quad]:
        """The quads of the published graphs matching the pattern (``None`` matches anything).

        A blank node in the pattern matches nothing (see the module docstring); so does the default
        graph, which ``aiwf publish`` never sends.
        """
        if any(isinstance(term, ox.BlankNode) for term in (subject, predicate, object, graph_name)):
            return iter(())
        if graph_name is None:
            graphs = self.graphs
        elif isinstance(graph_name, ox.NamedNode) and graph_name.value in self.graphs:
            graphs = (graph_name.value,)
        else:
            graphs = ()
        if not graphs:
            return iter(())
        if subject is None and predicate is None and object is None:
            return iter([quad for graph in graphs for quad in self._graph_quads(graph)])
        return iter(self._matching(subject, predicate, object, graphs))

    def dump(self, output: Any = None, format: ox.RdfFormat | None = None, *, from_graph: Any = None,
             prefixes: dict[str, str] | None = None) -> bytes | None:
        """Serialise the published graphs (or ``from_graph``) as ``format``, as ``Store.dump`` does."""
        if format is None:
            raise ValueError("a format is needed")
        if from_graph is not None:
            triples = [quad.triple for quad in self.quads_for_pattern(None, None, None, from_graph)]
            return ox.serialize(triples, output, format, prefixes=prefixes)
        if not format.supports_datasets:
            raise ValueError(f"{format.name} cannot hold a dataset: give from_graph")
        return ox.serialize(list(self.quads_for_pattern(None, None, None)), output, format, prefixes=prefixes)

    # -- inside

    def _dataset(self, union: bool, default_graph: Any, named_graphs: Sequence[Any] | None) -> list[tuple[str, str]]:
        """The Protocol's dataset parameters for the pyoxigraph dataset options (see the module docstring)."""
        if union:
            default = list(self.graphs)
            named = list(self.graphs)
        elif default_graph is not None or named_graphs is not None:
            given = default_graph if isinstance(default_graph, list | tuple) else \
                [] if default_graph is None else [default_graph]
            default = [graph.value for graph in given if isinstance(graph, ox.NamedNode)]
            named = list(self.graphs) if named_graphs is None else \
                [graph.value for graph in named_graphs if isinstance(graph, ox.NamedNode)]
        elif self.for_queries:  # execute() gives no options only to a query with FROM / FROM NAMED
            return []
        else:
            default, named = [], list(self.graphs)
        return ([("default-graph-uri", graph) for graph in default or [EMPTY_GRAPH]]
                + [("named-graph-uri", graph) for graph in named])

    def _graph_quads(self, graph: str) -> list[ox.Quad]:
        """Every triple of ``graph``, with the graph (one ``CONSTRUCT``, read as RDF)."""
        node = ox.NamedNode(graph)
        triples = self.query(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH {node} {{ ?s ?p ?o }} }}",
                             default_graph=[], named_graphs=[node])
        return [ox.Quad(t.subject, t.predicate, t.object, node) for t in triples]  # type: ignore[union-attr]

    def _matching(self, subject: Any, predicate: Any, object: Any, graphs: Iterable[str]) -> list[ox.Quad]:
        """The quads matching a pattern with a bound term (one ``SELECT`` over ``graphs``)."""
        terms = {"s": subject, "p": predicate, "o": object}
        pattern = " ".join(str(term) if term is not None else f"?{name}" for name, term in terms.items())
        wanted = ["?g", *(f"?{name}" for name, term in terms.items() if term is None)]
        nodes = [ox.NamedNode(graph) for graph in graphs]
        solutions = self.query(f"SELECT {' '.join(wanted)} WHERE {{ GRAPH ?g {{ {pattern} }} }}",
                               default_graph=[], named_graphs=nodes)
        return [ox.Quad(*(term if term is not None else row[name] for name, term in terms.items()), row["g"])
                for row in solutions]  # type: ignore[union-attr]

    def _parse(self, body: bytes, content_type: str) -> ox.QuerySolutions | ox.QueryBoolean | list[ox.Triple]:
        media_type = content_type.split(";", 1)[0].strip().lower()
        results_format = ox.QueryResultsFormat.from_media_type(media_type) if media_type else None
        try:
            if results_format is not None:
                parsed = ox.parse_query_results(body, format=results_format)
                if isinstance(parsed, ox.QuerySolutions):
                    for _ in parsed:  # read it whole once, so a bad answer fails here rather than in a caller
                        pass
                    parsed = ox.parse_query_results(body, format=results_format)
                return parsed
            rdf_format = ox.RdfFormat.from_media_type(media_type) if media_type else None
            if rdf_format is not None and not rdf_format.supports_datasets:
                return [quad.triple for quad in ox.parse(body, format=rdf_format)]
        except (SyntaxError, ValueError) as error:
            raise self._failure(RemoteAnswerError("POST", self.endpoint, f"the answer does not parse: {error}")) \
                from None
        shown = body[:200].decode("utf-8", errors="replace")
        raise self._failure(RemoteAnswerError(
            "POST", self.endpoint, f"the answer is {media_type or 'untyped'}, not SPARQL results or RDF: {shown!r}"))

    def _failure(self, error: RemoteError) -> ServiceError | RemoteStoreError:
        return remote_failure(error, deadline_s=self.deadline_s, max_answer_bytes=self.policy.max_answer_bytes,
                              for_queries=self.for_queries)


def remote_failure(error: RemoteError, *, deadline_s: float | None = None, max_answer_bytes: int | None = None,
                   for_queries: bool = False) -> ServiceError | RemoteStoreError:
    """The error for a failed call to the remote store (see the module docstring); the full one, with
    the remote's address, is logged.

    >>> remote_failure(RemoteUnreachable("POST", "http://10.0.0.5/query", "connection refused", 3)).message
    'the remote store cannot be reached: connection refused (after 3 attempts)'
    """
    _log.warning("remote store: %s", error)
    tries = f" (after {error.attempts} attempts)" if error.attempts > 1 else ""
    if isinstance(error, RemoteAnswerTooLarge):
        if for_queries:
            return ServiceError(400, "Result too large", f"the remote store's answer is larger than "
                                f"{max_answer_bytes} bytes; narrow the query or add LIMIT")
        return RemoteStoreError(502, "Remote answer too large",
                                f"the remote store's answer is over {max_answer_bytes} bytes")
    if isinstance(error, RemoteTimeout):
        within = f" within the time limit of {deadline_s:g} s" if deadline_s else ""
        if for_queries:
            return RemoteStoreError(504, "Query timed out", f"the remote store gave no answer{within}, "
                                    "so the query was given up; narrow it or add LIMIT")
        return RemoteStoreError(504, "Remote store timed out", f"the remote store gave no answer{within}{tries}")
    if isinstance(error, RemoteUnreachable):
        return RemoteStoreError(502, "Remote store unreachable",
                                f"the remote store cannot be reached: {error.problem}{tries}")
    if isinstance(error, RemoteStatusError):
        if error.status == 429:
            asked = next((value for name, value in error.headers.items() if name.lower() == "retry-after"), None)
            wait = retry_after_s(asked)
            return RemoteStoreError(503, "Remote store busy", f"the remote store answered {error.problem}{tries}",
                                    retry_after=max(1, math.ceil(wait)) if wait is not None else 5)
        return RemoteStoreError(502, "Remote store failed", f"the remote store answered {error.problem}{tries}")
    return RemoteStoreError(502, "Remote store failed", f"the remote store's answer is wrong: {error.problem}")


def _shift_positions(message: str, lines: int) -> str:
    """``message`` with the line numbers of its positions ``lines`` smaller (the line put before the query).

    >>> _shift_positions("error at 2:9: expected '}'", 1)
    "error at 1:9: expected '}'"
    >>> _shift_positions("Encountered ... at line 3, column 4.", 1)
    'Encountered ... at line 2, column 4.'
    """
    if not lines:
        return message
    return _POSITIONS.sub(lambda match: str(max(1, int(match.group()) - lines)), message)
