"""The guard in front of the endpoint: refuse, before anything is parsed or run, what is unsafe.

Oxigraph follows ``SERVICE <http://...>`` to any host and fetches ``LOAD <http://...>``;
rdflib also fetches ``FROM <http://...>`` and reads ``LOAD <file:...>``. None of that may
happen on a public endpoint (but ``SERVICE`` to an endpoint the operator lists, made through our
relay: :mod:`.federation`), so :func:`check_query` refuses it with the reason. It judges the
one lexical scan of :mod:`.lexer` (strings, IRIs and comments skipped; prefixed names, blank
node labels, variables and language tags never keywords), which the caller may have made
already. The rules, in the order they are checked (keywords and dataset clauses in the order
they appear in the text):

================================================================  ======
the text is larger than ``max_bytes`` (UTF-8)                      413
it nests ``(``, ``{`` or ``[`` more than :data:`MAX_NESTING` deep  400
``SERVICE`` to an endpoint not listed in ``AIWF_SERVICE_ALLOW``    400
(none is listed by default), with a variable, or in an update
``LOAD`` anywhere (even on the update route)                       400
an update keyword (:data:`~.lexer.UPDATE_KEYWORDS`: ``INSERT``,    400
``DELETE``, ``WITH``...) in a query (not a query; the protocol
layer answers 403 to update *operations*)
``FROM`` / ``FROM NAMED`` (or, in an update, ``USING`` /           400
``USING NAMED``) naming an IRI that is not a graph of the store
================================================================  ======

:func:`check_dataset` applies the last rule to the protocol's ``default-graph-uri`` and
``named-graph-uri`` parameters. The graphs of the store are the ones the caller passes as
``allowed_graphs`` (the query workers pass the named graphs of the store they run on, plus
the project's), else the project's graphs ``{base}/id/graph/{name}`` for the names in
:data:`~nhs_ai_workforce.core.namespaces.ALL_GRAPHS` under ``settings.base`` (an imported
classification's graph is allowed before it is imported: it is empty). Without either,
:func:`check_query` leaves ``FROM`` to the executor, which checks it against the store
before running the query (:mod:`.pool`). Neither Oxigraph nor this code ever dereferences
a graph name, so an IRI that is refused is never fetched.

Nesting: Oxigraph's query parser is recursive, and a deeply nested query overflows its stack
and kills the process (a segmentation fault, not an exception). Measured with pyoxigraph
0.5.13 on the 8 MB main-thread stack: ``SELECT * {{{...}}}`` crashes from 2,194 nested
groups (2,187 still parse); nested parentheses in a ``FILTER`` crash from 4,671 (4,663
parse). Nested blank-node property lists (``[ ?p [ ?p ... ] ]``) do not crash but take
polynomial time: 0.7 s at 64 levels, 4 s at 100, 83 s at 200. Real queries rarely nest more
than ten levels, so the limit of 64 leaves a wide margin below every crash. Long flat chains
(``?a + ?a + ...``, ``{} UNION {} ...``, ``!!!...``) can overflow the stack too; the query
workers (:mod:`.pool`) run queries on a 512 MB stack, where each such chain we measured
at the default request-size limit (256 KB) parses, and a process that crashes all the same is
replaced.

The scan is lexical, not a parse: a malformed query that passes is left to Oxigraph's parser,
which reports it with its line and column.

``SERVICE`` is judged with the query text (:mod:`.federation`), so :func:`check_query`
names the endpoint and says how it may be allowed; the policy is the ``services`` passed, else
the one the web app made active for the request (none listed outside one). :func:`check_lexed`
alone has no text and refuses every ``SERVICE`` it sees: the federated executor leaves the
checked ones out of the scan it hands on (:mod:`.federated`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace

from ..core.errors import ServiceError
from ..core.graphs import store_graphs
from ..core.settings import Settings
from .federation import ServicePolicy, active, service_clauses
from .lexer import UPDATE_KEYWORDS, DatasetClause, Lexed, lex

__all__ = [
    "MAX_NESTING",
    "UPDATE_KEYWORDS",
    "QueryRefused",
    "check_dataset",
    "check_lexed",
    "check_query",
    "check_size",
]

#: The deepest nesting of ``(``, ``{`` and ``[`` a query may have.
MAX_NESTING = 64


class QueryRefused(ServiceError):
    """A query or update the endpoint will not run: a :class:`ServiceError` (400 unless said)."""

    def __init__(self, message: str, status: int = 400, title: str = "Query refused") -> None:
        super().__init__(status, title, message)

    def __reduce__(self):  # keep status and title across processes
        return (type(self), (self.message, self.status, self.title))


def check_query(
    text: str,
    *,
    max_bytes: int,
    settings: Settings | None = None,
    update: bool = False,
    allowed_graphs: Iterable[str] | None = None,
    lexed: Lexed | None = None,
    prefixes: Mapping[str, str] | None = None,
    services: ServicePolicy | None = None,
) -> Lexed:
    """Refuse ``text`` if it breaks a rule of the module docstring; return its scan otherwise.

    :param settings: the project's graphs under ``settings.base`` are those ``FROM`` may name.
    :param update: ``text`` is an update for the update route: update keywords are allowed
        (``LOAD`` and ``SERVICE`` never are) and ``USING`` is checked like ``FROM``.
    :param allowed_graphs: the graphs ``FROM`` / ``USING`` may name (instead of the
        project's). With neither this nor ``settings``, ``FROM`` is not checked here.
    :param lexed: ``lex(text)``, if the caller has it (the text is then not scanned again).
    :param prefixes: the prefixes predeclared for every query (the project's, as the executor
        passes them to Oxigraph): ``FROM graph:links`` is read with them unless the query
        declares ``graph:`` itself.
    :param services: the endpoints ``SERVICE`` may call (default: the active policy,
        :func:`.federation.active`). A query whose every ``SERVICE`` is allowed comes back
        marked volatile: its answer depends on another server, so it is never reused.
    :raises QueryRefused: with the reason and an HTTP status.

    >>> check_query("SELECT ?service { ?service a <http://example.org/SERVICE> }", max_bytes=1000).form
    'SELECT'
    >>> check_query("SELECT * { SERVICE <http://example.org/> { ?s ?p ?o } }", max_bytes=1000)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    nhs_ai_workforce.sparql.guard.QueryRefused: Query refused: SERVICE is not allowed: <http://example.org/> ...
    """
    check_size(text, max_bytes)
    lexed = lexed or lex(text, prefixes)
    judged = None
    if not update and any(keyword == "SERVICE" for keyword, _ in lexed.keywords):
        policy = services or active()
        judged = {offset: policy.refusal(clause) for offset, clause in service_clauses(text, lexed, prefixes).items()}
    check_lexed(lexed, settings=settings, update=update, allowed_graphs=allowed_graphs, _services=judged)
    return replace(lexed, volatile=True) if judged else lexed


def check_size(text: str, max_bytes: int) -> None:
    """The first rule, before anything scans the text: 413 over ``max_bytes`` (UTF-8)."""
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        raise QueryRefused(f"the query is {size} bytes; the limit is {max_bytes}", 413, "Query too large")


def check_lexed(
    lexed: Lexed,
    *,
    settings: Settings | None = None,
    update: bool = False,
    allowed_graphs: Iterable[str] | None = None,
    _services: Mapping[int, str | None] | None = None,
) -> None:
    """The rules after the size, judged on a scan (the parameters are those of :func:`check_query`).

    ``_services`` maps the offset of each ``SERVICE`` keyword to why it is refused (``None``:
    allowed), as :func:`check_query` judged it; a ``SERVICE`` not in it is refused.
    """
    if lexed.depth > MAX_NESTING:
        raise QueryRefused(
            f"the query nests {lexed.depth} levels deep; the limit is {MAX_NESTING}. "
            "Flatten the nested groups, brackets or parentheses",
            title="Query too deeply nested",
        )
    if allowed_graphs is not None:
        allowed: frozenset[str] | None = frozenset(allowed_graphs)
    else:
        allowed = store_graphs(settings) if settings is not None else None
    dataset_keyword = "USING" if update else "FROM"
    clauses = [clause for clause in lexed.datasets if clause.keyword.split()[0] == dataset_keyword]
    marks = sorted([*((offset, keyword) for keyword, offset in lexed.keywords),
                    *((clause.offset, clause) for clause in clauses if allowed is not None)],
                   key=lambda mark: mark[0])
    for offset, mark in marks:
        if isinstance(mark, DatasetClause):
            _check_dataset_clause(mark, allowed)
        elif mark == "SERVICE" and _services is not None and offset in _services:
            if _services[offset] is not None:
                raise QueryRefused(_services[offset])
        else:
            _check_keyword(mark, update)


def _check_keyword(keyword: str, update: bool) -> None:
    if keyword == "SERVICE":
        where = "in an update" if update else "here"
        raise QueryRefused(
            f"SERVICE is not allowed {where}: queries cannot reach other endpoints unless the operator lists "
            "them in AIWF_SERVICE_ALLOW, and updates never can"
        )
    if keyword == "LOAD":
        raise QueryRefused("LOAD is not allowed: the endpoint never fetches data from other hosts or files")
    if keyword in UPDATE_KEYWORDS and not update:
        raise QueryRefused(
            f"{keyword} is SPARQL Update and this endpoint is read-only: it runs queries only "
            "(an update sent as an update operation gets 403)",
            title="Not a query",
        )


def _check_dataset_clause(clause: DatasetClause, allowed: frozenset[str]) -> None:
    """``FROM [NAMED] <iri>`` / ``USING [NAMED] <iri>`` must name a graph of the store."""
    if clause.iri is None:
        raise QueryRefused(f"{clause.keyword} {clause.written} uses an undeclared prefix")
    if clause.iri not in allowed:
        raise QueryRefused(f"{clause.keyword} <{clause.iri}> {_not_in_store(allowed)}")


def _not_in_store(allowed: frozenset[str]) -> str:
    names = sorted(allowed)
    shown = ", ".join(names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")
    return f"is not a graph of this store; queries cannot read other hosts or files. The graphs are: {shown}"


def check_dataset(
    default_graphs: Iterable[str],
    named_graphs: Iterable[str],
    settings: Settings | None = None,
    *,
    allowed_graphs: Iterable[str] | None = None,
) -> None:
    """Refuse ``default-graph-uri`` / ``named-graph-uri`` values that are not graphs of the store.

    The graphs of the store are ``allowed_graphs`` if given, else the project's graphs under
    ``settings.base`` (the default base without settings).

    :raises QueryRefused: 400, naming the parameter and the IRI.

    >>> check_dataset(["https://nhs-ai-workforce.example.org/id/graph/background"], [])
    >>> check_dataset([], ["file:///etc/passwd"])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    nhs_ai_workforce.sparql.guard.QueryRefused: Query refused: named-graph-uri=<file:///etc/passwd> ...
    """
    allowed = frozenset(allowed_graphs) if allowed_graphs is not None else store_graphs(settings)
    for parameter, values in (("default-graph-uri", default_graphs), ("named-graph-uri", named_graphs)):
        for value in values:
            if value not in allowed:
                raise QueryRefused(f"{parameter}=<{value}> {_not_in_store(allowed)}")
