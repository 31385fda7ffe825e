"""Reconciliation: messy job titles and names matched to the graph's concepts and things.

:mod:`.reading` reads every candidate from the store once per build into a
:class:`~.catalogue.Catalogue`; :mod:`.normalise` reads titles (pure functions);
:mod:`.matcher` scores the candidates; :mod:`.service` answers the Reconciliation Service
API with them::

    reconciler = Reconciler(load_catalogue(store, base=settings.base))
    reconciler.match("Senior Data Analyst", types=["role"])[0].soc2020   # '3544'
"""

from __future__ import annotations

from .candidate import Candidate
from .catalogue import Catalogue, Entity, Label
from .kinds import EntityType, entity_types
from .lexicon import SYNONYMS
from .matcher import MATCH_MARGIN, MATCH_THRESHOLD, Reconciler
from .normalise import normalise, normalise_name
from .reading import load_catalogue

__all__ = [
    "MATCH_MARGIN",
    "MATCH_THRESHOLD",
    "SYNONYMS",
    "Candidate",
    "Catalogue",
    "Entity",
    "EntityType",
    "Label",
    "Reconciler",
    "entity_types",
    "load_catalogue",
    "normalise",
    "normalise_name",
]
