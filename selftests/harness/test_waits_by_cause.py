"""Waits that end by cause (cpmconf.roles.network, upper_tester): who broke what, and at once.

A wait that expires while the SUT sent only unparseable bytes says so (`UnparseableAnswer`),
not "no response". `unless` ends a wait for the SUT as soon as what runs alongside it makes
the awaited event impossible: our own request refused with a final error (`SetupRefused`,
status and reason phrase) or the upper tester refusing its command (`UpperTesterError`, with
the HTTP status and error text), and leaves no "Task exception was never retrieved" behind.
The SUT here is a second endpoint on loopback that answers every request 405; the upper tester
a small HTTP server answering 501.
"""

from __future__ import annotations

import asyncio
import gc
import http.server
import json
import socket
import threading
import time

import pytest

from cpmconf.catalogue import REPO_ROOT
from cpmconf.codec.sip import SipMessage
from cpmconf.roles.errors import NoAnswer, SetupRefused, UnparseableAnswer, UpperTesterError
from cpmconf.roles.network import Core, Journal, forget, refusal, unless
from cpmconf.roles.profile import Address, load_profile
from cpmconf.roles.stimulus import Templates
from cpmconf.roles.upper_tester import UpperTester
from cpmconf.transport import SipEndpoint

BOUND = 10.0  # every scenario here ends far sooner; this only stops a hang
GUARD = 2.0
PROFILE = load_profile(REPO_ROOT / "fixtures" / "profiles" / "embedded.toml")


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, BOUND))


async def started_core() -> Core:
    endpoint = SipEndpoint("127.0.0.1", 0)
    await endpoint.start()
    return Core(PROFILE, Templates(), endpoint, Journal())


def response(req: SipMessage, status: int, reason: str) -> bytes:
    lines = [f"SIP/2.0 {status} {reason}"]
    for name in ("Via", "From", "To", "Call-ID", "CSeq"):
        for value in req.header_values(name):
            if name == "To" and "tag=" not in value:
                value += ";tag=refuser"
            lines.append(f"{name}: {value}")
    lines.append("Content-Length: 0")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def refusing_sut() -> tuple[SipEndpoint, asyncio.Task]:
    """An endpoint answering every request 405 Method Not Allowed."""
    sut = SipEndpoint("127.0.0.1", 0)
    await sut.start()

    async def serve() -> None:
        while True:
            item = await sut.receive(lambda i: i.message is not None, 3600)
            if item.message.is_request:
                await sut.send(response(item.message, 405, "Method Not Allowed"), item.remote)

    return sut, asyncio.ensure_future(serve())


def probe(core: Core, to: tuple[str, int]):
    return core.render("robustness/probe.sip.j2", target=f"sip:{to[0]}:{to[1]}")


def test_expiry_with_only_unparseable_bytes_says_what_came():
    async def scenario():
        core = await started_core()
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            for n in range(3):
                sock.sendto(b"garbage %d\r\n\r\n" % n, core.address)
            with pytest.raises(UnparseableAnswer) as info:
                await core.wait(lambda m: True, "200 to the REGISTER", 0.5)
            with pytest.raises(NoAnswer) as silent:  # a later wait on a silent SUT too
                await core.wait(lambda m: False, "NOTIFY", 0.2)
        finally:
            sock.close()
            await core.endpoint.close()
        return info.value, silent.value

    garbled, silent = run(scenario())
    text = str(garbled)
    assert text.startswith(
        "no parseable 200 to the REGISTER from the SUT within 0.5 s; "
        "it sent 3 unparseable message(s): "
    ), text
    assert garbled.count == 3 and garbled.first_error and garbled.cause == "no-answer"
    # the same garbage is still there: the second wait says so too, and counts it once
    assert isinstance(silent, UnparseableAnswer) and silent.count == 3


def test_expiry_on_a_silent_sut_is_a_plain_no_answer():
    async def scenario():
        core = await started_core()
        try:
            with pytest.raises(NoAnswer) as info:
                await core.wait(lambda m: True, "200 to the REGISTER", 0.2)
        finally:
            await core.endpoint.close()
        return info.value

    exc = run(scenario())
    assert type(exc) is NoAnswer and str(exc) == "no 200 to the REGISTER from the SUT within 0.2 s"


def test_a_final_error_to_our_request_ends_the_wait_for_what_it_should_cause():
    async def scenario():
        core = await started_core()
        sut, serving = await refusing_sut()
        try:
            to = Address(*sut.address)
            upstream = asyncio.ensure_future(core.transact(probe(core, sut.address), to))
            start = time.monotonic()
            with pytest.raises(SetupRefused) as info:
                await unless(
                    core.wait(lambda m: m.is_request, "an INVITE to a device", GUARD),
                    upstream,
                    refusal("the sender's INVITE", "no device leg could be judged"),
                )
            return info.value, time.monotonic() - start
        finally:
            forget(serving)
            await sut.close()
            await core.endpoint.close()

    exc, took = run(scenario())
    assert took < GUARD / 4, f"waited {took:.2f} s after the refusal"
    assert (exc.status, exc.reason_phrase, exc.cause) == (405, "Method Not Allowed", "refused")
    assert str(exc) == (
        "the SUT answered 405 Method Not Allowed to the sender's INVITE, "
        "so no device leg could be judged"
    )


def test_a_2xx_or_an_unanswered_request_lets_the_wait_run_on():
    async def after(side: asyncio.Future) -> str:
        """What the SUT sends once `side` has ended (the wait must outlive the side)."""
        loop = asyncio.get_running_loop()
        message = loop.create_future()
        side.add_done_callback(lambda _: loop.call_soon(message.set_result, "the message"))
        return await message

    async def scenario():
        async def done_ok():
            return "ok"

        side = asyncio.ensure_future(done_ok())
        got = await unless(after(side), side)
        expired = asyncio.ensure_future(_raise(NoAnswer("final response to INVITE", 1.0)))
        got2 = await unless(after(expired), expired, refusal("the INVITE", "nothing"))
        return got, got2, side.result()

    assert run(scenario()) == ("the message", "the message", "ok")


async def _raise(exc: BaseException):
    raise exc


def test_an_upper_tester_refusal_ends_the_wait_and_is_retrieved():
    errors: list[dict] = []

    async def scenario():
        asyncio.get_running_loop().set_exception_handler(lambda loop, ctx: errors.append(ctx))
        core = await started_core()
        try:
            ut = asyncio.ensure_future(_raise(UpperTesterError("POST /send: HTTP 501")))
            start = time.monotonic()
            with pytest.raises(UpperTesterError):
                try:
                    await unless(core.wait_request("MESSAGE", timeout=GUARD), ut)
                finally:
                    forget(ut)
            took = time.monotonic() - start
            # a call that failed while nobody waited on it any more is forgotten quietly
            late = asyncio.ensure_future(_raise(UpperTesterError("POST /register: HTTP 502")))
            await asyncio.wait([late])
            forget(late)
            del ut, late
            gc.collect()
            await asyncio.sleep(0)  # let the loop run any handler the collection queued
        finally:
            await core.endpoint.close()
        return took

    took = run(scenario())
    assert took < GUARD / 4
    assert not [e for e in errors if "never retrieved" in str(e.get("message"))], errors


class _Refuser(http.server.BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 (http.server's naming)
        body = json.dumps({"error": "no such command in this client"}).encode()
        self.send_response(501)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_upper_tester_error_names_http_status_and_error_text():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Refuser)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        ut = UpperTester(f"http://127.0.0.1:{server.server_address[1]}", timeout=2.0)
        with pytest.raises(UpperTesterError) as info:
            run(ut.send(to="sip:bob@example.net", text="hi"))
    finally:
        server.shutdown()
        server.server_close()
    exc = info.value
    assert str(exc) == "POST /send: HTTP 501 Not Implemented: no such command in this client"
    assert exc.status == 501 and exc.cause == "upper-tester"
