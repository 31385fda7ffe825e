"""What a request is told when its query process fails it: the errors of :mod:`.pool`."""

from __future__ import annotations

import signal

from ..core.errors import BadRequest, ServiceError, Unavailable

__all__ = ["LOST_RETRY_S", "RETRY_S", "crashed", "reply_error", "timed_out", "too_much_memory"]

#: ``Retry-After`` (seconds) when no query worker could take a query.
RETRY_S = 5
#: ``Retry-After`` (seconds) when a query process died of something other than its query.
LOST_RETRY_S = 1
#: Signals that mean the query exhausted the stack or the address-space backstop.
_EXHAUSTED = {signal.SIGSEGV, signal.SIGBUS, signal.SIGABRT}


def reply_error(payload: tuple) -> ServiceError:
    """The :class:`ServiceError` of a query process's error reply (503s as :class:`Unavailable`)."""
    status, title, message, line, column, retry_after = payload
    if status == 503:
        return Unavailable(message, title, retry_after or RETRY_S)
    return ServiceError(status, title, message, line, column)


def timed_out(timeout_s: float) -> ServiceError:
    """504: the query ran past the time limit and its process was killed."""
    return ServiceError(
        504, "Query timed out", f"query timed out after {timeout_s:g} s and was stopped; narrow it or add LIMIT",
    )


def too_much_memory(used: float, share_mb: int, total_mb: int) -> ServiceError:
    """400: the query used ``used`` MB, over its ``share_mb`` of ``AIWF_QUERY_MEMORY_MB``."""
    return BadRequest(
        f"the query used more than its memory limit of {share_mb} MB (it had {used:.0f} MB; "
        f"AIWF_QUERY_MEMORY_MB={total_mb} is shared by all query processes) and was stopped; "
        "narrow it, add LIMIT, or avoid sorting or grouping large results",
        "Query used too much memory",
    )


def crashed(code: int | None, memory_mb: int) -> ServiceError:
    """The error for a query process that died with exit ``code`` running a query: 400 if the
    query exhausted the stack or memory (it would again), else 503 with ``Retry-After``."""
    name = f"exit code {code}"
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        if -code in _EXHAUSTED:
            limit = f"{memory_mb} MB" if memory_mb else "none"
            return BadRequest(
                f"the query process died ({name}) running this query: it ran out of stack or memory "
                f"(memory limit {limit}). Nest less deeply, shorten long chains, or narrow the query",
                "Query too demanding",
            )
    return Unavailable(
        f"the query process stopped ({name}) while running the query, for a reason outside the query "
        "(it was killed, or the machine ran short of memory); it has been replaced: try again",
        "Query process lost", LOST_RETRY_S,
    )
