"""One memo per build: values derived from a build are made once each and die with that build.

The graph is read-only between builds, so anything computed from it (a page, a count, an
index) stays right until the next build. :class:`BuildMemo` holds such values for one build;
whoever owns the build (:class:`~nhs_ai_workforce.store.live.CurrentStore`) drops the memo when a
new build is swapped in, so stale values are never served and nothing else evicts them.

>>> memo = BuildMemo("b1")
>>> memo.get("answer", lambda: 42), memo.get("answer", lambda: 0)
(42, 42)
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")


class BuildMemo:
    """Values derived from the build ``build_id``, each made at most once (threads wait for the first)."""

    def __init__(self, build_id: str | None) -> None:
        self.build_id = build_id
        self._values: dict[Hashable, Any] = {}
        self._making: dict[Hashable, threading.Lock] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable, make: Callable[[], T]) -> T:
        """The value for ``key``, made by ``make()`` the first time it is asked for.

        If ``make`` raises, nothing is kept and the next caller tries again.
        """
        with self._lock:
            if key in self._values:
                return self._values[key]
            making = self._making.setdefault(key, threading.Lock())
        with making:
            with self._lock:
                if key in self._values:
                    return self._values[key]
            value = make()
            with self._lock:
                self._values[key] = value
                self._making.pop(key, None)
            return value

    def __contains__(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._values
