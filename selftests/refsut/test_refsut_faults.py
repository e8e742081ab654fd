"""Each fault switch breaks its one behaviour (the other tests show the unbroken one)."""

from __future__ import annotations

import asyncio
import email.utils
import time

import pytest

from cpmconf.codec.cpim import CpimMessage
from cpmconf.codec.headers import AcceptContact
from cpmconf.codec.msrp import chunk
from cpmconf.codec.sip import SipMessage
from cpmconf.transport import TransportTimeout
from refsut.faults import REGISTRY

from .large_support import (
    ICSI_LARGE,
    accept_large_send,
    in_dialog,
    invite_the_client,
    large_invite_refused,
    media_of,
    offer_sdp,
    pf_through_bye,
    pf_until_answer,
    start_large_send,
    with_peers,
)
from .support import (
    ALICE,
    BOB,
    CAROL,
    LAPTOP,
    MALLORY,
    PHONE,
    TABLET,
    Core,
    cpim_body,
    http,
    message_headers,
    options_barrier,
    run,
)

MSG_ICSI = "urn:urn-7:3gpp-service.ims.icsi.oma.cpm.msg"


def call_id(raw: bytes) -> str:
    return SipMessage.parse(raw).call_id


async def register(core: Core, sut, *instances: str) -> None:
    for inst in instances:
        resp = await core.transact(core.register(BOB, inst), sut.pf.address)
        assert resp.status == 200


async def to_pf(core: Core, sut, body: bytes | None = None, **extra) -> bytes:
    raw = core.build("MESSAGE", BOB, headers=message_headers(**extra), body=body or cpim_body())
    await core.send(raw, sut.pf.address)
    return raw


async def device_copies(core: Core, sut) -> list[SipMessage]:
    await options_barrier(core, sut.pf.address)
    return [m for m in core.pending_requests() if m.method == "MESSAGE"]


async def client_send(core: Core, sut, args: dict, headers=()) -> SipMessage:
    call = asyncio.create_task(http(sut, "POST", "/send", args))
    item = await core.request(lambda m: m.method == "MESSAGE")
    await core.answer(item, headers=headers)
    status, _ = await call
    assert status == 200
    return item.message


async def to_client(core: Core, sut, body: bytes, **extra) -> SipMessage:
    raw = core.build("MESSAGE", CAROL, headers=message_headers(**extra), body=body)
    return await core.transact(raw, sut.client.address)


async def received(sut) -> list[dict]:
    return (await http(sut, "GET", "/messages"))[1]["received"]


# --------------------------------------------------------------------------- PF faults


async def ignore_block(core, sut):
    await register(core, sut, PHONE)
    await to_pf(core, sut, P_Asserted_Identity=f"<{MALLORY}>")
    assert len(await device_copies(core, sut)) == 1


async def no_415(core, sut):
    await register(core, sut, PHONE)
    await to_pf(core, sut, body=cpim_body("x", "image/png"))
    assert len(await device_copies(core, sut)) == 1


async def deliver_expired(core, sut):
    await register(core, sut, PHONE)
    date = email.utils.formatdate(time.time() - 3600, usegmt=True)
    await to_pf(core, sut, Date=date, Expires="60")
    assert len(await device_copies(core, sut)) == 1


async def deliver_unselected(core, sut):
    await register(core, sut, PHONE, TABLET)
    assert len(await device_copies(core, sut)) == 0
    await to_pf(core, sut)
    assert len(await device_copies(core, sut)) == 2


async def request_uri_not_gruu(core, sut):
    await register(core, sut, PHONE)
    await to_pf(core, sut)
    (copy,) = await device_copies(core, sut)
    assert ";gr=" not in copy.request_uri and copy.request_uri.startswith("sip:bob@127.0.0.1")


async def no_uid_in_forwarded(core, sut):
    await register(core, sut, PHONE, LAPTOP)
    await to_pf(core, sut)
    copies = await device_copies(core, sut)
    assert len(copies) == 2 and all(c.header("Message-UID") is None for c in copies)


# --------------------------------------------------------------------------- client faults


async def accept_contact(core, sut):
    msg = await client_send(core, sut, {"to": BOB, "text": "x"})
    assert not AcceptContact.parse(msg.header("Accept-Contact")).has_icsi(MSG_ICSI)


async def no_pps(core, sut):
    msg = await client_send(core, sut, {"to": BOB, "text": "x"})
    assert msg.header("P-Preferred-Service") is None


async def no_reply_to(core, sut):
    msg = await client_send(core, sut, {"to": BOB, "text": "x", "reply_address": ALICE})
    assert msg.header("Reply-To") is None


async def no_privacy(core, sut):
    msg = await client_send(core, sut, {"to": BOB, "text": "x", "anonymous": True})
    assert msg.header("Privacy") is None


async def no_expires(core, sut):
    msg = await client_send(core, sut, {"to": BOB, "text": "x", "expires": 60})
    assert msg.header("Expires") is None


async def reply_ignores_reply_to(core, sut):
    await to_client(core, sut, cpim_body(to_uri=CAROL), Reply_To="<sip:alice-work@example.net>")
    (rec,) = await received(sut)
    msg = await client_send(core, sut, {"reply_to_message": rec["id"], "text": "x"})
    assert msg.request_uri == ALICE


async def no_in_reply_to(core, sut):
    await to_client(core, sut, cpim_body(to_uri=CAROL))
    (rec,) = await received(sut)
    msg = await client_send(core, sut, {"reply_to_message": rec["id"], "text": "x"})
    assert msg.header("InReplyTo-Contribution-ID") is None


async def new_conversation_always(core, sut):
    first = await client_send(core, sut, {"to": BOB, "text": "x"})
    status, listing = await http(sut, "GET", "/messages")
    sent_id = listing["sent"][0]["id"]
    second = await client_send(core, sut, {"to": BOB, "text": "y", "conversation": sent_id})
    assert second.header("Conversation-ID") != first.header("Conversation-ID")


async def reuse_contribution(core, sut):
    first = await client_send(core, sut, {"to": BOB, "text": "x"})
    second = await client_send(core, sut, {"to": BOB, "text": "y"})
    assert second.header("Contribution-ID") == first.header("Contribution-ID")


async def imdn_new_contribution(core, sut):
    await to_client(core, sut, cpim_body(to_uri=CAROL, disposition="positive-delivery"))
    imdn = (await core.request(lambda m: m.method == "MESSAGE")).message
    assert imdn.header("Contribution-ID") != "contrib-1"


async def adhoc_no_list(core, sut):
    msg = await client_send(core, sut, {"group": {"kind": "adhoc", "targets": [BOB]}, "text": "x"})
    assert msg.content_type == "message/cpim" and b"resource-lists" not in msg.body


async def cpim_wrong_from(core, sut):
    msg = await client_send(core, sut, {"to": BOB, "text": "x"})
    assert CpimMessage.parse(msg.body).from_address().uri != CAROL


async def cpim_wrong_to(core, sut):
    msg = await client_send(core, sut, {"to": BOB, "text": "x"})
    assert [a.uri for a in CpimMessage.parse(msg.body).to_addresses()] != [BOB]


async def pager_over_1300(core, sut):
    # the text is under the limit, its wrapper over it
    msg = await client_send(core, sut, {"to": BOB, "text": "x" * 1250})
    assert msg.method == "MESSAGE" and len(msg.body) > 1300


async def no_conversation_echo(core, sut):
    resp = await to_client(core, sut, cpim_body(to_uri=CAROL))
    assert resp.status == 200 and resp.header("Conversation-ID") is None
    assert resp.header("Contribution-ID") == "contrib-1"


async def no_delivery_imdn(core, sut):
    await to_client(core, sut, cpim_body(to_uri=CAROL, disposition="positive-delivery"))
    await options_barrier(core, sut.client.address)
    assert core.pending_requests() == []


async def drop_uid(core, sut):
    await to_client(core, sut, cpim_body(to_uri=CAROL), Message_UID="9")
    (rec,) = await received(sut)
    assert rec["message_uid"] is None


# --------------------------------------------------------------------------- large mode


async def large_no_largemsg_icsi(core, sut):
    inv = await large_invite_refused(core, sut)
    accept = AcceptContact.parse(inv.header("Accept-Contact"))
    assert not accept.has_icsi(ICSI_LARGE) and accept.has_icsi(MSG_ICSI)


async def large_expires(core, sut):
    inv = await large_invite_refused(core, sut, {"to": BOB, "text": "L" * 2000, "expires": 60})
    assert inv.header("Expires") == "60" and inv.header("Message-Expires") is None


async def large_no_timer(core, sut):
    inv = await large_invite_refused(core, sut)
    assert "timer" not in inv.header_list("Supported")


async def large_sendrecv(core, sut):
    assert media_of(await large_invite_refused(core, sut)).direction() == "sendrecv"


async def large_no_accept_types(core, sut):
    assert media_of(await large_invite_refused(core, sut)).accept_types() == []


async def large_setup_passive(core, sut):
    assert media_of(await large_invite_refused(core, sut)).setup() == "passive"


@with_peers
async def large_wrong_size(core, sut, peer, _):
    call, item = await start_large_send(core, sut, {"to": BOB, "text": "L" * 2000})
    body, _ = await accept_large_send(core, peer, item)
    assert media_of(item.message).file_selector()["size"] != len(body)
    await call


@with_peers
async def large_no_bind(core, sut, peer, _):
    call, item = await start_large_send(core, sut, {"to": BOB, "text": "L" * 2000})
    _, sends = await accept_large_send(core, peer, item)
    assert sends[0].body  # the first SEND already carries content
    await call


@with_peers
async def recv_answer_sendrecv(core, sut, peer, _):
    _, ok = await invite_the_client(core, sut, offer_sdp(peer.uri()))
    assert ok.status == 200 and media_of(ok).direction() == "sendrecv"


@with_peers
async def recv_setup_passive(core, sut, peer, _):
    _, ok = await invite_the_client(core, sut, offer_sdp(peer.uri()))
    assert ok.status == 200 and media_of(ok).setup() == "passive"


@with_peers
async def recv_no_bind(core, sut, peer, _):
    inv, ok = await invite_the_client(core, sut, offer_sdp(peer.uri()))
    await core.send(in_dialog(core, "ACK", inv, ok, 1), sut.client.address)
    with pytest.raises(TransportTimeout):  # connected, but no empty SEND within a bound
        await peer.request(timeout=0.5)
    ((_, _, remote),) = peer.ep.connections
    (own,) = media_of(ok).path_uris()
    send = next(
        chunk(b"x", 1, to_path=own, from_path=peer.uri(), message_id="m0000001", content_type="a/b")
    )
    assert (await peer.transact(send, remote)).status == 200


@with_peers
async def recv_no_reassembly(core, sut, peer, _):
    inv, ok = await invite_the_client(core, sut, offer_sdp(peer.uri()))
    await core.send(in_dialog(core, "ACK", inv, ok, 1), sut.client.address)
    bind = await peer.request()
    await peer.answer(bind)
    wrapper = cpim_body("r" * 3000, to_uri=CAROL)
    (own,) = media_of(ok).path_uris()
    for send in chunk(wrapper, 2000, to_path=own, from_path=peer.uri(), message_id="m0000002"):
        assert (await peer.transact(send, bind.remote)).status == 200
    (rec,) = await received(sut)
    assert rec["text"] != "r" * 3000 and len(rec["text"]) <= 2000


@with_peers
async def pf_large_setup_active(core, sut, orig, dev):
    assert media_of((await pf_until_answer(core, sut, orig, dev))["ok"]).setup() == "active"


@with_peers
async def pf_large_no_prepend(core, sut, orig, dev):
    s = await pf_until_answer(core, sut, orig, dev)
    assert media_of(s["ok"]).path_uris() == [s["d"]]


@with_peers
async def pf_large_no_server(core, sut, orig, dev):
    assert (await pf_until_answer(core, sut, orig, dev))["ok"].header("Server") is None


@with_peers
async def pf_large_no_uid_in_bye(core, sut, orig, dev):
    bye_ok, d_bye = await pf_through_bye(core, sut, orig, dev)
    assert bye_ok.header("Message-UID") is not None and d_bye.header("Message-UID") is None


@with_peers
async def pf_large_no_uid_in_bye_200(core, sut, orig, dev):
    bye_ok, d_bye = await pf_through_bye(core, sut, orig, dev)
    assert bye_ok.header("Message-UID") is None and d_bye.header("Message-UID") is not None


BROKEN = {
    "pf.ignore-block": ignore_block,
    "pf.no-415": no_415,
    "pf.deliver-expired": deliver_expired,
    "pf.deliver-unselected": deliver_unselected,
    "pf.request-uri-not-gruu": request_uri_not_gruu,
    "pf.no-uid-in-forwarded-message": no_uid_in_forwarded,
    "client.accept-contact-no-msg-icsi": accept_contact,
    "client.no-p-preferred-service": no_pps,
    "client.no-reply-to": no_reply_to,
    "client.no-privacy": no_privacy,
    "client.no-expires": no_expires,
    "client.reply-ignores-reply-to": reply_ignores_reply_to,
    "client.no-in-reply-to": no_in_reply_to,
    "client.new-conversation-id-always": new_conversation_always,
    "client.reuse-contribution-id": reuse_contribution,
    "client.imdn-new-contribution-id": imdn_new_contribution,
    "client.adhoc-no-resource-list": adhoc_no_list,
    "client.cpim-wrong-from": cpim_wrong_from,
    "client.cpim-wrong-to": cpim_wrong_to,
    "client.pager-over-1300": pager_over_1300,
    "client.no-conversation-id-echo": no_conversation_echo,
    "client.no-delivery-imdn": no_delivery_imdn,
    "client.drop-message-uid": drop_uid,
    "client.large-no-largemsg-icsi": large_no_largemsg_icsi,
    "client.large-expires-not-message-expires": large_expires,
    "client.large-no-timer": large_no_timer,
    "client.large-sendrecv": large_sendrecv,
    "client.large-no-accept-types": large_no_accept_types,
    "client.large-setup-passive": large_setup_passive,
    "client.large-wrong-file-selector-size": large_wrong_size,
    "client.large-no-bind-send": large_no_bind,
    "client.recv-answer-sendrecv": recv_answer_sendrecv,
    "client.recv-setup-passive": recv_setup_passive,
    "client.recv-no-bind-send": recv_no_bind,
    "client.recv-no-reassembly": recv_no_reassembly,
    "pf.large-setup-active": pf_large_setup_active,
    "pf.large-no-path-prepend": pf_large_no_prepend,
    "pf.large-no-server": pf_large_no_server,
    "pf.large-no-uid-in-bye": pf_large_no_uid_in_bye,
    "pf.large-no-uid-in-bye-200": pf_large_no_uid_in_bye_200,
}
# Covered in test_refsut_pf.py / test_refsut_client.py next to the unbroken behaviour.
ELSEWHERE = {
    "pf.403-no-warning",
    "pf.forward-second-2xx",
    "pf.no-uid-in-200",
    "pf.no-202-on-defer",
    "client.no-user-agent",
    "client.no-server-header",
}


# Shown only end to end: selftests/conformance/test_fault_kills.py runs the conformance case of
# each of these clauses with the switch on and requires it to fail.
BY_CONFORMANCE_RUN = {
    "client.group-reply-omits-replied",
    "client.foreign-preferred-identity",
    "client.foreign-identity-in-200",
    # deferred messages at the PF (testcases/test_*_pf_deferred_*.py)
    "pf.defer-no-system-message-tag",
    "pf.defer-notify-not-iwf",
    "pf.deferred-action-ignored",
    "pf.deferred-remove-unlisted",
    "pf.push-no-automata",
    "pf.push-sendrecv",
    "pf.deferred-deliver-twice",
    "pf.deferred-deliver-expired",
    # robustness (testcases/test_robustness_sip.py): the SUT stops answering altogether
    "robust.crash-on-bad-content-length",
}


def _claimed_by_cases() -> set[str]:
    """Switches whose clause a conformance case claims: the fault-kill self-test
    (selftests/conformance/test_fault_kills.py) runs each of them end to end."""
    from cpmconf import catalogue

    claims = catalogue.claimed_clause_ids(
        sorted((catalogue.REPO_ROOT / "testcases").glob("test_*.py"))
    )
    return {name for name, f in REGISTRY.items() if f.clause in claims}


def test_every_fault_has_a_test():
    covered = set(BROKEN) | ELSEWHERE | BY_CONFORMANCE_RUN | _claimed_by_cases()
    assert sorted(set(REGISTRY) - covered) == []


@pytest.mark.parametrize("fault", sorted(BROKEN))
def test_fault_breaks_its_behaviour(fault):
    run(BROKEN[fault], faults=[fault])
