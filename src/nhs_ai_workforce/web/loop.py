"""What the front end's I/O loop watches besides its connections.

- :class:`Calls`: wakes the loop for a signal, and runs calls made from other threads;
- :class:`Readable`: a socket the loop watches until it can be read (a query process's, :mod:`.lane`).
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from collections import deque

from waitress import wasyncore

__all__ = ["Calls", "Readable"]

_log = logging.getLogger(__name__)


class Calls(wasyncore.dispatcher):
    """Calls made from other threads, run in the I/O thread: a socket pair wakes the loop (a
    signal handler's wake-up, :attr:`wakeup_fd`, too).
    (waitress's trigger runs its calls holding its lock, so a call that pulls it again would wait
    for ever; in the lane, freeing a slot grants the next waiting request, which makes a call.)"""

    def __init__(self, socket_map: dict) -> None:
        receiver, self._sender = socket.socketpair()
        self._sender.setblocking(False)
        self._calls: deque = deque()
        self._loop_thread = threading.get_ident()  # made in the I/O thread
        super().__init__(receiver, map=socket_map)

    @property
    def wakeup_fd(self) -> int:
        """Writing a byte here ends the loop's wait (``signal.set_wakeup_fd``)."""
        return self._sender.fileno()

    def call_soon(self, call) -> None:
        """Run ``call()`` in the I/O thread (thread-safe). From the I/O thread itself it is run
        by the next :meth:`run_pending`, which every lane step that can grant a slot calls."""
        self._calls.append(call)
        if threading.get_ident() != self._loop_thread:
            with contextlib.suppress(OSError):  # full: the loop has a wake-up waiting anyway
                self._sender.send(b"\0")

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return False

    def handle_read(self) -> None:
        with contextlib.suppress(OSError):
            self.socket.recv(4096)
        self.run_pending()

    def run_pending(self) -> None:
        """Run the calls made so far (in the I/O thread)."""
        while self._calls:
            call = self._calls.popleft()
            try:
                call()
            except Exception:  # noqa: BLE001 - one failed call must not stop the loop
                _log.exception("a call in the I/O loop failed")

    def close(self) -> None:
        super().close()
        self._sender.close()


class Readable:
    """A socket in the I/O loop's map that calls ``on_ready()`` once it can be read, or has
    closed. Unlike a dispatcher it leaves the socket as it is (blocking: the query pool's request
    threads read the same sockets)."""

    accepting = False

    def __init__(self, on_ready) -> None:
        self._on_ready = on_ready

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return False

    def handle_read_event(self) -> None:
        """Once only: a closed socket may be reported as readable and closed in one poll."""
        on_ready, self._on_ready = self._on_ready, None
        if on_ready is not None:
            on_ready()

    handle_close = handle_expt_event = handle_error = handle_read_event

    def handle_write_event(self) -> None:
        """Never writable."""
