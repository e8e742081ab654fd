"""The capture View: what the checks judge, built only from capture records.

Owns `View` (the captured SIP and MSRP messages of one test or one pcap, with who sent each)
and `Seen`, the one kind of item it hands out: a captured message with its capture index
(the frame, for a pcap) and direction. A `Seen` is made only here (`View.from_records`,
`Seen.captured`), never from what a socket handed a step, so a check given a `Seen` judges
what was on the wire. It reads like the parsed message (`m.header(...)`, `m.status`,
`bytes(m)`), so a check body reads either. The test case finds the SUT's messages here by
the identifiers the steps return (Call-ID, CSeq, Contribution-ID, ...).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from cpmconf.codec.msrp import MsrpMessage
from cpmconf.codec.sip import SipMessage

_MINT = object()  # only this module makes View items


@dataclass(frozen=True)
class Seen:
    """One captured message, which side sent it, and where it is in the capture."""

    index: int
    time: float
    from_sut: bool
    message: SipMessage | MsrpMessage
    flow: tuple | None = None  # (src, sport, dst, dport), where the record has one
    mint: object = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.mint is not _MINT:
            raise TypeError("a View item is made by the capture only (Seen.captured)")

    @classmethod
    def captured(
        cls,
        index: int,
        time: float,
        from_sut: bool,
        message: SipMessage | MsrpMessage,
        flow: Iterable | None = None,
    ) -> Seen:
        """The item for one capture record (a live capture, or a stored pcap's frame)."""
        if isinstance(message, Seen):
            message = message.message
        return cls(index, time, from_sut, message, None if flow is None else tuple(flow), _MINT)

    @property
    def frame(self) -> int:
        return self.index

    def __getattr__(self, name: str):
        # Reads as the parsed message: a check body reads a Seen as it read the message.
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(object.__getattribute__(self, "message"), name)

    def __bytes__(self) -> bytes:
        return bytes(self.message)

    def __str__(self) -> str:
        return str(self.message)


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
            seen = Seen.captured(r.index, r.time, from_sut, r.message, r.flow)
            (msrp if getattr(r, "protocol", "SIP") == "MSRP" else items).append(seen)
        return cls(items, errors, msrp)

    def requests(
        self,
        method: str,
        *,
        from_sut: bool | None = None,
        where: Callable[[Seen], bool] = lambda m: True,
    ) -> list[Seen]:
        """Requests of `method`, first copy of each (a retransmission is the same request)."""
        out, seen = [], set()
        for s in self.items:
            m = s.message
            if not m.is_request or m.method != method:
                continue
            if from_sut is not None and s.from_sut != from_sut:
                continue
            key = (m.call_id, m.cseq, m.branch)
            if key in seen or not where(s):
                continue
            seen.add(key)
            out.append(s)
        return out

    def responses(
        self, call_id: str, cseq: tuple[int, str], *, from_sut: bool | None = None
    ) -> list[Seen]:
        """Every captured response in transaction (`call_id`, `cseq`), in capture order."""
        return [
            s
            for s in self.items
            if not s.message.is_request
            and s.message.call_id == call_id
            and s.message.cseq == cseq
            and (from_sut is None or s.from_sut == from_sut)
        ]

    def responses_to(self, request, *, from_sut: bool | None = None) -> list[Seen]:
        """Responses to `request` (anything with a Call-ID and CSeq: read for them only)."""
        return self.responses(request.call_id, request.cseq, from_sut=from_sut)

    def finals(
        self, call_id: str, cseq: tuple[int, str], *, from_sut: bool | None = None
    ) -> list[Seen]:
        """Final responses in transaction (`call_id`, `cseq`), without legitimate
        retransmissions.

        A UAS repeats a final only when the request reached it again, so an identical final
        counts once per captured copy of the request; any copy beyond that is a second final.
        """
        # The request travels the other way from its responses (a proxy's forwarded copy,
        # same Call-ID and CSeq, goes this way and does not count).
        copies = max(
            1,
            sum(
                1
                for s in self.items
                if s.message.is_request
                and s.message.call_id == call_id
                and s.message.cseq == cseq
                and (from_sut is None or s.from_sut != from_sut)
            ),
        )
        finals, seen = [], {}
        for s in self.responses(call_id, cseq, from_sut=from_sut):
            if s.message.status is None or s.message.status < 200:
                continue
            n = seen.get(s.message.raw, 0)
            seen[s.message.raw] = n + 1
            if n == 0 or n >= copies:
                finals.append(s)
        return finals

    def finals_to(self, request, *, from_sut: bool | None = None) -> list[Seen]:
        return self.finals(request.call_id, request.cseq, from_sut=from_sut)

    def final_to(self, call_id: str, cseq: tuple[int, str]) -> Seen | None:
        """The SUT's first final response in transaction (`call_id`, `cseq`), or None."""
        finals = self.finals(call_id, cseq, from_sut=True)
        return finals[0] if finals else None

    def msrp_from_sut(self, method: str | None = "SEND") -> list[Seen]:
        """MSRP messages the SUT sent, in capture order (a method, or None for all)."""
        return [
            s for s in self.msrp if s.from_sut and (method is None or s.message.method == method)
        ]

    def find(self, ids, *, from_sut: bool | None = None) -> Seen | None:
        """The first captured copy of the request `ids` names (anything with call_id, cseq
        and branch: a step's identifiers), or None."""
        branch = getattr(ids, "branch", None)
        found = self._find(ids, from_sut, {branch} if branch else None)
        if found is None and branch:
            # `ids` may name a proxy's copy (a real core in the path, cpmconf.roles.kamailio):
            # that copy keeps the sender's Vias below its own, so the sender's copy is the
            # one whose top branch is among them.
            below: set[str] = set()
            for s in self.items:
                m = s.message
                if m.is_request and m.call_id == ids.call_id and m.branch == branch:
                    below |= _via_branches(m)
            if below:
                found = self._find(ids, from_sut, below)
        return found

    def _find(self, ids, from_sut: bool | None, branches: set[str] | None) -> Seen | None:
        for s in self.items:
            m = s.message
            if not m.is_request or m.call_id != ids.call_id or m.cseq != ids.cseq:
                continue
            if from_sut is not None and s.from_sut != from_sut:
                continue
            if branches is None or m.branch in branches:
                return s
        return None

    def request(self, call_id: str, method: str | None = None, **kw) -> Seen | None:
        """The first captured request with `call_id` (and `method`); `from_sut=` narrows."""
        from_sut = kw.get("from_sut")
        for s in self.items:
            m = s.message
            if m.is_request and m.call_id == call_id and (method is None or m.method == method):
                if from_sut is None or s.from_sut == from_sut:
                    return s
        return None


def _via_branches(msg) -> set[str]:
    """The branch of every Via of `msg` (unreadable Vias give none)."""
    out: set[str] = set()
    try:
        values = msg.header_values("Via")
    except Exception:  # noqa: BLE001 - a garbled Via names no branch
        return out
    for value in values:
        for part in value.split(","):
            for param in part.split(";")[1:]:
                key, _, val = param.strip().partition("=")
                if key.lower() == "branch" and val:
                    out.add(val.strip())
    return out
