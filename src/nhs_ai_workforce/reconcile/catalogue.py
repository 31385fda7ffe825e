"""What can be reconciled against: one model of a candidate entity, and the catalogue of them.

An :class:`Entity` holds everything the matcher and the service need: its names and how each
names it (:class:`Label`), its kinds and narrower classes, definition, broader concepts, and
the standard codes its curated mappings give it (:class:`Code`) or say it has not
(:class:`NoCode`). :func:`~.reading.load_catalogue` fills a :class:`Catalogue` from the store,
once per build.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from .kinds import EntityType, same_type

#: How a label names its entity, strongest first. ``used`` is the wording an initiative uses
#: for a concept; ``short`` an initiative title's part before its colon; ``example`` a SOC 2020
#: related job title of the concept's unit group (``related-example``: a related match's).
LABEL_KINDS = ("pref", "alt", "used", "short", "hidden", "synonym", "example", "related-example")

#: The SKOS mapping relations, as their local names, most exact first; the first three give
#: an entity the code the matcher shows, the first four the codes the service offers.
RELATIONS = ("exactMatch", "closeMatch", "broadMatch", "narrowMatch", "relatedMatch")
MATCHER_CODE_RELATIONS = RELATIONS[:3]
CODE_RELATIONS = RELATIONS[:4]


@dataclass(frozen=True)
class Label:
    """One name of an entity and how it names it (one of :data:`LABEL_KINDS`)."""

    text: str
    kind: str


@dataclass(frozen=True)
class Code:
    """A standard code an entity maps to: its scheme key, IRI, notation, label and SKOS relation."""

    scheme: str  # soc2020, isco, esco or ddat
    id: str
    code: str
    label: str
    relation: str  # the SKOS local name, one of RELATIONS

    @property
    def is_code(self) -> bool:
        """Does the mapping give the entity this code (related matches do not)?"""
        return self.relation in CODE_RELATIONS

    def display(self) -> str:
        return " ".join(part for part in (self.code, self.label) if part) or self.id


@dataclass(frozen=True)
class NoCode:
    """A scheme that has no code for an entity, and the curator's reason."""

    scheme: str
    comment: str


@dataclass(frozen=True)
class Entity:
    """One candidate: its IRI, name, kinds and everything else it is known by."""

    id: str
    name: str
    kinds: tuple[EntityType, ...]  # the first is the kind it is matched as
    labels: tuple[Label, ...] = ()
    description: str = ""
    #: Narrower classes of the project's ontology, as (IRI, name), by name.
    narrower_types: tuple[tuple[str, str], ...] = ()
    broader: tuple[str, ...] = ()
    codes: tuple[Code, ...] = ()
    no_codes: tuple[NoCode, ...] = ()

    @property
    def kind(self) -> EntityType:
        return self.kinds[0]

    @property
    def type_refs(self) -> list[dict[str, str]]:
        """Its types as ``{"id", "name"}``: its kind first, then its narrower classes."""
        return [self.kind.ref(), *({"id": iri, "name": name} for iri, name in self.narrower_types)]

    @property
    def alt_labels(self) -> list[str]:
        return sorted({label.text for label in self.labels if label.kind == "alt" and label.text != self.name})

    @property
    def hidden_labels(self) -> list[str]:
        return sorted({label.text for label in self.labels if label.kind == "hidden"})

    def codes_in(self, scheme: str) -> list[Code]:
        """The codes the mappings give it in ``scheme`` (related matches are not codes)."""
        return [code for code in self.codes if code.scheme == scheme and code.is_code]

    def best(self, scheme: str) -> Code | None:
        """Its most exact code in ``scheme`` through an exact, close or broad match (the lowest
        notation, or for ESCO and DDaT the lowest IRI, on a tie)."""
        ranked = [(MATCHER_CODE_RELATIONS.index(c.relation), c.code if scheme in ("soc2020", "isco") else c.id, c)
                  for c in self.codes if c.scheme == scheme and c.relation in MATCHER_CODE_RELATIONS]
        return min((item for item in ranked if item[1]), default=(0, "", None), key=lambda i: i[:2])[2]

    def best_code(self, scheme: str) -> str | None:
        """:meth:`best`'s notation, or for ESCO the occupation's IRI."""
        code = self.best(scheme)
        if code is None:
            return None
        return code.id if scheme == "esco" else code.code

    @property
    def soc2020(self) -> str | None:
        """Its ONS SOC 2020 unit group code."""
        return self.best_code("soc2020")

    @property
    def isco(self) -> str | None:
        """Its ISCO-08 unit group code."""
        return self.best_code("isco")

    @property
    def esco(self) -> str | None:
        """The IRI of its ESCO occupation."""
        return self.best_code("esco")


@dataclass(frozen=True)
class Catalogue:
    """Every candidate of one store build by IRI, ordered by name, with the kinds of candidate."""

    base: str
    types: tuple[EntityType, ...]
    entities: dict[str, Entity] = field(default_factory=dict)

    def get(self, iri: str) -> Entity | None:
        return self.entities.get(iri)

    def type_for(self, name: str) -> EntityType | None:
        """The kind of candidate ``name`` means: its key, class IRI, name or local name."""
        return next((t for t in self.types if same_type(name, t)), None)

    def type_ids(self, requested: Iterable[str]) -> list[str]:
        """Type ids for requested ids or keys (``role``, ``RoleConcept``, the class IRI...); others kept as given."""
        out = []
        for name in requested:
            found = self.type_for(name)
            out.append(found.id if found else name)
        return list(dict.fromkeys(out))

    def in_types(self, entity: Entity, type_ids: Sequence[str] | None) -> bool:
        """Is ``entity`` of one of ``type_ids``? Without any: is it of the project's own kinds
        (the classifications are found only when asked for by type)?"""
        if not type_ids:
            return not entity.kind.classification
        return any(t.id in type_ids for t in entity.kinds)

    def name_of(self, iri: str) -> str:
        entity = self.entities.get(iri)
        return entity.name if entity else iri


def fold(text: str) -> str:
    """Accents dropped, case folded, spaces squeezed: how names are compared and ordered.

    >>> fold("  Café   Manager ")
    'cafe manager'
    """
    text = unicodedata.normalize("NFKD", text)
    return " ".join("".join(c for c in text if not unicodedata.combining(c)).casefold().split())
