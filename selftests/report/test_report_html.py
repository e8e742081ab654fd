"""compliance.html from the fixed results document: content, links, escaping, ladders."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from cpmconf.report._common import case_anchor, clause_anchor, legend, message_anchor
from cpmconf.report.html import render_html
from cpmconf.report.markdown import render_markdown
from selftests.report.conftest import parse_html

FAIL_TEST = "testcases/test_ts_8_3_2_1_pf.py::test_blocked_originator_gets_403[warning]"
PASS_TEST = "testcases/test_ts_8_3_2_1_pf.py::test_copy_to_each_device"


def _article(page: str, test_id: str) -> str:
    start = page.index(f'id="{case_anchor(test_id)}"')
    return page[start : page.index("</article>", start)]


def _svgs(fragment: str) -> list[ET.Element]:
    # The diagrams must be well-formed XML on their own, so ElementTree can read them.
    return [ET.fromstring(s) for s in re.findall(r"<svg.*?</svg>", fragment, re.DOTALL)]


def test_page_is_balanced_and_self_contained(sample):
    page = render_html(sample)
    tree = parse_html(page)
    assert tree.problems == []
    assert tree.stack == []
    assert tree.srcs == []  # no images, scripts or frames loaded from anywhere
    assert not [h for h in tree.hrefs if "://" in h or h.startswith("//")]
    assert "<link" not in page and "@import" not in page
    assert len(tree.ids) == len(set(tree.ids)), "element ids repeat"


def test_every_internal_link_has_a_target(sample):
    tree = parse_html(render_html(sample))
    ids = set(tree.ids)
    internal = [h[1:] for h in tree.hrefs if h.startswith("#")]
    assert internal
    assert [h for h in internal if h not in ids] == []


def test_header_and_capture_mode(sample):
    page = render_html(sample)
    assert "cpmconf compliance report: acme-pf" in page
    assert "socket-tap" in page
    assert 'id="capture-warning"' in page
    sample["run"]["capture"] = {"mode": "sniffer", "reason": "raw capture on lo"}
    assert 'id="capture-warning"' not in render_html(sample)


def test_legend_lists_every_state(sample):
    page = render_html(sample)
    legend_html = page[
        page.index('id="legend"') : page.index("</section>", page.index('id="legend"'))
    ]
    for state, _meaning in legend():
        assert f">{state}</span>" in legend_html
    assert len(legend()) == 10  # six test verdicts, four clause-only states


def test_summary_numbers(sample):
    page = render_html(sample)
    assert 'id="tests-total">8<' in page
    assert 'id="clauses-total">11<' in page
    # Judged is pass, fail or non-strict; tested also counts inconclusive and error; superseded
    # clauses are out of the denominator (the old line said "7 of 10", counting claims).
    assert 'id="clauses-judged">3<' in page
    assert 'id="clauses-tested">6<' in page
    assert 'id="clauses-testable">8<' in page
    assert 'id="clauses-untestable">1<' in page and 'id="clauses-superseded">2<' in page
    assert "(38% judged)" in page
    summary = page[page.index('id="summary"') : page.index('id="clauses"')]
    # By document: 001_pf.txt has 3 clauses, all testable and judged, 1 pass 1 fail 1 non-strict.
    row = re.search(r"<tr><td>001_pf.txt</td>(.*?)</tr>", summary).group(1)
    numbers = re.findall(r'<td class="?n"?>([^<]*)</td>', row)
    assert numbers[:5] == ["3", "3", "3", "3", "100%"]
    assert numbers[5:8] == ["1", "1", "1"]  # pass, fail, non-strict
    for group in ("By document", "By section", "By role", "By level"):
        assert f"<b>{group}</b>" in summary
    assert "<td>SHALL NOT</td>" in summary and "<td>cpm-client-registration</td>" in summary


def test_clause_table_has_every_clause_with_its_verdict(sample):
    page = render_html(sample)
    table = page[page.index('id="clauses"') : page.index('id="superseded"')]
    for c in sample["clauses"]:
        m = re.search(rf'<tr id="{re.escape(clause_anchor(c["id"]))}" class="v-([a-z-]+)"', table)
        assert m, c["id"]
        assert m.group(1) == c["verdict"]
    row = table[table.index(f'id="{clause_anchor("TS-8.3.2.1-1")}"') :]
    row = row[: row.index("</tr>")]
    assert f'href="#{case_anchor(PASS_TEST)}"' in row
    assert f'href="#{case_anchor(FAIL_TEST)}"' in row


def test_superseded_lineage_and_untestable_reasons(sample):
    page = render_html(sample)
    sup = page[page.index('id="superseded"') : page.index('id="untestable"')]
    assert "Superseded clauses (2)" in sup
    row = sup[sup.index("SD-5.2.2.1-1") :]
    row = row[: row.index("</tr>")]
    chain = re.findall(r"<code>([^<]+)</code>", row)
    assert chain == ["SD-5.2.2.1-1", "SD-5.2.2.1-1", "TS-7.1-subscribe", "TS-7.2.1.1-3"]
    assert ">not-applicable</span>" in row  # the governing clause's verdict
    unt = page[page.index('id="untestable"') : page.index('id="tests"')]
    assert "Untestable clauses (1)" in unt
    assert "generic-rfc: an umbrella sentence" in unt


def test_sut_text_is_escaped_everywhere(sample):
    page = render_html(sample)
    assert "<script>alert" not in page
    assert "<img" not in page
    assert page.count("<script>") == 1  # the page's own few lines, in the head
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&quot;&gt;&lt;img src=x onerror=alert(2)&gt;" in page
    assert "\\x07" in page and "\x07" not in page
    assert "403 &amp; Warning 122" in page  # a clause summary with an ampersand


def test_test_sections_reason_and_findings(sample):
    page = render_html(sample)
    for t in sample["tests"]:
        assert f'id="{case_anchor(t["id"])}"' in page
    art = _article(page, FAIL_TEST)
    assert ">fail</span> test_blocked_originator_gets_403[warning]</h3>" in art
    assert "<h4>Reason</h4>" in art and "[fail] TS-8.3.2.1-2 (SHALL)" in art
    assert "403 with Warning: 399 &lt;host&gt; &quot;122&quot;" in art  # expected
    assert "403 &lt;script&gt;alert(1)&lt;/script&gt; &amp; no Warning" in art  # actual
    assert "message excerpt" in art
    assert "note: the reason phrase is the SUT&#x27;s own" in art
    assert "capture barrier complete after 20 ms" in art  # evidence notes
    out_of_time = _article(page, "testcases/test_ts_7_2_1_1_client.py::test_icsi_in_accept_contact")
    assert "did not finish within its overall bound of 30 s" in out_of_time
    assert "No messages captured." in out_of_time


def test_ladder_has_one_arrow_per_message_in_the_right_direction(sample):
    page = render_html(sample)
    by_id = {t["id"]: t for t in sample["tests"]}
    ns = {"s": "http://www.w3.org/2000/svg"}
    for tid in (FAIL_TEST, PASS_TEST):
        messages = by_id[tid]["evidence"]["messages"]
        (svg,) = _svgs(_article(page, tid))
        arrows = svg.findall("s:g[@class]", ns)
        arrows = [g for g in arrows if "arrow" in g.get("class")]
        assert len(arrows) == len(messages)
        for number, (arrow, m) in enumerate(zip(arrows, messages, strict=True), 1):
            link = arrow.find("s:a", ns)
            assert link.get("href") == f"#{message_anchor(tid, m['index'])}"
            line = link.find("s:line", ns)
            leftwards = float(line.get("x1")) > float(line.get("x2"))
            # Without an entity map the test system's side is the core, left of the SUT.
            assert leftwards == m["from_sut"], m["summary"]
            title = link.find("s:title", ns).text
            assert title.startswith(f"#{number} (capture index {m['index']}) {m['summary']}")
        lanes = [g.find("s:text", ns).text for g in svg.findall("s:g[@class='lane']", ns)]
        assert lanes == ["core", "SUT"]


def test_each_message_expands_to_its_full_text(sample):
    page = render_html(sample)
    art = _article(page, FAIL_TEST)
    for m in sample["tests"][1]["evidence"]["messages"]:
        anchor = message_anchor(FAIL_TEST, m["index"])
        start = art.index(f'id="{anchor}"')
        block = art[start : art.index("</details>", start)]
        assert "Call-ID:" in block
    assert "SUT \u2192 core" in art and "core \u2192 SUT" in art


def test_stimuli_beside_the_ladder_and_pcap_links(sample):
    page = render_html(sample)
    art = _article(page, FAIL_TEST)
    evidence = art[art.index('<div class="evidence">') :]
    assert evidence.index('class="ladder"') < evidence.index("<h5>Stimuli</h5>")
    assert "pf/message.sip.j2" in evidence and "mallory@example.net" in evidence
    assert 'href="pcaps/test_blocked_originator_gets_403%5Bwarning%5D.pcap"' in art
    assert 'class="pcap" href="pcaps/test_copy_to_each_device.pcap"' in page
    nothing = _article(page, "testcases/test_ts_7_2_1_1_client.py::test_expiry_in_expires")
    assert 'class="pcap"' not in nothing


def test_a_pcap_path_that_is_not_relative_is_not_linked(sample):
    sample["tests"][0]["evidence"]["pcap"] = "javascript:alert(1)"
    sample["tests"][1]["evidence"]["pcap"] = "/etc/passwd"
    page = render_html(sample)
    assert 'href="javascript' not in page and 'href="/etc' not in page
    assert "<code>javascript:alert(1)</code>" in page


def test_anchors_are_safe_and_distinct():
    assert clause_anchor("TS-8.3.2.1-1") == "clause-TS-8.3.2.1-1"
    a, b = case_anchor("t.py::x[a b]"), case_anchor("t.py::x[a-b]")
    assert a != b
    assert re.fullmatch(r"[A-Za-z0-9._-]+", a)


def test_a_sparse_document_still_renders():
    doc = {"schema": "cpmconf-results/1", "run": {}, "summary": {}, "tests": [], "clauses": []}
    page = render_html(doc)
    assert "unnamed target" in page and 'id="tests-total">0<' in page
    assert parse_html(page).problems == []


def test_counts_agree_between_summary_coverage_line_and_headings(sample):
    # A superseded clause that a test still judged, and one that is also untestable: each is
    # counted once, as superseded, everywhere.
    for c in sample["clauses"]:
        if c["id"] == "TS-7.1-subscribe":
            c.update(verdict="pass", tests=[sample["tests"][0]["id"]])
        if c["id"] == "SD-5.2.2.1-1":
            c["testable"] = False
    page = render_html(sample)
    sup = int(re.search(r'id="clauses-superseded">(\d+)<', page).group(1))
    unt = int(re.search(r'id="clauses-untestable">(\d+)<', page).group(1))
    assert (sup, unt) == (2, 1)
    assert f"Superseded clauses ({sup})</h2>" in page
    assert f"Untestable clauses ({unt})</h2>" in page
    summary = page[page.index('id="summary"') : page.index('id="coverage"')]
    assert re.search(r">superseded</span> 2\b", summary)
    assert re.search(r">untestable</span> 1\b", summary)
    text = render_markdown(sample)
    assert "11 clauses in all, 1 untestable, 2 superseded." in text


def test_a_narrowed_run_counts_coverage_against_its_selection(sample):
    sample["run"]["selection"] = {
        "clause": ["TS-8.3.2.1"],
        "markexpr": "",
        "keyword": "",
        "tests": 3,
        "clauses": ["TS-8.3.2.1-1", "TS-8.3.2.1-2", "TS-8.3.2.1-3"],
    }
    page = render_html(sample)
    assert 'id="clauses-judged">3<' in page and 'id="clauses-testable">3<' in page
    assert 'id="selection"' in page and "--clause TS-8.3.2.1" in page
    assert "3 selected testable clauses (100% judged)" in render_markdown(sample)
