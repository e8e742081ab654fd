"""Robustness group, deferred-message handling (RB-xml-*, RB-cpm-*): bad resource lists.

Each case sends the PF a deferred-message handling INVITE (to its CPMDeferredMsgMgmt address,
TS 7.2.3.2.1) whose resource-list part is broken: not XML, not a resource list, nested entity
declarations ("billion laughs"), external entities naming a local file and a URL the test
system serves on its own address, or Message-URI-IDs the PF never issued. The PF passes when
it does not accept the INVITE with a 2xx, never fetches the URL, never sends the file's or the
URL's content anywhere, and still answers an OPTIONS probe.

The unknown-`cpm_action` case first has a message really deferred for the pull-deferral user
(the steps of the PF deferred cases, `cpmconf.procedures.pf_deferred`), then names that message's
Message-URI-ID with an action the PF cannot know. There the status code alone says nothing;
the PF passes when it does not act: nothing of the message is sent anywhere, a fresh
subscription still lists it, and the probe is answered. The message is deleted again at the end.
Every case needs the ICS item deferred-pull; without it they are not applicable.

Selected with `cpmconf run -m robustness` (or `--clause RB-xml --clause RB-cpm`).
"""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from cpmconf.codec.deferred_messages import CONTENT_TYPE as LIST_TYPE
from cpmconf.codec.sip import SipMessage
from cpmconf.procedures import pf_deferred as deferred_steps
from cpmconf.procedures.robustness import render_raw
from cpmconf.roles.errors import NoAnswer
from cpmconf.roles.stimulus import token
from cpmconf.verdict.checks import robustness as checks
from testcases.judging import Run

pytestmark = pytest.mark.robustness


def management(scene) -> str:
    pf = scene.profile.pf
    deferred = getattr(pf, "deferred", None)
    return deferred.management if deferred is not None else f"sip:CPMDeferredMsgMgmt@{pf.domain}"


def user_of(scene) -> str:
    return next(u.uri for u in scene.profile.users)


def multipart(scene, xml: bytes) -> tuple[str, bytes]:
    """The handling INVITE's body: an SDP offer (port 9, discard: no media is ever set up)
    and the resource list as given."""
    templates = scene.core.templates
    host = scene.core.host
    sdp = templates.render_body(
        "sdp/offer.sdp.j2",
        host=host,
        session_id=1,
        session_version=1,
        path=f"msrp://{host}:9/{token(6)};tcp",
        setup="active",
        direction="recvonly",
        accept_types=["message/cpim"],
    )
    return templates.multipart([("application/sdp", sdp), ("application/resource-lists+xml", xml)])


async def send_handling(scene, run: Run, what: str, user: str, **xml_context):
    """Send the handling INVITE from `user` with the given resource list; ACK what comes back
    (and BYE a 2xx); return its final response (None: no answer within the guard time)."""
    base = f"{management(scene)};id=cpmconf-{token(6)}"
    xml = scene.core.templates.body("robustness/resource_lists.xml.j2", base=base, **xml_context)
    ctype, body = multipart(scene, xml)
    stim = render_raw(
        scene,
        "robustness/deferred_invite.sip.j2",
        what,
        body,
        management=management(scene),
        user=user,
        content_type=ctype,
    )
    to = scene.pf_address
    await run.send(stim, to, scene.profile.pf.transport)
    call_id = stim.call_ids[0]
    try:
        final = await scene.core.wait(
            lambda m: not m.is_request and m.call_id == call_id and (m.status or 0) >= 200,
            "the final response to the handling INVITE",
        )
    except NoAnswer:
        final = None
    if final is not None:
        await end_transaction(scene, stim, final, to)
    return final


async def handle_broken(
    scene, expect, clause: str, what: str, refusal: str | None = None, **xml_context
):
    """Send the handling INVITE with the given resource list; ACK what comes back; judge
    (the refusal for `refusal`, default `clause`, as its rule says; see judging.Run)."""
    run = Run(scene, expect, clause, refusal=refusal)
    await run.check_alive(scene.pf_address)
    await send_handling(scene, run, what, user_of(scene), **xml_context)
    await run.judge(scene.pf_address)
    return run


async def end_transaction(scene, stim, final, to) -> None:
    """ACK a non-2xx final (same branch); ACK and BYE a 2xx, so nothing lingers."""
    from cpmconf.codec.sip import SipMessage

    invite = SipMessage.parse(stim.raw)
    if final.status >= 300:
        ack = scene.render(
            "robustness/ack.sip.j2",
            target=invite.request_uri,
            via=invite.header("Via"),
            from_=invite.header("From"),
            to=final.header("To"),
            call_id=invite.call_id,
            cseq=invite.cseq[0],
        )
        await scene.core.send(ack, to)
        return
    ack = scene.core.in_dialog(invite, final, "ACK", invite.cseq[0])
    scene.stimuli.append(ack)
    await scene.core.send(ack, to)
    bye = scene.core.in_dialog(invite, final, "BYE", invite.cseq[0] + 1)
    scene.stimuli.append(bye)
    try:
        await scene.core.transact(bye, to)
    except NoAnswer:
        pass  # tidying up only


@pytest.mark.clause("RB-xml-invalid")
@pytest.mark.parametrize("variant", ["not-well-formed", "wrong-root", "not-xml"])
async def test_invalid_resource_list(scene, expect, variant):
    await handle_broken(
        scene, expect, "RB-xml-invalid", f"a handling INVITE with a {variant} list", variant=variant
    )


@pytest.mark.clause("RB-xml-entity-expansion")
async def test_entity_expansion(scene, expect):
    await handle_broken(
        scene,
        expect,
        "RB-xml-entity-expansion",
        "a handling INVITE whose list declares nested entities",
        variant="entity-expansion",
    )


@contextlib.asynccontextmanager
async def entity_server(host: str, content: str):
    """An HTTP server on the test system's address answering any GET with `content`; yields a
    URL under it with a path of its own and the list of request heads it receives."""
    heads: list[bytes] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            heads.append(await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5.0))
            body = content.encode()
            writer.write(
                b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n"
                + f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
            await writer.drain()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, OSError):
            pass  # a half request is still recorded above when its head arrived
        finally:
            writer.close()

    server = await asyncio.start_server(serve, host, 0)
    port = server.sockets[0].getsockname()[1]
    authority = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    try:
        yield f"http://{authority}/cpmconf-entity-{token(8)}", heads
    finally:
        server.close()
        await server.wait_closed()


@pytest.mark.clause("RB-xml-external-entity")
async def test_external_entity(scene, expect, tmp_path):
    marker = "cpmconf-secret-" + token(8)
    secret = tmp_path / "secret.txt"
    secret.write_text(marker)
    async with entity_server(scene.core.host, marker) as (url, fetches):
        run = await handle_broken(
            scene,
            expect,
            "RB-xml-external-entity",
            "a handling INVITE whose list declares external entities (a file and a URL)",
            variant="external-entity",
            system_uri=secret.as_uri(),
            fetch_url=url,
        )
    expect.judge("RB-xml-external-entity", checks.not_fetched(fetches, url))
    view = await run.view()
    from_sut = [s for s in view.items if s.from_sut]
    expect.judge(
        "RB-xml-external-entity",
        checks.nothing_leaked(from_sut, marker, "the named file or URL"),
    )


# At most this many requests carrying a deferred message are answered in one sweep (a PF
# delivering in a loop must not keep the case running).
MAX_CARRIED = 10


async def answer_carriers(scene, user: str, marker: str) -> None:
    """Answer, as the user's device or the IWF would, every request the PF sends within the
    settle time that delivers a deferred message (a MESSAGE with its content, an INVITE for a
    large one), so a PF acting on the message can finish; the judging reads the capture."""
    iwf = deferred_steps.deferred_target(scene).iwf
    to_user, to_iwf = deferred_steps.is_to(user), deferred_steps.is_to(iwf)

    def carrier(m: SipMessage) -> bool:
        if not m.is_request or m.method not in ("MESSAGE", "INVITE"):
            return False
        return marker.encode() in m.body or (m.method == "INVITE" and (to_user(m) or to_iwf(m)))

    for _ in range(MAX_CARRIED):
        m = await scene.observe(carrier, "a delivery of the deferred message")
        if m is None:
            return
        if m.method == "INVITE":
            await deferred_steps.answer_push(scene, m, 1)
        else:
            await scene.respond(m, 200, "OK")


def carried_by_sut(view, marker: str, uri_id: str | None, final=None) -> list:
    """Requests the SUT sent, after our handling INVITE naming `uri_id`, that carry the
    deferred message's content: a MESSAGE or INVITE with it in the body (a deferred-messages
    list, which may quote a message, does not count) and MSRP SENDs. What the PF sent before
    the handling INVITE (e.g. a store-and-forward PF re-sending the message on a device's
    REGISTER) was not caused by the unknown action, so it is not judged here."""
    start = _handling_index(view, uri_id, getattr(final, "call_id", None))
    if start is None:
        return []

    def carries(m: SipMessage) -> bool:
        if not m.is_request or m.method not in ("MESSAGE", "INVITE"):
            return False
        return (m.content_type or "").lower() != LIST_TYPE and marker.encode() in m.body

    out = [s for s in view.items if s.from_sut and s.index > start and carries(s.message)]
    return out + [
        s
        for s in view.msrp
        if s.from_sut
        and s.index > start
        and s.message.method == "SEND"
        and marker.encode() in bytes(s.message)
    ]


def _handling_index(view, uri_id: str | None, call_id: str | None) -> int | None:
    """Capture index of the handling INVITE the test system sent naming `uri_id` (found by
    the Call-ID of its final response, else by the id in its body); None: none was sent."""
    if uri_id is None:
        return None
    for s in view.items:
        m = s.message
        if s.from_sut or not m.is_request or m.method != "INVITE":
            continue
        if (call_id is not None and m.call_id == call_id) or uri_id.encode() in m.body:
            return s.index
    return None


@pytest.mark.clause("RB-cpm-unknown-action")
@pytest.mark.parametrize("action", ["explode", "", "deliver%00"])
async def test_unknown_cpm_action(scene, expect, action):
    """A message deferred for the pull-deferral user, named by its real Message-URI-ID with an
    unknown action: the PF must leave it alone (see `checks.unknown_action_not_acted` for the
    readings)."""
    clause = "RB-cpm-unknown-action"
    user = deferred_steps.who(scene, deferred_steps.PULL_USER)
    marker = f"robustness-deferred-{token(8)}"
    what = f"a handling INVITE naming a deferred message with cpm_action={action!r}"
    run = Run(scene, expect, clause, may_accept=True)  # the status is judged below, with the rest
    deferral = final = before = after = uri_id = None
    watched = False
    await deferred_steps.deregister_all(scene, user)
    await deferred_steps.purge(scene, user)
    try:
        deferral = await deferred_steps.defer_one(scene, user, marker)
        if deferral.status is not None:  # else nothing was taken, so nothing to name
            before = await deferred_steps.listed(scene, user)
            named = deferral.ids
            uri_id = named[0] if named else (before[0] if before and len(before) == 1 else None)
        if uri_id is not None:
            run.answered_before = f"the deferred MESSAGE with {deferral.status}"
            final = await send_handling(
                scene, run, what, user, variant="list", entries=[(uri_id, action)]
            )
            await answer_carriers(scene, user, marker)
            watched = True
            await run.judge(scene.pf_address)  # liveness: the OPTIONS probe
            after = await deferred_steps.listed(scene, user)
    finally:
        if deferral is None or deferral.status is not None:
            await deferred_steps.purge(scene, user)  # no later case sees this message
            if not watched:  # else the window above did (the purge only deletes)
                await answer_carriers(scene, user, marker)
    view = await run.view()
    if final is not None:  # the final as captured, found by the socket's identifiers
        final = view.final_to(final.call_id, final.cseq)
    judgement = checks.unknown_action_not_acted(
        final, uri_id, before, after, carried_by_sut(view, marker, uri_id, final), what
    )
    if run.survival is None and judgement.ok is None:
        expect.judge(clause, judgement)  # nothing was named: the case never arose
    else:
        run.judge_refusal(judgement)  # no rule asks it: reported only (D-rb-suite-grading)


@pytest.mark.clause("RB-cpm-unknown-message-id", "RB-cpm-unknown-message-id-refused")
async def test_unknown_message_uri_ids(scene, expect):
    ids = [f"{management(scene)};id=never-issued-{token(4)}" for _ in range(3)]
    await handle_broken(
        scene,
        expect,
        "RB-cpm-unknown-message-id",
        "a handling INVITE naming Message-URI-IDs the PF never issued",
        refusal="RB-cpm-unknown-message-id-refused",
        variant="list",
        entries=[(i, a) for i, a in zip(ids, ["deliver", "delete", "store"], strict=True)],
    )
