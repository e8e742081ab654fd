"""Checks across two protocols (TS 8.5.1): the object the Message-UID names in the store.

Each check is a pure function of a captured message and the object the test fetched from the
Message Storage Server (cpmconf.roles.store.Fetched) at the UID the SUT put on the wire: the
fetch is evidence handed in, never done here. How the object is read and compared is decision
D-store-object: a header field of the message counts as held when the object's header section
has a field of the same name (compact forms expanded, case ignored) and value (folding and
outer whitespace ignored); the body must be held byte for byte.
"""

from __future__ import annotations

import dataclasses

from cpmconf.codec.sip import canonical_name
from cpmconf.roles.store import Fetched
from cpmconf.verdict.checks.base import Judgement, Seen, judged, not_judged, register

# The INVITE's header fields a large-mode object must hold (D-store-object): what says who
# sent the message, to whom, when and in which conversation; the session set-up fields
# (Via, Contact, SDP, timers) describe the transfer, not the message.
LARGE_MESSAGE_HEADERS = (
    "From",
    "To",
    "P-Asserted-Identity",
    "Date",
    "Call-ID",
    "Conversation-ID",
    "Contribution-ID",
    "InReplyTo-Contribution-ID",
    "Reply-To",
    "Privacy",
    "Message-Expires",
)


def _norm(value: str) -> str:
    return " ".join(value.split())


def object_fields(raw: bytes) -> tuple[list[tuple[str, str]], bytes]:
    """The object's header fields (name canonical) and body. A first line without a colon
    (a SIP start line kept at the top of the object) is not a field."""
    head, sep, body = raw.partition(b"\r\n\r\n")
    if not sep:
        head, sep, body = raw.partition(b"\n\n")
    lines = head.decode("utf-8", "replace").replace("\r\n", "\n").split("\n")
    fields: list[tuple[str, str]] = []
    for line in lines:
        if line[:1] in (" ", "\t") and fields:
            name, value = fields[-1]
            fields[-1] = (name, f"{value} {line.strip()}")
            continue
        name, colon, value = line.partition(":")
        if not colon or " " in name.strip() or not name.strip():
            continue  # the start line, or no field at all
        fields.append((canonical_name(name.strip()), value.strip()))
    return fields, body


def _missing(wanted: list[tuple[str, str]], fields: list[tuple[str, str]]) -> list[str]:
    have = {(n.lower(), _norm(v)) for n, v in fields}
    return [
        f"{n}: {v}"[:80] for n, v in wanted if (canonical_name(n).lower(), _norm(v)) not in have
    ]


def _absent(fetched: Fetched | None, expected: str, msg: bytes | None = None) -> Judgement:
    """No object to judge: the SUT's fault when the store said there is none; a precondition
    when the store could not be read at all (wrong credentials, store down)."""
    if fetched is None:
        return not_judged(expected, "no UID on the wire, so no object could be fetched")
    if fetched.harness:
        return not_judged(expected, fetched.problem or "the store could not be read")
    return judged(False, expected, fetched.problem or "no object", None)


def _where(fetched: Fetched) -> str:
    return f"UID {fetched.uid} in {fetched.user}'s folder {fetched.folder!r}"


@register("TS-8.5.1-message-3", "TS-8.5.1-send-3")
def uid_names_stored_object(request: Seen | None, fetched: Fetched | None) -> Judgement:
    """The UID on the wire names the object the PF stored for this message: the user's folder
    holds an object at that UID, and it is this message (same Call-ID)."""
    expected = "the Message-UID names an object in the user's store that records this message"
    if request is None:
        return not_judged(expected, "the recorded request is not in the capture")
    if fetched is None or fetched.raw is None:
        return _absent(fetched, expected)
    fields, _ = object_fields(fetched.raw)
    call_ids = [v for n, v in fields if n.lower() == "call-id"]
    ok = request.call_id in call_ids
    actual = (
        f"{_where(fetched)} records Call-ID {request.call_id}"
        if ok
        else f"{_where(fetched)} is another object (Call-ID {', '.join(call_ids) or 'none'}, "
        f"not {request.call_id})"
    )
    return _with_object(judged(ok, expected, actual, request), fetched)


@register("TS-8.5.1-message-2")
def object_holds_message(request: Seen | None, fetched: Fetched | None) -> Judgement:
    """Pager mode: the stored object holds every header field and the body of the MESSAGE."""
    expected = "the stored object holds every header field and the body of the MESSAGE"
    if request is None:
        return not_judged(expected, "the MESSAGE is not in the capture")
    if fetched is None or fetched.raw is None:
        return _absent(fetched, expected)
    fields, body = object_fields(fetched.raw)
    missing = _missing(list(request.headers), fields)
    judgement = _complete(expected, fetched, missing, request.body or b"", body, request)
    return _with_object(judgement, fetched)


@register("TS-8.5.1-send-2")
def object_holds_large_message(
    invite: Seen | None, content: bytes | None, fetched: Fetched | None
) -> Judgement:
    """Large mode: the stored object holds the reassembled message (the MSRP content, whole)
    and the INVITE's header fields that describe the message (LARGE_MESSAGE_HEADERS)."""
    expected = "the stored object holds the reassembled MSRP content and the INVITE's headers"
    if invite is None or content is None:
        return not_judged(expected, "the INVITE or the sent content is not known")
    if fetched is None or fetched.raw is None:
        return _absent(fetched, expected)
    fields, body = object_fields(fetched.raw)
    want = {canonical_name(n).lower() for n in LARGE_MESSAGE_HEADERS}
    missing = _missing(
        [(n, v) for n, v in invite.headers if canonical_name(n).lower() in want], fields
    )
    return _with_object(_complete(expected, fetched, missing, content, body, invite), fetched)


def _complete(
    expected: str, fetched: Fetched, missing: list[str], want: bytes, body: bytes, request: Seen
) -> Judgement:
    problems = []
    if missing:
        problems.append(f"header field(s) missing: {'; '.join(missing[:4])}")
    if body != want:
        if want.startswith(body):
            problems.append(f"body cut short: {len(body)} of {len(want)} bytes")
        elif want not in body:
            problems.append(f"body differs ({len(body)} bytes held, {len(want)} sent)")
    if problems:
        return judged(False, expected, f"{_where(fetched)}: " + "; ".join(problems), request)
    return judged(True, expected, f"{_where(fetched)} holds the complete message", request)


def _with_object(j: Judgement, fetched: Fetched) -> Judgement:
    """The judgement, with the fetched object as its excerpt (the evidence of the check),
    cited at the capture frame of the request it was compared with."""
    return dataclasses.replace(j, message=fetched.raw)
