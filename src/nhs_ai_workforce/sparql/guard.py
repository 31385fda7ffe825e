"""The guard in front of the endpoint: refuse, before anything is parsed or run, what is unsafe.

Oxigraph follows ``SERVICE <http://...>`` to any host and fetches ``LOAD <http://...>``;
rdflib also fetches ``FROM <http://...>`` and reads ``LOAD <file:...>``. None of that may
happen on a public endpoint, so :func:`check_query` refuses it with the reason. The query is
scanned as tokens: strings, IRIs and comments are skipped, and prefixed names (``ex:service``),
blank node labels (``_:load``), variables (``?service``) and language tags (``@add``) are never
keywords. The rules, in the order they are checked:

================================================================  ======
the text is larger than ``max_bytes`` (UTF-8)                      413
it nests ``(``, ``{`` or ``[`` more than :data:`MAX_NESTING` deep  400
``SERVICE`` anywhere                                               400
``LOAD`` anywhere (even on the update route)                       400
an update keyword (``INSERT``, ``DELETE``, ``CLEAR``, ``DROP``,    400
``CREATE``, ``ADD``, ``MOVE``, ``COPY``) in a query (not a query;
the protocol layer answers 403 to update *operations*)
``FROM`` / ``FROM NAMED`` (or, in an update, ``USING`` /           400
``USING NAMED``) naming an IRI that is not a graph of the store
================================================================  ======

:func:`check_dataset` applies the last rule to the protocol's ``default-graph-uri`` and
``named-graph-uri`` parameters. The graphs of the store are the ones the caller passes as
``allowed_graphs`` (the query workers pass the named graphs of the store they run on, plus
the project's), else the project's graphs ``{base}/id/graph/{name}`` for the names in
:data:`~nhs_ai_workforce.core.namespaces.GRAPHS` under ``settings.base``. Without either,
:func:`check_query` leaves ``FROM`` to the executor, which checks it against the store
before running the query (:mod:`.workers`). Neither Oxigraph nor this code ever dereferences
a graph name, so an IRI that is refused is never fetched.

Nesting: Oxigraph's query parser is recursive, and a deeply nested query overflows its stack
and kills the process (a segmentation fault, not an exception). Measured with pyoxigraph
0.5.13 on the 8 MB main-thread stack: ``SELECT * {{{...}}}`` crashes from 2,194 nested
groups (2,187 still parse); nested parentheses in a ``FILTER`` crash from 4,671 (4,663
parse). Nested blank-node property lists (``[ ?p [ ?p ... ] ]``) do not crash but take
polynomial time: 0.7 s at 64 levels, 4 s at 100, 83 s at 200. Real queries rarely nest more
than ten levels, so the limit of 64 leaves a wide margin below every crash. Long flat chains
(``?a + ?a + ...``, ``{} UNION {} ...``, ``!!!...``) can overflow the stack too; the query
workers (:mod:`.workers`) run queries on a 512 MB stack, where each such chain we measured
at the default request-size limit (256 KB) parses, and a process that crashes all the same is
replaced.

The scan is lexical, not a parse: a malformed query that passes is left to Oxigraph's parser,
which reports it with its line and column.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from urllib.parse import urljoin

from ..core.errors import ServiceError
from ..core.namespaces import GRAPHS
from ..core.settings import DEFAULT_BASE, Settings

__all__ = ["MAX_NESTING", "UPDATE_KEYWORDS", "QueryRefused", "check_dataset", "check_query", "store_graphs"]

#: The deepest nesting of ``(``, ``{`` and ``[`` a query may have.
MAX_NESTING = 64

#: Keywords that only appear in SPARQL Update (``LOAD`` has its own rule).
UPDATE_KEYWORDS = frozenset({"INSERT", "DELETE", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY"})

# One alternative per token kind; the first that matches at a position wins.
_TOKEN = re.compile(
    r'(?P<skip>"""(?:[^"\\]|\\.|"(?!""))*"""'  # long strings
    r"|'''(?:[^'\\]|\\.|'(?!''))*'''"
    r'|"(?:[^"\\\n\r]|\\.)*"'  # short strings
    r"|'(?:[^'\\\n\r]|\\.)*'"
    r"|\#[^\n\r]*"  # comments
    r"|[?$][\w\u00B7\u0300-\u036F\u203F-\u2040]*"  # variables
    r"|@[A-Za-z]+(?:-[A-Za-z0-9]+)*"  # language tags
    r"|\^\^"  # datatype marker
    r"|\s+)"
    r"|(?P<iri><[^<>\"{}|^`\\\x00-\x20]*>)"  # IRIs (no spaces, so never a '<' comparison)
    r"|(?P<pname>(?:[^\W\d][\w.\-\u00B7]*)?:(?:[\w\-.:%\u00B7]|\\[^\s])*)"  # ex:a, :a, _:b
    r"|(?P<number>\d*\.?\d+(?:[eE][+-]?\d+)?)"
    r"|(?P<word>[^\W\d]\w*)"
    r"|(?P<open>[({\[])"
    r"|(?P<close>[)}\]])"
    r"|(?P<other>.)",
    re.DOTALL,
)


class QueryRefused(ServiceError):
    """A query or update the endpoint will not run: a :class:`ServiceError` (400 unless said)."""

    def __init__(self, message: str, status: int = 400, title: str = "Query refused") -> None:
        super().__init__(status, title, message)

    def __reduce__(self):  # keep status and title across processes
        return (type(self), (self.message, self.status, self.title))


def store_graphs(settings: Settings | None = None) -> frozenset[str]:
    """The IRIs of the store's named graphs, ``{base}/id/graph/{name}``.

    >>> sorted(store_graphs(Settings(base="http://example.org")))[0]
    'http://example.org/id/graph/background'
    """
    base = (settings.base if settings else DEFAULT_BASE).rstrip("/")
    return frozenset(f"{base}/id/graph/{name}" for name in GRAPHS)


def _tokens(text: str) -> Iterator[tuple[str, str]]:
    """``(kind, text)`` for every significant token: iri, pname, word, open, close, other."""
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup
        if kind not in ("skip", "number"):
            yield kind, match.group()


def _expand(kind: str, value: str, prefixes: dict[str, str], base: str | None) -> str | None:
    """The absolute IRI an ``iri`` or ``pname`` token stands for, or ``None`` if unknown."""
    if kind == "iri":
        iri = value[1:-1]
        return urljoin(base, iri) if base else iri
    if kind == "pname":
        prefix, _, local = value.partition(":")
        namespace = prefixes.get(prefix)
        return None if namespace is None else namespace + re.sub(r"\\(.)", r"\1", local)
    return None


def check_query(
    text: str,
    *,
    max_bytes: int,
    settings: Settings | None = None,
    update: bool = False,
    allowed_graphs: Iterable[str] | None = None,
) -> None:
    """Refuse ``text`` if it breaks a rule of the module docstring; return quietly otherwise.

    :param settings: the project's graphs under ``settings.base`` are those ``FROM`` may name.
    :param update: ``text`` is an update for the update route: update keywords are allowed
        (``LOAD`` and ``SERVICE`` never are) and ``USING`` is checked like ``FROM``.
    :param allowed_graphs: the graphs ``FROM`` / ``USING`` may name (instead of the
        project's). With neither this nor ``settings``, ``FROM`` is not checked here.
    :raises QueryRefused: with the reason and an HTTP status.

    >>> check_query("SELECT ?service { ?service a <http://example.org/SERVICE> }", max_bytes=1000)
    >>> check_query("SELECT * { SERVICE <http://example.org/> { ?s ?p ?o } }", max_bytes=1000)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    nhs_ai_workforce.sparql.guard.QueryRefused: Query refused: SERVICE is not allowed: ...
    """
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        raise QueryRefused(f"the query is {size} bytes; the limit is {max_bytes}", 413, "Query too large")
    tokens = list(_tokens(text))
    _check_nesting(tokens)
    if allowed_graphs is not None:
        allowed: frozenset[str] | None = frozenset(allowed_graphs)
    else:
        allowed = store_graphs(settings) if settings is not None else None
    prefixes: dict[str, str] = {}
    base: str | None = None
    dataset_keyword = "USING" if update else "FROM"
    for index, (kind, value) in enumerate(tokens):
        if kind != "word":
            continue
        keyword = value.upper()
        if keyword == "SERVICE":
            raise QueryRefused(
                "SERVICE is not allowed: queries cannot reach other endpoints (federated queries are refused)"
            )
        if keyword == "LOAD":
            raise QueryRefused("LOAD is not allowed: the endpoint never fetches data from other hosts or files")
        if keyword in UPDATE_KEYWORDS and not update:
            raise QueryRefused(
                f"{keyword} is SPARQL Update and this endpoint is read-only: it runs queries only "
                "(an update sent as an update operation gets 403)",
                title="Not a query",
            )
        if keyword in ("PREFIX", "BASE"):
            base, prefixes = _declare(keyword, tokens, index, base, prefixes)
        elif keyword == dataset_keyword and allowed is not None:
            _check_dataset_clause(tokens, index, prefixes, base, allowed, keyword)


def _declare(
    keyword: str, tokens: list[tuple[str, str]], index: int, base: str | None, prefixes: dict[str, str]
) -> tuple[str | None, dict[str, str]]:
    """Record a ``PREFIX`` or ``BASE`` declaration (malformed ones are left to the parser)."""
    following = tokens[index + 1 : index + 3]
    if keyword == "BASE" and following and following[0][0] == "iri":
        base = _expand("iri", following[0][1], {}, base)
    elif keyword == "PREFIX" and len(following) == 2 and following[0][0] == "pname" and following[1][0] == "iri":
        name = following[0][1]
        if name.endswith(":") and name.count(":") == 1:
            prefixes = {**prefixes, name[:-1]: _expand("iri", following[1][1], {}, base) or ""}
    return base, prefixes


def _check_dataset_clause(
    tokens: list[tuple[str, str]],
    index: int,
    prefixes: dict[str, str],
    base: str | None,
    allowed: frozenset[str],
    keyword: str,
) -> None:
    """``FROM [NAMED] <iri>`` / ``USING [NAMED] <iri>`` must name a graph of the store."""
    position = index + 1
    clause = keyword
    if position < len(tokens) and tokens[position][0] == "word" and tokens[position][1].upper() == "NAMED":
        clause += " NAMED"
        position += 1
    if position >= len(tokens) or tokens[position][0] not in ("iri", "pname"):
        return  # not a dataset clause the parser will accept; it reports the error
    kind, value = tokens[position]
    iri = _expand(kind, value, prefixes, base)
    if iri is None:
        raise QueryRefused(f"{clause} {value} uses an undeclared prefix")
    if iri not in allowed:
        raise QueryRefused(f"{clause} <{iri}> {_not_in_store(allowed)}")


def _not_in_store(allowed: frozenset[str]) -> str:
    names = sorted(allowed)
    shown = ", ".join(names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")
    return f"is not a graph of this store; queries cannot read other hosts or files. The graphs are: {shown}"


def _check_nesting(tokens: list[tuple[str, str]]) -> None:
    depth = deepest = 0
    for kind, _ in tokens:
        if kind == "open":
            depth += 1
            deepest = max(deepest, depth)
        elif kind == "close":
            depth = max(depth - 1, 0)
    if deepest > MAX_NESTING:
        raise QueryRefused(
            f"the query nests {deepest} levels deep; the limit is {MAX_NESTING}. "
            "Flatten the nested groups, brackets or parentheses",
            title="Query too deeply nested",
        )


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
