"""The Allure HTML report of a run, rendered as one self-contained file.

Owns finding the pinned Allure 3 generator (tools/allure/, installed by `./dev` with `npm ci`)
and running it over a run's `allure-results/` to write `allure-report.html`. The generator
works offline: its `allure2` plugin in single-file mode inlines every script, style and the
results as data, and `ALLURE_NO_ANALYTICS=true` keeps the tracking script out of the page.

Allure is optional: when node or the generator is missing, `render` says why and the caller
carries on with the other formats.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cpmconf.catalogue import REPO_ROOT

TOOL_DIR = REPO_ROOT / "tools" / "allure"
CONFIG = TOOL_DIR / "allurerc.mjs"
REPORT_FILE = "allure-report.html"
# A bound on the generator; a few seconds is normal, so expiry means it hung.
TIMEOUT_S = 300.0


@dataclass(frozen=True)
class Outcome:
    path: Path | None
    note: str  # why there is no file, or "" when there is one


def generator() -> tuple[list[str] | None, str]:
    """The command that runs the pinned generator, or None and the reason it is unavailable.

    `CPMCONF_ALLURE` names another `allure` executable (e.g. a global install); set it to
    an empty string to switch the Allure report off.
    """
    override = os.environ.get("CPMCONF_ALLURE")
    if override is not None:
        if not override:
            return None, "switched off (CPMCONF_ALLURE is empty)"
        exe = shutil.which(override)
        return ([exe], "") if exe else (None, f"CPMCONF_ALLURE={override!r} is not executable")
    if shutil.which("node") is None:
        return None, "node is not installed (./dev installs nodejs and npm as root)"
    cli = TOOL_DIR / "node_modules" / "allure" / "cli.js"
    if not cli.is_file():
        return None, f"allure is not installed in {TOOL_DIR} (run ./dev, or npm ci there)"
    return [shutil.which("node") or "node", str(cli)], ""


def render(results_dir: Path, out_dir: Path, name: str = "cpmconf") -> Outcome:
    """Write `out_dir/allure-report.html` from `results_dir`; the file, or why there is none."""
    results_dir = Path(results_dir)
    if not results_dir.is_dir() or not any(results_dir.glob("*-result.json")):
        return Outcome(None, f"no Allure results in {results_dir}")
    cmd, why = generator()
    if cmd is None:
        return Outcome(None, why)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "ALLURE_NO_ANALYTICS": "true", "NO_COLOR": "1"}
    with tempfile.TemporaryDirectory(prefix="cpmconf-allure-") as tmp:
        # The generator writes index.html plus summary JSON files; only the page is kept.
        argv = [
            *cmd,
            "generate",
            "--config",
            str(CONFIG),
            "--cwd",
            tmp,
            "--output",
            str(Path(tmp) / "out"),
            "--report-name",
            name,
            str(results_dir.resolve()),
        ]
        try:
            done = subprocess.run(
                argv, env=env, capture_output=True, text=True, timeout=TIMEOUT_S, check=False
            )
        except subprocess.TimeoutExpired:
            return Outcome(None, f"the allure generator did not finish within {TIMEOUT_S:g} s")
        except OSError as exc:
            return Outcome(None, f"cannot start the allure generator: {exc}")
        page = Path(tmp) / "out" / "index.html"
        if done.returncode != 0 or not page.is_file():
            tail = " ".join((done.stderr or done.stdout or "").split())[-300:]
            return Outcome(None, f"the allure generator failed (exit {done.returncode}): {tail}")
        target = out_dir / REPORT_FILE
        shutil.move(str(page), target)
    return Outcome(target, "")
