"""Errors raised by the roles layer, each saying whose fault it is.

`StimulusError` and `SetupError` are the harness's own faults (a bad template, a bad profile,
a reference SUT that would not start). `NoAnswer` means the SUT did not answer within the guard
time; a test case decides whether that is a failure of the clause under test or leaves the
test inconclusive.
"""

from __future__ import annotations


class RoleError(Exception):
    """Base of the roles layer's errors."""


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

    def __init__(self, what: str, timeout: float):
        self.what = what
        self.timeout = timeout
        super().__init__(f"no {what} from the SUT within {timeout:g} s")


class UpperTesterError(RoleError):
    """The SUT's upper-tester interface refused a command or did not answer."""
