"""Self-tests for cpmconf.transport.tls and TLS in the endpoint: the run's test certificates,
TLS and TCP on one port, the key log, and a bad certificate file said in one line."""

from __future__ import annotations

import asyncio

import pytest

from cpmconf.transport import MSRP, SipEndpoint, TransportError
from cpmconf.transport.tls import (
    TlsConfigError,
    client_context,
    contexts,
    kept_pki,
    make_test_pki,
    server_context,
)

BOUND = 5.0


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, BOUND))


def sip(method: str = "MESSAGE", call_id: str = "c1") -> bytes:
    return (
        f"{method} sip:bob@127.0.0.1 SIP/2.0\r\n"
        "Via: SIP/2.0/TLS 127.0.0.1:5061;branch=z9hG4bK-1\r\n"
        "Max-Forwards: 70\r\n"
        "From: <sip:alice@127.0.0.1>;tag=a1\r\n"
        "To: <sip:bob@127.0.0.1>\r\n"
        f"Call-ID: {call_id}\r\n"
        f"CSeq: 1 {method}\r\n"
        "Content-Length: 0\r\n\r\n"
    ).encode()


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_test_pki(tmp_path_factory.mktemp("pki"))


def test_tls_tcp_and_udp_share_one_port_and_every_tls_connection_is_key_logged(pki):
    server_ctx, client_ctx = contexts(pki)

    async def main():
        async with (
            SipEndpoint(ssl_server=server_ctx) as b,
            SipEndpoint(ssl_client=client_ctx) as a,
        ):
            for transport, call_id in (("tls", "t1"), ("tcp", "t2"), ("udp", "t3")):
                await a.send(sip(call_id=call_id), b.address, transport)
                got = await b.receive(lambda i, c=call_id: i.message.call_id == c, 2)
                assert got.transport == transport and got.message.method == "MESSAGE"
                if transport != "udp":
                    # the answer goes back on the connection the request came on
                    await b.send(sip("OPTIONS", call_id + "r"), got.remote, transport)
                    back = await a.receive(lambda i, c=call_id + "r": i.message.call_id == c, 2)
                    assert back.transport == transport

    run(main())
    text = pki.keylog.read_text()
    # TLS 1.3 secrets, one set per connection: what tshark needs to decrypt
    assert "CLIENT_HANDSHAKE_TRAFFIC_SECRET" in text and "CLIENT_TRAFFIC_SECRET_0" in text


def test_msrp_over_tls_on_the_msrp_port(pki):
    server_ctx, client_ctx = contexts(pki)
    send = (
        b"MSRP a1b2c3d4 SEND\r\nTo-Path: msrps://127.0.0.1:9/s1;tcp\r\n"
        b"From-Path: msrps://127.0.0.1:8/s2;tcp\r\nMessage-ID: m1\r\nByte-Range: 1-0/0\r\n"
        b"-------a1b2c3d4$\r\n"
    )

    async def main():
        async with (
            SipEndpoint(ssl_server=server_ctx, protocol=MSRP) as b,
            SipEndpoint(ssl_client=client_ctx, protocol=MSRP) as a,
        ):
            await a.send(send, b.address, "tls")
            got = await b.receive(timeout=2)
            assert got.transport == "tls" and got.message.method == "SEND"

    run(main())


def test_a_peer_that_does_not_trust_our_certificate_fails_its_send_and_the_listener_lives(
    pki, tmp_path
):
    other = make_test_pki(tmp_path / "other")
    server_ctx, _ = contexts(pki)
    stranger = client_context(other.ca)  # trusts another CA
    _, trusting = contexts(pki)

    async def main():
        async with (
            SipEndpoint(ssl_server=server_ctx) as b,
            SipEndpoint(ssl_client=stranger) as a,
            SipEndpoint(ssl_client=trusting) as c,
        ):
            with pytest.raises(TransportError, match="tls connect"):
                await a.send(sip(), b.address, "tls")
            await c.send(sip(call_id="after"), b.address, "tls")
            assert (await b.receive(timeout=2)).message.call_id == "after"

    run(main())


def test_a_bad_certificate_config_is_one_line_naming_the_file(pki, tmp_path):
    with pytest.raises(TlsConfigError) as missing:
        server_context(tmp_path / "nope.pem", pki.key)
    assert str(missing.value) == f"TLS certificate file {tmp_path / 'nope.pem'}: not found"
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate\n")
    with pytest.raises(TlsConfigError) as bad:
        server_context(garbage, pki.key)
    assert "\n" not in str(bad.value) and str(garbage) in str(bad.value)
    with pytest.raises(TlsConfigError) as bad_ca:
        client_context(garbage)
    assert "\n" not in str(bad_ca.value) and str(garbage) in str(bad_ca.value)


def test_a_kept_ca_is_made_once_and_reused_and_a_suts_own_ca_can_be_trusted(tmp_path):
    first, made = kept_pki(tmp_path / "lab", tmp_path / "run1" / "keylog.txt")
    again, made_again = kept_pki(tmp_path / "lab", tmp_path / "run2" / "keylog.txt")
    assert made and not made_again and again.ca.read_bytes() == first.ca.read_bytes()
    assert again.keylog == tmp_path / "run2" / "keylog.txt" and again.keylog.exists()
    assert not (tmp_path / "lab" / "keylog.txt").exists()  # each run keeps its own key log
    sut = make_test_pki(tmp_path / "sut")  # an external SUT's own CA and certificate
    sut_server, _ = contexts(sut)
    _, ours = contexts(first, extra_ca=sut.ca)

    async def main():
        async with SipEndpoint(ssl_server=sut_server) as b, SipEndpoint(ssl_client=ours) as a:
            await a.send(sip(), b.address, "tls")
            assert (await b.receive(timeout=2)).transport == "tls"

    run(main())

