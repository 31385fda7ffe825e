"""Running one protocol query natively in Oxigraph and writing it with Oxigraph's serialisers.

The web layer builds a :class:`QueryJob` (the query text, the negotiated media type and the
protocol's dataset) and hands it to an executor's ``run``. :class:`InProcessExecutor` runs it
in the calling thread; a pooled executor may run the same :func:`execute` in a worker process
that can be killed. Every refusal is a :class:`~.errors.ServiceError`.

The dataset a query sees:

- with ``default-graph-uri`` / ``named-graph-uri`` (the protocol's dataset), exactly those
  graphs: the default graph is the merge of the ``default-graph-uri`` graphs (empty if there
  are none) and ``GRAPH`` sees only the ``named-graph-uri`` graphs (none if there are none);
  a ``FROM`` / ``FROM NAMED`` in the query is then ignored, as the protocol requires;
- else, if the query has ``FROM`` / ``FROM NAMED``, the dataset the query describes;
- else the default graph is the union of all named graphs, and ``GRAPH`` sees every graph.

Prefixes: a job's ``prefixes`` (the project's, ``aiwf:``, ``initiative:``, ``dcterms:``...) are
predeclared, so a query may use them without ``PREFIX`` lines, as in the CLI and the Wikidata
Query Service; a query's own ``PREFIX`` of the same name wins (Oxigraph gives the query's
prologue precedence over predeclared prefixes).

Oxigraph's union is a multiset: a triple stored in two graphs matches twice (the build keeps
each triple in one graph, so this does not arise in the published data).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import pyoxigraph as ox

from ..core.errors import BadRequest, ServiceError, Unavailable
from ..core.settings import Settings
from ..store.live import StoreError
from .lexer import Lexed, lex
from .negotiation import GRAPH_TYPES, SOLUTION_TYPES

__all__ = [
    "RESULT_TOO_LARGE_STATUS",
    "Executor",
    "InProcessExecutor",
    "QueryJob",
    "QueryOutcome",
    "dataset_options",
    "execute",
]

#: A result over the byte limit is the query's fault (too broad), so a 4xx: 400, not 413
#: (which RFC 9110 reserves for oversize *request* content) and not 5xx (nothing failed).
RESULT_TOO_LARGE_STATUS = 400

#: Oxigraph's message for a call of a function IRI it does not implement.
_UNKNOWN_FUNCTION = re.compile(r"custom function .* is not supported", re.IGNORECASE)


@dataclass(frozen=True)
class QueryJob:
    """One query to run: its text, the media type to write and the protocol's dataset (IRIs).

    ``base_iri`` resolves relative IRIs in the query (the protocol lets the service choose
    it; the endpoint passes its own URL). ``lexed`` is the text's scan (:func:`.lexer.lex`)
    when the caller has made it, so no executor scans the text again; without it the
    executor scans the text once itself.
    """

    text: str
    media_type: str
    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()
    base_iri: str | None = None
    lexed: Lexed | None = field(default=None, compare=False, repr=False)
    #: Who asked (the client address), so a pool can share its slots fairly; ``None``: anonymous.
    client: str | None = field(default=None, compare=False)
    #: The prefixes predeclared for the query (the query's own ``PREFIX`` wins); lex the text
    #: with the same ones (:func:`.lexer.lex`) so ``FROM`` prefixed names expand alike. The
    #: endpoint sends only those the text uses (:meth:`.lexer.Lexed.predeclared_used`).
    prefixes: dict[str, str] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class QueryOutcome:
    """A serialised result and its media type.

    ``build`` is the build the query ran on, when the executor knows it (the query processes
    say): only then may the answer be kept for the next identical request. ``sha256`` (of
    ``body``) and ``cache`` (how the answer cache served it: ``hit``, ``stored``, ``miss`` or
    ``bypass``) are set by the endpoint (:mod:`nhs_ai_workforce.web.sparql`). Outcomes are equal
    when their bytes and media type are.
    """

    body: bytes
    media_type: str
    build: str | None = field(default=None, compare=False)
    sha256: str | None = field(default=None, compare=False)
    cache: str | None = field(default=None, compare=False)


def job_message(job: QueryJob) -> tuple:
    """``job`` as it goes down a query process's pipe (:func:`job_from_message` reads it): plain
    tuples pickle there and back in a tenth of the time the dataclasses take (0.8 against 8.5
    microseconds for a 1.2 KB query). Of the scan, what the query process reads: the form, the
    nesting, the dataset clauses and the watched keywords."""
    lexed = job.lexed
    scan = None if lexed is None else (lexed.form, lexed.depth, lexed.datasets, lexed.keywords)
    return job.text, job.media_type, job.default_graphs, job.named_graphs, job.base_iri, job.client, job.prefixes, scan


def job_from_message(message: tuple) -> QueryJob:
    """The job :func:`job_message` wrote.

    >>> job = QueryJob("ASK {}", "text/csv", lexed=lex("ASK {}"), client="192.0.2.7", prefixes={"ex": "urn:x:"})
    >>> back = job_from_message(job_message(job))
    >>> back == job, back.client, back.prefixes, back.lexed.form
    (True, '192.0.2.7', {'ex': 'urn:x:'}, 'ASK')
    """
    text, media_type, default_graphs, named_graphs, base_iri, client, prefixes, scan = message
    lexed = None
    if scan is not None:
        form, depth, datasets, keywords = scan
        lexed = Lexed(form, depth=depth, datasets=datasets, keywords=keywords)
    return QueryJob(text, media_type, default_graphs, named_graphs, base_iri, lexed=lexed, client=client,
                    prefixes=prefixes)


def outcome_message(outcome: QueryOutcome, build: str | None) -> tuple[bytes, str, str | None]:
    """``outcome`` of a query run on ``build``, as it goes back up the pipe (:class:`QueryOutcome` reads it)."""
    return outcome.body, outcome.media_type, build


class Executor(Protocol):
    """Anything that runs a :class:`QueryJob`; raises only :class:`ServiceError`."""

    def run(self, job: QueryJob) -> QueryOutcome: ...


# -- execution ---------------------------------------------------------------------------


class _ResultTooLarge(Exception):
    """Raised from inside a serialiser when the output passes the byte limit."""


class _CappedBuffer:
    """A binary sink for Oxigraph's serialisers that stops them at ``limit`` bytes."""

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self.parts: list[bytes] = []
        self.size = 0

    def write(self, data: bytes) -> int:
        self.size += len(data)
        if self.limit is not None and self.size > self.limit:
            raise _ResultTooLarge
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        """Serialisers may flush; everything is already in memory."""

    def getvalue(self) -> bytes:
        return b"".join(self.parts)


def _iris(values: tuple[str, ...], parameter: str) -> list[ox.NamedNode]:
    nodes = []
    for value in values:
        try:
            nodes.append(ox.NamedNode(value))
        except ValueError as error:
            raise ServiceError(400, "Bad graph IRI", f"{parameter}={value!r} is not an absolute IRI: {error}") from None
    return nodes


def dataset_options(job: QueryJob) -> dict[str, object]:
    """The dataset keywords for ``Store.query`` (see the module docstring).

    >>> dataset_options(QueryJob("ASK {}", "application/sparql-results+json"))
    {'use_default_graph_as_union': True}
    >>> dataset_options(QueryJob("ASK {}", "text/csv", named_graphs=("http://example.org/g",)))
    {'default_graph': [], 'named_graphs': [<NamedNode value=http://example.org/g>]}
    """
    if job.default_graphs or job.named_graphs:
        return {
            "default_graph": _iris(job.default_graphs, "default-graph-uri"),
            "named_graphs": _iris(job.named_graphs, "named-graph-uri"),
        }
    if (job.lexed or lex(job.text, job.prefixes)).has_dataset:
        return {}
    return {"use_default_graph_as_union": True}


def execute(store: ox.Store, job: QueryJob, *, result_limit_bytes: int | None = None) -> QueryOutcome:
    """Run ``job`` in Oxigraph and serialise the result with Oxigraph into ``job.media_type``.

    ``store`` may be a :class:`~nhs_ai_workforce.store.remote_store.RemoteStore`: the remote runs
    the query, and its answer is written here as the embedded store's would be.

    :raises StoreError: when the store fails (a remote one that cannot be reached, for instance).
    :raises ServiceError: 400 for a malformed query (with its line and column), a bad graph
        IRI or a query Oxigraph cannot evaluate (an unknown function);
        :data:`RESULT_TOO_LARGE_STATUS` when the result passes ``result_limit_bytes``;
        500 if the media type does not suit the result (a bug in the caller).

    >>> store = ox.Store()
    >>> execute(store, QueryJob("ASK {}", "application/sparql-results+json")).body
    b'{"head":{},"boolean":true}'
    >>> execute(store, QueryJob("ASK { VALUES ?x { ex:a } FILTER(?x = <urn:x:a>) }",
    ...                         "application/sparql-results+json", prefixes={"ex": "urn:x:"})).body
    b'{"head":{},"boolean":true}'
    """
    try:
        result = store.query(job.text, base_iri=job.base_iri, prefixes=job.prefixes or None, **dataset_options(job))
    except SyntaxError as error:
        raise ServiceError.from_syntax_error(error) from None
    except StoreError:  # the store failed (a remote store's failures say their status): not the query's fault
        raise
    except RuntimeError as error:  # Oxigraph refuses a well-formed query it cannot evaluate
        raise _unevaluable(error) from None
    buffer = _CappedBuffer(result_limit_bytes)
    try:
        if not isinstance(result, ox.QuerySolutions | ox.QueryBoolean):  # triples (a remote store's: a list)
            rdf_format = GRAPH_TYPES.get(job.media_type)
            if rdf_format is None:
                raise _wrong_type(job.media_type, "a graph (CONSTRUCT or DESCRIBE)")
            ox.serialize(_as_quads(result) if rdf_format.supports_datasets else result, buffer, format=rdf_format)
        else:
            results_format = SOLUTION_TYPES.get(job.media_type)
            if results_format is None:
                raise _wrong_type(job.media_type, "solutions or a boolean (SELECT or ASK)")
            result.serialize(buffer, format=results_format)
    except RuntimeError as error:  # raised while the (lazy) evaluation runs
        raise _unevaluable(error) from None
    except _ResultTooLarge:
        raise ServiceError(
            RESULT_TOO_LARGE_STATUS,
            "Result too large",
            f"the result is larger than the limit of {result_limit_bytes} bytes; "
            "narrow the query or add LIMIT",
        ) from None
    return QueryOutcome(buffer.getvalue(), job.media_type)


def _as_quads(triples: ox.QueryTriples):
    """TriG and N-Quads write quads: the result's triples go in the default graph."""
    return (ox.Quad(t.subject, t.predicate, t.object) for t in triples)


def _unevaluable(error: RuntimeError) -> BadRequest:
    """A 400 for Oxigraph's evaluation refusals (``RuntimeError``): the query is well formed but
    asks for something Oxigraph does not do, such as calling a function it does not know.

    >>> _unevaluable(RuntimeError("The custom function <urn:f> is not supported")).title
    'Unsupported function'
    """
    message = str(error) or type(error).__name__
    if _UNKNOWN_FUNCTION.search(message):
        return BadRequest(
            f"{message}; only the SPARQL 1.1 built-in functions and XSD casts can be called", "Unsupported function"
        )
    return BadRequest(f"the query cannot be evaluated: {message}", "Query not evaluable")


def _wrong_type(media_type: str, kind: str) -> ServiceError:
    return ServiceError(500, "Internal error", f"{media_type} cannot carry {kind}; this is a bug in the endpoint")


class InProcessExecutor:
    """Runs queries in the calling thread against the store ``store_provider`` returns.

    The default executor; it has no time limit of its own (pyoxigraph cannot cancel a query),
    so a public server should use one that runs queries in a process it can kill.
    """

    def __init__(
        self,
        settings: Settings,
        store_provider: Callable[[], ox.Store],
        *,
        result_limit_bytes: int | None = None,
    ) -> None:
        self.settings = settings
        self.store_provider = store_provider
        self.result_limit_bytes = result_limit_bytes

    def run(self, job: QueryJob) -> QueryOutcome:
        """Run one job; every failure is a :class:`ServiceError` (503 when there is no store)."""
        try:
            store = self.store_provider()
        except StoreError as error:
            raise Unavailable(str(error)) from None
        return execute(store, job, result_limit_bytes=self.result_limit_bytes)
