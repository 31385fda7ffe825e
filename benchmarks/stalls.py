"""Stalls of the machine itself, seen by a thread that asks to wake every few milliseconds.

This machine (a virtual one) is now and then not scheduled at all for tens of milliseconds:
40-90 ms, about once a minute under load, seen alike by every server and by an idle process
that only sleeps (measured while benchmarking). A 2 s run of one query that spans such a stall
gets a p99 that no server could have avoided. :class:`StallProbe` notes the longest time its
thread was woken late during a run, so that :mod:`run` can take the run again (once) and say so.
"""

from __future__ import annotations

import threading
import time

#: A run during which the probe woke this much too late (seconds) is taken again, once: the
#: p99 the benchmark holds the servers to.
STALL_S = 0.025
#: How often the probe asks to wake (seconds): rarely enough to cost the servers nothing.
TICK_S = 0.005


class StallProbe:
    """A daemon thread that sleeps :data:`TICK_S` at a time and keeps how late it woke at worst."""

    def __init__(self) -> None:
        self._worst = 0.0
        self._lock = threading.Lock()
        threading.Thread(target=self._watch, name="stall-probe", daemon=True).start()

    def reset(self) -> None:
        """Start a new run."""
        with self._lock:
            self._worst = 0.0

    def worst(self) -> float:
        """How late (seconds) the probe woke at worst since :meth:`reset`."""
        with self._lock:
            return self._worst

    def _watch(self) -> None:
        last = time.monotonic()
        while True:
            time.sleep(TICK_S)
            now = time.monotonic()
            with self._lock:
                self._worst = max(self._worst, now - last - TICK_S)
            last = now
