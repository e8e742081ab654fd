"""The core's INVITE client transaction (RFC 3261 17.1.1): over UDP the INVITE is sent again
at Timer A until a response comes; a non-2xx final gets an ACK at once, on the INVITE's branch
with the final's To tag (17.1.1.3); a retransmission of that final, drained between cases,
gets the same ACK again. The SUT here is an endpoint that ignores the first INVITE copy and
answers the second 486, and repeats the 486 once."""

from __future__ import annotations

import asyncio
import dataclasses

from cpmconf.catalogue import REPO_ROOT
from cpmconf.codec.sip import SipMessage
from cpmconf.roles.network import Core, Journal
from cpmconf.roles.profile import Address, load_profile
from cpmconf.roles.stimulus import Stimulus, Templates
from cpmconf.transport import SipEndpoint

PROFILE = load_profile(REPO_ROOT / "fixtures" / "profiles" / "embedded.toml")
PROFILE = dataclasses.replace(PROFILE, guard=3.0)


def busy(req: SipMessage) -> bytes:
    lines = ["SIP/2.0 486 Busy Here"]
    for name in ("Via", "From", "Call-ID", "CSeq"):
        lines += [f"{name}: {v}" for v in req.header_values(name)]
    lines.append(f"To: {req.header('To')};tag=sut1")
    return ("\r\n".join([*lines, "Content-Length: 0"]) + "\r\n\r\n").encode()


def invite(core: Core, to: Address) -> Stimulus:
    raw = (
        f"INVITE sip:bob@{to.host}:{to.port} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP {core.host}:{core.port};branch=z9hG4bKinv1;rport\r\n"
        "Max-Forwards: 70\r\n"
        f"From: <sip:alice@{core.host}>;tag=a1\r\nTo: <sip:bob@{to.host}>\r\n"
        "Call-ID: ict1\r\nCSeq: 7 INVITE\r\n"
        f"Contact: <sip:alice@{core.host}:{core.port}>\r\nContent-Length: 0\r\n\r\n"
    ).encode()
    return Stimulus("selftest/invite", (), raw, SipMessage.parse(raw))


class Finals:
    """A tap that counts the 486s the core received (the inbox holds each by the time a
    waiter resumes)."""

    def __init__(self) -> None:
        self.count = 0
        self.arrived = asyncio.Event()

    def on_sent(self, *args) -> None:
        pass

    def on_received(self, transport, local, remote, raw, now) -> None:
        if raw.startswith(b"SIP/2.0 486"):
            self.count += 1
            self.arrived.set()


def test_invite_is_retransmitted_and_its_failure_acked_again_on_each_copy():
    async def scenario():
        finals = Finals()
        endpoint = await SipEndpoint("127.0.0.1", 0, taps=[finals]).start()
        core = Core(PROFILE, Templates(), endpoint, Journal())
        sut = await SipEndpoint("127.0.0.1", 0).start()
        seen: list[SipMessage] = []
        to = Address(*sut.address)
        try:
            stim = invite(core, to)
            run = asyncio.ensure_future(core.transact(stim, to))
            first = await sut.receive(lambda i: i.message is not None, 2.0)
            seen.append(first.message)
            again = await sut.receive(lambda i: i.message is not None, 2.0)  # Timer A
            assert again.message.raw == first.message.raw
            await sut.send(busy(again.message), again.remote)
            ex = await run
            assert ex.final.status == 486
            ack = (await sut.receive(lambda i: i.message is not None, 2.0)).message
            assert ack.method == "ACK" and ack.cseq == (7, "ACK")
            assert ack.branch == first.message.branch
            assert ack.header("To").endswith(";tag=sut1")
            assert ack.request_uri == first.message.request_uri
            # the final again (the SUT's Timer G): drained between cases, ACKed again
            finals.arrived.clear()
            await sut.send(busy(again.message), again.remote)
            await asyncio.wait_for(finals.arrived.wait(), 2.0)
            assert finals.count == 2
            core.reset()
            assert [m.status for m in core.reacked] == [486]
            await core.answer_unclaimed()
            second = (await sut.receive(lambda i: i.message is not None, 2.0)).message
            assert second.raw == ack.raw
        finally:
            await sut.close()
            await core.endpoint.close()

    asyncio.run(asyncio.wait_for(scenario(), 15.0))
