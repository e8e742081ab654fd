"""The pytest plugin: conformance options, clause markers, verdicts and the results JSON.

Owns what turns a pytest run into a conformance run:
- options (`--sut`, `--report-dir`, `--clause`, `--sut-fault`, `--strict-should`);
- the `clause` marker, required on every conformance test case and checked against the
  catalogue at collection (a missing or unknown id fails collection);
- running `async def` test cases on the session's event loop, with an overall bound;
- mapping outcomes to the six verdicts with `cpmconf.verdict.decide` (from the clause
  verdicts and the exception), and making pytest's own outcome agree: pass only when a
  claimed clause passed and none is worse, non-strict passes unless `--strict-should`,
  inconclusive and not-applicable are skips with their reason, harness faults are errors;
  a failure shows its findings (clause, summary, expected, actual, excerpt) and no harness
  source; only a harness error shows a short traceback;
- the run's selection (`--clause`, `-m`, `-k`) in `run.selection`, and what the reports'
  header and ladders need: the command, the suite's commit, the profile's hash and the
  entities the test system plays (`run.entities`);
- a conformance run of plain pytest writes junit.xml and allure-results/ beside
  compliance.json as `cpmconf run` does (`cpmconf.report.pytest_reports` writes the rest);
- allure labels (epic = document title), and `compliance.json` at the end of the run;
- the console's closing lines, each on its own line: every non-strict clause with its
  block, the capture mode, the verdict counts and where the results are.

Conformance test cases are the items under the folders named by the `cpmconf_testcases` ini
option (default `testcases`); every other item (the self-tests) passes through untouched.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import shlex
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cpmconf import __version__
from cpmconf import catalogue as _catalogue
from cpmconf.plugin import results as _results
from cpmconf.roles.errors import (
    NoAnswer,
    SetupError,
    SetupRefused,
    StimulusError,
    UpperTesterError,
)
from cpmconf.roles.profile import Profile, ProfileError, load_profile
from cpmconf.roles.stimulus import RENDERED, unclaimed
from cpmconf.verdict import (
    Cause,
    ClauseViolation,
    Expectations,
    HarnessError,
    Inconclusive,
    NotApplicable,
    Outcome,
    Verdict,
    decide,
)

CLAUSES_KEY = pytest.StashKey[tuple]()
EXPECT_KEY = pytest.StashKey[Expectations]()
EVIDENCE_KEY = pytest.StashKey[dict]()
OUTCOME_KEY = pytest.StashKey[dict]()
# The templates a case's test function rendered, with the clauses each names.
RENDERED_KEY = pytest.StashKey[list]()
STATE_KEY = pytest.StashKey["RunState"]()
RUNNER_KEY = pytest.StashKey[tuple]()  # (loop runner, overall bound) of an async case


class RunState:
    def __init__(self, config: pytest.Config):
        self.config = config
        self.catalogue: _catalogue.Catalogue | None = None
        self.results: list[dict] = []
        self.started = datetime.now(UTC)
        self.run_info: dict = {}
        self.report_dir: Path | None = None
        self.profile: Profile | None = None
        self.doc: dict | None = None  # compliance.json, once written
        self.results_path: Path | None = None
        self.report_lines: list[str] = []  # what the report writers have to say


_EMBEDDED = ("fixtures", "profiles", "embedded.toml")  # under the data root
EMBEDDED_PROFILE = _catalogue.REPO_ROOT.joinpath(*_EMBEDDED)


def profile_path(sut: str) -> Path:
    """The profile file of --sut; for "embedded", found through the data root (a missing
    checkout is named as such, not as a missing profile)."""
    return _catalogue.data_path(*_EMBEDDED) if sut == "embedded" else Path(sut)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("cpmconf", "CPM conformance")
    group.addoption(
        "--sut",
        default="embedded",
        help="'embedded' (the reference SUT) or the path of a target profile (TOML)",
    )
    group.addoption(
        "--report-dir",
        default=None,
        help="folder for this run's reports (default reports/<timestamp>)",
    )
    group.addoption(
        "--clause",
        action="append",
        default=[],
        metavar="PREFIX",
        help="only run cases claiming a clause id with this prefix (repeatable)",
    )
    group.addoption(
        "--sut-fault",
        action="append",
        default=[],
        metavar="NAME",
        help="switch on a fault in the embedded reference SUT (self-tests)",
    )
    group.addoption(
        "--strict-should",
        action="store_true",
        help="report a non-strict (SHOULD not followed) outcome as a pytest failure",
    )
    group.addoption(
        "--guard", type=float, default=None, help="override the profile's guard time in seconds"
    )
    group.addoption(
        "--reports",
        choices=("all", "json"),
        default=os.environ.get("CPMCONF_REPORTS") or "all",
        help="all: every report format, as `cpmconf run` writes (default); json: only "
        "compliance.json and the pcaps (the kill matrix's many runs; env CPMCONF_REPORTS)",
    )
    parser.addini(
        "cpmconf_testcases",
        "folders holding conformance test cases",
        type="linelist",
        default=["testcases"],
    )


def conformance_args(config: pytest.Config) -> bool:
    """Whether the command line names conformance test cases (a folder, file or node id)."""
    root = Path(str(config.rootpath))
    folders = [(root / f).resolve() for f in config.getini("cpmconf_testcases")]
    for arg in config.args:
        path = Path(str(arg).split("::", 1)[0])
        path = (Path(str(config.invocation_params.dir)) / path).resolve()
        if any(path == f or f in path.parents or path in f.parents for f in folders):
            return True
    return False


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "clause(*ids): the catalogue clause ids a conformance test case judges"
    )
    config.addinivalue_line(
        "markers", "robustness: the robustness group (invalid input), `cpmconf run -m robustness`"
    )
    config.addinivalue_line(
        "markers",
        "tls: a transport variant over TLS, run only when the profile runs a role over TLS "
        '(`transport = "tls"`); deselected otherwise',
    )
    config.stash[STATE_KEY] = RunState(config)
    if (
        conformance_args(config)
        and config.getoption("--reports") == "all"
        and not config.getoption("collectonly")
        and not getattr(config, "workerinput", None)
    ):
        # Plain pytest writes what `cpmconf run` writes: pytest's JUnit and the Allure
        # results beside compliance.json (before junitxml and allure-pytest configure).
        # pytest has no public setter for another plugin's option: config.option (the
        # documented namespace getoption reads) is written directly.
        out = report_dir(config)
        if not config.getoption("xmlpath"):
            config.option.xmlpath = str(out / "junit.xml")
        if not config.getoption("allure_report_dir", None):
            if hasattr(config.option, "allure_report_dir"):
                config.option.allure_report_dir = str(out / "allure-results")


def is_conformance(item: pytest.Item) -> bool:
    root = Path(str(item.config.rootpath))
    path = Path(str(item.path)).resolve()
    for folder in item.config.getini("cpmconf_testcases"):
        base = (root / folder).resolve()
        if base == path or base in path.parents:
            return True
    return False


def report_dir(config: pytest.Config) -> Path:
    state = config.stash[STATE_KEY]
    if state.report_dir is None:
        opt = config.getoption("--report-dir")
        if opt:
            state.report_dir = Path(opt)
        else:
            stamp = state.started.strftime("%Y%m%d-%H%M%S")
            state.report_dir = Path(str(config.rootpath)) / "reports" / stamp
        state.report_dir.mkdir(parents=True, exist_ok=True)
    return state.report_dir


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items) -> None:
    conformance = [i for i in items if is_conformance(i)]
    if not conformance:
        return
    state = config.stash[STATE_KEY]
    try:
        state.catalogue = _catalogue.load()
    except _catalogue.CatalogueError as exc:
        raise pytest.UsageError(str(exc)) from exc
    sut = config.getoption("--sut")
    try:
        state.profile = load_profile(profile_path(sut))
    except _catalogue.DataNotFound as exc:
        raise pytest.UsageError(str(exc)) from exc
    except ProfileError as exc:
        raise pytest.UsageError(f"target profile rejected: {exc}") from exc
    state.run_info.update(
        {
            "target": state.profile.name,
            "profile": str(profile_path(sut)),
            "sut": sut,
            "faults": list(config.getoption("--sut-fault")),
            "command": command_line(config),
            "profile_sha256": _sha256(profile_path(sut)),
            "suite": {"version": __version__, "commit": git_commit()},
            "entities": entities(state.profile),
        }
    )
    problems = []
    for item in conformance:
        ids = tuple(i for m in item.iter_markers("clause") for i in m.args)
        if not ids:
            problems.append(f"{item.nodeid}: no @pytest.mark.clause(...) marker")
            continue
        unknown = [i for i in ids if i not in state.catalogue]
        if unknown:
            problems.append(f"{item.nodeid}: unknown clause id(s) {', '.join(unknown)}")
            continue
        item.stash[CLAUSES_KEY] = ids
    if problems:
        raise pytest.UsageError(
            "conformance test cases must name catalogue clauses:\n  " + "\n  ".join(problems)
        )
    if not state.profile.uses_tls:
        # A TLS variant needs a SUT that speaks TLS; the default profile keeps its cases
        # (and its run time) to UDP and TCP.
        drop = [i for i in items if i.get_closest_marker("tls") is not None]
        if drop:
            config.hook.pytest_deselected(items=drop)
            items[:] = [i for i in items if i.get_closest_marker("tls") is None]
    prefixes = config.getoption("--clause")
    if prefixes:
        # The catalogue's matching: case-insensitive, `8.3.2.1` for `TS-8.3.2.1`; a prefix
        # that selects no clause at all is a typo, said with its did-you-mean.
        cat = state.catalogue
        problem = _catalogue.unmatched_prefixes(cat, prefixes)
        if problem:
            raise pytest.UsageError(problem)
        keep, drop = [], []
        for item in items:
            ids = item.stash.get(CLAUSES_KEY, ())
            if not is_conformance(item) or any(
                cat.get(i).matches_prefix(p) for i in ids for p in prefixes
            ):
                keep.append(item)
            else:
                drop.append(item)
        if drop:
            config.hook.pytest_deselected(items=drop)
            items[:] = keep
    for item in items:
        if CLAUSES_KEY in item.stash:
            _allure_labels(item, state.catalogue)


def command_line(config: pytest.Config) -> str:
    """The command as typed: `cpmconf run ...` sets CPMCONF_COMMAND, else pytest's own."""
    typed = os.environ.get("CPMCONF_COMMAND")
    if typed:
        return typed
    return shlex.join(["pytest", *map(str, config.invocation_params.args)])


def _sha256(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def git_commit() -> str | None:
    """The suite's git commit (with `+dirty` for local changes), or None outside a checkout."""
    try:
        head = subprocess.run(
            ["git", "-C", str(_catalogue.REPO_ROOT), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
        if head.returncode != 0:
            return None
        dirty = subprocess.run(
            [
                "git",
                "-C",
                str(_catalogue.REPO_ROOT),
                "status",
                "--porcelain",
                "--untracked-files=no",
            ],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def entities(profile: Profile) -> dict:
    """Who the test system plays, as the reports need it to name a message's sender or
    receiver: devices by +sip.instance, users, originators, the IWF, the SUT's identities."""
    out: dict = {
        "devices": [
            {"name": d.name, "user": u.uri, "instance": d.instance.strip("<>")}
            for u in profile.users
            for d in u.devices
        ],
        "users": [u.uri for u in profile.users],
        "originators": list(profile.originators),
        "blocked": sorted({b for u in profile.users for b in u.blocked}),
    }
    if profile.pf is not None:
        out["pf"] = profile.pf.server_identity
        if profile.pf.deferred is not None:
            out["iwf"] = profile.pf.deferred.iwf
            out["management"] = profile.pf.deferred.management
    if profile.client is not None:
        out["client"] = profile.client.user
    return out


def pytest_collection_finish(session: pytest.Session) -> None:
    """Record what a narrowed run selected: coverage is then reported against it."""
    config = session.config
    state = config.stash[STATE_KEY]
    if state.catalogue is None:
        return
    how = {
        "clause": list(config.getoption("--clause") or []),
        "markexpr": config.getoption("markexpr", "") or "",
        "keyword": config.getoption("keyword", "") or "",
    }
    if not any(how.values()):
        return
    chosen = [i for i in session.items if CLAUSES_KEY in i.stash]
    claimed = sorted({c for i in chosen for c in i.stash[CLAUSES_KEY]})
    state.run_info["selection"] = {**how, "tests": len(chosen), "clauses": claimed}


def _allure_labels(item: pytest.Item, cat: _catalogue.Catalogue) -> None:
    """epic = document title, feature = section, story = clause id, one label per clause,
    and the test id (the report layer adds the evidence to the result by it)."""
    try:
        import allure
    except ImportError:  # allure-pytest is a dependency, but labels are optional decoration
        return
    ids = item.stash[CLAUSES_KEY]
    first = cat.get(ids[0])
    item.add_marker(allure.epic(cat.vocabulary.title_of(first.source)))
    item.add_marker(allure.feature(first.full_section))
    item.add_marker(allure.label("cpmconf_test", item.nodeid))
    for cid in ids:
        c = cat.get(cid)
        item.add_marker(allure.story(cid))
        item.add_marker(allure.label("clause", cid))
        item.add_marker(allure.label("level", c.level))
        item.add_marker(allure.tag(c.role))


def expectations_for(item: pytest.Item) -> Expectations:
    """The soft-assertion collector for a conformance item, created on first use."""
    if EXPECT_KEY not in item.stash:
        cat = item.config.stash[STATE_KEY].catalogue
        ids = item.stash[CLAUSES_KEY]
        item.stash[EXPECT_KEY] = Expectations(
            {i: (cat.get(i).level, cat.get(i).summary) for i in ids}, case=item.nodeid
        )
    return item.stash[EXPECT_KEY]


def evidence_for(item: pytest.Item) -> dict:
    if EVIDENCE_KEY not in item.stash:
        item.stash[EVIDENCE_KEY] = {"stimuli": [], "messages": [], "pcap": None, "notes": []}
    return item.stash[EVIDENCE_KEY]


@pytest.fixture(autouse=True)
def _cpm_coroutine_runner(request: pytest.FixtureRequest) -> None:
    """Hand an async case the session's loop runner and its overall bound: the call hook
    below has no fixture request of its own, and this is the public way to get one."""
    node = request.node
    if CLAUSES_KEY in node.stash and inspect.iscoroutinefunction(getattr(node, "obj", None)):
        node.stash[RUNNER_KEY] = (
            request.getfixturevalue("cpm_loop"),
            request.getfixturevalue("cpm_test_budget"),
        )


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function):
    if CLAUSES_KEY not in pyfuncitem.stash:
        return None
    fn = pyfuncitem.obj
    # The test function's own parameters (fixtures and parametrized values) by name.
    funcargs = pyfuncitem.funcargs
    args = {n: funcargs[n] for n in inspect.signature(fn).parameters if n in funcargs}
    exp = expectations_for(pyfuncitem)
    RENDERED.open()
    try:
        if inspect.iscoroutinefunction(fn):
            runner, budget = pyfuncitem.stash[RUNNER_KEY]
            try:
                runner.run(fn(**args), budget)
            except TimeoutError as exc:
                if isinstance(exc, NoAnswer):
                    raise
                raise Inconclusive(
                    f"the test did not finish within its overall bound of {budget:g} s; "
                    "the SUT kept the exchange open or answered too slowly"
                ) from None
        else:
            fn(**args)
    except (Inconclusive, NoAnswer, SetupRefused, UpperTesterError):
        # A clause already judged failed stays failed: the later precondition does not
        # excuse what the SUT already did wrong.
        if exp.has_failures():
            exp.raise_if_failed()
        raise
    finally:
        pyfuncitem.stash[RENDERED_KEY] = RENDERED.take()
    missing = exp.unjudged()
    if missing:
        raise HarnessError(f"the test judged nothing for claimed clause(s) {', '.join(missing)}")
    exp.raise_if_failed()
    return True


def classify(excinfo) -> tuple[Verdict, str, Cause | None]:
    """Map an exception to a verdict, the reason a user reads and its cause (None: pass)."""
    if excinfo is None:
        return Verdict.PASS, "", None
    exc = excinfo.value
    if isinstance(exc, ClauseViolation):
        return exc.verdict, str(exc), Cause.VIOLATION
    if isinstance(exc, Inconclusive):
        return Verdict.INCONCLUSIVE, exc.reason, exc.cause
    if isinstance(exc, NoAnswer):
        return Verdict.INCONCLUSIVE, f"precondition not met: {exc}", Cause.NO_ANSWER
    if isinstance(exc, SetupRefused):
        return Verdict.INCONCLUSIVE, str(exc), Cause.REFUSED
    if isinstance(exc, UpperTesterError):
        return Verdict.INCONCLUSIVE, f"upper tester: {exc}", Cause.UPPER_TESTER
    if isinstance(exc, NotApplicable):
        return Verdict.NOT_APPLICABLE, exc.reason, Cause.NOT_APPLICABLE
    if isinstance(exc, pytest.skip.Exception):
        msg = str(exc)
        if msg.startswith("not-applicable:"):
            return Verdict.NOT_APPLICABLE, msg.split(":", 1)[1].strip(), Cause.NOT_APPLICABLE
        return Verdict.INCONCLUSIVE, msg, Cause.PRECONDITION
    if isinstance(exc, StimulusError | SetupError | HarnessError):
        return Verdict.ERROR, f"harness error: {exc}", Cause.HARNESS
    return Verdict.ERROR, f"harness error: {type(exc).__name__}: {exc}", Cause.HARNESS


# trylast: the innermost wrapper, so pytest's junitxml, the terminal and allure-pytest's own
# wrapper all read the report after its outcome was made to agree with the verdict.
@pytest.hookimpl(hookwrapper=True, trylast=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    if CLAUSES_KEY not in item.stash:
        return
    report = outcome.get_result()
    if call.when == "setup" and call.excinfo is None:
        return
    verdict, reason, cause = classify(call.excinfo)
    state = item.stash.get(OUTCOME_KEY, None)
    if call.when == "teardown":
        if (
            call.excinfo is not None
            and state is not None
            and state["verdict"] != Verdict.ERROR.value
        ):
            state["verdict"] = Verdict.ERROR.value
            state["reason"] += f"\nteardown: {reason}"
            state["cause"] = Cause.HARNESS.value
            state["clauses"] = {c: Verdict.ERROR for c in state["clauses"]}
        return
    exp = item.stash.get(EXPECT_KEY, None)
    decision = decide(
        item.stash[CLAUSES_KEY],
        exp.findings if exp else [],
        Outcome(verdict, reason, cause),
        exp.inapplicable if exp else None,
    )
    item.stash[OUTCOME_KEY] = {
        "verdict": decision.verdict.value,
        "reason": decision.reason,
        "cause": decision.cause.value if decision.cause else None,
        "clauses": decision.clauses,
    }
    _agree(item, call, report, decision)


def _agree(item: pytest.Item, call: pytest.CallInfo, report, decision) -> None:
    """Make pytest's outcome (console, junit.xml, allure) say what the verdict says."""
    verdict, reason = decision.verdict, decision.reason
    strict = item.config.getoption("--strict-should")
    report.user_properties.append(("cpmconf_verdict", verdict.value))
    if verdict == Verdict.PASS:
        report.outcome, report.longrepr = "passed", None
    elif verdict == Verdict.NON_STRICT and not strict:
        report.outcome, report.longrepr = "passed", None
        report.user_properties.append(("verdict", verdict.value))
        report.sections.append(("cpmconf non-strict", reason))
    elif verdict in (Verdict.FAIL, Verdict.NON_STRICT):
        # The findings are the whole story: no harness source under them.
        report.outcome, report.longrepr = "failed", reason
    elif verdict in (Verdict.INCONCLUSIVE, Verdict.NOT_APPLICABLE):
        report.outcome = "skipped"
        report.longrepr = (str(item.path), item.location[1] or 0, f"{verdict.value}: {reason}")
    else:  # error: the harness failed, so a short traceback helps whoever fixes it
        report.outcome = "failed"
        if call.excinfo is not None:
            trace = item.repr_failure(call.excinfo)  # honours --tb
            report.longrepr = f"{reason}\n{trace}"
        else:
            report.longrepr = reason


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem):
    start = time.time()
    yield
    if CLAUSES_KEY not in item.stash:
        return
    state = item.config.stash[STATE_KEY]
    outcome = item.stash.get(OUTCOME_KEY, {"verdict": Verdict.ERROR.value, "reason": "no outcome"})
    exp = item.stash.get(EXPECT_KEY, None)
    evidence = item.stash.get(
        EVIDENCE_KEY, {"stimuli": [], "messages": [], "pcap": None, "notes": []}
    )
    clauses = outcome.get("clauses") or {
        c: Verdict(outcome["verdict"]) for c in item.stash[CLAUSES_KEY]
    }
    verdict = outcome["verdict"]
    rendered = item.stash.get(RENDERED_KEY, [])
    evidence["templates"] = [name for name, _ in rendered]
    for name, clause in unclaimed(rendered, item.stash[CLAUSES_KEY]):
        # The template says it embodies a clause this case does not test: the harness's
        # bookkeeping is wrong (split the template, or claim the clause), not the SUT.
        problem = f"{item.nodeid}: template {name} names {clause}, which the case does not claim"
        state.run_info.setdefault("template_problems", []).append(problem)
    state.results.append(
        {
            "id": item.nodeid,
            "name": item.name,
            "clauses": list(item.stash[CLAUSES_KEY]),
            "verdict": verdict,
            "reason": outcome["reason"],
            "cause": outcome.get("cause"),
            "clause_verdicts": {k: Verdict(v).value for k, v in clauses.items()},
            "findings": [f.to_json() for f in (exp.findings if exp else [])],
            "evidence": evidence,
            "duration": round(time.time() - start, 3),
        }
    )


def pytest_sessionfinish(session: pytest.Session, exitstatus) -> None:
    """compliance.json; the other formats are written from it by `cpmconf.report.pytest_reports`
    (for `cpmconf run` and plain pytest alike), the console lines by pytest_terminal_summary."""
    state = session.config.stash.get(STATE_KEY, None)
    if state is None or not state.results or state.catalogue is None:
        return
    doc = _results.build(state.catalogue, state.results, state.run_info, state.started)
    out = report_dir(session.config) / "compliance.json"
    out.write_text(json.dumps(doc, indent=2))
    state.doc, state.results_path = doc, out


def pytest_terminal_summary(terminalreporter, exitstatus, config: pytest.Config) -> None:
    """The conformance lines at the end of the run, each on a line of its own: the capture
    mode, every non-strict clause (pytest counts those tests as passed), the verdict counts
    and where the reports are."""
    state = config.stash.get(STATE_KEY, None)
    if state is None or state.doc is None:
        return
    tr = terminalreporter
    doc = state.doc
    non_strict = [t for t in doc["tests"] if t["verdict"] == Verdict.NON_STRICT.value]
    if non_strict and not config.getoption("--strict-should"):
        tr.write_sep("=", f"cpmconf: non-strict ({len(non_strict)}, SHOULD not followed)")
        for t in non_strict:
            tr.write_line(f"{t['id']}")
            for line in str(t["reason"]).splitlines():
                tr.write_line(f"  {line}")
    tr.ensure_newline()
    capture = doc["run"].get("capture") or {}
    if capture:
        tr.write_line(f"cpmconf: capture {capture.get('mode')}: {capture.get('reason', '')}")
    counts = doc["summary"]["tests"]
    tr.write_line(
        "cpmconf: "
        + ", ".join(f"{k} {v}" for k, v in counts.items() if v)
        + f"; results in {state.results_path}"
    )
    for problem in doc["run"].get("template_problems", []):
        tr.write_line(f"cpmconf: harness problem: {problem}")
    for line in state.report_lines:
        tr.write_line(f"cpmconf: {line}")


def pytest_report_header(config: pytest.Config) -> list[str]:
    return [f"cpmconf: sut={config.getoption('--sut')}"]
