"""The loader rejects broken catalogues with an error naming the file, the entry and the key."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from cpmconf import catalogue

GOOD = {
    "id": "TS-7.2.1.1-1",
    "source": "004_270e343cfa9dfe47.txt",
    "section": "7.2.1.1",
    "title": "Sending a Pager Mode CPM Standalone Message",
    "level": "SHALL",
    "role": "cpm-client-originating",
    "summary": "Example summary.",
    "when": None,
    "observable": "MESSAGE -> Accept-Contact",
    "testable": True,
    "reason": None,
    "conditions": ["pager-mode"],
    "decision": [],
    "superseded_by": None,
}


def make_catalogue(tmp_path: Path, entries: list[dict]) -> Path:
    for name in (catalogue.VOCABULARY_FILE, catalogue.DECISIONS_FILE):
        shutil.copy(catalogue.DEFAULT_DIR / name, tmp_path / name)
    (tmp_path / "x.yaml").write_text(yaml.safe_dump(entries, sort_keys=False))
    return tmp_path


def entry(**changes) -> dict:
    e = dict(GOOD)
    for k, v in changes.items():
        if v is ...:
            e.pop(k)
        else:
            e[k] = v
    return e


def problems_of(tmp_path: Path, entries: list[dict]) -> list[catalogue.Problem]:
    with pytest.raises(catalogue.CatalogueError) as info:
        catalogue.load(make_catalogue(tmp_path, entries))
    return info.value.problems


def test_minimal_catalogue_loads(tmp_path):
    cat = catalogue.load(make_catalogue(tmp_path, [entry()]))
    assert list(cat.clauses) == ["TS-7.2.1.1-1"]


def test_duplicate_id(tmp_path):
    (p,) = problems_of(tmp_path, [entry(), entry()])
    assert (p.file, p.entry, p.key) == ("x.yaml", "TS-7.2.1.1-1", "id")
    assert "duplicate" in p.message


def test_unknown_level(tmp_path):
    (p,) = problems_of(tmp_path, [entry(level="MUST")])
    assert (p.entry, p.key) == ("TS-7.2.1.1-1", "level")
    assert "MUST" in str(p) and "x.yaml" in str(p)


def test_unknown_role(tmp_path):
    (p,) = problems_of(tmp_path, [entry(role="cpm-server")])
    assert p.key == "role"


def test_dangling_supersession(tmp_path):
    (p,) = problems_of(tmp_path, [entry(superseded_by="TS-9.9.9-1")])
    assert p.key == "superseded_by" and "TS-9.9.9-1" in p.message


def test_missing_field(tmp_path):
    (p,) = problems_of(tmp_path, [entry(observable=...)])
    assert (p.entry, p.key, p.message) == ("TS-7.2.1.1-1", "observable", "missing")


def test_unknown_key(tmp_path):
    (p,) = problems_of(tmp_path, [entry(colour="blue")])
    assert p.key == "colour"


def test_source_must_be_one_of_the_five(tmp_path):
    (p,) = problems_of(tmp_path, [entry(source="005_other.txt")])
    assert p.key == "source"


def test_untestable_needs_a_categorised_reason(tmp_path):
    (p,) = problems_of(tmp_path, [entry(testable=False)])
    assert p.key == "reason"
    cat = catalogue.load(
        make_catalogue(tmp_path, [entry(testable=False, reason="ui-only: shown to the user")])
    )
    assert not cat.get("TS-7.2.1.1-1").testable


def test_unknown_ics_item_and_decision(tmp_path):
    problems = problems_of(tmp_path, [entry(conditions=["teleport"], decision=["D-nope"])])
    assert {p.key for p in problems} == {"conditions", "decision"}


def test_id_must_carry_document_and_section(tmp_path):
    (p,) = problems_of(tmp_path, [entry(id="TS-7.2.1.2-1")])
    assert p.key == "id"


def test_every_problem_is_reported_at_once(tmp_path):
    problems = problems_of(tmp_path, [entry(level="MUST"), entry(id="TS-7.2.1.1-2", role="x")])
    assert {p.entry for p in problems} == {"TS-7.2.1.1-1", "TS-7.2.1.1-2"}


def test_ids_do_not_depend_on_position(tmp_path):
    entries = [entry(id=f"TS-7.2.1.1-{n}") for n in (1, 2, 3)]
    a = catalogue.load(make_catalogue(tmp_path, entries))
    b = catalogue.load(make_catalogue(tmp_path, list(reversed(entries))))
    assert {k: v.summary for k, v in a.clauses.items()} == {
        k: v.summary for k, v in b.clauses.items()
    }


def test_section_prefix_is_dot_aware(tmp_path):
    entries = [
        entry(id="TS-7.2.1-1", section="7.2.1"),
        entry(id="TS-7.2.1.1-1"),
        entry(id="TS-7.2.10-1", section="7.2.10"),
    ]
    cat = catalogue.load(make_catalogue(tmp_path, entries))
    assert [c.id for c in cat.select(section="TS-7.2.1")] == ["TS-7.2.1-1", "TS-7.2.1.1-1"]
    assert [c.id for c in cat.select(section="7.2.10")] == ["TS-7.2.10-1"]


# ---- robustness (RB) entries name the RFC rule they rest on and its level (issue 14 item 6)

RB = {
    **GOOD,
    "id": "RB-sip-x",
    "source": "robustness",
    "section": "sip",
    "role": "sip-ua",
    "conditions": [],
    "rule": "RFC 3261 18.3",
    "rule_level": "SHOULD",
    "level": "SHOULD",
}


def rb_entry(**changes) -> dict:
    e = dict(RB)
    for k, v in changes.items():
        if v is ...:
            e.pop(k)
        else:
            e[k] = v
    return e


def test_rb_entry_loads_with_its_rule(tmp_path):
    cat = catalogue.load(make_catalogue(tmp_path, [rb_entry()]))
    clause = cat.get("RB-sip-x")
    assert (clause.rule, clause.rule_level, clause.refusal_level) == (
        "RFC 3261 18.3",
        "SHOULD",
        "SHOULD",
    )
    assert clause.to_json()["rule_level"] == "SHOULD"


@pytest.mark.parametrize(
    "rule_level,refusal,informational",
    [
        ("MUST", "SHALL", False),
        ("survival", None, False),
        # D-rb-suite-grading: no rule, so the refusal is reported, never judged
        ("suite", None, True),
        ("security", None, False),
    ],
)
def test_rule_level_gives_the_refusal_level(tmp_path, rule_level, refusal, informational):
    entries = [rb_entry(rule_level=rule_level, level="SHALL")]
    cat = catalogue.load(make_catalogue(tmp_path, entries))
    assert cat.get("RB-sip-x").refusal_level == refusal
    assert cat.get("RB-sip-x").refusal_informational is informational


@pytest.mark.parametrize("key", ["rule", "rule_level"])
def test_rb_entry_without_its_rule_is_refused(tmp_path, key):
    changes = {"level": "SHALL", "rule_level": "MUST", key: ...}
    problems = problems_of(tmp_path, [rb_entry(**changes)])
    assert [(p.entry, p.key) for p in problems] == [("RB-sip-x", key)]


@pytest.mark.parametrize("rule_level,level", [("SHOULD", "SHALL"), ("MUST", "SHOULD")])
def test_level_follows_a_should_rule(tmp_path, rule_level, level):
    (p,) = problems_of(tmp_path, [rb_entry(rule_level=rule_level, level=level)])
    assert p.key == "level"


def test_unknown_rule_level(tmp_path):
    (p,) = problems_of(tmp_path, [rb_entry(rule_level="MAY")])
    assert p.key == "rule_level" and "MUST" in p.message


def test_rule_fields_only_on_rb_entries(tmp_path):
    (p,) = problems_of(tmp_path, [entry(rule="RFC 3261 18.3")])
    assert p.key == "rule" and "robustness" in p.message


def test_every_shipped_rb_entry_names_its_rule():
    cat = catalogue.load()
    rb = [c for c in cat if c.doc == "RB"]
    assert rb and all(c.rule and c.rule_level in catalogue.RULE_LEVELS for c in rb)
    # the readings of issue 14: too-small Content-Length, feature-tag encoding and malformed
    # CPIM judge survival alone; a UDP request longer than its datagram is a SHOULD
    assert cat.get("RB-sip-content-length").refusal_level is None
    assert cat.get("RB-sip-feature-tag-encoding").refusal_level is None
    assert cat.get("RB-cpim-malformed").refusal_level is None
    assert cat.get("RB-sip-content-length-udp-excess").refusal_level == "SHOULD"
    # item 6: nothing fails on the suite's own ground alone (D-rb-suite-grading)
    assert all(c.refusal_level in (None, "SHOULD") or c.rule_level == "MUST" for c in rb)
    assert cat.get("RB-cpm-unknown-message-id-refused").refusal_level == "SHOULD"
