"""Properties of the real catalogue in clauses/: size, coverage of the sources, decisions, words."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cpmconf import catalogue

SPEC_DIR = catalogue.REPO_ROOT.parent / "shared" / "spec"

# Entries per source file. A change here is deliberate: adding or removing a clause means
# updating this table in the same commit, so an accidental deletion fails.
EXPECTED_COUNTS = {
    "000_c05d0e722cb76491.txt": 16,
    "001_a8a0cfa4e173f51f.txt": 62,
    "002_a83b253c36cfe946.txt": 30,
    "003_e8ff01a0b752d545.txt": 15,
    "004_270e343cfa9dfe47.txt": 176,
    "robustness": 18,
}


@pytest.fixture(scope="module")
def cat() -> catalogue.Catalogue:
    return catalogue.load()


def test_size_and_sources(cat):
    assert len(cat) >= 180
    counts = cat.count_by_source()
    assert all(n > 0 for n in counts.values()), counts


def test_per_source_counts_are_pinned(cat):
    assert cat.count_by_source() == EXPECTED_COUNTS


def _ids(*specs: str) -> list[str]:
    """Expand 'TS-7.2.1.1-1..17' style ranges and plain ids."""
    out = []
    for spec in specs:
        m = re.fullmatch(r"(.*-)(\d+)\.\.(\d+)", spec)
        if m:
            out += [f"{m[1]}{n}" for n in range(int(m[2]), int(m[3]) + 1)]
        else:
            out.append(spec)
    return out


REQUIRED_004 = _ids(
    "TS-7.2.1.1-1..10",
    "TS-7.2.1.1-12..17",
    "TS-7.2.1.1-11-new",
    "TS-7.2.1.1-11-existing",
    "TS-7.2.1.1-8a",
    "TS-7.2.1.1-8b",
    "TS-7.2.1.1-8c",
    "TS-7.2.1.1-9a",
    "TS-7.2.1.1-9b",
    "TS-7.2.1.1-9c",
    "TS-7.2.1.1-9d",
    "TS-7.2.1.2-1..13",
    "TS-7.2.1.2-15..18",
    "TS-7.2.1.2-14-new",
    "TS-7.2.1.2-14-existing",
    "TS-7.2.1.2-17a",
    "TS-7.2.1.2-17b",
    "TS-7.2.1.2-17c",
    "TS-7.2.1.2-17d",
    "TS-7.2.1.2-17e",
    "TS-7.2.1.2-17f",
    "TS-7.2.1.2-cancel",
    "TS-7.2.1.2-on200-1..9",
    "TS-7.2.1.2-bye-1..3",
    "TS-7.2.1.3-1",
    "TS-7.2.1.3-2a",
    "TS-7.2.1.3-2b",
    "TS-7.2.1.3-2c",
    "TS-7.2.1.3-3",
    "TS-7.2.2.1-reject",
    "TS-7.2.2.1-1..7",
    "TS-7.2.2.2-reject",
    "TS-7.2.2.2-1",
    "TS-7.2.2.2-2a",
    "TS-7.2.2.2-2d",
    "TS-7.2.2.2-3",
    "TS-7.2.2.2-2c.i",
    "TS-7.2.2.2-2c.ii",
    "TS-7.2.2.2-2c.iii",
    "TS-7.2.2.2-2c.iv",
    "TS-7.2.2.2-2c.v",
    "TS-7.2.2.2-2c.vi",
    "TS-7.2.2.2-cancel",
    "TS-7.2.2.2-ack-1..5",
    "TS-7.2.2.2-chunks",
    "TS-7.2.2.2-bye-uid",
    "TS-7.2.2.3-2",
    "TS-7.2.2.3-5",
    "TS-7.2.3.1-intro",
    "TS-7.2.3.1-1a",
    "TS-7.2.3.1-1b",
    "TS-7.2.3.1-1c",
    "TS-7.2.3.1-1d",
    "TS-7.2.3.1-1e",
    "TS-7.2.3.1-1f",
    "TS-7.2.3.1-1g",
    "TS-7.2.3.1-1h",
    "TS-7.2.3.2.1-1..8",
    "TS-7.2.3.2.1-7a.i",
    "TS-7.2.3.2.1-7a.ii",
    "TS-7.2.3.2.1-7a.iii",
    "TS-7.2.3.2.1-7a.iv",
    "TS-7.2.3.2.1-on488",
    "TS-7.2.3.2.1-on200-ack",
    "TS-7.2.3.2.1-on200-bye",
    "TS-8.5.1-message-2",
    "TS-8.5.1-invite-1",
    "TS-8.5.1-send-1",
    "TS-8.5.1-send-4a.i",
    "TS-8.5.1-send-4a.ii",
    "TS-8.5.1-send-4b.i",
    "TS-8.5.1-send-4b.ii",
)


def test_every_required_004_item_has_an_entry(cat):
    missing = [i for i in REQUIRED_004 if i not in cat]
    assert not missing, missing


@pytest.mark.parametrize(
    "section", ["TS-8.3.2.1.1", "TS-8.3.2.1", "TS-8.3.2.4.x", "TS-8.3.2.4.1", "TS-7.1"]
)
def test_earlier_draft_sections_have_entries(cat, section):
    assert [c for c in cat if c.full_section == section]


def test_every_decision_is_used(cat):
    used = {d for c in cat for d in c.decision}
    assert sorted(set(cat.decisions) - used) == []


def test_supersession_points_forward(cat):
    """An earlier draft or the SD defers to a later or more concrete entry, never backwards."""
    for c in cat:
        if c.superseded_by:
            target = cat.get(c.superseded_by)
            assert target.superseded_by is None or target.superseded_by != c.id
            assert c.source != "004_270e343cfa9dfe47.txt", c.id


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


@pytest.mark.skipif(not SPEC_DIR.is_dir(), reason=f"source documents not found at {SPEC_DIR}")
def test_summaries_are_in_our_own_words(cat):
    """No summary shares a run of nine or more words with the spec text.

    Protocol tokens are facts used verbatim, so text in backticks is left out of the comparison.
    """
    n = 9
    spec_runs = set()
    for path in SPEC_DIR.glob("*.txt"):
        words = _words(path.read_text(encoding="utf-8", errors="replace"))
        spec_runs.update(tuple(words[i : i + n]) for i in range(len(words) - n + 1))
    copied = []
    for c in cat:
        words = _words(re.sub(r"`[^`]*`", " ", c.summary))
        if any(tuple(words[i : i + n]) in spec_runs for i in range(len(words) - n + 1)):
            copied.append(c.id)
    assert copied == []


def test_summaries_keep_protocol_tokens_verbatim(cat):
    icsi = "urn:urn-7:3gpp-service.ims.icsi.oma.cpm."
    mentions = [c for c in cat if "icsi" in c.summary.lower() and "cpm." in c.summary]
    assert all(icsi in c.summary for c in mentions), [
        c.id for c in mentions if icsi not in c.summary
    ]


def test_files_are_listed_in_the_readme():
    readme = (catalogue.DEFAULT_DIR / "README.md").read_text()
    for path in Path(catalogue.DEFAULT_DIR).glob("*.yaml"):
        assert f"`{path.name}`" in readme, path.name


def test_claims_are_read_from_literals_and_module_tuples(tmp_path):
    """`clause("A", "B")` and `clause(*NAMES)` with a module-level tuple both count."""
    path = tmp_path / "test_x.py"
    path.write_text(
        "import pytest\n"
        'NAMES = ("TS-1-b", "TS-1-c")\n'
        '@pytest.mark.clause("TS-1-a")\n'
        "def test_one(): pass\n"
        "@pytest.mark.clause(*NAMES)\n"
        "def test_two(): pass\n"
        "@pytest.mark.clause(*UNKNOWN)\n"
        "def test_three(): pass\n",
        encoding="utf-8",
    )
    claims = catalogue.claimed_clause_ids([path])
    assert claims == {
        "TS-1-a": ["test_x.py::test_one"],
        "TS-1-b": ["test_x.py::test_two"],
        "TS-1-c": ["test_x.py::test_two"],
    }


# Issue 14 items 5 and 6: each reading is a D- entry linked from the clauses it governs.
READING_LINKS = {
    "D-expiry-reading": {"TS-8.3.2.1-3", "SD-5.2.2.2-expiry"},
    "D-content-policy-415": {"TS-8.3.2.1-2"},
    "D-rb-content-length-short": {"RB-sip-content-length", "RB-sip-content-length-udp-excess"},
    "D-rb-feature-tag-unmatched": {"RB-sip-feature-tag-encoding"},
    "D-rb-cpim-opaque": {"RB-cpim-malformed"},
    "D-rb-malformed-should": {
        "RB-sip-invalid-uri",
        "RB-sip-invalid-uri-refused",
        "RB-sip-repeated-header",
        "RB-sip-repeated-header-refused",
    },
}


@pytest.mark.parametrize("decision", sorted(READING_LINKS))
def test_readings_are_linked_from_their_clauses(cat, decision):
    linked = {c.id for c in cat if decision in c.decision}
    assert linked == READING_LINKS[decision]


def test_every_rb_entry_links_the_rfc_ground_decision(cat):
    assert all("D-rb-rfc-ground" in c.decision for c in cat if c.doc == "RB")
