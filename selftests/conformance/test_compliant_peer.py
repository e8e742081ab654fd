"""The test system is a compliant SIP peer on the wire, as a second dissector reads it.

One default run (the session's `default_run`, conftest.py); tshark's SIP dissector then
reads every pcap it wrote. Among the test system's own SIP messages (sent from the core's
port, or to a SUT's port) no frame is malformed and none carries an expert error; and every
non-2xx final to an INVITE the test system sent is followed by its ACK (RFC 3261 17.1.1.3:
same Call-ID, CSeq number and branch).
The robustness cases send malformed stimuli on purpose, so their pcaps are not read here.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

PI_ERROR = 0x800000  # Wireshark's expert severity "error"
FIELDS = (
    "frame.number",
    "udp.srcport",
    "tcp.srcport",
    "udp.dstport",
    "tcp.dstport",
    "_ws.malformed",
    "_ws.expert.severity",
    "sip.Method",
    "sip.Status-Code",
    "sip.Call-ID",
    "sip.CSeq.seq",
    "sip.CSeq.method",
    "sip.Via.branch",
)

pytestmark = pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark is not installed")


def frames(pcap: Path) -> list[dict]:
    cmd = ["tshark", "-r", str(pcap), "-Y", "sip", "-T", "fields", "-E", "separator=|"]
    for f in FIELDS:
        cmd += ["-e", f]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=True).stdout
    rows = []
    for line in out.splitlines():
        values = line.split("|")
        rows.append(dict(zip(FIELDS, values + [""] * (len(FIELDS) - len(values)), strict=True)))
    return rows


def port(row: dict, side: str) -> int | None:
    value = row[f"udp.{side}port"] or row[f"tcp.{side}port"]
    return int(value.split(",")[0]) if value else None


def ours(row: dict, core: int, sut: set[int]) -> bool:
    return port(row, "src") == core or (port(row, "dst") in sut and port(row, "src") not in sut)


def problems(pcap: Path, core: int, sut: set[int]) -> list[str]:
    rows = frames(pcap)
    out = []
    for r in rows:
        if not ours(r, core, sut):
            continue
        severities = [int(s) for s in r["_ws.expert.severity"].split(",") if s]
        if r["_ws.malformed"] or any(s >= PI_ERROR for s in severities):
            out.append(f"{pcap.name} frame {r['frame.number']}: malformed or expert error")
    # Every non-2xx final to our INVITE is followed by our ACK on the same branch.
    invites = {
        (r["sip.Call-ID"], r["sip.CSeq.seq"]): r
        for r in rows
        if r["sip.Method"] == "INVITE" and port(r, "src") == core
    }
    for i, r in enumerate(rows):
        status = r["sip.Status-Code"]
        key = (r["sip.Call-ID"], r["sip.CSeq.seq"])
        if (
            not status
            or int(status) < 300
            or r["sip.CSeq.method"] != "INVITE"
            or key not in invites
        ):
            continue
        branch = invites[key]["sip.Via.branch"].split(",")[0]
        acked = any(
            a["sip.Method"] == "ACK"
            and (a["sip.Call-ID"], a["sip.CSeq.seq"]) == key
            and a["sip.Via.branch"].split(",")[0] == branch
            for a in rows[i + 1 :]
        )
        if not acked:
            out.append(f"{pcap.name} frame {r['frame.number']}: {status} to our INVITE not ACKed")
    return out


def test_the_test_systems_messages_dissect_cleanly_and_every_invite_failure_is_acked(
    default_run,
):
    run = default_run  # conftest.py: one default run, shared with test_tshark_crosscheck.py
    addresses = run.doc["run"]["addresses"]
    core = int(addresses["core"].rsplit(":", 1)[1])
    sut = {int(addresses[r].rsplit(":", 1)[1]) for r in ("pf", "client") if r in addresses}
    pcaps = sorted(p for p in (run.report_dir / "pcaps").glob("*.pcap"))
    assert len(pcaps) >= 100, f"only {len(pcaps)} pcaps"
    found, probes = [], []
    for pcap in pcaps:
        if pcap.name.startswith("test_robustness_"):
            probes += problems(pcap, core, sut)  # malformed on purpose
            continue
        found += problems(pcap, core, sut)
    assert not found, "\n".join(found[:40])
    # The filter is not blind: the deliberately broken robustness probes are found.
    assert any("malformed" in p for p in probes), "no robustness probe read as malformed"
