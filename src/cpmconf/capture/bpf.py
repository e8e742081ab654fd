"""Kernel packet filter for the sniffer: SIP (and MSRP) ports over UDP/TCP, IPv4 and IPv6.

Why by hand: scapy turns filter strings into BPF code through libpcap, which is
not always installed (it is missing on the reference test host), and without a
kernel filter every packet on the interface would cross into Python. The filter
we need is tiny and fixed in shape, so we assemble classic BPF ourselves:

    not outgoing (loopback only)  and  (ip or ip6)  and  (tcp or udp)
    and  (src port in PORTS  or  dst port in PORTS
          or  (msrp  and  tcp  and  payload starts with "MSRP "))

The last clause (``msrp=True``, used when the sniffer follows MSRP sessions)
catches the first segment of an MSRP connection whose port the sniffer has not
added yet: the port is learnt from SDP in a SIP message, which the capture
thread reads a little after the kernel has already queued the peer's next
packets. Each MSRP message that starts a segment is thereby kept; only the
handshake and continuation segments need the port.

Non-first IPv4 fragments carry no ports and are rejected. IPv6 extension
headers are not walked (loopback traffic does not use them).
"""

from __future__ import annotations

import ctypes
import socket
from collections.abc import Iterable

from scapy.libs.structures import bpf_insn, sock_fprog

from cpmconf.capture.errors import CaptureError

MAX_PORTS = 100
SNAPLEN = 262144

SO_ATTACH_FILTER = 26
SKF_AD_OFF = -0x1000
SKF_AD_PKTTYPE = 4
PACKET_OUTGOING = 4
ETH_P_IP = 0x0800
ETH_P_IPV6 = 0x86DD
IPPROTO_TCP = 6
IPPROTO_UDP = 17

# Classic BPF opcodes (linux/filter.h).
_LD_W_ABS = 0x20
_LD_H_ABS = 0x28
_LD_B_ABS = 0x30
_LD_W_IND = 0x40
_LD_H_IND = 0x48
_LD_B_IND = 0x50
_LD_MEM = 0x60
_ST = 0x02
_LDX_IMM = 0x01
_LDX_B_MSH = 0xB1
_ALU_LSH_K = 0x64
_ALU_RSH_K = 0x74
_ALU_ADD_X = 0x0C
_TAX = 0x07
_JA = 0x05
_JEQ_K = 0x15
_JSET_K = 0x45
_RET_K = 0x06

MSRP_WORD = int.from_bytes(b"MSRP", "big")

_Insn = tuple[int, str | None, str | None, int]


def describe(ports: Iterable[int], msrp: bool = False) -> str:
    """The filter in tcpdump syntax, for logs and reports."""
    plist = sorted(set(ports))
    text = " or ".join(f"port {p}" for p in plist)
    if msrp:
        text += ' or tcp payload starting "MSRP "'
    return "(udp or tcp) and (" + text + ")"


def assemble(
    ports: Iterable[int], drop_outgoing: bool, msrp: bool = False
) -> list[tuple[int, int, int, int]]:
    """Return the program as (code, jt, jf, k) tuples for Ethernet-framed packets.

    With `msrp`, TCP segments whose payload starts with ``MSRP `` pass on any port.
    """
    plist = sorted(set(int(p) for p in ports))
    if not plist:
        raise CaptureError("no ports to watch")
    if len(plist) > MAX_PORTS:
        raise CaptureError(f"too many ports for the capture filter ({len(plist)} > {MAX_PORTS})")
    for p in plist:
        if not 0 < p < 65536:
            raise CaptureError(f"invalid port {p}")

    # Each entry: (code, jt label, jf label, k); label None means "next instruction".
    prog: list[tuple[str | None, _Insn]] = []

    def emit(code: int, k: int = 0, jt: str | None = None, jf: str | None = None, label=None):
        prog.append((label, (code, jt, jf, k)))

    if drop_outgoing:
        emit(_LD_W_ABS, SKF_AD_OFF + SKF_AD_PKTTYPE)
        emit(_JEQ_K, PACKET_OUTGOING, jt="reject")
    emit(_LD_H_ABS, 12)
    emit(_JEQ_K, ETH_P_IP, jt="v4")
    emit(_JEQ_K, ETH_P_IPV6, jt="v6", jf="reject")
    # IPv4: protocol, fragment offset, then X = header length.
    emit(_LD_B_ABS, 23, label="v4")
    emit(_ST, 0)  # M[0] = transport protocol, for the MSRP clause
    emit(_JEQ_K, IPPROTO_TCP, jt="v4ok")
    emit(_JEQ_K, IPPROTO_UDP, jt="v4ok", jf="reject")
    emit(_LD_H_ABS, 20, label="v4ok")
    emit(_JSET_K, 0x1FFF, jt="reject")
    emit(_LDX_B_MSH, 14)
    emit(_JA, 0, jt="ports")
    # IPv6: fixed 40-byte header, next header must be the transport.
    emit(_LD_B_ABS, 20, label="v6")
    emit(_ST, 0)
    emit(_JEQ_K, IPPROTO_TCP, jt="v6ok")
    emit(_JEQ_K, IPPROTO_UDP, jt="v6ok", jf="reject")
    emit(_LDX_IMM, 40, label="v6ok")
    # Shared: X = offset of the transport header after the 14-byte link header.
    emit(_LD_H_IND, 14, label="ports")
    for p in plist:
        emit(_JEQ_K, p, jt="accept")
    emit(_LD_H_IND, 16)
    for p in plist:
        emit(_JEQ_K, p, jt="accept")
    if msrp:
        emit(_LD_MEM, 0)
        emit(_JEQ_K, IPPROTO_TCP, jf="reject")
        # X += TCP header length (high nibble of byte 12, in 32-bit words).
        emit(_LD_B_IND, 14 + 12)
        emit(_ALU_RSH_K, 4)
        emit(_ALU_LSH_K, 2)
        emit(_ALU_ADD_X)
        emit(_TAX)
        # A load past the end of the packet (no payload) ends the program: rejected.
        emit(_LD_W_IND, 14)
        emit(_JEQ_K, MSRP_WORD, jf="reject")
        emit(_LD_B_IND, 18)
        emit(_JEQ_K, ord(" "), jt="accept", jf="reject")
    emit(_RET_K, 0, label="reject")
    emit(_RET_K, SNAPLEN, label="accept")

    labels = {label: i for i, (label, _) in enumerate(prog) if label}
    out: list[tuple[int, int, int, int]] = []
    for i, (_, (code, jt, jf, k)) in enumerate(prog):
        if code == _JA:
            out.append((code, 0, 0, labels[jt] - i - 1))
            continue
        t = labels[jt] - i - 1 if jt else 0
        f = labels[jf] - i - 1 if jf else 0
        if not (0 <= t <= 255 and 0 <= f <= 255):
            raise CaptureError("capture filter too long")  # guarded by MAX_PORTS
        out.append((code, t, f, k))
    return out


def attach(sock: socket.socket, program: list[tuple[int, int, int, int]]) -> None:
    """Attach (or atomically replace) the socket's filter."""
    insns = (bpf_insn * len(program))(*[bpf_insn(c, t, f, k) for c, t, f, k in program])
    fprog = sock_fprog(len(program), ctypes.cast(insns, ctypes.POINTER(bpf_insn)))
    try:
        sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, fprog)
    except OSError as exc:
        raise CaptureError(f"cannot attach capture filter: {exc}") from exc
