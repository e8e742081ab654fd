"""Self-tests for TLS in the capture: the wire's ciphertext is never framed as SIP or MSRP;
the sniffer's `plaintext_tap` records what our TLS endpoints sent and received, once each,
as records with transport ``tls``, in capture order; and tshark, given the key log, shows
the SIP inside the TLS wire of the pcap."""

from __future__ import annotations

import asyncio
import shutil
import subprocess

import pytest

from cpmconf.capture import CaptureWindow, Sniffer, TcpReassembler, records_from_pcap
from cpmconf.capture.tcp import TLS
from cpmconf.transport import SipEndpoint
from cpmconf.transport.tls import contexts, make_test_pki
from selftests.capture.conftest import needs_capture, sip_message

FLOW = ("127.0.0.1", 40000, "127.0.0.1", 5061)


def test_a_tls_direction_is_ciphertext_and_yields_no_record():
    tcp = TcpReassembler()
    hello = bytes([0x16, 0x03, 0x01, 0x00, 0x05]) + b"\x01\x00\x00\x01\x00"
    events = tcp.feed(FLOW, 1, 0, hello, 1.0)
    events += tcp.feed(FLOW, 1 + len(hello), 0, b"\x17\x03\x03garbage that is no SIP", 1.1)
    events += tcp.finish()
    assert events == [] and tcp.protocol_of(FLOW) == TLS


def test_a_tls_connection_joined_after_its_handshake_is_still_ciphertext():
    # the sniffer watched the port only after the handshake: application data comes first
    tcp = TcpReassembler()
    events = tcp.feed(FLOW, 7, 0, b"\x17", 1.0)  # one byte: not decided yet
    events += tcp.feed(FLOW, 8, 0, b"\x03\x03\x00\x10" + bytes(16), 1.1)
    assert events == [] and tcp.protocol_of(FLOW) == TLS
    sip = TcpReassembler()
    assert sip.feed(FLOW, 1, 0, b"\x17 not tls", 1.0)[0].error  # no version 3: not TLS


@needs_capture
def test_sniffer_records_tls_plaintext_once_and_tshark_decodes_the_wire(tmp_path):
    pki = make_test_pki(tmp_path / "tls")
    server_ctx, client_ctx = contexts(pki)
    messages = [sip_message(n) for n in range(3)]

    async def scenario():
        async with (
            SipEndpoint(ssl_server=server_ctx) as b,
            SipEndpoint(ssl_client=client_ctx) as a,
        ):
            sniffer = Sniffer([b.address[1]])
            sniffer.start(timeout=5)
            plain = sniffer.plaintext_tap()
            a.taps.append(plain)
            b.taps.append(plain)  # both ends ours: each message is still recorded once
            try:
                window = CaptureWindow(sniffer)
                for raw in messages:
                    await a.send(raw, b.address, "tls")
                    await b.receive(lambda i, r=raw: i.raw == r, 2)
                assert (await window.barrier(messages, timeout=5)).complete
            finally:
                sniffer.stop()
            wire = tmp_path / "wire.pcap"
            window.write_pcap(wire)
            sniffer.write_wire_pcap(tmp_path / "run.pcap")  # the whole run's, as stored
            window.write_plaintext_pcap(tmp_path / "plain.pcap")
            return window.records(), wire, b.address[1]

    records, wire, port = asyncio.run(asyncio.wait_for(scenario(), 10))
    assert [(r.transport, r.raw) for r in records] == [("tls", m) for m in messages]
    assert all(r.message is not None and r.flow[3] == port for r in records)
    # the wire pcap holds the TLS ciphertext only: nothing in it frames as SIP
    assert records_from_pcap(str(wire)) == []
    assert records_from_pcap(str(tmp_path / "run.pcap")) == []
    assert [r.raw for r in records_from_pcap(str(tmp_path / "plain.pcap"))] == messages
    if shutil.which("tshark") is None:
        pytest.skip("tshark not installed: the key log decode is not checked")
    out = subprocess.run(
        [
            "tshark",
            "-r",
            str(tmp_path / "run.pcap"),
            "-o",
            f"tls.keylog_file:{pki.keylog}",
            "-d",
            f"tls.port=={port},sip",
            "-Y",
            "sip",
            "-T",
            "fields",
            "-e",
            "sip.Call-ID",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    shown = out.stdout.split()
    assert len(shown) == len(messages), out.stderr
    without_keys = subprocess.run(
        ["tshark", "-r", str(wire), "-d", f"tls.port=={port},sip", "-Y", "sip"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert without_keys.stdout.strip() == ""  # it is the key log that opens the TLS
