"""`cpmconf clauses`: listing, filters, JSON and --uncovered."""

from __future__ import annotations

import json

from cpmconf import catalogue, cli


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_json_carries_every_field(capsys):
    code, out, _ = run(capsys, "clauses", "--json")
    assert code == 0
    rows = json.loads(out)
    assert len(rows) == len(catalogue.load())
    for row in rows:
        assert set(catalogue.ENTRY_KEYS) <= set(row)
    assert len({r["id"] for r in rows}) == len(rows)
    with_decision = [r for r in rows if r["decision"]]
    assert all({"id", "reading", "reason"} <= set(d) for r in with_decision for d in r["decision"])


def test_filters(capsys):
    code, out, _ = run(capsys, "clauses", "--json", "--role", "pf-terminating", "--level", "SHALL")
    rows = json.loads(out)
    assert rows and all(r["role"] == "pf-terminating" and r["level"] == "SHALL" for r in rows)
    code, out, _ = run(capsys, "clauses", "--json", "--section", "TS-7.2.3")
    rows = json.loads(out)
    assert rows and all(r["section"].startswith("7.2.3") for r in rows)
    code, out, _ = run(capsys, "clauses", "--json", "--testable", "no")
    rows = json.loads(out)
    assert rows and all(not r["testable"] and r["reason"] for r in rows)


def test_text_listing_has_one_line_per_clause(capsys):
    code, out, err = run(capsys, "clauses", "--section", "TS-7.2.3.1")
    lines = out.splitlines()
    assert code == 0 and lines and all(line.startswith("TS-7.2.3.1-") for line in lines)
    assert f"# {len(lines)} clause(s)" in err


def test_bad_usage_exits_3(capsys):
    code, _, err = run(capsys, "clauses", "--role", "nobody")
    assert code == 3 and "nobody" in err


def test_uncovered_follows_clause_markers(tmp_path, capsys):
    cat = catalogue.load()
    governing = [c for c in cat if c.testable and not c.superseded_by]
    code, out, _ = run(capsys, "clauses", "--uncovered", "--json", "--testcases", str(tmp_path))
    assert {r["id"] for r in json.loads(out)} == {c.id for c in governing}
    claimed = governing[0].id
    (tmp_path / "test_x.py").write_text(
        f"import pytest\n\n@pytest.mark.clause({claimed!r})\ndef test_a():\n    pass\n"
    )
    code, out, _ = run(capsys, "clauses", "--uncovered", "--json", "--testcases", str(tmp_path))
    ids = {r["id"] for r in json.loads(out)}
    assert claimed not in ids and len(ids) == len(governing) - 1


def test_broken_catalogue_is_a_clear_error(tmp_path, capsys):
    code, _, err = run(capsys, "clauses", "--catalogue", str(tmp_path / "missing"))
    assert code == 3 and "catalogue folder not found" in err
