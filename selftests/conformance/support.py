"""Running `cpmconf run` as a subprocess, bounded, and reading back what it wrote.

Shared by the self-tests that judge whole conformance runs (fault kills, silent SUTs): each run
is a child process with a hard timeout, and its outcome is the exit code, the captured output
and the `compliance.json` it left in its report folder.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from cpmconf.catalogue import REPO_ROOT
from cpmconf.plugin import results


@dataclass
class RunOutcome:
    """One finished (or killed) `cpmconf run`."""

    args: list[str]
    report_dir: Path
    returncode: int | None  # None: killed at the timeout
    elapsed: float
    stdout: str = ""
    stderr: str = ""
    doc: dict | None = field(default=None, repr=False)

    @property
    def timed_out(self) -> bool:
        return self.returncode is None

    def clause(self, clause_id: str) -> dict | None:
        for c in (self.doc or {}).get("clauses", []):
            if c["id"] == clause_id:
                return c
        return None

    def tests_of(self, clause_id: str) -> list[dict]:
        return [t for t in (self.doc or {}).get("tests", []) if clause_id in t["clauses"]]

    def describe(self, clause_id: str | None = None) -> str:
        """What a person needs when an assertion about this run fails."""
        lines = [
            f"cpmconf run {' '.join(self.args)}",
            f"exit {self.returncode} after {self.elapsed:.1f} s; reports in {self.report_dir}",
        ]
        if self.doc is not None:
            tests = self.tests_of(clause_id) if clause_id else self.doc["tests"]
            for t in tests:
                reason = t["reason"].strip().replace("\n", "\n      ")
                lines.append(f"  [{t['verdict']}] {t['id']}\n      {reason[:600]}")
        else:
            lines.append("  no compliance.json")
        lines.append("--- stdout (tail) ---\n" + self.stdout[-2000:])
        lines.append("--- stderr (tail) ---\n" + self.stderr[-2000:])
        return "\n".join(lines)


def run_cpmconf(report_dir: Path, *args: str, timeout: float) -> RunOutcome:
    """`python -m cpmconf.cli run --report-dir DIR ARGS...`, killed after `timeout` seconds.

    A killed run's reference SUT does not outlive it: the SUT is started with
    `--exit-on-stdin-eof`, and its stdin is a pipe held by the killed process.
    """
    argv = ["--report-dir", str(report_dir), *args]
    cmd = [sys.executable, "-m", "cpmconf.cli", "run", *argv]
    start = time.monotonic()
    try:
        proc = subprocess.run(
            cmd,
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
        code, out, err = proc.returncode, proc.stdout, proc.stderr
    except subprocess.TimeoutExpired as exc:
        code = None
        out = _text(exc.stdout)
        err = _text(exc.stderr) + f"\n[killed after {timeout:g} s]"
    elapsed = time.monotonic() - start
    doc = None
    path = report_dir / "compliance.json"
    if path.is_file():
        doc = json.loads(path.read_text(encoding="utf-8"))
    return RunOutcome(argv, report_dir, code, elapsed, out, err, doc)


def _text(data: bytes | str | None) -> str:
    if data is None:
        return ""
    return data.decode("utf-8", "replace") if isinstance(data, bytes) else data


def assert_well_formed(run: RunOutcome, nothing_judged_ok: bool = False) -> dict:
    """The run ended by itself, without a harness crash, and wrote a valid results document.

    `nothing_judged_ok`: exit 3 is fine when it only says no clause passed or failed.
    """
    assert not run.timed_out, run.describe()
    judged_nothing = nothing_judged_ok and "cpmconf: nothing judged" in run.stderr
    assert run.returncode != 3 or judged_nothing, "harness error or bad usage\n" + run.describe()
    assert run.doc is not None, "no compliance.json\n" + run.describe()
    problems = results.validate(run.doc)
    assert problems == [], f"{problems}\n{run.describe()}"
    return run.doc
