"""The capture view, judgements and the registry every check module adds to."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from cpmconf.codec.sip import SipMessage


@dataclass(frozen=True)
class Judgement:
    ok: bool | None  # None: precondition not met (e.g. no 403 whose Warning could be judged)
    expected: str
    actual: str
    message: bytes | None = None
    note: str | None = None
    arisen: bool = True  # False: the clause's condition never arose, so it does not apply


def judged(
    ok: bool, expected: str, actual: str, msg: SipMessage | None = None, note=None
) -> Judgement:
    return Judgement(bool(ok), expected, actual, None if msg is None else bytes(msg), note)


def not_judged(expected: str, actual: str, msg: SipMessage | None = None, note=None) -> Judgement:
    """A precondition of the check did not hold (e.g. no 403 whose Warning could be read):
    the clause is inconclusive, neither passed nor failed."""
    return Judgement(None, expected, actual, None if msg is None else bytes(msg), note)


def not_arisen(expected: str, actual: str, why: str, msg: SipMessage | None = None) -> Judgement:
    """The condition of a conditional clause (catalogue `when`) never arose, e.g. no device
    accepted, so nothing could be done wrong: the clause is not-applicable with `why`, never
    failed. Also what a MAY clause that was not used records."""
    return Judgement(None, expected, actual, None if msg is None else bytes(msg), why, False)


@dataclass(frozen=True)
class Seen:
    """One captured SIP message and which side sent it."""

    index: int
    time: float
    from_sut: bool
    message: SipMessage
    flow: tuple | None = None  # (src, sport, dst, dport), where the record has one


@dataclass
class View:
    """Captured SIP messages of one test (or one pcap), with the test system's address.

    Anything not sent by the test system's own address counts as sent by the SUT: on loopback
    the SUT's source ports are not always its listening ports (TCP), but the test system's are
    known.
    """

    items: list[Seen]
    errors: list[str] = field(default_factory=list)
    msrp: list[Seen] = field(default_factory=list)  # MSRP messages (message is an MsrpMessage)

    @classmethod
    def from_records(cls, records: Iterable, test_system_ports: Iterable[int]) -> View:
        ts_ports = set(test_system_ports)
        items, errors, msrp = [], [], []
        for r in records:
            if getattr(r, "message", None) is None:
                if getattr(r, "error", None):
                    errors.append(str(r.error))
                continue
            src_port = r.flow[1]
            dst_port = r.flow[3]
            from_sut = dst_port in ts_ports and src_port not in ts_ports
            if r.transport == "tcp" and src_port not in ts_ports and dst_port not in ts_ports:
                from_sut = False
            seen = Seen(r.index, r.time, from_sut, r.message, tuple(r.flow))
            (msrp if getattr(r, "protocol", "SIP") == "MSRP" else items).append(seen)
        return cls(items, errors, msrp)

    def requests(
        self,
        method: str,
        *,
        from_sut: bool | None = None,
        where: Callable[[SipMessage], bool] = lambda m: True,
    ) -> list[SipMessage]:
        out, seen = [], set()
        for s in self.items:
            m = s.message
            if not m.is_request or m.method != method:
                continue
            if from_sut is not None and s.from_sut != from_sut:
                continue
            key = (m.call_id, m.cseq, m.branch)  # a retransmission is the same request
            if key in seen or not where(m):
                continue
            seen.add(key)
            out.append(m)
        return out

    def responses_to(
        self, request: SipMessage, *, from_sut: bool | None = None
    ) -> list[SipMessage]:
        out = []
        for s in self.items:
            m = s.message
            if m.is_request or m.call_id != request.call_id or m.cseq != request.cseq:
                continue
            if from_sut is not None and s.from_sut != from_sut:
                continue
            out.append(m)
        return out

    def finals_to(self, request: SipMessage, *, from_sut: bool | None = None) -> list[SipMessage]:
        """Final responses to `request`, without legitimate retransmissions.

        A UAS repeats a final only when the request reached it again, so an identical final
        counts once per captured copy of the request; any copy beyond that is a second final.
        """
        copies = max(1, sum(1 for s in self.items if s.message.raw == request.raw))
        finals, seen = [], {}
        for m in self.responses_to(request, from_sut=from_sut):
            if m.status is None or m.status < 200:
                continue
            n = seen.get(m.raw, 0)
            seen[m.raw] = n + 1
            if n == 0 or n >= copies:
                finals.append(m)
        return finals

    def msrp_from_sut(self, method: str | None = "SEND") -> list:
        """MSRP messages the SUT sent, in capture order (a method, or None for all)."""
        return [
            s.message
            for s in self.msrp
            if s.from_sut and (method is None or s.message.method == method)
        ]

    def request(self, call_id: str, method: str | None = None) -> SipMessage | None:
        for s in self.items:
            m = s.message
            if m.is_request and m.call_id == call_id and (method is None or m.method == method):
                return m
        return None


@dataclass(frozen=True)
class Check:
    clause: str
    fn: Callable[..., Judgement]
    passive: bool
    doc: str


CHECKS: dict[str, list[Check]] = {}


def register(*clauses: str, passive: bool = False):
    """Register a check function as judging `clauses`."""

    def deco(fn):
        for c in clauses:
            CHECKS.setdefault(c, []).append(Check(c, fn, passive, (fn.__doc__ or "").strip()))
        return fn

    return deco
