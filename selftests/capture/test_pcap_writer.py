"""The window's pcap writer (cpmconf.capture.window.write_frames): the frames' own bytes and
times, in a classic pcap that scapy (and so tshark) reads back unchanged."""

from __future__ import annotations

from scapy.layers.l2 import Ether
from scapy.utils import rdpcap

from cpmconf.capture.window import write_frames


def test_frames_and_times_read_back_unchanged(tmp_path):
    frames = [
        (1700000000.25, bytes(Ether() / b"INVITE sip:a@b SIP/2.0\r\n\r\n")),
        (1700000000.9999999, b"\x00" * 10),  # a runt, and a time that rounds up a second
        (1700000001.5, bytes(Ether() / (b"x" * 60000))),  # a loopback-sized frame
    ]
    path = tmp_path / "w.pcap"
    write_frames(path, frames)
    back = rdpcap(str(path))
    assert [p.original for p in back] == [f for _, f in frames]
    assert [round(float(p.time), 6) for p in back] == [1700000000.25, 1700000001.0, 1700000001.5]


def test_no_frames_is_a_valid_empty_capture(tmp_path):
    path = tmp_path / "empty.pcap"
    write_frames(path, [])
    assert len(rdpcap(str(path))) == 0
