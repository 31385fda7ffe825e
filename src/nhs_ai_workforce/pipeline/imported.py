"""The imported classifications as quads for a build: checked by their shapes, entailed, described.

Every build (:func:`~.publish.publish`) adds each recorded import (:mod:`..store.imports`) to the
store in its own named graph, ``{base}/id/graph/{name}``, after the seed graphs have been
inferred and validated, which never see it: ``inferred`` and ``data/`` stay what the seeds alone
give. For each import:

1. the shapes of ``shapes/classifications.ttl`` validate the graph together with what the seed
   graphs say about its concepts (a seed label that disagrees with the file's is a violation);
2. the ontology's OWL-lite rules (:func:`.inference.infer`) and the common labels
   (:func:`.labels.labels`) are applied to the graph alone, and what they entail is added to
   the same graph, so it holds everything about the classification and nothing else does;
3. the graph describes itself: licence, rights, publisher's page, version, when it was imported
   and the files (name, SHA-256) it was read from, which the VoID description repeats.

Validating a classification of thousands of concepts takes seconds, so what a check found is
kept (``.checked/``) with the inputs it used; a build checks again only if the graph, the
shapes, the seed triples about its concepts or the ontology changed. All the work happens
under the default base; the quads are moved under ``settings.base`` at the end.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyoxigraph as ox
from rdflib import Dataset, Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS, XSD

from ..core.namespaces import DEFAULT, ProjectNamespaces
from ..core.settings import DEFAULT_BASE, Settings
from ..core.terms import to_oxigraph
from ..core.vocab import DCTERMS, PAV, SPDX, TYPE
from ..store import imports as records
from .errors import BuildFailed
from .inference import DATA_GRAPHS, Schema, infer
from .labels import NAMING_PROPERTIES, labels
from .locations import Location
from .rebase import rebase_graph, rebase_term
from .validation import CLASSIFICATION_SHAPES, validate

__all__ = ["Attached", "Pending", "attach", "description", "recorded"]

_NT = ox.RdfFormat.N_TRIPLES
_XSD_STRING = ox.NamedNode(str(XSD.string))


@dataclass
class Pending:
    """An import to publish: its record and converted graph (N-Triples under the default base); a fresh
    import also knows the file and row of each subject, so violations point at the row."""

    record: records.ImportRecord
    graph: bytes
    locations: dict[URIRef, Location] = field(default_factory=dict)
    columns: dict[tuple[URIRef, URIRef], str] = field(default_factory=dict)


@dataclass
class Attached:
    """The quads of the imports of a build, and what checking each found (name -> (inputs, entailed
    N-Triples)) for :func:`keep`."""

    quads: list[ox.Quad] = field(default_factory=list)
    checked: dict[str, tuple[dict, bytes]] = field(default_factory=dict)
    changed: set[str] = field(default_factory=set)

    def keep(self, settings: Settings) -> None:
        """Record what was checked afresh in ``.checked/`` for the next build (best effort)."""
        for name in sorted(self.changed):
            records.write_checked(settings, name, *self.checked[name])


def recorded(settings: Settings) -> list[Pending]:
    """The imports recorded under ``var/imports/``. :raises StoreError: if one cannot be read."""
    return [Pending(record, records.read_graph(settings, record)) for record in records.read_records(settings)]


def _rdflib(term: ox.NamedNode | ox.Literal | ox.BlankNode):
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        return Literal(term.value) if term.datatype == _XSD_STRING else Literal(
            term.value, datatype=URIRef(term.datatype.value))
    raise ValueError(f"imported graphs have no blank nodes: {term}")


def _lines(triples) -> bytes:
    """N-Triples of ``triples``, one line each, sorted: equal graphs give equal bytes."""
    return b"".join(sorted(set(ox.serialize(list(triples), format=_NT).splitlines(keepends=True))))


def _digest(*parts: str | bytes) -> str:
    return records.sha256(b"\0".join(p.encode() if isinstance(p, str) else p for p in parts))


class _Inputs:
    """What every import of one build is checked against, under the default base."""

    def __init__(self, seeds: Dataset, settings: Settings) -> None:
        self.settings = settings.with_(base=DEFAULT_BASE)
        ns = ProjectNamespaces(settings.base)
        moved = settings.base != DEFAULT_BASE
        ontology = seeds.graph(ns.graph("ontology"))
        self.ontology = rebase_graph(ontology, settings.base, DEFAULT_BASE) if moved else ontology
        self.ontology_sha = records.sha256(_lines(_ox_triples(self.ontology)))
        self.schema = Schema.from_graph(self.ontology)
        self.seed_triples: dict[ox.NamedNode, list[ox.Triple]] = {}
        for name in DATA_GRAPHS:
            for s, p, o in seeds.graph(ns.graph(name)):
                if moved:
                    s, p, o = (rebase_term(t, settings.base, DEFAULT_BASE) for t in (s, p, o))
                triple = ox.Triple(to_oxigraph(s), to_oxigraph(p), to_oxigraph(o))
                self.seed_triples.setdefault(triple.subject, []).append(triple)  # type: ignore[arg-type]
        shapes = self.settings.shapes_dir / CLASSIFICATION_SHAPES[0]
        self.shapes_sha = records.sha256(shapes.read_bytes()) if shapes.is_file() else ""


def _ox_triples(graph: Graph) -> list[ox.Triple]:
    return [ox.Triple(to_oxigraph(s), to_oxigraph(p), to_oxigraph(o)) for s, p, o in graph]


def _validate(pending: Pending, asserted: list[ox.Triple], context: list[ox.Triple], inputs: _Inputs) -> None:
    """Check the graph and the seed triples about its concepts against the classification shapes."""
    dataset = Dataset()
    graph = dataset.graph(DEFAULT.graph(pending.record.name))
    for triple in (*asserted, *context):
        graph.add((_rdflib(triple.subject), _rdflib(triple.predicate), _rdflib(triple.object)))
    report = validate(dataset, inputs.settings, pending.locations, pending.columns,
                      shapes_files=CLASSIFICATION_SHAPES)
    if not report.conforms:
        raise BuildFailed(report.problems)


def _entail(asserted: list[ox.Triple], inputs: _Inputs) -> bytes:
    """What the ontology's rules and the common labels entail from the graph alone, as N-Triples."""
    facts = {(_rdflib(t.subject), _rdflib(t.predicate), _rdflib(t.object)) for t in asserted}
    entailed = infer(facts, inputs.schema)
    named = Graph()
    for s, p, o in facts | entailed:
        if p in NAMING_PROPERTIES or p == RDFS.label or p == RDF.type:
            named.add((s, p, o))
    entailed |= labels(named, inputs.ontology, DEFAULT)
    return _lines(ox.Triple(to_oxigraph(s), to_oxigraph(p), to_oxigraph(o)) for s, p, o in entailed - facts)


def description(record: records.ImportRecord) -> list[ox.Triple]:
    """What the graph of ``record`` says about itself (default base): licence, rights, publisher's page,
    version, when it was imported and each file it was read from, with its SHA-256."""
    graph = ox.NamedNode(str(DEFAULT.graph(record.name)))
    iri, text = ox.NamedNode, (lambda value: ox.Literal(value, language="en"))
    triples = [
        ox.Triple(graph, iri(DCTERMS + "license"), iri(record.licence)),
        ox.Triple(graph, iri(DCTERMS + "rights"), text(record.rights)),
        ox.Triple(graph, iri(DCTERMS + "source"), iri(record.source)),
        ox.Triple(graph, iri(PAV + "importedOn"), ox.Literal(record.imported, datatype=iri(str(XSD.dateTime)))),
    ]
    if record.version:
        triples.append(ox.Triple(graph, iri(PAV + "version"), ox.Literal(record.version)))
    for number, (name, digest) in enumerate(record.files, start=1):
        file, checksum = iri(f"{graph.value}#file-{number}"), iri(f"{graph.value}#file-{number}-sha256")
        triples += [
            ox.Triple(graph, iri(PAV + "importedFrom"), file),
            ox.Triple(file, iri(TYPE), iri(SPDX + "File")),
            ox.Triple(file, iri(SPDX + "fileName"), ox.Literal(name)),
            ox.Triple(file, iri(SPDX + "checksum"), checksum),
            ox.Triple(checksum, iri(TYPE), iri(SPDX + "Checksum")),
            ox.Triple(checksum, iri(SPDX + "algorithm"), iri(SPDX + "checksumAlgorithm_sha256")),
            ox.Triple(checksum, iri(SPDX + "checksumValue"), ox.Literal(digest, datatype=iri(str(XSD.hexBinary)))),
        ]
    return triples


def _moved(term, base: str):
    if isinstance(term, ox.NamedNode) and term.value.startswith(DEFAULT_BASE):
        return ox.NamedNode(base + term.value[len(DEFAULT_BASE):])
    return term


def attach(pending: list[Pending], seeds: Dataset, settings: Settings) -> Attached:
    """The quads of every import in ``pending``, each in its graph under ``settings.base``; nothing is written.

    :param seeds: the seed dataset of the build (its ontology and what it says about the concepts).
    :raises BuildFailed: with every violation of the classification shapes.
    """
    attached = Attached()
    if not pending:
        return attached
    inputs = _Inputs(seeds, settings)
    base = settings.base.rstrip("/")
    for item in pending:
        name = item.record.name
        asserted = list(ox.parse(item.graph, format=_NT))
        subjects = {t.subject for t in asserted}
        context = [t for s in subjects for t in inputs.seed_triples.get(s, ())]  # type: ignore[arg-type]
        checked, entailed = records.read_checked(settings, name)
        validated = _digest(item.record.sha256, inputs.shapes_sha, _lines(context))
        if checked.get("validated") != validated:
            _validate(item, asserted, context, inputs)
        entails = _digest(item.record.sha256, inputs.ontology_sha)
        if entailed is None or checked.get("entailed") != entails:
            entailed = _entail(asserted, inputs)
        found = {"validated": validated, "entailed": entails}
        attached.checked[name] = (found, entailed)
        if found != {k: checked.get(k) for k in found}:
            attached.changed.add(name)
        graph = ox.NamedNode(str(ProjectNamespaces(base).graph(name)))
        lines = item.graph + entailed + ox.serialize(description(item.record), format=_NT)
        if base == DEFAULT_BASE:  # every N-Triples line ends " .\n": naming the graph there makes N-Quads
            attached.quads.extend(ox.parse(lines.replace(b" .\n", f" {graph} .\n".encode()),
                                           format=ox.RdfFormat.N_QUADS))
        else:
            attached.quads.extend(ox.Quad(_moved(t.subject, base), _moved(t.predicate, base), _moved(t.object, base),
                                          graph) for t in ox.parse(lines, format=_NT))
    return attached
