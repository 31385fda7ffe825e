"""The one table of syntaxes the project writes: media type, extension, W3C format IRI, short names.

Each entry is derived from pyoxigraph's own format object (:class:`pyoxigraph.RdfFormat`,
:class:`pyoxigraph.QueryResultsFormat`), so the serialiser and its metadata never disagree.
Two facts are ours: the short names people type (``format=ttl``, ``aiwf export --format
turtle``), and the W3C IRI of JSON-LD, which the formats registry lists as
``http://www.w3.org/ns/formats/JSON-LD`` (pyoxigraph 0.5 names another).

>>> by_media_type("text/turtle").extension, by_name("nq").media_type
('ttl', 'application/n-quads')
>>> by_media_type("text/csv").iri
'http://www.w3.org/ns/formats/SPARQL_Results_CSV'
"""

from __future__ import annotations

from dataclasses import dataclass

import pyoxigraph as ox

from .vocab import FORMATS

HTML = "text/html"


@dataclass(frozen=True)
class Syntax:
    """One written syntax: its pyoxigraph format (RDF or query results) and how it is named."""

    media_type: str
    extension: str
    label: str
    iri: str
    names: tuple[str, ...]
    rdf: ox.RdfFormat | None = None
    results: ox.QueryResultsFormat | None = None

    @property
    def keeps_graphs(self) -> bool:
        """Does the syntax write named graphs (TriG, N-Quads, JSON-LD)?"""
        return bool(self.rdf and self.rdf.supports_datasets)


_IRIS = {ox.RdfFormat.JSON_LD: FORMATS + "JSON-LD"}
_LABELS = {ox.QueryResultsFormat.JSON: "SPARQL JSON", ox.QueryResultsFormat.XML: "SPARQL XML",
           ox.QueryResultsFormat.CSV: "CSV", ox.QueryResultsFormat.TSV: "TSV"}


def _rdf(rdf_format: ox.RdfFormat, *names: str) -> Syntax:
    return Syntax(rdf_format.media_type, rdf_format.file_extension, rdf_format.name,
                  _IRIS.get(rdf_format, rdf_format.iri), names, rdf=rdf_format)


def _results(results_format: ox.QueryResultsFormat, *names: str) -> Syntax:
    media_type = results_format.media_type.split(";")[0].strip()
    return Syntax(media_type, results_format.file_extension, _LABELS[results_format], results_format.iri, names,
                  results=results_format)


#: Graphs, in the order documents offer them (Turtle, the default, first).
RDF_SYNTAXES = (
    _rdf(ox.RdfFormat.TURTLE, "ttl", "turtle"),
    _rdf(ox.RdfFormat.N_TRIPLES, "nt", "ntriples"),
    _rdf(ox.RdfFormat.JSON_LD, "jsonld"),
    _rdf(ox.RdfFormat.RDF_XML, "rdfxml"),
    _rdf(ox.RdfFormat.TRIG, "trig"),
    _rdf(ox.RdfFormat.N_QUADS, "nq", "nquads"),
)
#: SELECT and ASK results (SPARQL JSON, the default, first).
RESULT_SYNTAXES = (
    _results(ox.QueryResultsFormat.JSON, "json"),
    _results(ox.QueryResultsFormat.XML, "xml"),
    _results(ox.QueryResultsFormat.CSV, "csv"),
    _results(ox.QueryResultsFormat.TSV, "tsv"),
)
SYNTAXES = RDF_SYNTAXES + RESULT_SYNTAXES

#: The generic types some clients send, and the syntax each stands for per kind of result.
RDF_ALIASES = {"application/json": "application/ld+json", "application/xml": "application/rdf+xml"}
RESULT_ALIASES = {"application/json": "application/sparql-results+json",
                  "application/xml": "application/sparql-results+xml"}

_BY_MEDIA_TYPE = {syntax.media_type: syntax for syntax in SYNTAXES}
_BY_NAME = {name: syntax for syntax in SYNTAXES for name in syntax.names}


def by_media_type(media_type: str) -> Syntax:
    """The syntax written for ``media_type`` (parameters ignored); :class:`KeyError` if none."""
    return _BY_MEDIA_TYPE[media_type.split(";")[0].strip().lower()]


def by_name(name: str) -> Syntax:
    """The syntax with the short name ``name`` (``ttl``, ``nquads``...); :class:`KeyError` if none."""
    return _BY_NAME[name.lower()]


def by_extension(extension: str, syntaxes: tuple[Syntax, ...] = RDF_SYNTAXES) -> Syntax | None:
    """The syntax among ``syntaxes`` whose file extension is ``extension``, if any."""
    return next((syntax for syntax in syntaxes if syntax.extension == extension), None)
