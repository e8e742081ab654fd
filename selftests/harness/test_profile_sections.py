"""Optional profile sections (cpmconf.roles.profile): defaulted, or refused at load time with
the file and key, never met later as a KeyError in a case.

A client claiming `adhoc-group` needs `[extra.client].controlling_function` (the ad-hoc group
cases address the group factory provisioned to it); without the claim the section may be left
out, and `Profile.controlling_function` is then None.
"""

from __future__ import annotations

import pytest

from cpmconf.catalogue import REPO_ROOT
from cpmconf.roles.profile import ProfileError, load_profile

EMBEDDED = REPO_ROOT / "fixtures" / "profiles" / "embedded.toml"


def without_extra_client(tmp_path, claim_adhoc: bool):
    text = EMBEDDED.read_text(encoding="utf-8")
    head, sep, tail = text.partition("[extra.client]")
    assert sep, "embedded.toml no longer has an [extra.client] table"
    rest = tail.split("\n[", 1)
    text = head + ("[" + rest[1] if len(rest) > 1 else "")
    assert "adhoc-group = true" in text
    if not claim_adhoc:
        text = text.replace("adhoc-group = true", "adhoc-group = false")
    path = tmp_path / "no-extra.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_claimed_adhoc_group_without_factory_is_refused_at_load(tmp_path):
    path = without_extra_client(tmp_path, claim_adhoc=True)
    with pytest.raises(ProfileError) as info:
        load_profile(path)
    err = info.value
    assert err.file == str(path) and err.key == "extra.client.controlling_function"
    assert "adhoc-group" in err.reason


def test_unclaimed_adhoc_group_loads_without_the_section(tmp_path):
    p = load_profile(without_extra_client(tmp_path, claim_adhoc=False))
    assert p.controlling_function is None and "adhoc-group" not in p.ics


def test_embedded_profile_names_its_factory():
    assert load_profile(EMBEDDED).controlling_function == "sip:adhoc@example.net"
