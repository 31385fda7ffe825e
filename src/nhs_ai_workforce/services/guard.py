"""A first guard in front of the public endpoint: refuse oversize queries and ``SERVICE``.

Oxigraph follows ``SERVICE <http://...>`` to any host, so a public endpoint must refuse it.
The check looks for the keyword outside strings, IRIs and comments; it is deliberately
conservative (a query mentioning ``SERVICE`` as a keyword is refused even if unreachable).
"""

from __future__ import annotations

import re

_IGNORED = re.compile(
    r'"""(?:[^"\\]|\\.|"(?!""))*"""'  # long strings
    r"|'''(?:[^'\\]|\\.|'(?!''))*'''"
    r'|"(?:[^"\\\n\r]|\\.)*"'  # short strings
    r"|'(?:[^'\\\n\r]|\\.)*'"
    r"|<[^<>\"{}|^`\\\x00-\x20]*>"  # IRIs (no spaces, so never a '<' comparison)
    r"|#[^\n\r]*",  # comments
    re.DOTALL,
)
_SERVICE = re.compile(r"(?<![\w:?$\-.])SERVICE(?![\w:\-])", re.IGNORECASE)


class QueryRefused(ValueError):
    """A query the endpoint will not run; ``status`` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def check_query(text: str, *, max_bytes: int) -> None:
    """Refuse queries larger than ``max_bytes`` or using ``SERVICE``.

    :raises QueryRefused: with the reason and an HTTP status.
    """
    size = len(text.encode())
    if size > max_bytes:
        raise QueryRefused(f"query is {size} bytes; the limit is {max_bytes}", status=413)
    if _SERVICE.search(_IGNORED.sub(" ", text)):
        raise QueryRefused("SERVICE is not allowed: queries cannot reach other endpoints")
