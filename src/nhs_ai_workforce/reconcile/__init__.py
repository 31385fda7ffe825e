"""Reconciliation: messy job titles and names matched to the graph's concepts and things.

:mod:`.normalise` reads titles (pure functions), :mod:`.index` reads the candidates from the
store once per build, :mod:`.matcher` scores them. :func:`reconciler_for` gives the shared
:class:`Reconciler` of a store build::

    reconciler = reconciler_for(store, base=settings.base, build_id=current_build_id(settings))
    reconciler.match("Senior Data Analyst", types=["role"])[0].soc2020   # '3544'
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import pyoxigraph as ox

from .index import EntityType, Entry, Index, index_for, load_index
from .matcher import MATCH_MARGIN, MATCH_THRESHOLD, SYNONYMS, Candidate, Reconciler
from .normalise import normalise, normalise_name

__all__ = [
    "MATCH_MARGIN",
    "MATCH_THRESHOLD",
    "SYNONYMS",
    "Candidate",
    "EntityType",
    "Entry",
    "Index",
    "Reconciler",
    "index_for",
    "load_index",
    "normalise",
    "normalise_name",
    "reconciler_for",
]

_RECONCILERS: OrderedDict[tuple[str, str], Reconciler] = OrderedDict()
_LOCK = threading.Lock()


def reconciler_for(store: ox.Store, *, base: str, build_id: str | None) -> Reconciler:
    """The reconciler of a store build, built once per ``(build_id, base)`` and kept.

    With ``build_id=None`` a new one is built from the store every time.
    """
    if build_id is None:
        return Reconciler(load_index(store, base=base))
    key = (build_id, base.rstrip("/"))
    with _LOCK:
        cached = _RECONCILERS.get(key)
        if cached is not None:
            _RECONCILERS.move_to_end(key)
            return cached
    reconciler = Reconciler(index_for(store, base=base, build_id=build_id))
    with _LOCK:
        _RECONCILERS[key] = reconciler
        while len(_RECONCILERS) > 2:
            _RECONCILERS.popitem(last=False)
    return reconciler
