"""Namespaces: the standard vocabularies we reuse and the project's own URI patterns.

Ontology terms live at ``{base}/def/aiwf/{Term}``, things at ``{base}/id/{kind}/{key}`` and
named graphs at ``{base}/id/graph/{name}``. Files under ``ontology/`` and ``shapes/`` are
written with :data:`~nhs_ai_workforce.core.settings.DEFAULT_BASE`; the build rebases them.
"""

from __future__ import annotations

import re

from rdflib import Namespace, URIRef

from . import vocab
from .settings import DEFAULT_BASE, Settings
from .vocab import STANDARD_PREFIXES

VANN = Namespace(vocab.VANN)
SDMX_DIMENSION = Namespace(vocab.SDMX_DIMENSION)
SDMX_ATTRIBUTE = Namespace(vocab.SDMX_ATTRIBUTE)
SDMX_MEASURE = Namespace(vocab.SDMX_MEASURE)
SCHEMA = Namespace(vocab.SCHEMA)

#: Graph names, one per source of triples.
GRAPHS = ("background", "reference", "mappings", "links", "ontology", "inferred")

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
    "inferred": "Triples entailed by the OWL-lite rules (subclasses, subproperties, inverses) from the other graphs.",
}

ONTOLOGY_VERSION = "0.1.0"


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
        """The IRI of the named graph ``name`` (one of :data:`GRAPHS`)."""
        if name not in GRAPHS:
            raise ValueError(f"unknown graph {name!r}; expected one of {', '.join(GRAPHS)}")
        return URIRef(f"{self.base}/id/graph/{name}")

    def prefixes(self) -> dict[str, str]:
        """Prefix to namespace, for serialisers, queries and the query UI."""
        return {
            "aiwf": str(self.AIWF),
            "id": f"{self.base}/id/",
            **STANDARD_PREFIXES,
        }


DEFAULT = ProjectNamespaces()
AIWF = DEFAULT.AIWF


def store_graphs(settings: Settings | None = None) -> frozenset[str]:
    """The IRIs of the store's named graphs, ``{base}/id/graph/{name}``.

    >>> sorted(store_graphs(Settings(base="http://example.org")))[0]
    'http://example.org/id/graph/background'
    """
    base = (settings.base if settings else DEFAULT_BASE).rstrip("/")
    return frozenset(f"{base}/id/graph/{name}" for name in GRAPHS)


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
