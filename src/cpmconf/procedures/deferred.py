"""Steps of the client deferred-message cases (TS 7.2.3): the test system plays the PF's
deferred-message management address.

The upper tester makes the client subscribe or handle; the core answers the SUBSCRIBE, sends
the NOTIFY (its body built by :mod:`cpmconf.codec.deferred_messages`, the suite's own format),
and answers the handling INVITE with 200 (then takes ACK and BYE) or a failure. Every wait is
bounded by the guard time; what the client failed to send is left for the checks to judge.
An upper tester refusing a command ends its step at once (`UpperTesterError`).
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

from cpmconf.codec.deferred_messages import CONTENT_TYPE, DeferredList, DeferredMessage
from cpmconf.codec.headers import uri_of
from cpmconf.procedures.results import Ids
from cpmconf.roles import upper_tester
from cpmconf.roles.network import forget, unless
from cpmconf.roles.stimulus import token

EVENT = "deferred-messages"  # D-event-package


@dataclass(frozen=True)
class Subscribed:
    """The client's subscription to its deferred messages (client_subscribes)."""

    subscribe: Ids
    notify: Ids
    notify_status: int | None
    ids: list[str]
    ut: dict | None
    learnt: list[str]


@dataclass(frozen=True)
class Handled:
    """The client's handling INVITE and what followed (client_handles)."""

    invite: Ids | None
    ack: Ids | None
    bye: Ids | None
    retry: Ids | None
    ut: dict | None


def management_uri(client) -> str:
    """The provisioned CPMDeferredMsgMgmt address (D-deferred-mgmt-address)."""
    profile = client.profile
    extra = profile.extra.get("client", {}) if isinstance(profile.extra, dict) else {}
    if extra.get("deferred_management"):
        return extra["deferred_management"]
    deferred = getattr(profile.pf, "deferred", None) if profile.pf is not None else None
    if deferred is not None and deferred.management:
        return deferred.management
    domain = profile.client.user.rsplit("@", 1)[-1]
    return f"sip:CPMDeferredMsgMgmt@{domain}"


def new_ids(client, n: int) -> list[str]:
    """Fresh Message-URI-IDs under the management address; opaque to the client."""
    host = management_uri(client).rsplit("@", 1)[-1]
    return [f"sip:CPMDeferredMsgMgmt@{host};id={token(6)}" for _ in range(n)]


async def _finish(task: asyncio.Task, client, what: str) -> dict:
    return await upper_tester.answer(task, client.guard, f"POST {what}")


async def client_subscribes(client, ids: list[str] | None = None) -> Subscribed:
    """Make the client subscribe; answer 200 and NOTIFY the list `ids`.

    Returns a `Subscribed`: the identifiers of the SUBSCRIBE and of our NOTIFY, the NOTIFY's
    final status, the ids notified, the upper tester's answer and the ids it reports learnt.
    """
    ids = list(ids or [])
    out: dict = {"ids": ids}
    task = asyncio.ensure_future(client.ut.deferred_subscribe())
    try:
        sub = await unless(client.wait_request("SUBSCRIBE", "SUBSCRIBE from the client"), task)
        out["subscribe"] = sub
        to_tag = token(4)
        host, port = client.core.address
        await client.respond(
            sub,
            200,
            "OK",
            to_tag=to_tag,
            headers=[("Expires", "0"), ("Contact", f"<sip:deferred-pf@{host}:{port}>")],
        )
        out["ut"] = await _finish(task, client, "/deferred/subscribe")
    finally:
        forget(task)
    user = client.profile.client.user
    originator = client.role("originator")
    body = DeferredList.build(
        user,
        [
            DeferredMessage(uri_id=i, originator=originator, subject=f"queued {n}", size=20)
            for n, i in enumerate(ids)
        ],
    )
    to = sub.header("To") or ""
    if ";tag=" not in to.replace(" ", ""):
        to = f"{to};tag={to_tag}"
    stim = client.render(
        "client/notify_deferred.sip.j2",
        body=bytes(body),
        target=uri_of(sub.header("Contact")) or client.client_contact or user,
        from_=to,
        to=sub.header("From"),
        subscribe_call_id=sub.call_id,
        contact=f"sip:deferred-pf@{host}:{port}",
        event=EVENT,
        content_type=CONTENT_TYPE,
    )
    ex = await client.transact(stim, client.client_address)
    learnt = (await client.ut.deferred()).get("message_uri_ids", [])
    return Subscribed(
        Ids.of(sub),
        Ids.of(stim),
        None if ex.final is None else ex.final.status,
        ids,
        out.get("ut"),
        list(learnt),
    )


def _pf_answer(client) -> bytes:
    """The PF's SDP answer to a recvonly offer; no media is ever set up (NOTE 3)."""
    session = client.msrp.session()
    return client.sdp(
        "answer",
        session,
        setup="passive",
        direction="sendonly",
        accept_types=["message/cpim"],
    )


async def client_handles(
    client,
    actions: list[tuple[str, str]] | None,
    *,
    status: int = 200,
    warning: str | None = None,
    watch_retry: float | None = None,
) -> Handled:
    """Make the client send a handling INVITE for `actions` (None: all) and answer it.

    status 200: answer with an SDP answer, wait for ACK and BYE, answer the BYE. Otherwise
    answer `status` (with `warning` as a Warning header) and wait for the ACK. With
    `watch_retry`, watch that long afterwards for a second handling INVITE.
    Returns a `Handled`: identifiers of the INVITE, ACK, BYE and retry INVITE (None when the
    client did not send it) and the upper tester's answer.
    """
    out: dict = {"invite": None, "ack": None, "bye": None, "retry": None, "ut": None}
    task = asyncio.ensure_future(client.ut.deferred_handle(actions))
    try:
        invite = await unless(
            client.wait_request("INVITE", "handling INVITE from the client"), task
        )
        out["invite"] = invite
        if status == 200:
            host, port = client.core.address
            await client.respond(
                invite,
                200,
                "OK",
                body=_pf_answer(client),
                content_type="application/sdp",
                headers=[("Contact", f"<sip:deferred-pf@{host}:{port}>")],
            )
        else:
            headers = [("Warning", warning)] if warning else []
            await client.respond(invite, status, "Failure", headers=headers)

        def same_call(method):
            return lambda m: m.is_request and m.method == method and m.call_id == invite.call_id

        out["ack"] = await client.observe(same_call("ACK"), "ACK from the client", client.guard)
        if status == 200:
            out["bye"] = await client.observe(same_call("BYE"), "BYE from the client", client.guard)
            if out["bye"] is not None:
                await client.respond(out["bye"], 200, "OK")
        if watch_retry:
            retry = await client.observe(
                lambda m: m.is_request and m.method == "INVITE" and m.call_id != invite.call_id,
                "a second handling INVITE",
                watch_retry,
            )
            out["retry"] = retry
            if retry is not None:
                headers = [("Warning", warning)] if warning else []
                await client.respond(retry, status, "Failure", headers=headers)
        # Its answer is not needed to judge the wire; an error answer still ends the case.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(client.guard):
                out["ut"] = await task
    finally:
        forget(task)
    return Handled(
        Ids.of(out["invite"]),
        Ids.of(out["ack"]),
        Ids.of(out["bye"]),
        Ids.of(out["retry"]),
        out["ut"],
    )
