"""The suite's codec reads the SUT's SIP messages as tshark's SIP dissector does.

One default run (the session's `default_run`, shared with test_compliant_peer.py). For every
pcap it wrote, except the robustness cases' (their stimuli are malformed on purpose), every
SIP message the SUT sent is read twice: by the capture layer's pcap reader
(`cpmconf.capture.stream.wire_messages`, the reader `cpmconf judge` uses, frame numbers as
tshark numbers them) followed by the codec (`SipMessage.parse`), and by
`tshark -r PCAP -T fields`. Frame by frame, the start line and every header in `HEADERS`
must have the same values in the same order. That is every SIP message of the SUT, so it
covers every header value any check judged (checks judge only the SUT's messages), for the
headers tshark 4.0 dissects. tshark has no field for the CPM headers (Conversation-ID,
Contribution-ID, InReplyTo-Contribution-ID, Message-UID, Message-Expires); it only flags
them as unrecognised, so they are outside this cross-check. The two readers must also agree
on which frames hold the SUT's SIP messages, and how many.

Only what tshark legitimately renders differently is normalised, and nothing else:
- one header line is one occurrence in both readers; the aggregator is a control character
  (not tshark's default comma), so header lines are never joined and a comma inside a value
  (a Contact list, a Warning text) is not mistaken for a separator;
- a folded value (CRLF then whitespace) keeps its line break in tshark's field, while the
  codec joins the lines with one space;
- numeric fields (Status-Code, Expires, Max-Forwards, Content-Length, Retry-After) are
  integers in tshark, so the codec's text is compared as a number;
- `-T fields` cannot tell an empty header from an absent one, so an empty value counts as
  none on both sides.
Compact forms (`i`, `f`, `m`, `v` ...) need no normalisation: tshark files them under the
full name's field and the codec expands them (`canonical_name`); a self-test below
reads a message with compact forms, folding and escaped quotes.

A known limit of tshark 4.0: it does not recognise a header whose name is followed by
whitespace before the colon (legal, RFC 4475 3.1.1.1 has it), so a SUT that writes one
shows up here as a disagreement that is tshark's, not the codec's; the reference SUT does
not write one.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from cpmconf.capture.stream import wire_messages
from cpmconf.codec.errors import CodecError
from cpmconf.codec.sip import SipMessage

pytestmark = pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark is not installed")

VECTORS = Path(__file__).parents[1] / "codec" / "vectors"
SEP, AGG = "\x1f", "\x1e"  # field separator and occurrence aggregator: never in SIP text

# tshark field -> header name as the codec reads it, for every header tshark 4.0 dissects
# that a check reads, and the ones around them that frame a message (Via, Content-Length).
HEADERS = {
    "sip.Call-ID": "Call-ID",
    "sip.CSeq": "CSeq",
    "sip.From": "From",
    "sip.To": "To",
    "sip.Via": "Via",
    "sip.Max-Forwards": "Max-Forwards",
    "sip.Route": "Route",
    "sip.Record-Route": "Record-Route",
    "sip.Service-Route": "Service-Route",
    "sip.Path": "Path",
    "sip.Contact": "Contact",
    "sip.Accept-Contact": "Accept-Contact",
    "sip.Reject-Contact": "Reject-Contact",
    "sip.P-Asserted-Identity": "P-Asserted-Identity",
    "sip.P-Preferred-Identity": "P-Preferred-Identity",
    "sip.P-Preferred-Service": "P-Preferred-Service",
    "sip.P-Called-Party-ID": "P-Called-Party-ID",
    "sip.Privacy": "Privacy",
    "sip.Reply-To": "Reply-To",
    "sip.Subject": "Subject",
    "sip.Warning": "Warning",
    "sip.Error-Info": "Error-Info",
    "sip.Reason": "Reason",
    "sip.Server": "Server",
    "sip.User-Agent": "User-Agent",
    "sip.Allow": "Allow",
    "sip.Accept": "Accept",
    "sip.Require": "Require",
    "sip.Supported": "Supported",
    "sip.Unsupported": "Unsupported",
    "sip.Event": "Event",
    "sip.Subscription-State": "Subscription-State",
    "sip.Expires": "Expires",
    "sip.Min-Expires": "Min-Expires",
    "sip.Session-Expires": "Session-Expires",
    "sip.Retry-After": "Retry-After",
    "sip.Date": "Date",
    "sip.Content-Type": "Content-Type",
    "sip.Content-Length": "Content-Length",
}
NUMERIC = {
    "sip.Status-Code",
    "sip.Expires",
    "sip.Max-Forwards",
    "sip.Content-Length",
    "sip.Retry-After",
}
START = {
    "sip.Method": lambda m: [m.method] if m.is_request else [],
    "sip.r-uri": lambda m: [m.request_uri] if m.is_request else [],
    "sip.Status-Code": lambda m: [] if m.is_request else [str(m.status)],
}
READERS: dict[str, Callable[[SipMessage], list[str]]] = {
    **START,
    **{field: (lambda m, h=header: m.header_values(h)) for field, header in HEADERS.items()},
}
PORTS = ("udp.srcport", "tcp.srcport", "udp.dstport", "tcp.dstport")
FIELDS = ("frame.number", *PORTS, *READERS)

# A fold as tshark's fields output shows it: CRLF escaped as the four characters \r\n.
_FOLD = re.compile(r"[ \t]*\\r\\n[ \t]+")


def _normal(field: str, values: list[str]) -> list[str]:
    """Both readers' values in one form (see the module docstring for each rule)."""
    out = []
    for v in values:
        v = _FOLD.sub(" ", v).strip(" \t")
        if field in NUMERIC and v.isdigit():
            v = str(int(v))
        if v:
            out.append(v)
    return out


def decode_args(ports: set[int]) -> list[str]:
    """Have tshark read SIP on the run's ports over UDP and TCP, whatever its heuristics."""
    args = []
    for p in sorted(ports):
        args += ["-d", f"udp.port=={p},sip", "-d", f"tcp.port=={p},sip"]
    return args


def tshark_frames(pcap: Path, ports: set[int]) -> list[dict[str, list[str]]]:
    """Per SIP frame, tshark's values of FIELDS, one list element per occurrence."""
    cmd = ["tshark", "-r", str(pcap), *decode_args(ports), "-Y", "sip", "-T", "fields"]
    cmd += ["-E", f"separator={SEP}", "-E", f"aggregator={AGG}", "-E", "occurrence=a"]
    for f in FIELDS:
        cmd += ["-e", f]
    out = subprocess.run(cmd, capture_output=True, timeout=120, check=True).stdout.decode(
        "utf-8", "replace"
    )
    rows = []
    for line in out.split("\n"):
        if not line:
            continue
        cells = line.split(SEP)
        assert len(cells) == len(FIELDS), f"{pcap.name}: tshark row has {len(cells)} cells"
        rows.append({f: (c.split(AGG) if c else []) for f, c in zip(FIELDS, cells, strict=True)})
    return rows


def sut_sent(src: int, dst: int, core: int, sut: set[int]) -> bool:
    """From a SUT's listening port, or from elsewhere to the core (a SUT's own TCP port)."""
    return src in sut or (dst == core and src != core)


def compare(pcap: Path, core: int, sut: set[int]) -> tuple[list[str], int]:
    """Every disagreement between tshark and the codec on the SUT's SIP messages of `pcap`
    (naming the pcap, the frame, the field and both values), and how many messages agreed."""
    ours: dict[int, list[SipMessage | str]] = defaultdict(list)
    for w in wire_messages(str(pcap), msrp=False):
        if w.protocol != "SIP" or not sut_sent(w.flow[1], w.flow[3], core, sut):
            continue
        if w.error is not None:
            ours[w.frame].append(f"framing error: {w.error}")
            continue
        try:
            ours[w.frame].append(SipMessage.parse(w.raw))
        except CodecError as exc:
            ours[w.frame].append(f"codec error: {exc}")
    theirs = {}
    for row in tshark_frames(pcap, sut | {core}):
        src = int((row["udp.srcport"] or row["tcp.srcport"])[0])
        dst = int((row["udp.dstport"] or row["tcp.dstport"])[0])
        if sut_sent(src, dst, core, sut):
            theirs[int(row["frame.number"][0])] = row
    problems, agreed = [], 0
    for frame in sorted(set(ours) | set(theirs)):
        where = f"{pcap.name} frame {frame}"
        if frame not in theirs:
            problems.append(f"{where}: the capture layer reads a SIP message, tshark none")
            continue
        if frame not in ours:
            problems.append(f"{where}: tshark reads SIP, the capture layer no message")
            continue
        messages = ours[frame]
        failed = [m for m in messages if isinstance(m, str)]
        if failed:
            problems += [f"{where}: {why}" for why in failed]
            continue
        found = []
        for field, read in READERS.items():
            codec = _normal(field, [v for m in messages for v in read(m)])  # type: ignore[arg-type]
            tshark = _normal(field, theirs[frame][field])
            if codec != tshark:
                found.append(f"{where}: {field}: codec {codec!r} != tshark {tshark!r}")
        problems += found
        agreed += 0 if found else len(messages)
    return problems, agreed


def _ports(address: str) -> int:
    return int(address.rsplit(":", 1)[1])


def test_codec_and_tshark_agree_on_every_sip_message_the_sut_sent(default_run):
    addresses = default_run.doc["run"]["addresses"]
    core = _ports(addresses["core"])
    sut = {_ports(addresses[r]) for r in ("pf", "client") if r in addresses}
    pcaps = sorted(
        p
        for p in (default_run.report_dir / "pcaps").glob("*.pcap")
        if not p.name.startswith("test_robustness_")  # malformed on purpose
    )
    assert len(pcaps) >= 100, f"only {len(pcaps)} pcaps"
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda p: compare(p, core, sut), pcaps))
    problems = [p for found, _ in results for p in found]
    agreed = sum(n for _, n in results)
    assert not problems, f"{len(problems)} disagreements:\n" + "\n".join(problems[:40])
    # Not blind: the default run's SUTs send about 770 SIP messages outside robustness.
    assert agreed >= 500, f"only {agreed} SUT messages compared"


# ---- the comparison itself, on hand-made captures (no run needed)

SUT_PORT, CORE_PORT = 15060, 25060


def write_pcap(path: Path, payloads: list[bytes]) -> Path:
    """A pcap of UDP datagrams from the SUT's port to the core's, one per payload."""
    from scapy.layers.inet import IP, UDP
    from scapy.layers.l2 import Ether
    from scapy.packet import Raw
    from scapy.utils import wrpcap

    pkts = [
        Ether()
        / IP(src="127.0.0.1", dst="127.0.0.1")
        / UDP(sport=SUT_PORT, dport=CORE_PORT)
        / Raw(p)
        for p in payloads
    ]
    wrpcap(str(path), pkts)
    return path


def vector(name: str) -> bytes:
    return (VECTORS / name).read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


MESSAGE = (
    b"MESSAGE sip:bob@example.net SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP 127.0.0.1:15060;branch=z9hG4bK1\r\n"
    b"v: SIP/2.0/UDP 127.0.0.1:35060;branch=z9hG4bK2 ,\r\n"
    b"  SIP/2.0/UDP 127.0.0.1:45060;branch=z9hG4bK3\r\n"
    b"Max-Forwards: 70\r\n"
    b"Route: <sip:127.0.0.1:25060;lr>\r\n"
    b"Route: <sip:orig@127.0.0.1:25060;lr>\r\n"
    b'f: "Alice \\"A\\"" <sip:alice@example.net>;tag=1\r\n'
    b"t: <sip:bob@example.net>\r\n"
    b"i: crosscheck-1@127.0.0.1\r\n"
    b"CSeq: 0001\r\n"
    b"  MESSAGE\r\n"
    b'a: *;+g.3gpp.icsi-ref="urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.msg"\r\n'
    b'Warning: 399 pf.example.net "125 No messages, none"\r\n'
    b"Expires: 0600\r\n"
    b"Supported:\r\n"
    b"k: gruu\r\n"
    b"User-Agent: CPM-client/OMA2.0\r\n"
    b"c: text/plain\r\n"
    b"l: 2\r\n"
    b"\r\n"
    b"hi"
)


@pytest.mark.parametrize(
    "payload",
    [MESSAGE, vector("rfc5627-9-register.sip"), vector("rfc5627-9-200.sip")],
    ids=["compact-folded", "rfc5627-register", "rfc5627-200"],
)
def test_the_comparison_accepts_what_only_tshark_renders_differently(tmp_path, payload):
    """Compact forms, folding, repeated headers, a list in one header, a comma and escaped
    quotes inside a value, a leading zero and an empty header are read alike once
    normalised, with nothing left over."""
    pcap = write_pcap(tmp_path / "one.pcap", [payload])
    problems, agreed = compare(pcap, CORE_PORT, {SUT_PORT})
    assert problems == [] and agreed == 1


def test_a_corrupted_codec_value_is_reported_with_frame_field_and_both_values(
    tmp_path, monkeypatch
):
    """A codec that misreads one header of one message fails the comparison, and the report
    names the pcap, the frame, the tshark field and both values."""
    other = MESSAGE.replace(b"i: crosscheck-1", b"i: crosscheck-2")
    pcap = write_pcap(tmp_path / "two.pcap", [MESSAGE, other])
    real = SipMessage.header_values

    def misread(self, name):
        values = real(self, name)
        if name == "Call-ID" and values == ["crosscheck-2@127.0.0.1"]:
            return ["crosscheck-2@127.0.0.l"]  # a slip a parser could make
        return values

    monkeypatch.setattr(SipMessage, "header_values", misread)
    problems, agreed = compare(pcap, CORE_PORT, {SUT_PORT})
    assert agreed == 1
    assert problems == [
        "two.pcap frame 2: sip.Call-ID: codec ['crosscheck-2@127.0.0.l']"
        " != tshark ['crosscheck-2@127.0.0.1']"
    ]


def test_a_message_only_one_reader_finds_is_reported(tmp_path, monkeypatch):
    """The frames must match too: a SUT message the capture layer missed is a disagreement."""
    pcap = write_pcap(tmp_path / "two.pcap", [MESSAGE, MESSAGE])
    real = wire_messages
    monkeypatch.setattr(
        sys.modules[__name__],
        "wire_messages",
        lambda path, msrp=True: (w for w in real(path, msrp) if w.frame != 2),
    )
    problems, agreed = compare(pcap, CORE_PORT, {SUT_PORT})
    assert agreed == 1
    assert problems == ["two.pcap frame 2: tshark reads SIP, the capture layer no message"]
