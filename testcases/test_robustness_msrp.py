"""Robustness group, MSRP (RB-msrp-*): broken SENDs inside a large-mode session.

The core delivers a large-mode INVITE to the client SUT as its PF would, accepts the MSRP
connection the client opens and its binding SEND, then writes one broken SEND on that
connection (a bad Byte-Range, or an end-line naming another transaction). The client passes
when it does not acknowledge that SEND with a 200 (an MSRP error, silence or closing the
connection are all fine) and still answers a SIP OPTIONS probe afterwards. The session is then
ended with a BYE, which is not judged.

Selected with `cpmconf run -m robustness` (or `--clause RB-msrp`); part of the default run.
"""

from __future__ import annotations

import pytest

from cpmconf.codec.msrp import new_ident
from cpmconf.procedures.client import large_invite
from cpmconf.procedures.robustness import RawStimulus, render_text
from cpmconf.roles.errors import NoAnswer
from cpmconf.transport import TransportError
from cpmconf.verdict import Inconclusive
from cpmconf.verdict.checks import large
from cpmconf.verdict.checks import robustness as checks
from testcases.judging import Run

pytestmark = pytest.mark.robustness

BODY = "hello"

BYTE_RANGES = {
    "end-before-start": "5-2/5",
    "starts-at-zero": "0-4/5",
    "not-numbers": "a-e/five",
    "end-beyond-total": "1-5/3",
}


async def open_session(client):
    """INVITE, 200, ACK, and the client's MSRP connection with its binding SEND."""
    session = client.msrp.session()
    invite = large_invite(client, session)  # as deliver_large_to_client sends it
    ex = await client.transact(invite, client.client_address)
    final = ex.final
    if final is None or final.status != 200:
        raise Inconclusive("the client did not accept the large-mode INVITE, so no MSRP session")
    session.remote_path = large.path_of(final)
    ack = client.core.in_dialog(invite.message, final, "ACK", invite.message.cseq[0])
    client.stimuli.append(ack)
    await client.core.send(ack, client.client_address)
    try:
        await client.msrp.accept_bind(session)
    except NoAnswer as exc:
        raise Inconclusive(f"no MSRP session to break: {exc}") from None
    return invite, final, session


def raw_send(client, session, what: str, byte_range: str, end_tid: str | None = None):
    """A SEND rendered as written (CRLF lines), with its own transaction id."""
    tid = new_ident(12)
    text = render_text(
        client,
        "robustness/send.msrp.j2",
        tid=tid,
        to_path=" ".join(session.remote_path),
        from_path=session.local,
        message_id=new_ident(10),
        byte_range=byte_range,
        body=BODY,
        end_tid=end_tid or tid,
    )
    raw = ("\r\n".join(text.strip("\n").split("\n")) + "\r\n").encode("utf-8")
    name = "robustness/send.msrp.j2"
    stim = RawStimulus(name, client.core.templates.clauses_of(name), raw, (), what)
    client.stimuli.append(stim)
    return tid, stim


async def break_session(client, expect, clause: str, what: str, byte_range: str, end_tid=None):
    invite, final, session = await open_session(client)
    tid, stim = raw_send(client, session, what, byte_range, end_tid)
    run = Run(client, expect, clause)
    run.answered_before = f"the large-mode INVITE with {final.status} and its MSRP session"
    run.sent.append(stim)
    if end_tid is not None:
        run.stream_raw.append(stim.raw)  # never ends, so the capture cannot frame it
    peer = client.msrp
    try:
        await peer.endpoint.send(stim.raw, session.connection or session.first_hop, "tcp")
    except TransportError as exc:
        run.notes.append(f"the client closed the MSRP connection during the write ({exc})")
    try:
        await peer.endpoint.receive(
            lambda i: (
                i.message is not None and i.message.is_response and i.message.transaction_id == tid
            ),
            client.profile.settle,
            what="an MSRP response to the broken SEND",
        )
    except (TimeoutError, TransportError):
        pass  # silence is an acceptable answer
    await run.probe_sut(client.client_address)
    bye = client.core.in_dialog(invite.message, final, "BYE", invite.message.cseq[0] + 1)
    client.stimuli.append(bye)
    try:
        await client.transact(bye, client.client_address)
    except NoAnswer:
        pass  # tidying up only; liveness is judged by the probe
    if session.connection is not None:
        peer.endpoint.close_connection(session.connection)
    view = await run.view()
    responses = [m for m in view.msrp_from_sut(None) if m.is_response and m.transaction_id == tid]
    # no receiver rule asks it: reported with the survival finding (D-rb-suite-grading)
    run.judge_refusal(checks.msrp_not_acknowledged(responses, what, "; ".join(run.notes) or None))
    run.judge_liveness(view, what)


@pytest.mark.clause("RB-msrp-byte-range")
@pytest.mark.parametrize("variant", sorted(BYTE_RANGES))
async def test_send_with_bad_byte_range(client, expect, variant):
    await break_session(
        client,
        expect,
        "RB-msrp-byte-range",
        f"an MSRP SEND with Byte-Range {BYTE_RANGES[variant]} ({variant})",
        BYTE_RANGES[variant],
    )


@pytest.mark.clause("RB-msrp-end-line")
async def test_send_with_foreign_end_line(client, expect):
    await break_session(
        client,
        expect,
        "RB-msrp-end-line",
        "an MSRP SEND whose end-line names another transaction id",
        "1-5/5",
        end_tid=new_ident(12),
    )
