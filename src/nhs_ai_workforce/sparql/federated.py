"""The executor of a server that allows federated queries: ``SERVICE`` calls go through the relay.

:class:`FederatedExecutor` wraps the server's executor (the pool of query processes) when
``AIWF_SERVICE_ALLOW`` lists endpoints; without any, the app does not use it and nothing
changes. For a job whose text has ``SERVICE``, it

1. checks every clause against the allow-list again (:mod:`.federation`; the guard did at the
   protocol layer), so no other caller can reach an endpoint that is not listed;
2. opens a relay :class:`~.relay.Session` whose calls must end within the query's time limit,
   and rewrites each endpoint IRI to the relay's address for it;
3. hands the rewritten job on. Its scan (:attr:`~.execution.QueryJob.lexed`) is the one the
   guard judges in the query process: its ``SERVICE`` keywords, all checked and pointing at the
   relay, are left out of it, and it is marked volatile, as the answer depends on another
   server;
4. reports a remote failure as the relay saw it (the remote's status, a redirect's
   ``Location``, the time limit, the size limit) rather than Oxigraph's wording of it.

>>> FederatedExecutor(object(), Settings(service_allow=("http://127.0.0.1:9/sparql",))).policy.endpoints
('http://127.0.0.1:9/sparql',)
"""

from __future__ import annotations

import copy
import time
from dataclasses import replace
from typing import Any

from ..core.errors import ServiceError
from ..core.settings import Settings
from .execution import Executor, QueryJob, QueryOutcome
from .federation import ServicePolicy, rewrite, service_clauses
from .guard import QueryRefused
from .lexer import lex
from .relay import Relay

__all__ = ["FederatedExecutor"]


class FederatedExecutor:
    """Runs jobs on ``inner``, routing allowed ``SERVICE`` calls through a loopback :class:`~.relay.Relay`.

    Every other attribute (``close``, ``result_limit_bytes``, ``pids``...) is ``inner``'s.
    """

    def __init__(self, inner: Executor, settings: Settings, policy: ServicePolicy | None = None) -> None:
        self.inner = inner
        self.policy = policy or ServicePolicy.from_settings(settings)
        self.relay = Relay(self.policy, max_request_bytes=4 * settings.max_request_bytes)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def close(self) -> None:
        self.relay.close()
        close = getattr(self.inner, "close", None)
        if close is not None:
            close()

    def run(self, job: QueryJob) -> QueryOutcome:
        """Run one job; every failure is a :class:`ServiceError` (see the module docstring)."""
        lexed = job.lexed or lex(job.text, job.prefixes)
        if not any(keyword == "SERVICE" for keyword, _ in lexed.keywords):
            return self.inner.run(job)
        clauses = service_clauses(job.text, lexed, job.prefixes)
        for clause in clauses.values():
            refusal = self.policy.refusal(clause)
            if refusal is not None:
                raise QueryRefused(refusal)
        with self.relay.session(time.monotonic() + self.policy.query_timeout_s) as session:
            text = rewrite(job.text, [clause for clause in clauses.values() if clause is not None], session.target)
            routed = lex(text, job.prefixes)
            routed = replace(routed, keywords=tuple(mark for mark in routed.keywords if mark[0] != "SERVICE"),
                             volatile=True)
            try:
                return self.inner.run(replace(job, text=text, lexed=routed))
            except (ServiceError, OSError) as error:
                # Oxigraph's report of a failed call names the relay's address for it: say what the relay saw
                if session.failure is not None and any(token in str(error) for token in session.tokens.values()):
                    raise copy.copy(session.failure) from None  # a copy: the one kept holds no frames of this thread
                if isinstance(error, OSError):
                    raise ServiceError(502, "Remote endpoint failed", str(error)) from None
                raise
