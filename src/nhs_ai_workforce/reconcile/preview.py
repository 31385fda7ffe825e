"""The preview card of an entity: what it shows, as data; ``web/templates/reconcile_preview.html`` draws it."""

from __future__ import annotations

from dataclasses import dataclass

from .catalogue import Catalogue
from .properties import SCHEMES

#: The size of OpenRefine's preview frame, which the card fits by default.
PREVIEW_WIDTH, PREVIEW_HEIGHT = 420, 220

_RELATIONS = {"exactMatch": "exact match", "closeMatch": "close match", "broadMatch": "broad match",
              "narrowMatch": "narrow match"}


@dataclass(frozen=True)
class Row:
    """One line of the card: a heading and its text; a code's mapping relation, or a scheme with no code."""

    heading: str
    text: str
    relation: str | None = None
    no_code: bool = False


@dataclass(frozen=True)
class Preview:
    """What the card of one entity shows."""

    id: str
    name: str
    types: str
    description: str
    rows: tuple[Row, ...]


def preview(catalogue: Catalogue, iri: str) -> Preview | None:
    """The card of the entity ``iri``: its codes scheme by scheme, broader concepts and other names;
    ``None`` if there is no such entity."""
    entity = catalogue.get(iri)
    if entity is None:
        return None
    rows: list[Row] = []
    for scheme, heading in SCHEMES.items():
        for code in (c for c in entity.codes if c.scheme == scheme):
            rows.append(Row(heading, code.display(), relation=_RELATIONS.get(code.relation, "related match")))
        for note in (n for n in entity.no_codes if n.scheme == scheme):
            rows.append(Row(heading, note.comment, no_code=True))
    if entity.broader:
        rows.append(Row("Broader", "; ".join(catalogue.name_of(iri) for iri in entity.broader)))
    if entity.alt_labels:
        rows.append(Row("Also", "; ".join(entity.alt_labels[:6])))
    return Preview(entity.id, entity.name, ", ".join(t.name for t in entity.kinds), entity.description, tuple(rows))
