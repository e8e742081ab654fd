"""Self-tests for the checks of the conditions split out of MAY clauses
(D-may-binding-condition): the SHALL sub-clause is not-applicable when the option is not
used, passes when it is used as allowed and fails (a SHALL failure, not a MAY's
not-applicable) when it is used outside the condition."""

from __future__ import annotations

from cpmconf.codec.deferred_messages import CONTENT_TYPE, DeferredList, DeferredMessage
from cpmconf.codec.sip import SipMessage, build_message
from cpmconf.verdict import Verdict
from cpmconf.verdict.checks import deferred, pager
from cpmconf.verdict.checks import deferred_client as dc
from cpmconf.verdict.core import Expectations
from selftests.captured import captured

USER = "sip:frank@example.net"
ID1 = "sip:CPMDeferredMsgMgmt@example.net;id=a"


def _request(method: str, headers=(), body: bytes = b"", ctype: str | None = None):
    lines = [
        ("Via", "SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK1"),
        ("From", f"<{USER}>;tag=1"),
        ("To", "<sip:grace@example.net>"),
        ("Call-ID", "m1"),
        ("CSeq", f"1 {method}"),
        *headers,
        *([("Content-Type", ctype)] if ctype else []),
    ]
    raw = build_message(f"{method} sip:grace@example.net SIP/2.0", list(lines), body)
    return captured(SipMessage.parse(raw))


def _verdicts(may: str, shall: str, may_j, shall_j) -> tuple[Verdict, Verdict]:
    exp = Expectations({may: ("MAY", "the option"), shall: ("SHALL", "its condition")})
    return exp.judge(may, may_j).verdict, exp.judge(shall, shall_j).verdict


def test_an_asserted_identity_must_be_the_users():
    ppi = "P-Preferred-Identity"
    none = pager.identity_registered(_request("MESSAGE"), USER)
    assert none.ok is None and none.arisen is False  # the MAY was not used
    own = _request("MESSAGE", [(ppi, f"<{USER}>")])
    assert pager.identity_registered(own, USER).ok is True
    foreign = _request("MESSAGE", [(ppi, "<sip:someone-else@example.org>")])
    assert pager.identity_registered(foreign, USER).ok is False
    both = _request("MESSAGE", [(ppi, f"<{USER}>"), (ppi, "<sip:someone-else@example.org>")])
    j = pager.identity_registered(both, USER)
    assert j.ok is False and "someone-else" in j.actual
    may, shall = _verdicts(
        "TS-7.2.1.1-2",
        "TS-7.2.1.1-2-registered",
        pager.optional_identity(foreign, ppi, USER),
        pager.identity_registered(foreign, USER),
    )
    assert (may, shall) == (Verdict.NOT_APPLICABLE, Verdict.FAIL)


def _offer(types: str | None) -> SipMessage:
    sdp = (
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
        "m=message 9 TCP/MSRP *\r\na=path:msrp://127.0.0.1:9/s1;tcp\r\n"
        + (f"a=accept-types:{types}\r\n" if types is not None else "")
        + "a=recvonly\r\n"
    )
    return _request("INVITE", body=sdp.encode(), ctype="application/sdp")


def test_further_accept_types_must_be_media_types():
    for types in ("message/cpim", None):
        j = dc.other_types_valid(_offer(types))
        assert j.ok is None and j.arisen is False, types  # nothing further named
    for types in ("message/cpim text/plain", "message/cpim *", "message/cpim text/*"):
        assert dc.other_types_valid(_offer(types)).ok is True, types
    bad = _offer("message/cpim text/plain text/")
    assert dc.other_types_valid(bad).ok is False
    may, shall = _verdicts(
        "TS-7.2.3.2.1-6b",
        "TS-7.2.3.2.1-6b-valid",
        dc.offer_other_types(bad),
        dc.other_types_valid(bad),
    )
    assert (may, shall) == (Verdict.NOT_APPLICABLE, Verdict.FAIL)


CPIM = (
    b"From: <sip:alice@example.net>\r\nTo: <sip:frank@example.net>\r\n"
    b"DateTime: 2026-01-02T03:04:05Z\r\nSubject: lunch\r\n\r\n"
    b"Content-Type: text/plain\r\n\r\nhello"
)


def _listing(**fields):
    body = bytes(DeferredList.build(USER, [DeferredMessage(ID1, **fields)]))
    return _request("MESSAGE", body=body, ctype=CONTENT_TYPE)


def test_details_given_must_be_true_of_the_message():
    sent = {
        ID1: _request(
            "MESSAGE", [("P-Asserted-Identity", "<sip:alice@example.net>")], CPIM, "message/cpim"
        )
    }
    reader = deferred.ListReader()
    bare = deferred.details_accurate(_listing(), reader, sent)
    assert bare.ok is None and bare.arisen is False  # no details: the MAY was not used
    right = _listing(originator="sip:alice@example.net", subject="lunch", size=len(CPIM))
    assert deferred.details_accurate(right, reader, sent).ok is True
    wrong = _listing(size=len(CPIM) + 40)
    assert deferred.details_accurate(wrong, reader, sent).ok is False
    xpath = deferred.ListReader("//x:m/@ref", {"x": "urn:x"})
    assert deferred.details_accurate(right, xpath, sent).ok is None  # unreadable: inconclusive
    may, shall = _verdicts(
        "SD-5.2.2.2.1-info",
        "SD-5.2.2.2.1-info-accurate",
        deferred.details_right(wrong, reader, sent),
        deferred.details_accurate(wrong, reader, sent),
    )
    assert (may, shall) == (Verdict.NOT_APPLICABLE, Verdict.FAIL)
