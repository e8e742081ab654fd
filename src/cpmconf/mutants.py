"""Mutation analysis of the suite: `cpmconf mutants` and its kill matrix.

Owns running the whole conformance suite against the embedded reference SUT once without any
fault (the baseline) and once per fault switch of `refsut.faults.REGISTRY`, each run a
pytest subprocess with a hard timeout (what `cpmconf run` runs, without rendering the report
formats, which the matrix does not read), several at a time; and judging every switch from
the clause verdicts of the runs' `compliance.json` against the baseline's:

- killed: the switch's target clause ends `fail` (`non-strict` is enough for a SHOULD or
  SHOULD NOT clause; a MAY clause cannot fail, so for it the switch must turn the baseline's
  `pass` into `not-applicable`, the option not used as the clause allows; a condition the
  option carries is a SHALL sub-clause, D-may-binding-condition, which its switch targets
  instead), and every other
  clause whose verdict changed is one the switch declares it also breaks
  (`Fault(..., also=(...))`, for clauses judged on the very same behaviour);
- survivor: the target clause was judged in the baseline but the switch did not make it fail;
- untested: no test case judged the target clause in the baseline (not claimed, or not
  applicable to the embedded profile), so the switch proves nothing yet;
- collateral: a clause that is neither the target nor declared in `also` changed verdict;
- error: the run timed out, crashed, wrote no valid results, or a test ended `error`.

With `scope="target"` (CLI `--scope target`) each switch run selects only the cases claiming its
target clause (`--clause TARGET`, a prefix) and the baseline selects the union, so a run costs a
few cases instead of the suite; collateral is then looked for only among the clauses those
cases judge, and a switch whose clause no case claims is reported untested without a run.
The full scope is the default and the only one that can see collateral anywhere.

Scaling out: `--shard I/N` runs the I-th of N deterministic slices of the chosen switches
(`shard`: sorted by name, every N-th, so a slice never depends on the machine or the clock),
each slice with its own baseline run, and records in its `mutants.json` which slice of which
selection it holds. `--merge DIR...` (`merge`) joins the slices' rows into one matrix with
the same exit contract, and refuses (exit 3) slices of different selections, scopes or counts,
a missing or repeated slice, or a switch covered twice or not at all. A CI's job matrix runs
the slices on separate machines (docs/ci-job-matrix.md).

Classification (`classify`) is a pure function of verdict maps, so it can be tested without
running anything. Exit codes: 0 every switch killed or untested, 1 a survivor, 2 collateral
(and no survivor), 3 a harness error (a run or the baseline unusable, or bad usage).
`registry_summary` gives the registry's figures (`cpmconf faults --summary`).
"""

from __future__ import annotations

import concurrent.futures
import datetime
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

from cpmconf import catalogue
from cpmconf.plugin import results
from cpmconf.verdict.core import OPTIONAL_LEVELS, SOFT_LEVELS

SCHEMA = "cpmconf-mutants/1"
EXIT_OK, EXIT_SURVIVOR, EXIT_COLLATERAL, EXIT_HARNESS = 0, 1, 2, 3
RUN_TIMEOUT = 300.0  # one whole-suite run; about 10-15 s on an idle 2-core machine
BASELINE = "baseline"
# Clause states that mean "no test judged it": a change between them is not a verdict change.
UNJUDGED = ("not-tested", "untestable", "superseded")


@dataclass(frozen=True)
class Switch:
    """What classification needs to know about one fault switch."""

    name: str
    target: str
    soft: bool  # the target is a SHOULD or SHOULD NOT clause
    also: tuple[str, ...] = ()
    description: str = ""
    optional: bool = False  # the target is a MAY clause: it never fails


@dataclass
class RunResult:
    """One finished (or killed) suite run; `verdicts` is None when it left no usable results."""

    name: str
    report_dir: str
    returncode: int | None  # None: killed at the timeout
    elapsed: float
    verdicts: dict[str, str] | None = None
    errors: list[str] = field(default_factory=list)  # harness problems, each one sentence
    stderr_tail: str = ""


@dataclass
class Row:
    """One line of the kill matrix."""

    fault: str
    target: str
    status: str  # killed | survivor | untested | collateral | error
    target_verdict: str | None
    changed: dict[str, list[str]]  # clause id -> [baseline verdict, verdict with the fault]
    collateral: list[str]
    stale_also: list[str]  # declared `also` clauses that did not change
    note: str = ""


def switches(names: Iterable[str] | None = None) -> list[Switch]:
    """The registry's switches (all, or the named ones), with the level of each target.

    Raises KeyError naming an unknown switch.
    """
    from refsut.faults import REGISTRY

    cat = catalogue.load()
    chosen = sorted(REGISTRY) if not names else list(dict.fromkeys(names))
    out = []
    for name in chosen:
        if name not in REGISTRY:
            raise KeyError(name)
        f = REGISTRY[name]
        level = cat.get(f.clause).level if f.clause in cat else "SHALL"
        out.append(
            Switch(
                name,
                f.clause,
                level in SOFT_LEVELS,
                tuple(f.also),
                f.description,
                level in OPTIONAL_LEVELS,
            )
        )
    return out


def registry_summary(testcases: Path | None = None) -> list[tuple[str, int]]:
    """The fault registry's figures, one (label, count) each: switches in total and per place
    (module of `refsut.faults`), the clauses the cases in `testcases` claim, how many of those
    are a switch's target, how many more only a switch's declared `also` clause, how many no
    switch can fail, and the switches whose clause no case claims. `cpmconf faults --summary`
    prints them; the README's counts are checked against them."""
    from refsut.faults import PLACES, REGISTRY

    folder = testcases or catalogue.REPO_ROOT / "testcases"
    claims = set(catalogue.claimed_clause_ids(sorted(folder.glob("test_*.py"))))
    targets = {f.clause for f in REGISTRY.values()} & claims
    also = {c for f in REGISTRY.values() for c in f.also} & (claims - targets)
    return [
        ("switches", len(REGISTRY)),
        *((f"switches in {place}", len(module.SWITCHES)) for place, module in PLACES.items()),
        ("claimed clauses", len(claims)),
        ("claimed clauses a switch targets", len(targets)),
        ("claimed clauses only a switch's also fails", len(also)),
        ("claimed clauses no switch fails", len(claims - targets - also)),
        (
            "switches whose clause no case claims",
            sum(f.clause not in claims for f in REGISTRY.values()),
        ),
    ]


def parse_shard(text: str) -> tuple[int, int]:
    """I/N as (I, N) with 1 <= I <= N; ValueError naming the text otherwise."""
    index, sep, count = text.partition("/")
    if not sep or not index.strip().isdigit() or not count.strip().isdigit():
        raise ValueError(f"--shard {text!r} is not I/N (e.g. 2/3)")
    i, n = int(index), int(count)
    if not 1 <= i <= n:
        raise ValueError(f"--shard {text!r}: I must be between 1 and N")
    return i, n


def shard(names: Iterable[str], index: int, count: int) -> list[str]:
    """The index-th (1-based) of count slices: sorted names, every count-th from index-1.

    Round robin over the sorted names keeps the slices within one switch of each other in
    size and each a pure function of (names, index, count).
    """
    return sorted(set(names))[index - 1 :: count]


def clause_verdicts(doc: Mapping) -> dict[str, str]:
    return {c["id"]: c["verdict"] for c in doc["clauses"]}


def changed_clauses(baseline: Mapping[str, str], mutant: Mapping[str, str]) -> dict[str, list[str]]:
    """Clauses whose verdict differs; a clause unjudged in both runs has not changed."""
    out = {}
    for cid in sorted(set(baseline) | set(mutant)):
        before, after = baseline.get(cid, "not-tested"), mutant.get(cid, "not-tested")
        if before != after and not (before in UNJUDGED and after in UNJUDGED):
            out[cid] = [before, after]
    return out


def classify(switch: Switch, baseline: Mapping[str, str], run: RunResult) -> Row:
    """Judge one switch from its run's clause verdicts and the baseline's (pure)."""
    before = baseline.get(switch.target)
    if run.verdicts is None or run.errors:
        why = "; ".join(run.errors) or "the run left no results"
        return Row(switch.name, switch.target, "error", None, {}, [], [], why)
    changed = changed_clauses(baseline, run.verdicts)
    after = run.verdicts.get(switch.target)
    allowed = {switch.target, *switch.also}
    collateral = [cid for cid in changed if cid not in allowed]
    # A declared clause the run never judged (outside a target-scoped run) cannot be stale.
    stale = [cid for cid in switch.also if cid not in changed and cid in baseline]
    row = Row(switch.name, switch.target, "", after, changed, collateral, stale)
    if before is None or before in UNJUDGED or before == "not-applicable":
        row.status = "untested"
        row.note = f"no test case judged {switch.target} without the fault ({before or 'unknown'})"
    elif switch.optional:
        # A MAY cannot fail: its kill is the option no longer used as the clause allows.
        if before == "pass" and after == "not-applicable":
            row.status = "killed"
            row.note = f"{switch.target} is a MAY: pass -> not-applicable (a MAY cannot fail)"
        else:
            row.status = "survivor"
            row.note = f"{switch.target} (a MAY) stayed {after} (baseline {before})"
    elif after == "fail" or (switch.soft and after == "non-strict"):
        row.status = "killed"
    else:
        row.status = "survivor"
        row.note = f"{switch.target} stayed {after} (baseline {before})"
    if collateral:
        # A survivor stays a survivor (the worse finding); anything else becomes collateral.
        row.status = "survivor" if row.status == "survivor" else "collateral"
        row.note = "; ".join(
            filter(None, [row.note, "unrelated clauses changed: " + ", ".join(collateral)])
        )
    return row


def baseline_problems(run: RunResult) -> list[str]:
    """Why the baseline cannot serve as the reference (empty when it can)."""
    if run.verdicts is None or run.errors:
        return run.errors or ["the baseline run left no results"]
    ok = ("pass", "not-applicable", *UNJUDGED)  # not-applicable: the ICS says so
    bad = sorted(cid for cid, v in run.verdicts.items() if v not in ok)
    if bad:
        return [
            "without faults the reference SUT must pass every judged clause; it did not: "
            + ", ".join(f"{cid}={run.verdicts[cid]}" for cid in bad)
        ]
    return []


def exit_code(rows: Iterable[Row], baseline_ok: bool = True) -> int:
    statuses = {r.status for r in rows}
    if not baseline_ok or "error" in statuses:
        return EXIT_HARNESS
    if "survivor" in statuses:
        return EXIT_SURVIVOR
    if "collateral" in statuses:
        return EXIT_COLLATERAL
    return EXIT_OK


def summary(rows: list[Row]) -> dict[str, int]:
    counts = {s: 0 for s in ("killed", "survivor", "untested", "collateral", "error")}
    for r in rows:
        counts[r.status] += 1
    counts["switches"] = len(rows)
    counts["target_clauses"] = len({r.target for r in rows})
    counts["killed_clauses"] = len({r.target for r in rows if r.status == "killed"})
    return counts


def render(rows: list[Row], baseline: RunResult) -> str:
    """The kill matrix as text: one line per switch, then what changed."""
    width = max([len(r.fault) for r in rows] + [6])
    twidth = max([len(r.target) for r in rows] + [6])
    lines = [
        f"{'switch':<{width}}  {'target':<{twidth}}  {'status':<10}  changed (baseline->fault)"
    ]
    for r in rows:
        changes = ", ".join(
            f"{cid} {b}->{a}" + ("" if cid == r.target or cid in r.collateral else " (also)")
            for cid, (b, a) in r.changed.items()
        )
        lines.append(f"{r.fault:<{width}}  {r.target:<{twidth}}  {r.status:<10}  {changes or '-'}")
        if r.note and r.status != "killed":
            lines.append(f"{'':<{width}}  {'':<{twidth}}  {'':<10}  ^ {r.note}")
        if r.stale_also:
            lines.append(
                f"{'':<{width}}  {'':<{twidth}}  {'':<10}  ^ declared also, unchanged: "
                + ", ".join(r.stale_also)
            )
    s = summary(rows)
    judged = sum(1 for v in (baseline.verdicts or {}).values() if v not in UNJUDGED)
    lines.append(
        f"{s['switches']} switch(es) over {s['target_clauses']} target clause(s): "
        f"{s['killed']} killed, {s['survivor']} survivor(s), {s['collateral']} collateral, "
        f"{s['untested']} untested, {s['error']} error(s); "
        f"{s['killed_clauses']} clause(s) proven able to fail; "
        f"{judged} clause(s) judged in the baseline"
    )
    return "\n".join(lines)


def run_one(name: str, fault: str | None, out: Path, timeout: float, extra: list[str]) -> RunResult:
    """The suite in a subprocess, killed at `timeout` (its SUT exits on stdin EOF).

    The pytest command of `cpmconf run` without JUnit, Allure and the report formats: they
    cost about a second a run and the matrix reads only `compliance.json`.
    """
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        str(catalogue.REPO_ROOT / "testcases"),
        f"--rootdir={catalogue.REPO_ROOT}",
        "--sut",
        "embedded",
        "--report-dir",
        str(out),
        "-q",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:hypothesispytest",
        *(["--sut-fault", fault] if fault else []),
        *extra,
    ]
    start = time.monotonic()
    errors = []
    try:
        proc = subprocess.run(
            cmd,
            cwd=catalogue.REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
        code, err = proc.returncode, proc.stderr
    except subprocess.TimeoutExpired as exc:
        code, err = None, exc.stderr.decode("utf-8", "replace") if exc.stderr else ""
        errors.append(f"killed after the hard timeout of {timeout:g} s")
    elapsed = time.monotonic() - start
    if code not in (None, 0, 1):
        errors.append(f"the run exited {code} (pytest: interrupted, internal or usage error)")
    verdicts = None
    path = out / "compliance.json"
    if path.is_file():
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            errors.append(f"{path} is not JSON: {exc}")
        else:
            problems = results.validate(doc)
            if problems:
                errors.append(f"{path} is malformed: {'; '.join(problems[:3])}")
            else:
                verdicts = clause_verdicts(doc)
                errored = [t["id"] for t in doc["tests"] if t["verdict"] == "error"]
                if errored:
                    errors.append(f"harness error verdict in {', '.join(errored[:5])}")
    elif not errors:
        errors.append(f"no {path}")
    return RunResult(name, str(out), code, round(elapsed, 2), verdicts, errors, err[-1500:])


def default_jobs() -> int:
    return os.cpu_count() or 1


def run_all(
    chosen: list[Switch],
    out: Path,
    jobs: int,
    timeout: float = RUN_TIMEOUT,
    extra: list[str] | None = None,
    progress=None,
    scope: str = "full",
) -> tuple[RunResult, dict[str, RunResult]]:
    """The baseline and one run per switch, `jobs` at a time; baseline first."""
    extra = list(extra or [])
    targets = sorted({s.target for s in chosen})

    def selection(name: str) -> list[str]:
        if scope == "full":
            return []
        wanted = targets if name == BASELINE else [s.target for s in chosen if s.name == name]
        return [a for t in wanted for a in ("--clause", t)]

    def one(name: str) -> RunResult:
        fault = None if name == BASELINE else name
        result = run_one(name, fault, out / name, timeout, [*selection(name), *extra])
        if progress is not None:
            progress(result)
        return result

    names = [BASELINE] + [s.name for s in chosen]
    with concurrent.futures.ThreadPoolExecutor(max(1, jobs), thread_name_prefix="mutant") as pool:
        futures = {name: pool.submit(one, name) for name in names}
        done = {name: f.result() for name, f in futures.items()}
    return done.pop(BASELINE), done


def document(
    rows: list[Row], baseline: RunResult, runs: dict[str, RunResult], jobs: int, elapsed: float
) -> dict:
    base = asdict(baseline)
    base.pop("verdicts")
    return {
        "schema": SCHEMA,
        "jobs": jobs,
        "elapsed": round(elapsed, 2),
        # The verdicts too: a merge of slices needs them for the matrix's baseline line.
        "baseline": {
            **base,
            "problems": baseline_problems(baseline),
            "verdicts": baseline.verdicts,
        },
        "summary": summary(rows),
        "switches": [
            {
                **asdict(r),
                "run": {k: v for k, v in asdict(runs[r.fault]).items() if k != "verdicts"},
            }
            for r in rows
        ],
    }


def scoped(baseline: Mapping[str, str], run: RunResult, target: str) -> dict[str, str]:
    """The baseline seen through a target-scoped run: only the clauses that run judged."""
    judged = {cid for cid, v in (run.verdicts or {}).items() if v not in UNJUDGED} | {target}
    return {cid: baseline.get(cid, "not-tested") for cid in judged}


def main(
    faults: list[str],
    jobs: int,
    json_out: str | None,
    report_dir: str | None,
    timeout: float,
    extra: list[str],
    scope: str = "full",
    shard_spec: str | None = None,
) -> int:
    """`cpmconf mutants`: run, print the kill matrix, write the JSON, return the exit code."""
    try:
        chosen = switches(faults)
        slice_of = parse_shard(shard_spec) if shard_spec else None
    except KeyError as exc:
        print(f"cpmconf: unknown fault switch {exc.args[0]!r}", file=sys.stderr)
        return EXIT_HARNESS
    except ValueError as exc:
        print(f"cpmconf: {exc}", file=sys.stderr)
        return EXIT_HARNESS
    selection = sorted(s.name for s in chosen)
    if slice_of is not None:
        mine = set(shard(selection, *slice_of))
        chosen = [s for s in chosen if s.name in mine]
        print(
            f"cpmconf mutants: shard {slice_of[0]}/{slice_of[1]}: {len(chosen)} of "
            f"{len(selection)} switch(es)"
        )
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    out = Path(report_dir) if report_dir else catalogue.REPO_ROOT / "reports" / f"mutants-{stamp}"
    out.mkdir(parents=True, exist_ok=True)
    jobs = jobs or default_jobs()
    unclaimed: list[Switch] = []
    if scope == "target":  # no case to select: untested without a run
        claims = catalogue.claimed_clause_ids(
            sorted((catalogue.REPO_ROOT / "testcases").glob("test_*.py"))
        )
        unclaimed = [s for s in chosen if s.target not in claims]
        chosen = [s for s in chosen if s.target in claims]
    print(
        f"cpmconf mutants: baseline + {len(chosen)} switch run(s) (scope {scope}), "
        f"{jobs} at a time, in {out}"
    )

    def progress(r: RunResult) -> None:
        flag = "" if not r.errors else "  !! " + "; ".join(r.errors)
        print(f"  {r.name}: exit {r.returncode} in {r.elapsed:.1f} s{flag}", flush=True)

    started = time.monotonic()
    baseline, runs = run_all(chosen, out, jobs, timeout, extra, progress, scope)
    elapsed = time.monotonic() - started
    problems = baseline_problems(baseline)
    base = baseline.verdicts or {}
    rows = [
        classify(s, base if scope == "full" else scoped(base, runs[s.name], s.target), runs[s.name])
        for s in chosen
    ]
    for s in unclaimed:
        runs[s.name] = RunResult(s.name, "", None, 0.0, {}, [], "not run: no case claims it")
        rows.append(
            Row(s.name, s.target, "untested", None, {}, [], [], f"no case claims {s.target}")
        )
    rows.sort(key=lambda r: r.fault)
    if problems:
        print("cpmconf: the baseline run is unusable: " + "; ".join(problems), file=sys.stderr)
    else:
        print(render(rows, baseline))
    print(f"cpmconf mutants: {len(chosen) + 1} run(s) in {elapsed:.1f} s")
    doc = document(rows, baseline, runs, jobs, elapsed)
    doc["scope"] = scope
    doc["selection"] = selection
    doc["shard"] = list(slice_of) if slice_of else None
    for path in {out / "mutants.json", *([Path(json_out)] if json_out else [])}:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(doc, indent=2), encoding="utf-8")
    return exit_code(rows, baseline_ok=not problems)


# ---- merging slices --------------------------------------------------------------------


def _row(entry: Mapping) -> Row:
    return Row(**{k: v for k, v in entry.items() if k != "run"})


def _union_verdicts(maps: Iterable[Mapping[str, str]]) -> dict[str, str]:
    """Clause verdicts of several baselines: a judged verdict wins over an unjudged one."""
    out: dict[str, str] = {}
    for m in maps:
        for cid, v in m.items():
            if cid not in out or (out[cid] in UNJUDGED and v not in UNJUDGED):
                out[cid] = v
            elif v not in UNJUDGED and v != out[cid] and v != "pass":
                out[cid] = v  # a slice's baseline that did not pass stays visible
    return out


def load_slice(path: Path) -> dict:
    """One slice's mutants.json (a folder holding it, or the file); ValueError if unusable."""
    file = path / "mutants.json" if path.is_dir() else path
    try:
        doc = json.loads(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"{file}: cannot read: {exc.strerror or exc}") from exc
    except ValueError as exc:
        raise ValueError(f"{file}: not JSON: {exc}") from exc
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
        raise ValueError(f"{file}: not a {SCHEMA} document")
    if not doc.get("shard") or "selection" not in doc:
        raise ValueError(f"{file}: not a slice (written without --shard I/N)")
    if "verdicts" not in doc.get("baseline", {}):
        raise ValueError(f"{file}: its baseline has no clause verdicts (an older cpmconf?)")
    doc["_file"] = str(file)
    return doc


def merge(docs: list[dict]) -> tuple[dict, list[str]]:
    """The slices joined into one matrix document, and why they cannot be (empty if fine).

    Pure: checks that the slices share one selection, scope and count, that each index is
    present once, and that every switch of the selection has exactly one row.
    """
    problems: list[str] = []
    if not docs:
        return {}, ["no slice to merge"]
    first = docs[0]
    count = first["shard"][1]
    for d in docs[1:]:
        for key in ("selection", "scope"):
            if d.get(key) != first.get(key):
                problems.append(f"{d['_file']}: another {key} than {first['_file']}")
        if d["shard"][1] != count:
            problems.append(f"{d['_file']}: a slice of {d['shard'][1]}, not of {count}")
    indices = [d["shard"][0] for d in docs]
    missing = sorted(set(range(1, count + 1)) - set(indices))
    repeated = sorted({i for i in indices if indices.count(i) > 1})
    if missing:
        problems.append(f"slice(s) {', '.join(f'{i}/{count}' for i in missing)} missing")
    if repeated:
        problems.append(f"slice(s) {', '.join(f'{i}/{count}' for i in repeated)} given twice")
    entries = [e for d in docs for e in d["switches"]]
    names = [e["fault"] for e in entries]
    twice = sorted({n for n in names if names.count(n) > 1})
    uncovered = sorted(set(first["selection"]) - set(names))
    if twice:
        problems.append(f"switch(es) in more than one slice: {', '.join(twice)}")
    if uncovered and not missing:
        problems.append(f"switch(es) in no slice: {', '.join(uncovered)}")
    base_problems = [
        f"slice {d['shard'][0]}/{count}: {p}" for d in docs for p in d["baseline"]["problems"]
    ]
    entries.sort(key=lambda e: e["fault"])
    rows = [_row(e) for e in entries]
    doc = {
        "schema": SCHEMA,
        "jobs": max(d["jobs"] for d in docs),
        "elapsed": round(sum(d["elapsed"] for d in docs), 2),  # summed over the slices
        "scope": first.get("scope", "full"),
        "selection": first["selection"],
        "shard": None,
        "merged_from": [
            {"slice": f"{d['shard'][0]}/{count}", "file": d["_file"], "elapsed": d["elapsed"]}
            for d in sorted(docs, key=lambda d: d["shard"][0])
        ],
        "baseline": {
            "name": BASELINE,
            "problems": base_problems,
            "verdicts": _union_verdicts(d["baseline"]["verdicts"] or {} for d in docs),
        },
        "summary": summary(rows),
        "switches": entries,
    }
    return doc, problems


def merge_main(dirs: list[str], json_out: str | None, report_dir: str | None) -> int:
    """`cpmconf mutants --merge DIR...`: join slices, print the matrix, same exit codes."""
    try:
        docs = [load_slice(Path(d)) for d in dirs]
    except ValueError as exc:
        print(f"cpmconf: {exc}", file=sys.stderr)
        return EXIT_HARNESS
    doc, problems = merge(docs)
    for p in problems:
        print(f"cpmconf: cannot merge: {p}", file=sys.stderr)
    if problems:
        return EXIT_HARNESS
    rows = [_row(e) for e in doc["switches"]]
    baseline = RunResult(BASELINE, "", 0, 0.0, doc["baseline"]["verdicts"])
    if doc["baseline"]["problems"]:
        print(
            "cpmconf: a slice's baseline run is unusable: "
            + "; ".join(doc["baseline"]["problems"]),
            file=sys.stderr,
        )
    else:
        print(render(rows, baseline))
    print(f"cpmconf mutants: merged {len(docs)} slice(s), {len(rows)} switch(es)")
    outs = [Path(json_out)] if json_out else []
    if report_dir:
        outs.append(Path(report_dir) / "mutants.json")
    for path in outs:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(doc, indent=2), encoding="utf-8")
    return exit_code(rows, baseline_ok=not doc["baseline"]["problems"])


def matrix_rows(doc: Mapping) -> list[dict]:
    """The matrix of a mutants.json without run details (timings, folders): what compares."""
    keep = ("fault", "target", "status", "target_verdict", "changed", "collateral", "stale_also")
    return [{k: e[k] for k in keep} for e in sorted(doc["switches"], key=lambda e: e["fault"])]
