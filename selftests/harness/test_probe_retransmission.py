"""A request the test system sends with `retransmit` (the robustness liveness probe) is sent
again over UDP, unchanged, at Timer E (RFC 3261 17.1.2.2) until a response comes: a SUT whose
parser lost or joined one datagram answers the next one and is not taken for a silent SUT.
Without it (every other transaction) one datagram is all. The SUT here is an endpoint that
ignores the first copy of each request and answers the second with 200."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from cpmconf.catalogue import REPO_ROOT
from cpmconf.codec.sip import SipMessage
from cpmconf.roles.errors import NoAnswer, UnparseableAnswer
from cpmconf.roles.network import Core, Journal
from cpmconf.roles.profile import Address, load_profile
from cpmconf.roles.stimulus import Templates
from cpmconf.transport import SipEndpoint

PROFILE = load_profile(REPO_ROOT / "fixtures" / "profiles" / "embedded.toml")
PROFILE = dataclasses.replace(PROFILE, guard=2.0)


def ok(req: SipMessage) -> bytes:
    lines = ["SIP/2.0 200 OK"]
    for name in ("Via", "From", "To", "Call-ID", "CSeq"):
        lines += [f"{name}: {v}" for v in req.header_values(name)]
    return ("\r\n".join([*lines, "Content-Length: 0"]) + "\r\n\r\n").encode()


async def deaf_once() -> tuple[SipEndpoint, asyncio.Task, list]:
    sut = await SipEndpoint("127.0.0.1", 0).start()
    seen: list[str] = []

    async def serve() -> None:
        while True:
            item = await sut.receive(lambda i: i.message is not None, 3600)
            seen.append(item.message.call_id)
            if seen.count(item.message.call_id) == 2:
                await sut.send(ok(item.message), item.remote)

    return sut, asyncio.ensure_future(serve()), seen


@pytest.mark.parametrize("retransmit", [True, False], ids=["retransmit", "once"])
def test_the_probe_is_retransmitted_until_answered(retransmit):
    async def scenario():
        core = Core(PROFILE, Templates(), await SipEndpoint("127.0.0.1", 0).start(), Journal())
        sut, task, seen = await deaf_once()
        to = Address(*sut.address)
        probe = core.render("robustness/probe.sip.j2", target=f"sip:{to.host}:{to.port}")
        try:
            if retransmit:
                ex = await core.transact(probe, to, retransmit=True)
                assert ex.final.status == 200
                assert seen == [probe.message.call_id] * 2
            else:
                with pytest.raises(NoAnswer):
                    await core.transact(probe, to)
                assert seen == [probe.message.call_id]
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await sut.close()
            await core.endpoint.close()

    asyncio.run(asyncio.wait_for(scenario(), 10.0))


def test_a_retransmitted_probe_answered_only_with_garbage_says_so():
    async def scenario():
        core = Core(PROFILE, Templates(), await SipEndpoint("127.0.0.1", 0).start(), Journal())
        sut = await SipEndpoint("127.0.0.1", 0).start()

        async def garble() -> None:
            while True:
                item = await sut.receive(None, 3600)
                await sut.send(b"SIP/2.0 2OO garbage\r\n\r\n", item.remote)

        task = asyncio.ensure_future(garble())
        to = Address(*sut.address)
        probe = core.render("robustness/probe.sip.j2", target=f"sip:{to.host}:{to.port}")
        try:
            with pytest.raises(UnparseableAnswer, match="unparseable message"):
                await core.transact(probe, to, retransmit=True)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await sut.close()
            await core.endpoint.close()

    asyncio.run(asyncio.wait_for(scenario(), 10.0))
