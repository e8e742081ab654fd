"""The fault registry's shape: one module per place, each switch in the module of its place.

`faults_registry_before_split.json` is the registry as it stood before `refsut/faults.py`
became a package (written from `REGISTRY` in its old order); the split moved switches
between modules and changed their order, nothing else. A switch added since belongs in the
fixture too (the registry and it are compared as sets).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from refsut import faults
from refsut.faults import PLACES, REGISTRY, place_of

BEFORE = json.loads((Path(__file__).parent / "faults_registry_before_split.json").read_text())


def _content(entries) -> dict[str, tuple]:
    return {e["name"]: (e["clause"], e["description"], tuple(e["also"])) for e in entries}


def test_the_assembled_registry_is_the_old_one():
    now = [
        {"name": f.name, "clause": f.clause, "description": f.description, "also": list(f.also)}
        for f in REGISTRY.values()
    ]
    assert len(now) == len(BEFORE)
    assert sorted(e["name"] for e in now) == sorted(e["name"] for e in BEFORE)
    assert {e["name"]: e["clause"] for e in now} == {e["name"]: e["clause"] for e in BEFORE}
    assert _content(now) == _content(BEFORE)


@pytest.mark.parametrize("place", list(PLACES))
def test_every_switch_sits_in_the_module_of_its_place(place):
    module = PLACES[place]
    role = place.split("_", 1)[0]
    assert module.SWITCHES, f"{place} declares no switch"
    misplaced = {f.name: place_of(f) for f in module.SWITCHES if place_of(f) != place}
    assert misplaced == {}, f"switches of {place} that the place rule puts elsewhere"
    assert all(f.name.startswith(role + ".") for f in module.SWITCHES)
    unused = [
        p for p in module.SECTIONS if not any(f.clause.startswith(p) for f in module.SWITCHES)
    ]
    assert unused == [], f"{place} declares sections no switch of it breaks"


def test_every_place_module_is_assembled():
    on_disk = {
        p.stem
        for p in Path(faults.__file__).parent.glob("*.py")
        if p.stem not in ("__init__", "switch")
    }
    assert on_disk == set(PLACES)


def test_place_of_uses_the_role_and_the_longest_clause_prefix():
    from refsut.faults import Fault

    assert place_of(Fault("pf.x", "TS-8.3.2.1.1-4", "")) == "pf_large"
    assert place_of(Fault("pf.x", "TS-8.3.2.1-4", "")) == "pf_pager"
    # the same clause, another role: the PF's answer to the client's handling INVITE
    assert place_of(Fault("pf.x", "TS-7.2.3.2.1-on488-pf", "")) == "pf_deferred"
    assert place_of(Fault("client.x", "TS-7.2.3.2.1-2", "")) == "client_deferred"
    assert place_of(Fault("client.x", "TS-8.3.2.1-4", "")) is None


def test_a_switch_declared_twice_is_refused(monkeypatch):
    twice = PLACES["pf_recording"].SWITCHES[0]
    monkeypatch.setattr(PLACES["pf_pager"], "SWITCHES", [*PLACES["pf_pager"].SWITCHES, twice])
    with pytest.raises(ValueError, match="declared twice"):
        faults._assemble()
