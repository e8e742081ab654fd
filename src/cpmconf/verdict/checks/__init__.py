"""Checks: pure functions from captured messages to judgements, keyed by clause id.

Owns how a clause is judged from the wire. A check reads a `View` over capture records (live
or from a stored pcap; the View lives in cpmconf.capture.view and is re-exported here) and
returns a `Judgement`; it never sends, waits or looks at the test system's internal state,
so the same check judges a stored capture later. Checks that need no per-test parameters are
registered as passive, for offline judging of recorded traffic.
"""

from cpmconf.verdict.checks.base import CHECKS, Check, Judgement, Seen, View, register

__all__ = ["CHECKS", "Check", "Judgement", "Seen", "View", "register"]
