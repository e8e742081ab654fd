"""The cases name roles, not people: renaming every user, device and domain changes no verdict.

A copy of the embedded profile gets new names for every user, device, domain and provisioned
address (and new instance URNs); the reference SUT's provisioning is made from the profile
(`cpmconf.roles.sut.refsut_config`), so it is renamed with it. A full run against the copy
must give every test and every clause the verdict of a full run against the embedded profile,
and no old name may reach the SUT's provisioning or the wire.
"""

from __future__ import annotations

import re

from cpmconf import catalogue

from .support import assert_well_formed, run_cpmconf

EMBEDDED = catalogue.REPO_ROOT / "fixtures" / "profiles" / "embedded.toml"
RUN_TIMEOUT = 120.0
# Old name -> new name, for words (users, device kinds, provisioned addresses) and the domain.
RENAMES = {
    "alice": "sender01",
    "bob": "rcpt02",
    "carol": "client03",
    "dave": "keeper04",
    "erin": "solo05",
    "frank": "puller06",
    "grace": "pushed07",
    "mallory": "banned08",
    "phone": "hs1",
    "tablet": "tb2",
    "watch": "wr3",
    "cpm-pf": "notifier",
    "adhoc": "conf-factory",
    "iwf": "gateway",
    "CPMDeferredMsgMgmt": "queue-mgmt",
}
OLD = re.compile(r"example\.net|\b(" + "|".join(map(re.escape, RENAMES)) + r")\b")
# The old people, devices and domain, wherever they might appear.
PEOPLE = re.compile(
    r"example\.net|\b(alice|bob|carol|dave|erin|frank|grace|mallory)\b|-(phone|tablet|watch)\b"
)


def renamed(text: str) -> str:
    """The embedded profile with every name replaced (TOML keys are left alone)."""
    out = []
    for line in text.splitlines(keepends=True):
        if line.lstrip().startswith("#"):
            out.append(line)
            continue
        line = line.replace("example.net", "renamed.test")
        line = re.sub(
            r'"[^"]*"',
            lambda m: re.sub(
                r"\b(" + "|".join(map(re.escape, RENAMES)) + r")\b",
                lambda w: RENAMES[w.group(1)],
                m.group(0),
            ),
            line,
        )
        # new instance URNs too: nothing may find a device by its old one
        line = line.replace("-0000-4000-8000-0000", "-1111-4111-8111-1111")
        out.append(line)
    return "".join(out)


def verdicts(doc: dict) -> tuple[dict, dict]:
    tests = {t["id"]: t["verdict"] for t in doc["tests"]}
    clauses = {c["id"]: c["verdict"] for c in doc["clauses"]}
    return tests, clauses


def test_renaming_every_identity_changes_no_verdict(tmp_path):
    text = renamed(EMBEDDED.read_text(encoding="utf-8"))
    values = "".join(re.findall(r'"[^"]*"', text))
    assert not OLD.search(values), "the renamed profile still holds an old name"
    profile = tmp_path / "renamed.toml"
    profile.write_text(text, encoding="utf-8")

    base = run_cpmconf(tmp_path / "embedded", "-q", timeout=RUN_TIMEOUT)
    other = run_cpmconf(tmp_path / "renamed", "--sut", str(profile), "-q", timeout=RUN_TIMEOUT)
    base_tests, base_clauses = verdicts(assert_well_formed(base))
    tests, clauses = verdicts(assert_well_formed(other))
    assert base.returncode == 0, base.describe()
    assert set(tests) == set(base_tests)
    changed = {t: (base_tests[t], v) for t, v in tests.items() if v != base_tests[t]}
    assert not changed, f"test verdicts changed (embedded, renamed): {changed}\n{other.describe()}"
    changed = {c: (base_clauses[c], v) for c, v in clauses.items() if v != base_clauses.get(c)}
    assert not changed, f"clause verdicts changed (embedded, renamed): {changed}"
    assert other.returncode == 0, other.describe()

    # The reference SUT was provisioned with the new names only, and no old one went on the wire.
    provisioning = (tmp_path / "renamed" / "refsut" / "refsut.json").read_text(encoding="utf-8")
    assert "renamed.test" in provisioning
    assert not PEOPLE.search(provisioning), PEOPLE.search(provisioning)
    pcaps = list((tmp_path / "renamed" / "pcaps").glob("*.pcap"))
    assert pcaps
    for pcap in pcaps:
        found = PEOPLE.search(pcap.read_bytes().decode("latin-1"))
        assert found is None, f"{pcap.name}: {found.group(0)}"
