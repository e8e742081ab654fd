"""The conditions split out of MAY clauses (D-may-binding-condition) stay paired: each such
SHALL names a MAY of the same section whose id it extends, and each fault switch that breaks
the condition targets the SHALL and declares the MAY, so the MAY is never a switch's target."""

from __future__ import annotations

import pytest

from cpmconf import catalogue

DECISION = "D-may-binding-condition"


@pytest.fixture(scope="module")
def cat() -> catalogue.Catalogue:
    return catalogue.load()


def _pairs(cat) -> dict[str, str]:
    """SHALL sub-clause id -> the MAY it was split from."""
    out = {}
    for c in cat:
        if DECISION in c.decision and c.level != "MAY":
            out[c.id] = c.id.rsplit("-", 1)[0]
    return out


def test_every_condition_extends_a_may_of_its_section(cat):
    pairs = _pairs(cat)
    assert pairs, f"no clause names {DECISION}"
    for sub, may in pairs.items():
        assert may in cat, f"{sub}: no MAY {may}"
        parent, child = cat.get(may), cat.get(sub)
        assert parent.level == "MAY" and DECISION in parent.decision, sub
        assert (parent.section, parent.role) == (child.section, child.role), sub
        assert child.level == "SHALL" and child.when, sub
        assert child.testable == parent.testable, sub


def test_every_may_naming_the_decision_has_its_condition(cat):
    mays = {c.id for c in cat if DECISION in c.decision and c.level == "MAY"}
    assert mays == set(_pairs(cat).values())


def test_the_switches_fail_the_condition_and_declare_the_may(cat):
    from refsut.faults import REGISTRY

    pairs = _pairs(cat)
    targets = {f.clause for f in REGISTRY.values()}
    assert not targets & set(pairs.values()), "a switch targets a MAY whose condition is split"
    for f in REGISTRY.values():
        if f.clause in pairs:
            assert pairs[f.clause] in f.also, f.name
