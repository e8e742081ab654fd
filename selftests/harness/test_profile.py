"""Target profiles (`cpmconf.roles.profile`): the embedded one loads, bad ones are refused.

Covers the worked example `fixtures/profiles/embedded.toml` (roles, users, ICS, timers) and,
through files written from mutated copies of it, that every wrong or incomplete profile is a
ProfileError naming the file and the dotted key: a missing key, a value of the wrong kind or
outside its choices, an unknown ICS item or top-level key, a non-loopback address without
`lab = true`, a guard time out of range, and files that are not TOML at all.
"""

from __future__ import annotations

import copy
import json
import tomllib

import pytest

from cpmconf.catalogue import REPO_ROOT
from cpmconf.roles.profile import ICS_ITEMS, ProfileError, load_profile, profile_from_dict

EMBEDDED = REPO_ROOT / "fixtures" / "profiles" / "embedded.toml"
BASE = tomllib.loads(EMBEDDED.read_text(encoding="utf-8"))


def external(**changes) -> dict:
    """The embedded profile as an external SUT on loopback."""
    data = copy.deepcopy(BASE)
    data["embedded"] = False
    data["pf"]["address"] = "127.0.0.1:5060"
    data["client"]["address"] = "127.0.0.1:5062"
    data["client"]["upper_tester"] = "http://127.0.0.1:8080"
    data.update(changes)
    return data


def toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return (
            "{ " + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items()) + " }"
        )
    raise TypeError(value)


def write(tmp_path, data: dict, name: str = "target.toml"):
    """A TOML file for `data`: scalars first, then one table per dict (inline below that)."""
    lines = [f"{json.dumps(k)} = {toml_value(v)}" for k, v in data.items() if not _table(v)]
    for key, value in data.items():
        if isinstance(value, dict):
            lines.append(f"\n[{json.dumps(key)}]")
            lines += [f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items()]
        elif _table(value):
            for entry in value:
                lines.append(f"\n[[{json.dumps(key)}]]")
                lines += [f"{json.dumps(k)} = {toml_value(v)}" for k, v in entry.items()]
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _table(value) -> bool:
    return isinstance(value, dict) or (
        isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)
    )


def rejected(tmp_path, data: dict) -> ProfileError:
    path = write(tmp_path, data)
    with pytest.raises(ProfileError) as info:
        load_profile(path)
    err = info.value
    assert err.file == str(path)
    assert str(err).startswith(f"{path}: key {err.key!r}: ")
    return err


def test_embedded_profile_loads():
    p = load_profile(EMBEDDED)
    assert p.name == "refsut-embedded" and p.embedded and p.file == str(EMBEDDED)
    assert p.pf is not None and p.client is not None
    assert p.pf.address.host == "127.0.0.1" and p.pf.address.port == 0
    assert p.pf.transport == "udp" and p.pf.domain == "example.net"
    assert p.client.user == "sip:carol@example.net"
    bob = p.user("sip:bob@example.net")
    assert [d.selected for d in bob.devices] == [True, True, False]
    assert "sip:mallory@example.net" in bob.blocked
    assert p.user("sip:dave@example.net").preference == "store"
    claimed = {k for k, v in BASE["ics"].items() if v}
    assert p.ics == claimed and p.ics <= set(ICS_ITEMS)
    assert p.claims("pager-mode", "access-policy", "large-message-mode")
    assert (p.guard, p.settle) == (3.0, 0.3)
    assert p.extra["client"]["controlling_function"] == "sip:adhoc@example.net"


def test_written_copy_of_the_embedded_profile_loads_the_same(tmp_path):
    # Guards the helper the rejection tests rely on: an unmutated round trip is accepted.
    p = load_profile(write(tmp_path, copy.deepcopy(BASE)))
    q = load_profile(EMBEDDED)
    assert (p.users, p.ics, p.pf, p.client, p.guard) == (q.users, q.ics, q.pf, q.client, q.guard)


def test_external_loopback_profile_loads(tmp_path):
    p = load_profile(write(tmp_path, external()))
    assert not p.embedded and str(p.pf.address) == "127.0.0.1:5060"
    assert p.client.upper_tester == "http://127.0.0.1:8080"


def _without(data: dict, table: str, key: str) -> dict:
    del data[table][key]
    return data


def _set(data: dict, dotted: str, value) -> dict:
    *path, last = dotted.split(".")
    node = data
    for part in path:
        node = node.setdefault(part, {})
    node[last] = value
    return data


@pytest.mark.parametrize(
    "make, key, words",
    [
        (lambda: _without(external(), "pf", "domain"), "pf.domain", "missing"),
        (lambda: _without(external(), "pf", "address"), "pf.address", "missing"),
        (lambda: _without(external(), "client", "upper_tester"), "client.upper_tester", "missing"),
        (lambda: _without(external(), "pf", "server_identity"), "pf.server_identity", "missing"),
        (lambda: _set(external(), "pf.transport", "sctp"), "pf.transport", "'sctp' is not one of"),
        (lambda: _set(external(), "client.transport", "ws"), "client.transport", "not one of"),
        (lambda: _set(external(), "pf.address", "127.0.0.1"), "pf.address", "host:port"),
        (lambda: _set(external(), "pf.address", "127.0.0.1:70000"), "pf.address", "host:port"),
        (lambda: _set(external(), "pf.domain", 42), "pf.domain", "expected str"),
        (lambda: _set(external(), "ics.teleportation", True), "ics.teleportation", "unknown ICS"),
        (lambda: _set(external(), "ics.pager-mode", "yes"), "ics.pager-mode", "true or false"),
        (lambda: _set(external(), "pf.address", "192.0.2.10:5060"), "pf.address", "lab = true"),
        (lambda: _set(external(), "client.address", "10.1.2.3:5062"), "client.address", "lab"),
        (lambda: _set(external(), "test_system.host", "192.0.2.1"), "test_system.host", "lab"),
        (lambda: _set(external(), "timers.guard", 0), "timers.guard", "between 0 and 300"),
        (lambda: _set(external(), "timers.guard", -1.5), "timers.guard", "between 0 and 300"),
        (lambda: _set(external(), "timers.guard", 301), "timers.guard", "between 0 and 300"),
        (lambda: _set(external(), "timers.guard", "3"), "timers.guard", "expected float"),
        (lambda: _set(external(), "timers.settle", 5.0), "timers.settle", "timers.guard"),
        (lambda: external(colour="blue"), "colour", "unknown key"),
        (lambda: _set(external(), "pf.core_uri", "<sip:scscf@x;lr>"), "pf.core_uri", "sip:"),
        (lambda: _set(external(), "test_system.judge_route", 1), "test_system.judge_route", "bool"),
        (lambda: external(embedded="no"), "embedded", "expected bool"),
        (lambda: external(users=[]), "users", "PF profile needs"),
        (lambda: _set(external(), "users", [{"devices": []}]), "users[0].uri", "missing"),
        (
            lambda: _set(external(), "users", [{"uri": "sip:x@y", "preference": "burn"}]),
            "users[0].preference",
            "not one of",
        ),
        (
            lambda: _set(external(), "users", [{"uri": "sip:x@y"}, {"uri": "sip:x@y"}]),
            "users[1].uri",
            "duplicate",
        ),
        (
            lambda: _set(external(), "users", [{"uri": "sip:x@y", "devices": [{"name": "d"}]}]),
            "users[0].devices[0].instance",
            "missing",
        ),
    ],
    ids=lambda v: v if isinstance(v, str) and " " not in v and "'" not in v else None,
)
def test_bad_profile_names_file_and_key(tmp_path, make, key, words):
    err = rejected(tmp_path, make())
    assert err.key == key, str(err)
    assert words in err.reason, str(err)


def test_routing_keys_default_on_and_name_the_core(tmp_path):
    # D-through-core: Service-Route returned and the Route judged unless the profile says not
    p = load_profile(write(tmp_path, external()))
    assert (p.service_route, p.judge_route, p.pf.core_uri) == (True, True, None)
    data = _set(external(), "test_system.judge_route", False)
    data = _set(data, "test_system.service_route", False)
    p = load_profile(write(tmp_path, _set(data, "pf.core_uri", "sip:scscf.example.net;lr")))
    assert (p.service_route, p.judge_route) == (False, False)
    assert p.pf.core_uri == "sip:scscf.example.net;lr"


def test_no_role_at_all_is_rejected(tmp_path):
    data = external()
    del data["pf"], data["client"]
    assert rejected(tmp_path, data).key == "pf"


def test_lab_true_allows_remote_addresses(tmp_path):
    data = external(lab=True)
    data["pf"]["address"] = "192.0.2.10:5060"
    data["test_system"]["host"] = "192.0.2.1"
    p = load_profile(write(tmp_path, data))
    assert p.pf.address.host == "192.0.2.10" and p.test_system_host == "192.0.2.1"
    # The caller can still refuse remote targets whatever the file says.
    with pytest.raises(ProfileError) as info:
        load_profile(write(tmp_path, data, "again.toml"), allow_remote=False)
    assert info.value.key == "pf.address"


def test_boundary_guard_values_are_accepted(tmp_path):
    assert load_profile(write(tmp_path, _set(external(), "timers.guard", 300))).guard == 300.0
    data = _set(external(), "timers.guard", 0.01)
    data["timers"]["settle"] = 0.0
    assert load_profile(write(tmp_path, data, "small.toml")).guard == 0.01


def test_file_that_is_not_toml_is_rejected(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text('name = "x"\n[pf\n', encoding="utf-8")
    with pytest.raises(ProfileError) as info:
        load_profile(path)
    assert info.value.file == str(path) and "not valid TOML" in info.value.reason


def test_missing_file_is_rejected(tmp_path):
    path = tmp_path / "absent.toml"
    with pytest.raises(ProfileError) as info:
        load_profile(path)
    assert info.value.file == str(path) and "cannot read" in info.value.reason


def test_profile_from_dict_names_the_given_file():
    with pytest.raises(ProfileError) as info:
        profile_from_dict(_without(external(), "pf", "domain"), "lab-pf.toml")
    assert str(info.value) == "lab-pf.toml: key 'pf.domain': missing"
