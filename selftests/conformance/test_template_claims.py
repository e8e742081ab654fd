"""Template clause headers hold against the cases that render them.

A template's `{# clauses: ... #}` header says which clauses it embodies; the rule is that each
case rendering it claims every one of them (the plugin records which templates each case's
test function rendered, `cpmconf.roles.stimulus.RENDERED`, and reports a miss as a harness
problem in `run.template_problems` of compliance.json and on the console).

One run over a slice of the default run: the PF pager delivery cases (the generic response
and the devices' first-final template) and the client's large-message receive cases (CANCEL,
BYE, the refresh re-INVITE). It must be free of template problems, and the evidence must name
the templates each case rendered. The rule is also checked over the whole default run that
the session's self-tests share.
"""

from __future__ import annotations

from .support import assert_well_formed, run_cpmconf

RUN_TIMEOUT = 150.0


def test_slice_renders_no_template_naming_an_unclaimed_clause(tmp_path):
    run = run_cpmconf(
        tmp_path / "r",
        "-q",
        "--clause",
        "TS-8.3.2.1",
        "--clause",
        "TS-7.2.2.2",
        timeout=RUN_TIMEOUT,
    )
    assert_well_formed(run)
    doc = run.doc
    assert doc["run"].get("template_problems", []) == [], run.describe()
    rendered = {t["id"]: t["evidence"].get("templates", []) for t in doc["tests"]}
    first_final = [k for k in rendered if "test_only_the_first_final_reaches_the_originator" in k]
    assert first_final, run.describe()
    for k in first_final:
        assert "pf/device_final.sip.j2" in rendered[k], rendered[k]
    # A case that answers with the generic response does not inherit the first-final claim.
    assert any("common/response.sip.j2" in v for v in rendered.values())


def test_whole_default_run_renders_no_template_naming_an_unclaimed_clause(default_run):
    """The same rule over every case of the default run (the run the session shares)."""
    doc = default_run.doc
    assert doc["run"].get("template_problems", []) == [], default_run.describe()
    rendered = [t["evidence"].get("templates", []) for t in doc["tests"]]
    assert sum(1 for r in rendered if r) > len(rendered) // 2  # the record is really kept
