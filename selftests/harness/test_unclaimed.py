"""The core answers everything it receives (cpmconf.roles.network): what no case took is
answered between cases, when the per-test reset drains the inbox. A request to a provisioned
user gets 480, to anyone else 404, inside a dialog (or a CANCEL) 481; never a 200, never
silence, and an ACK nothing. A retransmission of a request a case already answered gets the
case's answer again, not a different one, and a request a case took is left to that case.
The SUT here is a second endpoint on loopback sending requests to the core by hand.
"""

from __future__ import annotations

import asyncio

from cpmconf.catalogue import REPO_ROOT
from cpmconf.codec.sip import SipMessage
from cpmconf.roles.network import Core, Journal
from cpmconf.roles.profile import load_profile
from cpmconf.roles.stimulus import Templates
from cpmconf.transport import SipEndpoint

BOUND = 10.0
PROFILE = load_profile(REPO_ROOT / "fixtures" / "profiles" / "embedded.toml")
USER = PROFILE.users[0].uri
DEVICE = PROFILE.users[0].devices[0].name


def request(method: str, uri: str, sut: SipEndpoint, branch: str, to_tag: str = "") -> bytes:
    host, port = sut.address
    lines = [
        f"{method} {uri} SIP/2.0",
        f"Via: SIP/2.0/UDP {host}:{port};branch=z9hG4bK{branch}",
        "Max-Forwards: 70",
        f"From: <sip:sut@{host}>;tag=s1",
        f"To: <{uri}>" + (f";tag={to_tag}" if to_tag else ""),
        f"Call-ID: {branch}@{host}",
        f"CSeq: 1 {method}",
        "Content-Length: 0",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def answers(sut: SipEndpoint, count: int) -> dict[str, list[int]]:
    """The responses the SUT got, by Call-ID, collected until `count` came or 1 s of quiet."""
    out: dict[str, list[int]] = {}
    for _ in range(count):
        item = await sut.receive(lambda i: i.message is not None, 1.0)
        out.setdefault(item.message.call_id.split("@")[0], []).append(item.message.status)
    return out


def test_unclaimed_requests_get_a_final_error_between_cases():
    async def scenario():
        core = Core(PROFILE, Templates(), await SipEndpoint("127.0.0.1", 0).start(), Journal())
        sut = await SipEndpoint("127.0.0.1", 0).start()
        try:
            to = core.address
            sends = [
                request("MESSAGE", USER, sut, "aor"),  # msilo's re-send to an address of record
                request("MESSAGE", "sip:nobody@elsewhere.invalid", sut, "stranger"),
                request("BYE", USER, sut, "dialog", to_tag="gone"),
                request("ACK", USER, sut, "ack", to_tag="t"),
                request("MESSAGE", USER, sut, "taken"),
                request("MESSAGE", f"sip:{DEVICE}@{core.host}:{core.port}", sut, "contact"),
            ]
            for raw in sends:
                await sut.send(raw, to)
            # The case takes and answers one, and its retransmission comes after.
            taken = await core.wait(lambda m: m.call_id.startswith("taken@"), "taken", 2.0)
            await core.respond(taken, 202, "Accepted")
            await sut.send(sends[-2], to)
            # A marker the case takes: loopback keeps one socket's datagrams in order, so
            # everything before it is in the inbox.
            await sut.send(request("OPTIONS", USER, sut, "marker"), to)
            await core.wait(lambda m: m.call_id.startswith("marker@"), "marker", 2.0)
            assert (await answers(sut, 1)) == {"taken": [202]}
            core.reset()
            sent = await core.answer_unclaimed()
            got = await answers(sut, 5)
            assert got == {
                "aor": [480],
                "stranger": [404],
                "dialog": [481],
                "contact": [480],
                "taken": [202],
            }
            assert len(sent) == 4  # the retransmission's answer is the case's, sent again
            assert core.unclaimed == []
        finally:
            await sut.close()
            await core.endpoint.close()

    asyncio.run(asyncio.wait_for(scenario(), BOUND))


def test_a_request_a_case_took_is_never_answered_by_the_core():
    async def scenario():
        core = Core(PROFILE, Templates(), await SipEndpoint("127.0.0.1", 0).start(), Journal())
        sut = await SipEndpoint("127.0.0.1", 0).start()
        try:
            await sut.send(request("MESSAGE", USER, sut, "mine"), core.address)
            got = await core.wait(lambda m: m.method == "MESSAGE", "MESSAGE", 2.0)
            assert isinstance(got, SipMessage)
            core.reset()
            assert await core.answer_unclaimed() == []
            assert sut.drain() == []
        finally:
            await sut.close()
            await core.endpoint.close()

    asyncio.run(asyncio.wait_for(scenario(), BOUND))
