"""Self-tests for the deferred-message checks: they pass what they should and fail the rest."""

from __future__ import annotations

from cpmconf.codec.deferred_messages import CONTENT_TYPE, DeferredList, DeferredMessage
from cpmconf.codec.sip import SipMessage, build_message
from cpmconf.verdict.checks import deferred
from selftests.captured import captured

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
    return captured(
        SipMessage.parse(build_message(f"{method} sip:frank@example.net SIP/2.0", lines, body))
    )


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


def test_interwork_is_not_demanded_when_interworking_is_not_claimed():
    """D-interwork-unclaimed: the interwork-named message may stay or go and no IWF hand-over
    is owed; the other actions and the unnamed messages are judged as before."""
    named = {ID1: "interwork"}
    for after in ([ID1, ID2], [ID2]):
        j = deferred.handled_and_dropped([ID1, ID2], after, named, 0, 0, interworking=False)
        assert j.ok is True and "interworking not claimed" in j.note
    assert deferred.handled_and_dropped([ID1, ID2], [ID2], named, 0, 1, interworking=False).ok
    # the unnamed message must still stay, and a deliver still arrive
    assert not deferred.handled_and_dropped([ID1, ID2], [], named, 0, 0, interworking=False).ok
    both = {ID1: "interwork", ID2: "deliver"}
    assert not deferred.handled_and_dropped([ID1, ID2], [ID1], both, 0, 0, interworking=False).ok
    assert deferred.handled_and_dropped([ID1, ID2], [ID1], both, 1, 0, interworking=False).ok
    # claimed (the default): the hand-over is owed
    assert not deferred.handled_and_dropped([ID1, ID2], [ID2], named, 0, 0).ok


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


def _sent(body: bytes, sender: str = "sip:alice@example.net") -> SipMessage:
    lines = [
        ("Via", "SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK2"),
        ("From", f"<{sender}>;tag=2"),
        ("To", "<sip:frank@example.net>"),
        ("Call-ID", "c2"),
        ("CSeq", "1 MESSAGE"),
        ("P-Asserted-Identity", f"<{sender}>"),
        ("Content-Type", "message/cpim"),
    ]
    return captured(
        SipMessage.parse(build_message("MESSAGE sip:frank@example.net SIP/2.0", lines, body))
    )


CPIM = (
    b"From: <sip:alice@example.net>\r\nTo: <sip:frank@example.net>\r\n"
    b"DateTime: 2026-01-02T03:04:05Z\r\nSubject: lunch\r\n\r\n"
    b"Content-Type: text/plain\r\n\r\nhello"
)


def _listing(**fields) -> SipMessage:
    entry = DeferredMessage(ID1, **fields)
    return _msg(CONTENT_TYPE, bytes(DeferredList.build("sip:frank@example.net", [entry])))


def test_details_given_must_match_the_deferred_message():
    sent = {ID1: _sent(CPIM)}
    right = _listing(
        originator="sip:alice@example.net",
        subject="lunch",
        date="2026-01-02T03:04:05Z",
        size=len(CPIM),
    )
    assert deferred.details_right(right, deferred.ListReader(), sent).ok is True
    bare = deferred.details_right(_listing(), deferred.ListReader(), sent)
    assert bare.ok is True and "no details" in (bare.note or "")
    for wrong in (
        {"size": len(CPIM) + 1},
        {"originator": "sip:frank@example.net"},
        {"subject": "dinner"},
        {"date": "2026-01-02T04:04:05Z"},
    ):
        j = deferred.details_right(_listing(**wrong), deferred.ListReader(), sent)
        assert j.ok is False, wrong
    xpath = deferred.ListReader("//x:m/@ref", {"x": "urn:x"})
    assert deferred.details_right(right, xpath, sent).ok is None


def _invite(uri: str, to: str = "<sip:grace@example.net>") -> SipMessage:
    lines = [
        ("Via", "SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK3"),
        ("From", "<sip:cpm-pf@example.net>;tag=3"),
        ("To", to),
        ("Call-ID", uri),
        ("CSeq", "1 INVITE"),
    ]
    return captured(SipMessage.parse(build_message(f"INVITE {uri} SIP/2.0", lines, b"")))


def test_push_selection_count_and_session_are_judged_apart():
    def name(uri):
        return uri.split(":", 1)[1].split("@", 1)[0]

    phone, tablet = _invite("sip:phone@x"), _invite("sip:tablet@x")
    sel = {"phone"}
    assert deferred.pushed_only_to_selected([phone], name, sel).ok is True
    assert deferred.pushed_only_to_selected([phone, tablet], name, sel).ok is False
    assert deferred.pushed_only_to_selected([], name, sel).ok is None
    assert deferred.one_invite_each([phone, tablet], name, sel).ok is True
    assert deferred.one_invite_each([phone, phone], name, sel).ok is False
    assert deferred.one_invite_each([], name, sel).ok is False
    tagged = _invite("sip:phone@x", "<sip:grace@example.net>;tag=9")
    assert deferred.one_invite_each([tagged], name, sel).ok is False
    assert deferred.push_session_opened([phone], "phone").ok is True
    assert deferred.push_session_opened([], "phone").ok is False
