"""Fixtures shared by the conformance self-tests."""

from __future__ import annotations

import pytest

from .support import RunOutcome, assert_well_formed, run_cpmconf

DEFAULT_RUN_TIMEOUT = 150.0


@pytest.fixture(scope="session")
def default_run(tmp_path_factory) -> RunOutcome:
    """One default run (`cpmconf run -q`, all pass), shared by every self-test that only reads
    what it wrote (its pcaps, its compliance.json), so a session pays for it once."""
    run = run_cpmconf(
        tmp_path_factory.mktemp("default-run") / "r", "-q", timeout=DEFAULT_RUN_TIMEOUT
    )
    assert_well_formed(run)
    assert run.returncode == 0, run.describe()
    return run
