"""Checks for pager-mode standalone messages: client sending and receiving, PF delivery,
and the pager branch of recording (TS 7.2.1.1, 7.2.1.3, 7.2.2.1, 7.2.2.3, 8.3.2.1, 8.5.1).

Each function judges one clause from captured messages. Single-message checks take the
message; multi-message checks take the View. Header values are read through the codec's typed
parsers, so percent-encoded ICSIs are compared decoded and Warning texts by their OMA code.
"""

from __future__ import annotations

from cpmconf.codec.bodies import cpim_of, is_imdn  # noqa: F401  (re-exported)
from cpmconf.codec.bodies import parts as _parts
from cpmconf.codec.cpm import (  # noqa: F401  (ICSI_DEFERRED: cases read it from here)
    ICSI_DEFERRED,
    ICSI_MSG,
    PAGER_LIMIT,
    WARNING_FUNCTION_NOT_ALLOWED,
    WARNING_TEXTS,
)
from cpmconf.codec.errors import CodecError
from cpmconf.codec.headers import (
    AcceptContact,
    MessageUID,
    PPreferredService,
    Privacy,
    ReleaseVersion,
    ReplyTo,
    warnings_of,
)
from cpmconf.codec.resource_lists import ResourceList
from cpmconf.codec.sip import SipMessage
from cpmconf.codec.uri import aor_key, same_aor, same_gruu
from cpmconf.verdict.checks.base import (
    Judgement,
    Seen,
    View,
    judged,
    not_arisen,
    not_judged,
    register,
)


def resource_list_of(msg: SipMessage) -> ResourceList | None:
    ctype = (msg.content_type or "").lower()
    candidates = [(ctype, msg.body)] if ctype.startswith("application/resource-lists+xml") else []
    candidates += [p for p in _parts(msg) if p[0].startswith("application/resource-lists+xml")]
    for _, body in candidates:
        try:
            return ResourceList.parse(body)
        except CodecError:
            return None
    return None


# -- client sending (TS 7.2.1.1, 7.2.1.3) -----------------------------------------------------


@register("TS-7.2.1.1-1", passive=True)
def accept_contact_msg_icsi(msg: SipMessage) -> Judgement:
    """The MESSAGE's Accept-Contact carries the msg ICSI in g.3gpp.icsi-ref."""
    values = msg.header_list("Accept-Contact")
    found = []
    for v in values:
        try:
            ac = AcceptContact.parse(v)
        except CodecError:
            continue
        found += ac.icsi_refs()
        if ac.has_icsi(ICSI_MSG):
            note = None if ac.icsi_encoded_ok() else "the ICSI is not percent-encoded"
            return judged(note is None, f"Accept-Contact with {ICSI_MSG}", v, msg, note)
    return judged(
        False,
        f"Accept-Contact with {ICSI_MSG}",
        f"Accept-Contact: {values or 'absent'} (ICSIs {found})",
        msg,
    )


@register("TS-7.2.1.1-3", passive=True)
def p_preferred_service_msg(msg: SipMessage) -> Judgement:
    """P-Preferred-Service names the msg ICSI."""
    v = msg.header("P-Preferred-Service")
    ok = False
    if v:
        try:
            ok = PPreferredService.parse(v).has(ICSI_MSG)
        except CodecError:
            ok = False
    return judged(ok, f"P-Preferred-Service: {ICSI_MSG}", f"P-Preferred-Service: {v}", msg)


@register("TS-7.2.1.1-4", "TS-7.2.1.2-5")  # the same rule for the large-mode INVITE
def reply_to_present(msg: SipMessage, address: str) -> Judgement:
    """A Reply-To header carries the reply address the user asked for."""
    v = msg.header("Reply-To")
    actual = ""
    if v:
        try:
            actual = ReplyTo.parse(v).uri
        except CodecError:
            actual = v
    return judged(same_aor(actual, address), f"Reply-To: <{address}>", f"Reply-To: {v}", msg)


def release_judgement(msg: SipMessage, header: str, expected: str) -> Judgement:
    v = msg.header(header)
    product = None
    if v:
        try:
            product = ReleaseVersion.parse(v).cpm_product()
        except CodecError:
            product = None
    ok = product is not None and product.lower() == expected.lower()
    return judged(ok, f"{header} naming {expected}", f"{header}: {v}", msg)


@register("TS-7.2.1.1-5", passive=True)
@register("TS-7.2.1.2-6")  # the INVITE's User-Agent; not passive: judge selects MESSAGEs
def user_agent_release(msg: SipMessage, release: str = "CPM-client/OMA2.0") -> Judgement:
    """User-Agent carries the client's OMA CPM release."""
    return release_judgement(msg, "User-Agent", release)


@register("TS-7.2.1.1-6", "TS-7.2.1.2-7")  # the same rule for the large-mode INVITE
def privacy_id(msg: SipMessage) -> Judgement:
    """An anonymous MESSAGE carries Privacy: id."""
    v = msg.header("Privacy")
    ok = False
    if v:
        try:
            ok = Privacy.parse(v).has("id")
        except CodecError:
            ok = False
    return judged(ok, "Privacy: id", f"Privacy: {v}", msg)


@register("TS-7.2.1.1-7")
def expires_present(msg: SipMessage, seconds: int) -> Judgement:
    """A MESSAGE with a user-set expiry carries Expires with that many seconds."""
    v = msg.header("Expires")
    ok = v is not None and v.strip().isdigit() and int(v) == seconds
    return judged(ok, f"Expires: {seconds}", f"Expires: {v}", msg)


@register(
    "TS-7.2.1.1-8",
    "TS-7.2.1.1-8a",
    "TS-7.2.1.1-8b",
    "TS-7.2.1.1-8c",
    "TS-7.2.1.1-9",  # the Request-URI half of 9 (9b, the list, is resource_list_targets)
    "TS-7.2.1.1-9a",
    "TS-7.2.1.1-10",
    # the same rules for a large-mode INVITE (7.2.1.2)
    "TS-7.2.1.2-9",
    "TS-7.2.1.2-9a",
    "TS-7.2.1.2-9b",
    "TS-7.2.1.2-9c",
    "TS-7.2.1.2-10",
    "TS-7.2.1.2-10a",
    "TS-7.2.1.2-11",
)
def request_uri_is(msg: SipMessage, target: str) -> Judgement:
    """The Request-URI is the expected target."""
    return judged(
        same_aor(msg.request_uri, target),
        f"Request-URI {target}",
        f"Request-URI {msg.request_uri}",
        msg,
    )


@register(
    "TS-7.2.1.1-9",
    "TS-7.2.1.1-9b",
    "TS-7.2.1.1-9c",  # a group reply lists the replied party: the same test of the list
    "TS-7.2.1.1-9d",
    # the same rules for a large-mode INVITE (7.2.1.2)
    "TS-7.2.1.2-10",
    "TS-7.2.1.2-10b",
    "TS-7.2.1.2-10c",
    "TS-7.2.1.2-10d",
)
def resource_list_targets(msg: SipMessage, targets: list[str]) -> Judgement:
    """The MESSAGE has a resource-list body naming every target."""
    rl = resource_list_of(msg)
    if rl is None:
        return judged(
            False,
            f"application/resource-lists+xml listing {targets}",
            f"no parseable resource list (Content-Type {msg.content_type})",
            msg,
        )
    listed = {aor_key(u) for u in rl.uris()} - {None}
    missing = [t for t in targets if aor_key(t) not in listed]
    return judged(
        not missing,
        f"resource list with {targets}",
        f"listed {sorted(listed)}",
        msg,
        f"missing {missing}" if missing else None,
    )


@register("TS-7.2.1.1-11-new", "TS-7.2.1.2-14-new")  # the same rule for the large-mode INVITE
def conversation_id_new(msg: SipMessage, earlier: list[str]) -> Judgement:
    """A message that starts a conversation carries a fresh Conversation-ID."""
    v = msg.header("Conversation-ID")
    ok = bool(v and v.strip()) and v.strip() not in earlier
    return judged(
        ok,
        "Conversation-ID with a new value",
        f"Conversation-ID: {v}",
        msg,
        "value was used before" if v and v.strip() in earlier else None,
    )


# the same rule for the large-mode INVITE
@register("TS-7.2.1.1-11-existing", "TS-7.2.1.2-14-existing")
def conversation_id_existing(msg: SipMessage, conversation: str) -> Judgement:
    """A message in an existing conversation reuses its Conversation-ID."""
    v = msg.header("Conversation-ID")
    return judged(
        (v or "").strip() == conversation,
        f"Conversation-ID: {conversation}",
        f"Conversation-ID: {v}",
        msg,
    )


@register("TS-7.2.1.1-12", "TS-7.2.1.2-15")  # the same rule for the large-mode INVITE
def contribution_id_new(msg: SipMessage, earlier: list[str]) -> Judgement:
    """Each message carries a newly generated Contribution-ID."""
    v = msg.header("Contribution-ID")
    ok = bool(v and v.strip()) and v.strip() not in earlier
    return judged(ok, "Contribution-ID with a new value", f"Contribution-ID: {v}", msg)


@register("TS-7.2.1.1-12-imdn")
def imdn_contribution_id(msg: SipMessage, original: str) -> Judgement:
    """An IMDN carries the Contribution-ID of the message it reports on."""
    v = msg.header("Contribution-ID")
    return judged(
        (v or "").strip() == original, f"Contribution-ID: {original}", f"Contribution-ID: {v}", msg
    )


@register("TS-7.2.1.1-13", "TS-7.2.1.2-16")  # the same rule for the large-mode INVITE
def in_reply_to(msg: SipMessage, original: str) -> Judgement:
    """A reply carries InReplyTo-Contribution-ID with the replied message's Contribution-ID."""
    v = msg.header("InReplyTo-Contribution-ID")
    return judged(
        (v or "").strip() == original,
        f"InReplyTo-Contribution-ID: {original}",
        f"InReplyTo-Contribution-ID: {v}",
        msg,
    )


@register("TS-7.2.1.1-14", "TS-7.2.1.3-intro", passive=True)
def body_is_cpim(msg: SipMessage) -> Judgement:
    """The MESSAGE body is an RFC 3862 CPIM wrapper that parses."""
    cpim = cpim_of(msg)
    return judged(
        cpim is not None,
        "a CPIM wrapper that parses",
        f"Content-Type {msg.content_type}, CPIM {'ok' if cpim else 'absent or unparseable'}",
        msg,
    )


@register("TS-7.2.1.1-15", passive=True)
def typed_cpim(msg: SipMessage) -> Judgement:
    """The MESSAGE's Content-Type is message/cpim (its body is the CPIM wrapper)."""
    ctype = (msg.content_type or "").lower()
    return judged(
        ctype == "message/cpim", "Content-Type: message/cpim", f"Content-Type: {ctype}", msg
    )


# that the client sent the ACK or BYE of its large-mode session at all (its route is judged
# by routing); the PF's clause is registered in pf_large
@register("TS-7.2.1.2-on200-2", "TS-7.2.1.2-bye-1", "TS-7.2.1.2-bye-2")
def arrived_at_core(seen: bool, what: str, msg: SipMessage | None = None) -> Judgement:
    """The message reached the test system's core: for a message a case does not wait for
    (an ACK, a BYE), its presence. How a message went through the core is judged by
    `routing` (D-through-core)."""
    return judged(
        seen, f"{what} received at the SIP/IP core", "received" if seen else "not received", msg
    )


@register("TS-7.2.1.3-1")
def cpim_from(msg: SipMessage, user: str) -> Judgement:
    """The CPIM From is the sending user."""
    cpim = cpim_of(msg)
    actual = cpim.header("From") if cpim else None
    return judged(same_aor(actual, user), f"CPIM From <{user}>", f"CPIM From: {actual}", msg)


@register("TS-7.2.1.3-2a", "TS-7.2.1.3-2b", "TS-7.2.1.3-2c")
def cpim_to(msg: SipMessage, target: str) -> Judgement:
    """The CPIM To is the recipient (or controlling function, or group)."""
    cpim = cpim_of(msg)
    actual = cpim.header("To") if cpim else None
    return judged(same_aor(actual, target), f"CPIM To <{target}>", f"CPIM To: {actual}", msg)


@register("TS-7.2.1.3-3")
def disposition_requested(msg: SipMessage, wanted: list[str]) -> Judgement:
    """The CPIM asks for the dispositions the user wanted (imdn.Disposition-Notification)."""
    cpim = cpim_of(msg)
    value = cpim.disposition_notification() if cpim else None
    have = (
        {v.strip().lower() for v in (value or "").split(",") if v.strip()}
        if isinstance(value, str)
        else {str(v).lower() for v in (value or [])}
    )
    ok = all(w.lower() in have for w in wanted)
    return judged(
        ok,
        f"imdn.Disposition-Notification with {wanted}",
        f"imdn.Disposition-Notification: {value}",
        msg,
    )


@register("TS-7.2.1.1-intro", "TS-7.2.1.3-4-pager")
def pager_for_small(msg: SipMessage | None, limit: int = PAGER_LIMIT) -> Judgement:
    """A message whose CPIM wrapper is at most 1300 bytes goes as a SIP MESSAGE."""
    if msg is None:
        return judged(False, f"a MESSAGE for a wrapper of at most {limit} bytes", "no MESSAGE")
    size = len(msg.body)
    return judged(
        size <= limit and msg.method == "MESSAGE",
        f"MESSAGE with a body of at most {limit} bytes",
        f"{msg.method}, body {size} bytes",
        msg,
    )


# MESSAGE and its 200 (7.2.1.1, 7.2.2.1), the large-mode INVITE and its 200 (7.2.1.2, 7.2.2.2)
@register("TS-7.2.1.1-2", "TS-7.2.2.1-3", "TS-7.2.1.2-4", "TS-7.2.2.2-2b")
def optional_identity(msg: SipMessage, header: str, user: str) -> Judgement:
    """A MAY: the client may assert an identity; if it does, it is the user's own address.
    An asserted address that is not the user's is the option not used as allowed (not a
    failure here): `identity_registered` fails it (D-may-binding-condition)."""
    v = msg.header(header)
    if v is None:
        return judged(True, f"no {header}, or the user's address", "absent (allowed)", msg)
    return judged(same_aor(v, user), f"{header}: <{user}>", f"{header}: {v}", msg)


@register(
    "TS-7.2.1.1-2-registered",
    "TS-7.2.1.2-4-registered",
    "TS-7.2.2.1-3-registered",
    "TS-7.2.2.2-2b-registered",
    "TS-7.2.3.1-1d-registered",
)
def identity_registered(
    msg: SipMessage, user: str, header: str = "P-Preferred-Identity"
) -> Judgement:
    """Every identity the client asserts in `header` is the user's registered address; none
    asserted leaves the clause not-applicable (its MAY was not used)."""
    values = msg.header_list(header)
    expected = f"{header}: <{user}> (when the client asserts an identity)"
    if not values:
        return not_arisen(
            expected, f"no {header}", f"no {header}: the client asserted no identity", msg
        )
    foreign = [v for v in values if not same_aor(v, user)]
    actual = f"{header}: " + ", ".join(values)
    if foreign and len(values) > 1:
        actual += f" (not the user's: {', '.join(foreign)})"
    return judged(not foreign, expected, actual, msg)


# -- client receiving (TS 7.2.2.1, 7.2.2.3) ----------------------------------------------------


@register("TS-7.2.2.1-1", "TS-7.2.2.1-intro", "TS-7.2.2.2-bye")  # 2xx to a MESSAGE or a BYE
def answered_200(final: SipMessage | None, what: str = "MESSAGE") -> Judgement:
    """The client accepts the MESSAGE with a 200."""
    if final is None:
        return judged(False, f"200 to the {what}", "no final response")
    return judged(
        final.status == 200, f"200 to the {what}", f"{final.status} {final.reason}", final
    )


@register("TS-7.2.2.1-2", passive=True)
# the 200 to a large-mode INVITE; not passive: judge's selector picks 200s to MESSAGEs
@register("TS-7.2.2.2-2a")
def server_release(final: SipMessage, release: str = "CPM-client/OMA2.0") -> Judgement:
    """The 200 carries Server with the client's OMA CPM release (only a 200 is judged)."""
    other = not_a_200(final, f"Server: {release}")
    return other or release_judgement(final, "Server", release)


def not_a_200(final: SipMessage | None, expected: str) -> Judgement | None:
    """A clause about the 200 judges a 200 only: any other final (or none) leaves it
    not-applicable, with the status seen; None when `final` is a 200."""
    if final is not None and final.status == 200:
        return None
    seen = "no final response" if final is None else f"{final.status} {final.reason or ''}"
    return not_arisen(
        f"{expected} on the 200",
        seen.strip(),
        f"the clause is about a 200; {seen.strip()} came",
        final,
    )


@register("TS-7.2.2.1-4", "TS-7.2.2.2-2d")  # and the 200 to a large-mode INVITE
def echoes_conversation_headers(final: SipMessage, request: SipMessage) -> Judgement:
    """The 200 repeats each of Conversation-ID, Contribution-ID, InReplyTo-Contribution-ID
    (only a 200 is judged)."""
    names = ("Conversation-ID", "Contribution-ID", "InReplyTo-Contribution-ID")
    wanted = {n: request.header(n) for n in names if request.header(n) is not None}
    other = not_a_200(final, f"echoed {wanted}")
    if other is not None:
        return other
    got = {n: final.header(n) for n in wanted}
    bad = [n for n in wanted if (got[n] or "").strip() != wanted[n].strip()]
    return judged(
        not bad,
        f"echoed {wanted}",
        f"{got}",
        final,
        f"not echoed: {', '.join(bad)}" if bad else None,
    )


# the UID from a MESSAGE, its 200, or (large mode) the BYE and the 200 to the client's BYE
@register("TS-7.2.2.1-7", "TS-7.2.2.3-5", "TS-7.2.1.1-17", "TS-7.2.1.2-bye-3", "TS-7.2.2.2-bye-uid")
def uid_reported(reported: object, uid: int) -> Judgement:
    """The client kept the Message-UID the network gave it (read through the upper tester)."""
    return judged(
        reported == uid,
        f"message_uid {uid} in the upper tester's list",
        f"message_uid {reported!r}",
    )


@register("TS-7.2.2.3-3")
def delivery_imdn(imdn: SipMessage | None, original_imdn_id: str) -> Judgement:
    """A delivery notification (message/imdn+xml in CPIM) is sent for the message."""
    if imdn is None:
        return judged(False, "a MESSAGE carrying a delivery IMDN", "none received")
    cpim = cpim_of(imdn)
    body = cpim.body.decode("utf-8", "replace") if cpim else ""
    ok = "delivered" in body and original_imdn_id in body
    return judged(
        ok,
        f"IMDN <delivered/> for Message-ID {original_imdn_id}",
        f"IMDN body {body[:200]!r}",
        imdn,
    )


@register("TS-7.2.2.3-3-to")
def imdn_to_sender(imdn: Seen | None, sender: str) -> Judgement:
    """The delivery notification is addressed to the sender of the message (D-imdn-to-sender)."""
    if imdn is None:
        return not_judged(f"a delivery IMDN addressed to {sender}", "no IMDN was sent")
    return judged(
        same_aor(imdn.request_uri, sender),
        f"Request-URI {sender}",
        f"Request-URI {imdn.request_uri}",
        imdn,
    )


# -- PF delivery (TS 8.3.2.1) ------------------------------------------------------------------


@register("TS-8.3.2.1-1d")
def rejected_403(final: SipMessage | None) -> Judgement:
    """A MESSAGE from a blocked originator is refused with 403."""
    if final is None:
        return judged(False, "403 to the MESSAGE", "no final response")
    return judged(final.status == 403, "403 Forbidden", f"{final.status} {final.reason}", final)


def oma_warning(final: SipMessage | None, code: int, text: str) -> Judgement:
    if final is None:
        return judged(False, f'Warning 399 "{code} {text}"', "no final response")
    values = final.header_values("Warning")
    try:
        warnings = warnings_of(values)
    except CodecError as exc:
        return judged(False, f'Warning 399 "{code} {text}"', f"unparseable Warning: {exc}", final)
    for w in warnings:
        if w.oma_code() == code:
            return judged(True, f'Warning 399 "{code} {text}"', str(w), final)
    misplaced = [w for w in warnings if w.misplaced_oma_code() == code]
    note = (
        "the OMA code sits in the warn-code position instead of the warn-text under 399"
        if misplaced
        else None
    )
    return judged(
        False,
        f'Warning: 399 <agent> "{code} {text}"',
        f"Warning: {values or 'absent'}",
        final,
        note,
    )


@register("TS-8.3.2.1-1d-warning")
def warning_122(final: SipMessage | None) -> Judgement:
    """The access-policy 403 carries Warning 122 Function not allowed."""
    if final is None or final.status != 403:
        status = "no final response" if final is None else f"{final.status} {final.reason}"
        return not_judged(
            "a 403 whose Warning can be judged",
            status,
            final,
            "precondition not met: the PF did not refuse with 403",
        )
    code = WARNING_FUNCTION_NOT_ALLOWED
    return oma_warning(final, code, WARNING_TEXTS[code])


@register("TS-8.3.2.1-2")
def unsupported_415(final: SipMessage | None) -> Judgement:
    """Content outside the provider's policy gets 415 with an Accept list."""
    if final is None:
        return judged(False, "415 with Accept", "no final response")
    accept = final.header("Accept")
    ok = final.status == 415 and bool(accept and accept.strip())
    return judged(
        ok, "415 Unsupported Media Type with Accept", f"{final.status}, Accept: {accept}", final
    )


@register("TS-8.3.2.1-3")
def expired_not_delivered(deliveries: list[SipMessage]) -> Judgement:
    """An expired MESSAGE reaches no device."""
    return judged(
        not deliveries,
        "no MESSAGE to any device",
        f"{len(deliveries)} copies delivered",
        deliveries[0] if deliveries else None,
    )


def _device_of(uri: str | None, devices: dict[str, list[str]]) -> str | None:
    for name, uris in devices.items():
        if any(same_gruu(u, uri) for u in uris if u):
            return name
    return None


@register("TS-8.3.2.1-4b-2")
def delivered_to_selected(
    deliveries: list[SipMessage], devices: dict[str, list[str]], selected: set[str]
) -> Judgement:
    """Exactly the selected devices get a copy; no other device does.

    `devices` maps each device name to every URI it is known by (public GRUU, contact).
    """
    got = sorted(_device_of(m.request_uri, devices) or f"?{m.request_uri}" for m in deliveries)
    unselected = sorted(n for n in got if n not in selected)
    missing = sorted(n for n in selected if n not in got)
    return judged(
        not unselected and not missing,
        f"copies to exactly {sorted(selected)}",
        f"copies to {got}",
        deliveries[0] if deliveries else None,
        "; ".join(
            filter(
                None,
                [
                    f"unselected or unknown: {unselected}" if unselected else "",
                    f"missing: {missing}" if missing else "",
                ],
            )
        )
        or None,
    )


@register("TS-8.3.2.1-4b-2.i")
def one_copy_each(
    deliveries: list[SipMessage], devices: dict[str, list[str]], selected: set[str]
) -> Judgement:
    """Each selected device gets exactly one copy (copies elsewhere are judged by 4b-2)."""
    got = [_device_of(m.request_uri, devices) for m in deliveries]
    counts = {n: got.count(n) for n in sorted(selected)}
    return judged(
        all(c == 1 for c in counts.values()),
        "one copy per selected device",
        f"copies per selected device: {counts}",
        deliveries[0] if deliveries else None,
    )


@register("TS-8.3.2.1-4b-2.ii")
def request_uri_is_gruu(delivery: SipMessage, gruu: str) -> Judgement:
    """Each copy's Request-URI is the device's public GRUU."""
    return judged(
        same_gruu(delivery.request_uri, gruu),
        f"Request-URI {gruu}",
        f"Request-URI {delivery.request_uri}",
        delivery,
    )


@register("TS-8.3.2.1-first2xx")
def first_2xx_forwarded(finals: list[SipMessage], device_status: int) -> Judgement:
    """The originator gets a 2xx once a device answered 2xx."""
    if not finals:
        return judged(False, f"{device_status} to the originator", "no final response")
    first = finals[0]
    return judged(
        first.status == device_status,
        f"{device_status} forwarded to the originator",
        f"{first.status} {first.reason}",
        first,
    )


@register("TS-8.3.2.1-other")
def no_further_finals(finals: list[SipMessage]) -> Judgement:
    """No final response after the first reaches the originator."""
    return judged(
        len(finals) <= 1,
        "exactly one final response to the originator",
        f"{len(finals)} final responses: {[f.status for f in finals]}",
        finals[1] if len(finals) > 1 else None,
    )


@register("TS-8.3.2.1-4a.iii-200")
def stored_200(final: SipMessage | None, deliveries: list[SipMessage]) -> Judgement:
    """A message the preferences say to store gets 200 and is not delivered to a device."""
    status = None if final is None else final.status
    ok = status == 200 and not deliveries
    return judged(
        ok, "200 and no delivery to devices", f"final {status}, {len(deliveries)} deliveries", final
    )


# -- recording, pager branch (TS 8.5.1) --------------------------------------------------------


def message_uid(msg: SipMessage | None) -> tuple[int | None, str | None]:
    if msg is None:
        return None, "no message"
    v = msg.header("Message-UID")
    if v is None:
        return None, "no Message-UID"
    try:
        return MessageUID.parse(v).value, None
    except CodecError as exc:
        return None, f"Message-UID {v!r} is not a valid UID ({exc.detail})"


@register("TS-8.5.1-send-4a.i")
def uid_in_delivered_message(delivery: SipMessage | None) -> Judgement:
    """A terminating-side recording PF puts Message-UID in the MESSAGE to the recipient."""
    uid, problem = message_uid(delivery)
    return judged(
        uid is not None,
        "Message-UID with a UID in the MESSAGE to the device",
        problem or f"Message-UID: {uid}",
        delivery,
    )


@register("TS-8.5.1-send-4a.ii")
def uid_in_200(final: SipMessage | None) -> Judgement:
    """An originating-side recording PF puts Message-UID in the 200 to the originator."""
    uid, problem = message_uid(final)
    return judged(
        uid is not None and final.status == 200,
        "Message-UID with a UID in the 200 to the originator",
        problem or f"{final.status}, Message-UID: {uid}",
        final,
    )


__all__ = ["View", "cpim_of", "is_imdn", "message_uid", "resource_list_of"]
