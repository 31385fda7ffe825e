"""The standard vocabularies the project reuses, as plain namespace strings, and their usual prefixes.

Plain strings (not rdflib namespaces) so the serving code, which works with pyoxigraph terms,
shares them with the build. :mod:`.namespaces` adds the project's own URI patterns.
"""

from __future__ import annotations

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
OWL = "http://www.w3.org/2002/07/owl#"
XSD = "http://www.w3.org/2001/XMLSchema#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
DCTERMS = "http://purl.org/dc/terms/"
FOAF = "http://xmlns.com/foaf/0.1/"
ORG = "http://www.w3.org/ns/org#"
PROV = "http://www.w3.org/ns/prov#"
QB = "http://purl.org/linked-data/cube#"
DCAT = "http://www.w3.org/ns/dcat#"
VOID = "http://rdfs.org/ns/void#"
SH = "http://www.w3.org/ns/shacl#"
VANN = "http://purl.org/vocab/vann/"
SDMX_DIMENSION = "http://purl.org/linked-data/sdmx/2009/dimension#"
SDMX_ATTRIBUTE = "http://purl.org/linked-data/sdmx/2009/attribute#"
SDMX_MEASURE = "http://purl.org/linked-data/sdmx/2009/measure#"
SCHEMA = "https://schema.org/"
SD = "http://www.w3.org/ns/sparql-service-description#"
FORMATS = "http://www.w3.org/ns/formats/"
ENTAILMENT = "http://www.w3.org/ns/entailment/"
SPDX = "http://spdx.org/rdf/terms#"
SSSOM = "https://w3id.org/sssom/"
PAV = "http://purl.org/pav/"
SEMAPV = "https://w3id.org/semapv/vocab/"
TIME = "http://www.w3.org/2006/time#"
#: ESCO's namespace: its occupations, concept schemes and the ISCO-08 groups it republishes.
ESCO = "http://data.europa.eu/esco/"
#: IANA's media type registry, whose pages name media types (``dcat:mediaType``).
MEDIA_TYPES = "https://www.iana.org/assignments/media-types/"

TYPE = RDF + "type"

#: Prefix -> namespace for the vocabularies the data uses, for serialisers, queries and pages.
STANDARD_PREFIXES = {
    "rdf": RDF,
    "rdfs": RDFS,
    "owl": OWL,
    "xsd": XSD,
    "skos": SKOS,
    "dcterms": DCTERMS,
    "foaf": FOAF,
    "org": ORG,
    "prov": PROV,
    "qb": QB,
    "dcat": DCAT,
    "void": VOID,
    "sh": SH,
    "vann": VANN,
    "sdmx-dimension": SDMX_DIMENSION,
    "sdmx-attribute": SDMX_ATTRIBUTE,
    "sdmx-measure": SDMX_MEASURE,
    "time": TIME,
}
