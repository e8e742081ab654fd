"""What the SUT sent that no one expected is listed in the evidence of the case it came in.

A chatty fake PF on loopback (the refusing PF of test_refusing_sut, which registers devices
and answers everything else 405) also sends the core an unsolicited MESSAGE, from a socket of
its own, each time a device registers (before its 200): `reg-N` while a case registers its
devices, `dereg-N` while a case's teardown deregisters them. Every case that registered
devices lists its own `reg-N` messages in `evidence.unexpected`, with the core's answer (404:
nobody the profile provisions), under its own test id; no case lists a `dereg-N` (it came
after the case's window closed, and was answered before the next case), nor another case's.
"""

from __future__ import annotations

import itertools
import secrets
import socket
import threading

from cpmconf.codec.sip import SipMessage

from .support import run_cpmconf
from .test_refusing_sut import (
    FakeSip,
    RefusingUpperTester,
    answering_client,
    fake_profile,
    free_port,
    refusing_pf,
)

GUARD = 2.0
HARD_TIMEOUT = 180.0


class ChattyPf:
    """The refusing PF's answers, plus one unsolicited MESSAGE to the core per REGISTER."""

    def __init__(self, core_port: int) -> None:
        self.core_port = core_port
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.numbers = itertools.count()
        self.sent: list[str] = []
        self.lock = threading.Lock()

    def close(self) -> None:
        self.sock.close()

    def __call__(self, req: SipMessage) -> bytes | None:
        if req.method == "REGISTER":
            kind = "dereg" if (req.header("Expires") or "").strip() == "0" else "reg"
            self._unsolicited(f"{kind}-{next(self.numbers)}")
        return refusing_pf(req)

    def _unsolicited(self, user: str) -> None:
        port, call_id = self.sock.getsockname()[1], secrets.token_hex(8)
        raw = (
            f"MESSAGE sip:{user}@example.net SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK{call_id}\r\n"
            "Max-Forwards: 70\r\nFrom: <sip:pf@example.net>;tag=c1\r\n"
            f"To: <sip:{user}@example.net>\r\nCall-ID: {call_id}@127.0.0.1\r\n"
            "CSeq: 1 MESSAGE\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nhi"
        )
        with self.lock:
            self.sent.append(user)
        self.sock.sendto(raw.encode(), ("127.0.0.1", self.core_port))


def test_unsolicited_requests_are_listed_in_their_own_case(tmp_path):
    core = free_port()
    chatty = ChattyPf(core)
    try:
        with FakeSip(chatty) as pf, FakeSip(answering_client) as client:
            with RefusingUpperTester(core, "sip:carol@example.net") as ut:
                profile = fake_profile(tmp_path, "chatty-sut", pf.port, client.port, ut.port, core)
                run = run_cpmconf(
                    tmp_path / "report",
                    "--sut",
                    str(profile),
                    "--guard",
                    str(GUARD),
                    "--clause",
                    "TS-8.3.2.1-first2xx",
                    "--reports",
                    "json",
                    "-q",
                    timeout=HARD_TIMEOUT,
                )
    finally:
        chatty.close()
    assert not run.timed_out and run.doc is not None, run.describe()
    assert any(u.startswith("dereg-") for u in chatty.sent), chatty.sent
    listed: dict[str, str] = {}  # reg-N -> the case listing it
    for t in run.doc["tests"]:
        for u in t["evidence"].get("unexpected", []):
            assert u["window"] == t["id"], run.describe()
            user = u["message"].removeprefix("MESSAGE sip:").split("@")[0]
            assert not user.startswith("dereg-"), f"{t['id']} lists {u}"
            assert user not in listed, f"{user} in {listed[user]} and {t['id']}"
            listed[user] = t["id"]
            assert u["answer"] == "404 Not Found", u
            assert u["transport"] == "udp" and u["remote"].startswith("127.0.0.1:"), u
        if t["evidence"].get("unexpected"):
            assert any("no one expected" in n for n in t["evidence"]["notes"]), t["evidence"]
    # Every case that registered devices lists what came while it did.
    registered = [
        t["id"]
        for t in run.doc["tests"]
        if any(
            m["summary"].startswith("REGISTER") and not m["from_sut"]
            for m in t["evidence"].get("messages", [])
        )
    ]
    assert registered, run.describe()
    assert set(registered) <= set(listed.values()), (registered, listed)
    # ...and every one the cases caused (the first, before any dereg-, is the preflight's).
    first_dereg = next(i for i, u in enumerate(chatty.sent) if u.startswith("dereg-"))
    caused = {u for u in chatty.sent[first_dereg:] if u.startswith("reg-")}
    assert caused and caused <= set(listed), (chatty.sent, listed)
