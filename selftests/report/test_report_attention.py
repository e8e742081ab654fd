"""What a reader sees first: the failures-first section, the run header, the test-list filter,
document titles, and a ladder with one lane per entity and the offending message marked."""

from __future__ import annotations

import copy
import re

import pytest

from cpmconf.report.html import render_html
from cpmconf.report.ladder import Lanes, lane_order
from cpmconf.report.markdown import render_markdown
from cpmconf.report.testfest import render_testfest

PHONE = "urn:uuid:00000000-0000-4000-8000-0000000b0b01"
WATCH = "urn:uuid:00000000-0000-4000-8000-0000000b0b03"
RUN = {
    "entities": {
        "devices": [
            {"name": "bob-phone", "user": "sip:bob@example.net", "instance": PHONE},
            {"name": "bob-watch", "user": "sip:bob@example.net", "instance": WATCH},
        ],
        "users": ["sip:bob@example.net"],
        "originators": ["sip:alice@example.net"],
        "iwf": "sip:iwf@example.net",
    },
    "addresses": {"core": "127.0.0.1:5060", "pf": "127.0.0.1:5070", "msrp": "127.0.0.1:7000"},
    "command": "cpmconf run --sut-fault pf.deliver-unselected",
    "suite": {"version": "0.1.0", "commit": "0123abc"},
    "profile_sha256": "ab" * 32,
}


def _msg(index, from_sut, text, summary, protocol="SIP"):
    flow = (
        ["127.0.0.1", 5070, "127.0.0.1", 5060]
        if from_sut
        else ["127.0.0.1", 5060, "127.0.0.1", 5070]
    )
    return {
        "index": index,
        "time": 1000.0 + index / 1000,
        "transport": "udp",
        "flow": flow,
        "protocol": protocol,
        "from_sut": from_sut,
        "summary": summary,
        "text": text.replace("\n", "\r\n"),
    }


COPY_TO_WATCH = (
    f"MESSAGE sip:bob@example.net;gr={WATCH} SIP/2.0\n"
    "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKw\n"
    "From: <sip:alice@example.net>;tag=1\nCall-ID: w@x\nCSeq: 1 MESSAGE\n\n"
)
MESSAGES = [
    _msg(
        10,
        False,
        "MESSAGE sip:bob@example.net SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKa\n"
        "From: <sip:alice@example.net>;tag=1\nCall-ID: a@x\nCSeq: 1 MESSAGE\n"
        "User-Agent: CPM-client/OMA2.0 cpmconf-originator\n\n",
        "MESSAGE sip:bob@example.net",
    ),
    _msg(
        11,
        True,
        f"MESSAGE sip:bob@example.net;gr={PHONE} SIP/2.0\n"
        "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKp\n"
        "From: <sip:alice@example.net>;tag=1\nCall-ID: p@x\nCSeq: 1 MESSAGE\n\n",
        "MESSAGE to phone",
    ),
    _msg(
        12,
        False,
        "SIP/2.0 200 OK\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKp\nCall-ID: p@x\n"
        "CSeq: 1 MESSAGE\n\n",
        "200 OK (MESSAGE)",
    ),
    _msg(13, True, COPY_TO_WATCH, "MESSAGE to watch"),
    _msg(
        14,
        True,
        "SIP/2.0 200 OK\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKa\nCall-ID: a@x\n"
        "CSeq: 1 MESSAGE\n\n",
        "200 OK (MESSAGE)",
    ),
]


@pytest.fixture
def doc(sample) -> dict:
    d = copy.deepcopy(sample)
    d["run"].update(copy.deepcopy(RUN))
    fail = next(t for t in d["tests"] if t["verdict"] == "fail")
    fail["evidence"]["messages"] = copy.deepcopy(MESSAGES)
    fail["findings"][0]["message"] = COPY_TO_WATCH
    fail["findings"][0]["verdict"] = "fail"
    for c in d["clauses"]:
        c["document"] = f"Document {c['source'][:3]}: what it covers"
    return d


def test_one_lane_per_entity():
    arrows = Lanes(RUN).arrows(MESSAGES)
    assert [(a["src"], a["dst"]) for a in arrows] == [
        ("alice", "PF"),
        ("PF", "bob-phone"),
        ("bob-phone", "PF"),  # a response takes the lane of the request it answers
        ("PF", "bob-watch"),
        ("PF", "alice"),
    ]
    assert lane_order(arrows) == ["alice", "core", "PF", "bob-phone", "bob-watch"]
    assert arrows[1]["via_core"] and not arrows[2]["via_core"]


def test_ladder_marks_and_numbers_the_offending_message(doc):
    page = render_html(doc)
    fail = next(t for t in doc["tests"] if t["verdict"] == "fail")
    start = page.index('<article class="test v-fail"')
    svg = re.search(r'<svg[^>]*data-lanes="(\d+)".*?</svg>', page[start:], re.DOTALL)
    assert int(svg.group(1)) == 5
    marked = re.findall(r'<g class="arrow offending" data-number="(\d+)"', page)
    assert marked == ["4"]  # the copy to the unselected watch, fourth in the ladder
    assert 'class="highlight"' in svg.group(0)
    assert "\u26a0 #4" in svg.group(0)
    # The message list opens the offending message and says where it is in the capture.
    assert re.search(r'<details class="msg offending" id="[^"]+" open><summary>', page)
    assert "capture index 13" in page and fail["evidence"]["pcap"] in page


def test_failures_first_section(doc):
    page = render_html(doc)
    start = page.index('id="attention"')
    section = page[start : page.index("</section>", start)]
    assert start < page.index('id="summary"') < page.index('id="tests"')
    verdicts = re.findall(r'<span class="badge v-([a-z-]+)"', section)
    order = ["fail", "error", "non-strict", "inconclusive"]
    assert verdicts == sorted(verdicts, key=order.index)
    assert set(verdicts) <= set(order)
    assert "pass" not in verdicts and "fail" in verdicts and "inconclusive" in verdicts
    assert 'class="offending-link"' in section  # straight to the offending message


def test_nothing_to_act_on_says_so(doc):
    for t in doc["tests"]:
        t["verdict"] = "pass"
    assert 'id="attention-none"' in render_html(doc)


def test_test_list_has_a_verdict_filter(doc):
    page = render_html(doc)
    present = {t["verdict"] for t in doc["tests"]}
    for v in present:
        assert f'id="test-hide-{v}"' in page
        assert f"#test-hide-{v}:checked~table tr.v-{v}" in page
        assert f"#test-hide-{v}:checked~article.v-{v}" in page


def test_run_header(doc):
    page = render_html(doc)
    header = page[: page.index("</header>")]
    for text in (
        "cpmconf run --sut-fault pf.deliver-unselected",
        "commit 0123abc",
        "pf 127.0.0.1:5070",
        "ab" * 32,
        "the whole suite",
    ):
        assert text in header, text


def test_document_titles_in_every_format(doc):
    files = {c["source"] for c in doc["clauses"]}
    titles = {c["document"] for c in doc["clauses"]}
    md, sheet, page = render_markdown(doc), render_testfest(doc), render_html(doc)
    for title in titles:
        assert title in md and title in page
    for f in files:
        for text in (md, sheet):
            assert f not in text and f.replace("_", "\\_") not in text
        assert f'class="muted doc-file">({f})' in page  # the file name only as a detail
