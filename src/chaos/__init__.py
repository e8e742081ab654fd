"""Chaos mode: a hostile SUT made from the reference SUT and a mangling proxy in front of it.

Owns the modes (`chaos.mangle`, pure) and the relays that apply them (`chaos.proxy`). Like the
reference SUT it may use only `cpmconf.codec` and `cpmconf.transport` of the harness (an
import-linter contract says so); the session fixtures start it when `--chaos MODE` is given.
"""

from .mangle import DESCRIPTIONS, MODES, Action, Mangler
from .proxy import ChaosProxy

__all__ = ["DESCRIPTIONS", "MODES", "Action", "ChaosProxy", "Mangler"]
