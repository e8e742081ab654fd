"""The check<->clause map: a check judges only the clauses it is registered for.

`register` stamps each Judgement with its check and the clauses the check declares, and
`Expectations.judge` refuses any other clause (a HarnessError naming the case, the check and
the clause). Here: the refusal on a fake check, and a scan of every conformance case for
`expect.judge(<clause>, <module>.<check>(...))` whose clause the check does not declare.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from cpmconf import catalogue
from cpmconf.verdict import Expectations, HarnessError, Verdict
from cpmconf.verdict.checks import CHECKS, DECLARED, base
from cpmconf.verdict.checks.base import judged, register

ROOT = Path(__file__).resolve().parents[2]
TESTCASES = ROOT / "testcases"


@pytest.fixture
def registry(monkeypatch):
    """A private registry, so the fake checks never reach the real one."""
    monkeypatch.setattr(base, "CHECKS", {})
    monkeypatch.setattr(base, "DECLARED", {})
    return base


def _expect(*clauses: str) -> Expectations:
    return Expectations({c: ("SHALL", c) for c in clauses}, case="fake::test_case")


def test_a_check_judges_the_clauses_it_declares_and_no_other(registry):
    @register("FAKE-1", "FAKE-2")
    def present(ok: bool):
        return judged(ok, "present", "present" if ok else "absent")

    j = present(True)
    assert j.check == f"{__name__.rsplit('.', 1)[-1]}.present"
    assert j.declares == {"FAKE-1", "FAKE-2"}
    exp = _expect("FAKE-1", "FAKE-2", "FAKE-3")
    assert exp.judge("FAKE-1", j).verdict == Verdict.PASS
    assert exp.judge("FAKE-2", present(False)).verdict == Verdict.FAIL
    with pytest.raises(HarnessError) as err:
        exp.judge("FAKE-3", present(True))
    text = str(err.value)
    assert "fake::test_case" in text and "'FAKE-3'" in text and "present" in text
    assert "FAKE-1, FAKE-2" in text  # what it does declare
    assert [f.clause for f in exp.findings] == ["FAKE-1", "FAKE-2"]  # nothing recorded for 3


def test_a_second_registration_adds_clauses_without_wrapping_again(registry):
    @register("FAKE-1", passive=True)
    @register("FAKE-2")
    def check(ok: bool):
        return judged(ok, "x", "x")

    again = register("FAKE-3")(check)  # another module adds a clause (as pf_large does)
    assert again is check
    assert check(True).declares == {"FAKE-1", "FAKE-2", "FAKE-3"}
    entries = {c.clause: c for cs in registry.CHECKS.values() for c in cs}
    assert entries["FAKE-1"].passive and not entries["FAKE-2"].passive
    assert {c.fn for c in entries.values()} == {check}


def test_a_check_returning_another_checks_judgement_answers_for_it(registry):
    @register("FAKE-INNER")
    def inner():
        return judged(True, "x", "x")

    @register("FAKE-OUTER")
    def outer():
        return inner()

    j = outer()
    assert j.check.endswith(".outer") and j.declares == {"FAKE-OUTER"}
    _expect("FAKE-OUTER").judge("FAKE-OUTER", j)
    with pytest.raises(HarnessError):
        _expect("FAKE-INNER").judge("FAKE-INNER", j)


def test_a_judgement_made_outside_a_registered_check_is_not_validated():
    # A helper's judgement names no check: there is no register list to hold it to.
    exp = _expect("FAKE-1")
    assert exp.judge("FAKE-1", judged(True, "x", "x")).verdict == Verdict.PASS


def test_every_registered_check_is_what_its_module_exports():
    """A function registered only by `register(...)(fn)` in another module would be called
    unwrapped through its own module, its judgements unstamped and unvalidated."""
    raw = []
    for entries in CHECKS.values():
        for c in entries:
            exported = getattr(sys.modules[c.fn.__module__], c.fn.__name__, None)
            if exported is not c.fn:
                raw.append(f"{c.fn.__module__}.{c.fn.__name__} ({c.clause})")
    assert sorted(set(raw)) == []


def test_every_declared_clause_is_in_the_catalogue():
    cat = catalogue.load()
    unknown = {f"{name}: {c}" for name, cs in DECLARED.items() for c in cs if c not in cat}
    assert sorted(unknown) == []


# ---- the whole suite, read statically --------------------------------------------------


def _check_modules(tree: ast.Module) -> dict[str, str]:
    """Local name -> check module name, from the case's imports of cpmconf.verdict.checks."""
    out = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "cpmconf.verdict.checks":
            for a in node.names:
                out[a.asname or a.name] = a.name
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
            "cpmconf.verdict.checks."
        ):
            continue  # a name imported from a check module: not `module.fn(...)`
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("cpmconf.verdict.checks.") and a.asname:
                    out[a.asname] = a.name.rsplit(".", 1)[1]
    return out


def _loop_values(tree: ast.Module) -> dict[int, dict[str, list[str]]]:
    """For each node id inside `for NAME in ("A", "B"):`, NAME's literal values."""
    out: dict[int, dict[str, list[str]]] = {}
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.For)
            and isinstance(node.target, ast.Name)
            and isinstance(node.iter, ast.Tuple | ast.List)
            and all(isinstance(e, ast.Constant) for e in node.iter.elts)
        ):
            values = [e.value for e in node.iter.elts]
            for inner in ast.walk(node):
                out.setdefault(id(inner), {})[node.target.id] = values
    return out


def judge_pairs(path: Path) -> list[tuple[int, list[str] | None, str]]:
    """(line, clause ids or None when not literal, "module.check") for every
    `x.judge(<clause>, <module>.<check>(...))` in a case file."""
    tree = ast.parse(path.read_text())
    modules = _check_modules(tree)
    loops = _loop_values(tree)
    pairs = []
    for node in ast.walk(tree):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "judge"
            and len(node.args) >= 2
        ):
            continue
        clause, made = node.args[0], node.args[1]
        if not (
            isinstance(made, ast.Call)
            and isinstance(made.func, ast.Attribute)
            and isinstance(made.func.value, ast.Name)
            and made.func.value.id in modules
        ):
            continue
        name = f"{modules[made.func.value.id]}.{made.func.attr}"
        if isinstance(clause, ast.Constant) and isinstance(clause.value, str):
            clauses = [clause.value]
        elif isinstance(clause, ast.Name):
            clauses = loops.get(id(node), {}).get(clause.id)
        else:
            clauses = None
        pairs.append((node.lineno, clauses, name))
    return sorted(pairs, key=lambda p: p[0])


def test_the_scan_reads_literal_and_looped_clauses(tmp_path):
    case = tmp_path / "test_x.py"
    case.write_text(
        "from cpmconf.verdict.checks import pager as p\n"
        "def test(expect, m):\n"
        "    expect.judge('A-1', p.privacy_id(m))\n"
        "    for c in ('A-2', 'A-3'):\n"
        "        expect.judge(c, p.privacy_id(m))\n"
        "    expect.judge(other, p.privacy_id(m))\n"
    )
    assert judge_pairs(case) == [
        (3, ["A-1"], "pager.privacy_id"),
        (5, ["A-2", "A-3"], "pager.privacy_id"),
        (6, None, "pager.privacy_id"),
    ]


def test_no_case_judges_a_clause_its_check_does_not_declare():
    wrong, read = [], 0
    for path in sorted(TESTCASES.rglob("*.py")):
        for line, clauses, name in judge_pairs(path):
            if name not in DECLARED:
                continue  # a helper, not a registered check: its judgement is not stamped
            read += 1
            for clause in clauses or ():
                if clause not in DECLARED[name]:
                    wrong.append(f"{path.name}:{line}: {clause} judged by {name}")
    assert read > 150  # the scan still finds the suite's judgements
    # clauses chosen at run time (not literal) are held by Expectations.judge in the run
    assert wrong == []
