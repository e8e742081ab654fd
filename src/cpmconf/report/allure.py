"""The Allure HTML report of a run, rendered as one self-contained file.

Owns finding the pinned Allure 3 generator (tools/allure/, installed by `./dev` with `npm ci`)
and running it over a run's `allure-results/` to write `allure-report.html`. The generator
works offline: its `allure2` plugin in single-file mode inlines every script, style and the
results as data, and `ALLURE_NO_ANALYTICS=true` keeps the tracking script out of the page.

Allure is optional: when node or the generator is missing, `render` says why and the caller
carries on with the other formats.

`write_metadata` adds to `allure-results/` what allure-pytest cannot know, from the results
document alone: the environment (SUT, profile and its hash, faults, suite commit, addresses),
the executor, categories by verdict cause, and per test a step per stimulus and per
expectation with the stimuli, the offending message, the pcap and the ladder SVG attached;
the status message becomes `[verdict/cause] first line of the reason`, with no harness source.
"""

from __future__ import annotations

import json
import os
import re
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


def _config(tmp: Path, history: Path | None) -> Path:
    """The pinned config, plus the history file when there is one."""
    if history is None:
        return CONFIG
    path = tmp / "allurerc.mjs"
    path.write_text(
        f"import base from {json.dumps(CONFIG.resolve().as_uri())};\n"
        f"export default {{ ...base, historyPath: {json.dumps(str(history.resolve()))} }};\n",
        encoding="utf-8",
    )
    return path


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


def render(
    results_dir: Path, out_dir: Path, name: str = "cpmconf", history: Path | None = None
) -> Outcome:
    """Write `out_dir/allure-report.html` from `results_dir`; the file, or why there is none.

    `history` is a JSON-lines file the generator reads and extends, so the report's Trend
    shows the earlier runs kept there (None: no trend)."""
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
            str(_config(Path(tmp), history)),
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


# -- the run's metadata and each test's evidence, added to allure-results from the results ---

# Allure categories by verdict cause: each matches the status message `write_metadata` gives
# a test ("[fail/violation] ...").
CATEGORIES = [
    ("SUT violated a SHALL (fail)", ["failed"], r"\[fail/.*"),
    ("SHOULD not followed (non-strict, --strict-should)", ["failed"], r"\[non-strict/.*"),
    ("Harness error (says nothing about the SUT)", ["failed", "broken"], r"\[error/.*"),
    (
        "Out of time: the SUT never answered a setup step",
        ["skipped"],
        r"\[inconclusive/no-answer\].*",
    ),
    ("Refused: the SUT refused a setup step", ["skipped"], r"\[inconclusive/refused\].*"),
    ("Upper tester refused or failed", ["skipped"], r"\[inconclusive/upper-tester\].*"),
    ("Precondition missing (inconclusive)", ["skipped"], r"\[inconclusive/.*"),
    ("Not applicable to this SUT", ["skipped"], r"\[not-applicable/.*"),
]
_STEP_STATUS = {
    "pass": "passed",
    "fail": "failed",
    "error": "broken",
    "non-strict": "unknown",
    "inconclusive": "skipped",
    "not-applicable": "skipped",
}
_DONE = "cpmconf_evidence"


def environment(doc: dict) -> dict[str, str]:
    run = doc.get("run", {})
    suite = run.get("suite") or {}
    capture = run.get("capture") or {}
    env = {
        "SUT": run.get("sut"),
        "target": run.get("target"),
        "profile": run.get("profile"),
        "profile.sha256": run.get("profile_sha256"),
        "faults": " ".join(run.get("faults") or []) or "none",
        "suite.version": run.get("cpmconf_version"),
        "suite.commit": suite.get("commit"),
        "capture": capture.get("mode"),
        "command": run.get("command"),
        **{f"address.{k}": v for k, v in (run.get("addresses") or {}).items()},
    }
    return {k: str(v) for k, v in env.items() if v}


def _properties(env: dict[str, str]) -> str:
    def esc(text: str) -> str:
        return (
            text.replace("\\", "\\\\").replace("\n", "\\n").replace("=", "\\=").replace(":", "\\:")
        )

    return "".join(f"{esc(k)}={esc(v)}\n" for k, v in env.items())


def write_metadata(doc: dict, results_dir: Path) -> None:
    """Environment, executor and categories of the run, and each test's evidence (steps per
    stimulus and expectation; the stimuli, offending message, pcap and ladder attached),
    written into `results_dir` from the results document. Done once per result file."""
    import uuid

    from cpmconf.report.ladder import ladder_svg, offending

    results_dir = Path(results_dir)
    run = doc.get("run", {})
    (results_dir / "environment.properties").write_text(
        _properties(environment(doc)), encoding="utf-8"
    )
    (results_dir / "categories.json").write_text(
        json.dumps(
            [{"name": n, "matchedStatuses": st, "messageRegex": rx} for n, st, rx in CATEGORIES],
            indent=1,
        ),
        encoding="utf-8",
    )
    (results_dir / "executor.json").write_text(
        json.dumps(
            {
                "name": "cpmconf",
                "type": "cpmconf",
                "buildName": f"{run.get('target')} {run.get('started')}",
                "reportName": f"cpmconf: {run.get('target')}",
            }
        ),
        encoding="utf-8",
    )
    tests = {str(t.get("id")): t for t in doc.get("tests", [])}
    report_dir = results_dir.parent

    def attach(body: bytes, name: str, mime: str, ext: str) -> dict:
        source = f"{uuid.uuid4()}-attachment.{ext}"
        (results_dir / source).write_bytes(body)
        return {"name": name, "source": source, "type": mime}

    for path in sorted(results_dir.glob("*-result.json")):
        try:
            result = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        labels = result.get("labels") or []
        if any(lb.get("name") == _DONE for lb in labels):
            continue
        tid = next((lb.get("value") for lb in labels if lb.get("name") == "cpmconf_test"), None)
        test = tests.get(str(tid))
        if test is None:
            continue
        evidence = test.get("evidence") or {}
        messages = [m for m in evidence.get("messages") or [] if isinstance(m, dict)]
        start, stop = result.get("start"), result.get("stop")
        steps = []
        for s in evidence.get("stimuli") or []:
            steps.append(
                {
                    "name": f"stimulus: {s.get('template')}",
                    "status": "passed",
                    "start": start,
                    "stop": start,
                    "attachments": [
                        attach(
                            str(s.get("text") or "").encode(),
                            str(s.get("template")),
                            "text/plain",
                            "txt",
                        )
                    ],
                }
            )
        for f in test.get("findings") or []:
            verdict = str(f.get("verdict"))
            step = {
                "name": f"expect {f.get('clause')} ({f.get('level')}): {verdict}",
                "status": _STEP_STATUS.get(verdict, "unknown"),
                "start": stop,
                "stop": stop,
                "statusDetails": {
                    "message": f"expected: {f.get('expected')}\nactual:   {f.get('actual')}"
                    + (f"\nnote:     {f['note']}" if f.get("note") else "")
                },
                "attachments": [],
            }
            if f.get("message") and verdict != "pass":
                step["attachments"].append(
                    attach(str(f["message"]).encode(), "offending message", "text/plain", "txt")
                )
            steps.append(step)
        attachments = []
        for pos in sorted(offending(test, messages)):
            m = messages[pos]
            attachments.append(
                attach(
                    str(m.get("text") or "").encode(),
                    f"offending message #{pos + 1}: {m.get('summary')}",
                    "text/plain",
                    "txt",
                )
            )
        if messages:
            svg = ladder_svg(doc, test, messages, link=False)
            attachments.append(attach(svg.encode(), "ladder", "image/svg+xml", "svg"))
        pcap = evidence.get("pcap")
        if isinstance(pcap, str) and (report_dir / pcap).is_file():
            attachments.append(
                attach(
                    (report_dir / pcap).read_bytes(),
                    Path(pcap).name,
                    "application/vnd.tcpdump.pcap",
                    "pcap",
                )
            )
        result["steps"] = steps + list(result.get("steps") or [])
        result["attachments"] = list(result.get("attachments") or []) + attachments
        verdict, cause = test.get("verdict"), test.get("cause") or "-"
        if verdict != "pass":
            reason = str(test.get("reason") or "")
            result["statusDetails"] = {
                "message": f"[{verdict}/{cause}] "
                + re.sub(r"^\[[a-z-]+\] ", "", reason.split("\n", 1)[0]),
                "trace": reason,
            }
        labels.append({"name": _DONE, "value": "1"})
        result["labels"] = labels
        path.write_text(json.dumps(result), encoding="utf-8")
