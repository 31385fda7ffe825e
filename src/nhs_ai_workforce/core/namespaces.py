"""Namespaces: the standard vocabularies we reuse and the project's own URI patterns.

Ontology terms live at ``{base}/def/aiwf/{Term}``, things at ``{base}/id/{kind}/{key}`` and
named graphs at ``{base}/id/graph/{name}``. Files under ``ontology/`` and ``shapes/`` are
written with :data:`~nhs_ai_workforce.core.settings.DEFAULT_BASE`; the build rebases them.
"""

from __future__ import annotations

import re

from rdflib import Namespace, URIRef

from . import vocab
from .graphs import ALL_GRAPHS, GRAPHS, IMPORT_GRAPHS, store_graphs  # noqa: F401 - re-exported
from .settings import DEFAULT_BASE
from .vocab import STANDARD_PREFIXES

VANN = Namespace(vocab.VANN)
SDMX_DIMENSION = Namespace(vocab.SDMX_DIMENSION)
SDMX_ATTRIBUTE = Namespace(vocab.SDMX_ATTRIBUTE)
SDMX_MEASURE = Namespace(vocab.SDMX_MEASURE)
SCHEMA = Namespace(vocab.SCHEMA)

#: What each named graph holds and where its facts come from, for pages and metadata.
GRAPH_DESCRIPTIONS = {
    "background": "Facts stated in the source document (the background section of the HEE / NHS AI Lab "
                  "research page); each thing cites the sections it is stated in (aiwf:statedIn).",
    "reference": "Standard classifications and identifiers from the checked reference tables (ONS SOC 2020, "
                 "ISCO-08 and ESCO v1.2.0, the government Digital and Data capability framework).",
    "mappings": "Curated SSSOM mappings from the role concepts to standard occupation codes, each with its "
                "justification and author.",
    "links": "Links out to GOV.UK, NHS and HEE pages, reference.data.gov.uk intervals and ONS statistical "
             "geographies, each from the checked identifiers (seeds/links.csv names the identifier row it comes from).",
    "ontology": "The aiwf ontology and the declarations of the standard terms it reuses.",
    "inferred": "Triples entailed by the OWL-lite rules (subclasses, subproperties, inverses) from the seed graphs; "
                "an imported classification keeps what the rules entail from it in its own graph.",
    "soc2020": "Every group of the ONS Standard Occupational Classification 2020 (major, sub-major, minor and unit "
               "groups, with the related job titles of each unit group), imported with `aiwf import soc2020` from the "
               "SOC 2020 Volume 1 workbook (Office for National Statistics, Open Government Licence v3.0).",
    "esco": "Every ESCO occupation with its preferred, alternative and hidden labels, and the ISCO-08 groups above "
            "them, imported with `aiwf import esco` from the CSV files ESCO publishes (European Commission; this "
            "service uses the ESCO classification of the European Commission).",
}

ONTOLOGY_VERSION = "0.1.0"

#: The kinds of thing under ``{base}/id/`` (the first segment of their IRIs), each with its own
#: prefix (``initiative:ai-roadmap``, ``graph:background``); ``id:`` covers anything else.
#: ``organisation:``, not ``org:``, which is W3C ORG's.
KINDS = (
    "aim", "breakdown", "clinical-area", "component", "counted-kind", "dataset", "discrepancy", "finding",
    "graph", "initiative", "mapping", "mapping-set", "observation", "organisation", "person", "population",
    "post", "projection-kind", "recommendation", "role", "scheme", "section", "soc2020", "source",
    "statement", "structure", "technology-type", "term-usage", "unit", "workforce-group",
)


class ProjectNamespaces:
    """The IRIs minted under one base URI."""

    def __init__(self, base: str = DEFAULT_BASE) -> None:
        self.base = base.rstrip("/")
        self.ontology = URIRef(f"{self.base}/def/aiwf")
        self.version = URIRef(f"{self.base}/def/aiwf/{ONTOLOGY_VERSION}")
        self.AIWF = Namespace(f"{self.base}/def/aiwf/")

    def thing(self, kind: str, key: str) -> URIRef:
        """The IRI of the thing of ``kind`` known by ``key``."""
        return URIRef(f"{self.base}/id/{kind}/{key}")

    def graph(self, name: str) -> URIRef:
        """The IRI of the named graph ``name`` (one of :data:`ALL_GRAPHS`)."""
        if name not in ALL_GRAPHS:
            raise ValueError(f"unknown graph {name!r}; expected one of {', '.join(ALL_GRAPHS)}")
        return URIRef(f"{self.base}/id/graph/{name}")

    def prefixes(self) -> dict[str, str]:
        """Prefix to namespace, for serialisers, queries and the query UI: ``aiwf:``, one prefix per
        kind of thing (:data:`KINDS`), ``id:`` for the rest of ``{base}/id/``, and the standard ones.

        >>> ProjectNamespaces("http://x.org").prefixes()["initiative"]
        'http://x.org/id/initiative/'
        """
        return {
            "aiwf": str(self.AIWF),
            "id": f"{self.base}/id/",
            **{kind: f"{self.base}/id/{kind}/" for kind in KINDS},
            **STANDARD_PREFIXES,
        }


DEFAULT = ProjectNamespaces()
AIWF = DEFAULT.AIWF


def curie(iri: str, prefixes: dict[str, str], *, local: re.Pattern[str] | None = None) -> str | None:
    """``iri`` as ``prefix:local`` with the longest namespace in ``prefixes`` it extends, else ``None``.

    ``local``, if given, is a pattern the local part must match in full.

    >>> curie("http://purl.org/dc/terms/title", {"dcterms": vocab.DCTERMS})
    'dcterms:title'
    >>> curie("http://purl.org/dc/terms/", {"dcterms": vocab.DCTERMS}) is None
    True
    """
    best: tuple[str, str] | None = None
    for prefix, namespace in prefixes.items():
        if iri.startswith(namespace) and len(iri) > len(namespace) and (best is None or len(namespace) > len(best[1])):
            rest = iri[len(namespace):]
            if local is None or local.fullmatch(rest):
                best = (prefix, namespace)
    return None if best is None else f"{best[0]}:{iri[len(best[1]):]}"


_PN_CHARS_BASE = (
    "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0370-\u037d\u037f-\u1fff\u200c-\u200d"
    "\u2070-\u218f\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd\U00010000-\U000effff"
)
_PN_CHARS = _PN_CHARS_BASE + "_\\-0-9\u00b7\u0300-\u036f\u203f-\u2040"
#: The characters SPARQL and Turtle let a local name escape with ``\`` (``PN_LOCAL_ESC``).
LOCAL_ESCAPES = "_~.-!$&'()*+,;=/?#@%"
_PLX = r"(?:%[0-9A-Fa-f]{2}|\\[" + re.escape(LOCAL_ESCAPES) + "])"
#: A SPARQL 1.1 / Turtle local name (``PN_LOCAL``), escapes included.
PN_LOCAL = re.compile(
    f"(?:[{_PN_CHARS_BASE}_:0-9]|{_PLX})(?:(?:[{_PN_CHARS}.:]|{_PLX})*(?:[{_PN_CHARS}:]|{_PLX}))?"
)
#: A local name that needs no escape.
PLAIN_LOCAL = re.compile(
    f"(?:[{_PN_CHARS_BASE}_:0-9]|%[0-9A-Fa-f]{{2}})(?:(?:[{_PN_CHARS}.:]|%[0-9A-Fa-f]{{2}})*"
    f"(?:[{_PN_CHARS}:]|%[0-9A-Fa-f]{{2}}))?"
)


def escape_local(local: str) -> str | None:
    """``local`` as a SPARQL/Turtle local name, escaping with ``\\`` what must be; ``None`` if it cannot be one.

    >>> escape_local("initiative/topol-review"), escape_local("a b")
    ('initiative\\\\/topol-review', None)
    """
    last = len(local) - 1
    out = []
    for i, char in enumerate(local):
        plain = (char == "_" or (char == "-" and i > 0) or (char == "." and 0 < i < last)
                 or (char == "%" and re.fullmatch("[0-9A-Fa-f]{2}", local[i + 1:i + 3]) is not None))
        out.append("\\" + char if char in LOCAL_ESCAPES and not plain else char)
    escaped = "".join(out)
    return escaped if PN_LOCAL.fullmatch(escaped) else None


def sparql_name(iri: str, prefixes: dict[str, str]) -> str:
    """``iri`` as it can be pasted back into a query: a prefixed name where one is valid SPARQL, else ``<iri>``.

    A local name that needs no escape wins (the longest namespace); else the longest namespace
    whose local part can be escaped (``id:initiative\\/topol-review``).

    >>> sparql_name("http://purl.org/dc/terms/title", {"dcterms": vocab.DCTERMS})
    'dcterms:title'
    >>> sparql_name("http://x.org/id/kind/key", {"id": "http://x.org/id/"})
    'id:kind\\\\/key'
    >>> sparql_name("http://x.org/a b", {"x": "http://x.org/"})
    '<http://x.org/a b>'
    """
    plain = curie(iri, prefixes, local=PLAIN_LOCAL)
    if plain is not None:
        return plain
    for prefix, namespace in sorted(prefixes.items(), key=lambda item: len(item[1]), reverse=True):
        if iri.startswith(namespace) and len(iri) > len(namespace):
            escaped = escape_local(iri[len(namespace):])
            if escaped is not None:
                return f"{prefix}:{escaped}"
    return f"<{iri}>"
