"""Self-tests for the deferred-message checks: they pass what they should and fail the rest."""

from __future__ import annotations

from cpmconf.codec.deferred_messages import CONTENT_TYPE, DeferredList, DeferredMessage
from cpmconf.codec.sip import SipMessage, build_message
from cpmconf.verdict.checks import deferred

ID1 = "sip:CPMDeferredMsgMgmt@example.net;id=a"
ID2 = "sip:CPMDeferredMsgMgmt@example.net;id=b"


def _msg(ctype: str, body: bytes, method="MESSAGE") -> SipMessage:
    lines = [
        ("Via", "SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK1"),
        ("From", "<sip:cpm-pf@example.net>;tag=1"),
        ("To", "<sip:frank@example.net>"),
        ("Call-ID", "c1"),
        ("CSeq", f"1 {method}"),
        ("Content-Type", ctype),
    ]
    return SipMessage.parse(build_message(f"{method} sip:frank@example.net SIP/2.0", lines, body))


def test_our_body_is_read_validated_and_missing_fields_are_notes():
    body = bytes(DeferredList.build("sip:frank@example.net", [DeferredMessage(ID1)]))
    j = deferred.body_names_message(_msg(CONTENT_TYPE, body), deferred.ListReader(), [ID1])
    assert j.ok is True and "optional" in (j.note or "")
    j = deferred.body_names_message(_msg(CONTENT_TYPE, body), deferred.ListReader(), [ID2])
    assert j.ok is False


def test_a_foreign_body_is_read_with_the_profile_xpath():
    body = b'<q xmlns="urn:x"><m ref="sip:CPMDeferredMsgMgmt@example.net;id=a"/></q>'
    msg = _msg("application/x-queue+xml", body)
    assert deferred.body_names_message(msg, deferred.ListReader()).ok is False
    reader = deferred.ListReader("//x:m/@ref", {"x": "urn:x"})
    assert deferred.body_names_message(msg, reader, [ID1]).ok is True


def test_handled_and_dropped_judges_actions_and_unlisted_ones():
    ok = deferred.handled_and_dropped([ID1, ID2], [ID2], {ID1: "deliver"}, 1, 0)
    assert ok.ok is True
    assert deferred.handled_and_dropped([ID1, ID2], [], {ID1: "deliver"}, 1, 0).ok is False
    assert deferred.handled_and_dropped([ID1, ID2], [ID1, ID2], {ID1: "delete"}, 0, 0).ok is False
    assert deferred.handled_and_dropped([ID1], [], {ID1: "interwork"}, 0, 0).ok is False
    assert deferred.handled_and_dropped(None, [], {}, 0, 0).ok is None


def test_sendonly_at_either_level_and_sendrecv_fails():
    sdp = (
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n{s}"
        "m=message 9 TCP/MSRP *\r\na=accept-types:message/cpim\r\n"
        "a=path:msrp://127.0.0.1:9/x;tcp\r\n{m}"
    )
    for s, m, ok in (
        ("a=sendonly\r\n", "", True),
        ("", "a=sendonly\r\n", True),
        ("", "a=sendrecv\r\n", False),
        ("", "", False),
    ):
        invite = _msg("application/sdp", sdp.format(s=s, m=m).encode(), "INVITE")
        assert deferred.push_offer_sendonly(invite).ok is ok, (s, m)


def test_pushed_once_each_finds_duplicates_and_losses():
    assert deferred.pushed_once_each([b"a", b"b"], [b"a", b"b"]).ok is True
    assert deferred.pushed_once_each([b"a", b"a", b"b"], [b"a", b"b"]).ok is False
    assert deferred.pushed_once_each([b"a"], [b"a", b"b"]).ok is False
