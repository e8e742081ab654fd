"""Shared helpers for the capture self-tests: hand-written SIP text and capture gating."""

from __future__ import annotations

import asyncio
import socket
import threading
import time

import pytest

from cpmconf.capture import capture_available
from selftests.codec.hypothesis_profiles import load as load_hypothesis_profile

load_hypothesis_profile()  # before the test modules build their settings

BOUND = 10.0  # upper bound for any single test coroutine

CAPTURE_OK, CAPTURE_WHY = capture_available("lo")
needs_capture = pytest.mark.skipif(not CAPTURE_OK, reason=f"raw capture unavailable: {CAPTURE_WHY}")


def sip_message(n: int, body: bytes = b"hello", compact: bool = False) -> bytes:
    """A pager-mode MESSAGE written out by hand, with a correct Content-Length."""
    length = "l" if compact else "Content-Length"
    head = (
        "MESSAGE sip:bob@example.net SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-cap{n}\r\n"
        "Max-Forwards: 70\r\n"
        f"From: <sip:alice@example.net>;tag=t{n}\r\n"
        "To: <sip:bob@example.net>\r\n"
        f"Call-ID: cap{n}@127.0.0.1\r\n"
        f"CSeq: {n} MESSAGE\r\n"
        "Content-Type: text/plain\r\n"
        f"{length}: {len(body)}\r\n"
        "\r\n"
    )
    return head.encode() + body


def sip_ok(n: int) -> bytes:
    return (
        "SIP/2.0 200 OK\r\n"
        f"Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-cap{n}\r\n"
        f"From: <sip:alice@example.net>;tag=t{n}\r\n"
        f"To: <sip:bob@example.net>;tag=r{n}\r\n"
        f"Call-ID: cap{n}@127.0.0.1\r\n"
        f"CSeq: {n} MESSAGE\r\n"
        "Content-Length: 0\r\n"
        "\r\n"
    ).encode()


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, BOUND))


def udp_socket(family: int = socket.AF_INET, host: str = "127.0.0.1") -> socket.socket:
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    s.bind((host, 0))
    return s


def wait_for_frames(source, predicate, timeout: float = 5.0) -> bool:
    """Block until `predicate(frames)` holds for the source's frames, woken by the source."""
    changed = threading.Event()
    unsubscribe = source.subscribe(changed.set)
    deadline = time.monotonic() + timeout
    try:
        while True:
            changed.clear()
            if predicate(source.packets_since(0)):
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not changed.wait(remaining):
                return predicate(source.packets_since(0))
    finally:
        unsubscribe()
