"""A scored candidate: an entity as the answer to one query, best first in a result list."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from .catalogue import Entity


@dataclass(frozen=True)
class Candidate:
    """One reconciliation candidate: the entity's id, name, types and codes, its score and
    whether it is a match."""

    id: str
    name: str
    score: float
    match: bool
    types: list[dict[str, str]]
    description: str | None = None
    soc2020: str | None = None
    isco: str | None = None
    esco: str | None = None
    #: The label that scored best, and how the query matched it: its kind (``pref``, ``alt``,
    #: ``hidden``, ``used``, ``synonym``, ``example``...) when spelled exactly, else ``fuzzy``.
    matched_label: str | None = None
    matched_by: str | None = None

    @classmethod
    def of(cls, entity: Entity, score: float, match: bool, *, types: list[dict[str, str]] | None = None,
           matched_label: str | None = None, matched_by: str | None = None) -> Candidate:
        """``entity`` scored; its types are its kind and narrower classes unless ``types`` are given."""
        return cls(id=entity.id, name=entity.name, score=score, match=match,
                   types=entity.type_refs if types is None else types, description=entity.description or None,
                   soc2020=entity.soc2020, isco=entity.isco, esco=entity.esco,
                   matched_label=matched_label, matched_by=matched_by)

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    def as_result(self) -> dict:
        """The candidate as the Reconciliation Service API writes it."""
        result = {"id": self.id, "name": self.name, "type": self.types, "score": round(self.score, 2),
                  "match": self.match}
        if self.description:
            result["description"] = self.description
        return result
