"""The core's one dispatcher (cpmconf.roles.dispatch, network): every message the core
receives goes to exactly one handler. Our pending transaction takes its responses before any
predicate wait; among waits the oldest takes a message both match, and that overlap is
recorded, naming both; a message that came before its wait is kept for it; what no one took
is recorded (when, which window, what the core answered) and answered as before; a flood
stays bounded. The unit tests feed the dispatcher by hand; the others put a second endpoint
on loopback in front of the core as the SUT.
"""

from __future__ import annotations

import asyncio

import pytest

from cpmconf.catalogue import REPO_ROOT
from cpmconf.codec.sip import SipMessage
from cpmconf.roles import network
from cpmconf.roles.dispatch import DIALOG, EXPECTATION, TRANSACTION, Dispatcher
from cpmconf.roles.errors import NoAnswer
from cpmconf.roles.network import Core, Journal
from cpmconf.roles.profile import Address, load_profile
from cpmconf.roles.stimulus import Templates
from cpmconf.transport import Inbound, SipEndpoint, TransportTimeout

BOUND = 10.0  # every scenario ends far sooner; this only stops a hang
PROFILE = load_profile(REPO_ROOT / "fixtures" / "profiles" / "embedded.toml")
USER = PROFILE.users[0].uri


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, BOUND))


def request(method: str, uri: str, at: tuple, call_id: str, to_tag: str = "") -> bytes:
    host, port = at
    lines = [
        f"{method} {uri} SIP/2.0",
        f"Via: SIP/2.0/UDP {host}:{port};branch=z9hG4bK{call_id}",
        "Max-Forwards: 70",
        f"From: <sip:sut@{host}>;tag=s1",
        f"To: <{uri}>" + (f";tag={to_tag}" if to_tag else ""),
        f"Call-ID: {call_id}",
        f"CSeq: 1 {method}",
        "Content-Length: 0",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def answer(req: SipMessage, status: int = 200, reason: str = "OK") -> bytes:
    lines = [f"SIP/2.0 {status} {reason}"]
    for name in ("Via", "From", "Call-ID", "CSeq"):
        lines += [f"{name}: {v}" for v in req.header_values(name)]
    lines += [f"To: {req.header('To')};tag=sut", "Content-Length: 0"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def inbound(raw: bytes, now: float = 0.0) -> Inbound:
    local, remote = ("127.0.0.1", 5060), ("127.0.0.1", 5070)
    return Inbound(now, "udp", local, remote, raw, SipMessage.parse(raw), None)


def message(call_id: str) -> Inbound:
    return inbound(request("MESSAGE", USER, ("127.0.0.1", 5070), call_id))


def is_message(item: Inbound) -> bool:
    return item.message is not None and item.message.method == "MESSAGE"


class Counter:
    """A tap that signals once `expect` messages reached the core's socket."""

    def __init__(self, expect: int) -> None:
        self.expect, self.count = expect, 0
        self.done = asyncio.Event()

    def on_sent(self, *args) -> None:
        pass

    def on_received(self, *args) -> None:
        self.count += 1
        if self.count >= self.expect:
            self.done.set()


async def core_and_sut(*taps) -> tuple[Core, SipEndpoint]:
    endpoint = await SipEndpoint("127.0.0.1", 0, taps=list(taps)).start()
    core = Core(PROFILE, Templates(), endpoint, Journal())
    return core, await SipEndpoint("127.0.0.1", 0).start()


# -- the dispatcher alone ---------------------------------------------------------------------


@pytest.mark.parametrize("arrive_first", [False, True], ids=["waits-first", "messages-first"])
def test_two_overlapping_waits_each_get_their_own_message_oldest_first(arrive_first):
    async def scenario():
        outcomes = set()
        for _ in range(20):  # the same outcome every time: nothing depends on scheduling
            d = Dispatcher()
            if arrive_first:
                d.put(message("one"))
                d.put(message("two"))
            first = asyncio.ensure_future(d.receive(is_message, 1.0, "the first MESSAGE"))
            second = asyncio.ensure_future(d.receive(is_message, 1.0, "the second MESSAGE"))
            await asyncio.sleep(0)  # both registered, in this order
            if not arrive_first:
                d.put(message("one"))
                d.put(message("two"))
            got = ((await first).message.call_id, (await second).message.call_id)
            outcomes.add(got)
            # Arriving while both waited, "one" matched both: a harness defect, named.
            if not arrive_first:
                (overlap,) = d.overlaps
                assert overlap.taken_by == "the first MESSAGE"
                assert overlap.also == ("the second MESSAGE",)
                assert "MESSAGE" in overlap.message
            else:
                assert d.overlaps == []
        assert outcomes == {("one", "two")}

    run(scenario())


def test_a_transaction_takes_its_response_before_an_older_predicate_wait():
    async def scenario():
        d = Dispatcher()
        req = SipMessage.parse(request("MESSAGE", USER, ("127.0.0.1", 5060), "txn"))
        resp = inbound(answer(req))
        anything = asyncio.ensure_future(d.receive(None, 0.3, "anything at all"))
        await asyncio.sleep(0)
        with d.open(lambda i: i.message.call_id == "txn", "response to MESSAGE", TRANSACTION) as t:
            d.put(resp)
            assert (await t.next(1.0)) is resp
        with pytest.raises(TransportTimeout, match="anything at all"):
            await anything
        assert d.overlaps == []  # precedence, not a race

    run(scenario())


def test_a_dialog_takes_its_requests_before_an_expectation():
    async def scenario():
        d = Dispatcher()
        bye = inbound(request("BYE", USER, ("127.0.0.1", 5070), "dlg", to_tag="t"))
        other = message("other")
        wait = asyncio.ensure_future(d.receive(None, 1.0, "any request"))
        await asyncio.sleep(0)
        with d.open(lambda i: i.message.call_id == "dlg", "the dialog", DIALOG) as dialog:
            d.put(bye)
            d.put(other)
            assert (await dialog.next(1.0)) is bye
        assert (await wait) is other

    run(scenario())


def test_an_item_handed_to_a_cancelled_wait_is_kept_for_the_next():
    async def scenario():
        d = Dispatcher()
        with d.open(is_message, "a wait about to be cancelled", EXPECTATION):
            d.put(message("kept"))  # handed over, never read
        assert d.pending() == 1
        assert (await d.receive(is_message, 1.0, "the next wait")).message.call_id == "kept"

    run(scenario())


def test_a_predicate_that_raises_fails_its_own_wait_only():
    async def scenario():
        d = Dispatcher()

        def broken(item: Inbound) -> bool:
            raise KeyError("harness bug")

        bad = asyncio.ensure_future(d.receive(broken, 1.0, "a broken wait"))
        good = asyncio.ensure_future(d.receive(is_message, 1.0, "a good wait"))
        await asyncio.sleep(0)
        d.put(message("m"))
        with pytest.raises(KeyError):
            await bad
        assert (await good).message.call_id == "m"

    run(scenario())


def test_a_flood_of_messages_no_one_waits_for_stays_bounded():
    d = Dispatcher(max_pending=50)
    for n in range(5000):
        d.put(message(f"flood{n}"))
    assert d.pending() == 50 and d.dropped == 4950
    kept = d.drain()
    assert [i.message.call_id for i in kept[:2]] == ["flood0", "flood1"]  # the oldest kept


# -- the core on loopback ---------------------------------------------------------------------


def test_a_response_to_a_pending_transaction_never_reaches_a_predicate_wait():
    async def scenario():
        core, sut = await core_and_sut()
        try:
            to = Address(*sut.address)
            stim = core.render("robustness/probe.sip.j2", target=f"sip:{to.host}:{to.port}")
            # An older wait that would take any response at all.
            responses = asyncio.ensure_future(
                core.wait(lambda m: not m.is_request, "any response", 1.5)
            )
            await asyncio.sleep(0)
            txn = asyncio.ensure_future(core.transact(stim, to))
            req = (await sut.receive(lambda i: i.message is not None, 2.0)).message
            await sut.send(answer(req, 180, "Ringing"), core.address)
            await sut.send(answer(req), core.address)
            ex = await txn
            assert [r.status for r in ex.responses] == [180, 200]
            with pytest.raises(NoAnswer, match="any response"):
                await responses
            assert core.overlaps == []
        finally:
            await sut.close()
            await core.endpoint.close()

    run(scenario())


def test_the_core_holds_a_dialog_ahead_of_an_older_wait():
    async def scenario():
        core, sut = await core_and_sut()
        try:
            anything = asyncio.ensure_future(core.wait(lambda m: True, "any message", 1.0))
            await asyncio.sleep(0)
            with core.dialog("dlg", "the SUT's requests in our dialog") as dialog:
                bye = request("BYE", USER, sut.address, "dlg", to_tag="ours")
                await sut.send(bye, core.address)
                assert (await core.next_in(dialog, 2.0)).method == "BYE"
                with pytest.raises(NoAnswer, match="our dialog"):
                    await core.next_in(dialog, 0.1)
            await sut.send(request("MESSAGE", USER, sut.address, "other"), core.address)
            assert (await anything).call_id == "other"
        finally:
            await sut.close()
            await core.endpoint.close()

    run(scenario())


def test_a_message_that_arrives_before_its_wait_is_delivered():
    async def scenario():
        count = Counter(1)
        core, sut = await core_and_sut(count)
        try:
            await sut.send(request("MESSAGE", USER, sut.address, "early"), core.address)
            await asyncio.wait_for(count.done.wait(), 2.0)  # at the core before anyone waits
            got = await core.wait(lambda m: m.method == "MESSAGE", "the early MESSAGE", 1.0)
            assert got.call_id == "early"
            core.reset()
            assert core.unexpected == [] and core.unclaimed == []
        finally:
            await sut.close()
            await core.endpoint.close()

    run(scenario())


def test_an_unexpected_request_is_recorded_and_answered():
    async def scenario():
        count = Counter(4)
        core, sut = await core_and_sut(count)
        try:
            core.case = "selftests::a_case"
            for raw in (
                request("MESSAGE", USER, sut.address, "aor"),
                request("MESSAGE", "sip:nobody@elsewhere.invalid", sut.address, "stranger"),
                request("BYE", USER, sut.address, "dialog", to_tag="gone"),
                request("ACK", USER, sut.address, "ack", to_tag="t"),
            ):
                await sut.send(raw, core.address)
            await asyncio.wait_for(count.done.wait(), 2.0)
            core.reset()
            await core.answer_unclaimed()
            got = {}
            for _ in range(3):
                m = (await sut.receive(lambda i: i.message is not None, 2.0)).message
                got[m.call_id] = m.status
            assert got == {"aor": 480, "stranger": 404, "dialog": 481}
            assert len(core.unexpected) == 4
            answers = sorted((r.message.split()[0], r.answer) for r in core.unexpected)
            assert answers == [
                ("ACK", None),
                ("BYE", "481 Call/Transaction Does Not Exist"),
                ("MESSAGE", "404 Not Found"),
                ("MESSAGE", "480 Temporarily Unavailable"),
            ]
            assert {r.window for r in core.unexpected} == {"selftests::a_case"}
            for r in core.unexpected:
                assert r.time > 0 and r.remote == f"{sut.address[0]}:{sut.address[1]}"
                assert set(r.to_json()) >= {"time", "window", "message", "answer"}
            # the next window is numbered when no one names it
            await sut.send(request("OPTIONS", USER, sut.address, "later"), core.address)
            count.expect, count.count = 1, 0
            count.done.clear()
            await asyncio.wait_for(count.done.wait(), 2.0)
            core.reset()
            assert core.unexpected[-1].window == "window 1"
        finally:
            await sut.close()
            await core.endpoint.close()

    run(scenario())


def test_a_flood_at_the_core_stays_bounded_and_its_records_too(monkeypatch):
    monkeypatch.setattr(network, "MAX_UNEXPECTED", 10)

    async def scenario():
        count = Counter(200)
        core, sut = await core_and_sut(count)
        core.dispatcher.max_pending = 30
        try:
            # over TCP: a datagram burst this size may overrun the kernel's buffer instead
            for n in range(200):
                raw = request("ACK", USER, sut.address, f"f{n}", "t")
                await sut.send(raw, core.address, "tcp")
            await asyncio.wait_for(count.done.wait(), 3.0)
            assert core.dispatcher.pending() == 30
            assert core.endpoint.dropped == 170
            core.reset()
            assert len(core.unexpected) == 10 and core.unexpected_overflow == 20
            assert core.dispatcher.pending() == 0
        finally:
            await sut.close()
            await core.endpoint.close()

    run(scenario())
