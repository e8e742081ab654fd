"""ICS vs wire: the observations (`cpmconf.plugin.ics_wire.observe`), their place in the results
JSON (schema v2, validated), and the section that HTML and Markdown render from them.

The observations are computed from hand-made SUT messages; the rendering is checked on the
fixed document data/results-v2-ics.json, whose ICS does not claim large message mode while the
SUT's REGISTER Contact carries the largemsg ICSI.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from cpmconf.plugin import ics_wire, results
from cpmconf.report import load_results, render_html, render_markdown
from selftests.report.conftest import parse_html, table_rows

V2 = Path(__file__).parent / "data" / "results-v2-ics.json"
LARGE = "urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.largemsg"
MSG = "urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.msg"


def msg(index: int, text: str, from_sut: bool) -> dict:
    return {"index": index, "protocol": "SIP", "from_sut": from_sut, "summary": "", "text": text}


def test_with(*messages: dict) -> dict:
    return {
        "id": "testcases/test_x.py::t",
        "evidence": {"messages": list(messages), "stimuli": [], "pcap": None, "notes": []},
    }


test_with.__test__ = False  # a helper, not a test

REGISTER = (
    "REGISTER sip:example.net SIP/2.0\r\nCall-ID: r1\r\nCSeq: 1 REGISTER\r\n"
    f'Contact: <sip:c@127.0.0.1:5070>;+g.3gpp.icsi-ref="{MSG},{LARGE}"\r\n'
    "Allow: INVITE, ACK, BYE, OPTIONS\r\nContent-Length: 0\r\n\r\n"
)
INVITE = (
    "INVITE sip:c@127.0.0.1:5070 SIP/2.0\r\nCall-ID: i1\r\nCSeq: 7 INVITE\r\n"
    f'Accept-Contact: *;+g.3gpp.icsi-ref="{LARGE}"\r\nContent-Length: 0\r\n\r\n'
)
OK = "SIP/2.0 200 OK\r\nCall-ID: i1\r\nCSeq: 7 INVITE\r\nAccept: message/cpim\r\n\r\n"


def by_key(section: dict) -> dict:
    return {(o["item"], o["source"], o["wire"]): o for o in section["observations"]}


def test_large_mode_shown_but_not_claimed_is_a_mismatch():
    t = test_with(msg(0, REGISTER, True), msg(1, INVITE, False), msg(2, OK, True))
    section = ics_wire.observe({"pager-mode", "disposition-notification"}, [t])
    seen = by_key(section)
    assert seen[("large-message-mode", "REGISTER Contact", True)]["claimed"] is False
    assert seen[("large-message-mode", "INVITE answer", True)]["detail"].startswith(
        "answered 200 to INVITE"
    )
    assert seen[("pager-mode", "REGISTER Contact", True)]["claimed"] is True
    # Claimed pager mode, but Allow lacks MESSAGE. An Accept without message/imdn+xml is no
    # evidence against IMDN support (IMDNs usually travel inside message/cpim).
    assert ("pager-mode", "Allow", False) in seen
    assert ("disposition-notification", "Accept", False) not in seen
    mismatched = {(o["item"], o["source"]) for o in section["mismatches"]}
    assert mismatched == {
        ("large-message-mode", "REGISTER Contact"),
        ("large-message-mode", "INVITE answer"),
        ("pager-mode", "Allow"),
    }
    assert LARGE in seen[("large-message-mode", "REGISTER Contact", True)]["excerpt"]


def test_agreement_and_messages_from_the_test_system_give_no_mismatch():
    claims = {"pager-mode", "large-message-mode"}
    register = REGISTER.replace("Allow: INVITE,", "Allow: MESSAGE, INVITE,")
    t = test_with(msg(0, register, True), msg(1, INVITE, False), msg(2, OK, True))
    assert ics_wire.observe(claims, [t])["mismatches"] == []
    # The same REGISTER sent by the test system (not the SUT) says nothing about the SUT.
    assert ics_wire.observe(set(), [test_with(msg(0, REGISTER, False))])["observations"] == []


def test_a_refusal_never_shows_a_feature_absent():
    refused = OK.replace("200 OK", "488 Not Acceptable Here")
    t = test_with(msg(0, INVITE, False), msg(1, refused, True))
    seen = ics_wire.observe({"large-message-mode"}, [t])["observations"]
    assert [o for o in seen if o["item"] == "large-message-mode"] == []


def test_build_records_the_section_and_validate_checks_it():
    from datetime import UTC, datetime

    from cpmconf import catalogue

    cat = catalogue.load()
    t = test_with(msg(0, REGISTER, True))
    t.update(
        name="t", clauses=[], verdict="pass", reason="", clause_verdicts={}, findings=[], duration=0
    )
    doc = results.build(cat, [t], {"target": "x"}, datetime.now(UTC), ics={"pager-mode"})
    assert doc["schema"] == "cpmconf-results/2" and results.validate(doc) == []
    assert doc["ics_wire"]["mismatches"][0]["item"] == "large-message-mode"
    broken = copy.deepcopy(doc)
    del broken["ics_wire"]["mismatches"][0]["wire"]
    broken["ics_wire"]["observations"] = "many"
    problems = results.validate(broken)
    assert "ics_wire.observations is not a list" in problems
    assert "ics_wire.mismatches[0] missing 'wire'" in problems
    old = copy.deepcopy(doc)
    old["schema"] = "cpmconf-results/1"
    assert "'ics_wire' needs schema cpmconf-results/2" in results.validate(old)


def test_the_fixed_v2_document_validates():
    assert results.validate(json.loads(V2.read_text())) == []


def test_html_renders_the_mismatch_section():
    page = render_html(load_results(V2))
    tree = parse_html(page)
    assert tree.problems == []
    assert "ics-wire" in tree.ids and "#ics-wire" in tree.hrefs
    section = page[
        page.index('id="ics-wire"') : page.index("</section>", page.index('id="ics-wire"'))
    ]
    assert "1 mismatch(es)" in section
    assert section.count('class="ics-mismatch"') == 1
    assert (
        "large-message-mode" in section and "not claimed" in section and "seen 3 times" in section
    )
    assert "cpm.largemsg" in section


def test_markdown_renders_the_mismatch_table():
    text = render_markdown(load_results(V2))
    assert "### ICS vs wire" in text
    rows = table_rows(text, "`large-message-mode`")
    assert len(rows) == 1
    assert rows[0][1:3] == ["not claimed", "shown"]
    assert "REGISTER Contact" in rows[0][3]


@pytest.mark.parametrize("render", [render_html, render_markdown])
def test_no_mismatch_is_said_plainly(render):
    doc = load_results(V2)
    doc["ics_wire"]["observations"] = doc["ics_wire"]["observations"][1:]
    doc["ics_wire"]["mismatches"] = []
    assert "no mismatch" in render(doc).lower()


@pytest.mark.parametrize("render", [render_html, render_markdown])
def test_a_document_without_the_section_renders_none(render, sample):
    assert "ICS vs wire" not in render(sample)
