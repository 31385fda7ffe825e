"""The NHS AI workforce knowledge graph: seed tables to validated RDF, served over SPARQL."""

__version__ = "0.1.0"
