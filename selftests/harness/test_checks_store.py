"""The store checks (cpmconf.verdict.checks.store) on made-up fetched objects: a complete
object passes; a dropped header, a cut body, another message at the UID, no object at all
fail; a store the harness could not read leaves the clause unjudged; the object is the
finding's excerpt."""

from __future__ import annotations

from cpmconf.codec.sip import SipMessage
from cpmconf.roles.store import Fetched
from cpmconf.verdict.checks import CHECKS
from cpmconf.verdict.checks import store as checks
from selftests.captured import captured

MESSAGE = (
    b"MESSAGE sip:erin@example.net SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKabc\r\n"
    b"Max-Forwards: 70\r\n"
    b"From: <sip:alice@example.net>;tag=1\r\n"
    b"To: <sip:erin@example.net>\r\n"
    b"Call-ID: c-1@127.0.0.1\r\n"
    b"CSeq: 1 MESSAGE\r\n"
    b"Conversation-ID: conv-1\r\n"
    b"Contribution-ID: contrib-1\r\n"
    b"Content-Type: text/plain\r\n"
    b"Content-Length: 11\r\n"
    b"\r\n"
    b"hello world"
)
INVITE = (
    b"INVITE sip:erin@example.net SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKdef\r\n"
    b"From: <sip:alice@example.net>;tag=2\r\n"
    b"To: <sip:erin@example.net>\r\n"
    b"Call-ID: c-2@127.0.0.1\r\n"
    b"CSeq: 1 INVITE\r\n"
    b"Contact: <sip:alice@127.0.0.1:5070>\r\n"
    b"Conversation-ID: conv-2\r\n"
    b"Contribution-ID: contrib-2\r\n"
    b"Content-Type: application/sdp\r\n"
    b"Content-Length: 0\r\n"
    b"\r\n"
)
CONTENT = "From: <sip:alice@example.net>\r\n\r\nContent-Type: text/plain\r\n\r\nhé there".encode()


def msg(raw: bytes):
    """The request as the capture saw it go to the PF."""
    return captured(SipMessage.parse(raw), from_sut=False, index=3)


def found(raw: bytes, uid: int = 7) -> Fetched:
    return Fetched("sip:erin@example.net", "INBOX", uid, raw)


def large_object(invite: bytes = INVITE, content: bytes = CONTENT) -> bytes:
    keep = [
        line
        for line in invite.split(b"\r\n")[1:]
        if line.split(b":")[0]
        in (b"From", b"To", b"Call-ID", b"Conversation-ID", b"Contribution-ID")
    ]
    return b"\r\n".join(keep) + b"\r\nContent-Type: message/cpim\r\n\r\n" + content


def test_a_message_not_from_the_capture_is_refused():
    import pytest

    from cpmconf.outcome import HarnessError

    with pytest.raises(HarnessError, match="not taken from the capture View"):
        checks.object_holds_message(SipMessage.parse(MESSAGE), found(MESSAGE))


def test_the_store_clauses_are_registered():
    for clause in (
        "TS-8.5.1-message-2",
        "TS-8.5.1-message-3",
        "TS-8.5.1-send-2",
        "TS-8.5.1-send-3",
    ):
        assert clause in CHECKS


def test_the_whole_request_as_stored_passes_and_is_the_excerpt():
    j = checks.object_holds_message(msg(MESSAGE), found(MESSAGE))
    assert j.ok is True and "holds the complete message" in j.actual
    assert j.message == MESSAGE and j.frame == 3  # the object, cited at the request's frame
    assert checks.uid_names_stored_object(msg(MESSAGE), found(MESSAGE)).ok is True


def test_a_store_may_reorder_fold_and_spell_names_its_own_way():
    head, _, body = MESSAGE.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")[1:]
    lines.reverse()
    lines = [
        b"i: c-1@127.0.0.1"
        if line.startswith(b"Call-ID")
        else line.lower()
        if line.startswith(b"Max")
        else line
        for line in lines
    ]
    lines = [
        b"To:\r\n <sip:erin@example.net>" if line.startswith(b"To:") else line for line in lines
    ]
    stored = b"\r\n".join(lines) + b"\r\n\r\n" + body
    assert checks.object_holds_message(msg(MESSAGE), found(stored)).ok is True
    assert checks.uid_names_stored_object(msg(MESSAGE), found(stored)).ok is True


def test_a_dropped_header_fails_naming_it():
    stored = MESSAGE.replace(b"Conversation-ID: conv-1\r\n", b"")
    j = checks.object_holds_message(msg(MESSAGE), found(stored))
    assert j.ok is False and "Conversation-ID: conv-1" in j.actual and "UID 7" in j.actual


def test_a_changed_header_value_fails():
    stored = MESSAGE.replace(b"contrib-1", b"contrib-X")
    assert checks.object_holds_message(msg(MESSAGE), found(stored)).ok is False


def test_a_truncated_body_fails_saying_how_much_is_held():
    j = checks.object_holds_message(msg(MESSAGE), found(MESSAGE[:-4]))
    assert j.ok is False and "body cut short: 7 of 11 bytes" in j.actual


def test_another_message_at_the_uid_fails_the_uid_clause():
    other = MESSAGE.replace(b"c-1@127.0.0.1", b"c-9@127.0.0.1")
    j = checks.uid_names_stored_object(msg(MESSAGE), found(other))
    assert j.ok is False and "another object" in j.actual and "c-9@127.0.0.1" in j.actual
    assert checks.object_holds_message(msg(MESSAGE), found(other)).ok is False


def test_no_object_at_the_uid_fails_with_the_stores_word():
    none = Fetched("sip:erin@example.net", "INBOX", 9, None, "no object with UID 9 in ...")
    for check in (checks.uid_names_stored_object, checks.object_holds_message):
        j = check(msg(MESSAGE), none)
        assert j.ok is False and j.actual.startswith("no object with UID 9")


def test_an_unreadable_store_or_a_missing_capture_is_not_judged():
    down = Fetched("sip:erin@example.net", "INBOX", 9, None, "cannot reach the store", True)
    assert checks.uid_names_stored_object(msg(MESSAGE), down).ok is None
    assert checks.object_holds_message(msg(MESSAGE), down).ok is None
    assert checks.object_holds_message(None, found(MESSAGE)).ok is None
    assert checks.object_holds_message(msg(MESSAGE), None).ok is None
    assert checks.object_holds_large_message(msg(INVITE), None, found(MESSAGE)).ok is None


def test_large_mode_needs_the_content_whole_and_the_invites_message_headers():
    invite = msg(INVITE)
    ok = checks.object_holds_large_message(invite, CONTENT, found(large_object()))
    assert ok.ok is True, ok.actual
    # Session set-up fields (Via, Contact, CSeq) are not part of the message.
    assert b"Via" not in large_object()
    cut = checks.object_holds_large_message(invite, CONTENT, found(large_object()[:-3]))
    assert cut.ok is False and "body cut short" in cut.actual
    dropped = large_object().replace(b"Conversation-ID: conv-2\r\n", b"")
    j = checks.object_holds_large_message(invite, CONTENT, found(dropped))
    assert j.ok is False and "Conversation-ID: conv-2" in j.actual
    assert checks.uid_names_stored_object(invite, found(large_object())).ok is True


def test_object_fields_reads_a_start_line_folding_and_bare_newlines():
    fields, body = checks.object_fields(b"MESSAGE sip:x SIP/2.0\nAa: 1\n  2\nl:3\n\nbody")
    assert fields == [("aa", "1 2"), ("content-length", "3")] and body == b"body"
