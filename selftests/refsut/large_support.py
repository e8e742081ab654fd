"""Test support for large message mode: an MSRP peer, SDP and in-dialog builders, and the
usual exchanges (the refsut client sending, the refsut PF relaying) played step by step.

Everything is plain codec + transport; every wait is bounded.
"""

from __future__ import annotations

import asyncio
import copy
import secrets
from collections.abc import Callable
from typing import Any

from cpmconf.codec.headers import encode_icsi
from cpmconf.codec.msrp import MsrpMessage, MsrpUri, Reassembler, build_response, chunk
from cpmconf.codec.sdp import MediaDescription, SessionDescription, build_sdp
from cpmconf.codec.sip import SipMessage, build_message
from cpmconf.transport import MSRP, Inbound, SipEndpoint
from refsut.app import RefSut
from refsut.config import parse_config

from .support import ALICE, BOB, WAIT, Core, config_dict, http, stop_stack

ICSI_LARGE = "urn:urn-7:3gpp-service.ims.icsi.oma.cpm.largemsg"
LARGE_AC = f'*;+g.3gpp.icsi-ref="{encode_icsi(ICSI_LARGE)}"'


class MsrpPeer:
    """A test-side MSRP endpoint (it listens, and connects when it sends first)."""

    def __init__(self) -> None:
        self.ep = SipEndpoint(protocol=MSRP)

    async def start(self) -> MsrpPeer:
        await self.ep.start()
        return self

    async def close(self) -> None:
        await self.ep.close()

    def uri(self, session: str = "peer0001") -> MsrpUri:
        return MsrpUri.build("127.0.0.1", self.ep.address[1], session)

    async def request(self, timeout: float = WAIT) -> Inbound:
        def match(item: Inbound) -> bool:
            return item.message is not None and item.message.is_request

        return await self.ep.receive(match, timeout, what="MSRP request")

    async def response(self, tid: str, timeout: float = WAIT) -> MsrpMessage:
        def match(item: Inbound) -> bool:
            m = item.message
            return m is not None and m.is_response and m.transaction_id == tid

        item = await self.ep.receive(match, timeout, what=f"MSRP response {tid}")
        return item.message

    async def answer(self, item: Inbound, code: int = 200) -> None:
        await self.ep.send(bytes(build_response(item.message, code)), item.remote, "tcp")

    async def transact(self, msg: MsrpMessage, to: tuple[str, int]) -> MsrpMessage:
        await self.ep.send(bytes(msg), to, "tcp")
        return await self.response(msg.transaction_id)


def offer_sdp(path, *, setup="active", direction="sendonly", types="message/cpim", **kw) -> bytes:
    return bytes(
        build_sdp(
            host="127.0.0.1",
            path=path,
            accept_types=types,
            accept_wrapped_types="*",
            setup=setup,
            direction=direction,
            **kw,
        )
    )


def media_of(msg: SipMessage) -> MediaDescription:
    return SessionDescription.parse(msg.body).msrp_media()[0]


def address_of(uri: MsrpUri) -> tuple[str, int]:
    return (uri.host, uri.port)


def in_dialog(
    core: Core, method: str, invite: SipMessage, resp: SipMessage, cseq: int, headers=()
) -> bytes:
    """ACK or BYE from the test side (the INVITE's sender) in the dialog ``resp`` made."""
    lines = [
        (
            "Via",
            f"SIP/2.0/{core.transport.upper()} {core.via_host};branch=z9hG4bK"
            + secrets.token_hex(8),
        ),
        ("Max-Forwards", "70"),
        ("From", invite.header("From")),
        ("To", resp.header("To")),
        ("Call-ID", invite.call_id),
        ("CSeq", f"{cseq} {method}"),
        *headers,
    ]
    return build_message(f"{method} {invite.request_uri} SIP/2.0", lines)


def cancel_of(invite_raw: bytes) -> bytes:
    invite = SipMessage.parse(invite_raw)
    lines = [
        ("Via", invite.header("Via")),
        ("Max-Forwards", "70"),
        ("From", invite.header("From")),
        ("To", invite.header("To")),
        ("Call-ID", invite.call_id),
        ("CSeq", f"{invite.cseq[0]} CANCEL"),
    ]
    return build_message(f"CANCEL {invite.request_uri} SIP/2.0", lines)


async def final(core: Core, call_id: str, method: str = "INVITE", timeout=WAIT) -> SipMessage:
    """The next final response for ``call_id`` and ``method`` (provisionals skipped)."""

    def match(item: Inbound) -> bool:
        m = item.message
        return (
            m is not None
            and not m.is_request
            and m.call_id == call_id
            and m.cseq[1] == method
            and m.status >= 200
        )

    item = await core.ep.receive(match, timeout, what=f"final response to {method}")
    return item.message


async def provisional(core: Core, call_id: str, status: int) -> SipMessage:
    def match(item: Inbound) -> bool:
        m = item.message
        return m is not None and not m.is_request and m.call_id == call_id and m.status == status

    return (await core.ep.receive(match, WAIT, what=f"{status} for {call_id}")).message


async def answer_with_body(
    core: Core, item: Inbound, status: int, headers=(), body: bytes = b"", tag: str | None = None
) -> SipMessage:
    """Answer a request the refsut sent (via the core); returns the response as sent."""
    req = item.message
    lines = [(n, v) for n, v in req.headers if n.lower() in ("via", "v")]
    lines += [
        ("From", req.header("From")),
        ("To", req.header("To") + f";tag={tag or secrets.token_hex(4)}"),
        ("Call-ID", req.call_id),
        ("CSeq", req.header("CSeq")),
        *headers,
    ]
    raw = build_message(f"SIP/2.0 {status} {'OK' if status == 200 else 'X'}", lines, body)
    await core.ep.send(raw, item.remote, item.transport)
    return SipMessage.parse(raw)


# --------------------------------------------------------------------------- stacks


def run_large(
    scenario: Callable[..., Any],
    *,
    faults=(),
    client: dict | None = None,
    pf: dict | None = None,
    transport: str = "udp",
    bound: float = 15.0,
    **timeouts,
) -> None:
    """Like support.run, with config overrides and MSRP peers: scenario(core, sut, peers)."""

    async def main() -> None:
        ep = await SipEndpoint().start()
        peers = [await MsrpPeer().start() for _ in range(3)]
        try:
            cfg = config_dict(ep.address, transport=transport, faults=faults)
            cfg = copy.deepcopy(cfg)
            cfg["client"].update(client or {})
            cfg["pf"].update(pf or {})
            sut = await RefSut(parse_config(cfg), **timeouts).start()
        except BaseException:
            await ep.close()
            for p in peers:
                await p.close()
            raise
        core = Core(ep, transport)
        try:
            await asyncio.wait_for(scenario(core, sut, peers), bound)
        finally:
            await stop_stack(core, sut)
            for p in peers:
                await p.close()

    asyncio.run(main())


# --------------------------------------------------------------------------- client sending


async def start_large_send(core: Core, sut, args: dict) -> tuple[asyncio.Task, Inbound]:
    """POST /send and take the INVITE it produces at the core."""
    call = asyncio.create_task(http(sut, "POST", "/send", args))
    item = await core.request(lambda m: m.method == "INVITE")
    return call, item


async def accept_large_send(
    core: Core,
    peer: MsrpPeer,
    invite: Inbound,
    *,
    uid: str | None = "77",
    answer_chunks: bool = True,
) -> tuple[bytes, list[MsrpMessage]]:
    """Play the far end of a large send: 200 with an SDP answer, then take the bind and the
    chunks (answering each), then the BYE. Returns (the rebuilt body, the SENDs seen)."""
    answer = offer_sdp(peer.uri("far00001"), setup="passive", direction="recvonly")
    ok = await answer_with_body(
        core,
        invite,
        200,
        [("Contact", "<sip:far@127.0.0.1>"), ("Content-Type", "application/sdp")],
        answer,
    )
    ack = await core.request(lambda m: m.method == "ACK")
    assert ack.message.call_id == ok.call_id and ack.message.header("To") == ok.header("To")
    sends: list[MsrpMessage] = []
    parts = Reassembler()
    while not parts.complete:
        item = await peer.request()
        sends.append(item.message)
        if not answer_chunks and item.message.body:
            break
        await peer.answer(item)
        if item.message.body:
            parts.feed(item.message)
    bye = await core.request(lambda m: m.method == "BYE")
    headers = [("Message-UID", uid)] if uid else []
    await core.answer(bye, headers=headers)
    return (parts.message() if parts.complete else b""), sends


def wrapper_overhead(to: str = BOB) -> int:
    """Bytes the refsut's CPIM wrapper adds to a text/plain body of 1000 to 9999 bytes."""
    from refsut.bodies import cpim_wrapper

    body = b"x" * 1000
    w = cpim_wrapper(
        from_uri="sip:carol@example.net",
        to_uri=to,
        content_type="text/plain",
        content=body,
        message_id="00000000-0000-4000-8000-000000000000",
    )
    return len(bytes(w)) - len(body)


# --------------------------------------------------------------------------- PF


def large_invite(core: Core, offer: bytes, *, from_uri: str = ALICE, headers=()) -> bytes:
    hdrs = [
        ("Accept-Contact", LARGE_AC),
        ("Contact", f"<sip:alice@{core.via_host}>"),
        ("User-Agent", "CPM-client/OMA2.0"),
        ("Supported", "timer"),
        ("Session-Expires", "1800;refresher=uac"),
        ("Conversation-ID", "conv-L"),
        ("Contribution-ID", "contrib-L"),
        *headers,
        ("Content-Type", "application/sdp"),
    ]
    return core.build("INVITE", BOB, from_uri=from_uri, headers=hdrs, body=offer)


def with_peers(scenario: Callable[..., Any]) -> Callable[..., Any]:
    """Turn ``scenario(core, sut, orig, dev)`` into ``scenario(core, sut)`` (support.run)."""

    async def wrapped(core: Core, sut) -> None:
        orig, dev = await MsrpPeer().start(), await MsrpPeer().start()
        try:
            await scenario(core, sut, orig, dev)
        finally:
            await orig.close()
            await dev.close()

    return wrapped


async def large_invite_refused(core: Core, sut, args: dict | None = None) -> SipMessage:
    """POST /send of a large message; the INVITE is turned down with 486 and returned."""
    args = args or {"to": BOB, "text": "L" * 2000}
    call, item = await start_large_send(core, sut, args)
    await core.answer(item, 486, reason="Busy Here")
    await core.request(lambda m: m.method == "ACK")
    assert (await call)[1]["status"] == 486
    return item.message


async def invite_the_client(core: Core, sut, offer: bytes) -> tuple[SipMessage, SipMessage]:
    """A large-mode INVITE to the refsut client; returns (INVITE, its final response)."""
    from .support import CAROL

    hdrs = [
        ("Accept-Contact", LARGE_AC),
        ("Contact", f"<sip:pf@{core.via_host}>"),
        ("Conversation-ID", "conv-R"),
        ("Contribution-ID", "contrib-R"),
        ("Content-Type", "application/sdp"),
    ]
    raw = core.build("INVITE", CAROL, from_uri=ALICE, headers=hdrs, body=offer)
    await core.send(raw, sut.client.address)
    inv = SipMessage.parse(raw)
    return inv, await final(core, inv.call_id)


async def pf_until_answer(core: Core, sut, orig: MsrpPeer, dev: MsrpPeer) -> dict:
    """One registered device, a large INVITE to the PF, the device accepts (active): up to
    the PF's 200 to the sender. Returns what the later steps need."""
    from .support import PHONE

    assert (await core.transact(core.register(BOB, PHONE), sut.pf.address)).status == 200
    o_uri = orig.uri("orig0009")
    raw = large_invite(core, offer_sdp(o_uri))
    inv = SipMessage.parse(raw)
    await core.send(raw, sut.pf.address)
    leg = await core.request(lambda m: m.method == "INVITE")
    (pf_dev_uri,) = media_of(leg.message).path_uris()
    d_uri = dev.uri("dev00009")
    await answer_with_body(
        core,
        leg,
        200,
        [("Contact", f"<sip:bob@{core.via_host}>"), ("Content-Type", "application/sdp")],
        offer_sdp(d_uri, direction="recvonly"),
    )
    ok = await final(core, inv.call_id)
    assert ok.status == 200
    return {"inv": inv, "ok": ok, "leg": leg, "pf_dev": pf_dev_uri, "o": o_uri, "d": d_uri}


async def pf_through_bye(core: Core, sut, orig: MsrpPeer, dev: MsrpPeer) -> tuple:
    """The whole PF exchange; returns (200 to the sender's BYE, the device's BYE)."""
    s = await pf_until_answer(core, sut, orig, dev)
    inv, ok = s["inv"], s["ok"]
    await core.send(in_dialog(core, "ACK", inv, ok, 1), sut.pf.address)
    await core.request(lambda m: m.method == "ACK")
    bind = next(chunk(b"", 1, to_path=s["pf_dev"], from_path=s["d"], message_id="bindD009"))
    assert (await dev.transact(bind, address_of(s["pf_dev"]))).status == 200
    pf_orig = media_of(ok).path_uris()[0]
    to_path = [pf_orig, s["d"]]
    body = b"From: <sip:alice@example.net>\r\n\r\nContent-Type: text/plain\r\n\r\n" + b"b" * 3000
    for send in chunk(body, 2000, to_path=to_path, from_path=s["o"], message_id="msgO0009"):
        await orig.ep.send(bytes(send), address_of(pf_orig), "tcp")
        await dev.answer(await dev.request())
        assert (await orig.response(send.transaction_id)).status == 200
    await core.send(in_dialog(core, "BYE", inv, ok, 2), sut.pf.address)
    bye_ok = await final(core, inv.call_id, "BYE")
    d_bye = await core.request(lambda m: m.method == "BYE")
    await core.answer(d_bye)
    return bye_ok, d_bye.message
