"""The refsut in large message mode: client sending (TS 7.2.1.2), client receiving
(TS 7.2.2.2) and the terminating PF as a B2BUA relaying MSRP (TS 8.3.2.1.1, 8.5.1)."""

from __future__ import annotations

import asyncio
import math

import pytest

from cpmconf.codec.cpim import CpimMessage
from cpmconf.codec.headers import AcceptContact, ContactFeatures, WarningHeader
from cpmconf.codec.msrp import MsrpUri, chunk
from cpmconf.codec.resource_lists import ResourceList
from cpmconf.codec.sip import SipMessage, build_message
from refsut import bodies

from .large_support import (
    ICSI_LARGE,
    LARGE_AC,
    accept_large_send,
    address_of,
    answer_with_body,
    cancel_of,
    final,
    in_dialog,
    large_invite,
    media_of,
    offer_sdp,
    provisional,
    run_large,
    start_large_send,
    wrapper_overhead,
)
from .support import (
    ALICE,
    BOB,
    CAROL,
    CF,
    LAPTOP,
    MALLORY,
    PHONE,
    Core,
    cpim_body,
    http,
    options_barrier,
)

# --------------------------------------------------------------------------- client sending


def test_send_1301_bytes_invite_offer_msrp_and_bye_uid():
    async def scenario(core: Core, sut, peers):
        (peer, *_) = peers
        text = "x" * (1301 - wrapper_overhead())
        args = {
            "to": BOB,
            "text": text,
            "expires": 600,
            "anonymous": True,
            "reply_address": "sip:carol-work@example.net",
        }
        call, item = await start_large_send(core, sut, args)
        inv = item.message
        assert inv.request_uri == BOB
        assert AcceptContact.parse(inv.header("Accept-Contact")).has_icsi(ICSI_LARGE)
        assert inv.header("Accept-Contact") == LARGE_AC
        contact = ContactFeatures.parse(inv.header("Contact"))
        assert contact.has_icsi(ICSI_LARGE) and contact.icsi_encoded_ok()
        assert inv.header("P-Preferred-Service") == ICSI_LARGE
        assert inv.header("User-Agent") == "CPM-client/OMA2.0"
        assert inv.header("Message-Expires") == "600" and inv.header("Expires") is None
        assert "timer" in inv.header_list("Supported")
        assert inv.header("Session-Expires") == "1800;refresher=uac"
        assert inv.header("Privacy") == "id"
        assert inv.header("Reply-To") == "<sip:carol-work@example.net>"
        assert inv.header("Conversation-ID") and inv.header("Contribution-ID")
        assert inv.content_type == "application/sdp"
        m = media_of(inv)
        assert m.is_msrp and m.proto == "TCP/MSRP" and m.fmt == ("*",)
        assert m.connection().address == "127.0.0.1"
        assert m.direction() == "sendonly" and m.setup() == "active"
        assert m.accept_types() == ["message/cpim"]
        assert m.accept_wrapped_types() == ["text/plain"]
        assert m.file_selector() == {"size": 1301}
        (own,) = m.path_uris()
        assert own.port == m.port
        body, sends = await accept_large_send(core, peer, item)
        bind, *data = sends
        assert bind.method == "SEND" and bind.body == b"" and bind.content_type is None
        assert bind.to_path() == [peer.uri("far00001")] and bind.from_path() == [own]
        assert len(data) == 1 and data[0].content_type == "message/cpim"
        assert data[0].header("Byte-Range") == "1-1301/1301" and data[0].continuation == "$"
        assert len(body) == 1301
        cpim = CpimMessage.parse(body)
        assert cpim.body == text.encode() and [a.uri for a in cpim.to_addresses()] == [BOB]
        status, result = await call
        assert status == 200 and result["status"] == 200
        _, listing = await http(sut, "GET", "/messages")
        (sent,) = listing["sent"]
        assert sent["mode"] == "large" and sent["message_uid"] == 77 and sent["status"] == 200
        assert sent["text"] == text and sent["call_id"] == inv.call_id

    run_large(scenario)


def test_send_one_mebibyte_in_2048_byte_chunks():
    async def scenario(core: Core, sut, peers):
        (peer, *_) = peers
        text = "y" * (1024 * 1024)
        call, item = await start_large_send(core, sut, {"to": BOB, "text": text})
        size = media_of(item.message).file_selector()["size"]
        body, sends = await accept_large_send(core, peer, item)
        data = sends[1:]
        assert len(data) == math.ceil(size / 2048) and len(body) == size
        assert all(len(s.body) == 2048 for s in data[:-1])
        assert [s.continuation for s in data] == ["+"] * (len(data) - 1) + ["$"]
        assert data[1].header("Byte-Range") == f"2049-4096/{size}"
        assert len({s.message_id for s in data}) == 1
        assert CpimMessage.parse(body).body == text.encode()
        assert (await call)[1]["status"] == 200

    run_large(scenario)


def test_send_to_adhoc_group_carries_sdp_and_resource_list():
    async def scenario(core: Core, sut, peers):
        text = "z" * 2000
        args = {"group": {"kind": "adhoc", "targets": [BOB, ALICE]}, "text": text}
        call, item = await start_large_send(core, sut, args)
        inv = item.message
        assert inv.request_uri == CF and inv.content_type == "multipart/mixed"
        assert inv.header("Require") == "recipient-list-invite"
        ctype = inv.header("Content-Type")
        sdp = bodies.body_part(ctype, inv.body, "application/sdp")
        assert b"m=message" in sdp
        listing = bodies.body_part(ctype, inv.body, "application/resource-lists+xml")
        assert ResourceList.parse(listing).uris() == [BOB, ALICE]
        await core.answer(item, 486, reason="Busy Here")
        assert (await core.request(lambda m: m.method == "ACK")).message.call_id == inv.call_id
        assert (await call)[1]["status"] == 486

    run_large(scenario)


def test_send_with_cancel_after_180_then_487_is_acked():
    async def scenario(core: Core, sut, peers):
        call, item = await start_large_send(
            core, sut, {"to": BOB, "text": "c" * 1400, "cancel": True}
        )
        inv = item.message
        await core.answer(item, 180, reason="Ringing")
        cancel = await core.request(lambda m: m.method == "CANCEL")
        c = cancel.message
        assert c.request_uri == inv.request_uri and c.call_id == inv.call_id
        assert c.branch == inv.branch and c.cseq == (inv.cseq[0], "CANCEL")
        assert c.header("From") == inv.header("From") and c.header("To") == inv.header("To")
        await core.answer(cancel)
        await core.answer(item, 487, reason="Request Terminated")
        ack = (await core.request(lambda m: m.method == "ACK")).message
        assert ack.branch == inv.branch and ack.cseq == (inv.cseq[0], "ACK")
        status, result = await call
        assert status == 200 and result["status"] == 487
        # cancel is for large messages only
        status, _ = await http(sut, "POST", "/send", {"to": BOB, "text": "x", "cancel": True})
        assert status == 400

    run_large(scenario)


def test_send_stalled_msrp_peer_ends_with_bye_and_msrp_timeout():
    async def scenario(core: Core, sut, peers):
        (peer, *_) = peers
        call, item = await start_large_send(core, sut, {"to": BOB, "text": "s" * 5000})
        _, sends = await accept_large_send(core, peer, item, answer_chunks=False)
        assert sends[-1].body  # the first chunk, never answered; the BYE came anyway
        status, result = await call
        assert result["status"] == "msrp-timeout"

    run_large(scenario, msrp_timeout=0.3)


# --------------------------------------------------------------------------- client receiving


async def invite_client(core: Core, sut, offer: bytes, headers=()) -> tuple[bytes, SipMessage]:
    hdrs = [
        ("Accept-Contact", LARGE_AC),
        ("Contact", f"<sip:pf@{core.via_host}>"),
        ("Conversation-ID", "conv-R"),
        ("Contribution-ID", "contrib-R"),
        ("InReplyTo-Contribution-ID", "older-R"),
        ("Supported", "timer"),
        ("Session-Expires", "1800"),
        *headers,
        ("Content-Type", "application/sdp"),
    ]
    raw = core.build("INVITE", CAROL, from_uri=ALICE, headers=hdrs, body=offer)
    await core.send(raw, sut.client.address)
    return raw, SipMessage.parse(raw)


def test_receive_chunks_split_inside_a_utf8_character_with_bye_uid():
    async def scenario(core: Core, sut, peers):
        (peer, *_) = peers
        mine = peer.uri("pf000001")
        raw, inv = await invite_client(core, sut, offer_sdp(mine, setup="actpass"))
        ok = await final(core, inv.call_id)
        assert ok.status == 200
        assert ok.header("Server") == "CPM-client/OMA2.0"
        for name, value in [
            ("Conversation-ID", "conv-R"),
            ("Contribution-ID", "contrib-R"),
            ("InReplyTo-Contribution-ID", "older-R"),
        ]:
            assert ok.header(name) == value
        assert ContactFeatures.parse(ok.header("Contact")).uri.startswith("sip:carol@")
        assert ok.header("Session-Expires").startswith("1800")
        m = media_of(ok)
        assert m.direction() == "recvonly" and m.setup() == "active"
        assert m.accept_types() == ["message/cpim"] and m.accept_wrapped_types() == ["*"]
        (client_uri,) = m.path_uris()
        await core.send(in_dialog(core, "ACK", inv, ok, 1), sut.client.address)
        bind = await peer.request()
        assert bind.message.body == b"" and bind.message.to_path() == [mine]
        assert bind.message.from_path() == [client_uri]
        await peer.answer(bind)
        text = "é" * 700 + "€😀" * 300  # multi-byte characters throughout
        wrapper = cpim_body(text, from_uri=ALICE, to_uri=CAROL)
        split = wrapper.index("é".encode()) + 1  # inside the first two-byte character
        sizes = [split, 1000, 777]
        for send in chunk(
            wrapper, sizes, to_path=client_uri, from_path=mine, message_id="msgL0001"
        ):
            await peer.ep.send(bytes(send), bind.remote, "tcp")
            assert (await peer.response(send.transaction_id)).status == 200
        resp = await core.transact(
            in_dialog(core, "BYE", inv, ok, 2, [("Message-UID", "99")]), sut.client.address
        )
        assert resp.status == 200
        _, listing = await http(sut, "GET", "/messages")
        (rec,) = listing["received"]
        assert rec["text"] == text and rec["message_uid"] == 99 and rec["mode"] == "large"
        assert rec["conversation_id"] == "conv-R" and rec["from"] == ALICE

    run_large(scenario)


def test_receive_refusals_480_and_488():
    async def scenario(core: Core, sut, peers):
        _, inv = await invite_client(core, sut, offer_sdp(peers[0].uri()))
        assert (await final(core, inv.call_id)).status == 480

    run_large(scenario, client={"out_of_resources": True})

    async def scenario_488(core: Core, sut, peers):
        _, inv = await invite_client(core, sut, offer_sdp(peers[0].uri(), types="text/plain"))
        resp = await final(core, inv.call_id)
        assert resp.status == 488
        await core.send(in_dialog(core, "ACK", inv, resp, 1), sut.client.address)
        _, inv = await invite_client(core, sut, offer_sdp(peers[0].uri(), types="*"))
        assert (await final(core, inv.call_id)).status == 200

    run_large(scenario_488)


def test_receive_cancel_in_the_answer_delay_gets_200_and_487():
    async def scenario(core: Core, sut, peers):
        raw, inv = await invite_client(core, sut, offer_sdp(peers[0].uri()))
        await provisional(core, inv.call_id, 180)
        resp = await core.transact(cancel_of(raw), sut.client.address)
        assert resp.status == 200 and resp.cseq[1] == "CANCEL"
        resp = await final(core, inv.call_id)
        assert resp.status == 487
        await core.send(in_dialog(core, "ACK", inv, resp, 1), sut.client.address)

    run_large(scenario, client={"answer_delay_ms": 3000})


# --------------------------------------------------------------------------- PF


async def register(core: Core, sut, *instances: str) -> None:
    for inst in instances:
        assert (await core.transact(core.register(BOB, inst), sut.pf.address)).status == 200


def gruu(instance: str) -> str:
    return f"{BOB};gr={instance[1:-1]}"


async def pf_b2bua_end_to_end(core: Core, sut, peers, device_setup: str) -> None:
    orig, dev, _ = peers
    await register(core, sut, PHONE, LAPTOP)
    o_uri = orig.uri("orig0001")
    raw = large_invite(core, offer_sdp(o_uri, file_selector="size:4000"))
    inv = SipMessage.parse(raw)
    await core.send(raw, sut.pf.address)
    legs = [await core.request(lambda m: m.method == "INVITE") for _ in range(2)]
    by_target = {leg.message.request_uri: leg for leg in legs}
    assert set(by_target) == {gruu(PHONE), gruu(LAPTOP)}
    first, second = by_target[gruu(PHONE)], by_target[gruu(LAPTOP)]
    d_inv = first.message
    assert d_inv.call_id != inv.call_id and d_inv.header("Conversation-ID") == "conv-L"
    assert AcceptContact.parse(d_inv.header("Accept-Contact")).has_icsi(ICSI_LARGE)
    offer = media_of(d_inv)
    assert offer.direction() == "sendonly" and offer.accept_types() == ["message/cpim"]
    assert offer.setup() == "actpass" and offer.file_selector() == {"size": 4000}
    (pf_dev_uri,) = offer.path_uris()

    await core.answer(first, 180, reason="Ringing")
    await provisional(core, inv.call_id, 180)
    d_uri = dev.uri("dev00001")
    answer = offer_sdp(d_uri, setup=device_setup, direction="recvonly")
    d_ok = await answer_with_body(
        core,
        first,
        200,
        [("Contact", f"<sip:bob@{core.via_host}>"), ("Content-Type", "application/sdp")],
        answer,
    )
    cancel = await core.request(lambda m: m.method == "CANCEL")
    assert cancel.message.call_id == second.message.call_id
    await core.answer(cancel)
    await core.answer(second, 487, reason="Request Terminated")
    ack487 = await core.request(lambda m: m.method == "ACK")
    assert ack487.message.call_id == second.message.call_id

    ok = await final(core, inv.call_id)
    assert ok.status == 200
    assert ok.header("Server") == "CPM-serv/OMA2.0"
    assert "INVITE" in ok.header("Allow") and "BYE" in ok.header("Allow")
    assert ContactFeatures.parse(ok.header("Contact")).uri.startswith("sip:cpm-pf@127.0.0.1")
    assert ok.header("Session-Expires").startswith("1800")
    m = media_of(ok)
    pf_orig_uri, via_dev = m.path_uris()
    assert via_dev == d_uri and pf_orig_uri != pf_dev_uri
    assert m.setup() == "passive" and m.direction() == "recvonly"
    assert m.accept_types() == ["message/cpim"]

    await core.send(in_dialog(core, "ACK", inv, ok, 1), sut.pf.address)
    d_ack = await core.request(lambda m: m.method == "ACK")
    assert d_ack.message.call_id == d_inv.call_id
    assert d_ack.message.header("To") == d_ok.header("To")

    if device_setup == "active":  # the device connects to the PF and binds
        bind = next(chunk(b"", 1, to_path=pf_dev_uri, from_path=d_uri, message_id="bindD001"))
        assert (await dev.transact(bind, address_of(pf_dev_uri))).status == 200
    else:  # the PF connects to the device and binds
        item = await dev.request()
        assert item.message.body == b"" and item.message.to_path() == [d_uri]
        await dev.answer(item)

    # the sender binds and sends; each chunk is relayed hop by hop
    to_path = [pf_orig_uri, d_uri]
    bind = next(chunk(b"", 1, to_path=to_path, from_path=o_uri, message_id="bindO001"))
    assert (await orig.transact(bind, address_of(pf_orig_uri))).status == 200
    wrapper = cpim_body("w" * 3800, from_uri=ALICE, to_uri=BOB)
    for send in chunk(wrapper, 1500, to_path=to_path, from_path=o_uri, message_id="msgO0001"):
        await orig.ep.send(bytes(send), address_of(pf_orig_uri), "tcp")
        relayed = await dev.request()
        r = relayed.message
        assert r.to_path() == [d_uri] and r.from_path() == [pf_dev_uri, o_uri]
        assert r.body == send.body and r.message_id == "msgO0001"
        assert r.header("Byte-Range") == send.header("Byte-Range")
        assert r.continuation == send.continuation and r.content_type == "message/cpim"
        await dev.answer(relayed)
        assert (await orig.response(send.transaction_id)).status == 200

    await core.send(in_dialog(core, "BYE", inv, ok, 2), sut.pf.address)
    bye_ok = await final(core, inv.call_id, "BYE")
    assert bye_ok.status == 200
    uid = int(bye_ok.header("Message-UID"))
    d_bye = await core.request(lambda m: m.method == "BYE")
    assert d_bye.message.call_id == d_inv.call_id
    assert d_bye.message.header("Message-UID") == str(uid)
    await core.answer(d_bye)
    stored = sut.store.get(uid)
    assert stored.mode == "large" and stored.raw.endswith(wrapper)
    assert b"Conversation-ID: conv-L\r\n" in stored.raw


@pytest.mark.parametrize("device_setup", ["active", "passive"])
def test_pf_b2bua_forks_answers_relays_and_records(device_setup):
    run_large(lambda core, sut, peers: pf_b2bua_end_to_end(core, sut, peers, device_setup))


def test_pf_all_legs_fail_lowest_error_and_deferral_handover():
    async def scenario(core: Core, sut, peers):
        await register(core, sut, PHONE, LAPTOP)
        raw = large_invite(core, offer_sdp(peers[0].uri()))
        await core.send(raw, sut.pf.address)
        legs = [await core.request(lambda m: m.method == "INVITE") for _ in range(2)]
        await core.answer(legs[0], 486, reason="Busy Here")
        await core.answer(legs[1], 404, reason="Not Found")
        for _ in legs:
            assert (await core.request(lambda m: m.method == "ACK")).message.method == "ACK"
        resp = await final(core, SipMessage.parse(raw).call_id)
        assert resp.status == 404
        (row,) = sut.store.by_state(BOB, "deferred")
        assert row.mode == "large" and row.raw == raw

    run_large(scenario)


@pytest.mark.parametrize(
    ("extra", "pf", "check"),
    [
        ([("P-Asserted-Identity", f"<{MALLORY}>")], {}, "warning"),
        ([("Privacy", "id")], {"allow_anonymity": False}, "warning"),
        ([], {"min_client_release": "OMA2.1"}, "error-info"),
    ],
)
def test_pf_policies_refuse_with_403(extra, pf, check):
    async def scenario(core: Core, sut, peers):
        await register(core, sut, PHONE)
        raw = large_invite(core, offer_sdp(peers[0].uri()), headers=extra)
        await core.send(raw, sut.pf.address)
        resp = await final(core, SipMessage.parse(raw).call_id)
        assert resp.status == 403
        if check == "warning":
            entry = WarningHeader.parse(resp.header("Warning")).find_oma(122)
            assert entry is not None
        else:
            assert resp.header("Error-Info") == "<http://example.net/cpm/upgrade>"
        await core.send(in_dialog(core, "ACK", SipMessage.parse(raw), resp, 1), sut.pf.address)
        await options_barrier(core, sut.pf.address)
        assert [m.method for m in core.pending_requests()] == []  # no device was invited

    run_large(scenario, pf=pf)


def test_pf_passes_the_senders_cancel_on_and_answers_487():
    async def scenario(core: Core, sut, peers):
        await register(core, sut, PHONE)
        raw = large_invite(core, offer_sdp(peers[0].uri()))
        inv = SipMessage.parse(raw)
        await core.send(raw, sut.pf.address)
        leg = await core.request(lambda m: m.method == "INVITE")
        await core.answer(leg, 180, reason="Ringing")
        await provisional(core, inv.call_id, 180)
        await core.send(cancel_of(raw), sut.pf.address)
        assert (await final(core, inv.call_id, "CANCEL")).status == 200
        d_cancel = await core.request(lambda m: m.method == "CANCEL")
        assert d_cancel.message.call_id == leg.message.call_id
        await core.answer(d_cancel)
        await core.answer(leg, 487, reason="Request Terminated")
        assert (await core.request(lambda m: m.method == "ACK")).message.call_id == (
            leg.message.call_id
        )
        resp = await final(core, inv.call_id)
        assert resp.status == 487
        assert sut.store.by_state(BOB, "deferred") == []

    run_large(scenario)


def test_pf_unanswered_legs_are_cancelled_and_the_sender_gets_480():
    async def scenario(core: Core, sut, peers):
        await register(core, sut, PHONE)
        raw = large_invite(core, offer_sdp(peers[0].uri()))
        await core.send(raw, sut.pf.address)
        leg = await core.request(lambda m: m.method == "INVITE")
        resp = await final(core, SipMessage.parse(raw).call_id)
        assert resp.status == 480
        d_cancel = await core.request(lambda m: m.method == "CANCEL")
        assert d_cancel.message.call_id == leg.message.call_id
        assert len(sut.store.by_state(BOB, "deferred")) == 1

    run_large(scenario, leg_timeout=0.5)


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_client_to_pf_end_to_end_through_a_relaying_core(transport):
    """The refsut client sends a large message to the refsut PF; the test's core only
    forwards SIP between them and plays the device."""

    async def scenario(core: Core, sut, peers):
        dev = peers[1]
        await register(core, sut, PHONE)
        text = "e2e " * 1000
        call = asyncio.create_task(http(sut, "POST", "/send", {"to": BOB, "text": text}))
        client, pf = sut.client.address, sut.pf.address

        async def forward(method: str, to) -> SipMessage:
            item = await core.request(lambda m: m.method == method)
            await core.send(item.raw, to)
            return item.message

        async def back(call_id: str, method: str, to) -> SipMessage:
            resp = await final(core, call_id, method)
            await core.send(resp.raw, to)
            return resp

        inv = await forward("INVITE", pf)
        leg = await core.request(lambda m: m.method == "INVITE")  # the PF's device INVITE
        (pf_dev_uri,) = media_of(leg.message).path_uris()
        d_uri = dev.uri("dev00002")
        await answer_with_body(
            core,
            leg,
            200,
            [("Contact", f"<sip:bob@{core.via_host}>"), ("Content-Type", "application/sdp")],
            offer_sdp(d_uri, direction="recvonly"),
        )
        await back(inv.call_id, "INVITE", client)
        await forward("ACK", pf)
        await core.request(lambda m: m.method == "ACK" and m.call_id == leg.message.call_id)
        bind = next(chunk(b"", 1, to_path=pf_dev_uri, from_path=d_uri, message_id="bindD002"))
        assert (await dev.transact(bind, address_of(pf_dev_uri))).status == 200
        parts = []
        while True:
            item = await dev.request()
            parts.append(item.message.body)
            await dev.answer(item)
            if item.message.continuation == "$":
                break
        bye = await forward("BYE", pf)
        d_bye = await core.request(lambda m: m.method == "BYE" and m.call_id == leg.message.call_id)
        await core.answer(d_bye)
        bye_ok = await back(bye.call_id, "BYE", client)
        status, result = await call
        assert result["status"] == 200
        assert CpimMessage.parse(b"".join(parts)).body == text.encode()
        _, listing = await http(sut, "GET", "/messages")
        assert listing["sent"][0]["message_uid"] == int(bye_ok.header("Message-UID"))
        assert d_bye.message.header("Message-UID") == bye_ok.header("Message-UID")

    run_large(scenario, transport=transport)


def test_msrp_to_unknown_session_gets_481():
    async def scenario(core: Core, sut, peers):
        peer = peers[0]
        host, port = sut.client.msrp.address
        nowhere = MsrpUri.build(host, port, "nosuchsession")
        send = next(
            chunk(
                b"hi",
                10,
                to_path=nowhere,
                from_path=peer.uri(),
                message_id="m0000001",
                content_type="text/plain",
            )
        )
        assert (await peer.transact(send, (host, port))).status == 481

    run_large(scenario)


def test_send_session_refresh_reinvite_gets_the_offer_and_the_timer_again():
    async def scenario(core: Core, sut, peers):
        (peer, *_) = peers
        call, item = await start_large_send(core, sut, {"to": BOB, "text": "z" * 2000})
        inv = item.message
        ok = await answer_with_body(
            core,
            item,
            200,
            [
                ("Contact", "<sip:far@127.0.0.1>"),
                ("Session-Expires", "900;refresher=uas"),
                ("Require", "timer"),
                ("Content-Type", "application/sdp"),
            ],
            offer_sdp(peer.uri("far00001"), setup="passive", direction="recvonly"),
        )
        await core.request(lambda m: m.method == "ACK")
        contact = inv.header("Contact")
        reinvite = build_message(
            f"INVITE {contact[contact.index('<') + 1 : contact.index('>')]} SIP/2.0",
            [
                ("Via", f"SIP/2.0/UDP {core.via_host};branch=z9hG4bKrefresh1"),
                ("Max-Forwards", "70"),
                ("From", ok.header("To")),
                ("To", inv.header("From")),
                ("Call-ID", inv.call_id),
                ("CSeq", "1 INVITE"),
                ("Contact", "<sip:far@127.0.0.1>"),
                ("Supported", "timer"),
                ("Session-Expires", "900;refresher=uas"),
                ("Content-Type", "application/sdp"),
            ],
            ok.body,
        )
        resp = await core.transact(reinvite, sut.client.address)
        assert resp.status == 200 and resp.header("Session-Expires") == "900;refresher=uas"
        assert resp.header("Require") == "timer" and resp.body == inv.body
        while True:  # the transfer goes on: answer the bind and the chunk, then the BYE
            send = await peer.request()
            await peer.answer(send)
            if send.message.continuation == "$" and send.message.body:
                break
        await core.answer(await core.request(lambda m: m.method == "BYE"))
        status, result = await call
        assert status == 200 and result["status"] == 200

    run_large(scenario)


def test_receive_answer_delay_from_the_upper_tester_until_reset():
    async def scenario(core: Core, sut, peers):
        for bad in ({}, {"ms": -1}, {"ms": 10_001}, {"ms": True}, {"ms": 5, "x": 1}):
            assert (await http(sut, "POST", "/answer-delay", bad))[0] == 400
        assert (await http(sut, "POST", "/answer-delay", {"ms": 3000}))[1] == {"ok": True}
        raw, inv = await invite_client(core, sut, offer_sdp(peers[0].uri()))
        await provisional(core, inv.call_id, 180)
        assert (await core.transact(cancel_of(raw), sut.client.address)).status == 200
        resp = await final(core, inv.call_id)
        assert resp.status == 487
        await core.send(in_dialog(core, "ACK", inv, resp, 1), sut.client.address)
        assert (await http(sut, "POST", "/reset"))[1] == {"ok": True}
        _, inv = await invite_client(core, sut, offer_sdp(peers[0].uri()))
        assert (await final(core, inv.call_id)).status == 200  # answered at once again

    run_large(scenario)
