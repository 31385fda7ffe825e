"""Data extension: the properties worth fetching for a type, and their values for given entities."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .catalogue import Catalogue
from .kinds import EntityType, same_type
from .properties import PROPERTIES, PROPERTY_BY_ID, property_values


def propose_properties(types: Sequence[EntityType], type_id: str | None, limit: int | None = None) -> dict:
    """The properties worth fetching for entities of ``type_id`` (all of them without one)."""
    entity_type = next((t for t in types if type_id and same_type(type_id, t)), None)
    props = [p for p in PROPERTIES if entity_type is None or entity_type.key in p.types]
    if limit:
        props = props[: max(1, limit)]
    out: dict[str, Any] = {"properties": [{"id": p.id, "name": p.name, "description": p.description}
                                          for p in props]}
    if type_id:
        out["type"] = type_id
    if limit:
        out["limit"] = limit
    return out


def extend(catalogue: Catalogue, ids: list[str], pids: list[str]) -> dict:
    """The v0.2 data extension response: ``{"meta": [...], "rows": {id: {pid: [values]}}}``."""
    return {
        "meta": [_meta(pid) for pid in pids],
        "rows": {iri: {pid: property_values(catalogue.get(iri), pid, catalogue) for pid in pids} for iri in ids},
    }


def extend_draft(catalogue: Catalogue, ids: list[str], pids: list[str]) -> dict:
    """The 1.0-draft data extension response: ``rows`` as a list of ``{id, properties: [{id, values}]}``."""
    return {
        "meta": [_meta(pid) for pid in pids],
        "rows": [{"id": iri, "properties": [{"id": pid, "values": property_values(catalogue.get(iri), pid, catalogue)}
                                            for pid in pids]} for iri in ids],
    }


def _meta(pid: str) -> dict:
    prop = PROPERTY_BY_ID.get(pid)
    return {"id": pid, "name": prop.name if prop else pid}
