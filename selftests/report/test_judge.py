"""Offline judging (`cpmconf judge`, `cpmconf.judge`): passive checks over a stored capture.

Also: the streaming reader gives the records the capture layer gives; PF-side passive checks
judge a faulty PF's capture (the fault's clause fails) and a clean one (it passes), with the
SUT's addresses read from the run (`--from-run`) or found by Server/User-Agent; a judge that
judged nothing exits 3; findings cite capture frame numbers.

The main test runs a small conformance run (TS-7.2.1.1 and TS-7.1, client pager sending and
registration) against the embedded reference SUT, once as it is and once with a fault that
breaks TS-7.2.1.1-1, then judges each test's pcap offline and requires the same verdict for
every clause both judged: a pass stays a pass and the fault's fail stays a fail. The SUT's
address is read from the run's own evidence (the embedded SUT uses ephemeral ports).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from cpmconf import cli, judge
from cpmconf.plugin import results
from cpmconf.report import load_results

FAULT = "client.accept-contact-no-msg-icsi"  # breaks TS-7.2.1.1-1
EMBEDDED = "fixtures/profiles/embedded.toml"
RUN_BOUND_S = 600  # a bound on one small run, not an expectation of its speed


def conformance_run(tmp_path_factory, name: str, *extra: str, client: bool = True):
    out = tmp_path_factory.mktemp(name)
    argv = [sys.executable, "-m", "cpmconf.cli", "run", "--report-dir", str(out), "-q"]
    argv += ["--clause", "TS-7.2.1.1", "--clause", "TS-7.1-"] if client else []
    argv += extra
    done = subprocess.run(argv, capture_output=True, text=True, timeout=RUN_BOUND_S, check=False)
    assert (out / "compliance.json").is_file(), done.stdout[-2000:] + done.stderr[-2000:]
    return out, load_results(out / "compliance.json")


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory):
    return conformance_run(tmp_path_factory, "clean")


@pytest.fixture(scope="module")
def faulty_run(tmp_path_factory):
    return conformance_run(tmp_path_factory, "faulty", "--sut-fault", FAULT)


def judge_each_pcap(run_dir, doc, tmp_path) -> list[tuple[str, str, str, str]]:
    """(test, clause, run verdict, judge verdict) for every clause both judged."""
    compared = []
    for t in doc["tests"]:
        pcap = t["evidence"].get("pcap")
        sut = sorted(
            {f"{m['flow'][0]}:{m['flow'][1]}" for m in t["evidence"]["messages"] if m["from_sut"]}
        )
        if not pcap or not sut:
            continue
        out = tmp_path / t["name"].replace("[", "_").replace("]", "_")
        argv = ["judge", str(run_dir / pcap), "--target", EMBEDDED, "--report-dir", str(out)]
        for address in sut:
            argv += ["--sut", address]
        assert cli.main(argv) in (0, 1)
        judged = load_results(out / "compliance.json")
        assert judged["run"]["mode"] == "passive"
        for jt in judged["tests"]:
            for clause, verdict in jt["clause_verdicts"].items():
                if clause in t["clause_verdicts"]:
                    compared.append((t["name"], clause, t["clause_verdicts"][clause], verdict))
    return compared


def test_judging_a_runs_pcaps_reproduces_its_verdicts(clean_run, tmp_path):
    run_dir, doc = clean_run
    compared = judge_each_pcap(run_dir, doc, tmp_path)
    clauses = {c for _, c, _, _ in compared}
    assert {"TS-7.2.1.1-1", "TS-7.2.1.1-3", "TS-7.1-1", "TS-7.1-2"} <= clauses, compared
    assert [row for row in compared if row[2] != row[3]] == []


def test_judging_a_faulty_runs_pcaps_reproduces_the_failure(faulty_run, tmp_path):
    run_dir, doc = faulty_run
    compared = judge_each_pcap(run_dir, doc, tmp_path)
    assert [row for row in compared if row[2] != row[3]] == []
    assert ("fail", "fail") in {(r, j) for _, c, r, j in compared if c == "TS-7.2.1.1-1"}


def test_every_other_clause_is_not_judged_passively(clean_run, tmp_path):
    run_dir, doc = clean_run
    t = next(t for t in doc["tests"] if t["evidence"].get("pcap"))
    sut = next(m["flow"] for m in t["evidence"]["messages"] if m["from_sut"])
    out = tmp_path / "one"
    argv = ["judge", str(run_dir / t["evidence"]["pcap"]), "--target", EMBEDDED]
    assert cli.main([*argv, "--sut", f"{sut[0]}:{sut[1]}", "--report-dir", str(out)]) == 0
    judged = json.loads((out / "compliance.json").read_text())
    assert results.validate(judged) == []
    states = {c["verdict"] for c in judged["clauses"] if not c["tests"]}
    assert states <= {results.PASSIVE_STATE, "untestable", "superseded"}
    assert judged["summary"]["clauses"][results.PASSIVE_STATE] > 0
    page = (out / "compliance.html").read_text()
    assert results.PASSIVE_STATE in page and "Capture mode" not in page
    assert (out / "compliance.md").is_file() and (out / "junit-verdicts.xml").is_file()


def test_bad_usage_is_exit_3_with_a_reason(tmp_path, capsys):
    missing = tmp_path / "none.pcap"
    assert cli.main(["judge", str(missing), "--target", EMBEDDED]) == 3
    assert "no such capture file" in capsys.readouterr().err
    junk = tmp_path / "junk.pcap"
    junk.write_bytes(b"not a pcap at all")
    assert cli.main(["judge", str(junk), "--target", EMBEDDED, "--sut", "127.0.0.1:5060"]) == 3
    assert "cannot judge the capture" in capsys.readouterr().err
    # The embedded profile's ports are ephemeral: the SUT is looked for in the capture.
    assert cli.main(["judge", str(junk), "--target", EMBEDDED]) == 3
    assert "not a pcap or pcapng file" in capsys.readouterr().err
    assert cli.main(["judge", str(junk), "--target", EMBEDDED, "--sut", "nohost"]) == 3


def test_selectors_name_passive_checks():
    registered = judge.passive_checks()
    named = set(judge.SELECTORS)
    assert {"pager.accept_contact_msg_icsi", "registration.register_form"} <= named & set(
        registered
    )
    from cpmconf.verdict.checks import CHECKS

    every: dict[str, bool] = {}
    for cs in CHECKS.values():
        for c in cs:  # one function can be passive for one clause and not for another
            every[judge.check_name(c.fn)] = every.get(judge.check_name(c.fn), False) or c.passive
    # A selector for a check that exists must be for a passive one (the judgement needs no
    # per-test knowledge); one for a check not (yet) registered is simply unused.
    assert [n for n in named if n in every and not every[n]] == []


# ---- streaming judge, PF side ------------------------------------------------------------

# The blocked originator (403 and its Warning), and a deferral: its notification names the
# PF's release in User-Agent, which is how the PF is found without an address.
PF_CLAUSES = ("--clause", "TS-8.3.2.1-1d", "--clause", "TS-8.3.2.4.x-2")


def merged_capture(run_dir, out):
    """The run's per-test pcaps, one after the other, as one capture (frames renumbered)."""
    from scapy.utils import PcapWriter, rdpcap

    writer = PcapWriter(str(out), sync=True)
    for pcap in sorted((run_dir / "pcaps").glob("*.pcap")):
        for pkt in rdpcap(str(pcap)):
            writer.write(pkt)
    writer.close()
    return out


@pytest.fixture(scope="module")
def pf_runs(tmp_path_factory):
    runs = {}
    for fault in (None, "pf.403-no-warning", "pf.ignore-block"):
        extra = ("--sut-fault", fault) if fault else ()
        run_dir, _ = conformance_run(
            tmp_path_factory, f"pf-{fault}", *PF_CLAUSES, *extra, client=False
        )
        runs[fault] = (run_dir, merged_capture(run_dir, run_dir / "all.pcap"))
    return runs


def judged_verdicts(run_dir, capture, out, *extra) -> tuple[int, dict]:
    argv = ["judge", str(capture), "--report-dir", str(out), *extra]
    code = cli.main(argv + ([] if extra else ["--from-run", str(run_dir)]))
    doc = load_results(out / "compliance.json")
    return code, {c: v for t in doc["tests"] for c, v in t["clause_verdicts"].items()}


@pytest.mark.parametrize(
    "fault, clause, verdict",
    [
        ("pf.403-no-warning", "TS-8.3.2.1-1d-warning", "non-strict"),  # a SHOULD
        ("pf.ignore-block", "TS-8.3.2.1-1d", "fail"),
    ],
)
def test_a_pf_fault_fails_its_clause_passively_and_the_clean_capture_passes(
    pf_runs, tmp_path, fault, clause, verdict
):
    run_dir, capture = pf_runs[fault]
    code, verdicts = judged_verdicts(run_dir, capture, tmp_path / "faulty")
    assert verdicts.get(clause) == verdict and code == (1 if verdict == "fail" else 0)
    run_dir, capture = pf_runs[None]
    code, verdicts = judged_verdicts(run_dir, capture, tmp_path / "clean")
    assert verdicts.get(clause) == "pass" and code == 0, verdicts


def test_the_sut_is_found_by_its_release_when_no_address_is_given(pf_runs, tmp_path, capsys):
    run_dir, capture = pf_runs[None]
    code, verdicts = judged_verdicts(run_dir, capture, tmp_path / "found", "--target", EMBEDDED)
    out = capsys.readouterr().out
    assert "found by Server/User-Agent: pf 127.0.0.1:" in out
    assert code == 0 and verdicts.get("TS-8.3.2.1-1d") == "pass"
    assert verdicts.get("TS-8.3.2.4.x-2") == "pass"  # the 202 before the notification


def test_findings_cite_frame_numbers_and_evidence_holds_only_cited_messages(pf_runs, tmp_path):
    run_dir, capture = pf_runs["pf.ignore-block"]
    judged_verdicts(run_dir, capture, tmp_path / "j")
    doc = json.loads((tmp_path / "j" / "compliance.json").read_text())
    t = next(t for t in doc["tests"] if "TS-8.3.2.1-1d" in t["clauses"])
    frames = {f["frame"] for f in t["findings"]}
    assert frames and all(isinstance(n, int) and n > 0 for n in frames)
    assert {m["frame"] for m in t["evidence"]["messages"]} <= frames
    assert t["evidence"]["counts"]["TS-8.3.2.1-1d"]["fail"] >= 1


def test_a_judge_that_judged_nothing_exits_3(tmp_path, capsys):
    from scapy.layers.inet import IP, UDP
    from scapy.layers.l2 import Ether
    from scapy.utils import wrpcap

    options = (
        b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1\r\n"
        b"From: <sip:a@example.net>;tag=1\r\nTo: <sip:b@example.net>;tag=2\r\n"
        b"Call-ID: x@y\r\nCSeq: 1 OPTIONS\r\nServer: CPM-serv/OMA2.0\r\n"
        b"Content-Length: 0\r\n\r\n"
    )
    pkt = Ether() / IP(src="127.0.0.1", dst="127.0.0.1") / UDP(sport=5999, dport=5070) / options
    wrpcap(str(tmp_path / "one.pcap"), [pkt])
    argv = ["judge", str(tmp_path / "one.pcap"), "--target", EMBEDDED]
    assert cli.main([*argv, "--report-dir", str(tmp_path / "out")]) == 3
    err = capsys.readouterr().err
    assert "nothing judged" in err
    # No report shows it as a success: the run carries an inconclusive "nothing judged" test.
    page = (tmp_path / "out" / "compliance.md").read_text()
    assert "\u2705" not in page and "nothing judged" in page


def test_the_streaming_reader_gives_the_capture_layers_records(clean_run):
    from cpmconf.capture import records_from_pcap
    from cpmconf.capture.stream import wire_messages

    run_dir, _ = clean_run
    pcaps = sorted((run_dir / "pcaps").glob("*.pcap"))
    assert pcaps
    for pcap in pcaps:
        want = [(r.raw, r.flow, r.protocol) for r in records_from_pcap(str(pcap))]
        got = [(w.raw, w.flow, w.protocol) for w in wire_messages(str(pcap))]
        assert got == want, pcap.name


def test_slices_hold_the_cited_frames(pf_runs, tmp_path):
    from cpmconf.capture.stream import wire_messages

    run_dir, capture = pf_runs["pf.ignore-block"]
    out = tmp_path / "s"
    argv = ["judge", str(capture), "--from-run", str(run_dir), "--report-dir", str(out)]
    assert cli.main([*argv, "--slices"]) == 1
    doc = json.loads((out / "compliance.json").read_text())
    t = next(t for t in doc["tests"] if "TS-8.3.2.1-1d" in t["clauses"])
    cited = {f["frame"] for f in t["findings"]}
    got = list(wire_messages(str(out / t["evidence"]["pcap"])))
    assert len(got) == len(cited) and all(b"SIP/2.0 " in w.raw for w in got)
