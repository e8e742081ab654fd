#!/usr/bin/env python3
"""Run every command of the README's `sh` code blocks, as a new user would, on a fresh clone.

Usage: tools/readme_commands.py [--here] [--list] [--keep]
  (default)  clone this checkout's HEAD into a temporary folder and run there
  --here     run in this checkout instead (its .venv is reused)
  --list     print the plan (each command, how it is run, or why it is skipped) and exit
  --keep     keep the temporary clone and print its path

Each command runs in bash from the clone's top folder, with `.venv/bin/activate` sourced after
the quick start (as the README says), under a hard timeout. A few long commands run with a
narrowing argument, or are skipped, each with its reason in NARROW and SKIP below; names the
README marks as standing for the user's own files are given real ones in PLACEHOLDERS. A
command the README gains that needs neither still runs verbatim. Exit 0 when every command
that ran exited as EXPECT says (default 0), 1 otherwise, 3 when the README has a command this
plan cannot run (a placeholder with no stand-in).

Standard library only: it must run before `.venv` exists.
"""

from __future__ import annotations

import argparse
import json
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = "README.md"
TIMEOUT = 600.0  # seconds, any one command (the quick start installs the venv)
NARROWING = "--clause TS-8.3.2.1-4"  # three cases, a few seconds

# Commands run with an argument appended, and why.
NARROW = {
    "./dev selftests": (
        "--co -q",
        "the whole self-test suite takes minutes and CI runs it as its first step; here it is "
        "collected (lint and import contracts still run)",
    ),
    "cpmconf run --sut my-pf.toml": (NARROWING, "a whole suite; the option is what is tried"),
    "cpmconf run --sut my-pf.toml --no-preflight": (NARROWING, "as above"),
    "cpmconf run --sut-fault pf.403-no-warning": (
        "--clause TS-8.3.2.1-1d",
        "a whole suite; the switch's own clause is what it shows",
    ),
    "cpmconf run --strict-should --guard 1.5": (NARROWING, "a whole suite"),
    "pytest testcases --sut=embedded": (NARROWING, "a whole suite"),
    "cpmconf run --report-dir reports/a": (NARROWING, "a whole suite"),
    "cpmconf run --report-dir reports/b --sut-fault pf.no-415": (
        "--clause TS-8.3.2.1-2 --clause TS-8.3.2.1-4",
        "a whole suite; the fault's clause and the same three cases as reports/a",
    ),
    "cpmconf run -m robustness": ("--clause RB-sip-invalid-uri", "41 cases; one part of the group"),
    'cpmconf run -m "not robustness"': (NARROWING, "113 cases"),
    "cpmconf mutants --fault pf.ignore-block --json matrix.json": (
        "--scope target",
        "full scope is two whole suites; target scope runs the switch's own cases",
    ),
}
# Commands not run, and why.
SKIP = {
    "cpmconf mutants": "every switch, about 80 minutes (the README says so); "
    "`./dev proofs` runs the kill matrix in CI",
    "cpmconf mutants --scope target": "every switch, several minutes; "
    "the --fault form above runs the same code path for one switch",
    "HYPOTHESIS_PROFILE=long .venv/bin/pytest selftests/codec selftests/capture -q": (
        "a long random search by design (5000 examples a test); `./dev selftests` runs the "
        "same tests with the ci profile"
    ),
}
# Commands whose documented exit code is not 0.
EXPECT = {
    "cpmconf run --sut-fault pf.403-no-warning": 0,  # a SHOULD: non-strict passes
    "cpmconf run --strict-should --guard 1.5": 0,
    "cpmconf run --report-dir reports/b --sut-fault pf.no-415": 1,  # the fault fails its clause
}
MY_PF = "my-pf.toml"


def commands(readme: str) -> list[str]:
    """Every command line of the ```sh blocks: comments and blank lines dropped."""
    out, inside = [], False
    for line in readme.splitlines():
        if line.startswith("```"):
            inside = not inside and line.strip() == "```sh"
            continue
        if inside:
            cmd = _strip_comment(line).strip()
            if cmd:
                out.append(cmd)
    return out


def _strip_comment(line: str) -> str:
    """The line without a trailing `# ...` comment (a # inside quotes stays)."""
    quote = None
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i]
    return line


# Names the README uses for a run's own files, filled from reports/a (run first by the plan).
RUN_DIR = "reports/<run>"
FROM_RUN_A = ("x.pcap", "HOST:PORT", RUN_DIR)


def placeholders(clone: Path) -> dict[str, str]:
    """Stand-ins for the names the README marks as the user's own."""
    subs = {MY_PF: MY_PF, "my.toml": "fixtures/profiles/embedded.toml"}
    run = clone / "reports" / "a"
    results = run / "compliance.json"
    if results.exists():
        doc = json.loads(results.read_text(encoding="utf-8"))
        pcap = next(
            (t["evidence"]["pcap"] for t in doc["tests"] if t["evidence"].get("pcap")), None
        )
        if pcap:
            subs["x.pcap"] = str(Path("reports/a") / pcap)
        subs[RUN_DIR] = "reports/a"  # the run that pcap came from
        pf = (doc["run"].get("addresses") or {}).get("pf")
        if pf:
            subs["HOST:PORT"] = pf
    return subs


def plan(cmd: str) -> tuple[str, str | None, str]:
    """(how, command to run or None, why): how is `run`, `narrowed` or `skipped`."""
    if cmd in SKIP:
        return "skipped", None, SKIP[cmd]
    if cmd in NARROW:
        extra, why = NARROW[cmd]
        return "narrowed", f"{cmd} {extra}", why
    return "run", cmd, ""


def _substitute(cmd: str, subs: dict[str, str]) -> tuple[str, list[str]]:
    words = shlex.split(cmd)
    missing = [w for w in words if w in FROM_RUN_A and w not in subs]
    return " ".join(shlex.quote(subs.get(w, w)) for w in words), missing


def _prepare(clone: Path) -> None:
    """The user's own target profile: the embedded one, under the README's name for it."""
    shutil.copy(clone / "fixtures" / "profiles" / "embedded.toml", clone / MY_PF)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--here", action="store_true")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args(argv)
    cmds = commands((ROOT / README).read_text(encoding="utf-8"))
    if args.list:
        for cmd in cmds:
            how, run, why = plan(cmd)
            print(f"{how:<9} {run or cmd}" + (f"\n          ({why})" if why else ""))
        return 0
    tmp = None
    if args.here:
        clone = ROOT
    else:
        tmp = Path(tempfile.mkdtemp(prefix="cpmconf-readme-"))
        clone = tmp / "cpmconf"
        subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
        print(f"readme: fresh clone of {ROOT} at {clone}", flush=True)
    _prepare(clone)
    failed, started = [], time.monotonic()
    try:
        for n, cmd in enumerate(cmds, 1):
            how, run, why = plan(cmd)
            if run is None:
                print(f"[{n:>2}] skipped   {cmd}\n       ({why})", flush=True)
                continue
            run, missing = _substitute(run, placeholders(clone))
            if missing:
                print(f"readme: no stand-in for {', '.join(missing)} in {cmd!r}", file=sys.stderr)
                return 3
            quick = cmd.startswith("./dev ") or cmd.startswith(". ")
            script = run if quick else f". .venv/bin/activate && {run}"
            t0 = time.monotonic()
            try:
                done = subprocess.run(
                    ["bash", "-c", script],
                    cwd=clone,
                    capture_output=True,
                    text=True,
                    timeout=TIMEOUT,
                    check=False,
                )
                code, output = done.returncode, done.stdout + done.stderr
            except subprocess.TimeoutExpired:
                code, output = None, f"did not finish within {TIMEOUT:g} s"
            took = time.monotonic() - t0
            want = EXPECT.get(cmd, 0)
            ok = code == want
            print(
                f"[{n:>2}] {'ok' if ok else 'FAILED':<9} {run}  (exit {code}, {took:.1f} s)"
                + (f"\n       ({how}: {why})" if how == "narrowed" else ""),
                flush=True,
            )
            if quick:  # what ./dev says it installs and how long each step took
                for line in output.splitlines():
                    if line.startswith("dev: "):
                        print(f"       {line}", flush=True)
            if not ok:
                failed.append(cmd)
                tail = "\n".join(output.strip().splitlines()[-15:])
                print(f"       expected exit {want}; last lines:\n{tail}", flush=True)
    finally:
        if tmp is not None and not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
        elif tmp is not None:
            print(f"readme: clone kept at {clone}")
    total = time.monotonic() - started
    print(
        f"readme: {len(cmds)} command(s), {len(failed)} failed, "
        f"{sum(1 for c in cmds if c in SKIP)} skipped with a reason, {total:.0f} s"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
