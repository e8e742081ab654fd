"""One fault switch: its name, the clause it breaks and what changes."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Fault:
    name: str
    clause: str
    description: str
    # Other clauses judged on the very same broken behaviour (e.g. no 403 at all means no
    # Warning in it either): `cpmconf mutants` lets these change without calling it collateral.
    also: tuple[str, ...] = ()
