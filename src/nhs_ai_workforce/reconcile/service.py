"""Answering reconciliation queries: candidates from the matcher, or by id, or by properties alone,
then raised, lowered or dropped by the query's property constraints.

The four kinds of candidate are types whose ids are their classes; a query may also name them
by key (``role``, ``workforce-group``, ``organisation``, ``initiative``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from .candidate import Candidate
from .catalogue import Catalogue, Entity
from .matcher import Reconciler
from .properties import PROPERTY_BY_ID, entity_keys, value_keys
from .protocol import Constraint, Query

#: Boost for each property constraint a candidate meets, penalty for each it contradicts.
PROPERTY_BOOST, PROPERTY_PENALTY = 10.0, 30.0
#: A candidate that meets every property constraint is a match with this score and this lead.
MATCH_SCORE, MATCH_MARGIN = 85.0, 8.0


def answer(query: Query, reconciler: Reconciler) -> list[Candidate]:
    """The scored candidates for one query, best first, at most ``query.limit``."""
    catalogue = reconciler.catalogue
    type_ids = catalogue.type_ids(query.types) if query.types else []
    known = {t.id for t in catalogue.types}
    if query.types and not known.intersection(type_ids):
        return []  # only types this service does not have: nothing can be of them
    type_ids = [t for t in type_ids if t in known]
    if query.ids:
        found = [catalogue.get(iri) for iri in dict.fromkeys(query.ids)]
        scored = [_found(e, 100.0, True) for e in found if e is not None and catalogue.in_types(e, type_ids)]
    elif query.text:
        wanted = query.limit if not query.constraints else max(query.limit * 4, 25)
        scored = reconciler.match(query.text, types=type_ids or None, limit=wanted)
    else:
        scored = _by_properties(query, type_ids, catalogue)
    if query.constraints:
        scored = _apply_constraints(scored, query.constraints, catalogue)
    return scored[: query.limit]


def reconcile_batch(queries: dict[str, Query], reconciler: Reconciler) -> dict:
    """The v0.2 result batch: ``{key: {"result": [candidate, ...]}}``."""
    return {key: {"result": [c.as_result() for c in answer(q, reconciler)]} for key, q in queries.items()}


def match_batch(queries: list[Query], reconciler: Reconciler) -> dict:
    """The 1.0-draft result batch: ``{"results": [{"candidates": [...]}, ...]}`` in query order."""
    return {"results": [{"candidates": [c.as_result() for c in answer(q, reconciler)]} for q in queries]}


def _found(entity: Entity, score: float, match: bool) -> Candidate:
    """A candidate found by id or by its properties, typed with all its kinds."""
    return Candidate.of(entity, score, match, types=[t.ref() for t in entity.kinds])


def _constraint_effect(entity: Entity | None, constraint: Constraint, catalogue: Catalogue) -> int:
    """+1 when ``entity`` meets ``constraint``, -1 when it contradicts it, 0 when it cannot tell."""
    if entity is None:
        return 0
    have = entity_keys(entity, constraint.pid, catalogue)
    if have is None:
        return 0
    if not have:
        return -1 if constraint.required else 0
    wanted = set().union(*(value_keys(value) for value in constraint.values)) if constraint.values else set()
    return 1 if wanted & have else -1


def _apply_constraints(scored: list[Candidate], constraints: Sequence[Constraint],
                       catalogue: Catalogue) -> list[Candidate]:
    """Raise candidates that meet the constraints, lower those that contradict them, drop those
    that miss a required one; the best is a match if it was one and contradicts none, or if it
    meets every constraint the service knows, scores at least :data:`MATCH_SCORE` and leads
    the next by :data:`MATCH_MARGIN`.
    """
    known = [c for c in constraints if c.pid in PROPERTY_BY_ID]
    out, meets_all = [], {}
    for item in scored:
        entity = catalogue.get(item.id)
        effects = [(c, _constraint_effect(entity, c, catalogue)) for c in constraints]
        if any(c.required and effect < 1 for c, effect in effects):
            continue
        met = sum(1 for _, effect in effects if effect > 0)
        broken = sum(1 for _, effect in effects if effect < 0)
        score = max(0.0, min(100.0, item.score + PROPERTY_BOOST * met - PROPERTY_PENALTY * broken))
        out.append(replace(item, score=score, match=item.match and not broken))
        meets_all[item.id] = bool(known) and met == len(known)
    out.sort(key=lambda item: (-item.score, not item.match, item.name, item.id))
    for rank, item in enumerate(out):
        if rank:
            out[rank] = replace(item, match=False)
        elif not item.match and meets_all[item.id] and item.score >= MATCH_SCORE:
            out[rank] = replace(item, match=len(out) == 1 or item.score - out[1].score >= MATCH_MARGIN)
    return out


def _by_properties(query: Query, type_ids: list[str], catalogue: Catalogue) -> list[Candidate]:
    """Candidates for a query with no name: the entities that meet every property constraint."""
    known = [c for c in query.constraints if c.pid in PROPERTY_BY_ID]
    if not known:
        return []
    hits = [entity for entity in catalogue.entities.values() if catalogue.in_types(entity, type_ids)
            and all(_constraint_effect(entity, c, catalogue) > 0 for c in known)]
    return [_found(entity, 100.0, len(hits) == 1) for entity in hits]
