"""The suggest services: entities, types and properties whose names start with what was typed.

Entities are also found the way the matcher reads a title (:func:`~.normalise.job_words`):
abbreviations spelled out from the one table of them, seniority and grades dropped, so
"Snr BI An" suggests the data analyst (a *business intelligence analyst*).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from .catalogue import Catalogue, fold
from .kinds import EntityType, local_name
from .lexicon import SYNONYMS
from .normalise import job_words, singular
from .properties import PROPERTIES
from .protocol import MAX_LIMIT

SUGGEST_LIMIT = 10
#: The rank of every entity when the prefix says only how senior someone is ("Snr", "Band 7").
_ANY_JOB = 4


def suggest_entities(catalogue: Catalogue, prefix: str, *, types: Sequence[str] = (), cursor: int = 0,
                     limit: int = SUGGEST_LIMIT) -> dict:
    """Entities whose name, or another name (alternative, hidden, curated synonym), starts with
    ``prefix`` or has a word that does, as typed or as read word by word (:func:`_readings`)."""
    wanted = fold(prefix)
    readings = _readings(prefix)
    type_ids = catalogue.type_ids(types) if types else []
    ranked = []
    for entity in catalogue.entities.values():
        if not catalogue.in_types(entity, type_ids):
            continue
        path = entity.id.removeprefix(f"{catalogue.base}/id/")
        others = [*entity.alt_labels, *entity.hidden_labels, *SYNONYMS.get(path, ())]
        # as typed first, then as read: on a tie the name as typed wins
        found = [(_prefix_rank(wanted, entity.name, others), 0),
                 (_ANY_JOB if readings is None else _words_rank(readings, entity.name, others), 1)]
        rank = min(((r, source) for r, source in found if r is not None), default=None)
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


def _readings(prefix: str) -> list[tuple[str, ...]] | None:
    """The prefix read word by word: its finished words as :func:`~.normalise.job_words` reads
    them, then its last word (unfinished unless the prefix ends in a space) as typed, singular,
    and spelled out if it abbreviates. ``None`` when it says only how senior someone is.

    >>> _readings("Snr BI"), _readings("snr"), _readings("Data Analysts ")
    ([('bi',), ('business', 'intelligence')], None, [('data', 'analyst')])
    """
    words = [w for w in re.split(r"[^\w]+", fold(prefix)) if w]
    if not words:
        return []
    if not job_words(" ".join(words)):
        return None
    if prefix[-1:].isspace():
        return [tuple(job_words(" ".join(words)))]
    *finished, last = words
    before = tuple(job_words(" ".join(finished)))
    spelled = tuple(job_words(last))
    # a last word that says only how senior ("AI Lead") leaves the words before it
    seniority = not spelled and bool(job_words(last, seniority=True))
    endings = dict.fromkeys([(last,), (singular(last),), () if seniority else spelled or (last,)])
    return [before + ending for ending in endings if before + ending]


def _words_rank(readings: Sequence[tuple[str, ...]], name: str, others: Iterable[str]) -> int | None:
    """How well a reading of the prefix starts a name's words: 0 the name, 1 a later word of
    it, 2 another name, 3 a later word of one (the last word of the reading may be unfinished).

    >>> _words_rank([("business", "intelligence", "an")], "data analyst", ["business intelligence analyst"])
    2
    """
    best = None
    for rank, labels in ((0, [name]), (2, list(others))):
        for label in labels:
            have = job_words(label, seniority=True)
            for reading in readings:
                start = _find(reading, have)
                if start is not None:
                    found = rank + (start > 0)
                    best = found if best is None else min(best, found)
        if best is not None:
            return best
    return best


def _find(reading: tuple[str, ...], have: list[str]) -> int | None:
    """Where ``reading`` begins in ``have``: its words in a row, the last one possibly unfinished."""
    size = len(reading)
    for start in range(len(have) - size + 1):
        if list(reading[:-1]) == have[start:start + size - 1] and have[start + size - 1].startswith(reading[-1]):
            return start
    return None


def _page(items: list[dict], cursor: int, limit: int) -> list[dict]:
    return items[max(cursor, 0): max(cursor, 0) + max(1, min(limit, MAX_LIMIT))]
