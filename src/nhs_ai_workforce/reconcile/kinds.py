"""The kinds of thing the reconciler finds: the project's four, whose ids are their classes, and
three standard classifications, whose members are the concepts of a scheme.

Role concepts and workforce groups are named by job titles (``title`` mode, see
:mod:`.normalise`); organisations and initiatives by their names (``name`` mode). The
classifications (SOC 2020 unit groups, ESCO occupations, ISCO-08 groups) are matched by job
titles too, and only when a query asks for them by type: a query without a type is about the
project's own kinds (:data:`EntityType.classification` is false).

>>> [t.key for t in entity_types("http://example.org")]
['role', 'workforce-group', 'organisation', 'initiative', 'soc2020', 'esco', 'isco']
>>> [t.key for t in entity_types("http://example.org") if same_type("aiwf:RoleConcept", t)]
['role']
"""

from __future__ import annotations

from dataclasses import dataclass

from ..core.vocab import ESCO, ORG


@dataclass(frozen=True)
class EntityType:
    """A kind of candidate: its short key, class IRI (the type id), name, description and
    how its labels are normalised (``title`` or ``name``)."""

    key: str
    id: str
    name: str
    description: str
    mode: str
    #: For a classification: the concept scheme whose members are its candidates, and the
    #: length of their notation where the scheme mixes levels (4 for a SOC 2020 unit group).
    scheme: str | None = None
    notation_length: int | None = None

    @property
    def classification(self) -> bool:
        """Is it a standard classification, asked for by type only?"""
        return self.scheme is not None

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
        *classification_types(base),
    )


def classification_types(base: str) -> tuple[EntityType, ...]:
    """SOC 2020 unit groups (the seeds' and, once imported, all 412), ESCO occupations and ISCO-08
    groups (the mapped ones, and all of them once ESCO is imported)."""
    soc = f"{base.rstrip('/')}/id/scheme/soc2020"
    return (
        EntityType("soc2020", soc, "SOC 2020 unit group",
                   "An ONS Standard Occupational Classification 2020 unit group (a four-digit code)", "title",
                   scheme=soc, notation_length=4),
        EntityType("esco", f"{ESCO}model#Occupation", "ESCO occupation",
                   "An occupation of the European Skills, Competences, Qualifications and Occupations "
                   "classification", "title", scheme=f"{ESCO}concept-scheme/occupations"),
        EntityType("isco", f"{ESCO}model#ISCOGroup", "ISCO-08 group",
                   "A group of the International Standard Classification of Occupations 2008, as ESCO "
                   "publishes it", "title", scheme=f"{ESCO}concept-scheme/isco", notation_length=4),
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
