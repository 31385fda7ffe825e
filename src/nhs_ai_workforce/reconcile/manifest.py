"""The service manifests: what the Reconciliation Service offers, for v0.2 and the 1.0 draft."""

from __future__ import annotations

from .kinds import entity_types
from .preview import PREVIEW_HEIGHT, PREVIEW_WIDTH

SERVICE_NAME = "NHS AI workforce knowledge graph"


def _service_version() -> str:
    try:
        from importlib.metadata import version

        return version("nhs-ai-workforce")
    except Exception:  # noqa: BLE001 - not installed: the manifest still works
        return "unknown"


def manifest(service_url: str, base: str) -> dict:
    """The v0.2 service manifest; ``service_url`` is this service's absolute URL (``.../reconcile``)."""
    base = base.rstrip("/")
    return {
        "versions": ["0.2"],
        "name": SERVICE_NAME,
        "identifierSpace": f"{base}/id/",
        "schemaSpace": f"{base}/def/aiwf/",
        "serviceVersion": _service_version(),
        "defaultTypes": [t.ref() for t in entity_types(base)],
        "view": {"url": f"{service_url}/view?id={{{{id}}}}"},
        "preview": {"url": f"{service_url}/preview?id={{{{id}}}}", "width": PREVIEW_WIDTH, "height": PREVIEW_HEIGHT},
        "suggest": {
            "entity": {"service_url": service_url, "service_path": "/suggest/entity"},
            "type": {"service_url": service_url, "service_path": "/suggest/type"},
            "property": {"service_url": service_url, "service_path": "/suggest/property"},
        },
        "extend": {
            "propose_properties": {"service_url": service_url, "service_path": "/propose_properties"},
            "property_settings": [],
        },
    }


def manifest_draft(service_url: str, base: str) -> dict:
    """The 1.0-draft manifest, served at the draft service's own root (``service_url``)."""
    base = base.rstrip("/")
    return {
        "versions": ["1.0-draft"],
        "name": SERVICE_NAME,
        "lang": "en",
        "identifierSpace": f"{base}/id/",
        "schemaSpace": f"{base}/def/aiwf/",
        "serviceVersion": _service_version(),
        "defaultTypes": [t.ref() for t in entity_types(base)],
        "view": {"url": f"{service_url}/view?id={{id}}"},
        "preview": {"width": PREVIEW_WIDTH, "height": PREVIEW_HEIGHT},
        "suggest": {"entity": True, "property": True, "type": True},
        "extend": {"proposeProperties": True, "propertySettings": []},
    }
