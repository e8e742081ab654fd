"""docs/adding-a-clause.md cannot rot: its worked example is the repository's own code.

Every fenced block tagged `path=<file>` must appear verbatim in that file; the guide's table
of line counts must match its blocks; the example's clause, check, switch and case must be
where the guide says; no conformance case imports another test module; and the example's
case must pass against the reference SUT and fail with its switch on (two `cpmconf run`
subprocesses of one case each, run at once: a few seconds).
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from cpmconf import catalogue
from cpmconf.verdict.checks import CHECKS, pager  # noqa: F401  (pager registers the check)
from refsut.faults import REGISTRY

ROOT = catalogue.REPO_ROOT
GUIDE = ROOT / "docs" / "adding-a-clause.md"
TEXT = GUIDE.read_text(encoding="utf-8")
CLAUSE, SWITCH = "TS-7.2.2.3-3-to", "client.imdn-to-recipient"

# ```<lang> path=<file>\n<body>```
BLOCKS = [
    (m["path"], m["body"])
    for m in re.finditer(r"^```\w+ path=(?P<path>\S+)\n(?P<body>.*?)^```$", TEXT, re.M | re.S)
]
# | <step> | `<file>` | <lines> |
COUNTS = {
    m["path"]: int(m["lines"])
    for m in re.finditer(r"^\| [^|]+ \| `(?P<path>[^`]+)` \| (?P<lines>\d+) \|$", TEXT, re.M)
}


def test_the_guide_has_tagged_blocks_and_a_count_table():
    assert len(BLOCKS) >= 7 and len(COUNTS) >= 7


@pytest.mark.parametrize("path, body", BLOCKS, ids=[f"{p}:{i}" for i, (p, _) in enumerate(BLOCKS)])
def test_each_block_is_verbatim_in_its_file(path, body):
    source = (ROOT / path).read_text(encoding="utf-8")
    assert body in source, f"docs/adding-a-clause.md: a block tagged path={path} is not in {path}"


def test_the_stated_line_counts_are_the_blocks_counts():
    # The first block of each file in the table is the new code; later blocks, and files the
    # table leaves out, show an edited line.
    first: dict[str, int] = {}
    for path, body in BLOCKS:
        first.setdefault(path, len(body.splitlines()))
    assert set(COUNTS) <= set(first), "a file in the table has no block"
    assert COUNTS == {path: first[path] for path in COUNTS}


def test_the_example_is_wired_end_to_end():
    cat = catalogue.load()
    assert cat.get(CLAUSE).testable and "D-imdn-to-sender" in cat.get(CLAUSE).decision
    assert "D-imdn-to-sender" in cat.decisions
    assert [c.fn.__name__ for c in CHECKS[CLAUSE]] == ["imdn_to_sender"]
    assert REGISTRY[SWITCH].clause == CLAUSE
    fixture = ROOT / "selftests" / "refsut" / "faults_registry_before_split.json"
    assert SWITCH in {e["name"] for e in json.loads(fixture.read_text())}


def test_no_case_imports_another_test_module():
    offenders = []
    for path in sorted((ROOT / "testcases").glob("test_*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""] + [a.name for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            if any(n.rsplit(".", 1)[-1].startswith("test_") for n in names):
                offenders.append(f"{path.name}:{node.lineno}")
    assert not offenders, "shared steps belong in cpmconf.procedures: " + ", ".join(offenders)


def _start(out: Path, *extra: str) -> subprocess.Popen:
    argv = [sys.executable, "-m", "cpmconf.cli", "run", "-q", "--clause", CLAUSE]
    argv += ["--report-dir", str(out), *extra]
    return subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def _outcome(proc: subprocess.Popen, out: Path) -> tuple[int, str, str]:
    try:
        text, _ = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        text, _ = proc.communicate()
    doc = json.loads((out / "compliance.json").read_text())
    verdict = next(c["verdict"] for c in doc["clauses"] if c["id"] == CLAUSE)
    return proc.returncode, verdict, text.decode(errors="replace")[-3000:]


def test_the_case_passes_and_its_switch_fails_it(tmp_path):
    # Both runs at once (ephemeral ports, own report folders): half the wall time.
    clean = _start(tmp_path / "clean")
    faulty = _start(tmp_path / "faulty", "--sut-fault", SWITCH)
    try:
        results = [_outcome(clean, tmp_path / "clean"), _outcome(faulty, tmp_path / "faulty")]
    finally:
        for proc in (clean, faulty):
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    (code, verdict, tail), (fcode, fverdict, ftail) = results
    assert (code, verdict) == (0, "pass"), tail
    assert (fcode, fverdict) == (1, "fail"), ftail
