"""Checks: pure functions from captured messages to judgements, keyed by clause id.

Owns how a clause is judged from the wire. A check reads a `View` over capture records (live
or from a stored pcap; the View lives in cpmconf.capture.view and is re-exported here) and
returns a `Judgement`; it never sends, waits or looks at the test system's internal state,
so the same check judges a stored capture later. Checks that need no per-test parameters are
registered as passive, for offline judging of recorded traffic.

Every check module is imported here, so the registry (CHECKS, and DECLARED: the clauses each
check may judge) is whole as soon as any check is used, whichever modules a case imported.
"""

# Registration happens on import; a check registered in two modules (pf_large adds clauses to
# pager's) must declare both lists wherever it is called from.
from cpmconf.verdict.checks import (  # noqa: E402, F401  (imported to register)
    deferred,
    deferred_client,
    large,
    pager,
    pf_large,
    pf_passive,
    registration,
    robustness,
    routing,
)
from cpmconf.verdict.checks.base import CHECKS, DECLARED, Check, Judgement, Seen, View, register

__all__ = ["CHECKS", "DECLARED", "Check", "Judgement", "Seen", "View", "register"]
