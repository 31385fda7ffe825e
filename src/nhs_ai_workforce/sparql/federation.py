"""Federated queries: the endpoints ``SERVICE`` may call, and each ``SERVICE`` clause of a query.

A query may call another SPARQL endpoint only if the operator lists it in ``AIWF_SERVICE_ALLOW``
(comma- or space-separated endpoint IRIs; empty by default, and then every ``SERVICE`` is
refused). The rules, judged on the query text before anything runs (:mod:`.guard`):

- ``SERVICE <iri>`` (or a prefixed name) is allowed only if the IRI, normalised (scheme and
  host in lower case, no default port, an empty path made ``/``), equals a listed endpoint;
  the path, query string and fragment must match exactly;
- ``SERVICE ?var`` is refused: the endpoint must be written in the query;
- ``SERVICE SILENT`` to an endpoint that is not listed is refused like any other (``SILENT``
  only lets a *listed* endpoint's failure leave the pattern empty);
- ``SERVICE`` in an update is always refused;
- a ``SERVICE`` nested in another's pattern is judged the same way, though it is never called
  from here: Oxigraph sends it, as written, to the outer endpoint, which runs it (Wikidata's
  ``SERVICE wikibase:label``, listed as ``http://wikiba.se/ontology#label``).

Oxigraph would call an allowed endpoint with its own HTTP client, which has none of our
limits, so it never sees the endpoint's address: the executor (:mod:`.federated`) rewrites each
allowed IRI to a loopback address of this server process's relay (:mod:`.relay`), which makes
the call itself with a time and size limit, no redirects and bounded retries.

The policy of the request being served is held in a context variable (:func:`activate`), set
by the web app for each request, so the guard sees it wherever it is called from; nothing
else sets it, so any other caller gets the default: no endpoint is listed.

>>> policy = ServicePolicy(("https://query.wikidata.org/sparql",))
>>> text = "SELECT * { SERVICE <HTTPS://Query.Wikidata.org:443/sparql> { ?s ?p ?o } }"
>>> [policy.refusal(clause) for clause in service_clauses(text).values()]
[None]
"""

from __future__ import annotations

import contextvars
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from ..core.settings import Settings
from .lexer import Lexed, expand_token, lex

__all__ = [
    "MAX_CALLS",
    "ServiceClause",
    "ServicePolicy",
    "activate",
    "active",
    "deactivate",
    "normalise",
    "rewrite",
    "service_clauses",
]

#: Different calls one query may make to SERVICE endpoints (a repeated call is answered once).
MAX_CALLS = 20

_DEFAULT_PORTS = {"http": 80, "https": 443}
_SKIP = r"(?:\s+|\#[^\n\r]*)*"  # spaces and comments
_TARGET = re.compile(
    _SKIP + r"(?:(?P<silent>SILENT)(?![\w:.\-])" + _SKIP + r")?"
    r"(?:(?P<iri><[^<>\"{}|^`\\\x00-\x20]*>)"
    r"|(?P<var>[?$][\w\u00B7\u0300-\u036F\u203F-\u2040]+)"
    r"|(?P<pname>(?:[^\W\d][\w.\-\u00B7]*)?:(?:[\w\-.:%\u00B7]|\\[^\s])*))",
    re.IGNORECASE,
)
_SETTING = "AIWF_SERVICE_ALLOW"


def normalise(iri: str) -> str | None:
    """The IRI an allow-list entry and a ``SERVICE`` IRI are compared by; ``None`` if it cannot be called.

    Only absolute ``http`` and ``https`` IRIs with a host and no user name qualify. A fragment is
    kept (``http://wikiba.se/ontology#label`` names Wikidata's label service, not an address).

    >>> normalise("HTTPS://Statistics.Data.gov.uk:443/sparql"), normalise("http://127.0.0.1:8080")
    ('https://statistics.data.gov.uk/sparql', 'http://127.0.0.1:8080/')
    >>> normalise("file:///etc/passwd"), normalise("sparql"), normalise("http://ann@x.org/")
    (None, None, None)
    """
    try:
        parts = urlsplit(iri)
        port = parts.port
    except ValueError:
        return None
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if scheme not in _DEFAULT_PORTS or not host or parts.username is not None:
        return None
    if ":" in host:  # an IPv6 address
        host = f"[{host}]"
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, parts.fragment))


@dataclass(frozen=True)
class ServiceClause:
    """One ``SERVICE`` keyword and its endpoint as the text has them.

    ``start`` and ``end`` delimit the endpoint (IRI, prefixed name or variable) in the text;
    ``iri`` is it expanded and made absolute (``None`` for a variable, an undeclared prefix or
    a relative IRI without ``BASE``).
    """

    offset: int
    silent: bool
    written: str
    start: int
    end: int
    iri: str | None
    variable: bool = False


@dataclass(frozen=True)
class ServicePolicy:
    """The endpoints ``SERVICE`` may call (normalised) and the limits of each call.

    ``timeout_s`` bounds each call (connection, retries and answer together) and never
    exceeds the query's ``query_timeout_s``; ``max_bytes`` bounds each answer;
    ``connect_timeout_s`` and ``attempts`` are those of every remote call
    (:class:`~nhs_ai_workforce.core.remote.RemotePolicy`).
    """

    endpoints: tuple[str, ...] = ()
    timeout_s: float = 5.0
    max_bytes: int = 4 * 1024 * 1024
    query_timeout_s: float = 10.0
    connect_timeout_s: float = 10.0
    attempts: int = 3

    def __post_init__(self) -> None:
        cleaned = []
        for entry in self.endpoints:
            iri = normalise(entry)
            if iri is None:
                raise ValueError(f"{_SETTING}: {entry!r} is not an absolute http(s) endpoint IRI without a user name")
            cleaned.append(iri)
        object.__setattr__(self, "endpoints", tuple(dict.fromkeys(cleaned)))
        object.__setattr__(self, "timeout_s", max(0.1, min(self.timeout_s, self.query_timeout_s)))

    @classmethod
    def from_settings(cls, settings: Settings) -> ServicePolicy:
        """The policy of ``AIWF_SERVICE_ALLOW``, ``AIWF_SERVICE_TIMEOUT`` and ``AIWF_SERVICE_MAX_BYTES``.

        :raises ValueError: for an entry that is not an http(s) endpoint IRI.
        """
        return cls(settings.service_allow, settings.service_timeout_s, settings.service_max_bytes,
                   settings.query_timeout_s, settings.remote_connect_timeout_s, max(1, settings.remote_attempts))

    @property
    def enabled(self) -> bool:
        """Is any endpoint listed (federated queries offered)?"""
        return bool(self.endpoints)

    def allows(self, iri: str | None) -> bool:
        return iri is not None and normalise(iri) in self.endpoints

    def refusal(self, clause: ServiceClause | None) -> str | None:
        """Why the clause may not run (a message for a 400), or ``None`` if it may."""
        if clause is not None and not clause.variable and self.allows(clause.iri):
            return None
        listed = self.listed()
        if clause is None:
            return f"SERVICE is not allowed here: it must be followed by the IRI of an endpoint ({listed})"
        if clause.variable:
            return (f"SERVICE is not allowed with a variable ({clause.written}): the endpoint must be written in "
                    f"the query as the IRI of an endpoint the operator lists in {_SETTING} ({listed})")
        if clause.iri is None or normalise(clause.iri) is None:
            return (f"SERVICE is not allowed: {clause.written} is not an absolute http(s) IRI of an endpoint "
                    f"the operator lists in {_SETTING} ({listed})")
        silent = (" SILENT does not change this: an endpoint that is not listed is refused, never skipped."
                  if clause.silent else "")
        return (f"SERVICE is not allowed: <{clause.iri}> is not an endpoint this server may call. Queries reach "
                f"only the endpoints its operator lists in {_SETTING} ({listed}).{silent}")

    def listed(self) -> str:
        if not self.endpoints:
            return "none are listed, so federated queries are refused"
        return "it lists " + ", ".join(f"<{iri}>" for iri in self.endpoints)


def service_clauses(text: str, lexed: Lexed | None = None, predeclared: Mapping[str, str] | None = None,
                    ) -> dict[int, ServiceClause | None]:
    """Each ``SERVICE`` keyword of ``lexed`` (the scan of ``text``, made here if not given) by
    offset, with its endpoint (``None`` where no endpoint follows, or the offset is not a
    ``SERVICE`` of ``text``).

    Prefixed names expand with the query's own prefixes, else ``predeclared``; IRIs resolve
    against the query's ``BASE``.

    >>> text = "PREFIX w: <https://query.wikidata.org/> SELECT * { SERVICE silent w:sparql {} SERVICE ?e {} }"
    >>> [(c.silent, c.iri, c.variable) for c in service_clauses(text).values()]
    [(True, 'https://query.wikidata.org/sparql', False), (False, None, True)]
    """
    lexed = lexed or lex(text, predeclared)
    prefixes = {**(predeclared or {}), **lexed.prefixes}
    clauses: dict[int, ServiceClause | None] = {}
    for keyword, offset in lexed.keywords:
        if keyword != "SERVICE":
            continue
        end = offset + len(keyword)
        match = _TARGET.match(text, end) if text[offset:end].upper() == keyword else None
        if match is None:
            clauses[offset] = None
            continue
        kind = match.lastgroup or ""
        written = match.group(kind)
        start = match.start(kind)
        silent = match.group("silent") is not None
        clauses[offset] = ServiceClause(offset, silent, written, start, match.end(kind),
                                        expand_token(kind, written, prefixes, lexed.base), kind == "var")
    return clauses


def rewrite(text: str, clauses: Iterable[ServiceClause], target: Callable[[str], str]) -> str:
    """``text`` with each clause's endpoint replaced by ``<target(endpoint IRI)>``.

    >>> text = "SELECT * { SERVICE <http://a.org/sparql> { ?s ?p ?o } }"
    >>> rewrite(text, service_clauses(text).values(), lambda iri: "http://127.0.0.1:1/x")
    'SELECT * { SERVICE <http://127.0.0.1:1/x> { ?s ?p ?o } }'
    """
    pieces, position = [], 0
    for clause in sorted(clauses, key=lambda clause: clause.start):
        if clause.iri is None:
            raise ValueError(f"SERVICE {clause.written} has no endpoint IRI to rewrite")
        pieces += [text[position:clause.start], f"<{target(normalise(clause.iri) or clause.iri)}>"]
        position = clause.end
    return "".join([*pieces, text[position:]])


# -- the policy of the request being served ---------------------------------------------------

_ACTIVE: contextvars.ContextVar[ServicePolicy | None] = contextvars.ContextVar("aiwf_service_policy", default=None)
_NONE = ServicePolicy()


def active() -> ServicePolicy:
    """The policy of the request being served; outside one, none (no endpoint is listed)."""
    return _ACTIVE.get() or _NONE


def activate(policy: ServicePolicy) -> contextvars.Token:
    """Make ``policy`` the active one (for a request); pass the token to :func:`deactivate` after."""
    return _ACTIVE.set(policy)


def deactivate(token: contextvars.Token | None) -> None:
    """Undo :func:`activate` (outside the context it was made in, clear the policy instead)."""
    if token is None:
        return
    try:
        _ACTIVE.reset(token)
    except ValueError:
        _ACTIVE.set(None)
