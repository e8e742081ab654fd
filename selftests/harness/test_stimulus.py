"""Send-templates (`cpmconf.roles.stimulus`): the rules every stimulus obeys.

Covers the shipped library under `scenarios/` (every template has a `{# clauses: ... #}`
header naming known clause ids, possibly none) and, with throw-away templates, the rules
themselves: a missing value (StrictUndefined), an unparseable rendering, a missing header or
an unknown clause id are each a StimulusError naming the template; rendered messages have
CRLF line endings and a Content-Length the harness computed, whatever the template wrote.
"""

from __future__ import annotations

import pytest

from cpmconf import catalogue
from cpmconf.codec.sip import SipMessage
from cpmconf.roles.errors import StimulusError
from cpmconf.roles.stimulus import SCENARIOS_DIR, Templates

CLAUSE = "TS-8.3.2.1-1d"

OPTIONS_CONTEXT = {
    "target": "sip:bob@example.net",
    "transport": "UDP",
    "core_host": "127.0.0.1",
    "core_port": 5070,
    "branch": "z9hG4bKselftest",
    "tag": "t1",
    "call_id": "c1@127.0.0.1",
}

REQUEST = f"""{{# clauses: {CLAUSE} #}}
MESSAGE {{{{ target }}}} SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKselftest
Max-Forwards: 70
From: <sip:alice@example.net>;tag=t1
To: <{{{{ target }}}}>
Call-ID: c1@127.0.0.1
CSeq: 1 MESSAGE
Content-Type: text/plain
"""


@pytest.fixture(scope="module")
def cat() -> catalogue.Catalogue:
    return catalogue.load()


@pytest.fixture
def library(tmp_path, cat):
    """A template folder of its own; `add(name, text)` writes one template into it."""

    def add(name: str, text: str) -> Templates:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return Templates(tmp_path, catalogue=cat)

    return add


def test_every_shipped_template_names_known_clauses(cat):
    templates = Templates(catalogue=cat)
    names = templates.check_all()
    on_disk = sorted(str(p.relative_to(SCENARIOS_DIR)) for p in SCENARIOS_DIR.rglob("*.j2"))
    assert names == on_disk and names
    for name in names:
        # An empty header is allowed: a template used across clauses embodies none of them
        # (every clause named must be claimed by each case rendering it).
        ids = templates.clauses_of(name)
        assert all(i in cat for i in ids)
    assert any(templates.clauses_of(n) for n in names)


def test_missing_variable_names_the_template_and_the_value(cat):
    context = dict(OPTIONS_CONTEXT)
    del context["target"]
    with pytest.raises(StimulusError) as info:
        Templates(catalogue=cat).render("common/options.sip.j2", **context)
    assert info.value.template == "common/options.sip.j2"
    assert "common/options.sip.j2" in str(info.value) and "target" in str(info.value)


def test_missing_variable_in_a_body_template(cat):
    with pytest.raises(StimulusError) as info:
        Templates(catalogue=cat).body("bodies/cpim.j2", cpim_from="sip:alice@example.net")
    assert info.value.template == "bodies/cpim.j2" and "undefined" in info.value.reason


@pytest.mark.parametrize(
    "text, words",
    [
        (f"{{# clauses: {CLAUSE} #}}\nhello world\nCall-ID: x\n", "unparseable"),
        (REQUEST.replace("CSeq: 1 MESSAGE\n", ""), "unparseable"),
        (REQUEST + "this line is no header\n", "not a header line"),
        (REQUEST + "Bad Name: value\n", "not a header line"),
        (f"{{# clauses: {CLAUSE} #}}\n\n\n", "rendered nothing"),
        (REQUEST + "{% if %}\n", "TemplateSyntaxError"),
    ],
    ids=["bad-start-line", "no-cseq", "no-colon", "space-in-name", "empty", "jinja-syntax"],
)
def test_malformed_rendering_is_a_stimulus_error(library, text, words):
    templates = library("broken.sip.j2", text)
    with pytest.raises(StimulusError) as info:
        templates.render("broken.sip.j2", target="sip:bob@example.net")
    assert info.value.template == "broken.sip.j2"
    assert words in info.value.reason
    assert str(info.value).startswith("template broken.sip.j2: ")


def test_rendered_message_has_crlf_and_computed_content_length(library):
    # LF-only template text, and a Content-Length the template gets wrong on purpose.
    templates = library("msg.sip.j2", REQUEST + "Content-Length: 999\n")
    body = "héllo\r\nworld"
    stim = templates.render("msg.sip.j2", body=body, target="sip:bob@example.net")
    head, sep, rest = stim.raw.partition(b"\r\n\r\n")
    assert sep and rest == body.encode("utf-8")
    assert b"\n" not in head.replace(b"\r\n", b"")
    assert b"\r" not in head.replace(b"\r\n", b"")
    lengths = [ln for ln in head.split(b"\r\n") if ln.lower().startswith(b"content-length")]
    assert lengths == [f"Content-Length: {len(body.encode('utf-8'))}".encode()]
    assert stim.message.content_length == len(body.encode("utf-8"))
    assert stim.message.content_length_ok
    assert stim.clauses == (CLAUSE,) and stim.template == "msg.sip.j2"
    assert SipMessage.parse(stim.raw).header("Call-ID") == "c1@127.0.0.1"


def test_shipped_template_renders_crlf(cat):
    stim = Templates(catalogue=cat).render("common/options.sip.j2", **OPTIONS_CONTEXT)
    assert stim.raw.endswith(b"\r\n\r\n")
    assert b"\n" not in stim.raw.replace(b"\r\n", b"")
    assert stim.message.method == "OPTIONS" and stim.message.content_length == 0


def test_body_template_has_crlf_and_no_trailing_blank_line(cat):
    body = Templates(catalogue=cat).body(
        "bodies/cpim.j2",
        cpim_from="sip:alice@example.net",
        cpim_to="sip:bob@example.net",
        datetime="2024-01-01T00:00:00Z",
        imdn_id="abc",
        content_type="text/plain",
        text="hi",
    )
    assert b"\n" not in body.replace(b"\r\n", b"")
    assert body.rstrip(b"\r\n").endswith(b"hi") and not body.endswith(b"\r\n\r\n")


@pytest.mark.parametrize(
    "first_line",
    ["", "{# no clauses here #}\n", "MESSAGE sip:x SIP/2.0\n{# clauses: TS-8.3.2.1-1d #}\n"],
    ids=["no-comment", "other-comment", "not-first-line"],
)
def test_template_without_clauses_header_is_rejected(library, first_line):
    templates = library("bare.sip.j2", first_line + REQUEST.split("\n", 1)[1])
    with pytest.raises(StimulusError) as info:
        templates.render("bare.sip.j2", target="sip:bob@example.net")
    assert info.value.template == "bare.sip.j2" and "clauses" in info.value.reason
    with pytest.raises(StimulusError):
        templates.check_all()


def test_template_naming_an_unknown_clause_is_rejected(library):
    templates = library("typo.sip.j2", REQUEST.replace(CLAUSE, f"{CLAUSE} TS-99.99-nope", 1))
    with pytest.raises(StimulusError) as info:
        templates.check_all()
    assert info.value.template == "typo.sip.j2" and "TS-99.99-nope" in info.value.reason


def test_missing_template_is_a_stimulus_error(library):
    templates = library("present.sip.j2", REQUEST)
    with pytest.raises(StimulusError) as info:
        templates.render("absent.sip.j2", target="sip:bob@example.net")
    assert info.value.template == "absent.sip.j2"
