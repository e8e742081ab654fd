"""Absence windows (cpmconf.procedures): one bounded window per step, no window owed for what
has already come, and each window's length the profile's named [timers] setting.

The scene here is a fake: its `observe` hands out the messages a test queued (matching the
step's predicate) and records the window each call asked for, so no test waits for real.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from types import SimpleNamespace

from cpmconf.procedures import pf_deferred
from cpmconf.procedures.robustness import RawStimulus, Run


@dataclass
class Msg:
    call_id: str
    is_request: bool = False
    status: int | None = None
    method: str | None = None
    cseq: tuple[int, str] = (1, "INVITE")
    branch: str | None = None


class FakeScene:
    def __init__(self, queued=(), late_answer=0.25, settle=0.4):
        self.profile = SimpleNamespace(late_answer=late_answer, settle=settle)
        self.queued = list(queued)
        self.windows: list[float] = []
        self.responded: list[tuple[str, int]] = []

    async def observe(self, predicate, what, duration=None):
        self.windows.append(self.profile.settle if duration is None else duration)
        for m in self.queued:
            if predicate(m):
                self.queued.remove(m)
                return m
        return None

    async def respond(self, request, status, reason, **kwargs):
        self.responded.append((request.call_id, status))


def stimulus(*call_ids: str) -> RawStimulus:
    return RawStimulus("robustness/x.sip.j2", (), b"X", tuple(call_ids), "a stimulus")


def late_answer_windows(scene: FakeScene, stimuli, finals=()) -> list[float]:
    run = Run(scene, "RB-sip-invalid-uri", may_accept=True)
    run.sent.extend(stimuli)
    run.finals.update(finals)
    asyncio.run(run.answers_to_stimuli())
    return scene.windows


def test_an_unanswered_stimulus_gets_one_late_answer_window_of_the_profile_length():
    windows = late_answer_windows(FakeScene(), [stimulus("a")])
    assert len(windows) == 1 and 0.2 < windows[0] <= 0.25  # [timers] late_answer, not settle


def test_no_window_for_a_stimulus_whose_final_already_came():
    assert late_answer_windows(FakeScene(), [stimulus("a")], finals={"a"}) == []


def test_no_window_for_stimuli_with_no_call_id_to_tie_an_answer_to():
    assert late_answer_windows(FakeScene(), [stimulus()]) == []


def test_the_window_ends_once_every_stimulus_has_its_final():
    scene = FakeScene([Msg("a", status=400), Msg("b", status=200)])
    windows = late_answer_windows(scene, [stimulus("a"), stimulus("b")])
    assert len(windows) == 2  # one final each, then nothing left to wait for
    assert all(w <= 0.25 for w in windows) and windows[1] <= windows[0]


def test_a_provisional_does_not_end_the_window():
    scene = FakeScene([Msg("a", status=100)])
    windows = late_answer_windows(scene, [stimulus("a")])
    assert len(windows) == 1 and scene.queued  # watched to its end; the 100 left alone


def test_refusing_pushes_is_one_window_not_one_per_refused_invite():
    invites = [Msg(f"push-{i}", is_request=True, method="INVITE") for i in range(3)]
    scene = FakeScene(invites)
    refused = asyncio.run(pf_deferred.refuse_pushes(scene, lambda m: True, "a push"))
    assert [i.call_id for i in refused] == ["push-0", "push-1", "push-2"]
    assert scene.responded == [(f"push-{i}", 486) for i in range(3)]
    # every call shares the one deadline: each asks only for what is left of it (a window
    # restarted per refused INVITE would ask for the whole settle time again)
    assert len(scene.windows) == 4 and scene.windows[0] <= 0.4
    assert all(b < a for a, b in zip(scene.windows, scene.windows[1:], strict=False))
