"""One access-log line per request on stdout, in the combined format plus the time taken.

``127.0.0.1 - - [10/Oct/2025:13:55:36 +0000] "GET /health HTTP/1.1" 200 61 "-" "curl/8.5" 3ms``

Each line is one ``write`` to file descriptor 1, so the lines of several server processes
sharing stdout never interleave.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Any

__all__ = ["AccessLog", "line", "write"]


def line(remote: str, request: str, status: int | str, size: int, referer: str, agent: str, ms: float) -> str:
    """One log line (``"-"`` stands for an empty field)."""
    stamp = _stamp()
    return f'{remote or "-"} - - [{stamp}] "{request}" {status} {size} "{referer or "-"}" "{agent or "-"}" {ms:.0f}ms\n'


_stamps: tuple[int, str] = (0, "")


def _stamp() -> str:
    """The time now as the log writes it, made once a second (a line is written per request)."""
    global _stamps
    second = int(time.time())
    if _stamps[0] != second:
        _stamps = (second, datetime.fromtimestamp(second).astimezone().strftime("%d/%b/%Y:%H:%M:%S %z"))
    return _stamps[1]


def write(text: str) -> None:
    """Write a line to stdout at once (never a partial line, whatever else writes there)."""
    data = text.encode("utf-8", "backslashreplace")
    while data:
        data = data[os.write(1, data):]


def request_line(environ: dict[str, Any]) -> str:
    method, uri = environ.get("REQUEST_METHOD", "-"), environ.get("REQUEST_URI", "/")
    return f"{method} {uri} {environ.get('SERVER_PROTOCOL', '-')}"


class AccessLog:
    """WSGI middleware logging each request once its response has been sent (or abandoned)."""

    def __init__(self, app: Callable, log: Callable[[str], None] = write) -> None:
        self.app = app
        self.log = log

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        started = time.monotonic()
        status = ["500"]

        def start(code: str, headers: list, exc_info: Any = None) -> Callable:
            status[0] = code.split(" ", 1)[0]
            return start_response(code, headers, exc_info) if exc_info else start_response(code, headers)

        def done(size: int) -> None:
            self.log(line(
                environ.get("REMOTE_ADDR", "-"), request_line(environ), status[0], size,
                environ.get("HTTP_REFERER", ""), environ.get("HTTP_USER_AGENT", ""),
                (time.monotonic() - started) * 1000,
            ))

        try:
            body = self.app(environ, start)
        except BaseException:
            done(0)
            raise
        return _Counted(body, done)


class _Counted:
    """A response body that counts the bytes sent and reports them when it is closed."""

    def __init__(self, body: Iterable[bytes], done: Callable[[int], None]) -> None:
        self.body = body
        self.done = done
        self.size = 0

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.body:
            self.size += len(chunk)
            yield chunk

    def close(self) -> None:
        try:
            close = getattr(self.body, "close", None)
            if close is not None:
                close()
        finally:
            self.done(self.size)
