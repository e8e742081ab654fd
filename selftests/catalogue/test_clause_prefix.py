"""`--clause PREFIX` selection and its did-you-mean (`Clause.matches_prefix`,
`catalogue.unmatched_prefixes`), over the real catalogue.

A prefix selects what `cpmconf clauses --section` would and any id it begins: case-insensitive,
with or without the document (`8.3.2.1` for `TS-8.3.2.1`). A prefix that selects no clause is
a typo, answered in one line with the closest id or section.
"""

from __future__ import annotations

import pytest

from cpmconf import catalogue


@pytest.fixture(scope="module")
def cat():
    return catalogue.load()


def selected(cat, prefix: str) -> set[str]:
    return {c.id for c in cat if c.matches_prefix(prefix)}


def test_documented_forms_select_the_same_clauses(cat):
    full = selected(cat, "TS-8.3.2.1")
    assert full and all(i.startswith("TS-8.3.2.1") for i in full)
    assert selected(cat, "8.3.2.1") == full
    assert selected(cat, "ts-8.3.2.1") == full
    # What `cpmconf clauses --section` lists is selected too.
    assert {c.id for c in cat.select(section="8.3.2.1")} <= full


def test_id_prefixes_still_select_by_id(cat):
    rb = selected(cat, "RB-sip")
    assert rb and all(i.startswith("RB-sip") for i in rb)
    assert selected(cat, "rb-SIP") == rb
    one = next(c for c in cat if c.id.startswith("TS-7.1-"))
    assert one.id in selected(cat, one.id)
    assert one.id in selected(cat, one.id.removeprefix("TS-"))


def test_section_matching_is_case_insensitive(cat):
    c = next(c for c in cat if c.full_section.startswith("TS-7.2"))
    assert c.in_section("ts-7.2") and c.in_section("7.2") and not c.in_section("7.20")


@pytest.mark.parametrize(
    ("prefix", "hint"), [("TS-8.3.2.l", "'TS-8.3.2.1'"), ("RB-sip-content-lenght", "RB-sip-")]
)
def test_a_prefix_selecting_nothing_gets_one_line_with_a_did_you_mean(cat, prefix, hint):
    line = catalogue.unmatched_prefixes(cat, ["TS-8.3.2.1", prefix])
    assert line is not None and "\n" not in line
    assert f"--clause {prefix!r} matches no clause" in line and "did you mean" in line
    assert hint in line
    assert "'TS-8.3.2.1' matches" not in line  # the good prefix is not named


def test_good_prefixes_give_no_problem(cat):
    assert catalogue.unmatched_prefixes(cat, ["8.3.2.1", "rb-sip", "TS-7.1-3"]) is None
    assert "TS-9.9" in catalogue.unmatched_prefixes(cat, ["TS-9.9"])
