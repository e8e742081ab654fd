"""Errors raised by the roles layer, each saying whose fault it is.

`StimulusError` and `SetupError` are the harness's own faults (a bad template, a bad profile,
a reference SUT that would not start). `NoAnswer` means the SUT did not answer within the guard
time; a test case decides whether that is a failure of the clause under test or leaves the
test inconclusive.
"""

from __future__ import annotations


class RoleError(Exception):
    """Base of the roles layer's errors.

    `cause` is the value of `cpmconf.verdict.Cause` the plugin reports for it (a string here,
    since the roles layer sits below the verdict layer).
    """

    cause = "harness"


class StimulusError(RoleError):
    """A send-template rendered something the codec cannot parse, or could not render at all."""

    def __init__(self, template: str, reason: str):
        self.template = template
        self.reason = reason
        super().__init__(f"template {template}: {reason}")


class SetupError(RoleError):
    """The test system could not set itself up (ports, SUT process, profile values)."""


class NoAnswer(RoleError, TimeoutError):
    """The SUT did not send what a role waited for within the guard time."""

    cause = "no-answer"

    def __init__(self, what: str, timeout: float):
        self.what = what
        self.timeout = timeout
        super().__init__(f"no {what} from the SUT within {timeout:g} s")


class UpperTesterError(RoleError):
    """The SUT's upper-tester interface refused a command or did not answer."""

    cause = "upper-tester"


class SetupRefused(RoleError):
    """The SUT answered a setup step with a final error, so what the test waited for can no
    longer happen (e.g. a 405 to the INVITE that should have reached the devices)."""

    cause = "refused"

    def __init__(self, what: str, status: int, reason_phrase: str, consequence: str = ""):
        self.what = what
        self.status = status
        self.reason_phrase = reason_phrase
        text = f"the SUT answered {status} {reason_phrase} to {what}".rstrip()
        super().__init__(f"{text}, so {consequence}" if consequence else text)


class UnparseableAnswer(NoAnswer):
    """The guard time expired while the SUT sent only bytes the codec could not parse: not
    silence, so the reason says how many came and the first parse error."""

    def __init__(self, what: str, timeout: float, count: int, first_error: str):
        super().__init__(what, timeout)
        self.count = count
        self.first_error = first_error
        self.args = (
            f"no parseable {what} from the SUT within {timeout:g} s; it sent {count} "
            f"unparseable message(s): {first_error}",
        )
