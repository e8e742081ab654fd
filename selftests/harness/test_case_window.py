"""A case's window (cpmconf.roles.network `Core.begin`/`end_case`, fixtures/per_test.py):
what the SUT sent that no one expected during a case is recorded, answered and listed in that
case's own evidence when the case ends (never judged), and so are the overlapping waits of
the case (a harness defect). What arrives after the case's window closed is answered at the
next reset and lands in no case's evidence. The SUT is a second endpoint on loopback; the
loop runs in a `LoopThread`, as in a run.
"""

from __future__ import annotations

import asyncio

import pytest
from fixtures.per_test import not_judged

from cpmconf.catalogue import REPO_ROOT
from cpmconf.roles.network import Core, Journal
from cpmconf.roles.profile import load_profile
from cpmconf.roles.runner import LoopThread
from cpmconf.roles.stimulus import Templates
from cpmconf.transport import SipEndpoint

BOUND = 10.0
PROFILE = load_profile(REPO_ROOT / "fixtures" / "profiles" / "embedded.toml")
USER = PROFILE.users[0].uri


def request(method: str, uri: str, at: tuple, call_id: str) -> bytes:
    host, port = at
    lines = [
        f"{method} {uri} SIP/2.0",
        f"Via: SIP/2.0/UDP {host}:{port};branch=z9hG4bK{call_id}",
        "Max-Forwards: 70",
        f"From: <sip:sut@{host}>;tag=s1",
        f"To: <{uri}>",
        f"Call-ID: {call_id}",
        f"CSeq: 1 {method}",
        "Content-Length: 0",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


class Arrivals:
    """A tap: signals when the core's socket has received `expect` more messages."""

    def __init__(self) -> None:
        self.count, self.target = 0, 0
        self.reached = asyncio.Event()

    def expect(self, more: int) -> None:
        self.target = self.count + more
        self.reached.clear()

    def on_sent(self, *args) -> None:
        pass

    def on_received(self, *args) -> None:
        self.count += 1
        if self.count >= self.target:
            self.reached.set()


@pytest.fixture
def loop():
    runner = LoopThread()
    yield runner
    runner.close()


def test_what_no_one_expected_is_in_the_case_evidence_and_late_arrivals_are_not(loop):
    arrivals = Arrivals()

    async def start():
        endpoint = await SipEndpoint("127.0.0.1", 0, taps=[arrivals]).start()
        return Core(PROFILE, Templates(), endpoint, Journal()), await SipEndpoint(
            "127.0.0.1", 0
        ).start()

    core, sut = loop.run(start(), BOUND)

    async def case_one():
        """Unsolicited requests, and two waits that overlap on one message."""
        arrivals.expect(2)
        await sut.send(request("MESSAGE", USER, sut.address, "unsolicited"), core.address)
        await sut.send(
            request("OPTIONS", "sip:x@elsewhere.invalid", sut.address, "o"), core.address
        )
        await asyncio.wait_for(arrivals.reached.wait(), 2.0)
        first = asyncio.ensure_future(core.wait(lambda m: m.method == "INFO", "first INFO", 2.0))
        second = asyncio.ensure_future(core.wait(lambda m: m.method == "INFO", "any INFO", 2.0))
        await asyncio.sleep(0)  # both registered, in this order
        await sut.send(request("INFO", USER, sut.address, "i1"), core.address)
        await sut.send(request("INFO", USER, sut.address, "i2"), core.address)
        assert ((await first).call_id, (await second).call_id) == ("i1", "i2")

    async def answers(n: int) -> dict[str, int]:
        got = {}
        for _ in range(n):
            m = (await sut.receive(lambda i: i.message is not None, 2.0)).message
            got[m.call_id] = m.status
        return got

    async def late():
        arrivals.expect(1)
        await sut.send(request("MESSAGE", USER, sut.address, "late"), core.address)
        await asyncio.wait_for(arrivals.reached.wait(), 2.0)

    async def between_cases():
        core.reset()
        await core.answer_unclaimed()

    try:
        core.begin("selftests::case_one")
        loop.run(case_one(), BOUND)
        evidence = {"notes": []}
        not_judged(evidence, loop, core, BOUND)
        # answered when the case's window closed, before its evidence was written
        assert loop.run(answers(2), BOUND) == {"unsolicited": 480, "o": 404}
        listed = {u["message"]: u for u in evidence["unexpected"]}
        assert set(listed) == {f"MESSAGE {USER}", "OPTIONS sip:x@elsewhere.invalid"}
        for u in listed.values():
            assert u["window"] == "selftests::case_one" and u["transport"] == "udp"
            assert u["remote"] == f"{sut.address[0]}:{sut.address[1]}" and u["time"] > 0
        assert listed[f"MESSAGE {USER}"]["answer"] == "480 Temporarily Unavailable"
        assert listed["OPTIONS sip:x@elsewhere.invalid"]["answer"] == "404 Not Found"
        (overlap,) = evidence["overlaps"]
        assert (overlap["taken_by"], overlap["also"]) == ("first INFO", ["any INFO"])
        assert any("2 message(s) no one expected" in n for n in evidence["notes"])
        assert any("matched two waits" in n for n in evidence["notes"])

        # After the window closed (a deregistration's aftermath, say): no case's evidence.
        loop.run(late(), BOUND)
        loop.run(between_cases(), BOUND)
        core.begin("selftests::case_two")
        assert loop.run(answers(1), BOUND) == {"late": 480}
        evidence = {"notes": []}
        not_judged(evidence, loop, core, BOUND)
        assert evidence == {"notes": [], "unexpected": [], "overlaps": []}
        (record,) = [u for u in core.unexpected if u.message == f"MESSAGE {USER}"][1:]
        assert record.window == "after selftests::case_one"
    finally:
        loop.run(sut.close(), BOUND)
        loop.run(core.endpoint.close(), BOUND)


def test_a_retransmission_after_the_window_closed_gets_the_case_answer_again(loop):
    """Closing the case's window early does not forget the answers the case gave: a late
    retransmission is answered as the case answered it, until the case after next begins."""

    async def start():
        return Core(
            PROFILE, Templates(), await SipEndpoint("127.0.0.1", 0).start(), Journal()
        ), await SipEndpoint("127.0.0.1", 0).start()

    core, sut = loop.run(start(), BOUND)
    raw = request("MESSAGE", USER, sut.address, "taken")

    async def case():
        await sut.send(raw, core.address)
        m = await core.wait(lambda m: m.method == "MESSAGE", "the MESSAGE", 2.0)
        await core.respond(m, 202, "Accepted")
        assert (await sut.receive(lambda i: i.message is not None, 2.0)).message.status == 202

    async def again_at_next_reset() -> int:
        await sut.send(raw, core.address)
        # a marker the core waits for: everything before it on this socket has arrived
        await sut.send(request("OPTIONS", USER, sut.address, "marker"), core.address)
        await core.wait(lambda m: m.call_id == "marker", "marker", 2.0)
        core.reset()
        await core.answer_unclaimed()
        return (await sut.receive(lambda i: i.message is not None, 2.0)).message.status

    try:
        core.begin("selftests::answers")
        loop.run(case(), BOUND)
        loop.run(core.end_case(), BOUND)
        assert loop.run(again_at_next_reset(), BOUND) == 202
        core.begin("selftests::next")
        assert loop.run(again_at_next_reset(), BOUND) == 202  # the last case's, still
    finally:
        loop.run(sut.close(), BOUND)
        loop.run(core.endpoint.close(), BOUND)
