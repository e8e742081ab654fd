"""Known-failure baselines and the exit code of `cpmconf run`: pure functions over results.

Owns the baseline file (TOML, `cpmconf-baseline/1`, documented in docs/baselines.md): per
target, the failures a team already knows about, each with its clause id, optionally the test
id, and a reason. `compare` sets a run's results document against it and sorts every failure
into regressions (not in the baseline) and known ones, and every entry into still failing,
stale (judged this run and no longer failing) or not judged. `exit_code` turns that, plus any
harness error, into the documented code; `update` rewrites the baseline from a run.

Exit codes, highest precedence first (a run that qualifies for several takes the first):
3 harness error, bad usage, or nothing judged (no clause passed or failed, so the run proved
nothing either way), 1 a failure not in the baseline, 2 a stale baseline entry, 0 only passes
and baselined failures.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

SCHEMA = "cpmconf-baseline/1"

EXIT_OK = 0
EXIT_REGRESSION = 1
EXIT_STALE = 2
EXIT_HARNESS = 3
# Precedence when several apply; a run's code is the first that applies.
PRECEDENCE = (EXIT_HARNESS, EXIT_REGRESSION, EXIT_STALE, EXIT_OK)

EXIT_CODES_HELP = (
    "exit codes (highest precedence first): 3 harness error or bad usage (including a bad "
    "baseline file), or nothing judged (no clause passed or failed); 1 a failure not in the "
    "baseline; 2 a baseline entry that now passes (stale); 0 only passes and baselined failures"
)

# Clause verdicts that show the clause no longer fails; an inconclusive or not-applicable
# clause says nothing either way, so its entry is neither stale nor still failing.
_FIXED = {"pass"}
# Clause verdicts that judged the SUT one way or the other.
_JUDGED = {"pass", "fail", "non-strict"}
_ENTRY_KEYS = {"clause", "test", "reason"}


class BaselineError(ValueError):
    """A baseline file that cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class Entry:
    """One known failure: a clause, optionally narrowed to one test, and why it is known."""

    target: str
    index: int
    clause: str
    test: str | None
    reason: str

    def matches(self, test_id: str, clause_id: str) -> bool:
        return self.clause == clause_id and (self.test is None or self.test == test_id)

    @property
    def key(self) -> str:
        """Where the entry sits in the file, as a reader would look for it."""
        return f"targets.{_toml_key(self.target)}.known[{self.index}]"

    def describe(self) -> str:
        where = f" in {self.test}" if self.test else ""
        return f"{self.key} ({self.clause}{where})"


@dataclass
class Baseline:
    path: Path | None
    targets: dict[str, list[Entry]] = field(default_factory=dict)

    def known(self, target: str) -> list[Entry]:
        return self.targets.get(target, [])


@dataclass(frozen=True)
class Failure:
    test: str
    clause: str
    verdict: str
    reason: str


@dataclass
class Comparison:
    target: str
    in_baseline: bool
    regressions: list[Failure] = field(default_factory=list)
    known: list[tuple[Failure, Entry]] = field(default_factory=list)
    stale: list[Entry] = field(default_factory=list)
    unjudged: list[Entry] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    # Tests by verdict; `judged` counts the tests with a clause that passed or failed.
    verdicts: dict[str, int] = field(default_factory=dict)
    judged: int = 0

    @property
    def nothing_judged(self) -> bool:
        """Tests ran, and not one clause passed or failed: the run proved nothing either way."""
        return bool(self.verdicts) and self.judged == 0

    def nothing_judged_line(self) -> str:
        others = [f"{n} {v}" for v, n in sorted(self.verdicts.items()) if v != "inconclusive"]
        counts = ", ".join(
            [f"{self.verdicts.get('inconclusive', 0)} inconclusive test(s)", *others]
        )
        return (
            f"nothing judged: no clause passed or failed in {sum(self.verdicts.values())} "
            f"test(s): {counts}; exit 3"
        )


def empty() -> Baseline:
    return Baseline(path=None)


def load(path: Path | str) -> Baseline:
    """The baseline in `path`; BaselineError naming the file and the key if it is not one."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise BaselineError(f"{path}: cannot read baseline: {exc.strerror or exc}") from exc
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise BaselineError(f"{path}: not a TOML baseline: {exc}") from exc
    return parse(data, path)


def parse(data: dict, path: Path | None = None) -> Baseline:
    where = f"{path}: " if path else ""

    def bad(key: str, why: str) -> BaselineError:
        return BaselineError(f"{where}key {key!r}: {why}")

    unknown = set(data) - {"schema", "targets"}
    if unknown:
        raise bad(sorted(unknown)[0], "unknown key (expected 'schema' and 'targets')")
    if data.get("schema") != SCHEMA:
        raise bad("schema", f"is {data.get('schema')!r}, expected {SCHEMA!r}")
    targets = data.get("targets", {})
    if not isinstance(targets, dict):
        raise bad("targets", "must be a table of targets")
    out = Baseline(path=path)
    for name, body in targets.items():
        tkey = f"targets.{_toml_key(name)}"
        if not isinstance(body, dict):
            raise bad(tkey, "must be a table")
        extra = set(body) - {"known"}
        if extra:
            raise bad(f"{tkey}.{sorted(extra)[0]}", "unknown key (expected 'known')")
        known = body.get("known", [])
        if not isinstance(known, list):
            raise bad(f"{tkey}.known", "must be an array of tables")
        entries = []
        for i, raw in enumerate(known):
            ekey = f"{tkey}.known[{i}]"
            if not isinstance(raw, dict):
                raise bad(ekey, "must be a table with clause, test and reason")
            extra = set(raw) - _ENTRY_KEYS
            if extra:
                raise bad(f"{ekey}.{sorted(extra)[0]}", "unknown key")
            for k in ("clause", "reason"):
                if not isinstance(raw.get(k), str) or not raw[k].strip():
                    raise bad(f"{ekey}.{k}", "missing or empty (a string is required)")
            test = raw.get("test")
            if test is not None and (not isinstance(test, str) or not test.strip()):
                raise bad(f"{ekey}.test", "must be a non-empty string when present")
            entry = Entry(name, i, raw["clause"].strip(), test, raw["reason"].strip())
            dup = next(
                (e for e in entries if (e.clause, e.test) == (entry.clause, entry.test)), None
            )
            if dup is not None:
                raise bad(ekey, f"repeats {dup.key}")
            entries.append(entry)
        out.targets[name] = entries
    return out


def check_clauses(baseline: Baseline, known_ids: set[str]) -> None:
    """BaselineError for an entry naming a clause id the catalogue does not have."""
    for entries in baseline.targets.values():
        for e in entries:
            if e.clause not in known_ids:
                where = f"{baseline.path}: " if baseline.path else ""
                raise BaselineError(
                    f"{where}key {e.key + '.clause'!r}: unknown clause {e.clause!r}"
                )


def failures(doc: dict, strict_should: bool = False) -> list[Failure]:
    """Every (test, clause) a run judged failed; non-strict counts only with strict_should."""
    failing = {"fail", "non-strict"} if strict_should else {"fail"}
    out = []
    for t in doc.get("tests", []):
        for cid, v in t.get("clause_verdicts", {}).items():
            if v in failing:
                out.append(Failure(t["id"], cid, v, str(t.get("reason") or "")))
    return out


def harness_errors(doc: dict) -> list[str]:
    return [
        f"{t['id']}: {t.get('reason') or 'harness error'}"
        for t in doc.get("tests", [])
        if t.get("verdict") == "error"
    ]


def compare(doc: dict, baseline: Baseline, strict_should: bool = False) -> Comparison:
    target = str(doc.get("run", {}).get("target") or "")
    entries = baseline.known(target)
    cmp = Comparison(target=target, in_baseline=target in baseline.targets)
    cmp.errors = harness_errors(doc)
    for t in doc.get("tests", []):
        cmp.verdicts[t["verdict"]] = cmp.verdicts.get(t["verdict"], 0) + 1
        # A test's own "pass" is not enough: only a clause that passed shows the wire judged.
        clauses = set(t.get("clause_verdicts", {}).values())
        if clauses & _JUDGED or t["verdict"] in ("fail", "non-strict"):
            cmp.judged += 1
    used: set[int] = set()
    for f in failures(doc, strict_should):
        # A test-specific entry wins over a clause-wide one.
        hit = next((e for e in entries if e.test and e.matches(f.test, f.clause)), None) or next(
            (e for e in entries if e.matches(f.test, f.clause)), None
        )
        if hit is None:
            cmp.regressions.append(f)
        else:
            cmp.known.append((f, hit))
            used.add(hit.index)
    fixed = {"pass", "non-strict"} if not strict_should else _FIXED
    judged = [
        (t["id"], cid, v)
        for t in doc.get("tests", [])
        for cid, v in t.get("clause_verdicts", {}).items()
    ]
    for e in entries:
        if e.index in used:
            continue
        seen = [v for tid, cid, v in judged if e.matches(tid, cid)]
        if seen and all(v in fixed for v in seen):
            cmp.stale.append(e)
        else:
            cmp.unjudged.append(e)
    return cmp


def exit_code(cmp: Comparison, harness_failed: bool = False) -> int:
    """The run's exit code: 3 > 1 > 2 > 0 (see the module docstring)."""
    applies = {
        EXIT_HARNESS: harness_failed or bool(cmp.errors) or cmp.nothing_judged,
        EXIT_REGRESSION: bool(cmp.regressions),
        EXIT_STALE: bool(cmp.stale),
        EXIT_OK: True,
    }
    return next(code for code in PRECEDENCE if applies[code])


def summary_lines(cmp: Comparison, baseline: Baseline) -> list[str]:
    """What a run prints about regressions, known failures, fixes and stale entries."""
    src = str(baseline.path) if baseline.path else "no baseline"
    lines = []
    if baseline.path and not cmp.in_baseline:
        lines.append(
            f"baseline: {src} has no entry for target {cmp.target!r}; every failure counts"
        )
    for f in cmp.regressions:
        lines.append(f"regression: {f.clause} failed in {f.test} (not in {src})")
    for f, e in cmp.known:
        lines.append(f"known failure: {f.clause} in {f.test} ({e.key}: {e.reason})")
    for e in cmp.stale:
        lines.append(
            f"fixed, stale baseline entry: {e.describe()} now passes; remove it from {src} "
            "or run with --update-baseline"
        )
    for e in cmp.unjudged:
        lines.append(f"baseline entry not judged this run: {e.describe()}")
    for err in cmp.errors:
        lines.append(f"harness error: {err}")
    lines.append(
        f"baseline: {len(cmp.regressions)} regression(s), {len(cmp.known)} known failure(s), "
        f"{len(cmp.stale)} stale entr{'y' if len(cmp.stale) == 1 else 'ies'}, "
        f"{len(cmp.errors)} harness error(s)"
    )
    return lines


def update(baseline: Baseline, doc: dict, strict_should: bool = False) -> Baseline:
    """The baseline rewritten for this run's target from this run's failures.

    Entries that still fail keep their reason; new failures get a placeholder reason that
    says where they came from; stale entries go; entries this run did not judge stay (a run
    of a few clauses must not forget the rest). Other targets are untouched.
    """
    cmp = compare(doc, baseline, strict_should)
    keep: dict[tuple[str, str | None], str] = {}
    for _, e in cmp.known:
        keep[(e.clause, e.test)] = e.reason
    for e in cmp.unjudged:
        keep[(e.clause, e.test)] = e.reason
    for f in cmp.regressions:
        why = " ".join(f.reason.split())[:200] or f.verdict
        keep.setdefault((f.clause, f.test), f"added by --update-baseline; the run said: {why}")
    ordered = sorted(keep.items(), key=lambda kv: (kv[0][0], kv[0][1] or ""))
    entries = [
        Entry(cmp.target, i, clause, test, reason)
        for i, ((clause, test), reason) in enumerate(ordered)
    ]
    targets = dict(baseline.targets)
    targets[cmp.target] = entries
    return Baseline(path=baseline.path, targets=targets)


def dump(baseline: Baseline) -> str:
    """The baseline as TOML text that `load` reads back to the same entries."""
    lines = [
        "# Known failures per target, for `cpmconf run --baseline` (see docs/baselines.md).",
        f'schema = "{SCHEMA}"',
    ]
    for target in sorted(baseline.targets):
        entries = baseline.targets[target]
        key = f"targets.{_toml_key(target)}"
        lines.append("")
        if not entries:
            lines.append(f"[{key}]")
            lines.append("known = []")
            continue
        for e in entries:
            lines.append(f"[[{key}.known]]")
            lines.append(f"clause = {_toml_str(e.clause)}")
            if e.test:
                lines.append(f"test = {_toml_str(e.test)}")
            lines.append(f"reason = {_toml_str(e.reason)}")
    return "\n".join(lines) + "\n"


def _toml_str(value: str) -> str:
    # A JSON string with ASCII escapes is a valid TOML basic string.
    return json.dumps(value, ensure_ascii=True)


def _toml_key(name: str) -> str:
    bare = name and all(ch.isalnum() and ch.isascii() or ch in "-_" for ch in name)
    return name if bare else _toml_str(name)
