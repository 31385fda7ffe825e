"""A scored candidate: an entity as the answer to one query, best first in a result list."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from .catalogue import LABEL_KINDS, Entity

#: Why a candidate was proposed (:attr:`Candidate.matched_by`): the kind of the label the query
#: holds word for word (``pref`` the preferred label, ``alt`` an alternative one, ``used`` an
#: initiative's wording, ``short`` an initiative title before its colon, ``hidden`` a known
#: misspelling, ``synonym`` a curated job title, ``example`` and ``related-example`` a SOC 2020
#: related job title), or ``fuzzy`` when it holds the label only in part, misspelled or as
#: a discipline's name (*informatics* for *informatician*).
MATCHED_BY: tuple[str, ...] = (*LABEL_KINDS, "fuzzy")


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
    #: The label that scored best, and why the candidate was proposed: one of :data:`MATCHED_BY`.
    #: A match is only made on a label the query holds whole (one misspelt word allowed).
    #: Candidates found by id or by their properties alone have neither.
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
        """The candidate as the Reconciliation Service API writes it; why it was proposed is its
        one feature, ``matched_<kind>``, named after the label, with the score as its value."""
        result = {"id": self.id, "name": self.name, "type": self.types, "score": round(self.score, 2),
                  "match": self.match}
        if self.description:
            result["description"] = self.description
        if self.matched_by:
            result["features"] = [{"id": f"matched_{self.matched_by}", "value": round(self.score, 2),
                                   "name": f"{self.matched_label} ({self.matched_by})"}]
        return result
