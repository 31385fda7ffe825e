"""The mapping set read back from RDF and written as SSSOM/TSV.

The build turns ``seeds/mappings.sssom.tsv`` into mapping records (``sssom:Mapping``, see
:mod:`.mappings`) in the ``mappings`` graph. :func:`export_sssom` reads those records from a
built store (or an rdflib dataset) and writes them back as an SSSOM/TSV table: a ``#`` YAML
metadata block whose ``curie_map`` declares every prefix the table uses, then one row per record,
identifiers as CURIEs, rows sorted so that the same graph always gives the same bytes. Records
whose object is ``sssom:NoTermFound`` (no standard code exists) are kept as such.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

import yaml
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SKOS

from ..core.namespaces import ProjectNamespaces
from ..core.settings import DEFAULT_BASE, Settings
from .convert import MAPPINGS_FILE
from .mappings import PAV, SEMAPV, SSSOM, read_mapping_set

__all__ = ["COLUMNS", "curie_map", "export_sssom", "mapping_rows"]

#: The table's columns, in the order of the seed file (standard SSSOM slots).
COLUMNS = (
    "record_id",
    "subject_id",
    "subject_label",
    "predicate_id",
    "object_id",
    "object_label",
    "mapping_justification",
    "author_id",
    "mapping_date",
    "confidence",
    "comment",
    "object_source",
)

#: Columns that hold identifiers (written as CURIEs).
ID_COLUMNS = frozenset(
    {"record_id", "subject_id", "predicate_id", "object_id", "mapping_justification", "author_id", "object_source"}
)

#: Prefixes of the vocabularies outside the project, as in the seed file.
EXTERNAL_PREFIXES = {
    "esco": "http://data.europa.eu/esco/occupation/",
    "isco": "http://data.europa.eu/esco/isco/",
    "escoscheme": "http://data.europa.eu/esco/concept-scheme/",
    "ddat": "https://ddat-capability-framework.service.gov.uk/role/",
    "skos": str(SKOS),
    "semapv": str(SEMAPV),
    "sssom": str(SSSOM),
    "owl": str(OWL),
    "rdfs": str(RDFS),
}

#: Project prefixes: name -> path under ``{base}/id/``.
PROJECT_PREFIXES = {
    "aiwfrole": "role/",
    "aiwfgroup": "workforce-group/",
    "aiwfmap": "mapping/",
    "aiwforg": "organisation/",
    "aiwfscheme": "scheme/",
    "soc2020": "soc2020/",
}

_METADATA_QUERY = """
SELECT ?set ?title ?description ?license ?provider WHERE {{
  GRAPH <{graph}> {{
    ?set a <{sssom}MappingSet> .
    OPTIONAL {{ ?set <{dcterms}title> ?title }}
    OPTIONAL {{ ?set <{dcterms}description> ?description }}
    OPTIONAL {{ ?set <{dcterms}license> ?license }}
    OPTIONAL {{ ?set <{sssom}mapping_provider> ?provider }}
  }}
}}
"""

_RECORD_QUERY = """
SELECT ?record ?subject ?subject_label ?predicate ?object ?object_label ?justification ?author
       ?date ?confidence ?comment ?source WHERE {{
  GRAPH <{graph}> {{
    ?record a <{sssom}Mapping> ;
        <{owl}annotatedSource> ?subject ;
        <{owl}annotatedProperty> ?predicate ;
        <{owl}annotatedTarget> ?object .
    OPTIONAL {{ ?record <{sssom}subject_label> ?subject_label }}
    OPTIONAL {{ ?record <{sssom}object_label> ?object_label }}
    OPTIONAL {{ ?record <{sssom}mapping_justification> ?justification }}
    OPTIONAL {{ ?record <{pav}authoredBy> ?author }}
    OPTIONAL {{ ?record <{pav}authoredOn> ?date }}
    OPTIONAL {{ ?record <{sssom}confidence> ?confidence }}
    OPTIONAL {{ ?record <{rdfs}comment> ?comment }}
    OPTIONAL {{ ?record <{sssom}object_source> ?source }}
  }}
}}
"""

_RECORD_VARIABLES = {
    "record_id": "record",
    "subject_id": "subject",
    "subject_label": "subject_label",
    "predicate_id": "predicate",
    "object_id": "object",
    "object_label": "object_label",
    "mapping_justification": "justification",
    "author_id": "author",
    "mapping_date": "date",
    "confidence": "confidence",
    "comment": "comment",
    "object_source": "source",
}


def curie_map(settings: Settings) -> dict[str, str]:
    """Every prefix the export may use, for the base of ``settings``.

    The seed file's own ``curie_map`` comes first (moved to the base of ``settings``), so a
    prefix a curator adds there is written back under the same name; the built-in prefixes
    fill in for a store exported without the seeds at hand.
    """
    base = ProjectNamespaces(settings.base).base
    ids = f"{base}/id/"
    prefixes: dict[str, str] = {}
    seed = settings.seeds_dir / MAPPINGS_FILE
    if seed.is_file():
        try:
            declared = read_mapping_set(seed).curie_map
        except (OSError, ValueError):
            declared = {}
        for name, namespace in declared.items():
            namespace = str(namespace)
            if namespace.startswith(DEFAULT_BASE):
                namespace = base + namespace[len(DEFAULT_BASE):]
            prefixes[str(name)] = namespace
    for name, namespace in {**{n: ids + path for n, path in PROJECT_PREFIXES.items()}, **EXTERNAL_PREFIXES}.items():
        prefixes.setdefault(name, namespace)
    return prefixes


def _text(term: Any) -> str | None:
    """The IRI or lexical form of a pyoxigraph or rdflib term (``None`` when unbound)."""
    if term is None:
        return None
    value = getattr(term, "value", None)  # pyoxigraph NamedNode / Literal
    if isinstance(value, str):
        return value
    return str(term)


def _select(source: Any, query: str) -> list[dict[str, str | None]]:
    """Run a SELECT on a pyoxigraph ``Store`` or an rdflib graph; rows as plain strings."""
    if hasattr(source, "bulk_extend"):  # pyoxigraph.Store
        solutions = source.query(query)
        names = [variable.value for variable in solutions.variables]
        return [{name: _text(solution[name]) for name in names} for solution in solutions]
    result = source.query(query)
    names = [str(variable) for variable in result.vars]
    return [{name: _text(row[name]) for name in names} for row in result]


def _query(template: str, graph: str) -> str:
    return template.format(
        graph=graph, sssom=SSSOM, dcterms=DCTERMS, owl=OWL, pav=PAV, rdfs=RDFS, rdf=RDF
    )


class _Curies:
    """IRIs to CURIEs with the longest matching namespace; records which prefixes were used."""

    def __init__(self, prefixes: dict[str, str]) -> None:
        self.prefixes = prefixes
        self._by_length = sorted(prefixes.items(), key=lambda item: -len(item[1]))
        self.used: set[str] = set()

    def __call__(self, iri: str) -> str:
        for name, namespace in self._by_length:
            if iri.startswith(namespace) and len(iri) > len(namespace):
                self.used.add(name)
                return f"{name}:{iri[len(namespace):]}"
        return self._new_prefix(iri)

    def _new_prefix(self, iri: str) -> str:
        """A prefix for an IRI no known namespace covers: ``ns1``, ``ns2``... on its parent path."""
        cut = max(iri.rfind("/"), iri.rfind("#"))
        if cut <= 0 or cut == len(iri) - 1:
            raise ValueError(f"cannot write {iri!r} as a CURIE")
        namespace = iri[: cut + 1]
        number = 1
        while f"ns{number}" in self.prefixes:
            number += 1
        name = f"ns{number}"
        self.prefixes[name] = namespace
        self._by_length = sorted(self.prefixes.items(), key=lambda item: -len(item[1]))
        return self(iri)


def _confidence(text: str | None) -> str:
    if not text:
        return ""
    value = float(text)
    return format(value, ".15g")


def mapping_rows(source: Any, settings: Settings) -> tuple[dict[str, str], list[dict[str, str]]]:
    """The mapping set's metadata (full IRIs) and its rows (full IRIs), read from ``source``.

    ``source`` is a pyoxigraph ``Store`` or an rdflib ``Dataset``; only the ``mappings`` graph
    is read.
    """
    graph = str(ProjectNamespaces(settings.base).graph("mappings"))
    sets = _select(source, _query(_METADATA_QUERY, graph))
    if not sets:
        raise ValueError("the store holds no sssom:MappingSet in the mappings graph; build it first")
    if len({row["set"] for row in sets}) > 1:
        raise ValueError("the mappings graph holds more than one sssom:MappingSet")
    first = sets[0]
    metadata = {
        "mapping_set_id": first["set"] or "",
        "mapping_set_title": first["title"] or "",
        "mapping_set_description": first["description"] or "",
        "license": first["license"] or "",
        "mapping_provider": first["provider"] or "",
    }
    rows: dict[str, dict[str, str]] = {}
    for solution in _select(source, _query(_RECORD_QUERY, graph)):
        row = {column: solution.get(variable) or "" for column, variable in _RECORD_VARIABLES.items()}
        row["confidence"] = _confidence(row["confidence"])
        previous = rows.setdefault(row["record_id"], row)
        if previous is not row and previous != row:
            raise ValueError(f"mapping record {row['record_id']} has more than one value in a single-valued slot")
    return metadata, list(rows.values())


def _sort_key(row: dict[str, str]) -> tuple[str, ...]:
    return (row["subject_id"], row["object_source"], row["predicate_id"], row["object_id"], row["record_id"])


def export_sssom(source: Any, settings: Settings) -> str:
    """The mapping set as SSSOM/TSV text: a ``#`` YAML metadata block, then the table.

    Identifiers are CURIEs; ``curie_map`` lists exactly the prefixes used, by name; rows are sorted by
    subject, object source, predicate, object and record, so the output is deterministic.
    """
    metadata, rows = mapping_rows(source, settings)
    curies = _Curies(curie_map(settings))
    table = []
    for row in rows:
        table.append({
            column: (curies(value) if column in ID_COLUMNS and value else value) for column, value in row.items()
        })
    table.sort(key=_sort_key)
    used = {name: namespace for name, namespace in sorted(curies.prefixes.items()) if name in curies.used}
    header: dict[str, Any] = {"curie_map": used}
    header.update((key, value) for key, value in metadata.items() if value)
    return _metadata_block(header) + _tsv(table)


def _metadata_block(header: dict[str, Any]) -> str:
    text = yaml.safe_dump(header, sort_keys=False, allow_unicode=True, width=10_000, default_flow_style=False)
    return "".join(f"#{line}\n" for line in text.splitlines())


def _tsv(rows: Iterable[dict[str, str]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, delimiter="\t", lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()
