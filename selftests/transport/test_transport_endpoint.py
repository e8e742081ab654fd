"""Self-tests for cpmconf.transport: real sockets on loopback, ephemeral ports only."""

from __future__ import annotations

import asyncio
import time

import pytest

from cpmconf.transport import Inbound, SipEndpoint, TransportError, TransportTimeout

BOUND = 5.0  # hard cap per test so a transport bug fails instead of hanging


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, BOUND))


def sip(method: str = "MESSAGE", body: bytes = b"hello", call_id: str = "c1") -> bytes:
    head = (
        f"{method} sip:bob@127.0.0.1 SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-1\r\n"
        "Max-Forwards: 70\r\n"
        "From: <sip:alice@127.0.0.1>;tag=a1\r\n"
        "To: <sip:bob@127.0.0.1>\r\n"
        f"Call-ID: {call_id}\r\n"
        f"CSeq: 1 {method}\r\n"
        "Content-Type: text/plain\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def ok(call_id: str = "c1") -> bytes:
    return (
        "SIP/2.0 200 OK\r\n"
        "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-1\r\n"
        "From: <sip:alice@127.0.0.1>;tag=a1\r\n"
        "To: <sip:bob@127.0.0.1>;tag=b1\r\n"
        f"Call-ID: {call_id}\r\n"
        "CSeq: 1 MESSAGE\r\n"
        "Content-Length: 0\r\n\r\n"
    ).encode()


class Recorder:
    """A Tap that keeps everything it is shown and signals after `expect` receptions."""

    def __init__(self, expect: int = 0) -> None:
        self.sent: list[tuple] = []
        self.received: list[tuple] = []
        self.expect = expect
        self.done = asyncio.Event()

    def on_sent(self, transport, local, remote, raw, now) -> None:
        self.sent.append((transport, local, remote, raw, now))

    def on_received(self, transport, local, remote, raw, now) -> None:
        self.received.append((transport, local, remote, raw, now))
        if len(self.received) >= self.expect:
            self.done.set()


def test_udp_and_tcp_share_one_port():
    async def main():
        async with SipEndpoint() as ep:
            assert ep.host == "127.0.0.1" and ep.port > 0
            tcp_ports = {s.getsockname()[1] for s in ep._servers[0].sockets}
            assert tcp_ports == {ep.port}

    run(main())


def test_udp_round_trip():
    async def main():
        async with SipEndpoint() as a, SipEndpoint() as b:
            await a.send(sip(), b.address, "udp")
            got = await b.receive(timeout=2)
            assert got.transport == "udp" and got.error is None
            assert got.raw == sip() and got.remote == a.address and got.local == b.address
            assert got.message.method == "MESSAGE" and got.message.body == b"hello"
            await b.send(ok(), got.remote, "udp")
            reply = await a.receive(timeout=2)
            assert reply.message.status == 200 and reply.remote == b.address

    run(main())


def test_tcp_round_trip_reuses_the_connection():
    async def main():
        async with SipEndpoint() as a, SipEndpoint() as b:
            await a.send(sip(call_id="x"), b.address, "tcp")
            got = await b.receive(timeout=2)
            assert got.transport == "tcp" and got.message.call_id == "x"
            assert got.remote != a.address  # a connected from an ephemeral port
            # b answers to the connection's far end: must travel back over a's connection.
            await b.send(ok("x"), got.remote, "tcp")
            reply = await a.receive(timeout=2)
            assert reply.message.status == 200
            assert reply.remote == b.address and reply.local == got.remote
            # A second request from a rides the same connection too.
            await a.send(sip(call_id="y"), b.address, "tcp")
            again = await b.receive(timeout=2)
            assert again.remote == got.remote
            assert len(a.connections) == 1 and len(b.connections) == 1

    run(main())


def test_tcp_split_message_and_several_in_one_write():
    async def main():
        async with SipEndpoint() as ep:
            reader, writer = await asyncio.open_connection(*ep.address)
            msg = sip(body=b"split body")
            writer.write(msg[:40])
            await writer.drain()
            # Half a message must not be delivered; this bounded wait also lets the loop read it.
            with pytest.raises(TransportTimeout):
                await ep.receive(timeout=0.1)
            writer.write(msg[40:])
            await writer.drain()
            got = await ep.receive(timeout=2)
            assert got.raw == msg and got.message.body == b"split body"

            batch = [sip(call_id=f"b{i}", body=b"x" * i) for i in range(3)]
            writer.write(b"\r\n\r\n".join(batch))  # CRLF keep-alives between messages
            await writer.drain()
            ids = [(await ep.receive(timeout=2)).message.call_id for _ in batch]
            assert ids == ["b0", "b1", "b2"]
            writer.close()

    run(main())


def test_tcp_garbage_gives_error_and_endpoint_keeps_serving():
    async def main():
        async with SipEndpoint(max_message_size=1024) as ep:
            # A TLS ClientHello-like start on the plain TCP port, then an oversized header.
            for junk in (b"\x16\x03\x01\x02\x00 hello\r\n", sip()[:60] + b"X: " + b"y" * 2000):
                reader, writer = await asyncio.open_connection(*ep.address)
                writer.write(junk)
                await writer.drain()
                bad = await ep.receive(timeout=2)
                assert bad.message is None and bad.error is not None and bad.transport == "tcp"
                assert await asyncio.wait_for(reader.read(), 2) == b""  # endpoint closed it
                writer.close()

            _, writer = await asyncio.open_connection(*ep.address)
            writer.write(sip())
            await writer.drain()
            good = await ep.receive(timeout=2)
            assert good.error is None and good.message.method == "MESSAGE"
            writer.close()

    run(main())


def test_unparseable_message_becomes_inbound_with_error():
    async def main():
        async with SipEndpoint() as a, SipEndpoint() as b:
            await a.send(b"\x00\x01 this is not SIP\r\n\r\n", b.address, "udp")
            bad = await b.receive(timeout=2)
            assert bad.message is None and bad.error is not None
            assert "unparseable" in str(bad)
            await a.send(b"\r\n\r\n", b.address, "udp")  # keep-alive: counted, not queued
            await a.send(sip(), b.address, "udp")
            assert (await b.receive(timeout=2)).message is not None
            assert b.keepalives == 1 and b.drain() == []

    run(main())


def test_receive_timeout_is_quick_and_names_what_was_awaited():
    async def main():
        async with SipEndpoint() as ep:
            start = time.monotonic()
            with pytest.raises(TransportTimeout, match="200 for MESSAGE") as info:
                await ep.receive(timeout=0.2, what="200 for MESSAGE")
            assert time.monotonic() - start < 1.0
            assert isinstance(info.value, TimeoutError)

    run(main())


def test_predicate_leaves_other_messages_in_order():
    async def main():
        async with SipEndpoint() as a, SipEndpoint() as b:
            for cid in ("m1", "m2", "m3"):
                await a.send(sip(call_id=cid), b.address, "tcp")

            def is_m2(item: Inbound) -> bool:
                return item.message is not None and item.message.call_id == "m2"

            assert (await b.receive(is_m2, timeout=2)).message.call_id == "m2"
            assert (await b.receive(timeout=2)).message.call_id == "m1"
            assert (await b.receive(timeout=2)).message.call_id == "m3"
            with pytest.raises(TransportTimeout, match="is_m2"):
                await b.receive(is_m2, timeout=0.1)
            assert b.drain() == []

    run(main())


def test_taps_see_sent_and_received_bytes():
    async def main():
        tap_a, tap_b = Recorder(), Recorder(expect=2)
        async with SipEndpoint(taps=[tap_a]) as a, SipEndpoint(taps=[tap_b]) as b:
            await a.send(sip(call_id="u"), b.address, "udp")
            await a.send(sip(call_id="t"), b.address, "tcp")
            await asyncio.wait_for(tap_b.done.wait(), 2)
            assert [s[0] for s in tap_a.sent] == ["udp", "tcp"]
            assert [r[0] for r in tap_b.received] == ["udp", "tcp"]
            assert tap_a.sent[0][1:4] == (a.address, b.address, sip(call_id="u"))
            assert tap_b.received[0][1:4] == (b.address, a.address, sip(call_id="u"))
            assert tap_b.received[1][3] == sip(call_id="t")
            assert tap_a.sent[1][1] == tap_b.received[1][2]  # same TCP connection end
            assert all(isinstance(r[4], float) for r in tap_a.sent + tap_b.received)

    run(main())


def test_flood_guard_drops_beyond_bound():
    async def main():
        tap = Recorder(expect=20)
        async with SipEndpoint() as a, SipEndpoint(max_queue=5, taps=[tap]) as b:
            for i in range(20):
                await a.send(sip(call_id=f"f{i}"), b.address, "udp")
            await asyncio.wait_for(tap.done.wait(), 2)  # taps see even dropped messages
            kept = b.drain()
            assert [k.message.call_id for k in kept] == [f"f{i}" for i in range(5)]
            assert b.dropped == 15

    run(main())


def test_connect_failure_is_a_bounded_transport_error():
    async def main():
        async with SipEndpoint() as a:
            b = await SipEndpoint().start()
            dead = b.address
            await b.close()
            with pytest.raises(TransportError, match="connect"):
                await a.send(sip(), dead, "tcp")

    run(main())


def test_close_is_idempotent_and_blocks_further_use():
    async def main():
        ep = await SipEndpoint().start()
        await ep.close()
        await ep.close()
        with pytest.raises(TransportError):
            await ep.send(sip(), ("127.0.0.1", 9), "udp")
        with pytest.raises(TransportError):
            await ep.receive(timeout=0.1)
        with pytest.raises(ValueError):
            await SipEndpoint().send(sip(), ("127.0.0.1", 9), "sctp")

    run(main())


@pytest.fixture(scope="module")
def tls_contexts(tmp_path_factory):
    from cpmconf.transport.tls import contexts, make_test_pki

    return contexts(make_test_pki(tmp_path_factory.mktemp("tls")))


def test_tls_round_trip(tls_contexts):
    server_ctx, client_ctx = tls_contexts

    async def main():
        async with SipEndpoint(ssl_client=client_ctx) as a, SipEndpoint(ssl_server=server_ctx) as b:
            assert b.tls_address == b.address  # TLS shares the TCP port
            await a.send(sip(), b.tls_address, "tls")
            got = await b.receive(timeout=2)
            assert got.transport == "tls" and got.message.method == "MESSAGE"
            await b.send(ok(), got.remote, "tls")
            assert (await a.receive(timeout=2)).message.status == 200

    run(main())


def test_peer_closing_mid_message_is_reported_and_close_drops_connections():
    async def main():
        ep = await SipEndpoint().start()
        _, writer = await asyncio.open_connection(*ep.address)
        writer.write(sip()[:30])
        await writer.drain()
        writer.close()
        cut = await ep.receive(timeout=2)
        assert cut.message is None and "incomplete" in str(cut.error)

        reader, writer = await asyncio.open_connection(*ep.address)
        writer.write(sip())
        await writer.drain()
        await ep.receive(timeout=2)  # the connection is now known to the endpoint
        await ep.close()
        assert await asyncio.wait_for(reader.read(), 2) == b""
        writer.close()

    run(main())


def test_close_connection_drops_the_stream():
    """A peer can drop one TCP connection it no longer trusts; others stay open."""

    async def scenario():
        async with SipEndpoint() as a, SipEndpoint() as b:
            await a.send(_OPTIONS_FOR_CLOSE, b.address, "tcp")
            await b.receive(timeout=2.0)
            assert a.close_connection(b.address, "tcp") is True
            assert a.close_connection(b.address, "tcp") is False
            assert not [c for c in a.connections if c[2] == b.address]

    asyncio.run(asyncio.wait_for(scenario(), 5))


_OPTIONS_FOR_CLOSE = (
    b"OPTIONS sip:b@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:1;branch=z9hG4bKc\r\n"
    b"From: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:b@127.0.0.1>\r\nCall-ID: close-1\r\n"
    b"CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
)


def test_msrp_over_tcp_with_the_same_machinery():
    """An MSRP endpoint frames by end-line and queues parsed MSRP messages; no UDP socket."""
    from cpmconf.codec.msrp import build_request
    from cpmconf.transport import MSRP

    async def scenario():
        async with SipEndpoint(protocol=MSRP) as passive, SipEndpoint(protocol=MSRP) as active:
            to = f"msrp://127.0.0.1:{passive.address[1]}/p1;tcp"
            frm = f"msrp://127.0.0.1:{active.address[1]}/a1;tcp"
            bind = build_request("tid00001", "SEND", [to], [frm])  # empty SEND binds the connection
            chunk = build_request(
                "tid00002",
                "SEND",
                [to],
                [frm],
                message_id="msg00001",
                byte_range=(1, 5, 5),
                content_type="text/plain",
                body=b"hello",
            )
            await active.send(bytes(bind) + bytes(chunk), passive.address, "tcp")
            first = await passive.receive(timeout=2.0)
            second = await passive.receive(timeout=2.0)
            assert first.message.transaction_id == "tid00001" and not first.message.body
            assert second.message.body == b"hello"
            assert passive._udp is None

    asyncio.run(asyncio.wait_for(scenario(), 5))
