"""The one exception the services raise for a request they refuse or cannot answer.

The web layer turns it into the single error shape (JSON for API clients, HTML for browsers);
the CLI prints its message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_POSITION = re.compile(r"\b(?:error )?at (\d+):(\d+)")


@dataclass
class ServiceError(Exception):
    """A refused or failed request: an HTTP status, a short title and a message naming the fault.

    ``line`` and ``column`` locate a fault in the query text when known.
    """

    status: int
    title: str
    message: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        where = f" (line {self.line}, column {self.column})" if self.line else ""
        return f"{self.title}: {self.message}{where}"

    @classmethod
    def from_syntax_error(cls, error: SyntaxError) -> ServiceError:
        """A 400 for Oxigraph's ``SyntaxError`` (``error at 2:9: expected ...``), with its position."""
        message = str(error)
        match = _POSITION.search(message)
        line, column = (int(match.group(1)), int(match.group(2))) if match else (None, None)
        return cls(400, "Malformed query", message, line, column)
