"""Plain pytest and `cpmconf run` share one reporting path: the same files, the same console.

Both run the same narrowed selection against the reference SUT with a SHOULD fault switched on
(the access-policy 403 without its Warning: non-strict), so the console must also list the
non-strict clause at the end, after pytest's own "passed".
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from cpmconf.catalogue import REPO_ROOT

BOUND = 180  # seconds for one narrowed run (a few seconds normally)
ARGS = ["--sut-fault", "pf.403-no-warning", "--clause", "TS-8.3.2.1-1d"]
MODULE = "testcases/test_ts_8_3_2_1_pf_pager_delivery.py"


def _run(argv: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        argv, cwd=REPO_ROOT, capture_output=True, text=True, timeout=BOUND, check=False
    )


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("paths")
    plain = _run(
        [
            sys.executable,
            "-m",
            "pytest",
            "testcases",
            "--sut=embedded",
            "-p",
            "no:randomly",
            "--report-dir",
            str(base / "plain"),
            *ARGS,
        ]
    )
    cli = _run(
        [sys.executable, "-m", "cpmconf.cli", "run", "--report-dir", str(base / "cli"), *ARGS]
    )
    return base, plain, cli


def _files(folder) -> set[str]:
    return {p.name for p in folder.iterdir() if not p.name.startswith(".")}


def test_the_same_reports(runs):
    base, plain, cli = runs
    assert plain.returncode == 0, plain.stdout[-3000:] + plain.stderr[-2000:]
    assert cli.returncode == 0, cli.stdout[-3000:] + cli.stderr[-2000:]
    expected = {
        "compliance.json",
        "compliance.html",
        "compliance.md",
        "testfest.md",
        "junit-verdicts.xml",
        "junit.xml",
        "allure-results",
        "pcaps",
        "refsut",
    }
    assert expected <= _files(base / "plain")
    assert _files(base / "plain") == _files(base / "cli")
    environment = (base / "plain" / "allure-results" / "environment.properties").read_text()
    assert "faults=pf.403-no-warning" in environment


@pytest.mark.parametrize("which", ["plain", "cli"])
def test_a_tidy_console(runs, which):
    out = {"plain": runs[1], "cli": runs[2]}[which].stdout
    lines = out.splitlines()
    # The summary has a line of its own, never glued to the progress bar.
    assert not [ln for ln in lines if re.search(r"\]\S*cpmconf:", ln)], out
    summary = [ln for ln in lines if ln.startswith("cpmconf: ") and "; results in " in ln]
    assert len(summary) == 1 and "non-strict 1" in summary[0], out
    # The capture mode in every run, once; each module's progress line once.
    assert len([ln for ln in lines if ln.startswith("cpmconf: capture ")]) == 1, out
    assert len([ln for ln in lines if ln.startswith(MODULE + " ")]) == 1, out
    # The SHOULD miss is listed at the end with its block, though pytest counts a pass.
    start = next(i for i, ln in enumerate(lines) if "cpmconf: non-strict (1" in ln)
    block = "\n".join(lines[start:])
    assert "TS-8.3.2.1-1d-warning (SHOULD)" in block and "expected:" in block
    assert "actual:" in block and "Traceback" not in out


def test_json_only_for_many_runs(tmp_path):
    """`--reports json` (the kill matrix's runs): compliance.json and pcaps, nothing else."""
    done = _run(
        [
            sys.executable,
            "-m",
            "pytest",
            "testcases",
            "--sut=embedded",
            "-p",
            "no:randomly",
            "--report-dir",
            str(tmp_path),
            "--reports",
            "json",
            "--clause",
            "TS-8.3.2.1-4",
        ]
    )
    assert done.returncode == 0, done.stdout[-3000:]
    assert _files(tmp_path) == {"compliance.json", "pcaps", "refsut"}
