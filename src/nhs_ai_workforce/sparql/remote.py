"""The executor of a server reading a remote store (``AIWF_SPARQL_URL``): ``/sparql`` forwards to it.

:class:`RemoteExecutor` takes the place of the pool of query processes (:mod:`.pool`), which is never
started in this mode: the remote store runs the queries, so there is nothing here to kill. For each
:class:`~.execution.QueryJob` it

1. applies the guard again, as the pool does (:func:`.guard.check_query`: ``SERVICE``, ``LOAD``,
   updates, nesting, size), then ``FROM`` / ``FROM NAMED`` and ``default-graph-uri`` /
   ``named-graph-uri`` against the graphs of the live publication and the project's (400);
2. takes a slot as the pool does (:class:`.admission.Admission`: ``AIWF_QUERY_WORKERS`` at once per
   server process, ``AIWF_QUERY_QUEUE`` waiting, a fair share per client; 503 and 429 with
   ``Retry-After``), so clients of the remote are held to the same limits;
3. runs :func:`.execution.execute` on the remote store
   (:class:`~nhs_ai_workforce.store.remote_store.RemoteStore`): the job's dataset goes as the
   Protocol's ``default-graph-uri`` / ``named-graph-uri`` (by default every published graph as
   both: the union default graph), the query time limit (``AIWF_QUERY_TIMEOUT``) bounds the whole
   call to the remote, connecting and retries included, and its answer may be at most
   :data:`READ_FACTOR` times ``AIWF_RESULT_LIMIT_BYTES`` (SPARQL JSON is larger than CSV);
4. writes the answer with Oxigraph's serialisers into the negotiated type, under the same
   ``AIWF_RESULT_LIMIT_BYTES``, so both modes give the same bytes for the same answer.

Errors keep the endpoint's one shape: a remote 400 (a syntax error the guard does not look for) is
400 "Malformed query" with the remote's message and position; no answer within the time limit is
504 "Query timed out"; a remote that cannot be reached or fails is 502 naming its status; one that
says it is busy (429) is 503 with ``Retry-After``; no publication on the remote is 503.
"""

from __future__ import annotations

from dataclasses import replace

from ..core.errors import Unavailable
from ..core.namespaces import store_graphs
from ..core.settings import Settings
from ..store.live import StoreError
from ..store.remote_live import RemoteCurrentStore
from ..store.remote_store import RemoteStoreError
from .admission import Admission
from .execution import QueryJob, QueryOutcome, execute
from .guard import check_dataset, check_lexed, check_query

__all__ = ["READ_FACTOR", "RemoteExecutor"]

#: The remote's answer may be this many times the result limit: it comes as SPARQL JSON (or
#: N-Triples), several times the size of the CSV or Turtle it may be written as here.
READ_FACTOR = 4
#: ``Retry-After`` (seconds) when no slot is free.
RETRY_S = 5


class RemoteExecutor:
    """Runs each :class:`QueryJob` on the remote store of ``current``; thread-safe, one per server process."""

    def __init__(self, settings: Settings, current: RemoteCurrentStore, *, timeout_s: float | None = None,
                 result_limit_bytes: int | None = None) -> None:
        self.settings = settings
        self.current = current
        self.timeout_s = timeout_s if timeout_s is not None else settings.query_timeout_s
        self.result_limit_bytes = result_limit_bytes if result_limit_bytes is not None else settings.result_limit_bytes
        self.admission = Admission(
            max(1, settings.query_workers), queue=settings.query_queue, per_client=settings.query_slots_per_client,
            wait_s=max(self.timeout_s, 1.0), retry_s=RETRY_S,
        )

    def report(self) -> dict[str, int]:
        """What ``/health`` says of the queries: the slots (:meth:`.Admission.report`)."""
        return self.admission.report()

    def run(self, job: QueryJob) -> QueryOutcome:
        """Run one job on the remote; every failure is a
        :class:`~nhs_ai_workforce.core.errors.ServiceError` (see the module docstring)."""
        lexed = check_query(job.text, max_bytes=self.settings.max_request_bytes, lexed=job.lexed)
        job = replace(job, lexed=lexed)
        try:
            store, build = self.current.snapshot()
            allowed = frozenset(store.graphs) | store_graphs(self.settings)
            check_lexed(lexed, allowed_graphs=allowed)
            check_dataset(job.default_graphs, job.named_graphs, allowed_graphs=allowed)
            with self.admission.slot(job.client):
                view = store.for_query(timeout_s=self.timeout_s,
                                       max_answer_bytes=READ_FACTOR * self.result_limit_bytes)
                outcome = execute(view, job, result_limit_bytes=self.result_limit_bytes)
        except RemoteStoreError as error:
            raise error.service_error() from None
        except StoreError as error:
            raise Unavailable(str(error)) from None
        return replace(outcome, build=build)
