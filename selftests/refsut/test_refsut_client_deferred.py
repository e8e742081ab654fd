"""The refsut client's deferred-message side: NOTIFY body reading, the /deferred endpoints'
argument checks, and one subscribe-notify-handle round against a fake core."""

from __future__ import annotations

import asyncio

import pytest

from cpmconf.codec.deferred_messages import CONTENT_TYPE, DeferredList, DeferredMessage
from cpmconf.codec.errors import CodecError
from cpmconf.codec.resource_lists import ResourceList
from refsut.bodies import body_part
from refsut.client_deferred import DeferredError, DeferredHandling, message_uri_ids

from .support import CAROL, Core, http, run

MGMT = "sip:CPMDeferredMsgMgmt@example.net"


def test_ids_from_our_document_and_from_a_foreign_one():
    ours = DeferredList.build(CAROL, [DeferredMessage(f"{MGMT};id=a"), DeferredMessage("x:b")])
    assert message_uri_ids(bytes(ours)) == [f"{MGMT};id=a", "x:b"]
    foreign = (
        b'<l xmlns="urn:other"><m Message-URI-ID="sip:q@h"/>'
        b"<message-uri-id> sip:r@h </message-uri-id></l>"
    )
    assert message_uri_ids(foreign) == ["sip:q@h", "sip:r@h"]
    assert message_uri_ids(b"  ") == []
    with pytest.raises(CodecError):
        message_uri_ids(b"<not-closed>")


@pytest.mark.parametrize(
    "args",
    [
        [],
        {"actions": []},
        {"actions": [{"uri": "sip:a@b"}]},
        {"actions": [{"uri": "tel:123", "action": "deliver"}]},
        {"actions": [{"uri": "sip:a@b", "action": "forward"}]},
        {"other": 1},
    ],
)
def test_bad_handle_arguments_are_refused(args):
    with pytest.raises(DeferredError) as info:
        DeferredHandling.parse_actions(None, args)  # type: ignore[arg-type]
    assert info.value.status == 400


def test_subscribe_notify_and_handle_a_mixed_list():
    async def scenario(core: Core, sut):
        call = asyncio.create_task(http(sut, "POST", "/deferred/subscribe", {}))
        item = await core.request(lambda m: m.method == "SUBSCRIBE")
        sub = item.message
        assert sub.request_uri == MGMT and sub.header("Expires") == "0"
        assert sub.header("Event") == "deferred-messages"
        await core.answer(item, headers=[("Expires", "0")])
        status, answer = await call
        assert (status, answer) == (200, {"ok": True, "status": 200})

        ids = [f"{MGMT};id=m{i}" for i in range(2)]
        body = bytes(DeferredList.build(CAROL, [DeferredMessage(i) for i in ids]))
        notify = core.build(
            "NOTIFY",
            sub.header("Contact").split(";")[0].strip("<>"),
            headers=[
                ("Event", "deferred-messages"),
                ("Subscription-State", "terminated"),
                ("Content-Type", CONTENT_TYPE),
            ],
            body=body,
        )
        assert (await core.transact(notify, sut.client.address)).status == 200
        assert (await http(sut, "GET", "/deferred"))[1]["message_uri_ids"] == ids

        actions = [{"uri": ids[0], "action": "store"}, {"uri": ids[1], "action": "delete"}]
        call = asyncio.create_task(http(sut, "POST", "/deferred/handle", {"actions": actions}))
        item = await core.request(lambda m: m.method == "INVITE")
        inv = item.message
        listing = body_part(inv.header("Content-Type"), inv.body, "application/resource-lists+xml")
        entries = ResourceList.parse(listing).entries
        assert [(e.base_uri, e.action) for e in entries] == [(ids[0], "store"), (ids[1], "delete")]
        await core.answer(item, 488, [("Warning", '399 pf "125 No messages"')], "Not Acceptable")
        ack = await core.request(lambda m: m.method == "ACK")
        assert ack.message.call_id == inv.call_id
        status, answer = await call
        assert status == 200 and answer["status"] == 488 and answer["no_messages"] is True
        assert not [m for m in core.pending_requests() if m.method == "INVITE"]

    run(scenario)
