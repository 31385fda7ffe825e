"""Content negotiation: which media type answers a request, from ``Accept`` or a ``format`` parameter.

The media types the endpoint can write, each tied to the Oxigraph serialiser that writes it,
live here too (derived from :mod:`nhs_ai_workforce.core.formats`, the one table of syntaxes),
so the protocol layer, the executor and the service description share one table.

``Accept`` is read as RFC 9110 section 12.5.1 says: a list of media ranges with optional
``q`` weights (0 to 1, default 1); each offered type takes the weight of the *most specific*
range that matches it (``text/csv`` beats ``text/*`` beats ``*/*``); a weight of 0 means "not
acceptable". Among the acceptable offers the highest weight wins; ties go to the more
specific match, then to the range the client listed first, then to the server's order (the
canonical type of each format comes before its aliases). Clients' older names are accepted:
``text/plain`` is N-Triples and ``text/n3`` Turtle; ``format=n3``, ``json-ld``, ``rdf+xml``.

>>> negotiate("text/csv;q=0.5, application/sparql-results+json;q=0.9", SOLUTION_TYPES)
'application/sparql-results+json'
>>> negotiate("application/sparql-results+xml, */*;q=0.1", SOLUTION_TYPES)
'application/sparql-results+xml'
>>> negotiate("text/html,application/xhtml+xml,*/*;q=0.8", GRAPH_TYPES)
'text/turtle'
>>> negotiate("image/png", SOLUTION_TYPES, format="csv")
'text/csv'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pyoxigraph as ox

from ..core.errors import ServiceError
from ..core.formats import RDF_ALIASES, RDF_SYNTAXES, RESULT_ALIASES, RESULT_SYNTAXES, by_media_type

__all__ = [
    "DESCRIPTION_TYPES",
    "FORMAT_NAMES",
    "GRAPH_TYPES",
    "MEDIA_TYPES",
    "SOLUTION_TYPES",
    "MediaRange",
    "content_type",
    "first_understood",
    "negotiate",
    "offers_for",
    "parse_accept",
    "resolve_format",
    "understood",
]

#: SELECT and ASK results. Canonical types first; ``application/json`` and ``application/xml``
#: are aliases for clients that only know the generic types.
SOLUTION_TYPES: dict[str, ox.QueryResultsFormat] = {
    **{syntax.media_type: syntax.results for syntax in RESULT_SYNTAXES},
    **{alias: by_media_type(target).results for alias, target in RESULT_ALIASES.items()},
}

#: Types clients ask for that a syntax we write satisfies: rdflib asks for N-Triples as
#: ``text/plain`` (its old type) and for N3 as ``text/n3`` (Turtle is a subset of N3).
CLIENT_TYPES = {"text/n3": "text/turtle", "text/plain": "application/n-triples"}
#: ``format`` values clients send that are not our short names (SPARQLWrapper's names).
CLIENT_NAMES = {"n3": "text/turtle", "json-ld": "application/ld+json", "rdf+xml": "application/rdf+xml",
                "rdf": "application/rdf+xml", "n-triples": "application/n-triples", "n-quads": "application/n-quads"}

#: CONSTRUCT and DESCRIBE results (TriG and N-Quads put the triples in the default graph).
GRAPH_TYPES: dict[str, ox.RdfFormat] = {
    **{syntax.media_type: syntax.rdf for syntax in RDF_SYNTAXES},
    **{alias: by_media_type(target).rdf for alias, target in {**RDF_ALIASES, **CLIENT_TYPES}.items()},
}

#: The service description: an RDF graph, Turtle by default (the syntaxes without graphs).
DESCRIPTION_TYPES: dict[str, ox.RdfFormat] = {
    media_type: GRAPH_TYPES[media_type]
    for media_type in ("text/turtle", "application/rdf+xml", "application/ld+json", "application/n-triples",
                       *RDF_ALIASES, *CLIENT_TYPES)
}

#: Every media type the endpoint writes, for the result kind that goes with it.
MEDIA_TYPES: dict[str, tuple[ox.QueryResultsFormat | None, ox.RdfFormat | None]] = {
    media_type: (SOLUTION_TYPES.get(media_type), GRAPH_TYPES.get(media_type))
    for media_type in [*SOLUTION_TYPES, *GRAPH_TYPES]
}

#: ``format`` short names: each names the candidate types in order; the first one offered wins,
#: so ``json`` is SPARQL JSON for SELECT and JSON-LD for CONSTRUCT (the results syntax first,
#: then the RDF syntax its generic type, ``application/json``, stands for).
_GENERIC = {target: alias for alias, target in RESULT_ALIASES.items()}


def _candidates(media_type: str) -> tuple[str, ...]:
    twin = RDF_ALIASES.get(_GENERIC.get(media_type, ""))
    return (media_type, twin) if twin else (media_type,)


FORMAT_NAMES: dict[str, tuple[str, ...]] = {
    **{name: _candidates(syntax.media_type) for syntax in (*RESULT_SYNTAXES, *RDF_SYNTAXES) for name in syntax.names},
    **{name: (media_type,) for name, media_type in CLIENT_NAMES.items()},
}

_FORMS = {
    "SELECT": SOLUTION_TYPES,
    "ASK": SOLUTION_TYPES,
    "CONSTRUCT": GRAPH_TYPES,
    "DESCRIBE": GRAPH_TYPES,
}


def offers_for(form: str) -> dict:
    """The media types offered for a query form (``SELECT``, ``ASK``, ``CONSTRUCT``, ``DESCRIBE``).

    >>> list(offers_for("ASK"))[:2]
    ['application/sparql-results+json', 'application/sparql-results+xml']
    """
    try:
        return _FORMS[form]
    except KeyError:
        raise ValueError(f"no result formats for {form!r}") from None


def content_type(media_type: str) -> str:
    """The ``Content-Type`` header value: text types say they are UTF-8.

    >>> content_type("text/csv"), content_type("application/sparql-results+json")
    ('text/csv; charset=utf-8', 'application/sparql-results+json')
    """
    return f"{media_type}; charset=utf-8" if media_type.startswith("text/") else media_type


@dataclass(frozen=True)
class MediaRange:
    """One entry of an ``Accept`` header: ``type/subtype``, its parameters, weight and position."""

    type: str
    subtype: str
    q: float = 1.0
    params: tuple[tuple[str, str], ...] = ()
    position: int = 0

    def specificity(self, media_type: str) -> int:
        """How precisely this range names ``media_type``: 3 exact, 2 ``type/*``, 1 ``*/*``, 0 no match.

        A ``charset`` parameter other than UTF-8 never matches (we only write UTF-8); other
        parameters (profiles, versions) are ignored.
        """
        charset = dict(self.params).get("charset")
        if charset is not None and charset.lower() not in ("utf-8", "utf8"):
            return 0
        kind, _, sub = media_type.partition("/")
        if self.type == "*":
            return 1 if self.subtype == "*" else 0
        if self.type != kind:
            return 0
        if self.subtype == "*":
            return 2
        return 3 if self.subtype == sub else 0


def parse_accept(header: str | None) -> list[MediaRange]:
    """The media ranges of an ``Accept`` header; malformed entries are skipped.

    >>> [(r.type, r.subtype, r.q) for r in parse_accept("text/*;q=0.5, application/json")]
    [('text', '*', 0.5), ('application', 'json', 1.0)]
    """
    ranges = []
    for position, entry in enumerate((header or "").split(",")):
        media, *parameters = (part.strip() for part in entry.split(";"))
        kind, slash, sub = media.lower().partition("/")
        if not slash or not kind or not sub or (kind == "*" and sub != "*"):
            continue
        q, params, valid = 1.0, [], True
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            name, value = name.strip().lower(), value.strip().strip('"')
            if name == "q":
                try:
                    q = float(value)
                except ValueError:
                    valid = False
                    break
                if not 0.0 <= q <= 1.0:
                    valid = False
                    break
                break  # anything after q is an accept-extension
            if name:
                params.append((name, value))
        if valid:
            ranges.append(MediaRange(kind, sub, q, tuple(params), position))
    return ranges


def _quality(ranges: Sequence[MediaRange], media_type: str) -> tuple[float, int, int] | None:
    """(weight, specificity, -position) of the most specific range matching ``media_type``."""
    best: tuple[int, int, float] | None = None
    for media_range in ranges:
        specificity = media_range.specificity(media_type)
        if specificity and (best is None or (specificity, -media_range.position) > best[:2]):
            best = (specificity, -media_range.position, media_range.q)
    if best is None:
        return None
    specificity, position, q = best
    return q, specificity, position


def _available(offers: Sequence[str]) -> str:
    names = sorted({name for name, types in FORMAT_NAMES.items() if any(t in offers for t in types)})
    return f"{', '.join(offers)} (or format={'|'.join(names)})"


def resolve_format(value: str, offers: Mapping[str, object] | Sequence[str], *, what: str = "result") -> str:
    """The offered media type a ``format`` parameter names: a short name or a full media type.

    :raises ServiceError: 406 naming what is available, if ``value`` names nothing offered.

    >>> resolve_format("json", GRAPH_TYPES)
    'application/ld+json'
    >>> resolve_format("text/csv; charset=utf-8", SOLUTION_TYPES)
    'text/csv'
    """
    offers = list(offers)
    name = value.strip().lower()
    candidates = FORMAT_NAMES.get(name) or (name.split(";")[0].strip(),)
    for candidate in candidates:
        if candidate in offers:
            return candidate
    raise ServiceError(
        406,
        "Not acceptable",
        f"format={value!r} is not available for this {what}; available: {_available(offers)}",
    )


def understood(value: str) -> bool:
    """Does a ``format`` value name a syntax the endpoint writes (a short name or a media type)?

    >>> understood("n3"), understood("text/tab-separated-values"), understood("yaml")
    (True, True, False)
    """
    name = value.strip().lower()
    return name in FORMAT_NAMES or name.split(";")[0].strip() in MEDIA_TYPES


def first_understood(values: Sequence[str]) -> str | None:
    """The first of ``values`` that names a syntax we write, else the first (for the 406 naming it).

    Clients repeat themselves: SPARQLWrapper sends ``format=tsv&format=text/tab-separated-values``
    and the same value as ``output``; the first value the server understands decides.

    >>> first_understood(["x-json", "json", "csv"]), first_understood(["yaml"]), first_understood([])
    ('json', 'yaml', None)
    """
    return next((value for value in values if understood(value)), values[0] if values else None)


def negotiate(
    accept: str | None,
    offers: Mapping[str, object] | Sequence[str],
    *,
    format: str | None = None,
    what: str = "result",
) -> str:
    """The offered media type that best fits ``accept`` (the first offer if there is no header).

    ``format`` (a short name such as ``csv`` or a media type) overrides ``Accept``, so a link
    in a browser can ask for a download format. ``what`` names the result in error messages.

    :raises ServiceError: 406 listing the available types when nothing offered is acceptable.
    """
    offers = list(offers)
    if format:
        return resolve_format(format, offers, what=what)
    ranges = parse_accept(accept)
    if not ranges:  # no header, an empty one or only malformed entries: anything goes
        return offers[0]
    best: tuple[tuple[float, int, int, int], str] | None = None
    for index, offer in enumerate(offers):
        quality = _quality(ranges, offer)
        if quality is None or quality[0] <= 0:
            continue
        key = (*quality, -index)
        if best is None or key > best[0]:
            best = (key, offer)
    if best is None:
        raise ServiceError(
            406,
            "Not acceptable",
            f"cannot answer this {what} with any type the Accept header allows ({accept}); "
            f"available: {_available(offers)}",
        )
    return best[1]
