"""The suite's data (clauses/, scenarios/, testcases/, fixtures/) is found through one
function, catalogue.data_path, which names the path it looked at when something is missing
(issue 15 item 5): an installed package without a checkout fails with that, not a traceback."""

from __future__ import annotations

import subprocess
import sys

import pytest

from cpmconf import catalogue


def test_data_root_defaults_to_the_checkout(monkeypatch):
    monkeypatch.delenv(catalogue.DATA_ENV, raising=False)
    for part in ("clauses", "scenarios", "testcases", "fixtures"):
        assert catalogue.data_path(part).is_dir()
    assert catalogue.data_root() == catalogue.REPO_ROOT


def test_missing_data_names_the_path_looked_at(monkeypatch, tmp_path):
    monkeypatch.setenv(catalogue.DATA_ENV, str(tmp_path))
    assert catalogue.data_root() == tmp_path.resolve()
    with pytest.raises(catalogue.DataNotFound) as err:
        catalogue.data_path("testcases")
    text = str(err.value)
    assert str(tmp_path.resolve() / "testcases") in text and catalogue.DATA_ENV in text


def test_catalogue_folder_missing_says_how_to_point_at_it(monkeypatch, tmp_path):
    monkeypatch.delenv("CPMCONF_CLAUSES", raising=False)
    monkeypatch.setenv(catalogue.DATA_ENV, str(tmp_path))
    with pytest.raises(catalogue.CatalogueError, match=catalogue.DATA_ENV):
        catalogue.load()


def test_run_without_data_is_one_line_and_a_harness_exit(tmp_path):
    env = {"PATH": "/usr/bin:/bin", catalogue.DATA_ENV: str(tmp_path / "nowhere")}
    done = subprocess.run(
        [sys.executable, "-m", "cpmconf.cli", "run", "-q", "--report-dir", str(tmp_path / "r")],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )
    assert done.returncode == 3, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and str(tmp_path / "nowhere" / "testcases") in lines[0]
