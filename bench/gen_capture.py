"""Generate a large capture by replaying a run's pcaps with shifted ports and Call-IDs.

    python bench/gen_capture.py RUN_DIR OUT.pcap --packets 1000000 [--keep-port N ...]

Reads every `pcaps/*.pcap` of a finished `cpmconf run` (Ethernet link type, as the suite's
sniffer writes them), orders the packets by time, and writes them again and again until the
packet count is reached. Replay k (from 0) moves every port not in the kept set (the SUT's
listening ports and the core's, so a judge still knows the SUT) by a fixed step, rewrites the
first four characters of each Call-ID value to k in hex (same length: no length or sequence
number changes), and shifts the times past the previous replay. UDP checksums are zeroed
(no checksum, valid for IPv4); TCP checksums are left as they were (tshark does not check
them by default, neither does cpmconf).
"""

from __future__ import annotations

import argparse
import re
import struct
import sys
from pathlib import Path

PCAP_HEADER = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1)
CALL_ID = re.compile(rb"\r\n(?:Call-ID|i)[ \t]*:[ \t]*", re.IGNORECASE)
STEP = 7919  # a prime: replays rarely land on each other's ports


def read_pcap(path: Path) -> list[tuple[float, bytes]]:
    data = path.read_bytes()
    if data[:4] != b"\xd4\xc3\xb2\xa1":
        raise SystemExit(f"{path}: only little-endian microsecond pcap is supported")
    if struct.unpack_from("<I", data, 20)[0] != 1:
        raise SystemExit(f"{path}: only Ethernet captures are supported")
    out, off = [], 24
    while off + 16 <= len(data):
        sec, usec, incl, _ = struct.unpack_from("<IIII", data, off)
        out.append((sec + usec * 1e-6, data[off + 16 : off + 16 + incl]))
        off += 16 + incl
    return out


def shifted(port: int, k: int, keep: frozenset[int]) -> int:
    if port in keep or k == 0:
        return port
    new = 1024 + (port - 1024 + k * STEP) % (65536 - 1024)
    while new in keep:
        new = 1024 + (new - 1024 + 1) % (65536 - 1024)
    return new


def rewrite(frame: bytes, k: int, keep: frozenset[int]) -> bytes:
    """The frame of replay k: ports moved, Call-IDs marked, UDP checksum zeroed."""
    if k == 0 or len(frame) < 34 or frame[12:14] != b"\x08\x00":
        return frame
    buf = bytearray(frame)
    ihl = (buf[14] & 0x0F) * 4
    proto = buf[23]
    l4 = 14 + ihl
    if proto not in (6, 17) or len(buf) < l4 + 8:
        return frame
    sport, dport = struct.unpack_from(">HH", buf, l4)
    struct.pack_into(">HH", buf, l4, shifted(sport, k, keep), shifted(dport, k, keep))
    if proto == 17:
        struct.pack_into(">H", buf, l4 + 6, 0)
        payload = l4 + 8
    else:
        payload = l4 + (buf[l4 + 12] >> 4) * 4
    mark = f"{k % 0x10000:04x}".encode()
    for m in CALL_ID.finditer(buf, payload):
        start = m.end()
        if start + 4 <= len(buf) and b"\r" not in buf[start : start + 4]:
            buf[start : start + 4] = mark
    return bytes(buf)


def generate(run_dir: Path, out: Path, packets: int, keep: frozenset[int]) -> dict:
    base: list[tuple[float, bytes]] = []
    for pcap in sorted((run_dir / "pcaps").glob("*.pcap")):
        base += read_pcap(pcap)
    if not base:
        raise SystemExit(f"{run_dir}/pcaps: no packets")
    base.sort(key=lambda p: p[0])
    t0 = base[0][0]
    span = base[-1][0] - t0 + 1.0
    written = replays = 0
    with out.open("wb") as f:
        f.write(PCAP_HEADER)
        while written < packets:
            for when, frame in base:
                if written >= packets:
                    break
                data = rewrite(frame, replays, keep)
                ts = when + replays * span
                sec = int(ts)
                f.write(struct.pack("<IIII", sec, int((ts - sec) * 1e6), len(data), len(data)))
                f.write(data)
                written += 1
            replays += 1
    return {"packets": written, "replays": replays, "bytes": out.stat().st_size}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("run_dir", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--packets", type=int, default=50_000)
    ap.add_argument("--keep-port", type=int, action="append", default=[])
    args = ap.parse_args(argv)
    info = generate(args.run_dir, args.out, args.packets, frozenset(args.keep_port))
    print(
        f"{args.out}: {info['packets']} packets, {info['replays']} replay(s), "
        f"{info['bytes'] / 1e6:.1f} MB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
