"""The preflight: is the SUT there and usable, checked once before the first case.

Owns three checks, each wait bounded by the guard time and all of them by `BOUND`:

* a PF answers an OPTIONS sent from the core (any final response will do; over UDP the
  request is retransmitted as a SIP client would, RFC 3261 17.1.2.2);
* a client's upper tester answers `GET /status` (docs/upper-tester.md);
* one test device registered at the PF, in the profile's `[pf] registration` mode, gives a
  GRUU the suite can use (direct mode: a pub-gruu paired with our `+sip.instance` in the
  REGISTER 200); the device is deregistered afterwards.

A SUT that is down, silent or answers only garbage gets one line per role naming its address,
what was sent and what came back, so the run can stop at once instead of spending every case's
guard time on it. Unparseable inbound items are taken from the core's inbox here (nobody else
waits for them, and the capture keeps them); parsed messages that are not ours stay where the
cases find them.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from cpmconf.codec.errors import CodecError
from cpmconf.codec.headers import ContactFeatures
from cpmconf.codec.sip import SipMessage
from cpmconf.roles import regevent
from cpmconf.roles.devices import pub_gruu
from cpmconf.roles.errors import NoAnswer, RoleError, UpperTesterError
from cpmconf.roles.network import Core
from cpmconf.roles.profile import Address
from cpmconf.roles.upper_tester import MANUAL, UpperTester
from cpmconf.transport import Inbound, TransportError, TransportTimeout

BOUND = 10.0  # the whole preflight; with the harness's start-up a dead SUT costs under 15 s
T1 = 0.5  # RFC 3261 timer T1: the first UDP retransmission interval
MAX_DETAIL = 240


@dataclass(frozen=True)
class Check:
    role: str  # "pf" or "client"
    name: str  # "options", "upper-tester", "registration"
    ok: bool
    detail: str

    def line(self) -> str:
        who = "PF" if self.role == "pf" else "client"
        return f"{who} {self.detail}"

    def to_json(self) -> dict:
        return {"role": self.role, "check": self.name, "ok": self.ok, "detail": self.detail}


@dataclass
class Outcome:
    checks: list[Check] = field(default_factory=list)
    elapsed: float = 0.0

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def failures(self) -> list[str]:
        """One line per failed check, at most three."""
        return [c.line() for c in self.checks if not c.ok][:3]

    def to_json(self) -> dict:
        return {
            "result": "passed" if self.ok else "failed",
            "elapsed": round(self.elapsed, 3),
            "checks": [c.to_json() for c in self.checks],
        }


def _one_line(text) -> str:
    """One printable ASCII line: a garbage answer must not write control bytes to a terminal."""
    text = " ".join(str(text).split())
    text = "".join(ch if ch.isascii() and ch.isprintable() else ascii(ch)[1:-1] for ch in text)
    return text if len(text) <= MAX_DETAIL else text[: MAX_DETAIL - 3] + "..."


def _send_failure(exc: TransportError) -> str:
    cause = exc.__cause__
    if isinstance(cause, ConnectionRefusedError):
        return "connection refused (nothing listens there)"
    if isinstance(cause, TimeoutError):
        return "the connection attempt timed out"
    return _one_line(cause or exc)


async def run(core: Core, upper_tester: str | None, guard: float, bound: float = BOUND) -> Outcome:
    """Every check that applies to the profile; the PF registration only after its OPTIONS."""
    loop = asyncio.get_running_loop()
    start = time.monotonic()
    deadline = loop.time() + bound

    def step() -> float:
        return max(0.05, min(guard, deadline - loop.time()))

    jobs = []
    if core.sut_pf is not None:
        jobs.append(options(core, core.sut_pf, core.profile.pf.transport, step()))
    if core.profile.client is not None and upper_tester:
        jobs.append(status(upper_tester, step()))
    checks = list(await asyncio.gather(*jobs))
    pf_alive = any(c.role == "pf" and c.name == "options" and c.ok for c in checks)
    if pf_alive:
        try:
            # Its steps wait a guard time each; the preflight's own bound caps them all.
            left = max(0.1, deadline - loop.time())
            checks.append(await asyncio.wait_for(registration(core, step), left))
        except TimeoutError:
            what = f"the device registration did not finish within the preflight's {bound:g} s"
            checks.append(Check("pf", "registration", False, f"{core.sut_pf}: {what}"))
    return Outcome(checks, time.monotonic() - start)


async def options(core: Core, to: Address, transport: str, bound: float) -> Check:
    """An OPTIONS from the core; ok on any final response carrying its Call-ID and CSeq."""
    stim = core.render("common/options.sip.j2", target=f"sip:{to.host}:{to.port}")
    call_id, cseq = stim.message.call_id, stim.message.cseq
    where = f"{to}/{transport}"
    unit = "datagram" if transport == "udp" else "message"

    def ours(item: Inbound) -> bool:
        if item.message is None:
            # What came back instead of SIP, from the address asked (counted, reported); bytes
            # from anywhere else (another client of the core's port) are not the PF's answer.
            return tuple(item.remote) == tuple(to.tuple)
        m = item.message
        return not m.is_request and m.call_id == call_id and m.cseq == cseq

    loop = asyncio.get_running_loop()
    deadline = loop.time() + bound
    sent, garbage, interim = 0, [], None
    next_send, interval = loop.time(), T1
    while True:
        now = loop.time()
        if now >= next_send and (sent == 0 or transport == "udp"):
            try:
                await core.endpoint.send(stim.raw, to.tuple, transport)
            except TransportError as exc:
                return Check(
                    "pf", "options", False, f"{where}: OPTIONS not sent: {_send_failure(exc)}"
                )
            sent += 1
            next_send, interval = now + interval, interval * 2
        remaining = deadline - loop.time()
        if remaining <= 0:
            break
        wait = min(remaining, next_send - loop.time()) if transport == "udp" else remaining
        try:
            item = await core.endpoint.receive(
                ours, max(wait, 0.01), what="the preflight OPTIONS answer"
            )
        except TransportTimeout:
            continue
        except TransportError as exc:
            return Check("pf", "options", False, f"{where}: {_one_line(exc)}")
        if item.message is None:
            garbage.append(item)
            continue
        m = item.message
        if (m.status or 0) < 200:
            interim = m
            continue
        ms = (loop.time() - (deadline - bound)) * 1000
        return Check(
            "pf", "options", True, f"{where}: {m.status} {m.reason} to OPTIONS ({ms:.0f} ms)"
        )
    sent_text = f"sent {sent} OPTIONS {unit}{'s' if sent != 1 else ''} from the core in {bound:g} s"
    if garbage:
        err = garbage[0].error
        why = err.detail if isinstance(err, CodecError) else str(err)
        got = f"{len(garbage)} came back, none parseable as SIP: {why}"
        return Check("pf", "options", False, _one_line(f"{where}: {sent_text}; {got}"))
    if interim is not None:
        got = f"only {interim.status} {interim.reason} came back, no final response"
        return Check("pf", "options", False, f"{where}: {sent_text}; {got}")
    return Check("pf", "options", False, f"{where}: {sent_text}; nothing came back")


async def status(url: str, bound: float) -> Check:
    if url == MANUAL:  # an operator carries out each step; nothing to ask beforehand
        return Check("client", "upper-tester", True, "manual upper tester: an operator")
    ut = UpperTester(url, timeout=bound)
    try:
        await ut.status()
    except UpperTesterError as exc:
        return Check("client", "upper-tester", False, _one_line(f"upper tester {url}: {exc}"))
    except Exception as exc:  # e.g. http.client's BadStatusLine: what came back was not HTTP
        what = f"GET /status: not an HTTP answer: {type(exc).__name__}: {exc}"
        return Check("client", "upper-tester", False, _one_line(f"upper tester {url}: {what}"))
    return Check("client", "upper-tester", True, f"upper tester {url}: GET /status answered")


def _first_device(core: Core):
    for user in core.profile.users:
        if user.registered and user.devices:
            return user, user.devices[0]
    return None, None


async def registration(core: Core, step) -> Check:
    """Register one device at the PF, judge the GRUU it gets, deregister it."""
    user, dev = _first_device(core)
    if user is None:
        return Check("pf", "registration", True, "registration not checked: no registered user")
    how = regevent.mode(core)
    where = f"{core.sut_pf}/{core.profile.pf.transport}"
    try:
        if how == "direct":
            gruu, why = await _register_direct(core, user.uri, dev, 600, step())
        else:
            # The core is the registrar and assigns the GRUU; the PF must take the registration.
            await regevent.register_device(core, user.uri, dev, 600)
            gruu, why = regevent.public_gruu(user.uri, dev.instance), ""
    except (NoAnswer, RoleError) as exc:
        return Check(
            "pf", "registration", False, _one_line(f"{where}: REGISTER of {dev.name}: {exc}")
        )
    note = ""
    try:
        if how == "direct":
            await _register_direct(core, user.uri, dev, 0, step())
        else:
            await regevent.register_device(core, user.uri, dev, 0)
    except (NoAnswer, RoleError) as exc:
        note = f"; deregistering it failed: {_one_line(exc)}"
    no_gruu_only = why.startswith("the REGISTER 200")  # registered, only the GRUU is missing
    if gruu is None and no_gruu_only and not core.profile.pf.gruu:
        return Check(
            "pf",
            "registration",
            True,
            _one_line(
                f"{where}: {dev.name} registered ({how}), no GRUU as the profile says "
                f"([pf].gruu = false): devices are reached at their contact{note}"
            ),
        )
    if gruu is None:
        hint = "; a registrar that hands out none: [pf].gruu = false" if no_gruu_only else ""
        return Check(
            "pf",
            "registration",
            False,
            _one_line(f"{where}: REGISTER of {dev.name}: {why}{hint}{note}"),
        )
    return Check(
        "pf",
        "registration",
        True,
        _one_line(f"{where}: {dev.name} registered ({how}), GRUU {gruu}{note}"),
    )


async def _register_direct(core: Core, user: str, dev, expires: int, bound: float):
    """(pub-gruu or None, why not) for a REGISTER of `dev` at the PF, as regevent sends it."""
    stim = core.render(
        "pf/register_device.sip.j2",
        user=user,
        domain=core.profile.pf.domain,
        contact=f"sip:{dev.name}@{core.host}:{core.port}",
        instance=dev.instance,
        expires=expires,
    )
    ex = await core.transact(stim, core.sut_pf, timeout=bound)
    final = ex.final
    assert final is not None  # transact returns on a final response or raises NoAnswer
    if final.status != 200:
        return None, f"the PF answered {final.status} {final.reason}"
    if not expires:
        return None, ""
    gruu = pub_gruu(final, dev.instance)
    return gruu, "" if gruu else _why_no_gruu(final, dev.instance)


def _why_no_gruu(final: SipMessage, instance: str) -> str:
    """What the REGISTER 200 lacks for the suite to address the device by its GRUU."""
    contacts = final.header_list("Contact")
    if not contacts:
        return "the REGISTER 200 carries no Contact, so no pub-gruu can be paired"
    instances = []
    for value in contacts:
        try:
            c = ContactFeatures.parse(value)
        except CodecError:
            continue
        instances.append((c.param("+sip.instance") or "").strip('"'))
    if instance not in instances:
        return (
            f"the REGISTER 200 carries no +sip.instance matching ours ({instance}), "
            "so no pub-gruu can be paired"
        )
    return f"the REGISTER 200's Contact with our +sip.instance ({instance}) has no pub-gruu"
