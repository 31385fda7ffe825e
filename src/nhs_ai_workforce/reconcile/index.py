"""What can be reconciled against: the candidates and all their names, read from the store.

One SPARQL query per kind of candidate (role concepts, AI Roadmap workforce groups,
organisations, initiatives) reads every name a candidate has (preferred, alternative and
hidden labels, the wording each initiative uses for a concept, official and alternative
titles), its definition or description, its types, and for concepts the standard codes
reached through the curated mappings: the ONS SOC 2020 unit group, the ISCO-08 group and the
ESCO occupation (an exact, close or broad match; related matches are not codes of the concept).
The SOC 2020 related job titles of a unit group that only one concept maps to are kept as
weak names of that concept.

The index is plain data built once per store build (see :func:`index_for`).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field

import pyoxigraph as ox

from ..core.namespaces import ProjectNamespaces
from ..store.query import run_query

SKOS = "http://www.w3.org/2004/02/skos/core#"
ORG = "http://www.w3.org/ns/org#"
ESCO_OCCUPATIONS = "http://data.europa.eu/esco/concept-scheme/occupations"
#: ISCO-08 groups as ESCO publishes them; their notation is the ISCO code.
ISCO_PREFIX = "http://data.europa.eu/esco/isco/"

#: How a label names its entity, strongest first. ``used`` is the wording an initiative uses
#: for a concept; ``short`` an initiative title's part before its colon; ``example`` a SOC 2020
#: related job title of the concept's unit group.
LABEL_KINDS = ("pref", "alt", "used", "short", "hidden", "synonym", "example", "related-example")

#: Mapping relations whose targets give a concept its codes, most exact first.
CODE_RELATIONS = (f"{SKOS}exactMatch", f"{SKOS}closeMatch", f"{SKOS}broadMatch")


@dataclass(frozen=True)
class EntityType:
    """A kind of candidate: the short key used on the command line, its class and name."""

    key: str
    iri: str
    name: str
    mode: str  # how its labels are normalised: "title" (job titles) or "name"


def entity_types(ns: ProjectNamespaces) -> tuple[EntityType, ...]:
    """The four kinds of candidate under one base URI."""
    aiwf = str(ns.AIWF)
    return (
        EntityType("role", f"{aiwf}RoleConcept", "Role concept", "title"),
        EntityType("workforce-group", f"{aiwf}WorkforceGroup", "Workforce group", "title"),
        EntityType("organisation", f"{ORG}Organization", "Organisation", "name"),
        EntityType("initiative", f"{aiwf}Initiative", "Initiative", "name"),
    )


@dataclass(frozen=True)
class Label:
    """One name of an entity and how it names it (one of :data:`LABEL_KINDS`)."""

    text: str
    kind: str


@dataclass(frozen=True)
class Entry:
    """One candidate: its IRI, name, kind, other types, description, codes and labels."""

    id: str
    name: str
    type: EntityType
    labels: tuple[Label, ...]
    description: str | None = None
    other_types: tuple[tuple[str, str], ...] = ()
    soc2020: str | None = None
    isco: str | None = None
    esco: str | None = None

    @property
    def types(self) -> list[dict[str, str]]:
        """Its types as ``{"id", "name"}``: the kind of candidate first, then narrower classes."""
        return [{"id": self.type.iri, "name": self.type.name},
                *({"id": iri, "name": name} for iri, name in self.other_types)]


@dataclass(frozen=True)
class Index:
    """Every candidate of one store build, in a stable order."""

    entries: tuple[Entry, ...]
    types: tuple[EntityType, ...]
    base: str
    build_id: str | None = None
    by_id: dict[str, Entry] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self.by_id.update({entry.id: entry for entry in self.entries})

    def type_for(self, name: str) -> EntityType | None:
        """The kind of candidate called ``name``: its short key or its class IRI."""
        return next((t for t in self.types if name in (t.key, t.iri)), None)


# -- reading the store ---------------------------------------------------------------------

_VALUES_CODE_RELATIONS = " ".join(f"<{iri}>" for iri in CODE_RELATIONS)

_QUERY = """
SELECT ?entity ?kind ?value ?target ?relation WHERE {{
  ?entity a <{cls}> .
  {{ ?entity {name} ?value BIND("pref" AS ?kind) }}
  UNION {{ ?entity {alt} ?value BIND("alt" AS ?kind) }}
  UNION {{ ?entity skos:hiddenLabel ?value BIND("hidden" AS ?kind) }}
  UNION {{ ?usage aiwf:concept ?entity ; aiwf:labelUsed ?value BIND("used" AS ?kind) }}
  UNION {{ ?entity {description} ?value BIND("description" AS ?kind) }}
  UNION {{ ?entity a ?target . ?target rdfs:label ?value .
           FILTER(STRSTARTS(STR(?target), STR(aiwf:)) && ?target != <{cls}>)
           BIND("type" AS ?kind) }}
  UNION {{ VALUES ?relation {{ {relations} skos:relatedMatch }}
           ?entity ?relation ?target . ?target skos:notation ?value BIND("code" AS ?kind) }}
  UNION {{ VALUES ?relation {{ {relations} skos:relatedMatch }}
           ?entity ?relation ?target . ?target skos:example ?value BIND("example" AS ?kind) }}
  UNION {{ VALUES ?relation {{ {relations} }}
           ?entity ?relation ?target . ?target skos:inScheme <{esco}>
           BIND(STR(?target) AS ?value) BIND("esco" AS ?kind) }}
}}
ORDER BY ?entity ?kind ?value ?target ?relation
"""

_SHAPES = {
    "title": {"name": "skos:prefLabel", "alt": "skos:altLabel", "description": "skos:definition"},
    "name": {"name": "foaf:name|dcterms:title", "alt": "skos:altLabel|dcterms:alternative",
             "description": "skos:definition|dcterms:description"},
}


def _query_text(entity_type: EntityType) -> str:
    return _QUERY.format(cls=entity_type.iri, relations=_VALUES_CODE_RELATIONS, esco=ESCO_OCCUPATIONS,
                         **_SHAPES[entity_type.mode])


def load_index(store: ox.Store, *, base: str, build_id: str | None = None) -> Index:
    """Read every candidate from ``store`` with one query per kind of candidate."""
    ns = ProjectNamespaces(base)
    prefixes = ns.prefixes()
    soc_prefix = f"{ns.base}/id/soc2020/"
    types = entity_types(ns)
    raw: dict[str, _Raw] = {}
    for entity_type in types:
        for solution in run_query(store, _query_text(entity_type), prefixes=prefixes):
            iri = solution["entity"].value
            record = raw.get(iri)
            if record is None:
                record = raw[iri] = _Raw(iri, entity_type)
            elif record.type is not entity_type:
                continue  # counted under the first kind it belongs to
            record.add(solution, soc_prefix)
    examples = _unique_examples(raw.values())
    entries = tuple(record.entry(examples.get(record.iri, ())) for record in raw.values() if record.name)
    return Index(entries=entries, types=types, base=ns.base, build_id=build_id)


_RELATION_RANK = {iri: rank for rank, iri in enumerate(CODE_RELATIONS)}


class _Raw:
    """The rows of one entity, gathered before they become an :class:`Entry`."""

    def __init__(self, iri: str, entity_type: EntityType) -> None:
        self.iri = iri
        self.type = entity_type
        self.name: str | None = None
        self.name_is_english = False
        self.labels: list[Label] = []
        self.description: str | None = None
        self.other_types: dict[str, str] = {}
        self.codes: dict[str, tuple[int, str]] = {}  # scheme -> (relation rank, code)
        self.esco: tuple[int, str] | None = None
        self.examples: dict[str, set[str]] = {}  # SOC code -> its related job titles
        self.related_examples: dict[str, set[str]] = {}

    def add(self, solution: ox.QuerySolution, soc_prefix: str) -> None:
        kind = solution["kind"].value
        value = solution["value"].value
        target = solution["target"]
        relation = solution["relation"]
        if kind == "pref":
            english = _english(solution["value"])
            if self.name is None or (english and not self.name_is_english):
                self.name, self.name_is_english = value, english
            self.labels.append(Label(value, "pref"))
        elif kind in ("alt", "hidden", "used"):
            self.labels.append(Label(value, kind))
        elif kind == "description":
            if self.description is None or len(value) < len(self.description):
                self.description = value
        elif kind == "type" and target is not None:
            self.other_types[target.value] = value
        elif relation is not None and target is not None:
            self._add_mapping(kind, value, target.value, relation.value, soc_prefix)

    def _add_mapping(self, kind: str, value: str, target: str, relation: str, soc_prefix: str) -> None:
        rank = _RELATION_RANK.get(relation)
        is_soc = target.startswith(soc_prefix)
        if kind == "example" and is_soc:
            bucket = self.examples if rank is not None else self.related_examples
            bucket.setdefault(target, set()).add(value)
            return
        if rank is None:
            return  # related matches give no codes
        if kind == "esco":
            if self.esco is None or (rank, target) < self.esco:
                self.esco = (rank, target)
        elif kind == "code":
            scheme = "soc2020" if is_soc else "isco" if target.startswith(ISCO_PREFIX) else None
            if scheme and (scheme not in self.codes or (rank, value) < self.codes[scheme]):
                self.codes[scheme] = (rank, value)

    def entry(self, examples: Iterable[Label]) -> Entry:
        assert self.name is not None
        labels = list(dict.fromkeys([*self.labels, *examples]))
        if self.type.mode == "name":
            labels += [Label(t.split(":", 1)[0].strip(), "short") for t in (self.name,) if ":" in t]
        return Entry(
            id=self.iri,
            name=self.name,
            type=self.type,
            labels=tuple(labels),
            description=self.description,
            other_types=tuple(sorted(self.other_types.items(), key=lambda item: (item[1], item[0]))),
            soc2020=self.codes.get("soc2020", (0, None))[1],
            isco=self.codes.get("isco", (0, None))[1],
            esco=self.esco[1] if self.esco else None,
        )



def _english(literal: ox.Literal) -> bool:
    return bool(literal.language and literal.language.lower().startswith("en")) or not literal.language


def _unique_examples(records: Iterable[_Raw]) -> dict[str, list[Label]]:
    """SOC 2020 related job titles, as weak labels of the one concept mapped to their group.

    A unit group mapped from two or more concepts (2433 holds statisticians, economists and
    bioinformaticians) says nothing about which of them a title means, so it gives none.
    """
    records = list(records)
    owners: dict[tuple[str, str], list[str]] = {}
    for record in records:
        for strength, bucket in (("example", record.examples), ("related-example", record.related_examples)):
            for soc in bucket:
                owners.setdefault((strength, soc), []).append(record.iri)
    out: dict[str, list[Label]] = {}
    for record in records:
        for strength, bucket in (("example", record.examples), ("related-example", record.related_examples)):
            for soc, titles in sorted(bucket.items()):
                if owners[(strength, soc)] == [record.iri]:
                    out.setdefault(record.iri, []).extend(Label(t, strength) for t in sorted(titles))
    return out


# -- one index per build -------------------------------------------------------------------

_CACHE: OrderedDict[tuple[str | None, str], Index] = OrderedDict()
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 2


def index_for(store: ox.Store, *, base: str, build_id: str | None) -> Index:
    """The index of a store build, read once per ``(build_id, base)`` and then kept.

    With ``build_id=None`` the store is read every time (a store that is not a build).
    """
    if build_id is None:
        return load_index(store, base=base)
    key = (build_id, base.rstrip("/"))
    with _CACHE_LOCK:
        cached = _CACHE.get(key)
        if cached is not None:
            _CACHE.move_to_end(key)
            return cached
    index = load_index(store, base=base, build_id=build_id)
    with _CACHE_LOCK:
        _CACHE[key] = index
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return index
