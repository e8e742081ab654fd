"""The pytest plugin that writes every report format at the end of a conformance run.

Owns the one reporting path of a run: `cpmconf run` and plain `pytest testcases` both load it
(conftest.py), so both write the same files. It runs after the plugin wrote compliance.json
(trylast) and builds the formats from that file alone (`cpmconf.report.write_all`); what it
has to say (a missing Allure page) goes into the run's console summary. A run in a folder of
`reports/` also points `reports/latest` at itself.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cpmconf import report
from cpmconf.catalogue import REPO_ROOT
from cpmconf.plugin.pytest_plugin import STATE_KEY


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus) -> None:
    state = session.config.stash.get(STATE_KEY, None)
    if state is None or state.results_path is None:
        return
    if session.config.getoption("--reports") != "all":  # compliance.json is enough
        return
    # pytest's junitxml writes junit.xml in its own sessionfinish; ours only needs the results.
    strict = bool(session.config.getoption("--strict-should"))
    try:
        _, notes = report.write_all(state.results_path, state.results_path.parent, strict)
    except ValueError as exc:  # our own document failed validation: a harness fault
        state.report_lines.append(f"reports not written: {exc}")
        return
    state.report_lines += notes
    _point_latest(state.results_path.parent)


def _point_latest(run_dir: Path) -> None:
    """reports/latest -> the run just written, when it is a folder of reports/ (so the
    README's `cpmconf report reports/latest` names the last run)."""
    reports = REPO_ROOT / "reports"
    run_dir = run_dir.resolve()
    if run_dir.parent != reports.resolve() or run_dir.name == "latest":
        return
    link = reports / "latest"
    tmp = reports / f".latest-{os.getpid()}"
    try:
        if tmp.is_symlink():
            tmp.unlink()
        tmp.symlink_to(run_dir.name)
        os.replace(tmp, link)  # atomic: two runs finishing together leave one valid link
    except OSError:
        pass  # a convenience only
