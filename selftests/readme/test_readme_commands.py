"""The README's commands: every one is run by tools/readme_commands.py (CI, on a fresh clone),
narrowed or skipped only with a stated reason. This checks the plan, not the runs."""

from __future__ import annotations

import importlib.util
import shlex

from cpmconf.catalogue import REPO_ROOT

spec = importlib.util.spec_from_file_location(
    "readme_commands", REPO_ROOT / "tools" / "readme_commands.py"
)
rc = importlib.util.module_from_spec(spec)
spec.loader.exec_module(rc)
README = (REPO_ROOT / "README.md").read_text(encoding="utf-8")


def test_extraction_takes_sh_blocks_only():
    text = '```sh\n./dev x   # a comment\n\ncpmconf run -m "a # b"\n```\n```text\nnot me\n```\n'
    assert rc.commands(text) == ["./dev x", 'cpmconf run -m "a # b"']


def test_every_readme_command_has_a_plan():
    cmds = rc.commands(README)
    assert cmds[:2] == ["./dev conformance", "./dev selftests"]  # the quick start
    assert ". .venv/bin/activate" in cmds  # how cpmconf gets on PATH
    for cmd in cmds:
        how, run, why = rc.plan(cmd)
        assert how in ("run", "narrowed", "skipped")
        assert how == "run" or why, cmd  # narrowing and skipping always say why
    # Every narrowing and skip names a command the README still has.
    assert set(rc.NARROW) <= set(cmds) and set(rc.SKIP) <= set(cmds) and set(rc.EXPECT) <= set(cmds)


def test_placeholders_have_stand_ins(tmp_path):
    subs = rc.placeholders(tmp_path)
    for cmd in rc.commands(README):
        for word in shlex.split(cmd):
            if word in rc.FROM_RUN_A:
                continue  # filled from reports/a, which the plan runs first
            assert not word.startswith("<") and "<" not in word, cmd
        assert rc.MY_PF in subs


def test_runs_that_compare_come_before_the_matrix():
    cmds = rc.commands(README)
    first_matrix = next(i for i, c in enumerate(cmds) if c.startswith("cpmconf matrix"))
    judge = next(i for i, c in enumerate(cmds) if c.startswith("cpmconf judge"))
    runs = [i for i, c in enumerate(cmds) if "--report-dir reports/" in c]
    assert len(runs) == 2 and max(runs) < first_matrix < judge
