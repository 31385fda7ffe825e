"""One common label: every thing gets an ``rdfs:label``, derived into the ``inferred`` graph.

Each kind is named by its own property (initiatives, datasets, schemes and sources by
``dcterms:title``, organisations and people by ``foaf:name``, concepts by ``skos:prefLabel``);
its English value is copied to ``rdfs:label``. Things that have no name of their own get a
label composed only from their own data, never a new claim:

- an aim: its kind and what it is the aim of ("Purpose of The Topol Review: ...");
- a recommendation: who recommends it ("Recommendation of The Topol Review: ...");
- a term usage: the wording used and where ("'data analysts' in The Goldacre Review ...");
- a source statement: the value as stated and where ("'2021' in Reference 7 (...)", or the
  web page's host for a statement from the checked identifiers);
- an observation: its dataset and its dimension values in the structure's order
  ("AI Roadmap technology shares: by technology type, Diagnostic");
- a structure component: its order and structure ("Component 2 of Structure of shares");
- an SSSOM mapping record: its two labels and its predicate
  ("Mapping of data scientist to Systems analysts (broad match)"; "... to no term found" for
  ``sssom:NoTermFound``).

Two composed labels that would be equal are told apart by the things' keys. Things that
already have an ``rdfs:label`` keep it and get no other. Labels are ``@en``.
"""

from __future__ import annotations

import re
from collections import defaultdict
from urllib.parse import urlsplit

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, FOAF, OWL, QB, RDFS, SKOS

from ..core.namespaces import ProjectNamespaces

__all__ = ["NAMING_PROPERTIES", "labels"]

#: The properties that name a kind of thing, in order of preference.
NAMING_PROPERTIES = (DCTERMS.title, FOAF.name, SKOS.prefLabel)

_SSSOM = "https://w3id.org/sssom/"
Triple = tuple[URIRef, URIRef, Literal]


def _english(graph: Graph, subject: URIRef, predicate: URIRef) -> Literal | None:
    """The English (or else untagged) value of ``predicate``, the smallest if several."""
    values = [v for v in graph.objects(subject, predicate) if isinstance(v, Literal)]
    english = sorted(v for v in values if (v.language or "").lower().split("-")[0] == "en")
    plain = sorted(v for v in values if v.language is None and v.datatype is None)
    found = english or plain
    return found[0] if found else None


def _number(value: object) -> float:
    """A component's order as a number; an order that is not one sorts last."""
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return float("inf")


def _words(term: URIRef) -> str:
    """The local name of ``term`` in words: ``broadMatch`` is "broad match"."""
    local = re.split(r"[/#]", str(term))[-1]
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", local).lower()


class _Namer:
    def __init__(self, data: Graph, ontology: Graph, ns: ProjectNamespaces) -> None:
        self.data = data
        self.ontology = ontology
        self.ns = ns
        self.prefix = f"{ns.base}/id/"

    def one(self, subject: object, predicate: URIRef) -> object:
        """The smallest value of ``predicate``, so that a thing with two gets the same label each run."""
        return min(self.data.objects(subject, predicate), default=None)  # type: ignore[arg-type]

    def kind(self, subject: URIRef) -> str | None:
        text = str(subject)
        return text[len(self.prefix):].split("/", 1)[0] if text.startswith(self.prefix) else None

    def name(self, subject: object) -> str | None:
        """The label or name a thing has of its own, or the year of a calendar interval."""
        if not isinstance(subject, URIRef):
            return None
        for predicate in (RDFS.label, *NAMING_PROPERTIES):
            value = _english(self.data, subject, predicate)
            if value is not None:
                return str(value)
        interval = re.fullmatch(r"http://reference\.data\.gov\.uk/id/(?:year|month|day)/(.+)", str(subject))
        return interval.group(1) if interval else None

    def term(self, prop: URIRef) -> str:
        value = _english(self.ontology, prop, RDFS.label)
        return str(value) if value is not None else _words(prop)

    def composed(self, subject: URIRef) -> str | None:
        a = self.ns.AIWF
        kind = self.kind(subject)
        if kind == "aim":
            owner, aim_kind = self.name(self.one(subject, a.aimOf)), self.one(subject, a.aimKind)
            if owner and aim_kind:
                return f"{str(aim_kind).capitalize()} of {owner}"
        elif kind == "recommendation":
            owner = self.name(self.one(subject, a.recommendedBy))
            return f"Recommendation of {owner}" if owner else None
        elif kind == "term-usage":
            wording, where = self.one(subject, a.labelUsed), self.name(self.one(subject, a.usedIn))
            if wording and where:
                return f"'{wording}' in {where}"
        elif kind == "statement":
            return self._statement(subject)
        elif kind == "component":
            order = self.one(subject, QB.order)
            structure = self.name(min(self.data.subjects(QB.component, subject), default=None))
            if order is not None and structure:
                return f"Component {order} of {structure}"
        elif kind == "observation":
            return self._observation(subject)
        elif kind == "mapping":
            return self._mapping(subject)
        return None

    def _observation(self, subject: URIRef) -> str | None:
        dataset = self.one(subject, QB.dataSet)
        title = self.name(dataset)
        if not title:
            return None
        ordered = sorted({
            (_number(self.one(c, QB.order)), str(d), d)
            for structure in self.data.objects(dataset, QB.structure)
            for c in self.data.objects(structure, QB.component)
            for d in self.data.objects(c, QB.dimension)})
        values = [self.name(self.one(subject, d)) for _, _, d in ordered]
        values = [v for v in values if v]
        return f"{title}: {', '.join(values)}" if values else title

    def _statement(self, subject: URIRef) -> str | None:
        """The value as stated and where: the first section that states it, else the page's host."""
        value = self.one(subject, self.ns.AIWF.statedValue)
        places = sorted(self.data.objects(subject, self.ns.AIWF.statedIn), key=str)
        page = self.one(subject, DCTERMS.source)
        where = next((n for p in places if self.kind(p) == "section" and (n := self.name(p))),
                     urlsplit(str(page)).hostname if page else None)
        return f"'{value}' in {where}" if value and where else None

    def _mapping(self, subject: URIRef) -> str | None:
        source = self.one(subject, URIRef(_SSSOM + "subject_label")) or self.name(
            self.one(subject, OWL.annotatedSource))
        target_iri = self.one(subject, OWL.annotatedTarget)
        target = self.one(subject, URIRef(_SSSOM + "object_label")) or self.name(target_iri)
        if not target and str(target_iri).startswith(_SSSOM):  # sssom:NoTermFound
            target = _words(target_iri)  # type: ignore[arg-type]
        prop = self.one(subject, OWL.annotatedProperty)
        if not (source and target and isinstance(prop, URIRef)):
            return None
        return f"Mapping of {source} to {target} ({self.term(prop)})"


def labels(data: Graph, ontology: Graph, ns: ProjectNamespaces) -> set[Triple]:
    """The ``rdfs:label`` triples that the things of ``data`` lack.

    ``data`` is the union of the data graphs (with what inference added); ``ontology`` gives the
    labels of properties used in composed labels.
    """
    namer = _Namer(data, ontology, ns)
    found: set[Triple] = set()
    composed: dict[str, list[URIRef]] = defaultdict(list)
    subjects = sorted({s for s in data.subjects() if isinstance(s, URIRef)})
    for subject in subjects:
        if (subject, RDFS.label, None) in data:
            continue
        named = next((v for p in NAMING_PROPERTIES
                      if (v := _english(data, subject, p)) is not None), None)
        if named is not None:
            found.add((subject, RDFS.label, Literal(str(named), lang="en")))
            continue
        text = namer.composed(subject)
        if text:
            composed[text].append(subject)
    for text, things in composed.items():
        for thing in things:
            label = text if len(things) == 1 else f"{text} ({str(thing).rsplit('/', 1)[-1]})"
            found.add((thing, RDFS.label, Literal(label, lang="en")))
    return found
