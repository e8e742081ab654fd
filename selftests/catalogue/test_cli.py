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


def test_untestable_listing_shows_each_reason(capsys):
    code, out, _ = run(capsys, "clauses", "--testable", "no")
    untestable = [c for c in catalogue.load() if not c.testable]
    lines = out.splitlines()
    assert code == 0
    heads = [line for line in lines if not line.startswith(" ")]
    reasons = [line.strip() for line in lines if line.startswith(" ")]
    assert len(heads) == len(reasons) == len(untestable)
    assert reasons[0] == "why: " + " ".join(untestable[0].reason.split())


def test_document_titles_in_the_vocabulary():
    cat = catalogue.load()
    for source in cat.vocabulary.sources:
        title = cat.vocabulary.title_of(source)
        # A human title, never the (hashed) file name.
        assert title != source and ".txt" not in title, source


def test_run_help_lists_every_suite_option_on_one_line(capsys):
    import pytest

    with pytest.raises(SystemExit) as done:
        cli.main(["run", "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    options = out[out.index("options:") : out.index("exit codes")]
    for opt in (
        "--sut SUT",
        "--report-dir",
        "--baseline FILE",
        "--update-baseline",
        "--sut-fault NAME",
        "--clause PREFIX",
        "--strict-should",
        "--guard S",
        "--chaos MODE",
        "--no-preflight",
        "--reports",
    ):
        (line,) = [ln for ln in options.splitlines() if ln.strip().startswith(opt)]
        assert len(line.split(None, 2 if " " in opt.strip() else 1)) > 1, line  # help on it
    # No option's help runs onto a second line.
    assert not [ln for ln in options.splitlines()[1:] if ln.startswith(" " * 10)]


def test_faults_are_filtered_by_clause_prefix(capsys):
    code, out, err = run(capsys, "faults", "--clause", "TS-8.3.2.1.1-6")
    rows = [line.split() for line in out.splitlines()]
    assert code == 0 and rows and all(r[1].startswith("TS-8.3.2.1.1-6") for r in rows)
    assert f"# {len(rows)} switch(es)" in err
