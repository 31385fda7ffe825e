"""Pickled messages between a parent and its child processes, over a socket pair.

:class:`Channel` is how :mod:`.processes` hands a child its work and reads its answer;
:func:`lifeline` is the link a child watches to notice that its parent has gone.
"""

from __future__ import annotations

import pickle
import select
import socket
import struct
from typing import Any

__all__ = ["Channel", "channel_pair", "lifeline"]


class Channel:
    """Pickled messages over a socket, each after its length: one end of a parent's link to a
    child (``multiprocessing.connection`` does the same, but a query process would pay 2 MB to
    import it). ``recv`` raises ``EOFError`` once the other end has closed, ``OSError`` once this
    one has. A small message is one system call to send and usually one to read: the front end's
    I/O thread sends and reads query jobs (:mod:`nhs_ai_workforce.web.lane`)."""

    _HEADER = struct.Struct("!Q")
    #: Bytes read at once, and the largest message sent in one call.
    _CHUNK = 64 * 1024

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._pending = bytearray()

    def fileno(self) -> int:
        return self._sock.fileno()

    def send(self, message: object) -> None:
        data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        if len(data) <= self._CHUNK:
            self._sock.sendall(self._HEADER.pack(len(data)) + data)
        else:
            self._sock.sendall(self._HEADER.pack(len(data)))
            self._sock.sendall(data)

    def recv(self) -> Any:
        (size,) = self._HEADER.unpack(self._exactly(self._HEADER.size))
        return pickle.loads(self._exactly(size))  # noqa: S301 - from our own parent or child

    def poll(self, timeout: float = 0.0) -> bool:
        """Is a message (or the end) there to read, waiting up to ``timeout`` seconds?"""
        fd = self._sock.fileno()
        if fd < 0:
            raise OSError("the channel is closed")
        if self._pending:
            return True
        watch = select.poll()  # not select(): a server process may hold more than 1,024 descriptors
        watch.register(fd, select.POLLIN)
        return bool(watch.poll(max(0, int(timeout * 1000))))

    def close(self) -> None:
        self._sock.close()

    def _exactly(self, size: int) -> bytes | bytearray:
        pending = self._pending
        if len(pending) < size and size > self._CHUNK:  # a large message: straight into its own buffer
            buffer = bytearray(size)
            got = len(pending)
            buffer[:got] = pending
            pending.clear()
            view = memoryview(buffer)
            while got < size:
                count = self._sock.recv_into(view[got:])
                if not count:
                    raise EOFError("the other end closed the channel")
                got += count
            return buffer
        while len(pending) < size:
            chunk = self._sock.recv(self._CHUNK)
            if not chunk:
                raise EOFError("the other end closed the channel")
            pending += chunk
        taken = bytes(pending[:size])
        del pending[:size]
        return taken


def channel_pair() -> tuple[Channel, Channel]:
    """Two connected ends."""
    one, other = socket.socketpair()
    return Channel(one), Channel(other)


def lifeline() -> tuple[Channel, Channel]:
    """A link whose one end children watch (:func:`in_child`) and whose other end only the parent
    holds and never writes to: ``(the children's end, the parent's end)``."""
    return channel_pair()
