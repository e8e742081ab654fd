"""The manual upper tester (cpmconf.roles.upper_tester, client.upper_tester = "manual"), driven
by a scripted operator read from a file of answers.

Each command that makes the client act prints one instruction naming the user, the text and
the target, and ends at the first of: the action on the wire (a request of the right method
reaching the core; the fake device here sends it when it reads the instruction), the
operator's `done`, or the operator's `fail <why>` (an UpperTesterError with the reason); with
neither within the operator's guard time it is an UpperTesterError saying so. While an
instruction is pending the core's waits last the operator's guard (checked at every
instruction). What an operator cannot
do answers 501 without bothering them. The profile key `timers.operator` sets the guard.
"""

from __future__ import annotations

import asyncio

import pytest

from cpmconf.catalogue import REPO_ROOT
from cpmconf.roles.errors import UpperTesterError
from cpmconf.roles.network import Core, Journal
from cpmconf.roles.profile import load_profile, profile_from_dict
from cpmconf.roles.stimulus import Templates
from cpmconf.roles.upper_tester import (
    MANUAL,
    ManualUpperTester,
    ScriptedOperator,
    UpperTester,
    connect,
)
from cpmconf.transport import SipEndpoint

PROFILE = load_profile(REPO_ROOT / "fixtures" / "profiles" / "embedded.toml")
USER = "sip:carol@example.net"
TARGET = "sip:bob@example.net"
GUARD = 1.0


def request(method: str, device: SipEndpoint) -> bytes:
    host, port = device.address
    lines = [
        f"{method} {TARGET} SIP/2.0",
        f"Via: SIP/2.0/UDP {host}:{port};branch=z9hG4bKmanual{method}",
        "Max-Forwards: 70",
        f"From: <{USER}>;tag=op",
        f"To: <{TARGET}>",
        f"Call-ID: manual-{method}@{host}",
        f"CSeq: 1 {method}",
        "Content-Length: 0",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def run(script: list[str], scenario, acts: dict[str, str] | None = None):
    """`scenario(ut, operator, core)` with a scripted operator; `acts` maps a word of an
    instruction to the request method the fake device then sends to the core."""

    async def main():
        journal = Journal()
        endpoint = await SipEndpoint("127.0.0.1", 0, taps=[journal]).start()
        core = Core(PROFILE, Templates(), endpoint, journal)
        device = await SipEndpoint("127.0.0.1", 0).start()
        pending: list[asyncio.Task] = []
        guards: list[float] = []  # the core's guard when each instruction was given

        def act(text: str) -> None:
            guards.append(core.guard)
            for word, method in (acts or {}).items():
                if word in text:
                    pending.append(
                        asyncio.ensure_future(device.send(request(method, device), core.address))
                    )

        operator = ScriptedOperator(script, on_instruction=act)
        ut = ManualUpperTester(core, USER, GUARD, operator)
        try:
            await scenario(ut, operator, core)
            assert guards == [max(PROFILE.guard, GUARD)] * len(operator.instructions)
        finally:
            await asyncio.gather(*pending, return_exceptions=True)
            await device.close()
            await core.endpoint.close()

    asyncio.run(asyncio.wait_for(main(), 10.0))


def test_the_instruction_names_user_text_and_target_and_the_operator_answers(tmp_path):
    script = tmp_path / "answers"
    script.write_text("# the operator's answers, one per instruction\ndone\n")

    async def scenario(ut, operator, core):
        answer = await ut.send(to=TARGET, text="hello 7f3a")
        assert operator.instructions == [f"on carol's device, send 'hello 7f3a' to {TARGET} now"]
        assert answer["ok"] is True and answer["id"] == "manual-1"

    # the file form of the script, as `CPMCONF_OPERATOR_SCRIPT` names it
    run(ScriptedOperator.from_file(str(script)).lines, scenario)


def test_the_wire_ends_the_instruction_before_the_operator_says_anything():
    async def scenario(ut, operator, core):
        answer = await ut.register()
        assert operator.instructions == [
            "on carol's device, register now (sign in, or restart the app)"
        ]
        assert answer["call_id"].startswith("manual-REGISTER@")
        req = await core.wait_request("REGISTER", "the REGISTER the operator caused", 1.0)
        assert req.call_id == answer["call_id"]

    run(["wire"], scenario, acts={"register": "REGISTER"})


def test_the_operators_failure_is_an_upper_tester_error_with_the_reason():
    async def scenario(ut, operator, core):
        with pytest.raises(UpperTesterError, match="the operator could not do it: no contacts"):
            await ut.send(to=TARGET, text="hi")

    run(["fail: no contacts"], scenario)


def test_silence_on_both_the_wire_and_the_terminal_ends_after_the_operator_guard():
    async def scenario(ut, operator, core):
        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises(UpperTesterError, match="nothing on the wire within 1 s"):
            await ut.deregister()
        assert loop.time() - started >= GUARD
        assert core.guard == PROFILE.guard  # back once the instruction ended

    run(["wire"], scenario)


def test_what_an_operator_cannot_do_answers_501_without_an_instruction():
    async def scenario(ut, operator, core):
        for call in (
            ut.messages(),
            ut.deferred(),
            ut.send(to=TARGET, text="x", anonymous=True),
            ut.send(to=TARGET, text="y" * 2000),
            ut.call("POST", "/answer-delay", {"ms": 10}),
        ):
            with pytest.raises(UpperTesterError) as info:
                await call
            assert info.value.status == 501, str(info.value)
            assert "an operator cannot" in str(info.value)
        assert operator.instructions == []
        assert (await ut.status())["manual"] is True

    run([], scenario)


def test_manual_in_the_profile_selects_the_operator_and_its_guard():
    profile = profile_from_dict(
        {
            "name": "phone",
            "client": {"address": "127.0.0.1:5062", "user": USER, "upper_tester": MANUAL},
            "timers": {"operator": 90},
        }
    )
    assert profile.operator_guard == 90.0
    ut = connect(profile.client.upper_tester, 3.0, None, USER, profile.operator_guard)
    assert isinstance(ut, ManualUpperTester) and ut.guard == 90.0
    assert isinstance(connect("http://127.0.0.1:1", 3.0), UpperTester)
