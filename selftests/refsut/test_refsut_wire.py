"""The reference SUT's own wire writers (refsut/wire.py) write text the codec reads back.

The refsut no longer writes through the codec's builders (see
test_refsut_codec_contract.py), so nothing guarantees any more that its text parses. These
round trips do: each writer's output goes through the codec's parser and the fields that
matter come back as written.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from cpmconf.codec.cpim import CpimMessage
from cpmconf.codec.deferred_messages import DeferredList, validate
from cpmconf.codec.headers import AcceptContact, ContactFeatures, warnings_of
from cpmconf.codec.msrp import MsrpMessage, Reassembler
from cpmconf.codec.resource_lists import ResourceList
from cpmconf.codec.sdp import SessionDescription
from cpmconf.codec.sip import SipMessage, check_content_length
from refsut import wire
from refsut.sipcore import build_request, build_response

ALICE = "sip:alice@example.net"
BOB = "sip:bob@example.net"
A_URI = "msrp://127.0.0.1:40001/a1b2c3d4e5;tcp"
B_URI = "msrp://127.0.0.1:40002/f6g7h8i9j0;tcp"


# --------------------------------------------------------------------------- SIP


def test_sip_request_and_response_round_trip():
    body = b"hello \xc3\xa9"
    raw = build_request(
        "MESSAGE",
        BOB,
        via="SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKabc;rport",
        from_=f"<{ALICE}>;tag=t1",
        to=f"<{BOB}>",
        call_id="cid@127.0.0.1",
        cseq=7,
        headers=[("Content-Type", "text/plain"), ("Content-Length", "999")],
        body=body,
    )
    req = SipMessage.parse(raw)
    assert (req.method, req.request_uri, req.call_id, req.cseq) == (
        "MESSAGE",
        BOB,
        "cid@127.0.0.1",
        (7, "MESSAGE"),
    )
    assert req.branch == "z9hG4bKabc"
    assert req.body == body
    assert check_content_length(req, required=True) is None
    # a given Content-Length only marks the place; the value is computed
    assert req.header_values("Content-Length") == [str(len(body))]
    assert [n for n, _ in req.headers][-2:] == ["Content-Type", "Content-Length"]

    two_vias = raw.replace(b"Via: ", b"Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKtop\r\nVia: ", 1)
    resp = SipMessage.parse(build_response(SipMessage.parse(two_vias), 200, to_tag="tt"))
    assert (resp.status, resp.reason) == (200, "OK")
    assert resp.header_list("Via")[0].endswith("branch=z9hG4bKtop")
    assert len(resp.header_list("Via")) == 2
    assert resp.header("To") == f"<{BOB}>;tag=tt"
    assert resp.cseq == (7, "MESSAGE") and resp.body == b""
    assert check_content_length(resp, required=True) is None


def test_sip_message_refuses_a_line_break_in_a_value():
    try:
        wire.sip_message("OPTIONS sip:x SIP/2.0", [("Subject", "a\r\nInjected: 1")])
    except wire.WireError:
        return
    raise AssertionError("a bare line break went out")


def test_icsi_ref_and_warning_read_back():
    urn = "urn:urn-7:3gpp-service.ims.icsi.oma.cpm.msg"
    accept = AcceptContact.parse(f'*;+g.3gpp.icsi-ref="{wire.icsi_ref(urn)}"')
    assert accept.has_icsi(urn) and accept.icsi_encoded_ok()
    contact = ContactFeatures.parse(f'<sip:a@h>;+g.3gpp.icsi-ref="{wire.icsi_ref(urn)}"')
    assert contact.icsi_refs() == [urn]
    (w,) = warnings_of([wire.warning(399, "pf.example.net", '125 say "no" \\ please')])
    assert (w.code, w.agent, w.text) == (399, "pf.example.net", '125 say "no" \\ please')
    assert w.oma_code() == 125


# --------------------------------------------------------------------------- MSRP


def test_msrp_request_round_trip():
    raw = wire.msrp_request(
        "tid12345",
        "SEND",
        [B_URI],
        A_URI,
        message_id="mid9876",
        range_=(1, 5, 5),
        content_type="message/cpim",
        body=b"hello",
        extra=[("Success-Report", "no")],
    )
    msg = MsrpMessage.parse(raw)
    assert (msg.transaction_id, msg.method, msg.continuation) == ("tid12345", "SEND", "$")
    assert [str(u) for u in msg.to_path()] == [B_URI]
    assert [str(u) for u in msg.from_path()] == [A_URI]
    assert msg.message_id == "mid9876"
    assert tuple(msg.byte_range()) == (1, 5, 5)
    assert (msg.content_type, msg.body) == ("message/cpim", b"hello")
    assert msg.header("Success-Report") == "no"
    assert wire.msrp_tid(raw) == "tid12345"


def test_msrp_bind_send_is_body_less_and_response_answers_it():
    raw = wire.msrp_request(None, "SEND", B_URI, A_URI, message_id="m1234", range_=(1, 0, 0))
    msg = MsrpMessage.parse(raw)
    assert msg.body == b"" and msg.content_type is None
    assert tuple(msg.byte_range()) == (1, 0, 0)
    resp = MsrpMessage.parse(
        wire.msrp_response(msg.transaction_id, 200, msg.from_path()[0], msg.to_path()[0])
    )
    assert (resp.transaction_id, resp.status) == (msg.transaction_id, 200)
    assert resp.comment == "OK"
    assert [str(u) for u in resp.to_path()] == [A_URI]
    assert [str(u) for u in resp.from_path()] == [B_URI]


def test_msrp_chunks_reassemble(monkeypatch):
    body = b"-------abcd1234$" + bytes(range(256)) * 20
    # the first transaction id drawn collides with the end-line text inside the body
    drawn = iter(["abcd1234"])
    real = wire.new_ident
    monkeypatch.setattr(wire, "new_ident", lambda n=16: next(drawn, None) or real(n))
    sends = wire.msrp_chunks(body, 1000, to_path=[B_URI], from_path=A_URI, message_id="mm1234")
    parsed = [MsrpMessage.parse(s) for s in sends]
    assert [m.continuation for m in parsed] == ["+"] * 5 + ["$"]
    assert all(m.transaction_id != "abcd1234" for m in parsed)
    assert [tuple(m.byte_range()) for m in parsed][0] == (1, 1000, len(body))
    parts = Reassembler()
    for m in parsed:
        parts.feed(m)
    assert parts.complete and parts.message() == body

    (bind,) = wire.msrp_chunks(b"", 1, to_path=B_URI, from_path=A_URI, message_id="mm1234")
    msg = MsrpMessage.parse(bind)
    assert tuple(msg.byte_range()) == (1, 0, 0) and msg.content_type is None


def test_msrp_uri_ipv6_in_brackets():
    from cpmconf.codec.msrp import MsrpUri

    uri = MsrpUri.parse(wire.msrp_uri("::1", 2855, "sess1234"))
    assert (uri.host, uri.port, uri.session_id, uri.transport) == ("::1", 2855, "sess1234", "tcp")


# --------------------------------------------------------------------------- SDP


def test_sdp_round_trip():
    raw = wire.sdp_msrp(
        host="127.0.0.1",
        path=[A_URI, B_URI],
        accept_types="message/cpim",
        accept_wrapped_types=["text/plain", "*"],
        setup="passive",
        direction="recvonly",
        file_selector="size:4000",
        session_id=42,
    )
    sdp = SessionDescription.parse(raw.decode())
    assert sdp.crlf
    (m,) = sdp.msrp_media()
    assert m.port == 40002  # the last path URI is our own (RFC 4975 8.1)
    assert [str(u) for u in m.path_uris()] == [A_URI, B_URI]
    assert m.accept_types() == ["message/cpim"]
    assert m.accept_wrapped_types() == ["text/plain", "*"]
    assert (m.setup(), sdp.direction(m)) == ("passive", "recvonly")
    assert m.file_selector() == {"size": 4000}
    assert sdp.origin.session_id == "42"


def test_sdp_empty_type_lists_and_ipv6():
    raw = wire.sdp_msrp(
        host="::1", path=wire.msrp_uri("::1", 3000, "s1234"), accept_types=(), port=None
    )
    sdp = SessionDescription.parse(raw.decode())
    (m,) = sdp.msrp_media()
    assert m.port == 3000 and m.attr("accept-types") is None
    assert sdp.origin.addrtype == "IP6"


# --------------------------------------------------------------------------- CPIM, IMDN


def test_cpim_round_trip():
    raw = wire.cpim(
        [
            ("From", f"<{ALICE}>"),
            ("To", f"<{BOB}>"),
            ("DateTime", "2026-01-02T03:04:05Z"),
            ("NS", f"imdn <{wire.IMDN_NS}>"),
            ("imdn.Message-ID", "Mid1"),
            ("imdn.Disposition-Notification", "positive-delivery, display"),
        ],
        "text/plain;charset=UTF-8",
        "héllo".encode(),
        [("Content-Disposition", "render")],
    )
    cpim = CpimMessage.parse(raw)
    assert cpim.from_address().uri == ALICE
    assert [a.uri for a in cpim.to_addresses()] == [BOB]
    assert cpim.imdn_message_id() == "Mid1"
    assert cpim.disposition_notification() == ["positive-delivery", "display"]
    assert cpim.content_type == "text/plain"
    assert cpim.mime_header("Content-Disposition") == "render"
    assert cpim.body == "héllo".encode() and cpim.check_inner_length() is None


def test_imdn_document_is_rfc5438_xml():
    doc = wire.imdn_delivered(
        message_id="M<1>", date_time="2026-01-02T03:04:05Z", recipient=BOB, original_recipient=BOB
    )
    ns = {"i": wire.IMDN_XML_NS}
    root = ET.fromstring(doc)
    assert root.tag == f"{{{wire.IMDN_XML_NS}}}imdn"
    assert root.findtext("i:message-id", namespaces=ns) == "M<1>"
    assert root.find("i:delivery-notification/i:status/i:delivered", ns) is not None


# --------------------------------------------------------------------------- lists


def test_resource_list_round_trip_with_actions():
    first = wire.with_action("sip:pf@example.net;id=d1", "delete")
    second = wire.with_action("sip:pf@example.net?x=1", "deliver")
    listing = ResourceList.parse(wire.resource_list([first, second, BOB]))
    assert listing.uris() == [first, second, BOB]
    actions = [(e.base_uri, e.action) for e in listing.entries]
    assert actions == [
        ("sip:pf@example.net;id=d1", "delete"),
        ("sip:pf@example.net?x=1", "deliver"),
        (BOB, None),
    ]


def test_deferred_list_round_trip_and_schema():
    raw = wire.deferred_list(
        ALICE,
        [
            ("sip:pf@example.net;id=d1x", BOB, "a & b", "2026-01-02T03:04:05Z", 12),
            ("sip:pf@example.net;id=d2x", None, None, None, None),
        ],
    )
    assert validate(raw) == []
    listing = DeferredList.parse(raw)
    assert listing.user == ALICE
    assert listing.ids() == ["sip:pf@example.net;id=d1x", "sip:pf@example.net;id=d2x"]
    first, second = listing.messages
    assert (first.originator, first.subject, first.date, first.size) == (
        BOB,
        "a & b",
        "2026-01-02T03:04:05Z",
        12,
    )
    assert second.missing() == ("originator", "subject", "date", "size")
