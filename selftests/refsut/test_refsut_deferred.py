"""The reference PF's deferred-message signalling, in process, against a bare fake core.

Quick checks of what the conformance cases do not reach: the 489 to a SUBSCRIBE for another
event package, the 488 with Warning 125 to a handling INVITE that names nothing, the list a
NOTIFY carries, and the injectable clock expiring a deferred message.
"""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request

from cpmconf.codec.deferred_messages import CONTENT_TYPE, DeferredList, validate
from cpmconf.codec.headers import warnings_of
from cpmconf.transport import SipEndpoint
from refsut.app import RefSut
from refsut.config import parse_config

from .support import Core, config_dict, cpim_body, message_headers

FRANK = "sip:frank@example.net"
MGMT = "sip:CPMDeferredMsgMgmt@example.net"


def run(scenario, control: bool = False) -> None:
    async def main() -> None:
        ep = await SipEndpoint().start()
        cfg = config_dict(ep.address)
        cfg["pf"]["users"].append({"uri": FRANK, "preference": "defer"})
        if control:
            cfg["control"] = "127.0.0.1:0"
        sut = await RefSut(parse_config(cfg)).start()
        try:
            async with asyncio.timeout(15.0):
                await scenario(Core(ep), sut)
        finally:
            await sut.close()
            await ep.close()

    asyncio.run(main())


async def _defer(core: Core, sut: RefSut, headers=()) -> str:
    raw = core.build(
        "MESSAGE", FRANK, headers=[*message_headers(), *headers], body=cpim_body(to_uri=FRANK)
    )
    final = await core.transact(raw, sut.pf.address)
    assert final.status == 202
    item = await core.request(lambda m: m.method == "MESSAGE")
    await core.answer(item)
    assert item.message.request_uri == "sip:iwf@example.net"  # nobody registered
    return DeferredList.parse(item.message.body).ids()[0]


async def _subscribe(core: Core, sut: RefSut, event="deferred-messages"):
    raw = core.build(
        "SUBSCRIBE",
        MGMT,
        from_uri=FRANK,
        to_uri=FRANK,
        headers=[
            ("P-Asserted-Identity", f"<{FRANK}>"),
            ("Contact", f"<sip:frank-phone@{core.via_host}>"),
            ("Event", event),
            ("Expires", "0"),
        ],
    )
    return await core.transact(raw, sut.pf.address)


def test_subscription_to_another_package_is_489():
    async def scenario(core, sut):
        final = await _subscribe(core, sut, event="presence")
        assert final.status == 489 and "deferred-messages" in final.header("Allow-Events")

    run(scenario)


def test_notify_lists_the_deferred_message_in_a_valid_body():
    async def scenario(core, sut):
        uri_id = await _defer(core, sut)
        assert (await _subscribe(core, sut)).status == 200
        item = await core.request(lambda m: m.method == "NOTIFY")
        await core.answer(item)
        notify = item.message
        assert notify.header("Event") == "deferred-messages"
        assert notify.header("Subscription-State").startswith("terminated")
        assert notify.content_type == CONTENT_TYPE and validate(notify.body) == []
        assert uri_id in DeferredList.parse(notify.body).ids()

    run(scenario)


def test_handling_invite_naming_nothing_gets_488_with_warning_125():
    async def scenario(core, sut):
        body = (
            b'<?xml version="1.0"?><resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists">'
            b'<list><entry uri="sip:CPMDeferredMsgMgmt@example.net;id=never?cpm_action=deliver"/>'
            b"</list></resource-lists>"
        )
        raw = core.build(
            "INVITE",
            MGMT,
            from_uri=FRANK,
            headers=[
                ("P-Asserted-Identity", f"<{FRANK}>"),
                ("Contact", f"<sip:frank-phone@{core.via_host}>"),
                ("Content-Type", "application/resource-lists+xml"),
            ],
            body=body,
        )
        final = await core.transact(raw, sut.pf.address)
        assert final.status == 488
        codes = [w.oma_code() for w in warnings_of(final.header_values("Warning"))]
        assert 125 in codes

    run(scenario)


async def _control(sut: RefSut, path: str, body: dict) -> tuple[int, dict]:
    """One call to the control interface, over HTTP as the suite's hooks make it."""

    def call() -> tuple[int, dict]:
        req = urllib.request.Request(
            sut.control.url + path, data=json.dumps(body).encode(), method="POST"
        )
        try:
            with urllib.request.urlopen(req, timeout=5) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    return await asyncio.to_thread(call)


def test_the_control_clock_expires_a_deferred_message():
    async def scenario(core, sut):
        uri_id = await _defer(core, sut, headers=[("Expires", "60")])
        assert uri_id in [r.uri_id for r in sut.pf.deferred.queue.pending(FRANK)]
        assert sut.ready_info()["control"] == sut.control.url
        assert await _control(sut, "/clock", {"advance": 120}) == (
            200,
            {"ok": True, "offset": 120.0},
        )
        assert uri_id not in [r.uri_id for r in sut.pf.deferred.queue.pending(FRANK)]
        assert sut.store.get(int(uri_id.split("id=d")[1].split("x")[0])).state == "deleted"

    run(scenario, control=True)


def test_the_control_reset_forgets_messages_and_the_clock_offset():
    async def scenario(core, sut):
        uri_id = await _defer(core, sut)
        await _control(sut, "/clock", {"advance": 30})
        assert await _control(sut, "/reset", {}) == (200, {"ok": True})
        assert sut.pf.deferred.clock.offset == 0.0
        assert sut.pf.deferred.queue.pending(FRANK) == []
        assert sut.store.get(int(uri_id.split("id=d")[1].split("x")[0])) is None
        status, answer = await _control(sut, "/clock", {"advance": -5})
        assert status == 400 and "advance" in answer["error"]  # never back in time
        status, _ = await _control(sut, "/reset", {"all": True})
        assert status == 400

    run(scenario, control=True)
