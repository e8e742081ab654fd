"""A run through the real core (`[test_system] core = "kamailio"`, the profile
fixtures/profiles/embedded-kamailio-core.toml): the pager cases pass, Kamailio was started,
answered and stopped by the run, and a pager case's pcap shows both hops of the SUT's
MESSAGE: SUT -> Kamailio with the Route the SUT preloads, and Kamailio -> the suite's core.
"""

from __future__ import annotations

import pytest
from scapy.all import UDP, rdpcap

from cpmconf import catalogue
from cpmconf.roles import kamailio as km

from .support import assert_well_formed, run_cpmconf

PROFILE = catalogue.REPO_ROOT / "fixtures" / "profiles" / "embedded-kamailio-core.toml"
RUN_TIMEOUT = 300.0
CLAUSES = ("TS-7.2.1.1", "TS-7.1", "TS-8.3.2.1-")  # client pager, registration, PF pager
PCAP = "test_ts_7_2_1_1_client_pager_send.test_body_is_a_cpim_wrapper_from_the_user.pcap"


def _port(hostport: str) -> int:
    return int(hostport.rsplit(":", 1)[1])


@pytest.mark.skipif(km.binary() is None, reason="kamailio not installed")
def test_pager_cases_pass_through_kamailio_and_the_pcap_shows_both_hops(tmp_path):
    args = ["--sut", str(PROFILE), *(a for c in CLAUSES for a in ("--clause", c)), "-q"]
    run = run_cpmconf(tmp_path / "report", *args, timeout=RUN_TIMEOUT)
    doc = assert_well_formed(run)
    judged = [t for t in doc["tests"] if t["verdict"] != "not-applicable"]
    assert judged and all(t["verdict"] == "pass" for t in judged), run.describe()
    assert run.returncode == 0, run.describe()

    core = doc["run"]["core"]
    assert core["kind"] == "kamailio", core
    log = (tmp_path / "report" / "kamailio" / "kamailio.log").read_text(errors="replace")
    assert "in: MESSAGE" in log  # it routed the SUT's MESSAGEs
    assert "signal 15 received" in log  # and was stopped at the end of the session
    hop, suite_core = _port(core["address"]), _port(doc["run"]["addresses"]["core"])
    client = _port(doc["run"]["addresses"]["client"])

    flows = []
    for pkt in rdpcap(str(tmp_path / "report" / "pcaps" / PCAP)):
        if UDP in pkt and bytes(pkt[UDP].payload).startswith(b"MESSAGE "):
            text = bytes(pkt[UDP].payload).decode(errors="replace")
            flows.append((pkt[UDP].sport, pkt[UDP].dport, text))
    first = [f for f in flows if (f[0], f[1]) == (client, hop)]
    second = [f for f in flows if (f[0], f[1]) == (hop, suite_core)]
    assert first, f"no MESSAGE from the client to Kamailio in {PCAP}: {[f[:2] for f in flows]}"
    assert second, f"no MESSAGE from Kamailio to the core in {PCAP}: {[f[:2] for f in flows]}"
    route = " ".join(ln for ln in first[0][2].split("\r\n") if ln.lower().startswith("route:"))
    assert f"127.0.0.1:{hop};lr" in route and f"orig@127.0.0.1:{hop};lr" in route, route
    assert f"Record-Route: <sip:127.0.0.1:{hop};lr" in second[0][2]
