"""The loopback relay: where Oxigraph's ``SERVICE`` calls go, so that we make the remote call.

Oxigraph evaluates ``SERVICE`` with its own HTTP client, which has no time or size limit of
ours and cannot be given an allow-list. So a federated query's allowed endpoints are rewritten
(:mod:`.federated`) to ``http://127.0.0.1:{port}/service/{token}``: a small HTTP server in a
thread of this server process, on an ephemeral port of the loopback interface. Oxigraph, in
the query process, sends the sub-query there; the relay looks the token up (one per query and
endpoint, unguessable, forgotten when the query ends) and calls the endpoint through
:func:`nhs_ai_workforce.core.remote.request`:

- ``GET endpoint?query=...`` with ``Accept`` for SPARQL JSON or XML results (a form ``POST``
  when the URL would be over :data:`MAX_GET_URL` characters);
- each call's time limit (connection, retries and answer together) is
  ``AIWF_SERVICE_TIMEOUT`` (default 5 s), cut to what is left of the query's own time limit;
  a connection failure, a 429 or a 5xx is retried within it (``AIWF_REMOTE_ATTEMPTS``);
- an answer over ``AIWF_SERVICE_MAX_BYTES`` (default 4 MiB) is an error, not read further;
- redirects are never followed: a 3xx is an error naming the address it pointed to;
- an answer that is not SPARQL JSON or XML results is an error;
- within one query a call repeated with the same sub-query (Oxigraph repeats ``SERVICE``
  inside ``FILTER EXISTS`` once per solution) is answered from the first call (while the
  answers kept for the query total at most ``AIWF_SERVICE_MAX_BYTES``; a repeated failure
  fails at once), and at most :data:`~.federation.MAX_CALLS` calls reach the endpoints.

A failure is answered to Oxigraph as ``502`` with the message, and kept on the query's
:class:`Session` as a :class:`~nhs_ai_workforce.core.errors.ServiceError` with the remote's
status, which the executor reports instead of Oxigraph's wording (unless the clause was
``SILENT``, when Oxigraph leaves it empty and the query goes on).
"""

from __future__ import annotations

import logging
import os
import secrets
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

from ..core import remote
from ..core.errors import BadRequest, ServiceError
from .federation import MAX_CALLS, ServicePolicy

__all__ = ["MAX_GET_URL", "RESULT_TYPES", "Relay", "Session"]

#: The longest URL sent as a ``GET``; a longer query is sent as a form ``POST``.
MAX_GET_URL = 4096
#: The answers the relay passes to Oxigraph, by the media type the remote gives (without parameters).
RESULT_TYPES = {
    "application/sparql-results+json": "application/sparql-results+json",
    "application/sparql-results+xml": "application/sparql-results+xml",
    "application/json": "application/sparql-results+json",
    "application/xml": "application/sparql-results+xml",
}
ACCEPT = "application/sparql-results+json, application/sparql-results+xml;q=0.9"
#: Time kept back from the query's limit, so a remote call ends before the query is stopped.
MARGIN_S = 0.25
_PATH = "/service/"
_log = logging.getLogger(__name__)


@dataclass(eq=False)
class Session:
    """One federated query's calls: its endpoints' tokens, its deadline, answers and first failure."""

    relay: Relay
    deadline: float  # time.monotonic() by which every call must have ended
    tokens: dict[str, str] = field(default_factory=dict)  # endpoint -> token
    answers: dict[tuple[str, str], tuple[str, bytes]] = field(default_factory=dict)
    failed: dict[tuple[str, str], ServiceError] = field(default_factory=dict)
    calls: int = 0
    failure: ServiceError | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def target(self, endpoint: str) -> str:
        """The relay's address that stands for ``endpoint`` in this query."""
        if endpoint not in self.tokens:
            self.tokens[endpoint] = self.relay.register(self, endpoint)
        return self.relay.url(self.tokens[endpoint])

    def restore(self, query: str) -> str:
        """``query`` with this query's relay addresses made the endpoints again: a ``SERVICE`` nested
        in another's pattern reaches the relay inside the sub-query, for the outer endpoint to run."""
        for endpoint, token in self.tokens.items():
            query = query.replace(f"<{self.relay.url(token)}>", f"<{endpoint}>")
        return query

    def fail(self, error: ServiceError) -> ServiceError:
        with self.lock:
            self.failure = self.failure or error
        return error


class Relay:
    """The loopback relay of one server process (thread-safe; started on first use, again after a fork)."""

    def __init__(self, policy: ServicePolicy, *, max_request_bytes: int = 1024 * 1024) -> None:
        self.policy = policy
        self.max_request_bytes = max_request_bytes
        self._lock = threading.Lock()
        self._routes: dict[str, tuple[Session, str]] = {}
        self._server: ThreadingHTTPServer | None = None
        self._pid: int | None = None

    # -- lifecycle

    def start(self) -> int:
        """Listen on an ephemeral port of 127.0.0.1 (if not already, in this process); the port."""
        with self._lock:
            if self._server is None or self._pid != os.getpid():
                self._server = _server(self)
                self._pid = os.getpid()
                threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.2},
                                 name="aiwf-service-relay", daemon=True).start()
            return self._server.server_address[1]

    def close(self) -> None:
        with self._lock:
            server, self._server = self._server, None
            self._routes.clear()
        if server is not None and self._pid == os.getpid():
            server.shutdown()
            server.server_close()

    @contextmanager
    def session(self, deadline: float) -> Iterator[Session]:
        """A :class:`Session` for one query whose calls must end by ``deadline`` (``time.monotonic()``)."""
        self.start()
        session = Session(self, deadline - MARGIN_S)
        try:
            yield session
        finally:
            with self._lock:
                for token in session.tokens.values():
                    self._routes.pop(token, None)

    def register(self, session: Session, endpoint: str) -> str:
        token = secrets.token_urlsafe(18)
        with self._lock:
            self._routes[token] = (session, endpoint)
        return token

    def url(self, token: str) -> str:
        return f"http://127.0.0.1:{self.start()}{_PATH}{token}"

    # -- answering Oxigraph

    def answer(self, path: str, query: str | None) -> tuple[int, str, bytes]:
        """``(status, media type, body)`` for Oxigraph's request of ``path`` carrying the sub-query ``query``."""
        token = urlsplit(path).path.removeprefix(_PATH)
        with self._lock:
            route = self._routes.get(token) if path.startswith(_PATH) else None
        if route is None:
            return 404, "text/plain", b"no federated query is running under this address"
        session, endpoint = route
        if query is None:
            return 400, "text/plain", b"a SERVICE call carries its query (POST application/sparql-query)"
        try:
            media_type, body = self._call(session, endpoint, query)
        except ServiceError as error:
            return 502, "text/plain; charset=utf-8", str(error).encode()
        return 200, media_type, body

    def _call(self, session: Session, endpoint: str, query: str) -> tuple[str, bytes]:
        query = session.restore(query)
        key = (endpoint, query)
        with session.lock:
            if key in session.failed:  # a repeat of a failed call fails at once (SILENT may go on without it)
                raise session.failed[key]
            kept = session.answers.get(key)
            if kept is not None:
                return kept
            if session.calls >= MAX_CALLS:
                session.failure = session.failure or _too_many()
                raise _too_many()
            session.calls += 1
        try:
            answer = forward(self.policy, endpoint, query, session.deadline)
        except ServiceError as error:
            with session.lock:
                session.failed[key] = error
            raise session.fail(error) from None
        with session.lock:  # kept for a repeat while the query's kept answers stay within one answer's limit
            if sum(len(body) for _, body in session.answers.values()) + len(answer[1]) <= self.policy.max_bytes:
                session.answers[key] = answer
        return answer


def _too_many() -> ServiceError:
    return BadRequest(
        f"the query made more than {MAX_CALLS} different calls to SERVICE endpoints; call each endpoint "
        "once, from the top level of the query, and join its answer there", "Too many SERVICE calls")


def forward(policy: ServicePolicy, endpoint: str, query: str, deadline: float) -> tuple[str, bytes]:
    """Call ``endpoint`` with ``query`` within ``policy``'s limits and by ``deadline``; ``(media type, body)``.

    :raises ServiceError: 502 for a failed, redirected or unreadable answer (with the remote's
        status), 504 for no answer in time, 400 for an answer over the size limit.
    """
    limit = min(policy.timeout_s, deadline - time.monotonic())
    if limit <= 0:
        raise _timed_out(policy, endpoint, 0.0, "the query's time limit had passed before the call")
    limits = remote.RemotePolicy(connect_timeout_s=min(policy.connect_timeout_s, limit), read_timeout_s=limit,
                                 attempts=policy.attempts, backoff_s=min(0.5, limit / 4), max_wait_s=limit,
                                 max_answer_bytes=policy.max_bytes)
    headers = {"Accept": ACCEPT}
    url = f"{endpoint}{'&' if '?' in endpoint else '?'}{urlencode({'query': query})}"
    try:
        if len(url) <= MAX_GET_URL:
            answer = remote.request("GET", url, headers=headers, policy=limits, deadline_s=limit)
        else:
            answer = remote.request("POST", endpoint, body=urlencode({"query": query}).encode(), policy=limits,
                                    headers={**headers, "Content-Type": "application/x-www-form-urlencoded"},
                                    deadline_s=limit)
    except remote.RemoteStatusError as error:
        raise _status_error(endpoint, error) from None
    except remote.RemoteTimeout as error:
        raise _timed_out(policy, endpoint, limit, error.problem) from None
    except remote.RemoteAnswerError:
        raise BadRequest(
            f"the answer of SERVICE <{endpoint}> is over the limit of {policy.max_bytes} bytes "
            "(AIWF_SERVICE_MAX_BYTES); narrow the pattern inside SERVICE or give it a LIMIT",
            "Remote answer too large") from None
    except remote.RemoteError as error:
        problem = f"SERVICE <{endpoint}>: {error.problem}{_tries(error)}"
        raise ServiceError(502, "Remote endpoint unreachable", problem) from None
    given = (answer.header("Content-Type") or "").split(";")[0].strip().lower()
    if given not in RESULT_TYPES:
        raise ServiceError(502, "Remote endpoint failed",
                           f"SERVICE <{endpoint}> answered HTTP {answer.status} with "
                           f"{given or 'no Content-Type'}, not SPARQL results (JSON or XML): {answer.excerpt()}")
    return RESULT_TYPES[given], answer.body


def _tries(error: remote.RemoteError) -> str:
    return f" (after {error.attempts} attempts)" if error.attempts > 1 else ""


def _status_error(endpoint: str, error: remote.RemoteStatusError) -> ServiceError:
    if 300 <= error.status < 400:
        location = next((value for name, value in error.headers.items() if name.lower() == "location"), None)
        where = f"to <{location}>" if location else "without saying where"
        return ServiceError(
            502, "Remote endpoint redirected",
            f"SERVICE <{endpoint}> answered HTTP {error.status} {error.reason}, redirecting {where}; redirects "
            "are not followed, as a query may call only the endpoints listed in AIWF_SERVICE_ALLOW. If the "
            "endpoint has moved, list its new address there and name that in the query")
    said = f": {error.excerpt}" if error.excerpt else ""
    return ServiceError(502, "Remote endpoint failed",
                        f"SERVICE <{endpoint}> answered HTTP {error.status} {error.reason}{said}{_tries(error)}")


def _timed_out(policy: ServicePolicy, endpoint: str, limit: float, problem: str) -> ServiceError:
    return ServiceError(
        504, "Remote endpoint timed out",
        f"SERVICE <{endpoint}> gave no answer within {limit:.3g} s ({problem}); each call may take "
        f"AIWF_SERVICE_TIMEOUT={policy.timeout_s:g} s, within the query's {policy.query_timeout_s:g} s")


# -- the HTTP server ------------------------------------------------------------------------


def _server(relay: Relay) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "aiwf-service-relay"

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length > relay.max_request_bytes:
                self._send(413, "text/plain", b"the SERVICE call is over the request size limit")
                return
            body = self.rfile.read(length).decode("utf-8", errors="replace")
            kind = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
            if kind == "application/x-www-form-urlencoded":
                body = next(iter(parse_qs(body).get("query", [])), None)
            self._send(*relay.answer(self.path, body))

        def do_GET(self) -> None:
            self._send(*relay.answer(self.path, next(iter(parse_qs(urlsplit(self.path).query).get("query", [])),
                                                     None)))

        def _send(self, status: int, media_type: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", media_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # the access log is the server's
            pass

    return _Server(("127.0.0.1", 0), Handler)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        """A query process that drops its connection (its query ended or was stopped) is no error."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            _log.exception("the SERVICE relay failed answering %s", client_address)
