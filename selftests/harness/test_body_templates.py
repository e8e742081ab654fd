"""Body and MSRP templates (`scenarios/sdp`, `scenarios/bodies`, `scenarios/msrp`) against the
codec's builders: for the same inputs they render the same bytes, so moving a producer from a
builder to its template cannot change the wire. Also: each renders parse-back checked (an
unparseable result is a StimulusError naming the template), and the record of which templates
a case rendered, with the rule that a case claims every clause a template it renders names.
"""

from __future__ import annotations

import pytest

from cpmconf import catalogue
from cpmconf.codec.cpim import CpimMessage
from cpmconf.codec.msrp import (
    MsrpMessage,
    build_report,
    build_request,
    build_response,
    chunk,
)
from cpmconf.codec.reginfo import RegContact, RegInfo, Registration
from cpmconf.codec.resource_lists import Entry, ResourceList
from cpmconf.codec.sdp import SessionDescription, build_sdp
from cpmconf.roles.errors import StimulusError
from cpmconf.roles.stimulus import RenderLog, Templates, unclaimed

HOST = "127.0.0.1"
LOCAL = "msrp://127.0.0.1:40001/abcdef123456;tcp"
REMOTE = "msrp://127.0.0.1:2855/sut987;tcp"


@pytest.fixture(scope="module")
def templates() -> Templates:
    return Templates(catalogue=catalogue.load())


# Every combination the steps render (src/cpmconf/procedures/*.py), and the rest.
SDP_CASES = {
    "pf-offer-file-selector": dict(
        setup="active",
        direction="sendonly",
        accept_types=["message/cpim"],
        accept_wrapped_types=["text/plain"],
        file_selector={"type": "message/cpim", "size": 1234},
    ),
    "pf-device-answer": dict(
        setup="active",
        direction="recvonly",
        accept_types=["message/cpim"],
        accept_wrapped_types=["*"],
    ),
    "client-answer": dict(
        setup="passive",
        direction="recvonly",
        accept_types=["message/cpim"],
        accept_wrapped_types=["*"],
    ),
    "client-offer": dict(
        setup="passive",
        direction="sendonly",
        accept_types=["message/cpim", "text/plain"],
        accept_wrapped_types=["text/plain"],
    ),
    "deferred": dict(setup="active", direction="recvonly", accept_types=["message/cpim"]),
    "deferred-client-answer": dict(
        setup="passive", direction="sendonly", accept_types=["message/cpim"]
    ),
    "robustness-handling-offer": dict(
        setup="active",
        direction="recvonly",
        accept_types=["message/cpim"],
        session_id=1,
        session_version=1,
    ),
    "everything": dict(
        setup="actpass",
        direction="sendrecv",
        accept_types="message/cpim",
        max_size=4096,
        cema=True,
        tls=True,
        port=2999,
        file_selector='name:"a b.txt" type:text/plain',
        file_transfer_id="ft1",
        file_disposition="attachment",
        username="cpmconf",
        session_id=7,
        session_version=3,
        session_name="s",
        attributes=[("msrp-cema", None), ("x-extra", "1")],
        session_attributes=[("sendrecv", None)],
    ),
    "ipv6-no-setup-no-direction": dict(setup=None, direction=None, accept_types=["*"]),
}


@pytest.mark.parametrize("name", ["sdp/offer.sdp.j2", "sdp/answer.sdp.j2"])
@pytest.mark.parametrize("case", sorted(SDP_CASES))
def test_sdp_template_renders_what_build_sdp_builds(templates, name, case):
    host = "::1" if case.startswith("ipv6") else HOST
    path = [LOCAL.replace("127.0.0.1", "[::1]")] if case.startswith("ipv6") else [LOCAL]
    kwargs = dict(host=host, path=path, **SDP_CASES[case])
    assert templates.render_body(name, **kwargs) == bytes(build_sdp(**kwargs))


def test_reginfo_template_renders_what_reginfo_build_builds(templates):
    regs = [
        Registration(
            "sip:alice@example.net",
            "r-1",
            "active",
            (
                RegContact(
                    "c-1",
                    "active",
                    "registered",
                    "sip:d1@127.0.0.1:5070",
                    600,
                    "<urn:uuid:1>",
                    "sip:alice@example.net;gr=urn:uuid:1",
                ),
                RegContact("c-2", "terminated", "expired", "sip:a&b@h", None, None, None, "t&g"),
            ),
        ),
        Registration("sip:bob@example.net", "r-2", "init", ()),
    ]
    for version in (0, 5):
        got = templates.render_body("bodies/reginfo.xml.j2", version=version, registrations=regs)
        assert got == bytes(RegInfo.build(version, regs))
    partial = templates.render_body(
        "bodies/reginfo.xml.j2", version=1, state="partial", registrations=regs
    )
    assert partial == bytes(RegInfo.build(1, regs, "partial"))


@pytest.mark.parametrize(
    "entries",
    [
        [Entry.with_action("sip:m1@pf.example;id=1", "delete"), Entry("sip:m2@x", "Two & co")],
        [Entry("sip:a@x", copy_control="to"), Entry("sip:b@x", anonymize=True)],
        [Entry.with_action("sip:m1@pf.example?x=1", "deliver")],
    ],
    ids=["actions", "copy-control", "uri-headers"],
)
def test_resource_lists_template_renders_what_build_builds(templates, entries):
    got = templates.render_body("bodies/resource_lists.xml.j2", entries=entries)
    assert got == bytes(ResourceList.build(entries))


def test_multipart_template_keeps_each_part_byte_for_byte(templates):
    sdp = bytes(build_sdp(host=HOST, path=[LOCAL], direction="recvonly"))
    xml = bytes(ResourceList.build([Entry("sip:a@x")]))  # LF line ends, kept as they are
    ctype, body = templates.multipart(
        [("application/sdp", sdp), ("application/resource-lists+xml", xml)], boundary="b1"
    )
    assert ctype == "multipart/mixed;boundary=b1"
    expected = (
        b"--b1\r\nContent-Type: application/sdp\r\n\r\n" + sdp + b"\r\n"
        b"--b1\r\nContent-Type: application/resource-lists+xml\r\n\r\n" + xml + b"\r\n"
        b"--b1--\r\n"
    )
    assert body == expected


def test_cpim_template_renders_what_cpim_build_builds(templates):
    ctx = dict(
        cpim_from="sip:a@x",
        cpim_to="sip:b@x",
        datetime="2026-01-01T00:00:00Z",
        imdn_id="id1",
        disposition="positive-delivery",
        content_type="text/plain",
        text="hello\nworld",
    )
    got = templates.body("bodies/cpim.j2", **ctx)
    headers = [
        ("From", "<sip:a@x>"),
        ("To", "<sip:b@x>"),
        ("DateTime", ctx["datetime"]),
        ("NS", "imdn <urn:ietf:params:imdn>"),
        ("imdn.Message-ID", "id1"),
        ("imdn.Disposition-Notification", "positive-delivery"),
    ]
    built = CpimMessage.build(headers, "text/plain", b"hello\r\nworld", content_length=False)
    assert got == bytes(built)


def test_imdn_template_is_well_formed(templates):
    body = templates.render_body(
        "bodies/imdn.xml.j2",
        message_id="m&1",
        datetime="2026-01-01T00:00:00Z",
        recipient_uri="sip:b@x",
        notification="delivery",
        status="delivered",
    )
    assert b"<message-id>m&amp;1</message-id>" in body
    assert b"<delivery-notification><status><delivered/></status>" in body


# -- MSRP ----------------------------------------------------------------------------------------


def test_binding_send_is_what_build_request_builds(templates):
    stim = templates.render_msrp(
        "msrp/send.msrp.j2", tid="tx01", to_path=[REMOTE], from_path=[LOCAL]
    )
    assert stim.raw == bytes(build_request("tx01", "SEND", [REMOTE], [LOCAL]))
    assert stim.message.method == "SEND" and stim.transaction_id == "tx01"


@pytest.mark.parametrize("size", [1, 7, 100, [3, 5], [50]])
@pytest.mark.parametrize("body", [b"", "h\u00e9llo w\u00f6rld, chunked".encode()])
def test_chunks_are_what_codec_chunk_builds(templates, size, body):
    tids = [f"tid{i:02d}" for i in range(64)]
    kw = dict(to_path=[REMOTE], from_path=[LOCAL], message_id="mid1", content_type="message/cpim")
    got = [s.raw for s in templates.msrp_chunks(body, size, transaction_ids=tids, **kw)]
    want = [bytes(m) for m in chunk(body, size, transaction_ids=tids, **kw)]
    assert got == want
    unknown = [
        s.raw for s in templates.msrp_chunks(body, 4, transaction_ids=tids, total_known=False, **kw)
    ]
    assert unknown == [
        bytes(m) for m in chunk(body, 4, transaction_ids=tids, total_known=False, **kw)
    ]


def _send(body: bytes = b"abc", flag: str = "$") -> MsrpMessage:
    return build_request(
        "sx01",
        "SEND",
        [LOCAL],
        [REMOTE, "msrp://127.0.0.1:2856/relay;tcp"],
        message_id="m1",
        byte_range=(1, len(body), len(body)),
        content_type="message/cpim",
        body=body,
        flag=flag,
    )


@pytest.mark.parametrize("code,comment", [(200, None), (403, None), (415, "nope"), (299, None)])
def test_response_is_what_build_response_builds(templates, code, comment):
    send = _send()
    got = templates.msrp_response(send, code, comment, own_uri=LOCAL)
    assert got.raw == bytes(build_response(send, code, comment, own_uri=LOCAL))
    default = templates.msrp_response(send, code, comment)
    assert default.raw == bytes(build_response(send, code, comment))


def test_report_is_what_build_report_builds(templates):
    for send in (_send(), _send(b"abcdef", "+")):
        got = templates.msrp_report(send, "rx01", 200)
        assert got.raw == bytes(build_report(send, "rx01", 200))
        got = templates.msrp_report(send, "rx02", 413, "too big", own_uri=LOCAL)
        assert got.raw == bytes(build_report(send, "rx02", 413, "too big", own_uri=LOCAL))


def test_report_is_never_answered(templates):
    report = build_report(_send(), "rx01")
    with pytest.raises(StimulusError, match="msrp/response.msrp.j2"):
        templates.msrp_response(report, 200)


# -- parse-back -----------------------------------------------------------------------------------


@pytest.fixture
def library(tmp_path):
    def add(name: str, text: str) -> Templates:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return Templates(tmp_path)

    return add


@pytest.mark.parametrize(
    "name,text",
    [
        ("sdp/bad.sdp.j2", "{# clauses: #}\nv=1\no=- 0 0 IN IP4 h\ns=-\n"),
        ("bodies/bad.xml.j2", "{# clauses: #}\n<a><b></a>\n"),
        (
            "bodies/bad_rl.xml.j2",
            '{# clauses: #}\n<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists">'
            "<list><entry/></list></resource-lists>\n",
        ),
        ("bodies/bad.cpim.j2", "{# clauses: #}\nFrom <sip:a@x>\n"),
        ("bodies/bad.mime.j2", "{# clauses: #}\n--b\nContent-Type: text/plain\n"),
    ],
)
def test_unparseable_body_is_a_stimulus_error_naming_the_template(library, name, text):
    with pytest.raises(StimulusError) as info:
        library(name, text).render_body(name)
    assert name in str(info.value) and "unparseable" in str(info.value)


def test_unparseable_msrp_is_a_stimulus_error_naming_the_template(library):
    name = "msrp/bad.msrp.j2"
    t = library(name, "{# clauses: #}\nMSRP {{ tid }} SEND\nTo-Path: not-a-uri\n")
    with pytest.raises(StimulusError, match=name):
        t.render_msrp(name, tid="tx01")


def test_missing_value_in_an_msrp_template_names_it(templates):
    with pytest.raises(StimulusError, match="msrp/send.msrp.j2.*from_path"):
        templates.render_msrp("msrp/send.msrp.j2", tid="tx01", to_path=[REMOTE])


def test_render_body_refuses_a_sip_template(templates):
    with pytest.raises(StimulusError, match="not a body template"):
        templates.render_body("common/options.sip.j2")


def test_every_new_body_template_parses_as_its_kind(templates):
    sdp = templates.render_body(
        "sdp/offer.sdp.j2",
        host=HOST,
        path=[LOCAL],
        setup="active",
        direction="sendonly",
        accept_types=["message/cpim"],
    )
    assert SessionDescription.parse(sdp).msrp_media()[0].path() == [LOCAL]


# -- which templates a case rendered --------------------------------------------------------------


def test_render_log_records_only_while_open(templates):
    log = RenderLog()
    log.note("a.j2", ("X",))
    log.open()
    log.note("a.j2", ("X",))
    log.note("b.j2", ())
    log.note("a.j2", ("X",))
    assert log.take() == [("a.j2", ("X",)), ("b.j2", ())]
    log.note("c.j2", ())
    assert log.take() == []


def test_a_template_naming_an_unclaimed_clause_is_reported():
    rendered = [("pf/device_final.sip.j2", ("A", "B")), ("common/response.sip.j2", ())]
    assert unclaimed(rendered, ["A", "B", "C"]) == []
    assert unclaimed(rendered, ["A"]) == [("pf/device_final.sip.j2", "B")]


_MALFORMED = {"variant": "no-colon", "cpim_from": "sip:a@x", "cpim_to": "sip:b@x"}


def test_every_render_is_recorded_while_the_log_is_open(templates):
    from cpmconf.roles.stimulus import RENDERED

    RENDERED.open()
    try:
        templates.render_raw("robustness/cpim_malformed.j2", **_MALFORMED)
        templates.render_body("bodies/resource_lists.xml.j2", entries=[])
        templates.render_msrp("msrp/send.msrp.j2", tid="tx01", to_path=[REMOTE], from_path=[LOCAL])
    finally:
        seen = RENDERED.take()
    assert [n for n, _ in seen] == [
        "robustness/cpim_malformed.j2",
        "bodies/resource_lists.xml.j2",
        "msrp/send.msrp.j2",
    ]
    assert seen[0][1] == ("RB-cpim-malformed",)


def test_a_bad_value_for_a_helper_names_the_template(templates):
    with pytest.raises(StimulusError, match="sdp/offer.sdp.j2.*bad value"):
        templates.render_body(
            "sdp/offer.sdp.j2",
            host=HOST,
            path=["not a uri"],
            setup="active",
            direction="sendonly",
            accept_types=["message/cpim"],
        )
