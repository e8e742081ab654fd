"""Checks for deferred (queued) messages at the PF: deferral, the notification, the
deferred-messages list, handling by cpm_action, push sessions and expiry (TS 8.3.2.4.x,
8.3.2.4.1, 8.3.2.1 4a.ii and 8.3.2.1.1 allfail; SD 5.2.2.2 and its subsections).

The body of a notification or NOTIFY is ours by default (cpmconf deferred-messages list, read
and schema-validated with :mod:`cpmconf.codec.deferred_messages`); a PF with its own format
is read with the XPath its target profile names. Checks on a body ask only that the deferred
messages and their Message-URI-IDs can be told apart; absent optional fields are reported as
notes, never as failures.
"""

from __future__ import annotations

from datetime import UTC, datetime

from cpmconf.codec.bodies import offer_path
from cpmconf.codec.cpim import CpimMessage
from cpmconf.codec.cpm import ICSI_DEFERRED, SYSTEM_MESSAGE_TAG, WARNING_NO_MESSAGES, WARNING_TEXTS  # noqa: F401
from cpmconf.codec.deferred_messages import (
    OPTIONAL_FIELDS,
    DeferredList,
    DeferredMessage,
)
from cpmconf.codec.deferred_reader import Found, ListReader  # noqa: F401  (re-exported)
from cpmconf.codec.errors import CodecError
from cpmconf.codec.headers import AcceptContact, ContactFeatures, NameAddr
from cpmconf.codec.sdp import SessionDescription
from cpmconf.codec.sip import SipMessage
from cpmconf.codec.uri import same_aor, same_contact, same_gruu
from cpmconf.verdict.checks.base import Judgement, judged, not_arisen, register
from cpmconf.verdict.checks.pager import oma_warning, release_judgement


def unjudged(expected: str, actual: str, note: str | None = None) -> Judgement:
    """A precondition of the clause did not hold: inconclusive, with the reason."""
    return Judgement(None, expected, actual, None, note)


# -- reading a deferred-messages body ---------------------------------------------------------


def _note(found: Found) -> str | None:
    return "; ".join(found.notes) or None


# -- deferral (8.3.2.1 4a.ii, 8.3.2.4.x 2) -----------------------------------------------------


@register("TS-8.3.2.4.x-2", "TS-8.3.2.1-4a.ii", "SD-5.2.2.1.1-handle-queue")
def answered_202(final: SipMessage | None) -> Judgement:
    """A deferred pager-mode MESSAGE is answered 202 Accepted (D-202-accepted)."""
    if final is None:
        return judged(False, "202 Accepted", "no final response")
    return judged(final.status == 202, "202 Accepted", f"{final.status} {final.reason}", final)


# -- the notification (8.3.2.4.x 3) -----------------------------------------------------------


@register(
    "TS-8.3.2.4.x-3a.i",
    "TS-8.3.2.4.x-3b",  # the same notification, sent to the Interworking Function
    "TS-8.3.2.1.1-allfail-1",
    "SD-5.2.2.2-1",
    "SD-5.2.2.2.1-notify",
)
def notification_sent(note: SipMessage | None, target: str) -> Judgement:
    """A MESSAGE about the deferral reached the core, addressed to `target`."""
    if note is None:
        return judged(False, f"a MESSAGE to {target} via the core", "none arrived")
    return judged(
        note.method == "MESSAGE", f"a MESSAGE to {target} via the core", note.summary(), note
    )


@register("TS-8.3.2.4.x-3a.ii", passive=True)
def system_message_tag(note: SipMessage) -> Judgement:
    """The notification's Accept-Contact carries +g.oma.cpm.system-message."""
    values = note.header_list("Accept-Contact")
    for v in values:
        try:
            if AcceptContact.parse(v).has_tag(SYSTEM_MESSAGE_TAG):
                return judged(True, f"Accept-Contact with {SYSTEM_MESSAGE_TAG}", v, note)
        except CodecError:
            continue
    return judged(False, f"Accept-Contact with {SYSTEM_MESSAGE_TAG}", f"{values or 'absent'}", note)


@register("TS-8.3.2.4.x-3a.iii", "TS-8.3.2.4.x-3b")
def addressed_to(note: SipMessage, target: str) -> Judgement:
    """The notification's Request-URI is `target` (the user's address, or the IWF's)."""
    got = note.request_uri or ""
    # The user, not one device: a GRUU is not the user's address (same_gruu).
    return judged(same_gruu(got, target), f"Request-URI {target}", got, note)


@register("TS-8.3.2.4.x-3a.iv")
def from_server_identity(note: SipMessage, identity: str) -> Judgement:
    """The authenticated originator (P-Asserted-Identity, else From) is the server identity."""
    pai = note.header("P-Asserted-Identity")
    shown = pai.split(",")[0] if pai else note.header("From")
    return judged(
        same_aor(shown, identity),
        f"originator {identity}",
        f"{'P-Asserted-Identity' if pai else 'From'}: {shown}",
        note,
    )


@register("TS-8.3.2.4.x-3a.v")
def release_stated(note: SipMessage, release: str) -> Judgement:
    """The notification states the release in User-Agent (D-release-header)."""
    j = release_judgement(note, "User-Agent", release)
    if not j.ok and note.header("Server"):
        return judged(
            False,
            j.expected,
            j.actual,
            note,
            f"Server: {note.header('Server')} is present; a request carries User-Agent "
            "(the draft names both, D-release-header)",
        )
    return j


@register("TS-8.3.2.4.x-3a.vi", "SD-5.2.2.2.1-notify")
def body_names_message(note: SipMessage, reader: ListReader, known: list[str] = ()) -> Judgement:
    """The body identifies the deferred message(s) by Message-URI-ID; with `known` ids (from
    an earlier step: the notifications, or the PF's own list) each of them must be listed."""
    found = reader.read(note)
    if not found.ok:
        return judged(False, "a readable list of Message-URI-IDs", "; ".join(found.problems), note)
    missing = [i for i in known if i not in found.ids]
    if missing:
        return judged(False, f"Message-URI-IDs {list(known)} listed", f"{found.ids}", note)
    expected = f"Message-URI-IDs {list(known)} listed" if known else "at least one Message-URI-ID"
    return judged(bool(found.ids), expected, f"{found.ids}", note, _note(found))


def _instant(text: str):
    try:
        t = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return t if t.tzinfo is not None else t.replace(tzinfo=UTC)


def _details_wrong(entry: DeferredMessage, sent: SipMessage) -> list[str]:
    """What `entry` tells about `sent` (the originator's MESSAGE) that is not so."""
    wrong = []
    pai = sent.header("P-Asserted-Identity")
    who = pai.split(",")[0] if pai else sent.header("From") or ""
    if entry.originator is not None and not same_aor(entry.originator, who):
        wrong.append(f"originator {entry.originator}, the sender is {who}")
    if entry.size is not None and entry.size != len(sent.body):
        wrong.append(f"size {entry.size}, the body was {len(sent.body)} bytes")
    cpim = None
    try:
        cpim = CpimMessage.parse(sent.body)
    except (CodecError, AttributeError):
        pass
    if cpim is not None and entry.subject is not None:
        subject = cpim.header("Subject")
        if subject is None or entry.subject.strip() != subject.strip():
            wrong.append(f"subject {entry.subject!r}, the message had {subject!r}")
    if entry.date is not None:
        given = _instant(entry.date)
        stamp = cpim.header("DateTime") if cpim is not None else None
        if given is None:
            wrong.append(f"date {entry.date!r} is not a date and time")
        elif stamp is not None and _instant(stamp) is not None and _instant(stamp) != given:
            wrong.append(f"date {entry.date}, the message's DateTime is {stamp}")
    return wrong


def _details(
    msg: SipMessage, reader: ListReader, sent: dict[str, SipMessage]
) -> Judgement | tuple[int, list[str]]:
    """How many details the body gives about the messages in `sent` and which are wrong, or
    the inconclusive Judgement when the body cannot be read for them."""
    if reader.xpath:
        return unjudged("details in the cpmconf deferred-messages format", "the profile's format")
    found = reader.read(msg)
    if not found.ok:
        return unjudged("a readable list to take the details from", "; ".join(found.problems))
    doc = DeferredList.parse(msg.body)
    wrong, given = [], 0
    for entry in doc.messages:
        original = sent.get(entry.uri_id)
        if original is None:
            continue  # a message this test did not send
        given += len(OPTIONAL_FIELDS) - len(entry.missing())
        wrong += [f"{entry.uri_id}: {w}" for w in _details_wrong(entry, original)]
    return given, wrong


@register("SD-5.2.2.2.1-info")
def details_right(msg: SipMessage, reader: ListReader, sent: dict[str, SipMessage]) -> Judgement:
    """Each detail the body gives about a deferred message (originator, size, subject, date)
    matches the message as its originator sent it; `sent` maps Message-URI-IDs to those
    MESSAGEs. Giving no detail is allowed (MAY); a wrong one is the option not used as
    allowed, which `details_accurate` fails (D-may-binding-condition)."""
    seen = _details(msg, reader, sent)
    if isinstance(seen, Judgement):
        return seen
    given, wrong = seen
    if wrong:
        return judged(False, "details that match the deferred messages", "; ".join(wrong), msg)
    note = None if given else "no details given (optional)"
    return judged(True, "details, where given, that match", f"{given} detail(s) right", msg, note)


@register("SD-5.2.2.2.1-info-accurate")
def details_accurate(msg: SipMessage, reader: ListReader, sent: dict[str, SipMessage]) -> Judgement:
    """Every detail the body gives about a deferred message is true of the message its
    originator sent; a body giving none leaves the clause not-applicable (its MAY was not
    used)."""
    seen = _details(msg, reader, sent)
    if isinstance(seen, Judgement):
        return seen
    given, wrong = seen
    expected = "details, where given, that match the deferred messages"
    if not given:
        return not_arisen(expected, "no details given", "the notification gives no details", msg)
    actual = "; ".join(wrong) or f"{given} detail(s) right"
    return judged(not wrong, expected, actual, msg)


# -- handling (SD 5.2.2.2.1) -------------------------------------------------------------------


@register("SD-5.2.2.2.1-remove")
def handled_and_dropped(
    before: list[str] | None,
    after: list[str] | None,
    handled: dict[str, str],
    delivered: int,
    interworked: int,
    interworking: bool = True,
) -> Judgement:
    """Each named message got its action (deliver arrives at the device, interwork at the
    IWF) and is no longer listed; every message the list did not name still is.

    `interworking`: whether the profile claims the ICS item. Without it (D-interwork-unclaimed)
    a message named with `interwork` may be kept or dropped, and no hand-over to the IWF is
    demanded; one that happens is not held against the PF."""
    if before is None or after is None:
        return unjudged("the list before and after handling", "no readable NOTIFY")
    excused = [] if interworking else [i for i, a in handled.items() if a == "interwork"]
    handled = {i: a for i, a in handled.items() if i not in excused}
    want_deliver = sum(1 for a in handled.values() if a == "deliver")
    want_iwf = sum(1 for a in handled.values() if a == "interwork")
    kept = [i for i in before if i not in handled and i not in excused]
    still = [i for i in handled if i in after]
    lost = [i for i in kept if i not in after]
    problems = []
    if still:
        problems.append(f"still listed after handling: {still}")
    if lost:
        problems.append(f"not named, yet gone: {lost}")
    if delivered != want_deliver:
        problems.append(f"{delivered} deliveries to the device for {want_deliver} deliver")
    if interworking and interworked != want_iwf:
        problems.append(f"{interworked} hand-overs to the IWF for {want_iwf} interwork")
    note = None
    if excused:
        note = (
            f"interworking not claimed: {excused} named with interwork may stay or go"
            f" ({interworked} hand-over(s) to the IWF seen, not judged)"
        )
    return judged(
        not problems,
        f"actions {handled} carried out and dropped; {kept} kept",
        "; ".join(problems) or f"listed after: {after}",
        note=note,
    )


# -- push (8.3.2.4.1, SD 5.2.2.2.2) -----------------------------------------------------------


def _icsi_in(msg: SipMessage, header: str, kind) -> Judgement:
    values = msg.header_list(header)
    for v in values:
        try:
            if kind.parse(v).has_icsi(ICSI_DEFERRED):
                return judged(True, f"{header} with {ICSI_DEFERRED}", v, msg)
        except CodecError:
            continue
    return judged(False, f"{header} with {ICSI_DEFERRED}", f"{values or 'absent'}", msg)


def _per_device(invites: list[SipMessage], device_of) -> dict[str, list[SipMessage]]:
    got: dict[str, list[SipMessage]] = {}
    for m in invites:
        name = device_of(m.request_uri or "") or m.request_uri or "?"
        got.setdefault(name, []).append(m)
    return got


@register("TS-8.3.2.4.1-select")
def pushed_only_to_selected(invites: list[SipMessage], device_of, selected: set[str]) -> Judgement:
    """No push INVITE goes to a device the provisioned preferences leave out."""
    if not invites:
        return unjudged("a push INVITE to judge the selection by", "no push INVITE")
    got = _per_device(invites, device_of)
    others = sorted(n for n in got if n not in selected)
    return judged(
        not others,
        f"push INVITEs only to {sorted(selected)}",
        f"INVITE(s) to {others}" if others else f"to {sorted(got)}",
        got[others[0]][0] if others else None,
    )


def _to_tag(msg: SipMessage) -> str | None:
    try:
        return NameAddr.parse(msg.header("To") or "").tag
    except CodecError:
        return None


@register("TS-8.3.2.4.1-invite")
def one_invite_each(invites: list[SipMessage], device_of, selected: set[str]) -> Judgement:
    """Every selected device gets one initial INVITE (no To tag), not none and not several."""
    got = _per_device(invites, device_of)
    counts = {n: len(got.get(n, [])) for n in sorted(selected)}
    problems = [f"{n}: {c} INVITEs" for n, c in counts.items() if c != 1]
    in_dialog = [m for n in selected for m in got.get(n, []) if _to_tag(m)]
    problems += [f"an INVITE with a To tag (not initial): {m.header('To')}" for m in in_dialog]
    bad = next((m for n, c in counts.items() if c > 1 for m in got[n][1:]), None)
    return judged(
        not problems,
        f"one initial INVITE each to {sorted(selected)}",
        "; ".join(problems) or f"{counts}",
        in_dialog[0] if in_dialog else bad,
    )


@register("SD-5.2.2.2.2-setup", "SD-5.2.2.2-2")
def push_session_opened(invites: list[SipMessage], device: str) -> Judgement:
    """After `device` registered, the PF opened a push session to it (an INVITE came)."""
    return judged(
        bool(invites),
        f"a push INVITE to {device} once it registered",
        f"{len(invites)} INVITE(s)",
        invites[0] if invites else None,
    )


@register("SD-5.2.2.2.2-wait")
def no_push_while_unregistered(invites: list[SipMessage]) -> Judgement:
    """No push INVITE before a device of the user registered."""
    return judged(
        not invites,
        "no push INVITE while no device is registered",
        f"{len(invites)} INVITE(s)",
        invites[0] if invites else None,
    )


@register("TS-8.3.2.4.1-a")
def push_to_gruu(invite: SipMessage, gruu: str) -> Judgement:
    """The push INVITE's Request-URI is the device's public GRUU."""
    got = invite.request_uri or ""
    return judged(same_gruu(got, gruu), f"Request-URI {gruu}", got, invite)


@register("TS-8.3.2.4.1-b", passive=True)
def push_accept_contact(invite: SipMessage) -> Judgement:
    """The push INVITE's Accept-Contact names the deferred ICSI."""
    return _icsi_in(invite, "Accept-Contact", AcceptContact)


@register("TS-8.3.2.4.1-c")
def push_user_agent(invite: SipMessage, release: str) -> Judgement:
    """The push INVITE states the release in User-Agent."""
    return release_judgement(invite, "User-Agent", release)


@register("TS-8.3.2.4.1-d", passive=True)
def push_contact_icsi(invite: SipMessage) -> Judgement:
    """The push INVITE's Contact carries the deferred ICSI."""
    return _icsi_in(invite, "Contact", ContactFeatures)


@register("TS-8.3.2.4.1-e", passive=True)
def push_contact_automata(invite: SipMessage) -> Judgement:
    """The push INVITE's Contact carries the automata feature tag."""
    v = invite.header("Contact") or ""
    try:
        ok = ContactFeatures.parse(v).has_tag("automata")
    except CodecError:
        ok = False
    return judged(ok, "Contact with automata", f"Contact: {v or 'absent'}", invite)


@register("TS-8.3.2.4.1-f", passive=True)
def push_session_expires(invite: SipMessage) -> Judgement:
    """The push INVITE offers Session-Expires with refresher=uac."""
    v = invite.header("Session-Expires") or ""
    params = [p.strip().lower().replace(" ", "") for p in v.split(";")[1:]]
    ok = bool(v) and v.split(";")[0].strip().isdigit() and "refresher=uac" in params
    return judged(ok, "Session-Expires: <delta>;refresher=uac", f"Session-Expires: {v}", invite)


def _sdp(invite: SipMessage) -> SessionDescription | None:
    try:
        return SessionDescription.parse(invite.body)
    except CodecError:
        return None


sdp_path = offer_path  # the name the checks use


@register("TS-8.3.2.4.1-g", "TS-8.3.2.4.1-g.i", "TS-8.3.2.4.1-g.ii", passive=True)
def push_offer_sendonly(invite: SipMessage) -> Judgement:
    """The push offer is an MSRP m=message line marked sendonly at session or media level
    (g.i and g.ii are alternatives: either satisfies both)."""
    sdp = _sdp(invite)
    if sdp is None or not sdp.msrp_media():
        return judged(False, "an SDP offer with an MSRP m=message line", "none", invite)
    media = sdp.msrp_media()[0]
    try:
        direction = media.direction()
    except CodecError as exc:
        return judged(False, "a=sendonly", f"conflicting directions: {exc}", invite)
    return judged(direction == "sendonly", "a=sendonly (session or media level)", direction, invite)


@register("TS-8.3.2.4.1-on200-2")
def ack_to_contact(ack: SipMessage | None, contact: str) -> Judgement:
    """The ACK of the push 200 goes to the Contact the device gave in it."""
    if ack is None:
        return judged(False, f"ACK to {contact}", "no ACK")
    got = ack.request_uri or ""
    return judged(same_contact(got, contact), f"ACK to {contact}", got, ack)


# also SD-5.2.2.2.1-remove: a fetched message is dropped from the queue only once it was
# fetched whole, once (a pull that lost or doubled it removed what was not fetched)
@register("TS-8.3.2.4.1-on200-3", "SD-5.2.2.2.2-deliver", "SD-5.2.2.2.1-remove")
def pushed_once_each(bodies: list[bytes], originals: list[bytes]) -> Judgement:
    """Over the push session each deferred message arrives exactly once, unchanged."""
    missing = [i for i, o in enumerate(originals) if o not in bodies]
    extra = len(bodies) - len(set(bodies))
    foreign = [b[:40] for b in bodies if b not in originals]
    problems = []
    if missing:
        problems.append(f"{len(missing)} of {len(originals)} messages never arrived")
    if extra:
        problems.append(f"{extra} duplicate deliveries")
    if foreign:
        problems.append(f"{len(foreign)} bodies differ from what was sent: {foreign}")
    return judged(
        not problems,
        f"{len(originals)} messages, each once, as sent",
        "; ".join(problems) or f"{len(bodies)} received",
    )


@register("SD-5.2.2.2.2-teardown")
def push_bye(byes: list[SipMessage]) -> Judgement:
    """The PF ends the push session with a BYE after delivering."""
    return judged(bool(byes), "a BYE from the PF", f"{len(byes)} BYE(s)", byes[0] if byes else None)


# -- expiry (SD 5.2.2.2) -----------------------------------------------------------------------


@register("SD-5.2.2.2-expiry")
def expired_not_kept(expired: str, after: list[str] | None, deliveries: int) -> Judgement:
    """An expired deferred message is neither listed nor delivered any more."""
    if after is None:
        return unjudged("the list after expiry", "no readable NOTIFY")
    problems = []
    if expired in after:
        problems.append(f"{expired} still listed after it expired")
    if deliveries:
        problems.append(f"{deliveries} delivery(ies) of the expired message")
    return judged(
        not problems, "expired message gone, never delivered", "; ".join(problems) or "gone"
    )


@register("TS-7.2.3.2.1-on488-pf")
def no_messages_488(final: SipMessage | None) -> Judgement:
    """A handling INVITE that names nothing still deferred gets 488 with Warning 125."""
    if final is None or final.status != 488:
        status = "no final response" if final is None else f"{final.status} {final.reason}"
        code = WARNING_NO_MESSAGES
        return judged(False, f'488 with Warning 399 "{code} {WARNING_TEXTS[code]}"', status, final)
    return oma_warning(final, WARNING_NO_MESSAGES, WARNING_TEXTS[WARNING_NO_MESSAGES])
