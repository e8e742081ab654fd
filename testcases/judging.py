"""Judging shared by the test cases, above the procedures: what a step returned is only
identifiers, and the messages judged come from the capture View."""

from __future__ import annotations

import dataclasses

from cpmconf.capture.view import Seen, View
from cpmconf.procedures import robustness
from cpmconf.roles.profile import Address
from cpmconf.verdict.checks import robustness as checks
from cpmconf.verdict.checks import routing
from cpmconf.verdict.checks.base import Judgement
from cpmconf.verdict.core import Finding


def request_via_core(scene, view: View, requests: list[Seen], what: str, *, role: str) -> Judgement:
    """Judge D-through-core for requests the SUT in `role` ("client" or "pf") sent: the core
    as the SUT was given it, the Route it expects, and any relay in front of it."""
    core = scene.core
    return routing.request_via_core(
        view,
        requests,
        core.outbound_proxy,
        core.route_expected(role),
        what,
        service_route=role == "client",
        relayed_to=core.relay_target,
    )


class Run(robustness.Run):
    """A robustness exchange (cpmconf.procedures.robustness.Run) and its judging: refusal
    of the stimuli and survival, both from the settled capture."""

    def __init__(self, scene, expect, clause: str, may_accept: bool = False, refusal=None):
        super().__init__(scene, clause, may_accept, refusal)
        self.expect = expect
        self.survival: Finding | None = None  # the liveness finding, once judged
        self.reported: list[str] = []  # informational outcomes (D-rb-suite-grading)

    async def judge(self, to: Address) -> None:
        """Probe, wait out late answers, then judge refusal and liveness for the clause."""
        view = await self.finish(to)
        ids = self.call_ids
        finals = [
            s
            for s in view.items
            if s.from_sut
            and not s.message.is_request
            and s.message.call_id in ids
            and (s.message.status or 0) >= 200
        ]
        if not self.may_accept:
            self.judge_refusal(
                checks.refused_or_dropped(
                    finals,
                    self.what,
                    "; ".join(self.notes) or None,
                    checks.raw_finals(self.unparsed_from_sut(), ids),
                )
            )
        self.judge_liveness(view, self.what)

    def judge_refusal(self, judgement: Judgement) -> None:
        """Judge what the SUT did with the bad input at the level the entry's rule gives, or,
        where the entry rests on no rule (`suite`), only report it with the survival finding
        (D-rb-suite-grading); where no refusal is asked for at all, drop it."""
        if self.refusal_level is not None:
            self.expect.judge(self.refusal, judgement, self.refusal_level)
        elif self.informational:
            self.report(judgement)

    def report(self, judgement: Judgement) -> None:
        """Add an unjudged outcome to the survival finding's note (D-rb-suite-grading)."""
        outcome = {True: "met", False: "not met", None: "not known"}[judgement.ok]
        self.reported.append(
            f"informational, not judged (D-rb-suite-grading: no RFC rule asks it): "
            f"{judgement.expected}: {outcome} ({judgement.actual})"
        )
        if self.survival is not None:
            self._annotate()

    def _annotate(self) -> None:
        found = self.expect.findings
        at = next(i for i, f in enumerate(found) if f is self.survival)
        notes = [n for n in (self.survival.note, *self.reported) if n]
        self.survival = found[at] = dataclasses.replace(self.survival, note="; ".join(notes))
        self.reported = []

    def judge_liveness(self, view: View, what: str) -> None:
        """Judge, from the capture, that the probe after the stimulus was answered."""
        probe_final = None
        probe = self.probe
        if self.probe_status is not None and probe is not None:
            sent = view.request(probe.message.call_id, "OPTIONS", from_sut=False)
            if sent is not None:
                finals = view.finals_to(sent, from_sut=True)
                probe_final = checks.probe_answer(finals, sent)
        self.survival = self.expect.judge(
            self.clause,
            checks.still_answering(probe_final, what, self.scene.guard, self.answered_before),
        )
        if self.reported:
            self._annotate()
