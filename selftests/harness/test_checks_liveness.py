"""Liveness of a robustness case (cpmconf.verdict.checks.robustness): "stopped answering"
needs a SUT that answered before, and only the probe's own final response answers the probe.
"""

from __future__ import annotations

from cpmconf.codec.sip import SipMessage
from cpmconf.verdict.checks import robustness as checks

PROBE = SipMessage.parse(
    b"OPTIONS sip:127.0.0.1:5060 SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKprobe1;rport\r\n"
    b"Max-Forwards: 70\r\nFrom: <sip:probe@127.0.0.1>;tag=p1\r\nTo: <sip:127.0.0.1:5060>\r\n"
    b"Call-ID: probe-1@127.0.0.1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
)


def final(
    status: str = "200 OK",
    cseq: str = "1 OPTIONS",
    call_id: str = "probe-1@127.0.0.1",
    branch: str = "z9hG4bKprobe1",
) -> SipMessage:
    return SipMessage.parse(
        f"SIP/2.0 {status}\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch={branch};rport\r\n"
        f"From: <sip:probe@127.0.0.1>;tag=p1\r\nTo: <sip:127.0.0.1:5060>;tag=s1\r\n"
        f"Call-ID: {call_id}\r\nCSeq: {cseq}\r\nContent-Length: 0\r\n\r\n".encode()
    )


def test_only_the_probes_own_final_answers_it():
    merged = final("405 Method Not Allowed", cseq="1 textOPTIONS")  # a glued "textOPTIONS"
    other_call = final("400 Bad Request", call_id="stimulus-1@127.0.0.1")
    other_number = final(cseq="2 OPTIONS")
    other_branch = final("405 Method Not Allowed", branch="z9hG4bKsomethingelse")
    provisional = final("100 Trying")
    candidates = [merged, other_call, other_number, other_branch, provisional]
    assert checks.probe_answer(candidates, PROBE) is None
    own = final()
    assert checks.probe_answer([*candidates, own], PROBE) is own


def test_no_answer_after_a_sut_that_never_answered_is_not_judged():
    j = checks.still_answering(None, "a MESSAGE with two To headers", 3.0, None)
    assert j.ok is None
    assert "never answered" in j.actual and "stopped" not in j.actual


def test_no_answer_after_an_answered_probe_is_a_failure():
    j = checks.still_answering(
        None, "a MESSAGE with two To headers", 3.0, "an OPTIONS probe with 200 OK"
    )
    assert j.ok is False
    assert j.actual == (
        "SUT stopped answering after a MESSAGE with two To headers "
        "(before it, it answered an OPTIONS probe with 200 OK)"
    )


def test_an_answered_probe_passes():
    j = checks.still_answering(final(), "a MESSAGE", 3.0, "an OPTIONS probe with 200 OK")
    assert j.ok is True and "200 OK" in j.actual
