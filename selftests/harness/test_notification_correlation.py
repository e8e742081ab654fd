"""The deferral notification is tied to its cause (cpmconf.procedures.pf_deferred.notification_of):
a request that arrived before the originator's MESSAGE was sent, or that re-sends the text of
a message an originator sent (msilo re-sending a deferral of an earlier case on a REGISTER),
is not the notification; it is listed in the evidence as unrelated and never judged. A
system message that arrived after the MESSAGE and carries no originator's text is taken."""

from __future__ import annotations

from types import SimpleNamespace

from cpmconf.codec.sip import SipMessage
from cpmconf.procedures.pf_deferred import notification_of
from cpmconf.roles.network import Journal


def message(body: str, content_type: str, call_id: str) -> SipMessage:
    raw = (
        "MESSAGE sip:frank@example.net SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK" + call_id + "\r\n"
        "From: <sip:cpm-pf@example.net>;tag=p1\r\nTo: <sip:frank@example.net>\r\n"
        f"Call-ID: {call_id}\r\nCSeq: 1 MESSAGE\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body.encode())}\r\n\r\n{body}"
    )
    return SipMessage.parse(raw.encode())


class Pf:
    def __init__(self) -> None:
        self.core = SimpleNamespace(journal=Journal(), deferred_texts={"hello old1", "hello new2"})
        self.notes: list[str] = []

    def arrive(self, m: SipMessage) -> None:
        self.core.journal.on_received("udp", ("127.0.0.1", 1), ("127.0.0.1", 2), m.raw, 0.0)

    def unrelated_to(self, m: SipMessage, why: str) -> None:
        self.notes.append(f"{m.call_id}: {why}")


def test_only_the_message_the_deferral_caused_is_its_notification():
    pf = Pf()
    early = message("<list/>", "application/vnd.oma.cpm-deferred-list+xml", "early")
    pf.arrive(early)  # before the originator's MESSAGE went out
    mark = pf.core.journal.mark()
    resend = message("[Offline message - x] hello old1", "text/plain", "resend")
    pf.arrive(resend)
    note = message("<list/>", "application/vnd.oma.cpm-deferred-list+xml", "note")
    pf.arrive(note)
    match = notification_of(pf, mark, lambda m: True)
    assert not match(early) and not match(resend)
    assert match(note)
    assert pf.notes == [
        "early: not the deferral notification: it came before the deferred MESSAGE was sent",
        "resend: not the deferral notification: it re-sends the message 'hello old1' rather "
        "than announcing a deferral",
    ]


def test_a_candidate_the_base_predicate_refuses_is_not_listed():
    pf = Pf()
    mark = pf.core.journal.mark()
    m = message("x", "text/plain", "other")
    pf.arrive(m)
    assert not notification_of(pf, mark, lambda _: False)(m)
    assert pf.notes == []
