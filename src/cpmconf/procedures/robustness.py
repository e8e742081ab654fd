"""Steps shared by the robustness group: raw stimuli, the liveness probe, the capture.

A robustness stimulus is input the codec would refuse, so it cannot go through
`Templates.render` (which parses every stimulus back). `render_raw` renders a template under
`scenarios/robustness/` to bytes as written, Content-Length included. An OPTIONS probe first
checks that the SUT answers at all (if not, the case is inconclusive: no answer); after the
stimulus a second probe looks whether it still answers. The case then judges, from the
capture, that nothing accepted the stimulus and that the second probe itself was answered.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from cpmconf import catalogue
from cpmconf.capture.view import View
from cpmconf.outcome import Cause, Inconclusive
from cpmconf.roles.errors import NoAnswer
from cpmconf.roles.profile import Address
from cpmconf.transport import TransportError

EVIDENCE_TEXT = 4096  # a 1.5 MiB stimulus is shown by its head only


@dataclass(frozen=True)
class RawStimulus:
    """Bytes sent as they are, with the template and clauses behind them (for the evidence)."""

    template: str
    clauses: tuple[str, ...]
    raw: bytes
    call_ids: tuple[str, ...]
    what: str

    @property
    def text(self) -> str:
        text = self.raw[:EVIDENCE_TEXT].decode("utf-8", errors="replace")
        if len(self.raw) > EVIDENCE_TEXT:
            text += f"\n... ({len(self.raw)} bytes in all)"
        return text


def render_text(scene, name: str, **context) -> str:
    """A template under scenarios/ rendered as text, never parsed back, with the base context
    of the core; recorded like every render, so its clause header is held to the case."""
    ctx = scene.core.base_context()
    ctx.update(context)
    return scene.core.templates.render_raw(name, **ctx)


def render_raw(
    scene,
    name: str,
    what: str,
    body: bytes = b"",
    *,
    content_length: str | None = None,
    terminate: bool = True,
    **context,
) -> RawStimulus:
    """Render a raw SIP stimulus: header lines in CRLF, the empty line (unless `terminate`
    is False) and `body`; Content-Length is what the caller says (default: the body's size)."""
    context.setdefault("call_id", scene.core.base_context()["call_id"])
    text = render_text(
        scene,
        name,
        content_length=str(len(body)) if content_length is None else content_length,
        **context,
    )
    lines = [ln.rstrip("\r") for ln in text.split("\n") if ln.strip()]
    head = "\r\n".join(lines).encode("utf-8")
    raw = head + b"\r\n\r\n" + body if terminate else head + b"\r\n"
    ids = tuple(ln.split(":", 1)[1].strip() for ln in lines if ln.lower().startswith("call-id:"))
    stim = RawStimulus(name, scene.core.templates.clauses_of(name), raw, ids, what)
    scene.stimuli.append(stim)
    return stim


def cpim_body(scene, sender: str, recipient: str) -> bytes:
    return scene.core.templates.body(
        "robustness/cpim.j2", cpim_from=sender, cpim_to=recipient, text="robustness probe text"
    )


def target(scene) -> tuple[Address, str, str]:
    """The SUT role that takes the SIP stimuli: (address, a URI it serves, its transport).

    The PF when the profile has one (it faces the network), else the client.
    """
    profile = scene.profile
    if profile.pf is not None:
        user = next((u.uri for u in profile.users), f"sip:robustness@{profile.pf.domain}")
        return scene.pf_address, user, profile.pf.transport
    return scene.client_address, profile.client.user, profile.client.transport


@functools.lru_cache(maxsize=1)
def _catalogue():
    return catalogue.load()


def refusal_level(clause: str) -> str | None:
    """The level at which accepting the stimulus is judged for an RB- entry: from the RFC
    rule the entry rests on (MUST: SHALL, SHOULD: SHOULD); None where no rule requires
    refusing the input, and only survival is judged."""
    return _catalogue().get(clause).refusal_level


class Run:
    """One robustness exchange: stimuli sent, the probe, the settled capture.

    Refusal is to be judged for `refusal` (default: `clause`) at the level its RFC rule gives,
    and not at all where no rule requires it or `may_accept` says the request is legal; where
    the entry rests on no rule (`suite`), it is reported with the survival finding instead
    (D-rb-suite-grading); survival for `clause` at the clause's level. The judging is the test
    case's (testcases/judging.py)."""

    def __init__(
        self,
        scene,
        clause: str,
        may_accept: bool = False,
        refusal: str | None = None,
    ):
        self.scene = scene
        self.refusal = refusal or clause
        entry = _catalogue().get(self.refusal)
        self.refusal_level = None if may_accept else entry.refusal_level
        # D-rb-suite-grading: on no rule, whether the SUT refused is reported, never judged
        self.informational = entry.refusal_informational
        # True: only liveness is judged (and, for an informational entry, reported on)
        self.may_accept = may_accept or (self.refusal_level is None and not self.informational)
        self.clause = clause
        self.sent: list[RawStimulus] = []
        self.apart: list[tuple[str, int]] = []  # local ends of stimulus-only connections
        self.stream_raw: list[bytes] = []  # raw stream stimuli: the capture may cut them apart
        self.probe = None
        self.probe_status: int | None = None  # the probe's final at our socket (None: none)
        self.notes: list[str] = []
        # What the SUT answered before the stimulus (set by `check_alive`, or by a case whose
        # setup already had the SUT answer): without it, no answer after proves nothing.
        self.answered_before: str | None = None

    async def check_alive(self, to: Address) -> None:
        """An OPTIONS probe before any stimulus: a SUT that does not answer it cannot be
        said to stop answering later, so the case ends inconclusive (no answer) here."""
        probe = self.scene.render("robustness/probe.sip.j2", target=f"sip:{to.host}:{to.port}")
        try:
            ex = await self.scene.core.transact(probe, to, retransmit=True)
        except NoAnswer as exc:
            raise Inconclusive(
                f"the SUT did not answer the OPTIONS probe sent before the stimulus ({exc}), "
                "so whether the stimulus stops it answering cannot be judged",
                cause=Cause.NO_ANSWER,
            ) from None
        final = ex.final
        self.answered_before = f"an OPTIONS probe with {final.status} {final.reason or ''}".rstrip()

    async def send(self, stim: RawStimulus, to: Address, transport: str) -> None:
        """UDP as one datagram; TCP on a connection of its own, so a broken framing there
        cannot swallow the probe."""
        self.sent.append(stim)
        ep = self.scene.core.endpoint
        if transport == "udp":
            await ep.send(stim.raw, to.tuple, "udp")
            return
        self.stream_raw.append(stim.raw)
        try:
            self.apart.append(await ep.send_apart(stim.raw, to.tuple, transport))
        except TransportError as exc:
            # The SUT closing the connection while we write is one way of refusing.
            self.notes.append(f"the SUT closed the connection during the write ({exc})")

    async def probe_sut(self, to: Address) -> None:
        """OPTIONS through the core; no status when the guard time runs out."""
        scene = self.scene
        self.probe = scene.render("robustness/probe.sip.j2", target=f"sip:{to.host}:{to.port}")
        try:
            ex = await scene.core.transact(self.probe, to, retransmit=True)
            self.probe_status = ex.final.status if ex.final is not None else None
        except NoAnswer:
            self.probe_status = None

    async def answer_first(self) -> None:
        """Wait, within the guard time, for the final response to the stimuli before the probe,
        so the probe finds the SUT after it has read the whole stimulus (a long one over TCP
        may still be arriving when a UDP probe is already there). No answer is fine."""
        ids = {i for s in self.sent for i in s.call_ids}
        try:
            await self.scene.core.wait(
                lambda m: not m.is_request and m.call_id in ids and (m.status or 0) >= 200,
                "a final response to the robustness stimulus, before the probe",
            )
        except NoAnswer:
            self.notes.append("no answer to the stimulus within the guard time")

    async def answers_to_stimuli(self) -> None:
        """Give a late error response the settle time to arrive (absence is the result)."""
        ids = {i for s in self.sent for i in s.call_ids}
        await self.scene.observe(
            lambda m: not m.is_request and m.call_id in ids and (m.status or 0) >= 200,
            "a final response to the robustness stimulus",
        )

    def close(self) -> None:
        for local in self.apart:
            self.scene.core.endpoint.close_local(local)

    async def view(self) -> View:
        """The capture barrier, minus the raw stream stimuli: the capture frames a broken
        stream in its own way, so those bytes may be recorded cut or joined differently."""
        return await self.scene.settle(unframed=self.stream_raw)

    def unparsed_from_sut(self) -> list[bytes]:
        """What the SUT sent that the capture could not parse as a message (after `view`)."""
        ports = self.scene.test_system_ports()
        return [
            r.raw
            for r in self.scene.window.records()
            if r.message is None and r.raw and r.flow[3] in ports and r.flow[1] not in ports
        ]

    async def finish(self, to: Address) -> View:
        """Probe, wait out late answers, close the stimulus connections, then settle the
        capture: the View the case judges refusal and liveness from."""
        try:
            await self.probe_sut(to)
            await self.answers_to_stimuli()
        finally:
            self.close()
        return await self.view()

    @property
    def call_ids(self) -> set[str]:
        """The Call-IDs of every stimulus sent (their answers are the SUT's to judge)."""
        return {i for s in self.sent for i in s.call_ids}

    @property
    def what(self) -> str:
        return ", ".join(s.what for s in self.sent)
