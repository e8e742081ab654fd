"""compliance.html in a real browser: Debian's chromium, headless, when it is installed.

Besides the fixed sample, a real run with one fault switched on: its failures section lists
the failing test, its ladder has a lane per entity with the offending message marked, and its
Allure test shows the steps and attachments. Screenshots (screenshot-*.png) are saved in that
run's folder under reports/.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import sys
import time

import pytest

from cpmconf.catalogue import REPO_ROOT
from cpmconf.report import render_html
from cpmconf.report._common import case_anchor

CHROMIUM = shutil.which("chromium")
BOUND = 90  # seconds for one headless chromium run
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
]

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (Debian package 'chromium')"
)


@pytest.fixture
def page(sample, tmp_path):
    path = tmp_path / "compliance.html"
    path.write_text(render_html(sample), encoding="utf-8")
    return path


def _chromium(*args: str, tmp_path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", *args],
        capture_output=True,
        text=True,
        timeout=BOUND,
        check=False,
    )


def test_screenshot_is_not_blank(page, tmp_path):
    shot = tmp_path / "shot.png"
    done = _chromium(
        f"--screenshot={shot}", "--window-size=1280,2000", page.as_uri(), tmp_path=tmp_path
    )
    assert shot.exists(), done.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 20_000  # a blank 1280x2000 page compresses to a few kilobytes


def test_dom_has_the_summary(page, tmp_path):
    done = _chromium("--dump-dom", page.as_uri(), tmp_path=tmp_path)
    dom = done.stdout
    assert 'id="summary"' in dom, f"exit {done.returncode}: {done.stderr[-2000:]}"
    assert 'id="tests-total">8<' in dom
    assert "<script>alert" not in dom


# -- a real run with one fault, rendered as a certification engineer looks at it -----------------

FAULT = "pf.deliver-unselected"  # the PF copies a MESSAGE to a device the user did not select
FAULTY_TEST = "test_copies_go_to_each_selected_device_by_gruu"
RUN_BOUND = 180  # seconds for the narrowed run (a few seconds normally)


@pytest.fixture(scope="module")
def faulty_run(tmp_path_factory):
    """A narrowed run against the reference SUT with one fault; its folder is kept under
    reports/ so the screenshots this module saves there can be looked at afterwards."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out = REPO_ROOT / "reports" / f"chromium-{stamp}-{os.getpid()}"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "cpmconf.cli",
            "run",
            "-q",
            "--report-dir",
            str(out),
            "--sut-fault",
            FAULT,
            "--clause",
            "TS-8.3.2.1-4b",
        ],
        capture_output=True,
        text=True,
        timeout=RUN_BOUND,
        check=False,
        cwd=REPO_ROOT,
    )
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]  # the fault fails
    doc = json.loads((out / "compliance.json").read_text(encoding="utf-8"))
    return out, doc, tmp_path_factory.mktemp("chromium")


def _failed(doc: dict) -> dict:
    (test,) = [t for t in doc["tests"] if t["verdict"] == "fail"]
    return test


def test_failures_section_lists_the_fault(faulty_run):
    out, doc, tmp = faulty_run
    page = (out / "compliance.html").as_uri()
    dom = _chromium("--dump-dom", page, tmp_path=tmp).stdout
    start = dom.index('id="attention"')
    section = dom[start : dom.index("</section>", start)]
    assert FAULTY_TEST in section and "TS-8.3.2.1-4b-2" in section
    assert 'class="offending-link"' in section
    shot = out / "screenshot-failures.png"
    _chromium(f"--screenshot={shot}", "--window-size=1400,900", page, tmp_path=tmp)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_ladder_has_a_lane_per_entity_and_marks_the_offending_message(faulty_run):
    out, doc, tmp = faulty_run
    test = _failed(doc)
    assert test["name"] == FAULTY_TEST
    # The page's "one test alone" view, so the ladder is in the screenshot.
    page = (out / "compliance.html").as_uri() + f"?test={case_anchor(test['id'])}"
    dom = _chromium("--dump-dom", page, tmp_path=tmp).stdout
    assert 'class="solo"' in dom  # the script ran and kept only this test
    art = dom[dom.index(f'id="{case_anchor(test["id"])}"') :]
    svg = art[art.index("<svg") : art.index("</svg>")]
    lanes = re.findall(r'<g class="lane">.*?font-weight="bold">([^<]*)</text>', svg)
    assert int(re.search(r'data-lanes="(\d+)"', svg).group(1)) == len(lanes) >= 4, lanes
    assert {"alice", "PF", "bob-phone", "bob-watch"} <= set(lanes), lanes
    assert 'class="arrow offending"' in svg and 'class="highlight"' in svg
    shot = out / "screenshot-ladder.png"
    _chromium(f"--screenshot={shot}", "--window-size=1400,2600", page, tmp_path=tmp)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _allure_uid(page: str, name: str) -> str | None:
    """The Allure report's id of a test, from the data the single-file page embeds."""
    for m in re.finditer(r'd\("data/test-cases/([0-9a-f]+)\.json","([^"]+)"\)', page):
        data = json.loads(base64.b64decode(m.group(2)))
        if data.get("name") == name:
            return m.group(1)
    return None


def test_allure_test_shows_steps_and_attachments(faulty_run):
    out, doc, tmp = faulty_run
    report = out / "allure-report.html"
    if not report.exists():
        pytest.skip("no single-file Allure report (node or the pinned generator is missing)")
    uid = _allure_uid(report.read_text(encoding="utf-8"), FAULTY_TEST)
    assert uid, "the failing test is not in the Allure report"
    page = report.as_uri() + f"#testresult/{uid}"
    dom = _chromium("--virtual-time-budget=10000", "--dump-dom", page, tmp_path=tmp).stdout
    for text in (
        "stimulus: pf/message_from_originator.sip.j2",
        "offending message #",
        "ladder",
        ".pcap",
        "SUT violated a SHALL",
    ):
        assert text in dom, text
    assert "Traceback" not in dom and 'File "' not in dom  # no harness source in the trace
    shot = out / "screenshot-allure-test.png"
    _chromium(
        "--virtual-time-budget=10000",
        f"--screenshot={shot}",
        "--window-size=1400,1000",
        page,
        tmp_path=tmp,
    )
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
