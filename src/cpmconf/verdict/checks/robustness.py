"""Checks of the robustness group (RB- requirements): refusal of bad input and liveness.

Every robustness case judges two things from the capture: that the SUT did not accept input
it cannot have understood (no 2xx, or no MSRP 200), and that it still answered the liveness
probe sent after that input (`probe_answer` says which response answers the probe itself).
"Stopped answering" needs a SUT that answered something before the stimulus. The
unknown-`cpm_action` case judges what the PF did rather than its status code
(`unknown_action_not_acted`).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable

from cpmconf.codec.sip import SipMessage
from cpmconf.verdict.checks.base import Judgement, judged, not_judged


def _status(m) -> str:
    return f"{m.status} {m.reason}".strip()


_RAW_STATUS = re.compile(rb"\ASIP/2\.0[ \t]+(\d{3})[ \t]?([^\r\n]*)")
_RAW_CALL_ID = re.compile(rb"^(?:call-id|i)[ \t]*:[ \t]*(\S+)", re.IGNORECASE | re.MULTILINE)


def raw_finals(unparsed: Iterable[bytes], call_ids: Collection[str]) -> list[bytes]:
    """Final responses to one of `call_ids` among bytes the capture could not parse as SIP.

    A response that copies a broken header of the stimulus (a `From` with no host) is as
    unparseable as the stimulus, yet its status line and Call-ID still say what it answered.
    """
    out = []
    for raw in unparsed:
        head = raw.split(b"\r\n\r\n", 1)[0]
        status = _RAW_STATUS.match(head)
        call_id = _RAW_CALL_ID.search(head)
        if status is None or call_id is None or int(status.group(1)) < 200:
            continue
        if call_id.group(1).decode("utf-8", "replace") in call_ids:
            out.append(raw)
    return out


def refused_or_dropped(
    finals: list[SipMessage],
    stimulus: str,
    note: str | None = None,
    unparsed_finals: Iterable[bytes] = (),
) -> Judgement:
    """No 2xx to a stimulus the SUT cannot have understood; an error status or silence
    is fine. `unparsed_finals` (see `raw_finals`) are judged by their status line."""
    accepted = [m for m in finals if m.status is not None and 200 <= m.status < 300]
    if accepted:
        return judged(
            False,
            f"an error status (4xx/5xx) or no answer to {stimulus}",
            f"accepted with {_status(accepted[0])}",
            accepted[0],
        )
    for raw in unparsed_finals:
        m = _RAW_STATUS.match(raw)
        if m is not None and 200 <= int(m.group(1)) < 300:
            line = m.group(0).decode("utf-8", "replace")
            return Judgement(
                False,
                f"an error status (4xx/5xx) or no answer to {stimulus}",
                f"accepted with {line[8:].strip()} (a response the capture cannot parse, "
                "as it copies the broken header)",
                bytes(raw),
            )
    if finals:
        return judged(
            True, "an error status or no answer", f"refused with {_status(finals[0])}", note=note
        )
    return judged(
        True, "an error status or no answer", f"no answer to {stimulus}: ignored", note=note
    )


def msrp_not_acknowledged(responses: list, stimulus: str, note: str | None = None) -> Judgement:
    """No MSRP 200 to a SEND the SUT cannot have taken as valid."""
    ok = [r for r in responses if getattr(r, "status", None) == 200]
    if ok:
        return Judgement(
            False,
            f"an MSRP error response, no response or a closed connection for {stimulus}",
            "acknowledged with MSRP 200",
            bytes(ok[0]),
        )
    if responses:
        return judged(
            True,
            "no MSRP 200",
            f"refused with MSRP {responses[0].status} {responses[0].comment or ''}".strip(),
            note=note,
        )
    return judged(
        True, "no MSRP 200", f"no MSRP response to {stimulus}: ignored or closed", note=note
    )


def probe_answer(finals: Iterable[SipMessage], probe: SipMessage) -> SipMessage | None:
    """The first final response that answers the OPTIONS probe itself: the probe's Call-ID,
    CSeq number and method, and its top Via branch. A SUT that read the probe glued to the
    rest of a broken stimulus (a 405 to a merged "textOPTIONS") answered something else."""
    branch = probe.branch
    for m in finals:
        if m.is_request or m.status is None or m.status < 200:
            continue
        if m.call_id != probe.call_id or m.cseq != probe.cseq:
            continue
        if branch is not None and m.branch != branch:
            continue
        return m
    return None


def still_answering(
    probe_final: SipMessage | None,
    stimulus: str,
    bound: float,
    answered_before: str | None,
) -> Judgement:
    """The OPTIONS probe sent after the stimulus got a final response within the guard time.

    `answered_before` names what the SUT answered before the stimulus (the probe sent first,
    or the session the stimulus went into); None when it answered nothing, and then no answer
    to the probe after says nothing about the stimulus: not judged, never "stopped answering".
    """
    expected = f"a final response to the OPTIONS probe within {bound:g} s"
    if probe_final is None and answered_before is None:
        return not_judged(
            expected, f"the SUT answered nothing before {stimulus} either, so it never answered"
        )
    if probe_final is None:
        return judged(
            False,
            expected,
            f"SUT stopped answering after {stimulus} (before it, it answered {answered_before})",
        )
    return judged(
        True,
        "a final response to the OPTIONS probe",
        f"probe answered {_status(probe_final)}",
        probe_final,
    )


def not_fetched(requests: list[bytes], url: str) -> Judgement:
    """No request for the URL an external entity named reached the test system's server
    (`requests`: the heads of the HTTP requests it got)."""
    path = url.split("/", 3)[-1]
    fetched = [r for r in requests if f"/{path}".encode() in r.split(b"\r\n", 1)[0]]
    if fetched:
        return Judgement(
            False,
            f"the external entity {url} never resolved",
            "the SUT resolved the external entity: it fetched the URL",
            fetched[0],
        )
    return judged(True, f"no fetch of {url}", "none seen")


def nothing_leaked(from_sut: list[SipMessage], marker: str, source: str) -> Judgement:
    """No message the SUT sent carries the content of a file an external entity named."""
    leaked = [m for m in from_sut if marker.encode() in bytes(m)]
    if leaked:
        return judged(
            False,
            f"the content of {source} never in a message from the SUT",
            "the SUT resolved the external entity and sent the file's content",
            leaked[0],
        )
    return judged(True, f"no content of {source} in any message", "none seen")


def _answer(final: SipMessage | None) -> str:
    return "no answer" if final is None else _status(final)


def unknown_action_not_acted(
    final: SipMessage | None,
    uri_id: str | None,
    before: list[str] | None,
    after: list[str] | None,
    carried: list,
    stimulus: str,
) -> Judgement:
    """The PF did not act on a `cpm_action` it does not know (RB-cpm-unknown-action).

    The handling INVITE named `uri_id`, a message really deferred for the user (listed in
    `before`), with an unknown action. `carried`: what the SUT sent afterwards that carries the
    deferred message's content (a MESSAGE, an MSRP SEND), `after`: the list a subscription
    read afterwards, `final`: the PF's final response to the INVITE.

    Accepted readings: an error status, no answer at all, or a 2xx after which the session
    transfers nothing and the message stays listed (the PF took the request and found nothing
    it could do). Failing: the message's content leaves the PF (the action taken as deliver
    or interwork), or the message is no longer listed (taken as delete or store). Not judged
    when no message was deferred and listed to name, or the list could not be read after.
    """
    expected = (
        f"{uri_id or 'the deferred message'} left alone after {stimulus}: an error status, "
        "no answer, or a 2xx with nothing of the message sent anywhere and it still listed"
    )
    if uri_id is None or before is None or uri_id not in before:
        listed = "no readable list" if before is None else f"listed {before}"
        return not_judged(
            expected, f"no deferred message to name (Message-URI-ID {uri_id}; {listed})"
        )
    if carried:
        return Judgement(
            False,
            expected,
            f"acted on (answered {_answer(final)}): the deferred message's content was sent "
            f"in {len(carried)} message(s) after the INVITE, as if the action were deliver "
            "or interwork",
            bytes(carried[0]),
        )
    if after is None:
        return not_judged(
            expected, "no readable list after the INVITE (no NOTIFY with a list)", final
        )
    if uri_id not in after:
        return judged(
            False,
            expected,
            f"acted on (answered {_answer(final)}): {uri_id} is no longer listed, as if the "
            f"action were delete or store (listed after: {after})",
            final,
        )
    return judged(
        True,
        "no action on an unknown cpm_action",
        f"answered {_answer(final)}; nothing of the message sent; {uri_id} still listed",
        final,
    )
