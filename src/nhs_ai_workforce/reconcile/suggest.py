"""The suggest services: entities, types and properties whose names start with what was typed."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from .catalogue import Catalogue, fold
from .kinds import EntityType, local_name
from .properties import PROPERTIES
from .protocol import MAX_LIMIT

SUGGEST_LIMIT = 10


def suggest_entities(catalogue: Catalogue, prefix: str, *, types: Sequence[str] = (), cursor: int = 0,
                     limit: int = SUGGEST_LIMIT) -> dict:
    """Entities whose name, or another name, starts with ``prefix`` (or has a word that does)."""
    wanted = fold(prefix)
    type_ids = catalogue.type_ids(types) if types else []
    ranked = []
    for entity in catalogue.entities.values():
        if not catalogue.in_types(entity, type_ids):
            continue
        rank = _prefix_rank(wanted, entity.name, [*entity.alt_labels, *entity.hidden_labels])
        if rank is not None:
            ranked.append((rank, len(entity.name), fold(entity.name), entity))
    ranked.sort(key=lambda item: item[:3])
    results = []
    for *_, entity in ranked:
        item = {"id": entity.id, "name": entity.name, "notable": [t.ref() for t in entity.kinds]}
        if entity.description:
            item["description"] = entity.description
        results.append(item)
    return {"result": _page(results, cursor, limit)}


def suggest_types(types: Sequence[EntityType], prefix: str, *, cursor: int = 0, limit: int = SUGGEST_LIMIT) -> dict:
    """The service's types whose name or key starts with ``prefix``."""
    wanted = fold(prefix)
    hits = [t for t in types if _prefix_rank(wanted, t.name, [t.key, local_name(t.id)]) is not None]
    return {"result": _page([{**t.ref(), "description": t.description} for t in hits], cursor, limit)}


def suggest_properties(prefix: str, *, cursor: int = 0, limit: int = SUGGEST_LIMIT) -> dict:
    """The service's properties whose name or id starts with ``prefix``."""
    wanted = fold(prefix)
    hits = [p for p in PROPERTIES if _prefix_rank(wanted, p.name, [p.id]) is not None]
    return {"result": _page([p.ref() for p in hits], cursor, limit)}


def _prefix_rank(prefix: str, name: str, others: Iterable[str]) -> int | None:
    """How well ``prefix`` starts a name: 0 the name, 1 a word of it, 2 another name, 3 a word of one.

    >>> _prefix_rank("ana", "data analyst", []), _prefix_rank("info", "data analyst", ["information analyst"])
    (1, 2)
    """
    if not prefix:
        return 0
    for rank, labels in ((0, [name]), (2, list(others))):
        folded = [fold(label) for label in labels]
        if any(label.startswith(prefix) for label in folded):
            return rank
        if any(word.startswith(prefix) for label in folded for word in re.split(r"[\s,:;()/-]+", label)):
            return rank + 1
    return None


def _page(items: list[dict], cursor: int, limit: int) -> list[dict]:
    return items[max(cursor, 0): max(cursor, 0) + max(1, min(limit, MAX_LIMIT))]
