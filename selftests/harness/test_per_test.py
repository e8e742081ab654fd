"""Per-test fixtures' pure parts: applicability per clause, unique evidence names, and the
pcap window that leaves out another test's connection teardown.

- `inapplicable`: a clause needing an unclaimed ICS item (or a role the profile lacks) is
  not-applicable on its own; the push cases keep running without `session-timer` (issue 12:
  all 19 push clauses went not-applicable because one SHOULD needs it);
- `evidence_name`: unique per test id over the whole conformance suite (module, name and
  parameters; before, 154 tests wrote 144 pcaps);
- `own_packets`: bare TCP ACK/FIN/RST segments of a connection the window never used are
  dropped, a connection the window used keeps its teardown.
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys

from fixtures.per_test import evidence_name, inapplicable
from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.l2 import Ether
from scapy.packet import Raw

from cpmconf import catalogue
from cpmconf.capture.window import own_packets
from cpmconf.plugin.pytest_plugin import EMBEDDED_PROFILE
from cpmconf.roles.profile import load_profile

PUSH = catalogue.REPO_ROOT / "testcases" / "test_ts_8_3_2_4_1_pf_deferred_push.py"


def test_only_the_clauses_needing_an_unclaimed_item_are_inapplicable():
    cat = catalogue.load()
    profile = load_profile(EMBEDDED_PROFILE)
    without = dataclasses.replace(profile, ics=profile.ics - {"session-timer"})
    claimed = sorted(catalogue.claimed_clause_ids([PUSH]))
    assert inapplicable(claimed, profile, cat) == {}
    why = inapplicable(claimed, without, cat)
    assert why, "some push clause needs session-timer"
    assert all("session-timer" in w for w in why.values())
    assert len(why) < len(claimed)  # the rest still applies: the cases run
    no_client = dataclasses.replace(profile, client=None)
    client_clause = next(c.id for c in cat if c.role.startswith("cpm-client"))
    assert "no [client]" in inapplicable([client_clause], no_client, cat)[client_clause]


def test_evidence_names_are_unique_per_test_id():
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--co", "-q", "-p", "no:randomly", "testcases"],
        cwd=catalogue.REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    ids = [line for line in done.stdout.splitlines() if "::" in line]
    assert len(ids) >= 150, done.stdout[-2000:] + done.stderr[-2000:]
    names = [evidence_name(i) for i in ids]
    assert len(set(names)) == len(ids)
    short = [i.split("::", 1)[1] for i in ids]
    assert len(set(short)) < len(ids)  # function names alone collide: the module matters


def test_evidence_name_keeps_module_name_and_parameters():
    name = evidence_name("testcases/test_ts_8_3_2_1_pf.py::test_copy[udp-1301 bytes]")
    assert name == "test_ts_8_3_2_1_pf.test_copy_udp-1301_bytes"
    a = evidence_name("testcases/test_x.py::test_" + "a" * 300 + "[1]")
    b = evidence_name("testcases/test_x.py::test_" + "a" * 300 + "[2]")
    assert a != b and len(a) <= 150 and len(b) <= 150


def _tcp(sport, dport, flags, payload=b""):
    pkt = (
        Ether() / IP(src="127.0.0.1", dst="127.0.0.1") / TCP(sport=sport, dport=dport, flags=flags)
    )
    return pkt / Raw(payload) if payload else pkt


def test_the_window_leaves_out_an_earlier_connections_teardown():
    earlier_fin = _tcp(40000, 5060, "FA")
    earlier_ack = _tcp(5060, 40000, "A")
    own = [
        _tcp(40002, 5060, "S"),
        _tcp(5060, 40002, "SA"),
        _tcp(40002, 5060, "A"),
        _tcp(40002, 5060, "PA", b"MESSAGE sip:x SIP/2.0\r\n\r\n"),
        _tcp(40002, 5060, "FA"),
    ]
    udp = Ether() / IP(src="127.0.0.1", dst="127.0.0.1") / UDP(sport=5070, dport=5060) / b"x"
    kept = own_packets([earlier_fin, earlier_ack, *own, udp])
    assert kept == [*own, udp]
    # A connection the window sends data on keeps its bare segments.
    used = _tcp(40000, 5060, "PA", b"OPTIONS sip:x SIP/2.0\r\n\r\n")
    assert own_packets([earlier_ack, used]) == [earlier_ack, used]
