"""Target profiles (`cpmconf.roles.profile`): the embedded one loads, bad ones are refused.

Covers the worked example `fixtures/profiles/embedded.toml` (roles, users, ICS, timers) and,
through files written from mutated copies of it, that every wrong or incomplete profile is a
ProfileError naming the file and the dotted key: a missing key, a value of the wrong kind or
outside its choices, an unknown key in any table (with the known key it resembles, if one
does), an unknown ICS item, a non-loopback address without `lab = true`, a guard time out of
range, and files that are not TOML at all. Every file in fixtures/profiles/ loads, every key the
reader knows is read (a value of no accepted type is refused at that key) and documented in
fixtures/profiles/README.md, and the CLI turns a refused profile into exit 3 with the message.
"""

from __future__ import annotations

import copy
import datetime
import json
import re
import subprocess
import sys
import tomllib

import pytest

from cpmconf.catalogue import REPO_ROOT
from cpmconf.roles.profile import ICS_ITEMS, KEYS, ProfileError, load_profile, profile_from_dict

PROFILES = REPO_ROOT / "fixtures" / "profiles"
EMBEDDED = PROFILES / "embedded.toml"
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
    assert (p.guard, p.settle, p.late_answer, p.retry_watch, p.refresh_grant) == (
        3.0,
        0.1,
        0.1,
        0.2,
        1,
    )
    assert p.extra["client"]["controlling_function"] == "sip:adhoc@example.net"


def test_without_timers_every_window_keeps_its_safe_default(tmp_path):
    # An external SUT's profile that names no [timers] gets the long windows, never the
    # embedded profile's short ones.
    data = external()
    del data["timers"]
    p = load_profile(write(tmp_path, data))
    assert (p.guard, p.settle, p.late_answer, p.retry_watch, p.refresh_grant) == (
        3.0,
        0.3,
        0.3,
        1.0,
        2,
    )


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
        (lambda: _set(external(), "timers.retry_watch", 0), "timers.retry_watch", "0 and 300"),
        (lambda: _set(external(), "timers.retry_watch", 301), "timers.retry_watch", "0 and 300"),
        (lambda: _set(external(), "timers.late_answer", 5.0), "timers.late_answer", "guard"),
        (lambda: _set(external(), "timers.late_answer", -0.1), "timers.late_answer", "guard"),
        (lambda: _set(external(), "timers.refresh_grant", 0), "timers.refresh_grant", "1 and"),
        (lambda: _set(external(), "timers.refresh_grant", 1.5), "timers.refresh_grant", "int"),
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
    data["timers"].update(settle=0.0, late_answer=0.0)
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


def test_every_fixture_profile_loads():
    files = sorted(PROFILES.glob("*.toml"))
    assert EMBEDDED in files
    for path in files:
        load_profile(path)
    # The originator (once the top-level `originators`, which sat below the last [[users]]
    # header where TOML filed it under that user and the lenient reader dropped it) is a role.
    assert BASE["roles"]["originator"] == "sip:alice@example.net"
    assert load_profile(EMBEDDED).role("originator") == "sip:alice@example.net"


def _node(data: dict, schema: str) -> tuple[dict, str]:
    """The table `schema` (a KEYS name) inside `data`, made if absent, and its dotted path."""
    node, path = data, ""
    for part in schema.split(".") if schema else []:
        name = part.removesuffix("[]")
        path = f"{path}.{name}" if path else name
        if part.endswith("[]"):
            node = node.setdefault(name, [{}])[0]
            path += "[0]"
        else:
            node = node.setdefault(name, {})
    return node, path


# A near miss of a known key in each table the reader knows, and the key it should suggest.
NEAR_MISSES = {
    "": ("timer", "timers"),
    "pf": ("anonymity_alowed", "anonymity_allowed"),
    "pf.deferred": ("uri_id_xpat", "uri_id_xpath"),
    "client": ("upper-tester", "upper_tester"),
    "test_system": ("judge_routes", "judge_route"),
    "users[]": ("preferance", "preference"),
    "users[].devices[]": ("selcted", "selected"),
    "content_policy": ("allowed_type", "allowed_types"),
    "timers": ("gaurd", "guard"),
    "extra": ("clients", "client"),
    "extra.client": ("controling_function", "controlling_function"),
    "roles": ("store_usr", "store_user"),
    "hooks": ("rest", "reset"),
    "store": ("foldr", "folder"),
}


def test_near_misses_cover_every_table():
    assert set(NEAR_MISSES) == set(KEYS)


@pytest.mark.parametrize("schema", sorted(NEAR_MISSES))
def test_unknown_key_in_any_table_is_refused_with_the_key_it_resembles(tmp_path, schema):
    typo, meant = NEAR_MISSES[schema]
    data = external(extra={"client": {"controlling_function": "sip:adhoc@example.net"}})
    node, path = _node(data, schema)
    node[typo] = True
    err = rejected(tmp_path, data)
    dotted = lambda key: f"{path}.{key}" if path else key  # noqa: E731
    assert err.key == dotted(typo), str(err)
    assert err.reason.startswith(f"unknown key; did you mean {dotted(meant)!r}?"), str(err)
    assert ", ".join(sorted(KEYS[schema])) in err.reason, str(err)


@pytest.mark.parametrize("schema", sorted(KEYS))
def test_unknown_key_unlike_any_is_refused_without_a_guess(tmp_path, schema):
    data = external(extra={"client": {}})
    node, path = _node(data, schema)
    node["zzzzzz"] = 1
    err = rejected(tmp_path, data)
    assert err.key == (f"{path}.zzzzzz" if path else "zzzzzz"), str(err)
    assert err.reason.startswith("unknown key (known in "), str(err)


def test_unknown_key_in_a_later_entry_names_its_index(tmp_path):
    data = external()
    data["users"][2]["gruu_"] = True
    err = rejected(tmp_path, data)
    assert err.key == "users[2].gruu_", str(err)
    data = external()
    data["users"][0]["devices"][1]["selcted"] = False
    err = rejected(tmp_path, data)
    assert err.key == "users[0].devices[1].selcted", str(err)
    assert "did you mean 'users[0].devices[1].selected'?" in err.reason


def test_misspelt_ics_item_gets_a_suggestion(tmp_path):
    err = rejected(tmp_path, _set(external(), "ics.pager_mode", True))
    assert err.key == "ics.pager_mode"
    assert err.reason.startswith("unknown ICS item; did you mean 'ics.pager-mode'?"), str(err)


def test_deferred_namespaces_take_any_prefix(tmp_path):
    data = _set(external(), "pf.deferred.namespaces", {"q": "urn:example:q", "zz9": "urn:x"})
    p = load_profile(write(tmp_path, data))
    assert dict(p.pf.deferred.namespaces) == {"q": "urn:example:q", "zz9": "urn:x"}


@pytest.mark.parametrize(
    "make, key",
    [
        (lambda: external(originators=["sip:a@x", 7]), "originators[1]"),
        (lambda: external(faults=[True]), "faults[0]"),
        (
            lambda: _set(external(), "content_policy.allowed_types", [1]),
            "content_policy.allowed_types[0]",
        ),
        (lambda: _set(external(), "extra.client.instance", 5), "extra.client.instance"),
        (lambda: external(extra={"client": "x"}), "extra.client"),
        (lambda: _set(external(), "pf.deferred", "x"), "pf.deferred"),
    ],
)
def test_wrong_type_inside_lists_and_extra_is_named(tmp_path, make, key):
    err = rejected(tmp_path, make())
    assert err.key == key and err.reason.startswith("expected "), str(err)


def test_blocked_entry_of_the_wrong_type_is_named(tmp_path):
    data = external()
    data["users"][0]["blocked"] = ["sip:mallory@example.net", 3]
    err = rejected(tmp_path, data)
    assert (err.key, err.reason) == ("users[0].blocked[1]", "expected str, got 3")


@pytest.mark.parametrize("schema", sorted(KEYS))
def test_every_known_key_is_read(schema):
    # A date is no type any key accepts: each known key given one is refused at that key, so
    # a key listed in KEYS that the reader skipped would load here instead.
    for key in sorted(KEYS[schema]):
        data = external(extra={"client": {}})
        node, path = _node(data, schema)
        node[key] = datetime.date(2020, 1, 1)
        with pytest.raises(ProfileError) as info:
            profile_from_dict(data, "t.toml")
        full = f"{path}.{key}" if path else key
        assert info.value.key == full and "expected" in info.value.reason, str(info.value)


def _documented() -> set[tuple[str, str]]:
    """(table, key) pairs of the README's key column, with the tables named by their rows."""
    text = (PROFILES / "README.md").read_text(encoding="utf-8")
    pairs = set()
    for cell in re.findall(r"(?m)^\| `([^`]+)` \|", text):
        m = re.fullmatch(r"\[\[(\w+)\]\](?:\.(.*))?|\[([\w.]+)\](?:\.(.*))?|(.*)", cell)
        if m[1]:
            table, rest = f"{m[1]}[]", m[2] or ""
        elif m[3]:
            table, rest = m[3], m[4] or ""
        else:
            table, rest = "", m[5]
        parts = [p for p in table.split(".") if p] + [p for p in rest.split(".") if p]
        for i, part in enumerate(parts):
            parent = ".".join(parts[:i])
            pairs.add((parent, part.removesuffix("[]")))
    return pairs


def test_readme_documents_exactly_the_known_keys():
    known = {(table, key) for table, keys in KEYS.items() for key in keys}
    documented = {pair for pair in _documented() if pair[0] != "pf.deferred.namespaces"}
    assert documented - known == set(), "documented but refused by the reader"
    assert known - documented == set(), "read but not documented"


def test_cli_refuses_a_bad_profile_with_exit_3_and_the_message(tmp_path):
    text = EMBEDDED.read_text(encoding="utf-8").replace(
        'expiry_policy = "delete"', 'expiry_policy = "delete"\nuri_id_xpat = "//q:item/@ref"'
    )
    bad = tmp_path / "bad.toml"
    bad.write_text(text, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "cpmconf.cli", "run", "--report-dir", str(tmp_path / "r")]
        + ["--sut", str(bad), "-q"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 3, out
    assert f"{bad}: key 'pf.deferred.uri_id_xpat': unknown key; did you mean" in out, out
