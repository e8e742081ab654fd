"""The README's fault-switch and clause counts agree with `cpmconf faults --summary`.

The README states the counts in words; this reads them out of its text and compares each
with the figure the command prints, so a switch or a claimed clause added without updating
the README fails here, naming the figure and both numbers.
"""

from __future__ import annotations

import contextlib
import io
import re

import pytest

from cpmconf import catalogue
from cpmconf.cli import main

README = " ".join((catalogue.REPO_ROOT / "README.md").read_text(encoding="utf-8").split())

# README wording -> the `cpmconf faults --summary` figure each number in it states.
STATED = [
    (r"`src/refsut/faults/`, (\d+) of them", ("switches",)),
    (
        r"Every one of the (\d+) clauses the cases claim can be failed this way: (\d+) are a "
        r"switch's target and (\d+) more a switch's declared `also` clause",
        (
            "claimed clauses",
            "claimed clauses a switch targets",
            "claimed clauses only a switch's also fails",
        ),
    ),
    (r"with (\d+) switches about \d+ minutes", ("switches",)),
]


@pytest.fixture(scope="module")
def summary() -> dict[str, int]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["faults", "--summary"]) == 0
    figures = {}
    for line in out.getvalue().splitlines():
        label, _, count = line.rpartition(": ")
        figures[label] = int(count)
    return figures


def test_the_summary_has_one_line_per_figure(summary):
    assert {"switches", "claimed clauses", "claimed clauses a switch targets"} <= set(summary)
    per_place = {k: v for k, v in summary.items() if k.startswith("switches in ")}
    assert per_place and sum(per_place.values()) == summary["switches"]


@pytest.mark.parametrize("pattern, figures", STATED, ids=[f[0] for _, f in STATED])
def test_readme_counts_match_the_summary(summary, pattern, figures):
    m = re.search(pattern, README)
    assert m, f"README no longer states {', '.join(figures)} in the words {pattern!r}"
    stated = dict(zip(figures, (int(g) for g in m.groups()), strict=True))
    wrong = {f: (n, summary[f]) for f, n in stated.items() if n != summary[f]}
    assert wrong == {}, "README number, `cpmconf faults --summary` number: " + repr(wrong)


def test_readme_claims_hold(summary):
    # "Every one of the N clauses the cases claim can be failed this way"
    assert summary["claimed clauses no switch fails"] == 0
    # "pins the switches whose clause no case claims yet (none today)"
    none_today = re.search(r"no case claims yet \(none today\)", README)
    assert bool(none_today) == (summary["switches whose clause no case claims"] == 0)
