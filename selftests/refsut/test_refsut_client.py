"""The refsut client in pager mode, driven through its upper tester and a fake core."""

from __future__ import annotations

import asyncio

from cpmconf.codec.cpim import CpimMessage
from cpmconf.codec.headers import AcceptContact, ContactFeatures
from cpmconf.codec.resource_lists import ResourceList
from cpmconf.codec.sip import SipMessage

from .support import (
    ALICE,
    BOB,
    CAROL,
    CAROL_DEV,
    CF,
    ICSI_MSG_ENC,
    Core,
    cpim_body,
    http,
    message_headers,
    run,
)

MSG_ICSI = "urn:urn-7:3gpp-service.ims.icsi.oma.cpm.msg"


async def send_via_upper_tester(core: Core, sut, args: dict, answer=200, headers=()):
    """POST /send, play the core's side of the MESSAGE, return (http result, MESSAGE)."""
    call = asyncio.create_task(http(sut, "POST", "/send", args))
    item = await core.request(lambda m: m.method == "MESSAGE")
    await core.answer(item, answer, headers=headers)
    status, result = await call
    assert status == 200, result
    return result, item.message


async def deliver_to_client(core: Core, sut, body: bytes, **extra) -> SipMessage:
    raw = core.build("MESSAGE", CAROL, from_uri=ALICE, headers=message_headers(**extra), body=body)
    return await core.transact(raw, sut.client.address)


def test_upper_tester_register_sends_gruu_register():
    async def scenario(core: Core, sut):
        status, body = await http(sut, "GET", "/status")
        assert (status, body) == (200, {"ok": True, "registered": False, "user": CAROL})
        call = asyncio.create_task(http(sut, "POST", "/register", {"expires": 600}))
        item = await core.request(lambda m: m.method == "REGISTER")
        reg = item.message
        assert reg.request_uri == "sip:example.net"
        contact = ContactFeatures.parse(reg.header("Contact"))
        assert contact.param("+sip.instance") == CAROL_DEV
        assert contact.has_icsi(MSG_ICSI) and contact.icsi_encoded_ok()
        assert reg.header("Supported") == "gruu" and reg.header("Require") == "gruu"
        assert reg.header("Expires") == "600"
        gruu = f"{CAROL};gr={CAROL_DEV[1:-1]}"
        await core.answer(
            item, headers=[("Contact", f'{reg.header("Contact")};expires=600;pub-gruu="{gruu}"')]
        )
        assert await call == (200, {"ok": True, "status": 200})
        assert (await http(sut, "GET", "/status"))[1]["registered"] is True
        assert sut.client.registration.gruu == gruu

    run(scenario)


def test_send_builds_pager_message_with_cpm_headers_and_keeps_uid():
    async def scenario(core: Core, sut):
        args = {
            "to": BOB,
            "text": "hi bob",
            "reply_address": "sip:carol-work@example.net",
            "anonymous": True,
            "expires": 3600,
            "disposition": ["positive-delivery", "display"],
        }
        result, msg = await send_via_upper_tester(core, sut, args, headers=[("Message-UID", "42")])
        assert result["ok"] and result["status"] == 200 and result["call_id"] == msg.call_id
        assert msg.request_uri == BOB
        accept = AcceptContact.parse(msg.header("Accept-Contact"))
        assert accept.has_icsi(MSG_ICSI) and ICSI_MSG_ENC in msg.header("Accept-Contact")
        assert msg.header("P-Preferred-Service") == MSG_ICSI
        assert msg.header("User-Agent") == "CPM-client/OMA2.0"
        assert msg.header("Reply-To") == "<sip:carol-work@example.net>"
        assert msg.header("Privacy") == "id"
        assert msg.header("Expires") == "3600"
        assert msg.header("Conversation-ID") and msg.header("Contribution-ID")
        assert msg.header("InReplyTo-Contribution-ID") is None
        assert msg.content_type == "message/cpim"
        cpim = CpimMessage.parse(msg.body)
        assert cpim.from_address().uri == CAROL
        assert [a.uri for a in cpim.to_addresses()] == [BOB]
        assert cpim.imdn_message_id()
        assert cpim.disposition_notification() == ["positive-delivery", "display"]
        assert cpim.body == b"hi bob"
        _, listing = await http(sut, "GET", "/messages")
        (sent,) = listing["sent"]
        assert sent["id"] == result["id"] and sent["message_uid"] == 42
        assert sent["status"] == 200 and sent["mode"] == "pager"

    run(scenario)


def test_received_message_gets_200_echo_record_and_delivery_imdn():
    async def scenario(core: Core, sut):
        body = cpim_body("hey carol", from_uri=ALICE, to_uri=CAROL, disposition="positive-delivery")
        resp = await deliver_to_client(
            core,
            sut,
            body,
            Message_UID="7",
            Reply_To="<sip:alice-work@example.net>",
            InReplyTo_Contribution_ID="older-1",
        )
        assert resp.status == 200
        assert resp.header("Server") == "CPM-client/OMA2.0"
        assert resp.header("Conversation-ID") == "conv-1"
        assert resp.header("Contribution-ID") == "contrib-1"
        assert resp.header("InReplyTo-Contribution-ID") == "older-1"
        imdn_item = await core.request(lambda m: m.method == "MESSAGE")
        imdn = imdn_item.message
        assert imdn.request_uri == ALICE
        assert imdn.header("Contribution-ID") == "contrib-1"
        assert imdn.header("Conversation-ID") == "conv-1"
        inner = CpimMessage.parse(imdn.body)
        assert inner.content_type == "message/imdn+xml"
        assert b"<message-id>msg-1</message-id>" in inner.body and b"<delivered/>" in inner.body
        await core.answer(imdn_item)
        _, listing = await http(sut, "GET", "/messages")
        (received,) = listing["received"]
        assert received["message_uid"] == 7 and received["text"] == "hey carol"
        assert received["reply_to"] == "sip:alice-work@example.net"
        assert received["conversation_id"] == "conv-1"

        # a reply goes to the Reply-To, in the same conversation, citing the contribution
        reply, msg = await send_via_upper_tester(
            core, sut, {"reply_to_message": received["id"], "text": "ok"}
        )
        assert msg.request_uri == "sip:alice-work@example.net"
        assert msg.header("InReplyTo-Contribution-ID") == "contrib-1"
        assert msg.header("Conversation-ID") == "conv-1"
        assert msg.header("Contribution-ID") not in ("contrib-1", None)

    run(scenario)


def test_adhoc_group_goes_to_controlling_function_with_resource_list():
    async def scenario(core: Core, sut):
        args = {"group": {"kind": "adhoc", "targets": [BOB, ALICE]}, "text": "all"}
        _, msg = await send_via_upper_tester(core, sut, args)
        assert msg.request_uri == CF
        assert msg.content_type == "multipart/mixed"
        assert msg.header("Require") == "recipient-list-message"
        boundary = msg.header("Content-Type").split("boundary=", 1)[1]
        parts = msg.body.split(f"--{boundary}".encode())[1:-1]
        cpim_part, list_part = (p.strip(b"\r\n").split(b"\r\n\r\n", 1) for p in parts)
        assert b"Content-Type: message/cpim" in cpim_part[0]
        assert [a.uri for a in CpimMessage.parse(cpim_part[1]).to_addresses()] == [CF]
        assert b"Content-Disposition: recipient-list" in list_part[0]
        assert ResourceList.parse(list_part[1]).uris() == [BOB, ALICE]

    run(scenario)


def test_upper_tester_errors():
    async def scenario(core: Core, sut):
        assert (await http(sut, "GET", "/nowhere"))[0] == 404
        assert (await http(sut, "GET", "/send"))[0] == 405
        assert (await http(sut, "POST", "/send", raw=b"{nope"))[0] == 400
        status, body = await http(sut, "POST", "/send", {"to": BOB, "text": "x", "bogus": 1})
        assert status == 400 and "bogus" in body["error"]
        assert (await http(sut, "POST", "/reset"))[1] == {"ok": True}

    run(scenario)


def test_fault_switches_change_client_behaviour():
    async def scenario(core: Core, sut):
        _, msg = await send_via_upper_tester(core, sut, {"to": BOB, "text": "hi"})
        assert msg.header("User-Agent") is None
        resp = await deliver_to_client(core, sut, cpim_body(to_uri=CAROL))
        assert resp.status == 200 and resp.header("Server") is None

    run(scenario, faults=["client.no-user-agent", "client.no-server-header"])


def test_pager_threshold_counts_the_cpim_wrapper():
    async def scenario(core: Core, sut):
        # 1000 characters: the inner Content-Length has as many digits as at the boundary
        _, msg = await send_via_upper_tester(core, sut, {"to": BOB, "text": "x" * 1000})
        overhead = len(msg.body) - 1000
        _, msg = await send_via_upper_tester(
            core, sut, {"to": BOB, "text": "x" * (1300 - overhead)}
        )
        assert len(msg.body) == 1300
        # one byte more: large message mode, an INVITE (TS 7.2.1.2), here turned down
        call = asyncio.create_task(
            http(sut, "POST", "/send", {"to": BOB, "text": "x" * (1301 - overhead)})
        )
        item = await core.request(lambda m: m.method == "INVITE")
        await core.answer(item, 486, reason="Busy Here")
        ack = await core.request(lambda m: m.method == "ACK")
        assert ack.message.call_id == item.message.call_id
        status, result = await call
        assert status == 200 and result["status"] == 486

    run(scenario)


def test_client_over_tcp():
    async def scenario(core: Core, sut):
        result, msg = await send_via_upper_tester(core, sut, {"to": BOB, "text": "tcp"})
        assert result["status"] == 200
        assert msg.header("Via").startswith("SIP/2.0/TCP ")
        resp = await deliver_to_client(core, sut, cpim_body(to_uri=CAROL))
        assert resp.status == 200

    run(scenario, transport="tcp")
