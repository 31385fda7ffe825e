"""Pages and documents made once per build, in the answer cache the SPARQL endpoint uses.

A resource page, an RDF document or the charts page depends only on the live build, the base,
the path asked for (with the mount point, ``request.script_root``) and the negotiated type, so
it is rendered once per build and then read back from the answers kept for that build
(:class:`~nhs_ai_workforce.store.answers.AnswerCache`: shared by the server processes, bounded
in bytes, removed with the build). Its ``ETag`` stays the SHA-256 of its bytes
(:mod:`.conditional`).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable

import pyoxigraph as ox
from flask import request

from ..store.answers import Answer, answer_key
from . import replay
from .state import state

__all__ = ["made_once"]


def made_once(kind: str, media_type: str, make: Callable[[ox.Store], bytes], *parts: Hashable) -> Answer:
    """The bytes ``make(store)`` renders from the live build for this request, made once per build.

    ``kind`` names what is made (``document``, ``charts``); ``parts`` are whatever else the bytes
    depend on beyond the base, the mount point, the path and ``media_type``. The response is
    marked replayable for the build (:func:`.replay.mark`): the view must make it from these bytes
    and the request alone.
    """
    app = state()
    store, build = app.store.snapshot()
    key = answer_key(kind, app.settings.base, request.script_root, request.path, media_type, *map(str, parts))
    answer = app.answers.get(build, key)  # None when the cache is off
    if answer is None:
        answer = app.answers.put(build, key, make(store), media_type)
    replay.mark(request.environ, answer.build)
    return answer
