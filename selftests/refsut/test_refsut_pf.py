"""The refsut PF in pager mode, driven by a fake SIP/IP core over loopback."""

from __future__ import annotations

import asyncio
import email.utils
import time

import pytest

from cpmconf.codec.headers import ContactFeatures, WarningHeader
from cpmconf.codec.sip import SipMessage

from .support import (
    ALICE,
    BOB,
    DAVE,
    ERIN,
    LAPTOP,
    MALLORY,
    PHONE,
    TABLET,
    Core,
    cpim_body,
    message_headers,
    options_barrier,
    run,
)


def msg_call_id(raw: bytes) -> str:
    return SipMessage.parse(raw).call_id


def gruu(instance: str) -> str:
    return f"{BOB};gr={instance[1:-1]}"


async def register(core: Core, sut, instance: str, expires: int = 3600):
    resp = await core.transact(core.register(BOB, instance, expires), sut.pf.address)
    assert resp.status == 200, resp.summary()
    return resp


async def send_message(core: Core, sut, to: str = BOB, body: bytes | None = None, **extra):
    raw = core.build(
        "MESSAGE",
        to,
        headers=message_headers(**extra),
        body=body if body is not None else cpim_body(),
    )
    await core.send(raw, sut.pf.address)
    return raw


# --------------------------------------------------------------------------- registrar


def test_register_answers_pub_gruu_and_expires_zero_removes():
    async def scenario(core: Core, sut):
        resp = await register(core, sut, PHONE)
        contacts = [ContactFeatures.parse(c) for c in resp.header_list("Contact")]
        assert len(contacts) == 1
        assert contacts[0].param("+sip.instance") == PHONE
        assert contacts[0].param("pub-gruu") == gruu(PHONE)
        assert contacts[0].param("expires") == "3600"
        resp = await register(core, sut, PHONE, expires=0)
        assert resp.header_list("Contact") == []
        assert sut.pf.bindings.selected(sut.pf.users["sip:bob@example.net"]) == []

    run(scenario)


# --------------------------------------------------------------------------- delivery


def test_message_fans_out_to_selected_devices_only_with_gruu_and_uid():
    async def scenario(core: Core, sut):
        for inst in (PHONE, TABLET):
            await register(core, sut, inst)
        raw = await send_message(core, sut, Reply_To=f"<{ALICE}>", Expires="300")
        leg = await core.request(lambda m: m.method == "MESSAGE")
        msg = leg.message
        assert msg.request_uri == gruu(PHONE)
        uid = int(msg.header("Message-UID"))
        assert 0 < uid < 2**32
        for name in ("Conversation-ID", "Contribution-ID", "Reply-To", "Expires", "Content-Type"):
            assert msg.header(name) is not None, name
        assert msg.header("Accept-Contact").endswith('cpm.msg"')
        assert msg.body == cpim_body()
        assert msg.call_id != msg_call_id(raw)
        await core.answer(leg, headers=[("Conversation-ID", "conv-1")])
        ok = await core.response(msg_call_id(raw))
        assert ok.status == 200
        assert ok.header("Message-UID") == str(uid)
        assert ok.header("Server") == "CPM-serv/OMA2.0"
        assert ok.header("Conversation-ID") == "conv-1"
        assert ok.header("Contribution-ID") == "contrib-1"
        # the unselected tablet got nothing
        assert core.pending_requests() == []
        stored = sut.store.get(uid)
        assert stored is not None and stored.raw == raw

    run(scenario)


def test_first_2xx_forwarded_once_later_finals_absorbed():
    async def scenario(core: Core, sut):
        for inst in (PHONE, LAPTOP):
            await register(core, sut, inst)
        raw = await send_message(core, sut)
        first = await core.request(lambda m: m.method == "MESSAGE")
        second = await core.request(lambda m: m.method == "MESSAGE")
        assert {first.message.request_uri, second.message.request_uri} == {
            gruu(PHONE),
            gruu(LAPTOP),
        }
        await core.answer(first)
        ok = await core.response(msg_call_id(raw))
        assert ok.status == 200
        await core.answer(second)
        await options_barrier(core, sut.pf.address)
        late = [i for i in core.ep.drain() if i.message and i.message.call_id == ok.call_id]
        assert late == []

    run(scenario)


def test_forward_second_2xx_fault_passes_both():
    async def scenario(core: Core, sut):
        for inst in (PHONE, LAPTOP):
            await register(core, sut, inst)
        raw = await send_message(core, sut)
        legs = [await core.request(lambda m: m.method == "MESSAGE") for _ in range(2)]
        for leg in legs:
            await core.answer(leg)
        cid = msg_call_id(raw)
        assert (await core.response(cid)).status == 200
        assert (await core.response(cid)).status == 200

    run(scenario, faults=["pf.forward-second-2xx"])


def test_all_legs_failing_answers_lowest_error_and_no_device_480():
    async def scenario(core: Core, sut):
        raw = await send_message(core, sut)
        assert (await core.response(msg_call_id(raw))).status == 480
        for inst in (PHONE, LAPTOP):
            await register(core, sut, inst)
        raw = await send_message(core, sut)
        legs = [await core.request(lambda m: m.method == "MESSAGE") for _ in range(2)]
        await core.answer(legs[0], 486, reason="Busy Here")
        await core.answer(legs[1], 404, reason="Not Found")
        assert (await core.response(msg_call_id(raw))).status == 404

    run(scenario)


def test_unanswered_legs_time_out_with_480():
    async def scenario(core: Core, sut):
        await register(core, sut, PHONE)
        raw = await send_message(core, sut)
        await core.request(lambda m: m.method == "MESSAGE")
        assert (await core.response(msg_call_id(raw), timeout=3.0)).status == 480

    run(scenario, leg_timeout=0.6)


# --------------------------------------------------------------------------- policies


def test_blocked_originator_gets_403_with_oma_warning_122():
    async def scenario(core: Core, sut):
        await register(core, sut, PHONE)
        raw = await send_message(core, sut, P_Asserted_Identity=f"<{MALLORY}>")
        resp = await core.response(msg_call_id(raw))
        assert resp.status == 403
        warning = WarningHeader.parse(resp.header("Warning"))
        entry = warning.find_oma(122)
        assert entry is not None and entry.oma_text() == "Function not allowed"
        await options_barrier(core, sut.pf.address)
        assert core.pending_requests() == []

    run(scenario)


def test_403_no_warning_fault_drops_the_warning():
    async def scenario(core: Core, sut):
        raw = await send_message(core, sut, P_Asserted_Identity=f"<{MALLORY}>")
        resp = await core.response(msg_call_id(raw))
        assert resp.status == 403 and resp.header("Warning") is None

    run(scenario, faults=["pf.403-no-warning"])


def test_disallowed_inner_content_type_gets_415_with_accept():
    async def scenario(core: Core, sut):
        await register(core, sut, PHONE)
        raw = await send_message(core, sut, body=cpim_body("x", "image/png"))
        resp = await core.response(msg_call_id(raw))
        assert resp.status == 415
        accepted = [a.strip() for a in resp.header("Accept").split(",")]
        assert accepted == ["message/cpim", "text/plain", "message/imdn+xml"]

    run(scenario)


def test_expired_message_is_refused_and_never_delivered():
    async def scenario(core: Core, sut):
        await register(core, sut, PHONE)
        date = email.utils.formatdate(time.time() - 3600, usegmt=True)
        raw = await send_message(core, sut, Date=date, Expires="60")
        resp = await core.response(msg_call_id(raw))
        assert resp.status == 403
        assert WarningHeader.parse(resp.header("Warning")).values[0].text == "Message expired"
        await options_barrier(core, sut.pf.address)
        assert core.pending_requests() == []

    run(scenario)


@pytest.mark.parametrize(
    ("user", "faults", "status", "uid"),
    [(DAVE, [], 202, False), (DAVE, ["pf.no-202-on-defer"], 200, False), (ERIN, [], 200, True)],
)
def test_defer_and_store_preferences(user, faults, status, uid):
    async def scenario(core: Core, sut):
        raw = await send_message(core, sut, to=user)
        resp = await core.response(msg_call_id(raw))
        assert resp.status == status
        assert (resp.header("Message-UID") is not None) is uid
        state = "deferred" if user == DAVE else "stored"
        assert [m.raw for m in sut.store.by_state(user, state)] == [raw]

    run(scenario, faults=faults)


def test_no_uid_in_200_fault():
    async def scenario(core: Core, sut):
        raw = await send_message(core, sut, to=ERIN)
        resp = await core.response(msg_call_id(raw))
        assert resp.status == 200 and resp.header("Message-UID") is None

    run(scenario, faults=["pf.no-uid-in-200"])


# --------------------------------------------------------------------------- robustness


def test_udp_retransmission_gets_same_answer_and_is_processed_once():
    async def scenario(core: Core, sut):
        raw = await send_message(core, sut, to=ERIN)
        first = await core.response(msg_call_id(raw))
        await core.send(raw, sut.pf.address)
        again = await core.response(msg_call_id(raw))
        assert again.raw == first.raw
        assert len(sut.store.by_state(ERIN, "stored")) == 1

    run(scenario)


def test_unknown_user_garbage_and_unknown_method():
    async def scenario(core: Core, sut):
        raw = await send_message(core, sut, to="sip:nobody@example.net")
        assert (await core.response(msg_call_id(raw))).status == 404
        await core.send(b"this is not SIP\r\n\r\n", sut.pf.address)
        raw = core.build("PUBLISH", BOB)
        resp = await core.transact(raw, sut.pf.address)
        assert resp.status == 405 and "MESSAGE" in resp.header("Allow")
        opts = await core.transact(core.build("OPTIONS", "sip:example.net"), sut.pf.address)
        assert opts.status == 200 and "message/cpim" in opts.header("Accept")

    run(scenario)


def test_pager_delivery_over_tcp():
    async def scenario(core: Core, sut):
        await register(core, sut, PHONE)
        raw = await send_message(core, sut)
        leg = await core.request(lambda m: m.method == "MESSAGE")
        assert leg.transport == "tcp" and leg.message.request_uri == gruu(PHONE)
        assert leg.message.header("Via").startswith("SIP/2.0/TCP ")
        await core.answer(leg)
        assert (await core.response(msg_call_id(raw))).status == 200

    run(scenario, transport="tcp")


@pytest.mark.parametrize(
    "garbage",
    [
        b"this is not SIP at all\r\n\r\n",  # the stream framing breaks
        b"MESSAGE sip:bob@example.net SIP/2.0\r\nContent-Length: 0\r\n\r\n",  # no Call-ID/CSeq
    ],
)
def test_tcp_connection_with_garbage_is_closed_and_pf_survives(garbage):
    async def scenario(core: Core, sut):
        reader, writer = await asyncio.open_connection(*sut.pf.address)
        try:
            writer.write(garbage)
            await writer.drain()
            assert await asyncio.wait_for(reader.read(), 3.0) == b""  # closed by the PF
        finally:
            writer.close()
        await options_barrier(core, sut.pf.address)

    run(scenario, transport="tcp")
