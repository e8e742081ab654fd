"""One dispatcher for everything the core receives, in the manner of TTCN-3 components.

Owns who gets each inbound item. The core attaches it as its endpoint's inbox, so every
message, `SipEndpoint.receive` included, is handed to exactly one handler:

* a **transaction** (our client transaction waiting for its responses), then
* a **dialog** (a dialog of ours waiting for the SUT's requests inside it), then
* an **expectation** (a one-shot wait on a predicate).

Within a kind the oldest registered handler wins, so two waits never race. When one
message matches two waiting expectations, that is a harness defect (the waits overlap):
the oldest still takes it, and an `Overlap` names both. A message nobody waits for yet is
kept, in order and bounded, for the next handler that matches it, so no case depends on
which came first, the message or the wait. What is still kept when the core closes a case's
window is what no one expected (`Core.end_case` and `Core.reset` record and answer it).
"""

from __future__ import annotations

import asyncio
import bisect
import collections
import contextlib
import itertools
import logging
from collections.abc import Iterator
from dataclasses import dataclass

from cpmconf.transport import Inbound, Predicate, TransportError, timed_out

log = logging.getLogger("cpmconf.core")

TRANSACTION, DIALOG, EXPECTATION = "transaction", "dialog", "expectation"
_RANK = {TRANSACTION: 0, DIALOG: 1, EXPECTATION: 2}
DEFAULT_MAX_PENDING = 10_000
MAX_OVERLAPS = 100  # a defect repeats; the first ones name it


@dataclass(frozen=True)
class Overlap:
    """One message that matched more than one waiting expectation: `taken_by` got it."""

    time: float
    message: str
    taken_by: str
    also: tuple[str, ...]

    def to_json(self) -> dict:
        return {
            "time": self.time,
            "message": self.message,
            "taken_by": self.taken_by,
            "also": list(self.also),
        }


@dataclass
class Unexpected:
    """A message no handler took within its case window: when it arrived, in which window,
    and what the core answered (None: nothing to answer, e.g. an ACK or unparseable bytes)."""

    time: float
    window: str
    message: str
    transport: str
    remote: str
    answer: str | None = None

    def to_json(self) -> dict:
        return {
            "time": self.time,
            "window": self.window,
            "message": self.message,
            "transport": self.transport,
            "remote": self.remote,
            "answer": self.answer,
        }

    @classmethod
    def of(cls, item: Inbound, window: str) -> Unexpected:
        what = item.message.summary() if item.message is not None else f"unparseable: {item.error}"
        host, port = item.remote
        return cls(item.time, window, what, item.transport, f"{host}:{port}")


class Handler:
    """A registered wait: its predicate, kind and the items it was handed, in order."""

    def __init__(
        self, dispatcher: Dispatcher, predicate: Predicate | None, what: str, kind: str, seq: int
    ) -> None:
        self.dispatcher = dispatcher
        self.predicate = predicate
        self.what = what
        self.kind = kind
        self.seq = seq
        self.once = kind == EXPECTATION
        self.items: collections.deque[tuple[int, Inbound]] = collections.deque()
        self.error: BaseException | None = None
        self.closed = False
        self._arrived = asyncio.Event()

    @property
    def rank(self) -> tuple[int, int]:
        return (_RANK[self.kind], self.seq)

    def matches(self, item: Inbound) -> bool:
        if self.predicate is None:
            return True
        try:
            return bool(self.predicate(item))
        except Exception as exc:  # the waiter's bug: it gets the exception, as before
            self.fail(exc)
            return False

    def take(self, entry: tuple[int, Inbound]) -> None:
        self.items.append(entry)
        self._arrived.set()
        if self.once:
            self.dispatcher._unregister(self)

    def fail(self, error: BaseException) -> None:
        if self.error is None:
            self.error = error
        self._arrived.set()

    async def next(self, timeout: float) -> Inbound:
        """The next item handed to this handler; TransportTimeout after `timeout` s."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if self.items:
                return self.items.popleft()[1]
            if self.error is not None:
                raise self.error
            if self.dispatcher.closed:
                raise TransportError(
                    f"{self.dispatcher.owner!r} closed while waiting for {self.what}"
                )
            remaining = deadline - loop.time()
            if remaining <= 0:
                d = self.dispatcher
                raise timed_out(d.owner, self.predicate, timeout, self.what, d.pending(), d.dropped)
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(remaining):
                    await self._arrived.wait()

    def close(self) -> None:
        """Stop taking items; what was handed over but not read goes back, in order."""
        if self.closed:
            return
        self.closed = True
        self.dispatcher._unregister(self)
        leftover, self.items = list(self.items), collections.deque()
        self.dispatcher._requeue(leftover)


class Dispatcher:
    """The core's inbox (`cpmconf.transport.InboxLike`): see the module docstring."""

    def __init__(self, max_pending: int = DEFAULT_MAX_PENDING, owner: object = None) -> None:
        self.owner = owner  # the endpoint, named in errors
        self.max_pending = max_pending
        self.dropped = 0  # kept by no one: the pending queue was full
        self.overlaps: list[Overlap] = []
        self.closed = False
        self._handlers: list[Handler] = []  # by rank: kind, then age
        self._pending: collections.deque[tuple[int, Inbound]] = collections.deque()
        self._arrivals = itertools.count(1)
        self._registrations = itertools.count(1)

    # -- the endpoint's side (InboxLike) -------------------------------------------------------

    def put(self, item: Inbound) -> None:
        entry = (next(self._arrivals), item)
        # Every handler sees every item (a wait counts the unparseable ones it saw), and the
        # first by rank takes it.
        matched = [h for h in list(self._handlers) if h.matches(item)]
        if not matched:
            if len(self._pending) >= self.max_pending:
                self.dropped += 1  # a flood: counted, never grown
                return
            self._pending.append(entry)
            return
        winner = matched[0]
        if winner.kind == EXPECTATION and len(matched) > 1:
            self._overlap(item, winner, matched[1:])
        winner.take(entry)

    async def receive(
        self, predicate: Predicate | None, timeout: float, what: str | None
    ) -> Inbound:
        """A one-shot expectation: the oldest kept item matching `predicate`, or the first to
        arrive within `timeout` s that no transaction, dialog or older expectation takes."""
        with self.open(predicate, what or _describe(predicate), EXPECTATION) as handler:
            return await handler.next(timeout)

    def drain(self) -> list[Inbound]:
        items = [item for _, item in self._pending]
        self._pending.clear()
        return items

    def close(self) -> None:
        self.closed = True
        for handler in list(self._handlers):
            handler._arrived.set()

    def pending(self) -> int:
        return len(self._pending)

    # -- handlers ----------------------------------------------------------------------------

    @contextlib.contextmanager
    def open(self, predicate: Predicate | None, what: str, kind: str) -> Iterator[Handler]:
        """Register a handler of `kind` for as long as the block runs. It first takes what is
        kept for it (an expectation: the oldest match; a transaction or dialog: every one)."""
        if kind not in _RANK:
            raise ValueError(f"unknown handler kind {kind!r}")
        handler = Handler(self, predicate, what, kind, next(self._registrations))
        kept = []
        for entry in self._pending:
            if handler.matches(entry[1]):
                kept.append(entry)
                if handler.once:
                    break
        if kept:
            taken = {id(e) for e in kept}
            self._pending = collections.deque(e for e in self._pending if id(e) not in taken)
            handler.items.extend(kept)
        if not (handler.once and kept):
            bisect.insort(self._handlers, handler, key=lambda h: h.rank)
        try:
            yield handler
        finally:
            handler.close()

    def waiting(self) -> list[str]:
        """What the registered handlers wait for, by rank."""
        return [f"{h.kind}: {h.what}" for h in self._handlers]

    def _unregister(self, handler: Handler) -> None:
        with contextlib.suppress(ValueError):
            self._handlers.remove(handler)

    def _requeue(self, entries: list[tuple[int, Inbound]]) -> None:
        # Items handed to a handler that stopped before reading them (a cancelled wait, a
        # transaction's late retransmission): kept again, in arrival order.
        if entries:
            merged = sorted([*self._pending, *entries], key=lambda e: e[0])
            self._pending = collections.deque(merged[-self.max_pending :])
            self.dropped += max(0, len(merged) - self.max_pending)

    def _overlap(self, item: Inbound, winner: Handler, others: list[Handler]) -> None:
        also = tuple(h.what for h in others if h.kind == EXPECTATION)
        if not also:
            return
        what = item.message.summary() if item.message is not None else str(item)
        log.warning(
            "harness defect: %s matched %d waits; %r took it, also waiting: %s",
            what,
            len(also) + 1,
            winner.what,
            "; ".join(repr(a) for a in also),
        )
        if len(self.overlaps) < MAX_OVERLAPS:
            self.overlaps.append(Overlap(item.time, what, winner.what, also))


def _describe(predicate: Predicate | None) -> str:
    if predicate is None:
        return "any message"
    return f"a message matching {getattr(predicate, '__qualname__', repr(predicate))}"


__all__ = [
    "DIALOG",
    "EXPECTATION",
    "TRANSACTION",
    "Dispatcher",
    "Handler",
    "Overlap",
    "Unexpected",
]
