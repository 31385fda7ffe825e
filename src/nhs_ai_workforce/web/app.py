"""The Flask application factory: settings, the per-process store handle, the blueprints."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, jsonify

from ..core.settings import Settings
from ..pipeline.store import CurrentStore, StoreError


@dataclass(frozen=True)
class AppState:
    """What the views share: the settings and the lazily opened read-only store."""

    settings: Settings
    store: CurrentStore


def state() -> AppState:
    """The state of the running application."""
    return current_app.extensions["aiwf"]


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app; ``test_config`` may hold ``SETTINGS`` (a :class:`Settings`) and Flask keys.

    The store is opened read-only on the first request of each process, and reopened when a
    new build is swapped in.
    """
    from . import sparql

    config = dict(test_config or {})
    settings = config.pop("SETTINGS", None) or Settings.from_env()
    app = Flask(__name__)
    app.config.update(MAX_CONTENT_LENGTH=settings.max_request_bytes)
    app.config.update(config)
    app.extensions["aiwf"] = AppState(settings, CurrentStore(settings))
    app.register_blueprint(sparql.blueprint)
    app.add_url_rule("/health", view_func=health)
    return app


def health():
    """Is the store open? Cheap enough to poll: no counting."""
    current = state().store
    try:
        current.get()
    except StoreError as error:
        return jsonify(status="unavailable", error=str(error)), 503
    return jsonify(status="ok", build=current.build_id)
