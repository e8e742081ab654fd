"""compliance.html in a real browser: Debian's chromium, headless, when it is installed."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from cpmconf.report import render_html

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
