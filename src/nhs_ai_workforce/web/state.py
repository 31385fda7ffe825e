"""The application state the views are handed: settings, the live store, the query executor.

Views import :func:`state` from here, never from :mod:`.app`, so imports only run one way:
the app factory imports the views, and the views import this module.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app

from ..core.namespaces import ProjectNamespaces
from ..core.settings import Settings
from ..sparql.execution import Executor
from ..sparql.lexer import LexMemo
from ..store.answers import AnswerCache
from ..store.live import CurrentStore
from ..store.remote_live import RemoteCurrentStore
from .lane import Lane, fits
from .replay import Replay

EXTENSION = "aiwf"

#: The live graph the views read: the embedded store's build, or a remote store's publication.
LiveStore = CurrentStore | RemoteCurrentStore


@dataclass(frozen=True)
class AppState:
    """What the views share: the settings, the lazily opened read-only store, the query executor;
    and, made from the settings, the answers kept per build, the scans of recent queries, the
    responses the front end replays (:mod:`.replay`) and the queries it answers itself (:mod:`.lane`)."""

    settings: Settings
    store: LiveStore
    executor: Executor
    answers: AnswerCache = field(init=False, repr=False)
    scans: LexMemo = field(init=False, repr=False)
    replay: Replay | None = field(init=False, repr=False)
    lane: Lane | None = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "answers", AnswerCache(self.settings, live=self.store.is_live))
        object.__setattr__(self, "scans", LexMemo(ProjectNamespaces(self.settings.base).prefixes()))
        replay = None
        if self.settings.replay_mb > 0:
            replay = Replay(self.store.is_live, max_bytes=self.settings.replay_mb * 1024 * 1024,
                            trusted_proxy=bool(self.settings.trusted_proxy))
        object.__setattr__(self, "replay", replay)
        object.__setattr__(self, "lane", Lane(self) if fits(self) else None)


def state() -> AppState:
    """The state of the running application."""
    return current_app.extensions[EXTENSION]
