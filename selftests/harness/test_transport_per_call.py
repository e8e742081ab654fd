"""The SIP transport of a request is an argument of the call that renders and sends it
(cpmconf.roles.network, cpmconf.procedures.scene), never state left on the core: a request
rendered and sent over TCP names TCP in its Via and crosses TCP, the ACK of its non-2xx
final too, and the next call that names no transport goes over the profile's (UDP) again.
The SUT is a second endpoint on loopback.
"""

from __future__ import annotations

import asyncio

from cpmconf.catalogue import REPO_ROOT
from cpmconf.codec.sip import SipMessage
from cpmconf.roles.network import Core, Journal
from cpmconf.roles.profile import Address, load_profile
from cpmconf.roles.stimulus import Templates
from cpmconf.transport import SipEndpoint

PROFILE = load_profile(REPO_ROOT / "fixtures" / "profiles" / "embedded.toml")


def final(req: SipMessage, status: int, reason: str) -> bytes:
    lines = [f"SIP/2.0 {status} {reason}"]
    for name in ("Via", "From", "Call-ID", "CSeq"):
        lines += [f"{name}: {v}" for v in req.header_values(name)]
    lines.append(f"To: {req.header('To')};tag=sut1")
    return ("\r\n".join([*lines, "Content-Length: 0"]) + "\r\n\r\n").encode()


def test_transport_is_per_call_and_leaves_nothing_behind():
    assert PROFILE.pf.transport == "udp"  # the default this test departs from

    async def scenario():
        core = Core(PROFILE, Templates(), await SipEndpoint("127.0.0.1", 0).start(), Journal())
        sut = await SipEndpoint("127.0.0.1", 0).start()
        to = Address(*sut.address)
        try:
            assert not hasattr(core, "transport_override")
            # An in-dialog INVITE-like request: the in_dialog template names its Via transport.
            dummy = SipMessage.parse(
                (
                    f"INVITE sip:bob@{to.host}:{to.port} SIP/2.0\r\n"
                    f"Via: SIP/2.0/TCP {core.host}:{core.port};branch=z9hG4bKx\r\n"
                    f"From: <sip:alice@{core.host}>;tag=a1\r\nTo: <sip:bob@{to.host}>\r\n"
                    "Call-ID: tpc\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"
                ).encode()
            )
            answer = SipMessage.parse(final(dummy, 200, "OK"))
            for transport, via in (("tcp", "TCP"), (None, "UDP")):
                stim = core.in_dialog(dummy, answer, "INVITE", 2, transport=transport)
                assert stim.message.top_via.transport.upper() == via
                run = asyncio.ensure_future(core.transact(stim, to, transport=transport))
                got = await sut.receive(lambda i: i.message is not None, 2.0)
                assert got.transport == via.lower()
                await sut.send(final(got.message, 486, "Busy Here"), got.remote, got.transport)
                assert (await run).final.status == 486
                ack = await sut.receive(lambda i: i.message is not None, 2.0)
                assert ack.message.method == "ACK" and ack.transport == via.lower()
            assert core.base_context()["transport"] == "UDP"
        finally:
            await sut.close()
            await core.endpoint.close()

    asyncio.run(asyncio.wait_for(scenario(), 15.0))
