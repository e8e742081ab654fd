"""Fault switches: named, deliberate breakages of exactly one behaviour each.

The suite proves that a check can fail by running it against the reference SUT with the
matching switch on. Each entry names the catalogue clause the fault violates and says in one
line what changes; the PF and client code ask :meth:`Faults.on` at the single place where the
behaviour is produced, so a switch never has side effects elsewhere.

The registry is grouped by the place a switch acts, one module per role and section:

=====================  ======================================================================
client_registration    the client's REGISTER, refresh and de-registration (7.1)
client_pager           the client's pager-mode MESSAGE, sent and received (7.2.1.1, 7.2.1.3,
                       7.2.2.1, 7.2.2.3)
client_large           the client's large-mode INVITE and MSRP, sent and received (7.2.1.2,
                       7.2.2.2)
client_deferred        the client's SUBSCRIBE and handling INVITE (7.2.3)
pf_pager               the PF in terminating pager mode (8.3.2.1)
pf_large               the PF in terminating large message mode (8.3.2.1.1)
pf_recording           the PF's Message-UID in recording (8.5.1)
pf_deferred            the PF deferring, notifying and handling (8.3.2.4.x, SD 5.2.2.2 and
                       5.2.2.2.1, its answer to the handling INVITE of 7.2.3.2.1)
pf_push                the PF pushing deferred messages (8.3.2.4.1, SD 5.2.2.2.2)
robust_sip             bad SIP and CPIM input, either role (RB-sip-, RB-cpim-)
robust_handling        bad input in the PF's deferred handling (RB-xml-, RB-cpm-)
=====================  ======================================================================

The place rule, which a self-test holds every switch to: a module is named
``<role>_<place>`` and declares ``SECTIONS``, the clause-id prefixes it covers, and
``SWITCHES``, its list of :class:`Fault`. A switch ``<role>.<what>`` belongs in the module of
its role whose ``SECTIONS`` has the longest prefix of the switch's clause (:func:`place_of`).
A new switch therefore goes in the module of its role and section; a new section is a new
prefix in ``SECTIONS`` (or a new module, added to ``PLACES`` below).
"""

from __future__ import annotations

from collections.abc import Iterable
from types import ModuleType

from . import (
    client_deferred,
    client_large,
    client_pager,
    client_registration,
    pf_deferred,
    pf_large,
    pf_pager,
    pf_push,
    pf_recording,
    robust_handling,
    robust_sip,
)
from .switch import Fault

__all__ = ["PLACES", "REGISTRY", "Fault", "Faults", "UnknownFault", "place_of"]

# Every module of switches, by place name; the registry is assembled in this order.
PLACES: dict[str, ModuleType] = {
    m.__name__.rsplit(".", 1)[1]: m
    for m in (
        client_registration,
        client_pager,
        client_large,
        client_deferred,
        pf_pager,
        pf_large,
        pf_recording,
        pf_deferred,
        pf_push,
        robust_sip,
        robust_handling,
    )
}


def _assemble() -> dict[str, Fault]:
    registry: dict[str, Fault] = {}
    for place, module in PLACES.items():
        for fault in module.SWITCHES:
            if fault.name in registry:
                raise ValueError(f"fault switch {fault.name!r} declared twice (again in {place})")
            registry[fault.name] = fault
    return registry


REGISTRY: dict[str, Fault] = _assemble()


def place_of(fault: Fault) -> str | None:
    """The module a switch belongs in by the place rule (see above), or None if none fits."""
    role = fault.name.split(".", 1)[0]
    best: tuple[int, str] | None = None
    for place, module in PLACES.items():
        if place.split("_", 1)[0] != role:
            continue
        for prefix in module.SECTIONS:
            if fault.clause.startswith(prefix) and (best is None or len(prefix) > best[0]):
                best = (len(prefix), place)
    return None if best is None else best[1]


class UnknownFault(ValueError):
    def __init__(self, name: str) -> None:
        super().__init__(f"unknown fault {name!r}")
        self.name = name


class Faults:
    """The set of switches turned on for one run."""

    def __init__(self, names: Iterable[str] = ()) -> None:
        names = list(names)
        for name in names:
            if name not in REGISTRY:
                raise UnknownFault(name)
        self.active = frozenset(names)

    def on(self, name: str) -> bool:
        # A typo in the code asking for a switch must not silently read as "off".
        if name not in REGISTRY:
            raise KeyError(f"no fault switch called {name!r}")
        return name in self.active

    def __repr__(self) -> str:
        return f"Faults({sorted(self.active)})"
