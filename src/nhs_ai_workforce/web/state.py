"""The application state the views are handed: settings, the live store, the query executor.

Views import :func:`state` from here, never from :mod:`.app`, so imports only run one way:
the app factory imports the views, and the views import this module.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from ..core.settings import Settings
from ..sparql.execution import Executor
from ..store.live import CurrentStore

EXTENSION = "aiwf"


@dataclass(frozen=True)
class AppState:
    """What the views share: the settings, the lazily opened read-only store, the query executor."""

    settings: Settings
    store: CurrentStore
    executor: Executor


def state() -> AppState:
    """The state of the running application."""
    return current_app.extensions[EXTENSION]
