"""Durability of the reference PF's deferred queue: SIGKILL, restart, nothing lost or doubled.

The PF runs as its own process on a store file. The test plays the SIP/IP core, the
interworking function and the deferring user's device: it queues 1,000 messages (each gets
202 and a notification, whose Message-URI-ID it keeps), kills the PF with SIGKILL while idle,
restarts it on the same store and checks that a subscription lists the same 1,000
Message-URI-IDs; then it asks for every message, kills the PF again the moment a delivery
arrives part-way through (that delivery is never answered), restarts it and asks again.

Every message must be accepted by the device exactly once (by Contribution-ID): none lost,
none that the device had already acknowledged delivered again. The delivery cut by the kill
was never acknowledged, so its second sending after the restart is the one that counts. The
time taken is printed. Every wait is bounded; nothing sleeps.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import signal
import sys
import time

from cpmconf.codec.deferred_messages import DeferredList
from cpmconf.codec.sip import SipMessage, build_message
from cpmconf.transport import Inbound, SipEndpoint

COUNT = 1000
KILL_AT = 400  # the delivery during which the PF is killed
FRANK = "sip:frank@example.net"
ALICE = "sip:alice@example.net"
MGMT = "sip:CPMDeferredMsgMgmt@example.net"
IWF = "sip:iwf@example.net"
READY_BOUND = 20.0
WAIT = 10.0  # one step (a response, the next delivery)
OVERALL = 240.0
PARALLEL = 20  # MESSAGEs in flight while queueing


def _config(store, proxy) -> dict:
    return {
        "pf": {
            "listen": "127.0.0.1:0",
            "transport": "tcp",  # a 1,000-entry NOTIFY does not fit a datagram
            "domain": "example.net",
            "outbound_proxy": f"{proxy[0]}:{proxy[1]}",
            "store": str(store),
            "users": [{"uri": FRANK, "preference": "defer", "deferred": "pull"}],
            "deferred_management": MGMT,
            "iwf": IWF,
        },
        "faults": [],
    }


class Pf:
    """One refsut process: started, its address read from the ready line, killed."""

    def __init__(self, config_path) -> None:
        self.config_path = config_path
        self.proc: asyncio.subprocess.Process | None = None
        self.address: tuple[str, int] | None = None

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "refsut",
            "--config",
            str(self.config_path),
            "--log-level",
            "WARNING",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        async with asyncio.timeout(READY_BOUND):
            line = await self.proc.stdout.readline()
        ready = json.loads(line)
        host, _, port = ready["pf"].rpartition(":")
        self.address = (host, int(port))

    async def kill(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGKILL)
            async with asyncio.timeout(WAIT):
                await self.proc.wait()


class Core:
    """The test system: sends requests to the PF and answers what the PF sends."""

    def __init__(self, ep: SipEndpoint) -> None:
        self.ep = ep
        self.host, self.port = ep.address

    def request(self, method: str, ruri: str, headers=(), body: bytes = b"") -> bytes:
        lines = [
            ("Via", f"SIP/2.0/TCP {self.host}:{self.port};branch=z9hG4bK{secrets.token_hex(8)}"),
            ("Max-Forwards", "70"),
            ("From", f"<{FRANK if method != 'MESSAGE' else ALICE}>;tag={secrets.token_hex(4)}"),
            ("To", f"<{ruri if method == 'MESSAGE' else FRANK}>"),
            ("Call-ID", secrets.token_hex(10)),
            ("CSeq", f"1 {method}"),
            *headers,
        ]
        return build_message(f"{method} {ruri} SIP/2.0", lines, body)

    async def transact(self, raw: bytes, to) -> SipMessage:
        call_id = SipMessage.parse(raw).call_id
        await self.ep.send(raw, to, "tcp")
        item = await self.ep.receive(
            lambda i: (
                i.message is not None
                and not i.message.is_request
                and i.message.call_id == call_id
                and (i.message.status or 0) >= 200
            ),
            WAIT,
            what=f"final response to {raw.split(b' ', 1)[0].decode()}",
        )
        return item.message

    async def answer(self, item: Inbound, status: int = 200) -> None:
        req = item.message
        lines = [(n, v) for n, v in req.headers if n.lower() in ("via", "v")]
        lines += [
            ("From", req.header("From") or ""),
            ("To", (req.header("To") or "") + f";tag={secrets.token_hex(4)}"),
            ("Call-ID", req.call_id),
            ("CSeq", req.header("CSeq") or ""),
        ]
        await self.ep.send(build_message(f"SIP/2.0 {status} OK", lines), item.remote, "tcp")

    async def next_request(self, method: str, what: str) -> Inbound:
        return await self.ep.receive(
            lambda i: i.message is not None and i.message.is_request and i.message.method == method,
            WAIT,
            what=what,
        )


def _message_body(i: int) -> bytes:
    return (
        f"From: <{ALICE}>\r\nTo: <{FRANK}>\r\nDateTime: 2026-01-01T00:00:00Z\r\n\r\n"
        f"Content-Type: text/plain\r\n\r\nmessage {i}"
    ).encode()


async def _queue(core: Core, pf: Pf) -> set[str]:
    """Queue COUNT messages; the Message-URI-IDs their notifications named."""
    ids: set[str] = set()
    limit = asyncio.Semaphore(PARALLEL)

    async def one(i: int) -> None:
        async with limit:
            raw = core.request(
                "MESSAGE",
                FRANK,
                [("Contribution-ID", f"m{i}"), ("Content-Type", "message/cpim")],
                _message_body(i),
            )
            final = await core.transact(raw, pf.address)
            assert final.status == 202, f"message {i}: {final.status}"

    async def notifications() -> None:
        while len(ids) < COUNT:
            item = await core.next_request("MESSAGE", "a deferral notification")
            await core.answer(item)
            ids.update(DeferredList.parse(item.message.body).ids())

    watcher = asyncio.ensure_future(notifications())
    try:
        await asyncio.gather(*(one(i) for i in range(COUNT)))
        async with asyncio.timeout(WAIT * 3):
            await watcher
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
    return ids


async def _listed(core: Core, pf: Pf) -> list[str]:
    raw = core.request(
        "SUBSCRIBE",
        MGMT,
        [
            ("P-Asserted-Identity", f"<{FRANK}>"),
            ("Contact", f"<sip:frank-phone@{core.host}:{core.port}>"),
            ("Event", "deferred-messages"),
            ("Expires", "0"),
        ],
    )
    final = await core.transact(raw, pf.address)
    assert final.status == 200
    item = await core.next_request("NOTIFY", "the NOTIFY with the list")
    await core.answer(item)
    return DeferredList.parse(item.message.body).ids()


async def _handle_all(core: Core, pf: Pf) -> None:
    """A handling INVITE without a list (every message), its ACK and BYE."""
    sdp = (
        f"v=0\r\no=- 1 1 IN IP4 {core.host}\r\ns=-\r\nc=IN IP4 {core.host}\r\nt=0 0\r\n"
        f"m=message 9 TCP/MSRP *\r\na=accept-types:message/cpim\r\n"
        f"a=path:msrp://{core.host}:9/dur;tcp\r\na=recvonly\r\na=setup:active\r\n"
    ).encode()
    raw = core.request(
        "INVITE",
        MGMT,
        [
            ("P-Asserted-Identity", f"<{FRANK}>"),
            ("Contact", f"<sip:frank-phone@{core.host}:{core.port}>"),
            ("Content-Type", "application/sdp"),
        ],
        sdp,
    )
    invite = SipMessage.parse(raw)
    final = await core.transact(raw, pf.address)
    assert final.status == 200, f"handling INVITE: {final.status}"
    for method, cseq in (("ACK", 1), ("BYE", 2)):
        lines = [
            ("Via", f"SIP/2.0/TCP {core.host}:{core.port};branch=z9hG4bK{secrets.token_hex(8)}"),
            ("Max-Forwards", "70"),
            ("From", invite.header("From")),
            ("To", final.header("To")),
            ("Call-ID", invite.call_id),
            ("CSeq", f"{cseq} {method}"),
        ]
        msg = build_message(f"{method} {MGMT} SIP/2.0", lines)
        if method == "ACK":
            await core.ep.send(msg, pf.address, "tcp")
        else:
            bye = await core.transact(msg, pf.address)
            assert bye.status == 200


async def _scenario(tmp_path) -> dict:
    ep = await SipEndpoint("127.0.0.1", 0).start()
    core = Core(ep)
    cfg = tmp_path / "refsut.json"
    cfg.write_text(json.dumps(_config(tmp_path / "store.sqlite", ep.address)))
    pf = Pf(cfg)
    accepted: dict[str, int] = {}  # Contribution-ID -> times the device acknowledged it
    wire = 0
    try:
        started = time.monotonic()
        await pf.start()
        notified = await _queue(core, pf)
        queued_at = time.monotonic()

        await pf.kill()  # idle, everything queued
        await pf.start()
        listed = await _listed(core, pf)

        await _handle_all(core, pf)
        while sum(accepted.values()) < KILL_AT - 1:
            item = await core.next_request("MESSAGE", "a delivery")
            wire += 1
            await core.answer(item)
            cid = item.message.header("Contribution-ID")
            accepted[cid] = accepted.get(cid, 0) + 1
        await core.next_request("MESSAGE", "the delivery cut by the kill")
        wire += 1
        await pf.kill()  # mid-delivery: this one is never answered
        ep.drain()  # retransmissions of the cut delivery from the dead process
        await pf.start()
        await _handle_all(core, pf)
        while len(accepted) < COUNT:
            item = await core.next_request("MESSAGE", "a delivery after the restart")
            wire += 1
            await core.answer(item)
            cid = item.message.header("Contribution-ID")
            accepted[cid] = accepted.get(cid, 0) + 1
        # Anything more within a short bound would be a second delivery.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(1.0):
                while True:
                    item = await core.next_request("MESSAGE", "an extra delivery")
                    wire += 1
                    await core.answer(item)
                    cid = item.message.header("Contribution-ID")
                    accepted[cid] = accepted.get(cid, 0) + 1
        left = await _listed(core, pf)
        return {
            "notified": notified,
            "listed": listed,
            "accepted": accepted,
            "wire": wire,
            "left": left,
            "queue_s": queued_at - started,
            "total_s": time.monotonic() - started,
        }
    finally:
        await pf.kill()
        await ep.close()


def test_deferred_queue_survives_sigkill_during_delivery(tmp_path):
    async def bounded():
        async with asyncio.timeout(OVERALL):
            return await _scenario(tmp_path)

    r = asyncio.run(bounded())
    accepted = r["accepted"]
    lost = [f"m{i}" for i in range(COUNT) if f"m{i}" not in accepted]
    doubled = sorted(c for c, n in accepted.items() if n > 1)
    print(
        f"\ndurability: {COUNT} queued in {r['queue_s']:.1f} s; 2 SIGKILLs; "
        f"{len(accepted)} delivered, {len(lost)} lost, {len(doubled)} duplicated "
        f"({r['wire']} MESSAGEs on the wire, one cut by the kill); total {r['total_s']:.1f} s"
    )
    assert len(r["notified"]) == COUNT
    assert sorted(r["listed"]) == sorted(r["notified"]), "Message-URI-IDs changed over a restart"
    assert not lost, f"{len(lost)} lost, e.g. {lost[:5]}"
    assert not doubled, f"{len(doubled)} delivered twice, e.g. {doubled[:5]}"
    assert r["left"] == []
