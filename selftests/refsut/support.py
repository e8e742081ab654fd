"""Test support for the refsut self-tests: a fake SIP/IP core and a tiny HTTP client.

The harness roles do not exist yet, so the tests play the core with a bare codec+transport
endpoint: it is the refsut's outbound proxy, receives whatever the refsut sends, and sends
requests to it as the core would. Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import copy
import json
import secrets
from collections.abc import Callable
from typing import Any

from cpmconf.codec.sip import SipMessage, build_message
from cpmconf.transport import Inbound, SipEndpoint
from refsut.app import RefSut
from refsut.config import parse_config

WAIT = 3.0
DOMAIN = "example.net"
BOB = "sip:bob@example.net"
DAVE = "sip:dave@example.net"
ERIN = "sip:erin@example.net"
ALICE = "sip:alice@example.net"
MALLORY = "sip:mallory@example.net"
CAROL = "sip:carol@example.net"
PHONE = "<urn:uuid:00000000-0000-4000-8000-000000000001>"
TABLET = "<urn:uuid:00000000-0000-4000-8000-000000000002>"
LAPTOP = "<urn:uuid:00000000-0000-4000-8000-000000000003>"
CAROL_DEV = "<urn:uuid:00000000-0000-4000-8000-0000000000c0>"
CF = "sip:adhoc-factory@example.net"
ICSI_MSG_ENC = "urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.msg"

BASE_CONFIG: dict[str, Any] = {
    "pf": {
        "listen": "127.0.0.1:0",
        "transport": "udp",
        "domain": DOMAIN,
        "server_identity": "sip:cpm-pf@example.net",
        "release": "CPM-serv/OMA2.0",
        "store": ":memory:",
        "recording": ["originating", "terminating"],
        "users": [
            {
                "uri": BOB,
                "preference": "deliver",
                "blocked": [MALLORY],
                "devices": [
                    {"name": "bob-phone", "instance": PHONE, "selected": True},
                    {"name": "bob-tablet", "instance": TABLET, "selected": False},
                    {"name": "bob-laptop", "instance": LAPTOP, "selected": True},
                ],
            },
            {"uri": DAVE, "preference": "defer"},
            {"uri": ERIN, "preference": "store"},
        ],
        "allowed_content_types": ["message/cpim", "text/plain", "message/imdn+xml"],
        "min_client_release": None,
    },
    "client": {
        "listen": "127.0.0.1:0",
        "transport": "udp",
        "user": CAROL,
        "instance": CAROL_DEV,
        "release": "CPM-client/OMA2.0",
        "upper_tester": "127.0.0.1:0",
        "controlling_function": CF,
    },
    "faults": [],
}


def config_dict(proxy: tuple[str, int], *, transport: str = "udp", faults=()) -> dict:
    cfg = copy.deepcopy(BASE_CONFIG)
    for role in ("pf", "client"):
        cfg[role]["outbound_proxy"] = f"{proxy[0]}:{proxy[1]}"
        cfg[role]["transport"] = transport
    cfg["faults"] = list(faults)
    return cfg


class Core:
    """The test's SIP/IP core: one endpoint that the refsut uses as its outbound proxy."""

    def __init__(self, ep: SipEndpoint, transport: str = "udp") -> None:
        self.ep = ep
        self.transport = transport

    @property
    def via_host(self) -> str:
        return f"{self.ep.address[0]}:{self.ep.address[1]}"

    async def send(self, raw: bytes, to: tuple[str, int]) -> None:
        await self.ep.send(raw, to, self.transport)

    async def request(self, predicate: Callable[[SipMessage], bool] | None = None) -> Inbound:
        def match(item: Inbound) -> bool:
            m = item.message
            return m is not None and m.is_request and (predicate is None or predicate(m))

        return await self.ep.receive(match, WAIT, what="request from the refsut")

    async def response(self, call_id: str, timeout: float = WAIT) -> SipMessage:
        def match(item: Inbound) -> bool:
            m = item.message
            return m is not None and not m.is_request and m.call_id == call_id

        item = await self.ep.receive(match, timeout, what=f"response for {call_id}")
        assert item.message is not None
        return item.message

    async def transact(self, raw: bytes, to: tuple[str, int]) -> SipMessage:
        await self.send(raw, to)
        return await self.response(SipMessage.parse(raw).call_id)

    async def answer(self, item: Inbound, status: int = 200, headers=(), reason="OK") -> None:
        req = item.message
        assert req is not None
        lines = [(n, v) for n, v in req.headers if n.lower() in ("via", "v")]
        lines += [
            ("From", req.header("From") or ""),
            ("To", (req.header("To") or "") + f";tag={secrets.token_hex(4)}"),
            ("Call-ID", req.call_id),
            ("CSeq", req.header("CSeq") or ""),
            *headers,
        ]
        await self.ep.send(
            build_message(f"SIP/2.0 {status} {reason}", lines), item.remote, item.transport
        )

    def pending_requests(self) -> list[SipMessage]:
        """Requests already in the inbox (taken out); used after an ordering barrier."""
        return [i.message for i in self.ep.drain() if i.message and i.message.is_request]

    def build(
        self,
        method: str,
        ruri: str,
        *,
        from_uri: str = ALICE,
        to_uri: str | None = None,
        headers=(),
        body: bytes = b"",
        call_id: str | None = None,
    ) -> bytes:
        lines = [
            (
                "Via",
                f"SIP/2.0/{self.transport.upper()} {self.via_host};branch=z9hG4bK"
                + secrets.token_hex(8),
            ),
            ("Max-Forwards", "70"),
            ("From", f"<{from_uri}>;tag={secrets.token_hex(4)}"),
            ("To", f"<{to_uri or ruri}>"),
            ("Call-ID", call_id or secrets.token_hex(8)),
            ("CSeq", f"1 {method}"),
            *headers,
        ]
        return build_message(f"{method} {ruri} SIP/2.0", lines, body)

    def register(self, user: str, instance: str, expires: int = 3600) -> bytes:
        name = user.split(":")[1].split("@")[0]
        contact = (
            f'<sip:{name}@{self.via_host}>;+sip.instance="{instance}"'
            f';+g.3gpp.icsi-ref="{ICSI_MSG_ENC}"'
        )
        return self.build(
            "REGISTER",
            f"sip:{DOMAIN}",
            from_uri=user,
            to_uri=user,
            headers=[("Contact", contact), ("Expires", str(expires)), ("Supported", "gruu")],
        )


def cpim_body(
    text: str = "hello",
    content_type: str = "text/plain",
    *,
    from_uri: str = ALICE,
    to_uri: str = BOB,
    disposition: str | None = None,
) -> bytes:
    lines = [
        f"From: <{from_uri}>",
        f"To: <{to_uri}>",
        "DateTime: 2024-01-01T10:00:00Z",
        "NS: imdn <urn:ietf:params:imdn>",
        "imdn.Message-ID: msg-1",
    ]
    if disposition:
        lines.append(f"imdn.Disposition-Notification: {disposition}")
    content = text.encode()
    head = "\r\n".join(lines) + "\r\n\r\n"
    inner = f"Content-Type: {content_type}\r\nContent-Length: {len(content)}\r\n\r\n"
    return (head + inner).encode() + content


def message_headers(**extra: str) -> list[tuple[str, str]]:
    headers = [
        ("Accept-Contact", f'*;+g.3gpp.icsi-ref="{ICSI_MSG_ENC}"'),
        ("Conversation-ID", "conv-1"),
        ("Contribution-ID", "contrib-1"),
        ("Content-Type", "message/cpim"),
    ]
    headers += [(k.replace("_", "-"), v) for k, v in extra.items()]
    return headers


async def start_stack(transport: str = "udp", faults=(), **timeouts) -> tuple[Core, RefSut]:
    ep = await SipEndpoint().start()
    try:
        cfg = parse_config(config_dict(ep.address, transport=transport, faults=faults))
        sut = await RefSut(cfg, **timeouts).start()
    except BaseException:
        await ep.close()
        raise
    return Core(ep, transport), sut


async def stop_stack(core: Core, sut: RefSut) -> None:
    await sut.close()
    await core.ep.close()


def run(scenario: Callable[..., Any], transport: str = "udp", faults=(), **timeouts) -> None:
    """Run ``scenario(core, sut)`` against a fresh stack inside asyncio.run, bounded."""

    async def main() -> None:
        core, sut = await start_stack(transport, faults, **timeouts)
        try:
            await asyncio.wait_for(scenario(core, sut), 15.0)
        finally:
            await stop_stack(core, sut)

    asyncio.run(main())


async def http(
    sut: RefSut, method: str, path: str, body: Any = None, raw: bytes | None = None
) -> tuple[int, Any]:
    """One HTTP/1.1 request to the upper tester; returns (status, decoded JSON)."""
    assert sut.upper_tester is not None
    host, port = sut.upper_tester.address
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), WAIT)
    try:
        data = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n"
        )
        writer.write(head.encode() + data)
        await writer.drain()
        response = await asyncio.wait_for(reader.read(), 6.0)
    finally:
        writer.close()
    head, _, payload = response.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, json.loads(payload)


async def options_barrier(core: Core, to: tuple[str, int]) -> None:
    """Round trip an OPTIONS: everything the refsut sent before its answer is now queued."""
    resp = await core.transact(core.build("OPTIONS", f"sip:{DOMAIN}"), to)
    assert resp.status == 200
