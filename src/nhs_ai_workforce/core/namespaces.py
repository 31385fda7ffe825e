"""Namespaces: the standard vocabularies we reuse and the project's own URI patterns.

Ontology terms live at ``{base}/def/aiwf/{Term}``, things at ``{base}/id/{kind}/{key}`` and
named graphs at ``{base}/id/graph/{name}``. Files under ``ontology/`` and ``shapes/`` are
written with :data:`~nhs_ai_workforce.core.settings.DEFAULT_BASE`; the build rebases them.
"""

from __future__ import annotations

from rdflib import Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, ORG, OWL, PROV, QB, RDF, RDFS, SH, SKOS, VOID, XSD

from .settings import DEFAULT_BASE

VANN = Namespace("http://purl.org/vocab/vann/")
SDMX_DIMENSION = Namespace("http://purl.org/linked-data/sdmx/2009/dimension#")
SDMX_ATTRIBUTE = Namespace("http://purl.org/linked-data/sdmx/2009/attribute#")
SDMX_MEASURE = Namespace("http://purl.org/linked-data/sdmx/2009/measure#")
SCHEMA = Namespace("https://schema.org/")

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


STANDARD_PREFIXES = {
    "rdf": str(RDF),
    "rdfs": str(RDFS),
    "owl": str(OWL),
    "xsd": str(XSD),
    "skos": str(SKOS),
    "dcterms": str(DCTERMS),
    "foaf": str(FOAF),
    "org": str(ORG),
    "prov": str(PROV),
    "qb": str(QB),
    "dcat": str(DCAT),
    "void": str(VOID),
    "sh": str(SH),
    "vann": str(VANN),
    "sdmx-dimension": str(SDMX_DIMENSION),
    "sdmx-attribute": str(SDMX_ATTRIBUTE),
    "sdmx-measure": str(SDMX_MEASURE),
}

DEFAULT = ProjectNamespaces()
AIWF = DEFAULT.AIWF
