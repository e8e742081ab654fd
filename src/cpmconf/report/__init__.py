"""Reports: every human- and CI-facing format, each built from one results JSON document.

Owns turning `compliance.json` (schema `cpmconf-results/2`, docs/results-schema.md)
into files; nothing here reads live pytest state. The formats:

- `html.render_html`: compliance.html, the full self-contained report;
- `markdown.render_markdown`: compliance.md, a pull-request-sized summary;
- `testfest.render_testfest`: testfest.md, one row per test case with test-fest verdicts;
- `junit.render_junit`: JUnit XML that follows the verdicts;
- `matrix.render_matrix_html` / `render_matrix_markdown`: several runs side by side.
- `allure.render`: allure-report.html, the Allure report as one offline page (optional);
- `baseline`: known failures per target and the exit code of `cpmconf run`.

`load_results` reads and validates a document; `write_reports` writes the per-run files;
`write_all` writes every format of a run (the one path `cpmconf run`, plain pytest through
`pytest_reports`, and `cpmconf report` share); `write_matrix` compares several stored runs.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from cpmconf.plugin.results import SCHEMA, validate
from cpmconf.report.html import render_html
from cpmconf.report.junit import render_junit
from cpmconf.report.markdown import render_markdown
from cpmconf.report.matrix import render_matrix_html, render_matrix_markdown
from cpmconf.report.testfest import render_testfest

__all__ = [
    "REPORT_FILES",
    "load_results",
    "render_html",
    "render_junit",
    "render_markdown",
    "render_matrix_html",
    "render_matrix_markdown",
    "render_testfest",
    "write_all",
    "write_matrix",
    "write_reports",
]

# Kind -> file name, for the files write_reports produces next to compliance.json.
REPORT_FILES = {
    "html": "compliance.html",
    "markdown": "compliance.md",
    "testfest": "testfest.md",
}


def load_results(path: Path | str) -> dict:
    """A results document read from `path`; ValueError naming the file if it is not one."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValueError(f"{path}: cannot read results document: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not UTF-8 text: {exc}") from exc
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"{path}: not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from exc
    if not isinstance(doc, dict):
        raise ValueError(f"{path}: a results document is a JSON object, found {type(doc).__name__}")
    try:
        problems = validate(doc)
    except (AttributeError, TypeError) as exc:  # e.g. a test entry that is not an object
        problems = [f"malformed structure: {exc}"]
    if problems:
        raise ValueError(
            f"{path}: not a valid {SCHEMA} results document:\n  - " + "\n  - ".join(problems)
        )
    return doc


def write_reports(doc: dict, out_dir: Path | str) -> dict[str, Path]:
    """Write compliance.html, compliance.md and testfest.md into `out_dir`; their paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    renderers = {"html": render_html, "markdown": render_markdown, "testfest": render_testfest}
    written = {}
    for kind, name in REPORT_FILES.items():
        path = out / name
        path.write_text(renderers[kind](doc), encoding="utf-8")
        written[kind] = path
    return written


def write_all(
    results: Path | str, out_dir: Path | str, strict: bool, allure_report: bool = True
) -> tuple[dict[str, Path], list[str]]:
    """Every format of a run from its compliance.json: HTML, Markdown, test-fest sheet,
    JUnit of the verdicts, the Allure environment and categories, and the single-file Allure
    report. Returns the paths written and lines worth telling the user (why a file is
    missing). ValueError when the results document is not one."""
    from cpmconf.report import allure

    results = Path(results)
    out = Path(out_dir)
    doc = load_results(results)
    paths = write_reports(doc, out)
    junit = out / "junit-verdicts.xml"
    junit.write_text(render_junit(doc, non_strict="fail" if strict else "pass"), encoding="utf-8")
    paths["junit"] = junit
    notes: list[str] = []
    if not allure_report:
        return paths, notes
    allure_dir = results.parent / "allure-results"
    if allure_dir.is_dir():
        allure.write_metadata(doc, allure_dir)
    name = f"cpmconf: {doc.get('run', {}).get('target') or 'unnamed target'}"
    made = allure.render(allure_dir, out, name, _allure_history(doc, out))
    if made.path is not None:
        paths["allure"] = made.path
    else:
        notes.append(f"no single-file Allure report: {made.note}")
    return paths, notes


def _allure_history(doc: dict, out: Path) -> Path | None:
    """The Allure trend's history file of a run in a folder of reports/: one per target,
    beside the run folders (runs elsewhere, e.g. a self-test's, keep no history)."""
    from cpmconf.catalogue import REPO_ROOT

    if out.resolve().parent != (REPO_ROOT / "reports").resolve():
        return None
    target = str(doc.get("run", {}).get("target") or "unnamed")
    slug = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in target)
    return out.resolve().parent / f".allure-history-{slug}.jsonl"


def results_path(path: Path | str) -> Path:
    """A run folder or a results file, as the path of the results file."""
    path = Path(path)
    return path / "compliance.json" if path.is_dir() else path


def write_matrix(
    runs: list[Path | str], out_dir: Path | str, diff: bool = False
) -> dict[str, Path]:
    """Write matrix.html and matrix.md into `out_dir` for several runs; their paths.

    Each run is a report folder or its compliance.json; cells link to the compliance.html
    beside each results file, by a path relative to `out_dir`.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = [results_path(r) for r in runs]
    docs = [load_results(f) for f in files]
    links = [
        Path(os.path.relpath(f.resolve().parent / REPORT_FILES["html"], out.resolve())).as_posix()
        for f in files
    ]
    written = {"html": out / "matrix.html", "markdown": out / "matrix.md"}
    written["html"].write_text(render_matrix_html(docs, links, diff), encoding="utf-8")
    written["markdown"].write_text(render_matrix_markdown(docs, links, diff), encoding="utf-8")
    return written
