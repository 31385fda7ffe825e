"""The supervisor's process: what ``aiwf serve`` becomes (``exec``) once it has bound the port.

It imports nothing of the app, nor its settings, so it stays small; each server process it
forks imports them (:func:`.wsgi.serve_process`).
"""

from __future__ import annotations

import socket
from collections.abc import Sequence

from .supervisor import supervise

__all__ = ["main"]


def main(argv: Sequence[str]) -> int:
    """The entry after :func:`.wsgi.serve` execs the interpreter: ``WORKERS THREADS GRACE_S FD...``
    (``THREADS`` 0: the default). It imports nothing of the app: each server process does, unless
    there are several, which then share what the parent imported."""
    workers, threads, grace, fds = int(argv[0]), int(argv[1]), float(argv[2]), [int(fd) for fd in argv[3:]]
    sockets = [socket.socket(fileno=fd) for fd in fds]
    for sock in sockets:
        sock.set_inheritable(False)
    if workers > 1:
        from . import app as _preloaded  # noqa: F401

    def work() -> None:
        from .wsgi import serve_process

        serve_process(sockets, threads=threads or None)

    try:
        return supervise(work, workers, grace, sockets)
    finally:
        for sock in sockets:
            sock.close()
