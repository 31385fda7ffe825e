"""The one exception the services raise for a request they refuse or cannot answer, and its kinds.

The web layer turns it into the single error shape (JSON for API clients, HTML for browsers);
the CLI prints its message. Each kind below fixes a status, so a raiser names what went wrong
rather than a number:

=====================  ======  ==============================================
:class:`BadRequest`    400     the request or query is at fault
:class:`Forbidden`     403     the operation is not allowed here
:class:`TooLarge`      413     the request is over the size limit
:class:`Unprocessable` 422     the request is well formed but its result would be invalid
:class:`Unavailable`   503     nothing to serve yet, or no capacity; ``Retry-After`` says when to retry
:class:`TimedOut`      504     the work passed its time limit
=====================  ======  ==============================================
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
    #: Seconds after which a retry may succeed (``Retry-After``), for 503s.
    retry_after: int | None = None

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



class _FixedStatus(ServiceError):
    """A kind of :class:`ServiceError` whose status (and default title) is fixed by the class."""

    status_code = 500
    default_title = "Internal server error"

    def __init__(self, message: str, title: str | None = None, line: int | None = None,
                 column: int | None = None) -> None:
        super().__init__(self.status_code, title or self.default_title, message, line, column)

    def __reduce__(self):  # the same kind on the other side of a process boundary
        return (type(self), (self.message, self.title, self.line, self.column))


class BadRequest(_FixedStatus):
    """400: the request or the query in it is at fault."""

    status_code, default_title = 400, "Bad request"


class Forbidden(_FixedStatus):
    """403: the operation is not allowed on this server."""

    status_code, default_title = 403, "Forbidden"


class TooLarge(_FixedStatus):
    """413: the request is over the size limit."""

    status_code, default_title = 413, "Request too large"


class Unprocessable(_FixedStatus):
    """422: well formed, but what it would produce is not valid."""

    status_code, default_title = 422, "Unprocessable"


class TimedOut(_FixedStatus):
    """504: the work passed its time limit and was stopped."""

    status_code, default_title = 504, "Timed out"


class Unavailable(ServiceError):
    """503: nothing to serve yet (no store built) or no capacity now; ``retry_after`` seconds to wait."""

    #: How long a client should wait when no store has been built (a build takes seconds).
    NO_STORE_RETRY_S = 30

    def __init__(self, message: str, title: str = "Store unavailable", retry_after: int = NO_STORE_RETRY_S) -> None:
        super().__init__(503, title, message, retry_after=retry_after)

    def __reduce__(self):
        return (type(self), (self.message, self.title, self.retry_after))
