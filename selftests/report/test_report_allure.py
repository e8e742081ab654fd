"""The single-file Allure report (`cpmconf.report.allure`) and how a run copes without it.

With the pinned generator installed (tools/allure, `./dev` runs `npm ci` there) a hand-made
allure-results folder becomes one allure-report.html that needs no other file and no network;
without it the test is skipped with the reason the harness itself gives. Switching Allure off
must leave `cpmconf report` successful, with one line saying why.
"""

from __future__ import annotations

import base64
import json
import re
import shutil

import pytest

from cpmconf import cli
from cpmconf.report import allure
from selftests.report.conftest import SAMPLE

NAME = "test_icsi_in_accept_contact_marker_7f3a"


def allure_results(folder):
    folder.mkdir(parents=True, exist_ok=True)
    result = {
        "uuid": "0b1e6c53-1111-4222-8333-944455556666",
        "historyId": "c0ffee",
        "name": NAME,
        "fullName": f"testcases.test_ts_7_2_1_1::{NAME}",
        "status": "passed",
        "stage": "finished",
        "start": 1767600000000,
        "stop": 1767600000100,
        "labels": [
            {"name": "epic", "value": "OMA-TS-CPM_Conv_Fnct"},
            {"name": "story", "value": "TS-7.2.1.1-1"},
        ],
    }
    (folder / f"{result['uuid']}-result.json").write_text(json.dumps(result))
    return folder


def decoded_payloads(page: str) -> str:
    """Every long base64 run of the page, decoded where it is text (the inlined results)."""
    out = []
    for chunk in re.findall(r"[A-Za-z0-9+/]{200,}={0,2}", page):
        try:
            out.append(base64.b64decode(chunk + "=" * (-len(chunk) % 4)).decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            continue
    return "\n".join(out)


def test_the_pinned_generator_writes_one_offline_page(tmp_path):
    cmd, why = allure.generator()
    if cmd is None:
        pytest.skip(f"allure generator unavailable: {why}")
    out = tmp_path / "report"
    made = allure.render(allure_results(tmp_path / "allure-results"), out, "selftest")
    assert made.note == "" and made.path == out / allure.REPORT_FILE
    assert [p.name for p in out.iterdir()] == [allure.REPORT_FILE]  # nothing beside it
    page = made.path.read_text(encoding="utf-8")
    assert page.lstrip().lower().startswith("<!doctype html")
    external = re.findall(r'(?:src|href)\s*=\s*["\']?(?:https?:)?//', page, re.IGNORECASE)
    assert external == [], "the page must not load anything from the network"
    assert "googletagmanager" not in page
    assert NAME in decoded_payloads(page)


def test_the_package_pins_an_exact_version():
    package = json.loads((allure.TOOL_DIR / "package.json").read_text())
    version = package["dependencies"]["allure"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", version), "pin an exact version, not a range"
    lock = json.loads((allure.TOOL_DIR / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/allure"]["version"] == version


def test_no_results_and_switched_off_are_reasons_not_errors(tmp_path, monkeypatch):
    assert "no Allure results" in allure.render(tmp_path / "none", tmp_path / "o").note
    monkeypatch.setenv("CPMCONF_ALLURE", "")
    made = allure.render(allure_results(tmp_path / "r"), tmp_path / "o")
    assert made.path is None and "switched off" in made.note
    monkeypatch.setenv("CPMCONF_ALLURE", "/nonexistent/allure")
    assert "not executable" in allure.render(tmp_path / "r", tmp_path / "o").note


def test_cpmconf_report_succeeds_without_allure_and_says_so_once(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CPMCONF_ALLURE", "")
    run = tmp_path / "run"
    run.mkdir()
    shutil.copy(SAMPLE, run / "compliance.json")
    allure_results(run / "allure-results")
    assert cli.main(["report", str(run)]) == 0
    out = capsys.readouterr().out
    notes = [line for line in out.splitlines() if "Allure" in line]
    assert notes == [
        "cpmconf: no single-file Allure report: switched off (CPMCONF_ALLURE is empty)"
    ]
    assert (run / "compliance.html").is_file() and (run / "junit-verdicts.xml").is_file()
    assert not (run / allure.REPORT_FILE).exists()


def _with_test_label(folder, test_id):
    path = next(folder.glob("*-result.json"))
    result = json.loads(path.read_text())
    result["labels"].append({"name": "cpmconf_test", "value": test_id})
    path.write_text(json.dumps(result))
    return path


def test_metadata_steps_and_attachments_from_the_results(tmp_path, sample):
    """Environment, categories, executor, and per test the steps and the evidence."""
    fail = next(t for t in sample["tests"] if t["verdict"] == "fail")
    folder = allure_results(tmp_path / "allure-results")
    path = _with_test_label(folder, fail["id"])
    pcap = tmp_path / fail["evidence"]["pcap"]
    pcap.parent.mkdir(parents=True)
    pcap.write_bytes(b"\xd4\xc3\xb2\xa1pcap")
    sample["run"].update(suite={"commit": "0123abc"}, faults=["pf.no-415"])
    allure.write_metadata(sample, folder)
    env = (folder / "environment.properties").read_text()
    assert "suite.commit=0123abc" in env and "faults=pf.no-415" in env
    names = [c["name"] for c in json.loads((folder / "categories.json").read_text())]
    assert names[0].startswith("SUT violated a SHALL") and any("Out of time" in n for n in names)
    assert json.loads((folder / "executor.json").read_text())["name"] == "cpmconf"
    result = json.loads(path.read_text())
    steps = [s["name"] for s in result["steps"]]
    assert [s for s in steps if s.startswith("stimulus: ")]
    assert len([s for s in steps if s.startswith("expect ")]) == len(fail["findings"])
    kinds = {a["type"] for a in result["attachments"]}
    assert {"image/svg+xml", "application/vnd.tcpdump.pcap"} <= kinds
    assert result["statusDetails"]["message"].startswith("[fail/")  # the category key
    for a in result["attachments"]:
        assert (folder / a["source"]).is_file()
    # Once only: rebuilding the reports adds nothing twice.
    allure.write_metadata(sample, folder)
    assert len(json.loads(path.read_text())["attachments"]) == len(result["attachments"])


def test_trend_history_grows_per_report(tmp_path):
    cmd, why = allure.generator()
    if cmd is None:
        pytest.skip(f"allure generator unavailable: {why}")
    folder = allure_results(tmp_path / "allure-results")
    history = tmp_path / "history.jsonl"
    for n in (1, 2):
        made = allure.render(folder, tmp_path / "out", "trend", history)
        assert made.path is not None, made.note
        assert len(history.read_text().splitlines()) == n
