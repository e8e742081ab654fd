"""Checks: pure functions from captured messages to judgements, keyed by clause id.

Owns how a clause is judged from the wire. A check reads a `View` over capture records (live
or from a stored pcap; the View lives in cpmconf.capture.view and is re-exported here) and
returns a `Judgement`; it never sends, waits or looks at the test system's internal state,
so the same check judges a stored capture later. Checks that need no per-test parameters are
registered as passive, for offline judging of recorded traffic.

Every check module is imported here, so the registry (CHECKS, and DECLARED: the clauses each
check may judge) is whole as soon as any check is used, whichever modules a case imported.
"""

import importlib as _importlib
import pkgutil as _pkgutil

from cpmconf.verdict.checks.base import CHECKS, DECLARED, Check, Judgement, Seen, View, register

# Registration happens on import; a check registered in two modules (pf_large adds clauses to
# pager's) must declare both lists wherever it is called from, so every module is imported.
for _module in _pkgutil.iter_modules(__path__):
    _importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["CHECKS", "DECLARED", "Check", "Judgement", "Seen", "View", "register"]
