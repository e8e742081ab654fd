"""The README's fault-switch and clause counts agree with the registry and the cases.

The counts in the README's "Writing test cases" paragraph are written by hand; this keeps them
from going stale when a switch or a claimed clause is added.
"""

from __future__ import annotations

import re

from cpmconf import catalogue
from refsut.faults import REGISTRY

README = (catalogue.REPO_ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_counts_match_the_registry_and_the_claims():
    claims = set(
        catalogue.claimed_clause_ids(sorted((catalogue.REPO_ROOT / "testcases").glob("test_*.py")))
    )
    targets = {f.clause for f in REGISTRY.values()} & claims
    also = {c for f in REGISTRY.values() for c in f.also} & (claims - targets)
    text = " ".join(README.split())
    m = re.search(r"faults\.py`, (\d+) of them\)", text)
    assert m and int(m.group(1)) == len(REGISTRY), f"README names {m and m.group(1)} switches"
    m = re.search(
        r"Every one of the (\d+) clauses the cases claim can be failed this way: (\d+) are a "
        r"switch's target and (\d+) more",
        text,
    )
    assert m, "README no longer states the kill counts in the expected words"
    assert tuple(int(g) for g in m.groups()) == (len(claims), len(targets), len(also))
