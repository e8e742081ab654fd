"""Judgements and the registry every check module adds to.

The capture `View` and its items (`Seen`) live in the capture layer
(cpmconf.capture.view) and are re-exported here. A registered check accepts only View items
as messages: `register` wraps each check so that a parsed message a step or a socket handed
over (a `SipMessage`, an `MsrpMessage`, a stimulus or an exchange) is refused with a
`HarnessError` naming the check and the argument, and a check can never cite the test
system's own message as the SUT's. A Judgement made from a View item carries its capture
index (`frame`) into the finding.

`register` also stamps every Judgement a check returns with the check's name and the clauses
it declares (`DECLARED`, the union over all its registrations), so `Expectations.judge`
refuses a judgement offered for a clause its check does not declare: the check<->clause map
(CHECKS) is what the cases use, not a list kept by hand beside them.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from dataclasses import dataclass

from cpmconf.capture.view import Seen, View
from cpmconf.codec.msrp import MsrpMessage
from cpmconf.codec.sip import SipMessage
from cpmconf.outcome import HarnessError

__all__ = [
    "CHECKS",
    "DECLARED",
    "Check",
    "Judgement",
    "Seen",
    "View",
    "judged",
    "not_arisen",
    "not_judged",
    "register",
]


@dataclass(frozen=True)
class Judgement:
    ok: bool | None  # None: precondition not met (e.g. no 403 whose Warning could be judged)
    expected: str
    actual: str
    message: bytes | None = None
    note: str | None = None
    arisen: bool = True  # False: the clause's condition never arose, so it does not apply
    frame: int | None = None  # capture index of the judged message, when one was cited
    # Stamped by `register`: the check that made this judgement and the clauses it declares.
    # None/empty: made outside a registered check (e.g. a helper), so nothing to validate.
    check: str | None = dataclasses.field(default=None, compare=False)
    declares: frozenset[str] = dataclasses.field(default=frozenset(), compare=False)


def _frame(msg) -> int | None:
    return msg.index if isinstance(msg, Seen) else None


def judged(ok: bool, expected: str, actual: str, msg: Seen | None = None, note=None) -> Judgement:
    return Judgement(
        bool(ok), expected, actual, None if msg is None else bytes(msg), note, True, _frame(msg)
    )


def not_judged(expected: str, actual: str, msg: Seen | None = None, note=None) -> Judgement:
    """A precondition of the check did not hold (e.g. no 403 whose Warning could be read):
    the clause is inconclusive, neither passed nor failed."""
    return Judgement(
        None, expected, actual, None if msg is None else bytes(msg), note, True, _frame(msg)
    )


def not_arisen(expected: str, actual: str, why: str, msg: Seen | None = None) -> Judgement:
    """The condition of a conditional clause (catalogue `when`) never arose, e.g. no device
    accepted, so nothing could be done wrong: the clause is not-applicable with `why`, never
    failed. Also what a MAY clause that was not used records."""
    return Judgement(
        None, expected, actual, None if msg is None else bytes(msg), why, False, _frame(msg)
    )


def _not_captured(value, depth: int = 0) -> str | None:
    """What is wrong with `value` as a check argument (None: nothing): a message that did not
    come from the capture View, also inside a list, tuple, set or a dict's values."""
    if isinstance(value, Seen | View | str | bytes | int | float | bool) or value is None:
        return None
    if isinstance(value, SipMessage | MsrpMessage):
        return f"a {type(value).__name__} not taken from the capture View"
    if isinstance(getattr(value, "message", None), SipMessage | MsrpMessage):
        return (
            f"a {type(value).__name__} (a stimulus or what a socket received), "
            "not a message from the capture View"
        )
    if hasattr(value, "final") and hasattr(value, "responses"):
        return f"a {type(value).__name__} (what a socket handed a step), not a capture item"
    if depth < 2 and isinstance(value, dict):
        value = list(value.values())
    if depth < 2 and isinstance(value, list | tuple | set | frozenset):
        for v in value:
            why = _not_captured(v, depth + 1)
            if why:
                return why
    return None


REFUSE_UNCAPTURED = True


def captured_only(name: str, fn: Callable) -> Callable:
    """`fn`, refusing any message argument that is not a View item (HarnessError)."""

    @functools.wraps(fn)
    def check(*args, **kwargs):
        if not REFUSE_UNCAPTURED:
            return fn(*args, **kwargs)
        for i, value in enumerate(args):
            why = _not_captured(value)
            if why:
                raise HarnessError(f"check {name} was given {why} as argument {i + 1}")
        for key, value in kwargs.items():
            why = _not_captured(value)
            if why:
                raise HarnessError(f"check {name} was given {why} as argument {key!r}")
        return fn(*args, **kwargs)

    return check


@dataclass(frozen=True)
class Check:
    clause: str
    fn: Callable[..., Judgement]
    passive: bool
    doc: str


CHECKS: dict[str, list[Check]] = {}
# check name ("module.function") -> every clause it is registered for
DECLARED: dict[str, frozenset[str]] = {}


def check_name(fn: Callable) -> str:
    """A check's name as cases and reports show it: "module.function"."""
    return f"{fn.__module__.rsplit('.', 1)[-1]}.{fn.__name__}"


def stamped(name: str, fn: Callable) -> Callable:
    """`fn`, its Judgement stamped with `name` and the clauses `name` declares (read at call
    time, so a function registered twice declares both lists)."""

    @functools.wraps(fn)
    def check(*args, **kwargs):
        result = fn(*args, **kwargs)
        if isinstance(result, Judgement):
            # A check that returns another check's judgement makes it its own.
            result = dataclasses.replace(
                result, check=name, declares=DECLARED.get(name, frozenset())
            )
        return result

    return check


def register(*clauses: str, passive: bool = False):
    """Register a check function as judging `clauses`: the only clauses a case may record
    its judgements for (Expectations.judge refuses others)."""

    def deco(fn):
        name = check_name(fn)
        DECLARED[name] = DECLARED.get(name, frozenset()) | frozenset(clauses)
        if not getattr(fn, "_cpmconf_check", False):
            fn = stamped(name, captured_only(name, fn))
            fn._cpmconf_check = True
        for c in clauses:
            CHECKS.setdefault(c, []).append(Check(c, fn, passive, (fn.__doc__ or "").strip()))
        return fn

    return deco
