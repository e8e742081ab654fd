"""cpmconf's benchmark: the default run, the judge against tshark, the kill matrix.

    .venv/bin/python bench/run.py [--out docs/performance.md] [--packets 50000,1000000]
                                  [--run-dir DIR] [--switches a,b] [--full-switches a]
                                  [--repeat 3] [--work DIR]

Writes one Markdown document (the tables, the machine, the commands) to --out and stdout.

1. The default run: `cpmconf run -q` timed as a whole, and per case (compliance.json
   `duration`) the median, p90 and mean. Per case it also splits the time into the span of
   the case's captured exchange (first to last message of its pcap: the SUT and the suite
   talking) and the rest (set-up, and windows and guards waited out after the last message).
   Within the span, the gaps that a message of the SUT ends are time waiting on the SUT; the
   other gaps are the suite's own steps and windows during which the SUT said nothing. The
   split is read from the outputs only, so it is an estimate.
2. The judge against tshark's field decode (`tshark -T fields` with the SIP fields the
   checks read) on captures generated from that run (bench/gen_capture.py: its pcaps
   replayed with shifted ports and Call-IDs), one size after the other, each tool run
   `--repeat` times alternately in the same session; wall time (median), peak memory
   (the child's maximum resident set), and what each wrote (the judge's report folder,
   tshark's field text) against the capture's size.
3. The kill matrix: `cpmconf mutants` on a few switches in the target scope and, for
   --full-switches, in the full scope, one run at a time: seconds per switch (the runs'
   own elapsed times, and the baseline's), from which the whole matrix is estimated.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
CPMCONF = str(VENV_BIN / "cpmconf")
TSHARK_FIELDS = [
    "frame.number",
    "sip.Method",
    "sip.Status-Code",
    "sip.r-uri",
    "sip.Call-ID",
    "sip.CSeq",
    "sip.From",
    "sip.To",
    "sip.User-Agent",
    "sip.Server",
    "sip.Accept-Contact",
    "sip.Route",
    "sip.Warning",
    "sip.Content-Type",
    "sip.contact.uri",
    "sip.msg_hdr",
]


def measured(argv: list[str], stdout=subprocess.DEVNULL) -> dict:
    """Run a child; its wall time, CPU time and peak resident memory (wait4 rusage)."""
    start = time.monotonic()
    proc = subprocess.Popen(argv, stdout=stdout, stderr=subprocess.PIPE, cwd=REPO)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - start
    err = proc.stderr.read().decode("utf-8", "replace") if proc.stderr else ""
    proc.returncode = os.waitstatus_to_exitcode(status)
    return {
        "wall": wall,
        "cpu": usage.ru_utime + usage.ru_stime,
        "rss_mb": usage.ru_maxrss / 1024,  # kilobytes on Linux
        "code": proc.returncode,
        "stderr": err[-2000:],
    }


def size_of(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    if not values:
        return 0.0
    k = (len(values) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = int(line.split()[1]) // 1024
    except OSError:
        pass
    tshark = subprocess.run(["tshark", "-v"], capture_output=True, text=True).stdout
    return (
        f"{model}, {os.cpu_count()} cores, {mem / 1024:.1f} GiB RAM, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}, "
        f"{tshark.splitlines()[0].rstrip('.') if tshark else 'tshark missing'}"
    )


# ---- 1. the default run ----------------------------------------------------------------


def default_run(work: Path, run_dir: Path | None) -> tuple[Path, dict]:
    if run_dir is None:
        run_dir = work / "run"
        shutil.rmtree(run_dir, ignore_errors=True)
        m = measured([CPMCONF, "run", "-q", "--report-dir", str(run_dir)])
        total = m["wall"]
    else:
        total = None
    doc = json.loads((run_dir / "compliance.json").read_text())
    from cpmconf.capture.stream import wire_messages
    from cpmconf.judge import from_run

    sut = set(from_run(run_dir).sut)
    cases = []
    for t in doc["tests"]:
        span = waited = 0.0
        pcap = t["evidence"].get("pcap")
        if pcap and (run_dir / pcap).is_file():
            msgs = [
                (w.time, (w.flow[0], w.flow[1]) in sut)
                for w in wire_messages(str(run_dir / pcap), msrp=False)
            ]
            if msgs:
                span = max(m[0] for m in msgs) - min(m[0] for m in msgs)
            # Waiting on the SUT: each gap that a message of the SUT ends (it was answering).
            waited = sum(
                b[0] - a[0] for a, b in zip(msgs, msgs[1:], strict=False) if b[1] and not a[1]
            )
        duration = t.get("duration") or 0.0
        cases.append(
            {
                "name": t["name"],
                "duration": duration,
                "wire": min(span, duration),
                "sut": min(waited, duration),
                "verdict": t["verdict"],
            }
        )
    return run_dir, {
        "total": total,
        "cases": cases,
        "started": doc["run"].get("started"),
        "finished": doc["run"].get("finished"),
    }


# ---- 2. judge against tshark -----------------------------------------------------------


def keep_ports(run_dir: Path) -> list[int]:
    from cpmconf.judge import from_run

    facts = from_run(run_dir)
    ports = {p for _, p in facts.sut}
    if facts.core:
        ports.add(facts.core[1])
    return sorted(ports)


def judge_vs_tshark(run_dir: Path, work: Path, packets: int, repeat: int) -> dict:
    capture = work / f"gen-{packets}.pcap"
    gen = [
        sys.executable,
        str(REPO / "bench" / "gen_capture.py"),
        str(run_dir),
        str(capture),
        "--packets",
        str(packets),
    ]
    for p in keep_ports(run_dir):
        gen += ["--keep-port", str(p)]
    subprocess.run(gen, check=True, cwd=REPO, capture_output=True)
    rows = {"judge": [], "tshark": []}
    report = work / f"judged-{packets}"
    fields = work / f"tshark-{packets}.txt"
    for _ in range(repeat):
        with fields.open("wb") as out:
            tshark = ["tshark", "-r", str(capture), "-n", "-T", "fields"]
            for f in TSHARK_FIELDS:
                tshark += ["-e", f]
            rows["tshark"].append(measured(tshark, stdout=out))
        shutil.rmtree(report, ignore_errors=True)
        judge = [
            CPMCONF,
            "judge",
            str(capture),
            "--from-run",
            str(run_dir),
            "--report-dir",
            str(report),
        ]
        rows["judge"].append(measured(judge))
    sip_lines = sum(1 for line in fields.open("rb") if line.split(b"\t")[1:3] != [b"", b""])
    if not (report / "compliance.json").is_file():
        raise SystemExit(f"the judge wrote no results: {rows['judge'][-1]['stderr']}")
    doc = json.loads((report / "compliance.json").read_text())
    verdicts = {c: v for t in doc["tests"] for c, v in t["clause_verdicts"].items()}
    out = {
        "packets": packets,
        "capture_bytes": capture.stat().st_size,
        "report_bytes": size_of(report),
        "compliance_bytes": (report / "compliance.json").stat().st_size,
        "tshark_bytes": fields.stat().st_size,
        "tshark_sip_frames": sip_lines,
        "judged_clauses": len(verdicts),
        "not_pass": {c: v for c, v in verdicts.items() if v != "pass"},
        "judge_reason": doc["run"]["capture"]["reason"][:400],
    }
    for tool, ms in rows.items():
        out[tool] = {
            "wall": statistics.median(m["wall"] for m in ms),
            "walls": [round(m["wall"], 2) for m in ms],
            "cpu": statistics.median(m["cpu"] for m in ms),
            "rss_mb": max(m["rss_mb"] for m in ms),
            "codes": [m["code"] for m in ms],
        }
    capture.unlink()  # large; regenerate with gen_capture.py when wanted
    return out


# ---- 3. the kill matrix ----------------------------------------------------------------


def kill_matrix(work: Path, switches: list[str], scope: str) -> dict:
    out_dir = work / f"mutants-{scope}"
    shutil.rmtree(out_dir, ignore_errors=True)
    argv = [CPMCONF, "mutants", "--scope", scope, "--jobs", "1", "--report-dir", str(out_dir)]
    for s in switches:
        argv += ["--fault", s]
    m = measured(argv)
    doc = json.loads((out_dir / "mutants.json").read_text())
    per = [e["run"]["elapsed"] for e in doc["switches"] if e["run"]["elapsed"]]
    from refsut.faults import REGISTRY

    return {
        "scope": scope,
        "switches": switches,
        "statuses": {e["fault"]: e["status"] for e in doc["switches"]},
        "wall": m["wall"],
        "baseline": doc["baseline"]["elapsed"],
        "per_switch": per,
        "mean": statistics.mean(per) if per else 0.0,
        "registry": len(REGISTRY),
        "code": m["code"],
    }


# ---- the document ----------------------------------------------------------------------


def markdown(info: dict) -> str:
    lines = ["# Performance", ""]
    lines += [
        f"Measured {info['when']} by `bench/run.py` ({' '.join(info['argv'])}).",
        "",
        f"Machine: {info['machine']}. The machine is shared: other engineers ran builds and "
        "tests on it at the same time, so single figures carry noise (load average at the "
        f"start {info['load'][0]:.2f}, at the end {info['load'][1]:.2f}); ratios are measured "
        "side by side, alternately, in one session.",
        "",
    ]
    run = info.get("run")
    if run:
        cases = run["cases"]
        d = [c["duration"] for c in cases]
        wire = sum(c["wire"] for c in cases)
        sut = sum(c["sut"] for c in cases)
        lines += ["## The default run (`cpmconf run -q`)", ""]
        lines += ["| figure | value |", "| --- | --- |"]
        if run["total"] is not None:
            lines.append(f"| total, wall clock (process start to exit) | {run['total']:.1f} s |")
        lines += [
            f"| cases | {len(cases)} |",
            f"| sum of case durations | {sum(d):.1f} s |",
            f"| per case: median | {statistics.median(d) * 1000:.0f} ms |",
            f"| per case: p90 | {pct(d, 0.9) * 1000:.0f} ms |",
            f"| per case: mean | {statistics.mean(d) * 1000:.0f} ms |",
            f"| waiting on the SUT (gaps ended by a SUT message, summed) | {sut:.1f} s |",
            f"| on the wire (first to last captured message, summed) | {wire:.1f} s |",
            f"| the rest: set-up, and windows/guards after the last message | "
            f"{sum(d) - wire:.1f} s |",
            "",
            "The slowest cases (the split is an estimate from the pcaps: see bench/run.py):",
            "",
            "| case | verdict | duration | waiting on the SUT | on the wire, SUT not "
            "answering | after the last message |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for c in sorted(cases, key=lambda c: -c["duration"])[:10]:
            lines.append(
                f"| `{c['name']}` | {c['verdict']} | {c['duration'] * 1000:.0f} ms | "
                f"{c['sut'] * 1000:.0f} ms | {(c['wire'] - c['sut']) * 1000:.0f} ms | "
                f"{(c['duration'] - c['wire']) * 1000:.0f} ms |"
            )
        lines.append("")
    if info.get("judge"):
        lines += [
            "## `cpmconf judge` against `tshark -T fields`",
            "",
            "Captures generated from the default run's pcaps (`bench/gen_capture.py`: replays "
            "with shifted ports and Call-IDs; the SUT's and core's ports kept). tshark decodes "
            f"SIP with its heuristics on every port and prints {len(TSHARK_FIELDS)} fields "
            f"({', '.join(TSHARK_FIELDS)}). The judge reads the same file with `--from-run`, "
            "judges every passive check and writes all its report formats. Wall times are "
            "medians of the repeats (each listed); memory is the peak resident set.",
            "",
            "| capture | tool | wall | CPU | peak memory | wrote | judge/tshark (wall) |",
            "| --- | --- | --- | --- | --- | --- | --- |",
        ]
        for j in info["judge"]:
            cap = f"{j['packets']:,} packets, {j['capture_bytes'] / 1e6:.0f} MB"
            ratio = j["judge"]["wall"] / j["tshark"]["wall"]
            lines.append(
                f"| {cap} | tshark | {j['tshark']['wall']:.2f} s ({j['tshark']['walls']}) | "
                f"{j['tshark']['cpu']:.2f} s | {j['tshark']['rss_mb']:.0f} MB | "
                f"{j['tshark_bytes'] / 1e6:.1f} MB of fields | |"
            )
            lines.append(
                f"| {cap} | judge | {j['judge']['wall']:.2f} s ({j['judge']['walls']}) | "
                f"{j['judge']['cpu']:.2f} s | {j['judge']['rss_mb']:.0f} MB | "
                f"{j['report_bytes'] / 1e6:.2f} MB of reports "
                f"(compliance.json {j['compliance_bytes'] / 1e6:.2f} MB) | **{ratio:.2f}** |"
            )
        lines.append("")
        for j in info["judge"]:
            lines.append(
                f"- {j['packets']:,} packets: the judge judged {j['judged_clauses']} clauses "
                f"(not passing: {j['not_pass'] or 'none'}); exit codes {j['judge']['codes']}; "
                f"it says: {j['judge_reason']}"
            )
        lines.append("")
    for k in info.get("mutants", []):
        if k is info["mutants"][0]:
            lines += [
                "## The kill matrix (`cpmconf mutants`)",
                "",
                "| scope | switches measured | baseline run | seconds a switch (mean) | "
                "estimate for every switch, 1 job | 2 jobs |",
                "| --- | --- | --- | --- | --- | --- |",
            ]
        est = k["baseline"] + k["mean"] * k["registry"]
        lines.append(
            f"| {k['scope']} | {len(k['switches'])} ({', '.join(k['switches'])}): "
            f"{', '.join(f'{s:.1f}' for s in k['per_switch'])} s | {k['baseline']:.1f} s | "
            f"{k['mean']:.1f} s | {est / 60:.0f} min ({k['registry']} switches) | "
            f"{est / 120:.0f} min |"
        )
        if k is info["mutants"][-1]:
            lines += [
                "",
                "Estimated from the switches measured (one run at a time), not a whole "
                "matrix; a target-scope run's cost depends on how many cases claim the "
                "switch's clause.",
                "",
            ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=None, help="write the Markdown here too")
    ap.add_argument("--packets", default="50000,1000000")
    ap.add_argument("--run-dir", default=None, help="use this finished run (no new run)")
    ap.add_argument(
        "--switches",
        default="pf.403-no-warning,pf.ignore-block,"
        "pf.copy-no-core-route,client.accept-contact-no-msg-icsi",
    )
    ap.add_argument("--full-switches", default="pf.403-no-warning")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--work", default=None, help="scratch folder (default: a temporary one)")
    ap.add_argument("--skip", default="", help="comma list of parts to skip: run,judge,mutants")
    args = ap.parse_args(argv)
    skip = set(filter(None, args.skip.split(",")))
    work = Path(args.work or f"/tmp/cpmconf-bench-{os.getpid()}")
    work.mkdir(parents=True, exist_ok=True)
    info = {
        "when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "argv": ["bench/run.py", *(argv if argv is not None else sys.argv[1:])],
        "machine": machine(),
    }
    load0 = os.getloadavg()[0]
    run_dir = Path(args.run_dir) if args.run_dir else None
    if "run" not in skip or run_dir is not None:  # a given run is read, not repeated
        run_dir, info["run"] = default_run(work, run_dir)
        print(f"default run: {run_dir}", file=sys.stderr)
    if "judge" not in skip:
        info["judge"] = []
        for n in (int(x) for x in args.packets.split(",") if x):
            info["judge"].append(judge_vs_tshark(run_dir, work, n, args.repeat))
            print(f"judge vs tshark, {n} packets: done", file=sys.stderr)
    if "mutants" not in skip:
        info["mutants"] = [kill_matrix(work, args.switches.split(","), "target")]
        if args.full_switches:
            info["mutants"].append(kill_matrix(work, args.full_switches.split(","), "full"))
    info["load"] = (load0, os.getloadavg()[0])
    (work / "bench.json").write_text(json.dumps(info, indent=1, default=str))
    text = markdown(info)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
