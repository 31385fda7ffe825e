"""Calling other HTTP services: time limits, bounded retries, credentials from the environment, and
errors that carry the remote's status.

Every outbound call the project makes (``aiwf publish``, and a server reading a remote store,
``AIWF_SPARQL_URL``) goes through :func:`request`, so each has the same limits:

* a connect time limit and a read time limit (no byte for that long: the attempt has timed out),
  and optionally an overall ``deadline_s`` that bounds every attempt and every wait together;
* at most :attr:`RemotePolicy.attempts` attempts; only a connection failure (a connect time-out
  too), a 429 / 5xx answer, or a GET that got no answer in time is retried, after a backoff that
  doubles (or the remote's ``Retry-After``); never a 4xx (the request itself is at fault and
  sending it again changes nothing), nor a PUT that got no answer in time (the remote may still
  be loading it). Only idempotent requests should be sent through here (GET, PUT, DELETE, and a
  SPARQL query sent by POST, which changes nothing); a caller may narrow the statuses retried
  (a remote store's 500 for a query is the query's failure: sending it again gives it again);
* a failure raises a :class:`RemoteError` naming the method, the URL, the HTTP status and the
  first part of the remote's answer; credentials never appear in a message.

Proxy variables (``HTTP_PROXY``...) are not used: connections go straight to the URL's host.
Importing this module opens no connection; nothing here runs unless a command asks for it.
"""

from __future__ import annotations

import base64
import contextlib
import email.utils
import http.client
import json
import os
import socket
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import BinaryIO
from urllib.parse import unquote_plus, urlencode, urlsplit

from .settings import Settings

#: Answers worth retrying: too many requests, and server-side failures that may pass.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
#: Requests whose time-out is retried: a remote still working on anything else would get it twice.
SAFE_METHODS = frozenset({"GET", "HEAD"})
#: How much of a remote's answer an error message quotes.
EXCERPT_CHARS = 300
CHUNK_BYTES = 64 * 1024
USER_AGENT = "aiwf (nhs-ai-workforce)"


@dataclass(frozen=True)
class RemotePolicy:
    """The limits of one remote call: time limits in seconds, attempts, waits between attempts."""

    connect_timeout_s: float = 10.0
    read_timeout_s: float = 60.0
    attempts: int = 3
    backoff_s: float = 0.5  # the first wait; each later one doubles
    max_wait_s: float = 30.0  # the longest wait between attempts (a longer Retry-After ends the retries)
    max_answer_bytes: int = 16 * 1024 * 1024  # an answer over this is an error, not read into memory

    @classmethod
    def from_settings(cls, settings: Settings) -> RemotePolicy:
        """The policy that ``AIWF_REMOTE_CONNECT_TIMEOUT``, ``AIWF_REMOTE_TIMEOUT`` and ``AIWF_REMOTE_ATTEMPTS`` set."""
        return cls(connect_timeout_s=settings.remote_connect_timeout_s, read_timeout_s=settings.remote_timeout_s,
                   attempts=max(1, settings.remote_attempts))

    def wait_before(self, attempt: int) -> float:
        """Seconds to wait before attempt number ``attempt`` (2, 3...) when the remote does not say.

        >>> [RemotePolicy(backoff_s=0.5).wait_before(n) for n in (2, 3, 4)]
        [0.5, 1.0, 2.0]
        """
        return min(self.max_wait_s, self.backoff_s * 2 ** (attempt - 2))


class RemoteError(Exception):
    """A remote call that failed: ``method`` ``url`` and what went wrong; ``attempts`` made."""

    def __init__(self, method: str, url: str, problem: str, attempts: int = 1) -> None:
        tries = f" (after {attempts} attempts)" if attempts > 1 else ""
        super().__init__(f"{method} {readable(url)}: {problem}{tries}")
        self.method, self.url, self.problem, self.attempts = method, url, problem, attempts


class RemoteUnreachable(RemoteError):
    """No answer could be had: the host is unknown, refuses connections, or dropped the connection."""


class RemoteTimeout(RemoteError):
    """The remote did not connect or answer within the time limit."""


class RemoteStatusError(RemoteError):
    """The remote answered with an HTTP status outside 2xx; ``excerpt`` is the start of its answer."""

    #: How much of the answer :attr:`text` keeps.
    TEXT_CHARS = 16 * 1024

    def __init__(self, method: str, url: str, answer: Response, attempts: int = 1) -> None:
        self.status, self.reason, self.headers = answer.status, answer.reason, answer.headers
        self.excerpt = answer.excerpt()
        #: The start of the answer as sent (up to :attr:`TEXT_CHARS`), for a caller that passes it on.
        self.text = answer.body[: self.TEXT_CHARS].decode("utf-8", errors="replace")
        said = f": {self.excerpt}" if self.excerpt else ""
        super().__init__(method, url, f"HTTP {answer.status} {answer.reason}{said}", attempts)


class RemoteAnswerError(RemoteError):
    """The remote answered 2xx, but not with what was asked for (not SPARQL JSON results, too large)."""


class RemoteAnswerTooLarge(RemoteAnswerError):
    """The answer passed :attr:`RemotePolicy.max_answer_bytes`; reading stopped there."""


class _NoConnection(TimeoutError):
    """No connection within the connect time limit: the request was never sent, so it may be tried again."""


class _TooLarge(Exception):
    """An answer over :attr:`RemotePolicy.max_answer_bytes`."""


class CredentialsError(ValueError):
    """The credentials in the environment are incomplete or contradictory."""


@dataclass(frozen=True)
class Credentials:
    """An ``Authorization`` header made from environment variables; the header is never printed."""

    scheme: str  # "Basic" or "Bearer"
    source: str  # the variables it came from, for messages
    header: str = field(repr=False)

    @classmethod
    def from_env(cls, prefix: str, env: Mapping[str, str] | None = None) -> Credentials | None:
        """``{prefix}_USER`` and ``{prefix}_PASSWORD`` (HTTP Basic) or ``{prefix}_TOKEN`` (Bearer); ``None``
        if none is set.

        >>> Credentials.from_env("X", {"X_USER": "ann", "X_PASSWORD": "pw"}).header
        'Basic YW5uOnB3'
        >>> Credentials.from_env("X", {"X_TOKEN": "t0k"})
        Credentials(scheme='Bearer', source='X_TOKEN')
        >>> Credentials.from_env("X", {}) is None
        True

        :raises CredentialsError: for a user without a password (or the reverse), or both kinds at once.
        """
        env = os.environ if env is None else env
        user, password, token = (env.get(f"{prefix}_{name}") or None for name in ("USER", "PASSWORD", "TOKEN"))
        if token and (user or password):
            raise CredentialsError(f"set either {prefix}_TOKEN or {prefix}_USER and {prefix}_PASSWORD, not both")
        if token:
            return cls("Bearer", f"{prefix}_TOKEN", f"Bearer {token}")
        if bool(user) != bool(password):
            have, missing = (("USER", "PASSWORD") if user else ("PASSWORD", "USER"))
            raise CredentialsError(f"{prefix}_{have} is set but {prefix}_{missing} is not")
        if user:
            if ":" in user:
                raise CredentialsError(f"{prefix}_USER may not contain ':' (HTTP Basic cannot carry it)")
            pair = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
            return cls("Basic", f"{prefix}_USER and {prefix}_PASSWORD", f"Basic {pair}")
        return None


@dataclass(frozen=True)
class Response:
    """A remote's answer, read whole (up to the policy's size limit)."""

    status: int
    reason: str
    headers: Mapping[str, str]
    body: bytes

    def header(self, name: str) -> str | None:
        """The header ``name``, whatever its case."""
        return next((value for key, value in self.headers.items() if key.lower() == name.lower()), None)

    def excerpt(self) -> str:
        """The start of the answer as one line of text, for messages."""
        text = " ".join(self.body[: EXCERPT_CHARS * 4].decode("utf-8", errors="replace").split())
        return text if len(text) <= EXCERPT_CHARS else text[: EXCERPT_CHARS - 3] + "..."


def readable(url: str, limit: int = 160) -> str:
    """``url`` for a message: its query string decoded, and the whole cut to ``limit`` characters.

    >>> readable("http://h/store?graph=https%3A%2F%2Fx.org%2Fid%2Fgraph%2Flinks")
    'http://h/store?graph=https://x.org/id/graph/links'
    """
    base, mark, query = url.partition("?")
    text = base + mark + unquote_plus(query)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def retry_after_s(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds a ``Retry-After`` header asks to wait (a number or an HTTP date), or ``None``.

    >>> retry_after_s("2"), retry_after_s(None), retry_after_s("soon")
    (2.0, None, None)
    >>> retry_after_s("Wed, 21 Oct 2015 07:28:10 GMT", now=datetime(2015, 10, 21, 7, 28, tzinfo=UTC))
    10.0
    """
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def check_url(url: str) -> None:
    """Refuse what :func:`request` cannot or must not use: other schemes, no host, credentials in it.

    >>> check_url("http://127.0.0.1:7878/store")
    >>> check_url("http://ann:secret@example.org/store")
    Traceback (most recent call last):
    ...
    ValueError: the URL carries credentials, which would show in `ps` and shell history: ...
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL with a host: {url!r}")
    if parts.username is not None or parts.password is not None:
        raise ValueError("the URL carries credentials, which would show in `ps` and shell history: "
                         "set them in the environment instead")
    try:
        parts.port  # noqa: B018 - raises for a port that is not a number
    except ValueError as error:
        raise ValueError(f"bad port in {url!r}: {error}") from error


Body = bytes | BinaryIO | None


def request(
    method: str,
    url: str,
    *,
    body: Body = None,
    headers: Mapping[str, str] | None = None,
    policy: RemotePolicy | None = None,
    credentials: Credentials | None = None,
    deadline_s: float | None = None,
    retry_statuses: frozenset[int] = RETRY_STATUSES,
    sleep: Callable[[float], None] = time.sleep,
) -> Response:
    """Send one request (retried as :class:`RemotePolicy` says) and return the 2xx answer.

    ``body`` is bytes or a seekable binary file (sent from its current position, again from there
    on a retry). ``deadline_s`` bounds the whole call, waits included. ``retry_statuses`` are the
    answers tried again (by default 429 and the 5xx that may pass).

    :raises ValueError: for a URL :func:`check_url` refuses.
    :raises RemoteStatusError: for an answer outside 2xx (after the retries for 429 and 5xx).
    :raises RemoteTimeout, RemoteUnreachable: when no answer could be had within the attempts.
    """
    check_url(url)
    policy = policy or RemotePolicy()
    deadline = None if deadline_s is None else time.monotonic() + deadline_s
    start = body.tell() if body is not None and not isinstance(body, bytes) else 0
    attempt = 0
    while True:
        attempt += 1
        failure: RemoteError
        try:
            answer = _attempt(method, url, body, start, headers or {}, policy, credentials, deadline)
        except _TooLarge as error:
            raise RemoteAnswerTooLarge(method, url, str(error), attempt) from error
        except TimeoutError as error:
            failure = RemoteTimeout(method, url, f"timed out ({error})", attempt)
            if not isinstance(error, _NoConnection) and method not in SAFE_METHODS:
                raise failure from error  # the remote may still be working on it: sending it again piles up work
            wait = policy.wait_before(attempt + 1)
        except (OSError, http.client.HTTPException) as error:
            failure = RemoteUnreachable(method, url, _describe(error), attempt)
            if isinstance(error, socket.gaierror | ssl.SSLCertVerificationError):
                raise failure from error  # an unknown host or a bad certificate does not heal in seconds
            wait = policy.wait_before(attempt + 1)
        else:
            if 200 <= answer.status < 300:
                return answer
            failure = RemoteStatusError(method, url, answer, attempt)
            if answer.status not in retry_statuses:
                raise failure
            asked = retry_after_s(answer.header("Retry-After"))
            wait = policy.wait_before(attempt + 1) if asked is None else asked
            if asked is not None and asked > policy.max_wait_s:
                raise failure
        if attempt >= policy.attempts or (deadline is not None and time.monotonic() + wait >= deadline):
            raise failure
        sleep(wait)


def _describe(error: BaseException) -> str:
    """A short, credential-free description of a connection failure."""
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, socket.gaierror):
        return f"unknown host ({error.strerror or error})"
    if isinstance(error, http.client.RemoteDisconnected | ConnectionResetError | BrokenPipeError):
        return "the server closed the connection without answering"
    return f"cannot connect: {getattr(error, 'strerror', None) or error or type(error).__name__}"


def _remaining(limit: float, deadline: float | None) -> float:
    """``limit``, or less when the deadline is nearer; a :class:`TimeoutError` when it has passed."""
    if deadline is None:
        return limit
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("the time limit of the whole call has passed")
    return min(limit, left)


def _attempt(method: str, url: str, body: Body, start: int, headers: Mapping[str, str], policy: RemotePolicy,
             credentials: Credentials | None, deadline: float | None) -> Response:
    parts = urlsplit(url)
    kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = kind(parts.hostname, parts.port, timeout=_remaining(policy.connect_timeout_s, deadline))
    try:
        try:
            connection.connect()
        except TimeoutError as error:
            raise _NoConnection(f"no connection within {policy.connect_timeout_s:g} s") from error
        connection.sock.settimeout(_remaining(policy.read_timeout_s, deadline))
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        connection.putrequest(method, target, skip_accept_encoding=True)
        sent = {"User-Agent": USER_AGENT, **headers}
        if credentials is not None:
            sent["Authorization"] = credentials.header
        length = _length(body, start)
        if length is not None:
            sent["Content-Length"] = str(length)
        for name, value in sent.items():
            connection.putheader(name, value)
        connection.endheaders()
        # A server that answers early (401, 413...) may close before the body is sent: read its answer below.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            _send(connection, body, start, policy, deadline)
        try:
            answer = connection.getresponse()
        except TimeoutError as error:
            raise TimeoutError(f"no answer within {policy.read_timeout_s:g} s") from error
        return Response(answer.status, answer.reason, dict(answer.getheaders()), _read(answer, policy, deadline))
    finally:
        connection.close()


def _length(body: Body, start: int) -> int | None:
    if body is None:
        return None
    if isinstance(body, bytes):
        return len(body)
    end = body.seek(0, os.SEEK_END)
    body.seek(start)
    return end - start


def _send(connection: http.client.HTTPConnection, body: Body, start: int, policy: RemotePolicy,
          deadline: float | None) -> None:
    if body is None:
        return
    if isinstance(body, bytes):
        connection.send(body)
        return
    body.seek(start)
    while chunk := body.read(CHUNK_BYTES):
        connection.sock.settimeout(_remaining(policy.read_timeout_s, deadline))
        connection.send(chunk)


def _read(answer: http.client.HTTPResponse, policy: RemotePolicy, deadline: float | None) -> bytes:
    chunks, size = [], 0
    while True:
        if answer.fp is not None and deadline is not None:
            _remaining(policy.read_timeout_s, deadline)  # raises once the deadline has passed
        chunk = answer.read1(CHUNK_BYTES) if answer.fp is not None else b""
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > policy.max_answer_bytes:
            raise _TooLarge(f"the answer is over {policy.max_answer_bytes} bytes")
        chunks.append(chunk)


def select(endpoint: str, query: str, **options) -> list[dict[str, str]]:
    """Run a SPARQL SELECT on a remote endpoint (GET, SPARQL JSON results); the rows, variable -> value.

    ``options`` go to :func:`request` (``policy``, ``credentials``, ``deadline_s``).

    :raises RemoteAnswerError: if the answer is not SPARQL JSON results.
    """
    url = f"{endpoint}{'&' if '?' in endpoint else '?'}{urlencode({'query': query})}"
    answer = request("GET", url, headers={"Accept": "application/sparql-results+json"}, **options)
    try:
        bindings = json.loads(answer.body)["results"]["bindings"]
        return [{name: term["value"] for name, term in row.items()} for row in bindings]
    except (ValueError, KeyError, TypeError) as error:
        raise RemoteAnswerError("GET", endpoint, f"the answer is not SPARQL JSON results: {answer.excerpt()!r}") \
            from error
