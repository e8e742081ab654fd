"""Roles in the target profile (`[roles]`, `[pf].gruu`) and what the fixtures make of them.

- the embedded profile maps every role, and the domain role is `[pf].domain`;
- a role naming no provisioned user, or a user without what the role needs (devices, selected
  set, preference), is refused at load with the dotted key; an unknown role key is refused;
- a client-only profile may map a role to any URI (the test system plays that user);
- `Scene.role` makes a case not-applicable with "the profile maps no user to the role ...";
- `[pf].gruu = false` makes the `gruu_uri` clauses not-applicable, with the reason;
- `Scene.release` deregisters every device the test system registered, bounded, never raising;
- a run with a role unmapped and `[pf].gruu = false` ends the case needing the role
  not-applicable, and the GRUU clause not-applicable while the rest of its case passes.
"""

from __future__ import annotations

import asyncio
import copy
import re
import tomllib
from types import SimpleNamespace

import pytest
from fixtures.per_test import NO_GRUU, inapplicable

from cpmconf import catalogue
from cpmconf.procedures.scene import Scene
from cpmconf.roles import regevent
from cpmconf.roles.network import SimDevice
from cpmconf.roles.profile import ROLES, ProfileError, profile_from_dict
from cpmconf.verdict import NotApplicable

from ..conformance.support import assert_well_formed, run_cpmconf

EMBEDDED = catalogue.REPO_ROOT / "fixtures" / "profiles" / "embedded.toml"
BASE = tomllib.loads(EMBEDDED.read_text(encoding="utf-8"))


def profile(**roles):
    data = copy.deepcopy(BASE)
    for key, value in roles.items():
        if value is None:
            data["roles"].pop(key, None)
        else:
            data["roles"][key] = value
    return profile_from_dict(data, "p.toml")


def test_embedded_maps_every_role_to_a_user():
    p = profile()
    assert {k for k, _ in p.roles} == set(ROLES)
    users = {u.uri for u in p.users}
    assert all(p.role(k) in users for k in ROLES if k not in ("originator", "blocked_originator"))
    assert p.domain == p.pf.domain


@pytest.mark.parametrize(
    "key, value, why",
    [
        ("store_user", "sip:nobody@example.net", "is not one of the [[users]]"),
        ("store_user", "sip:bob@example.net", 'preference = "store"'),
        ("multi_device_recipient", "sip:erin@example.net", "two selected devices"),
        ("single_device_recipient", "sip:bob@example.net", "exactly one device"),
        ("push_deferral_user", "sip:frank@example.net", 'deferred = "push"'),
        ("pull_deferral_user", "sip:grace@example.net", 'deferred = "pull"'),
        ("blocked_originator", "sip:alice@example.net", "blocked list"),
        ("store_user", "<sip:dave@example.net>", "without <>"),
    ],
)
def test_a_role_the_user_cannot_play_is_refused(key, value, why):
    with pytest.raises(ProfileError) as e:
        profile(**{key: value})
    assert e.value.key == f"roles.{key}" and why in e.value.reason


def test_an_unknown_role_key_is_refused_with_a_hint():
    with pytest.raises(ProfileError) as e:
        profile(store_usr="sip:dave@example.net")
    assert e.value.key == "roles.store_usr" and "store_user" in e.value.reason


def test_a_client_profile_maps_roles_to_any_uri():
    data = copy.deepcopy(BASE)
    del data["pf"]
    data["users"] = []
    data["ics"] = {"pager-mode": True}
    p = profile_from_dict(data, "c.toml")
    assert p.role("store_user") == BASE["roles"]["store_user"]
    assert p.domain == BASE["client"]["user"].split("@")[1]


def _scene(prof) -> Scene:
    core = SimpleNamespace(profile=prof, journal=SimpleNamespace(mark=lambda: 0))
    return Scene(core, None, None, None, 0.5, [])


def test_an_unmapped_role_makes_the_case_not_applicable():
    sc = _scene(profile(store_user=None))
    with pytest.raises(NotApplicable) as e:
        sc.role("store_user")
    assert str(e.value).startswith("the profile maps no user to the role store-preference user")
    assert sc.role("originator") == BASE["roles"]["originator"]
    assert [d.name for d in sc.role_devices("push_deferral_user", selected=True)] == [
        d["name"]
        for u in BASE["users"]
        if u["uri"] == BASE["roles"]["push_deferral_user"]
        for d in u["devices"]
        if d["selected"]
    ]


def test_no_gruu_makes_the_gruu_uri_clauses_not_applicable():
    data = copy.deepcopy(BASE)
    data["pf"]["gruu"] = False
    no_gruu = profile_from_dict(data, "p.toml")
    cat = catalogue.load()
    ids = ["TS-8.3.2.1-4b-2", "TS-8.3.2.1-4b-2.ii"]
    assert inapplicable(ids, profile(), cat, {"TS-8.3.2.1-4b-2.ii"}) == {}
    assert inapplicable(ids, no_gruu, cat, {"TS-8.3.2.1-4b-2.ii"}) == {
        "TS-8.3.2.1-4b-2.ii": NO_GRUU
    }


def test_release_deregisters_every_device_bounded(monkeypatch):
    calls = []

    async def register_device(core, user, dev, expires):
        calls.append((user, dev.name, expires))
        if dev.name == "slow":
            await asyncio.sleep(60)  # a SUT that never answers: the bound ends it
        if dev.name == "refused":
            raise RuntimeError("403 Forbidden")

    monkeypatch.setattr(regevent, "register_device", register_device)
    prof = profile()
    devices = [SimDevice("sip:u@d", n, "<urn:uuid:x>", True) for n in ("a", "refused", "slow")]
    core = SimpleNamespace(
        profile=prof, journal=SimpleNamespace(mark=lambda: 0), devices=devices, sut_pf=("h", 1)
    )
    sc = Scene(core, None, None, None, 0.2, [])
    notes = asyncio.run(asyncio.wait_for(sc.release(), 5))
    assert calls == [("sip:u@d", n, 0) for n in ("a", "refused", "slow")]
    assert core.devices == []
    assert any("refused" in n and "403" in n for n in notes)
    assert any("did not finish within 1.2 s" in n for n in notes)


def test_unmapped_role_and_no_gruu_in_a_run(tmp_path):
    text = EMBEDDED.read_text(encoding="utf-8")
    text = re.sub(r"(?m)^store_user = .*\n", "", text)
    text = re.sub(r"(?m)^\[pf\]\n", "[pf]\ngruu = false\n", text, count=1)
    path = tmp_path / "p.toml"
    path.write_text(text, encoding="utf-8")
    run = run_cpmconf(
        tmp_path / "report",
        "--sut",
        str(path),
        "--clause",
        "TS-8.3.2.1-4a.iii-200",
        "--clause",
        "TS-8.3.2.1-4b-2",
        "-q",
        timeout=120,
    )
    doc = assert_well_formed(run)
    tests = {t["name"]: t for t in doc["tests"]}
    store = tests["test_store_preference_answers_200_without_delivery"]
    assert store["verdict"] == "not-applicable", run.describe()
    assert "the profile maps no user to the role store-preference user" in store["reason"]
    copies = tests["test_copies_go_to_each_selected_device_by_gruu"]
    assert copies["verdict"] == "pass", run.describe()
    assert copies["clause_verdicts"]["TS-8.3.2.1-4b-2.ii"] == "not-applicable", copies
    assert copies["clause_verdicts"]["TS-8.3.2.1-4b-2.i"] == "pass", copies
