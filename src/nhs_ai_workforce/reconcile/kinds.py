"""The four kinds of thing the reconciler finds, whose ids are their classes.

Role concepts and workforce groups are named by job titles (``title`` mode, see
:mod:`.normalise`); organisations and initiatives by their names (``name`` mode).

>>> [t.key for t in entity_types("http://example.org")]
['role', 'workforce-group', 'organisation', 'initiative']
>>> [t.key for t in entity_types("http://example.org") if same_type("aiwf:RoleConcept", t)]
['role']
"""

from __future__ import annotations

from dataclasses import dataclass

from ..core.vocab import ORG


@dataclass(frozen=True)
class EntityType:
    """A kind of candidate: its short key, class IRI (the type id), name, description and
    how its labels are normalised (``title`` or ``name``)."""

    key: str
    id: str
    name: str
    description: str
    mode: str

    def ref(self) -> dict[str, str]:
        """The type as the service writes it: ``{"id", "name"}``."""
        return {"id": self.id, "name": self.name}


def entity_types(base: str) -> tuple[EntityType, ...]:
    """The four kinds of candidate under ``base``, in the order they are shown."""
    aiwf = f"{base.rstrip('/')}/def/aiwf/"
    return (
        EntityType("role", f"{aiwf}RoleConcept", "Role concept",
                   "A kind of digital, data or AI job, under the names initiatives give it", "title"),
        EntityType("workforce-group", f"{aiwf}WorkforceGroup", "Workforce group",
                   "A group of NHS staff in the AI Roadmap's analysis", "title"),
        EntityType("organisation", f"{ORG}Organization", "Organisation",
                   "A body that publishes, commissions or runs initiatives", "name"),
        EntityType("initiative", f"{aiwf}Initiative", "Initiative",
                   "A review, report, strategy, plan, programme or roadmap", "name"),
    )


def local_name(iri: str) -> str:
    """The last part of an IRI, after its last ``/`` or ``#``.

    >>> local_name("http://www.w3.org/2004/02/skos/core#exactMatch")
    'exactMatch'
    """
    return iri.rsplit("/", 1)[-1].rsplit("#", 1)[-1]


def same_type(name: str, entity_type: EntityType) -> bool:
    """Does ``name`` (its id, key, name, local name or ``aiwf:``/``org:`` CURIE) mean ``entity_type``?"""
    name = name.strip()
    local = local_name(entity_type.id)
    return name in (entity_type.id, entity_type.key) or name.lower() in (
        local.lower(), entity_type.name.lower(), f"aiwf:{local}".lower(), f"org:{local}".lower())
