"""What runs in each query process of the pool (:mod:`.pool`): open the store, answer jobs.

A child caps its address space (a backstop: the parent watches its resident memory), opens
the live store read-only, says it is ready, then answers :class:`~.execution.QueryJob` s from
its pipe until the pipe closes. Every failure becomes an error reply; ``FROM`` and the
protocol's dataset are checked against the store the child has open; an answer names the build
it came from. A build whose store directory is at most ``settings.memory_store_mb`` MB
(``AIWF_MEMORY_STORE_MB``) is copied into the child's memory, when it opens it if it is small,
otherwise in the background while the store on disk answers
(:class:`~nhs_ai_workforce.store.live.CurrentStore`): queries on it run two to four times faster.
Jobs come as :func:`~.execution.job_message` writes them. The ready message is
``("ready", pid, held)``; a reply is ``("ok", outcome, held)``, the outcome as
:func:`~.execution.outcome_message` writes it, or ``(*error_reply(error), held)``. ``held``
says where the store is: ``None`` on disk, :data:`COPYING` while a copy is being made
(the child's growing memory is its store's, not the query's), :data:`IN_MEMORY`, or, in the
first reply after a copy made in the background was swapped in, the child's memory (MB) then,
before the query ran: the parent's new idle baseline for it.
"""

from __future__ import annotations

import contextlib
import os

from ..core.channel import Channel
from ..core.errors import BadRequest, ServiceError, Unavailable
from ..core.graphs import store_graphs
from ..core.processes import ADDRESS_HEADROOM_MB, in_child, limit_memory, own_resident_mb
from ..core.settings import Settings
from .execution import execute, job_from_message, outcome_message
from .guard import check_dataset, check_lexed

__all__ = ["COPYING", "IN_MEMORY", "error_reply", "query_child"]

#: A reply's ``held`` while the child copies its store into memory, and once it holds it there.
COPYING, IN_MEMORY = "copying", "in memory"


def query_child(
    conn: Channel, lifeline: Channel, settings: Settings, result_limit_bytes: int | None, memory_mb: int
) -> None:
    """The entry point of a query child: open the store, then answer jobs until the pipe closes."""
    limit_memory(memory_mb + ADDRESS_HEADROOM_MB if memory_mb > 0 else 0)  # a backstop; the parent watches
    in_child(lifeline, _serve_queries, conn, settings, result_limit_bytes)


def _graphs_of(store, settings: Settings) -> frozenset[str]:
    """The graphs ``FROM`` and the protocol's dataset may name: the store's and the project's."""
    import pyoxigraph as ox

    named = {graph.value for graph in store.named_graphs() if isinstance(graph, ox.NamedNode)}
    return frozenset(named) | store_graphs(settings)


def _held(store) -> str | None:
    """Where ``store`` (a :class:`~nhs_ai_workforce.store.live.CurrentStore`) holds the build."""
    return IN_MEMORY if store.in_memory else COPYING if store.copying else None


def error_reply(error: ServiceError) -> tuple[str, tuple]:
    return ("error", (error.status, error.title, error.message, error.line, error.column, error.retry_after))


def _serve_queries(conn: Channel, settings: Settings, result_limit_bytes: int | None) -> None:
    from ..store.live import CurrentStore, StoreError

    store = CurrentStore(settings, memory_bytes=settings.memory_store_bytes, background=True)
    with contextlib.suppress(StoreError):
        store.get()  # open it now, so the first query does not wait for it
    conn.send(("ready", os.getpid(), _held(store)))
    graphs: tuple[str | None, frozenset[str]] = (None, frozenset())
    while True:
        try:
            job = job_from_message(conn.recv())
        except (EOFError, OSError):
            return
        held = None
        try:
            opened = store.get()
            held = own_resident_mb() if store.moved_into_memory() else _held(store)
            if graphs[0] != store.build_id:
                graphs = (store.build_id, _graphs_of(opened, settings))
            check_lexed(job.lexed, allowed_graphs=graphs[1])  # the parent scanned the text
            check_dataset(job.default_graphs, job.named_graphs, allowed_graphs=graphs[1])
            outcome = execute(opened, job, result_limit_bytes=result_limit_bytes)
            reply: tuple = ("ok", outcome_message(outcome, store.build_id))
        except ServiceError as error:
            reply = error_reply(error)
        except StoreError as error:
            reply = error_reply(Unavailable(str(error)))
        except MemoryError:
            reply = error_reply(
                BadRequest("the query ran out of memory; narrow it or add LIMIT", "Query too demanding")
            )
        except Exception as error:  # noqa: BLE001 - every failure becomes an answer
            reply = error_reply(ServiceError(500, "Query failed", f"{type(error).__name__}: {error}"))
        try:
            conn.send((*reply, held))
        except (OSError, ValueError):
            return
        del reply
