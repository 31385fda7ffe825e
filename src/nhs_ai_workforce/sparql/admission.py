"""Who may run a query now: a few slots, a short bounded queue, and a fair share per client.

A server process runs at most ``slots`` queries at once (one per query process). Under load,
a request must neither hold a server thread for long nor let one client crowd out the rest:

- **Slots.** A request that finds a free slot, and whose client holds fewer than its
  ``per_client`` share, runs at once.
- **Bounded queue.** Otherwise it may wait, if fewer than ``queue`` requests wait already
  and its client has fewer than half the queue (at least one) waiting. If the whole queue is
  full it waits up to :data:`FULL_QUEUE_WAIT_S` for a place, then is refused: **503 Server
  busy** with ``Retry-After``, so it holds a thread for at most a second. A waiting request
  that gets no slot within ``wait_s`` (the query time limit, by which every running query
  has ended) is refused the same way.
- **Fair share.** A client (an address, see :mod:`nhs_ai_workforce.web.sparql`) is sure of
  ``per_client`` slots and has at most half the queue waiting; past that it gets **429 Too
  many queries** with ``Retry-After``. When a slot frees, it goes to the waiting client that
  holds the fewest slots, then the one served least recently, then the first to arrive: a
  client with many queries waiting does not delay a newcomer by more than one query.
- **Lending.** A slot nobody else wants is lent to a client past its share (``lend``; the
  pool's default), so one client alone uses every core. Nobody else wants one when no other
  client has been given a slot for :data:`LEND_AFTER_S`; and only a client whose queries end
  quickly borrows (its last one, and each it is running, within :data:`LEND_QUICK_S`), so a
  client flooding the server with runaway queries never does. As soon as another client waits
  within its share, the most recently lent slot is asked back (:attr:`Ticket.reclaimed_at`): its
  runner gives its query :data:`RECLAIM_GRACE_S` to finish, then stops it and puts the
  request back in the queue (:meth:`Admission.requeue`), first of its client's, where it starts
  again. The share is thus a guarantee, not a cap; a runner that cannot stop its query (a
  remote store) takes no loans.
- Requests without a client (``None``: the CLI, tests) share the slots and the queue but have
  no per-client share.

Everything is decided under one lock in a few microseconds; a client over its share is refused at once.
"""

from __future__ import annotations

import ipaddress
import itertools
import math
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from ..core.errors import ServiceError, Unavailable

__all__ = ["FULL_QUEUE_WAIT_S", "LEND_AFTER_S", "LEND_QUICK_S", "RECLAIM_GRACE_S", "TOO_MANY_STATUS", "Admission",
           "Ticket", "client_key"]

#: How long a request may wait for a place when the whole queue is full (never past the time
#: limit): under a burst of quick queries a place frees within milliseconds, so a short wait
#: spares them a 503; under a flood of slow ones the request is refused within this time.
FULL_QUEUE_WAIT_S = 1.0

#: One client over its share: 429 Too Many Requests (RFC 6585), the status for "you, slow
#: down", as opposed to 503 for "the server is full".
TOO_MANY_STATUS = 429

#: A slot is lent past a client's share only when no other client has been given one for this
#: long (seconds): a client that sends its queries one after another keeps slots free for itself,
#: rather than having each lent slot asked back.
LEND_AFTER_S = 1.0

#: Only a client whose last query, and each it is running, took at most this long (seconds)
#: borrows: taking a lent slot back from a long query means stopping it, and the newcomer then
#: waits for a fresh query process (about 0.1 s).
LEND_QUICK_S = 0.25

#: How long a query in a slot asked back may still run (seconds): most queries end within it,
#: so only a long one is stopped and started again.
RECLAIM_GRACE_S = 0.05


@dataclass(eq=False)
class Ticket:
    """A request's place: waiting, then granted a slot until it leaves."""

    client: str | None
    seq: int
    granted: bool = False
    #: Set when a waiting ticket is granted; made by :meth:`Admission.wait` (the front end's
    #: I/O loop waits for none: it has ``on_grant``).
    event: threading.Event | None = None
    #: Called (under the admission's lock: it must be quick) when a waiting ticket is granted.
    on_grant: Callable[[], None] | None = None
    #: When it was granted (``time.monotonic()``), and whether past its client's share (a lent slot).
    granted_at: float = 0.0
    borrowed: bool = False
    #: When a lent slot was asked back (``time.monotonic()``): its query is stopped
    #: :data:`RECLAIM_GRACE_S` later and the ticket :meth:`~Admission.requeue`\ d.
    reclaimed_at: float | None = None

    def asked_back(self, now: float) -> bool:
        """Has this lent slot been asked back and its query's grace run out?"""
        at = self.reclaimed_at
        return at is not None and now >= at + RECLAIM_GRACE_S


class Admission:
    """Admits requests to ``slots`` concurrent queries (thread-safe); see the module docstring."""

    def __init__(self, slots: int, *, queue: int, per_client: int | None = None, wait_s: float,
                 retry_s: int = 5, lend: bool = False) -> None:
        self.slots = max(1, slots)
        self.queue = max(0, queue)
        self.per_client = max(1, per_client if per_client is not None else self.slots // 2)
        self.queue_per_client = max(1, self.queue // 2)
        self.wait_s = wait_s
        self.retry_s = retry_s
        self.lend = lend
        self._lock = threading.Lock()
        self._space = threading.Condition(self._lock)  # notified when a place in the queue frees
        self._running: Counter[str | None] = Counter()
        self._waiting: list[Ticket] = []
        self._served: dict[str | None, tuple[int, float]] = {}  # (order, time) of each client's last grant
        self._took: dict[str | None, float] = {}  # how long each client's last query held its slot
        self._holding: list[Ticket] = []  # the granted tickets
        #: Slots lent so far, and loans asked back so far.
        self.loans = self.asked_back = 0
        self._order = itertools.count()

    @property
    def held(self) -> int:
        """The most server threads queries can hold at once: the slots plus the queue."""
        return self.slots + self.queue

    def counts(self) -> tuple[int, int]:
        """``(running, waiting)`` now."""
        with self._lock:
            return sum(self._running.values()), len(self._waiting)

    def report(self) -> dict[str, int]:
        """What ``/health`` says of the slots: running, waiting and lent now; loans and loans asked back so far."""
        with self._lock:
            return {"running": sum(self._running.values()), "waiting": len(self._waiting), "lent": len(self._lent()),
                    "loans": self.loans, "asked_back": self.asked_back}

    @contextmanager
    def slot(self, client: str | None) -> Iterator[None]:
        """Hold a slot for the ``with`` block; raises :class:`ServiceError` (503, 429) at once if none may be had."""
        ticket = self.enter(client)
        try:
            yield
        finally:
            self._leave(ticket)

    def enter_nowait(self, client: str | None, on_grant: Callable[[], None]) -> Ticket:
        """A ticket at once, without waiting: granted now, or waiting in the queue (then
        ``on_grant()`` is called when a slot is granted to it). Raises at once where
        :meth:`slot` would refuse (it would also wait a moment for room in a full queue)."""
        with self._lock:
            ticket = Ticket(client, next(self._order))
            refusal = self._admit(ticket)
            if refusal is not None:
                raise refusal
            if not ticket.granted:
                ticket.on_grant = on_grant  # only for a later grant: this one the caller sees
            return ticket

    def cancel(self, ticket: Ticket) -> ServiceError | None:
        """Give up a ticket that has waited too long: the 503 :meth:`slot` gives then, or ``None``
        if it was granted meanwhile (it must then :meth:`leave`)."""
        with self._lock:
            if ticket.granted:
                return None
            self._waiting.remove(ticket)
            self._space.notify_all()
            return self._busy(f"no query slot came free within {self.wait_s:g} s")

    def leave(self, ticket: Ticket) -> None:
        """Free a granted ticket's slot (nothing if it holds none)."""
        self._leave(ticket)

    def requeue(self, ticket: Ticket, on_grant: Callable[[], None] | None = None) -> bool:
        """Put a ticket whose lent slot was asked back, and whose query has been stopped, back in
        the queue, before its client's other waiting tickets; ``True`` if it was granted again
        at once (else ``on_grant()`` is called when it is, or the caller waits: :meth:`wait`)."""
        with self._lock:
            self._release(ticket)
            ticket.borrowed, ticket.reclaimed_at, ticket.on_grant = False, None, on_grant
            if ticket.event is not None:
                ticket.event.clear()
            self._waiting.append(ticket)
            self._dispatch()
            self._ask_back()
            return ticket.granted

    def wait(self, ticket: Ticket) -> None:
        """Wait for a waiting ticket's grant; raises the 503 of :meth:`cancel` past ``wait_s``."""
        with self._lock:
            if ticket.granted:
                return
            if ticket.event is None:
                ticket.event = threading.Event()
            event = ticket.event
        if not event.wait(self.wait_s):
            error = self.cancel(ticket)
            if error is not None:
                raise error

    def enter(self, client: str | None) -> Ticket:
        """A granted ticket, after waiting in the queue if need be; raises :class:`ServiceError`
        (503, 429) where :meth:`slot` does. The caller must :meth:`leave` it."""
        deadline = time.monotonic() + min(FULL_QUEUE_WAIT_S, self.wait_s)
        with self._lock:
            while True:
                ticket = Ticket(client, next(self._order))
                refusal = self._admit(ticket)
                if ticket.granted:
                    return ticket
                if refusal is None:
                    break
                remaining = deadline - time.monotonic()
                if refusal.status == TOO_MANY_STATUS or remaining <= 0:
                    raise refusal
                self._space.wait(remaining)  # the queue is full: a place usually frees within ms
        self.wait(ticket)
        return ticket

    # -- inside

    def _admit(self, ticket: Ticket) -> ServiceError | None:
        """Grant ``ticket`` now, or queue it; why it may do neither (under the lock)."""
        self._waiting.append(ticket)
        self._dispatch()
        refusal = None
        if not ticket.granted:
            self._waiting.remove(ticket)
            refusal = self._refusal(ticket)
            if refusal is None:
                self._waiting.append(ticket)
        self._ask_back()
        return refusal

    def _refusal(self, ticket: Ticket) -> ServiceError | None:
        """Why a request that cannot run now may not wait either (``None``: it may wait)."""
        client = ticket.client
        if client is not None:
            waiting = sum(1 for t in self._waiting if t.client == client)
            if waiting >= self.queue_per_client:
                return ServiceError(
                    TOO_MANY_STATUS, "Too many queries",
                    f"this client already has {self._running[client]} queries running and {waiting} waiting, "
                    f"its share of this server ({self.per_client} running, {self.queue_per_client} waiting); "
                    "send the next one when one has finished",
                    retry_after=self._retry_after(),
                )
        if len(self._waiting) >= self.queue and not self._loan_for(ticket):
            return self._busy(f"all {self.slots} query slots are taken and {len(self._waiting)} queries wait")
        return None

    def _loan_for(self, ticket: Ticket) -> bool:
        """Is there a loan to ask back for ``ticket`` (within its share), beyond those the waiting
        requests within theirs have? It may then wait past a full queue."""
        wanted = sum(1 for t in self._waiting if self._within_share(t))
        return self._within_share(ticket) and len(self._lent()) > wanted

    def _busy(self, why: str) -> ServiceError:
        return Unavailable(f"{why}; try again in a few seconds", "Server busy", self._retry_after())

    def _retry_after(self) -> int:
        return max(1, min(self.retry_s, math.ceil(self.wait_s)))

    def _leave(self, ticket: Ticket) -> None:
        with self._lock:
            self._release(ticket)
            self._dispatch()
            self._ask_back()

    def _release(self, ticket: Ticket) -> None:
        """Free ``ticket``'s slot, if it holds one (under the lock)."""
        if not ticket.granted:
            return
        ticket.granted = False
        client = ticket.client
        self._holding.remove(ticket)
        self._took[client] = time.monotonic() - ticket.granted_at
        self._running[client] -= 1
        if self._running[client] <= 0:
            del self._running[client]
        if not ticket.borrowed:  # a slot of the share came free: the client's oldest loan is now within it
            loan = next((t for t in self._holding if t.client == client and t.borrowed), None)
            if loan is not None:
                loan.borrowed, loan.reclaimed_at = False, None

    def _lent(self) -> list[Ticket]:
        """The granted tickets past their client's share, oldest first."""
        return [t for t in self._holding if t.borrowed]

    def _within_share(self, ticket: Ticket) -> bool:
        return ticket.client is None or self._running[ticket.client] < self.per_client

    def _may_borrow(self, client: str | None, now: float) -> bool:
        """May ``client`` be lent a slot past its share: are its queries quick, and has no other
        client had a slot lately?"""
        return (self.lend and self._took.get(client, math.inf) <= LEND_QUICK_S
                and all(now - t.granted_at <= LEND_QUICK_S for t in self._holding if t.client == client)
                and all(at <= now - LEND_AFTER_S for other, (_, at) in self._served.items() if other != client))

    def _dispatch(self) -> None:
        """Give free slots to the fairest waiting requests, and lend what nobody else wants (under
        the lock; the caller then asks loans back as needed: :meth:`_ask_back`)."""
        now = time.monotonic()
        while self._waiting and len(self._holding) < self.slots:  # the granted tickets: those running
            eligible = [t for t in self._waiting if self._within_share(t)]
            borrowed = not eligible
            if borrowed:
                eligible = [t for t in self._waiting if self._may_borrow(t.client, now)]
                if not eligible:
                    break
            chosen = min(eligible, key=lambda t: (self._running[t.client], self._served.get(t.client, (-1,))[0], t.seq))
            self._waiting.remove(chosen)
            self._running[chosen.client] += 1
            self._served[chosen.client] = (next(self._order), now)
            if len(self._served) > 4 * (self.held + 1):  # forget clients not seen for a while
                for stale in sorted(self._served, key=self._served.__getitem__)[: len(self._served) // 2]:
                    if stale not in self._running:
                        del self._served[stale]
                        self._took.pop(stale, None)
            chosen.granted, chosen.granted_at, chosen.borrowed = True, now, borrowed
            self.loans += borrowed
            self._holding.append(chosen)
            if chosen.event is not None:
                chosen.event.set()
            if chosen.on_grant is not None:
                chosen.on_grant()
            self._space.notify_all()

    def _ask_back(self) -> None:
        """Ask lent slots back for the waiting requests within their share, the most recent
        loans first; no more than they need (under the lock)."""
        lent = self._lent()
        if not lent:
            return
        wanted = sum(1 for t in self._waiting if self._within_share(t))
        asked = sum(1 for t in lent if t.reclaimed_at is not None)
        for loan in reversed(lent):
            if asked >= wanted:
                break
            if loan.reclaimed_at is None:
                loan.reclaimed_at, asked = time.monotonic(), asked + 1
                self.asked_back += 1
        for loan in lent:  # no longer needed (a slot of a share came free meanwhile)
            if asked <= wanted:
                break
            if loan.reclaimed_at is not None:
                loan.reclaimed_at, asked = None, asked - 1


def client_key(address: str | None) -> str | None:
    """The client a query is counted against: its IP address, an IPv6 one by its ``/64``.

    The address is the connection's peer (``REMOTE_ADDR``). Behind a reverse proxy that is
    the proxy, so every client would share one share: the operator names the proxy
    (``AIWF_TRUSTED_PROXY``) and the server then takes the client from the proxy's
    ``X-Forwarded-For``; the header is never believed from anyone else, since any client can
    send it. One IPv6 host usually has a whole ``/64``, so that is one client.

    >>> client_key("192.0.2.7"), client_key("2001:db8::1"), client_key("::ffff:192.0.2.7")
    ('192.0.2.7', '2001:db8::/64', '192.0.2.7')
    """
    if not address:
        return None
    try:
        ip = ipaddress.ip_address(address.strip("[]"))
    except ValueError:
        return address  # a Unix socket or another kind of peer: as given
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)
