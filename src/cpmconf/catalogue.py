"""The clause catalogue: loading, validation and queries.

Owns the one loader of `clauses/*.yaml`. Everything else (test-case markers, verdicts,
reports, the `cpmconf clauses` command) goes through `load()`, so a catalogue that does not
validate stops every consumer with the same error naming the file, the entry and the key.
This module sits below every other layer and imports nothing else from cpmconf.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

DATA_ENV = "CPMCONF_DATA"


class DataNotFound(FileNotFoundError):
    """A file or folder of the suite's data is missing where the data root says it is."""


def data_root() -> Path:
    """The folder holding the suite's data: clauses/, scenarios/, testcases/, fixtures/.

    ``$CPMCONF_DATA`` when set; else the source checkout this package runs from (src/cpmconf
    sits two folders below it, as in an editable install). The wheel packages the code under
    src/ only, so an installed package needs ``CPMCONF_DATA`` pointing at a checkout.
    """
    env = os.environ.get(DATA_ENV)
    return Path(env).expanduser().resolve() if env else Path(__file__).resolve().parents[2]


def data_path(*parts: str) -> Path:
    """A file or folder of the suite's data; :class:`DataNotFound` names the path looked at."""
    root = data_root()
    path = root.joinpath(*parts)
    if not path.exists():
        where = f"${DATA_ENV}" if os.environ.get(DATA_ENV) else "this package's checkout"
        raise DataNotFound(
            f"cpmconf data not found: {path} does not exist (data root {root}, from {where}); "
            f"set {DATA_ENV} to a cpmconf checkout"
        )
    return path


# Kept for the callers that build paths at import time; new code should call data_path(),
# which says what is missing.
REPO_ROOT = data_root()
DEFAULT_DIR = REPO_ROOT / "clauses"
VOCABULARY_FILE = "vocabulary.yaml"
DECISIONS_FILE = "decisions.yaml"
# TS and SD are the spec documents; RB is the suite's own robustness requirements (SIP/MSRP
# input a SUT cannot parse), which no spec section states but every SUT must survive.
DOC_KINDS = ("TS", "SD", "RB")

ENTRY_KEYS = (
    "id",
    "source",
    "section",
    "title",
    "level",
    "role",
    "summary",
    "when",
    "observable",
    "testable",
    "reason",
    "conditions",
    "decision",
    "superseded_by",
)
_REQUIRED_TEXT = ("id", "source", "section", "title", "level", "role", "summary", "observable")
# Robustness (RB) entries only: the RFC rule the entry rests on and what that rule says about
# refusing the input (issue 14 item 6). MUST: accepting it fails (SHALL); SHOULD: accepting it
# is non-strict; survival: no rule requires refusing it, so only the SUT's survival is judged;
# suite: no RFC rule requires refusing it either, and the suite's own wish that it be refused
# is reported as information on the survival finding, never judged (D-rb-suite-grading);
# security: the answer is not judged, but the entry states a security property of its own
# (what the SUT must not do with the input, and why) judged at the entry's level. The SUT's
# survival (it still answers afterwards) is always judged at the entry's own level.
RB_KEYS = ("rule", "rule_level")
RULE_LEVELS = ("MUST", "SHOULD", "survival", "suite", "security")
# The level at which refusal is judged, per rule level (None: refusal is not judged).
REFUSAL_LEVEL = {
    "MUST": "SHALL",
    "SHOULD": "SHOULD",
    "survival": None,
    "suite": None,
    "security": None,
}
# Rule levels whose refusal is reported, not judged (D-rb-suite-grading).
INFORMATIONAL_REFUSAL = ("suite",)
_DECISION_KEYS = {"point", "reading", "reason"}
_DECISION_OPTIONAL = {"override"}


class CatalogueError(Exception):
    """The catalogue does not validate. `problems` lists each one as file, entry, key, message."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        lines = [str(p) for p in problems[:50]]
        if len(problems) > 50:
            lines.append(f"... and {len(problems) - 50} more")
        super().__init__(f"{len(problems)} catalogue problem(s):\n  " + "\n  ".join(lines))


@dataclass(frozen=True)
class Problem:
    file: str
    entry: str
    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: entry {self.entry!r}: key {self.key!r}: {self.message}"


@dataclass(frozen=True)
class Decision:
    id: str
    point: str
    reading: str
    reason: str
    override: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "point": self.point,
            "reading": self.reading,
            "reason": self.reason,
            "override": self.override,
        }


@dataclass(frozen=True)
class Clause:
    id: str
    source: str
    section: str
    title: str
    level: str
    role: str
    summary: str
    when: str | None
    observable: str
    testable: bool
    reason: str | None
    conditions: tuple[str, ...]
    decision: tuple[str, ...]
    superseded_by: str | None
    file: str = field(compare=False, default="")
    doc: str = field(compare=False, default="TS")
    rule: str | None = None  # RB entries: the RFC rule they rest on (see RB_KEYS)
    rule_level: str | None = None

    @property
    def refusal_level(self) -> str | None:
        """RB entries: the level at which accepting the bad input is judged (None: only
        survival is judged)."""
        return REFUSAL_LEVEL[self.rule_level] if self.rule_level else None

    @property
    def refusal_informational(self) -> bool:
        """RB entries on no rule (`suite`): whether the SUT refused is reported with the
        survival finding, never judged (D-rb-suite-grading)."""
        return self.rule_level in INFORMATIONAL_REFUSAL

    @property
    def full_section(self) -> str:
        """Section with its document prefix, e.g. `TS-7.2.1.1`; what `--section` matches."""
        return f"{self.doc}-{self.section}"

    def in_section(self, prefix: str) -> bool:
        """True if the clause's section is `prefix` or lies below it (dot-component aware,
        case-insensitive, with or without the document: `TS-7.2.3`, `ts-7.2.3`, `7.2.3`)."""
        prefix = prefix.strip().lower()
        for candidate in (self.full_section.lower(), self.section.lower()):
            if candidate == prefix or candidate.startswith(prefix + "."):
                return True
        return False

    def matches_prefix(self, prefix: str) -> bool:
        """What `--clause PREFIX` selects: a prefix of the id, with or without the document
        (`8.3.2.1-4b` for `TS-8.3.2.1-4b...`), or a section as `cpmconf clauses --section`
        takes it; case-insensitive."""
        p = prefix.strip().lower()
        if not p:
            return False
        cid = self.id.lower()
        return cid.startswith(p) or cid.startswith(f"{self.doc.lower()}-{p}") or self.in_section(p)

    def to_json(self, decisions: dict[str, Decision] | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {key: getattr(self, key) for key in ENTRY_KEYS}
        out["conditions"] = list(self.conditions)
        out["decision"] = [
            decisions[d].to_json() if decisions and d in decisions else {"id": d}
            for d in self.decision
        ]
        if self.rule_level is not None:
            out["rule"] = self.rule
            out["rule_level"] = self.rule_level
        out["file"] = self.file
        return out


@dataclass(frozen=True)
class Vocabulary:
    sources: dict[str, str]  # file name -> document kind (TS or SD)
    levels: tuple[str, ...]
    roles: dict[str, str]
    ics: dict[str, str]
    untestable_reasons: dict[str, str]
    # file name -> the document's human title (reports show it, the file name as a detail)
    titles: dict[str, str] = field(default_factory=dict)

    def title_of(self, source: str) -> str:
        return self.titles.get(source) or source


@dataclass
class Catalogue:
    clauses: dict[str, Clause]
    decisions: dict[str, Decision]
    vocabulary: Vocabulary
    directory: Path

    def __iter__(self) -> Iterator[Clause]:
        return iter(self.clauses.values())

    def __len__(self) -> int:
        return len(self.clauses)

    def __contains__(self, clause_id: object) -> bool:
        return clause_id in self.clauses

    def get(self, clause_id: str) -> Clause:
        try:
            return self.clauses[clause_id]
        except KeyError:
            raise KeyError(f"unknown clause id {clause_id!r}") from None

    def select(
        self,
        role: str | None = None,
        level: str | None = None,
        section: str | None = None,
        testable: bool | None = None,
    ) -> list[Clause]:
        out = []
        for c in self:
            if role and c.role != role:
                continue
            if level and c.level != level.upper():
                continue
            if section and not c.in_section(section):
                continue
            if testable is not None and c.testable != testable:
                continue
            out.append(c)
        return out

    def count_by_source(self) -> dict[str, int]:
        counts = dict.fromkeys(self.vocabulary.sources, 0)
        for c in self:
            counts[c.source] += 1
        return counts

    def lineage(self, clause_id: str) -> list[str]:
        """The chain from a clause to the entry that finally governs it."""
        chain = [clause_id]
        while (nxt := self.clauses[chain[-1]].superseded_by) and nxt not in chain:
            chain.append(nxt)
        return chain


# libyaml's safe loader when PyYAML was built with it: the catalogue loads about 7 times
# faster (a fixed cost of every run and every judge); the pure-Python one otherwise.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _read_yaml(path: Path, problems: list[Problem]) -> Any:
    try:
        with path.open(encoding="utf-8") as fh:
            return yaml.load(fh, Loader=_LOADER)
    except (OSError, yaml.YAMLError) as exc:
        problems.append(Problem(path.name, "-", "-", f"cannot read YAML: {exc}"))
        return None


def _load_vocabulary(directory: Path, problems: list[Problem]) -> Vocabulary | None:
    path = directory / VOCABULARY_FILE
    data = _read_yaml(path, problems)
    if not isinstance(data, dict):
        problems.append(Problem(VOCABULARY_FILE, "-", "-", "must be a mapping"))
        return None
    missing = [
        k for k in ("sources", "levels", "roles", "ics", "untestable_reasons") if k not in data
    ]
    if missing:
        problems.append(Problem(VOCABULARY_FILE, "-", ",".join(missing), "missing section(s)"))
        return None
    sources = {}
    titles = {}
    for name, info in (data["sources"] or {}).items():
        if isinstance(info, dict) and info.get("title"):
            titles[name] = str(info["title"])
        doc = (info or {}).get("doc") if isinstance(info, dict) else None
        if doc not in DOC_KINDS:
            problems.append(
                Problem(VOCABULARY_FILE, name, "doc", f"must be one of {', '.join(DOC_KINDS)}")
            )
            continue
        sources[name] = doc
    return Vocabulary(
        sources=sources,
        levels=tuple(data["levels"]),
        roles=dict(data["roles"]),
        ics=dict(data["ics"]),
        untestable_reasons=dict(data["untestable_reasons"]),
        titles=titles,
    )


def _load_decisions(directory: Path, problems: list[Problem]) -> dict[str, Decision]:
    data = _read_yaml(directory / DECISIONS_FILE, problems)
    if not isinstance(data, dict):
        problems.append(Problem(DECISIONS_FILE, "-", "-", "must be a mapping of decision ids"))
        return {}
    out = {}
    for did, body in data.items():
        if not isinstance(body, dict):
            problems.append(Problem(DECISIONS_FILE, did, "-", "must be a mapping"))
            continue
        keys = set(body)
        for k in sorted(_DECISION_KEYS - keys):
            problems.append(Problem(DECISIONS_FILE, did, k, "missing"))
        for k in sorted(keys - _DECISION_KEYS - _DECISION_OPTIONAL):
            problems.append(Problem(DECISIONS_FILE, did, k, "unknown key"))
        if _DECISION_KEYS <= keys:
            out[did] = Decision(
                did, body["point"], body["reading"], body["reason"], body.get("override")
            )
    return out


def _check_entry(
    raw: Any,
    fname: str,
    vocab: Vocabulary,
    decisions: dict[str, Decision],
    problems: list[Problem],
) -> Clause | None:
    if not isinstance(raw, dict):
        problems.append(Problem(fname, "?", "-", "entry is not a mapping"))
        return None
    eid = str(raw.get("id") or "?")
    bad = len(problems)

    def fail(key: str, msg: str) -> None:
        problems.append(Problem(fname, eid, key, msg))

    for key in ENTRY_KEYS:
        if key not in raw:
            fail(key, "missing")
    robustness = str(raw.get("source")) == "robustness"
    allowed = set(ENTRY_KEYS) | (set(RB_KEYS) if robustness else set())
    for key in sorted(set(raw) - allowed):
        fail(key, "unknown key" if key not in RB_KEYS else "only robustness (RB) entries have it")
    if robustness:
        for key in RB_KEYS:
            if not isinstance(raw.get(key), str) or not raw[key].strip():
                fail(key, "a robustness entry names its RFC rule and the rule's level")
        if isinstance(raw.get("rule_level"), str) and raw["rule_level"] not in RULE_LEVELS:
            fail("rule_level", f"must be one of {', '.join(RULE_LEVELS)}")
        elif (raw.get("rule_level") == "SHOULD") != (raw.get("level") == "SHOULD"):
            # survival is a SHALL, so a SHOULD refusal is an entry of its own
            fail("level", "an entry is SHOULD exactly when its rule_level is SHOULD")
    for key in _REQUIRED_TEXT:
        if key in raw and (not isinstance(raw[key], str) or not raw[key].strip()):
            fail(key, "must be a non-empty string")
    if len(problems) > bad:
        return None

    if raw["source"] not in vocab.sources:
        fail("source", f"{raw['source']!r} is not a source listed in vocabulary.yaml")
    if raw["level"] not in vocab.levels:
        fail("level", f"unknown level {raw['level']!r} (known: {', '.join(vocab.levels)})")
    if raw["role"] not in vocab.roles:
        fail("role", f"unknown role {raw['role']!r} (known: {', '.join(vocab.roles)})")
    if raw["when"] is not None and not (isinstance(raw["when"], str) and raw["when"].strip()):
        fail("when", "must be null or a non-empty string")
    if not isinstance(raw["testable"], bool):
        fail("testable", "must be true or false")
    elif raw["testable"]:
        if raw["reason"] is not None:
            fail("reason", "must be null when testable is true")
    else:
        reason = raw["reason"]
        category = reason.split(":", 1)[0].strip() if isinstance(reason, str) else None
        if category not in vocab.untestable_reasons:
            fail(
                "reason",
                "an untestable clause needs '<category>: <why>' with a category from "
                f"{', '.join(vocab.untestable_reasons)}",
            )
    for key, known, what in (
        ("conditions", vocab.ics, "ICS item"),
        ("decision", decisions, "decision id"),
    ):
        value = raw[key]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            fail(key, f"must be a list of {what}s")
        elif known is not None:
            for v in value:
                if v not in known:
                    fail(key, f"unknown {what} {v!r}")
    sup = raw["superseded_by"]
    if sup is not None and not isinstance(sup, str):
        fail("superseded_by", "must be null or a clause id")
    if len(problems) > bad:
        return None
    doc = vocab.sources[raw["source"]]
    if not eid.startswith(f"{doc}-{raw['section']}-"):
        fail("id", f"must start with '{doc}-{raw['section']}-' (document and section)")
        return None
    return Clause(
        id=eid,
        source=raw["source"],
        section=raw["section"],
        title=raw["title"],
        level=raw["level"],
        role=raw["role"],
        summary=" ".join(raw["summary"].split()),
        when=raw["when"],
        observable=raw["observable"],
        testable=raw["testable"],
        reason=raw["reason"],
        conditions=tuple(raw["conditions"]),
        decision=tuple(raw["decision"]),
        superseded_by=sup,
        file=fname,
        doc=doc,
        rule=raw.get("rule"),
        rule_level=raw.get("rule_level"),
    )


def unmatched_prefixes(catalogue: Catalogue, prefixes: Iterable[str]) -> str | None:
    """One line naming each `--clause` prefix that selects no clause, each with the closest
    id or section as a did-you-mean; None when every prefix selects something."""
    import difflib

    bad = [p for p in prefixes if not any(c.matches_prefix(p) for c in catalogue)]
    if not bad:
        return None
    names: dict[str, str] = {}
    for c in catalogue:
        for name in (c.id, c.full_section):
            names.setdefault(name.lower(), name)
    parts = []
    for p in bad:
        close = difflib.get_close_matches(p.strip().lower(), list(names), n=1, cutoff=0.5)
        hint = f"; did you mean {names[close[0]]!r}?" if close else ""
        parts.append(f"--clause {p!r} matches no clause of the catalogue{hint}")
    return "; ".join(parts) + " (`cpmconf clauses` lists every id and section)"


def catalogue_dir() -> Path:
    return Path(os.environ.get("CPMCONF_CLAUSES") or data_root() / "clauses")


def load(directory: Path | str | None = None) -> Catalogue:
    """Load and validate the catalogue; raise CatalogueError listing every problem found."""
    directory = Path(directory) if directory is not None else catalogue_dir()
    problems: list[Problem] = []
    if not directory.is_dir():
        why = f"catalogue folder not found (set CPMCONF_CLAUSES, or {DATA_ENV} to a checkout)"
        raise CatalogueError([Problem(str(directory), "-", "-", why)])
    vocab = _load_vocabulary(directory, problems)
    decisions = _load_decisions(directory, problems)
    if vocab is None:
        raise CatalogueError(problems)
    clauses: dict[str, Clause] = {}
    files = sorted(
        p for p in directory.glob("*.yaml") if p.name not in (VOCABULARY_FILE, DECISIONS_FILE)
    )
    if not files:
        problems.append(Problem(str(directory), "-", "-", "no clause files"))
    for path in files:
        data = _read_yaml(path, problems)
        if data is None:
            continue
        if not isinstance(data, list):
            problems.append(Problem(path.name, "-", "-", "a clause file must be a YAML list"))
            continue
        for raw in data:
            clause = _check_entry(raw, path.name, vocab, decisions, problems)
            if clause is None:
                continue
            if clause.id in clauses:
                other = clauses[clause.id].file
                problems.append(
                    Problem(path.name, clause.id, "id", f"duplicate id (also in {other})")
                )
                continue
            clauses[clause.id] = clause
    for c in clauses.values():
        if c.superseded_by is not None:
            if c.superseded_by not in clauses:
                problems.append(
                    Problem(
                        c.file, c.id, "superseded_by", f"target {c.superseded_by!r} does not exist"
                    )
                )
            elif c.superseded_by == c.id:
                problems.append(Problem(c.file, c.id, "superseded_by", "names itself"))
    if problems:
        raise CatalogueError(problems)
    return Catalogue(clauses=clauses, decisions=decisions, vocabulary=vocab, directory=directory)


def claimed_clause_ids(paths: Iterable[Path]) -> dict[str, list[str]]:
    """Clause ids that test files claim with `pytest.mark.clause(...)`, read statically.

    Reading the source instead of collecting with pytest keeps `cpmconf clauses --uncovered`
    free of any SUT or network. Returns clause id -> list of `file::function` that claim it.
    """
    claims: dict[str, list[str]] = {}
    for path in paths:
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        except (OSError, SyntaxError):
            continue
        # Module-level tuples of literal ids, so a case may claim `*SOME_CLAUSES`.
        constants: dict[str, list[str]] = {}
        for stmt in tree.body:
            if (
                isinstance(stmt, ast.Assign)
                and len(stmt.targets) == 1
                and isinstance(stmt.targets[0], ast.Name)
                and isinstance(stmt.value, ast.Tuple | ast.List)
            ):
                constants[stmt.targets[0].id] = [
                    e.value
                    for e in stmt.value.elts
                    if isinstance(e, ast.Constant) and isinstance(e.value, str)
                ]
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                continue
            for sub in ast.walk(node):
                if (
                    isinstance(sub, ast.Call)
                    and isinstance(sub.func, ast.Attribute)
                    and sub.func.attr == "clause"
                ):
                    for arg in sub.args:
                        ids: list[str] = []
                        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                            ids = [arg.value]
                        elif isinstance(arg, ast.Starred) and isinstance(arg.value, ast.Name):
                            ids = constants.get(arg.value.id, [])
                        for clause_id in ids:
                            claims.setdefault(clause_id, []).append(f"{path.name}::{node.name}")
    return claims


def uncovered(catalogue: Catalogue, testcase_dir: Path) -> list[Clause]:
    """Testable, governing (not superseded) clauses that no test case claims."""
    files = sorted(testcase_dir.rglob("test_*.py")) if testcase_dir.is_dir() else []
    claimed = claimed_clause_ids(files)
    return [c for c in catalogue if c.testable and not c.superseded_by and c.id not in claimed]
