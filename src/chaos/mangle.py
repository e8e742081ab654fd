"""What each chaos mode does to one message the SUT sends, without doing any I/O.

A :class:`Mangler` is fed every SIP message travelling from the reference SUT towards the test
system and answers with :class:`Action` s: bytes to send after a delay (none, one or several),
and whether to reset the connection. The proxy (`chaos.proxy`) carries them out. Traffic from
the test system to the SUT is never touched: the mode plays a hostile SUT, not a broken suite.

Every choice comes from a `random.Random` seeded per mode, so a run's mangling is repeatable
for the same sequence of messages.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass

MODES = (
    "drop",
    "delay",
    "duplicate",
    "reorder",
    "truncate",
    "garble",
    "malformed",
    "reset",
    "flood",
    "huge",
)
DESCRIPTIONS = {
    "drop": "every second message from the SUT is dropped",
    "delay": "every message from the SUT is held for twice the guard time plus 0.5 s",
    "duplicate": "every message from the SUT is sent twice",
    "reorder": "messages from the SUT are swapped in pairs (a lone one is released after half "
    "the guard time)",
    "truncate": "every message from the SUT is cut short at a random point",
    "garble": "random bytes of every message from the SUT are overwritten",
    "malformed": "before every message from the SUT, an unparseable SIP message; and a "
    "malformed MSRP request on a new connection to the test system's MSRP port",
    "reset": "a TCP connection is reset (RST) right after the SUT's first message on it",
    "flood": "every message from the SUT is followed by 20 unsolicited requests",
    "huge": "every response from the SUT carries an enormous header (UDP) or body (TCP)",
}
FLOOD = 20
UDP_PAD = 60_000  # stays inside one UDP datagram (65 507 bytes) with the message itself
TCP_PAD = 2 * 1024 * 1024  # past the harness's 1 MiB framing limit

MALFORMED_SIP = (
    b"SIP/2.0 2OO Okay-ish\r\nVia: ;;;\r\nCSeq: banana\r\nContent-Length: -7\r\n\r\n",
    b"MESSAGE sip:%%zz@ SIP/2.0\r\nFrom <no colon\r\nContent-Length: 999999\r\n\r\nshort",
    b"\x00\xff\xfe garbage that is not SIP at all\r\n\r\n",
)
MALFORMED_MSRP = (
    b"MSRP a1 SEND\r\nTo-Path: not-a-uri\r\nByte-Range: 9-1/0\r\n\r\nxx\r\n-------b2$\r\n"
)


@dataclass(frozen=True)
class Action:
    """Send `data` after `delay` seconds; `reset` aborts the connection (TCP) instead."""

    data: bytes = b""
    delay: float = 0.0
    reset: bool = False
    to_msrp: bool = False  # send `data` on a new connection to the test system's MSRP port


class Mangler:
    """One mode's rules; keep one per relayed flow (a UDP peer or a TCP connection)."""

    def __init__(self, mode: str, guard: float, transport: str, seed: int = 7) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown chaos mode {mode!r}; known: {', '.join(MODES)}")
        self.mode = mode
        self.guard = guard
        self.transport = transport
        self.rng = random.Random(f"{seed}:{mode}:{transport}")
        self.count = 0
        self.held: bytes | None = None

    @property
    def hold_time(self) -> float:
        return self.guard / 2

    def from_sut(self, raw: bytes) -> list[Action]:
        """What to send towards the test system for one message from the SUT."""
        self.count += 1
        mode = self.mode
        if mode == "drop":
            return [] if self.count % 2 == 0 else [Action(raw)]
        if mode == "delay":
            return [Action(raw, delay=2 * self.guard + 0.5)]
        if mode == "duplicate":
            return [Action(raw), Action(raw)]
        if mode == "reorder":
            if self.held is None:
                self.held = raw
                return []
            first, self.held = self.held, None
            return [Action(raw), Action(first)]
        if mode == "truncate":
            return [Action(raw[: self.rng.randint(1, max(1, len(raw) - 1))])]
        if mode == "garble":
            data = bytearray(raw)
            for _ in range(max(1, len(data) // 50)):
                data[self.rng.randrange(len(data))] = self.rng.randrange(256)
            return [Action(bytes(data))]
        if mode == "malformed":
            bad = MALFORMED_SIP[self.count % len(MALFORMED_SIP)]
            return [Action(bad), Action(MALFORMED_MSRP, to_msrp=True), Action(raw)]
        if mode == "reset":
            if self.transport == "udp":
                return [Action(raw)]
            return [Action(raw), Action(reset=True)]
        if mode == "flood":
            return [Action(raw)] + [Action(unsolicited(self.rng, i)) for i in range(FLOOD)]
        if mode == "huge":
            return [Action(enormous(raw, UDP_PAD if self.transport == "udp" else TCP_PAD))]
        raise AssertionError(mode)

    def release(self) -> list[Action]:
        """A message held back (reorder) and still alone after the hold time."""
        held, self.held = self.held, None
        return [Action(held)] if held is not None else []


def unsolicited(rng: random.Random, i: int) -> bytes:
    """A well-formed out-of-dialog request nobody asked for."""
    method = "OPTIONS" if i % 2 else "MESSAGE"
    tag = rng.getrandbits(32)
    body = b"flood" if method == "MESSAGE" else b""
    head = (
        f"{method} sip:nobody@example.invalid SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK-flood-{tag:08x}-{i}\r\n"
        f"Max-Forwards: 70\r\n"
        f"From: <sip:flood@example.invalid>;tag=f{tag:08x}\r\n"
        f"To: <sip:nobody@example.invalid>\r\n"
        f"Call-ID: flood-{uuid.UUID(int=rng.getrandbits(128))}\r\n"
        f"CSeq: 1 {method}\r\n"
        + ("Content-Type: text/plain\r\n" if body else "")
        + f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def enormous(raw: bytes, size: int) -> bytes:
    """A response grown by `size` bytes: a header over UDP, a body when it had none over TCP."""
    if not raw.startswith(b"SIP/2.0 "):
        return raw
    head, sep, body = raw.partition(b"\r\n\r\n")
    if not sep:
        return raw
    if size <= UDP_PAD or body:
        return head + b"\r\nX-Chaos-Padding: " + b"a" * size + b"\r\n\r\n" + body
    lines = [
        ln
        for ln in head.split(b"\r\n")
        if not ln.lower().startswith((b"content-length:", b"content-type:", b"l:", b"c:"))
    ]
    lines += [b"Content-Type: application/octet-stream", b"Content-Length: %d" % size]
    return b"\r\n".join(lines) + b"\r\n\r\n" + b"\0" * size
