"""The `cpmconf` command line: the top of the layering, dispatching to the layers below.

Exit codes are shared by every subcommand: 0 success, 3 harness error or bad usage. (`run`
adds 1 and 2 for regressions and stale baselines, and exits 3 for a run that judged nothing.)

`cpmconf run` checks its input before anything runs (fault switch names against the reference
SUT's registry, `--clause` prefixes against the catalogue) and says what is wrong in one line.
It holds pytest's output until the preflight has passed, so a run that ends before its first
case (an unusable SUT, a session that could not start, a selection of nothing) prints only
the few lines that say why.
"""

from __future__ import annotations

import argparse
import difflib
import io
import json
import os
import shlex
import sys
import textwrap
from pathlib import Path

from chaos import MODES as CHAOS_MODES
from cpmconf import catalogue

EXIT_OK = 0
EXIT_FAIL = 1
EXIT_HARNESS = 3


class _Parser(argparse.ArgumentParser):
    # argparse exits 2 on bad usage; 2 is reserved for "stale baseline" in `cpmconf run`.
    def error(self, message: str):  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_HARNESS, f"{self.prog}: error: {message}\n")


def _yes_no(value: str) -> bool:
    v = value.lower()
    if v in ("yes", "true", "1", "y"):
        return True
    if v in ("no", "false", "0", "n"):
        return False
    raise argparse.ArgumentTypeError("expected yes or no")


def _cmd_clauses(args: argparse.Namespace) -> int:
    cat = catalogue.load(args.catalogue)
    if args.role and args.role not in cat.vocabulary.roles:
        print(
            f"unknown role {args.role!r}; known: {', '.join(cat.vocabulary.roles)}", file=sys.stderr
        )
        return EXIT_HARNESS
    if args.level and args.level.upper() not in cat.vocabulary.levels:
        print(
            f"unknown level {args.level!r}; known: {', '.join(cat.vocabulary.levels)}",
            file=sys.stderr,
        )
        return EXIT_HARNESS
    if args.uncovered:
        chosen = catalogue.uncovered(cat, Path(args.testcases))
        wanted = {c.id for c in cat.select(args.role, args.level, args.section, args.testable)}
        chosen = [c for c in chosen if c.id in wanted]
    else:
        chosen = cat.select(args.role, args.level, args.section, args.testable)
    if args.json:
        json.dump([c.to_json(cat.decisions) for c in chosen], sys.stdout, indent=2)
        sys.stdout.write("\n")
        return EXIT_OK
    width = max((len(c.id) for c in chosen), default=10)
    for c in chosen:
        flag = "T" if c.testable else "-"
        sup = f" [superseded by {c.superseded_by}]" if c.superseded_by else ""
        head = f"{c.id:<{width}}  {c.level:<10} {c.role:<28} {flag}  "
        body = textwrap.shorten(c.summary + sup, width=max(40, 150 - len(head)), placeholder=" ...")
        print(head + body)
        if args.testable is False and c.reason:
            # Why the wire cannot show it: the point of asking for the untestable ones.
            print(" " * len(head) + "why: " + " ".join(c.reason.split()))
    print(f"# {len(chosen)} clause(s)", file=sys.stderr)
    return EXIT_OK


def _fault_problem(names: list[str]) -> str | None:
    """One line for the first name that is not a fault switch of the reference SUT."""
    from refsut.faults import REGISTRY  # the CLI may read the registry; the harness may not

    for name in names:
        if name not in REGISTRY:
            close = difflib.get_close_matches(name, list(REGISTRY), n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            return (
                f"--sut-fault {name!r}: the reference SUT has no such fault switch{hint} "
                f"(`cpmconf faults` lists all {len(REGISTRY)})"
            )
    return None


def _input_problem(args: argparse.Namespace) -> str | None:
    """What is wrong with `cpmconf run`'s own input, in one line, before anything starts."""
    problem = _fault_problem(args.sut_fault)
    if problem:
        return problem
    if args.clause:
        return catalogue.unmatched_prefixes(catalogue.load(), args.clause)
    return None


class _HeldOutput(io.TextIOBase):
    """pytest's stdout, held back until released, then passed straight through.

    Released once the preflight has passed (or was skipped), so a run that ends before its
    first case can drop pytest's header and summary and print only why it ended.
    """

    def __init__(self, target) -> None:
        self.target = target
        self.held: list[str] = []
        self.released = False

    def write(self, text: str) -> int:
        if self.released:
            return self.target.write(text)
        self.held.append(text)
        return len(text)

    def flush(self) -> None:
        if self.released:
            self.target.flush()

    def release(self) -> None:
        if not self.released:
            self.released = True
            self.target.write("".join(self.held))
            self.held.clear()
            self.target.flush()

    def isatty(self) -> bool:
        return self.target.isatty()

    def fileno(self) -> int:
        return self.target.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.target, "encoding", "utf-8")


class _Gate:
    """pytest plugin of `cpmconf run`: releases the held output after the preflight and keeps
    the message of a `pytest.exit` (the session ended before or between cases)."""

    def __init__(self, out: _HeldOutput) -> None:
        self.out = out
        self.exit_message: str | None = None
        self.config = None

    def pytest_configure(self, config) -> None:
        self.config = config

    def pytest_runtest_logreport(self, report) -> None:
        from cpmconf.plugin.pytest_plugin import STATE_KEY

        state = self.config.stash.get(STATE_KEY, None) if self.config else None
        if state is not None and "preflight" in state.run_info:
            self.out.release()

    def pytest_keyboard_interrupt(self, excinfo) -> None:
        import pytest

        if isinstance(excinfo.value, pytest.exit.Exception):
            self.exit_message = str(excinfo.value.msg)


def _selection(rest: list[str], args: argparse.Namespace) -> str:
    """How the run was narrowed, as the user typed it."""
    parts = [f"--clause {c}" for c in args.clause]
    it = iter(rest)
    for a in it:
        if a in ("-m", "-k"):
            parts.append(f"{a} {next(it, '')!r}")
        elif a.startswith(("-m", "-k")) and len(a) > 2:
            parts.append(f"{a[:2]} {a[2:].lstrip('=')!r}")
    return " ".join(parts) or "the test paths given"


def _suite_options(args: argparse.Namespace) -> list[str]:
    """The suite's own pytest options `cpmconf run` lists in its help, passed on to pytest."""
    out = []
    if args.strict_should:
        out.append("--strict-should")
    if args.guard is not None:
        out += ["--guard", str(args.guard)]
    if args.chaos:
        out += ["--chaos", args.chaos]
    if args.no_preflight:
        out.append("--no-preflight")
    if args.reports:
        out += ["--reports", args.reports]
    return out


def _cmd_run(args: argparse.Namespace, rest: list[str], typed: list[str] | None = None) -> int:
    """Run the conformance test cases through pytest; the exit code comes from the baseline."""
    import datetime

    import pytest

    from cpmconf.report import baseline as bl

    problem = _input_problem(args)
    if problem:
        print(f"cpmconf: {problem}", file=sys.stderr)
        return EXIT_HARNESS
    if args.update_baseline and not args.baseline:
        print(
            "cpmconf: --update-baseline needs --baseline FILE (the file to rewrite)",
            file=sys.stderr,
        )
        return EXIT_HARNESS
    try:
        known = _load_baseline(args.baseline, must_exist=not args.update_baseline)
    except bl.BaselineError as exc:
        print(f"cpmconf: {exc}", file=sys.stderr)
        return EXIT_HARNESS
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    try:
        testcases = catalogue.data_path("testcases")
    except catalogue.DataNotFound as exc:
        print(f"cpmconf: {exc}", file=sys.stderr)
        return EXIT_HARNESS
    out = Path(args.report_dir) if args.report_dir else catalogue.REPO_ROOT / "reports" / stamp
    out.mkdir(parents=True, exist_ok=True)
    argv = [
        str(testcases),
        f"--rootdir={catalogue.REPO_ROOT}",
        "--sut",
        args.sut,
        "--report-dir",
        str(out),
        f"--junitxml={out / 'junit.xml'}",
        f"--alluredir={out / 'allure-results'}",
        "-p",
        "no:cacheprovider",
        # the conformance cases use no hypothesis; loading its plugin costs ~0.5 s a run
        "-p",
        "no:hypothesispytest",
        *(a for f in args.sut_fault for a in ("--sut-fault", f)),
        *(a for c in args.clause for a in ("--clause", c)),
        *_suite_options(args),
        *rest,
    ]
    # The header of every report names the command as the user typed it.
    os.environ["CPMCONF_COMMAND"] = shlex.join(
        ["cpmconf", *(sys.argv[1:] if typed is None else typed)]
    )
    held = _HeldOutput(sys.stdout)
    gate = _Gate(held)
    sys.stdout = held
    try:
        code = int(pytest.main(argv, plugins=[gate]))
    finally:
        sys.stdout = held.target
        os.environ.pop("CPMCONF_COMMAND", None)
    if not held.released:
        # Ended before the preflight passed: pytest's header and summary say nothing here.
        if gate.exit_message:
            print(gate.exit_message, file=sys.stderr)
            return EXIT_HARNESS
        if code == pytest.ExitCode.NO_TESTS_COLLECTED:
            print(
                f"cpmconf: {_selection(rest, args)} selected no test case, so nothing ran",
                file=sys.stderr,
            )
            return EXIT_HARNESS
        held.release()
    elif gate.exit_message:  # ended between cases: what pytest printed stays, plus why
        print(gate.exit_message, file=sys.stderr)
        return EXIT_HARNESS
    strict = args.strict_should or "--strict-should" in rest
    results = out / "compliance.json"
    doc = None
    if results.exists():  # the plugin wrote it, and every other format beside it
        try:
            from cpmconf import report

            doc = report.load_results(results)
        except ValueError as exc:
            print(f"cpmconf: {exc}", file=sys.stderr)
            return EXIT_HARNESS
    if doc is None:
        print("cpmconf: the run wrote no compliance.json; nothing was judged", file=sys.stderr)
        return EXIT_HARNESS
    if args.update_baseline:
        known = bl.update(known, doc, strict)
        Path(args.baseline).write_text(bl.dump(known), encoding="utf-8")
        print(
            f"cpmconf: baseline {args.baseline} rewritten for target {doc['run'].get('target')!r}"
        )
    cmp = bl.compare(doc, known, strict)
    if args.baseline:
        for line in bl.summary_lines(cmp, known):
            print(f"cpmconf: {line}")
    if cmp.nothing_judged:
        print(f"cpmconf: {cmp.nothing_judged_line()}", file=sys.stderr)
    # pytest's own 2..5 (interrupted, internal error, usage error, nothing collected) are ours 3.
    return bl.exit_code(cmp, harness_failed=code not in (0, 1))


def _load_baseline(path: str | None, must_exist: bool):
    from cpmconf.report import baseline as bl

    if not path:
        return bl.empty()
    if not must_exist and not Path(path).exists():
        return bl.Baseline(path=Path(path))
    known = bl.load(path)
    bl.check_clauses(known, {c.id for c in catalogue.load()})
    return known


def _write_formats(results: Path, out: Path, strict: bool, allure_report: bool = True) -> dict:
    """Every report format, built from the one results JSON (`cpmconf.report.write_all`)."""
    from cpmconf import report

    paths, notes = report.write_all(results, out, strict, allure_report)
    for line in notes:
        print(f"cpmconf: {line}")
    return paths


def _cmd_report(args: argparse.Namespace) -> int:
    results = Path(args.results)
    if results.is_dir():
        results = results / "compliance.json"
    try:
        paths = _write_formats(
            results, Path(args.out) if args.out else results.parent, args.strict_should
        )
    except ValueError as exc:
        print(f"cpmconf: {exc}", file=sys.stderr)
        return EXIT_HARNESS
    for kind, path in paths.items():
        print(f"{kind}: {path}")
    return EXIT_OK


def _cmd_matrix(args: argparse.Namespace) -> int:
    from cpmconf import report

    try:
        paths = report.write_matrix([Path(r) for r in args.runs], Path(args.out), diff=args.diff)
    except ValueError as exc:
        print(f"cpmconf: {exc}", file=sys.stderr)
        return EXIT_HARNESS
    for kind, path in paths.items():
        print(f"{kind}: {path}")
    return EXIT_OK


def _cmd_mutants(args: argparse.Namespace, rest: list[str]) -> int:
    """Whole-suite runs per fault switch and the kill matrix (see cpmconf.mutants)."""
    from cpmconf import mutants

    if args.merge:
        if args.fault or args.shard or rest:
            print(
                "cpmconf: --merge joins finished slices; it takes no --fault, --shard or "
                "run arguments",
                file=sys.stderr,
            )
            return EXIT_HARNESS
        return mutants.merge_main(args.merge, args.json, args.report_dir)
    # Each run's verdicts are all the matrix reads: no HTML, JUnit or Allure per run.
    os.environ.setdefault("CPMCONF_REPORTS", "json")
    return mutants.main(
        args.fault,
        args.jobs,
        args.json,
        args.report_dir,
        args.timeout,
        rest,
        args.scope,
        args.shard,
    )


def _cmd_judge(args: argparse.Namespace) -> int:
    """Judge a stored capture with the passive checks; reports as for a run."""
    from cpmconf import judge
    from cpmconf.roles.profile import ProfileError, load_profile

    capture = Path(args.capture)
    if not capture.is_file():
        print(f"cpmconf: {capture}: no such capture file", file=sys.stderr)
        return EXIT_HARNESS
    try:
        facts = judge.from_run(Path(args.from_run)) if args.from_run else None
        target = args.target or (facts.profile if facts else None)
        if not target:
            raise ValueError("name the SUT's target profile with --target FILE (or --from-run DIR)")
        profile = load_profile(target)
        core = judge.parse_address(args.core) if args.core else (facts.core if facts else None)
        if args.sut:
            sut, source = judge.sut_addresses(profile, args.sut), "--sut"
        elif facts is not None:
            sut, source = facts.sut, facts.source
        else:
            sut, source = judge.sut_addresses(profile, [], required=False), "the profile"
            if not sut:
                sut, why = judge.discover_sut(capture, profile)
                if not sut:
                    raise ValueError(
                        f"{capture}: no sender names the profile's release in Server or "
                        "User-Agent; name the SUT with --sut HOST:PORT or --from-run DIR"
                    )
                source = f"found by Server/User-Agent: {why}"
    except (ProfileError, ValueError) as exc:
        print(f"cpmconf: {exc}", file=sys.stderr)
        return EXIT_HARNESS
    print(f"cpmconf: SUT {', '.join(f'{h}:{p}' for h, p in sut)} ({source})")
    if core is None and profile.core_port:
        core = (profile.test_system_host, profile.core_port)
    opts = judge.Options(capture, profile, str(target), sut, core, source)
    try:
        doc = judge.judge(opts)
    except (OSError, ValueError) as exc:
        print(f"cpmconf: {capture}: cannot judge the capture: {exc}", file=sys.stderr)
        return EXIT_HARNESS
    out = Path(args.report_dir) if args.report_dir else capture.parent / f"{capture.stem}-judged"
    out.mkdir(parents=True, exist_ok=True)
    if args.slices:
        print(f"cpmconf: {judge.write_slices(doc, capture, out)} pcap slice(s) in {out / 'slices'}")
    results = out / "compliance.json"
    results.write_text(json.dumps(doc, indent=1), encoding="utf-8")
    try:
        _write_formats(results, out, strict=False, allure_report=False)  # no allure results
    except ValueError as exc:
        print(f"cpmconf: {exc}", file=sys.stderr)
        return EXIT_HARNESS
    for t in doc["tests"]:
        for clause, verdict in t["clause_verdicts"].items():
            print(f"{clause:<24} {verdict:<14} {t['name']}")
    judged = sum(1 for c in doc["clauses"] if c["tests"])
    if judge.nothing_judged(doc):
        print(
            f"cpmconf: nothing judged: no passive check passed or failed a clause "
            f"({len(doc['tests'])} check(s) selected a message); reports in {out}",
            file=sys.stderr,
        )
        return EXIT_HARNESS
    print(f"cpmconf: {judged} clause(s) judged passively; reports in {out}")
    if any(t["verdict"] == "error" for t in doc["tests"]):
        return EXIT_HARNESS
    return EXIT_FAIL if any(t["verdict"] == "fail" for t in doc["tests"]) else EXIT_OK


def _cmd_sut(args: argparse.Namespace) -> int:
    """Run the reference SUT standalone, configured from a target profile."""
    import json
    import subprocess
    import tempfile

    from cpmconf.roles.profile import ProfileError, load_profile
    from cpmconf.roles.sut import refsut_config

    try:
        profile = load_profile(args.target)
    except ProfileError as exc:
        print(f"cpmconf: {exc}", file=sys.stderr)
        return EXIT_HARNESS
    core = (profile.test_system_host, profile.core_port)
    if core[1] == 0:
        print(
            "cpmconf: the profile must fix test_system.core_port for a standalone SUT",
            file=sys.stderr,
        )
        return EXIT_HARNESS
    with tempfile.TemporaryDirectory() as tmp:
        cfg = refsut_config(profile, core, Path(tmp) / "store.sqlite", list(args.fault))
        path = Path(tmp) / "refsut.json"
        path.write_text(json.dumps(cfg))
        try:
            return subprocess.call([sys.executable, "-m", "refsut", "--config", str(path)])
        except KeyboardInterrupt:
            return EXIT_OK


def _cmd_faults(args: argparse.Namespace) -> int:
    """The reference SUT's fault switches, one line each: name, clause, what breaks; or with
    --summary the registry's figures, one line each (the README's counts come from these)."""
    from refsut.faults import REGISTRY

    if args.summary:
        from cpmconf import mutants

        for label, count in mutants.registry_summary():
            print(f"{label}: {count}")
        return EXIT_OK
    chosen = [f for f in REGISTRY.values() if not args.clause or f.clause.startswith(args.clause)]
    width = max((len(f.name) for f in chosen), default=10)
    for f in chosen:
        print(f"{f.name:<{width}}  {f.clause:<24} {f.description}")
    print(f"# {len(chosen)} switch(es); use with `cpmconf run --sut-fault NAME`", file=sys.stderr)
    return EXIT_OK


_RUN_EPILOG = (
    "exit codes, highest precedence first when several apply: "
    "3 harness error or bad usage (including a bad baseline file, named with its key, an "
    "unknown fault switch or clause prefix, a selection of no case, an unusable SUT found by "
    "the preflight), or nothing judged (no clause passed or failed); "
    "1 a failure not in the baseline (without --baseline, any failure); "
    "2 a baseline entry that now passes (stale; the message names the entry); "
    "0 only passes, plus failures the baseline lists"
)




class _OneLine(argparse.HelpFormatter):
    """Help with every option on one line (wide enough for the longest)."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=30, width=150)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="cpmconf", description="OMA CPM standalone messaging conformance suite")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("clauses", help="list and filter the clause catalogue")
    p.add_argument("--role", help="only clauses binding this role")
    p.add_argument("--level", help="only clauses of this level (SHALL, SHOULD, ...)")
    p.add_argument("--section", help="section prefix, e.g. TS-7.2.3 or 8.3.2.1")
    p.add_argument("--testable", type=_yes_no, metavar="yes|no", help="filter on testability")
    p.add_argument("--json", action="store_true", help="one JSON object per clause, all fields")
    p.add_argument(
        "--uncovered",
        action="store_true",
        help="testable, governing clauses that no test case claims with a clause marker",
    )
    p.add_argument(
        "--testcases",
        default=str(catalogue.REPO_ROOT / "testcases"),
        help="folder of conformance test cases read by --uncovered",
    )
    p.add_argument("--catalogue", default=None, help="catalogue folder (default: clauses/)")
    p.set_defaults(func=_cmd_clauses)

    p = sub.add_parser(
        "run",
        help="run the conformance suite (extra arguments go to pytest)",
        description="Run the conformance suite; every other argument goes to pytest "
        "(-m, -k, -x, -q, --random-order-seed=N, ...).",
        epilog=_RUN_EPILOG,
        formatter_class=_OneLine,
    )
    p.add_argument("--sut", default="embedded", help="'embedded' or a target profile (TOML)")
    p.add_argument("--report-dir", default=None, help="report folder (default reports/<time>)")
    p.add_argument(
        "--baseline", default=None, metavar="FILE", help="known failures (docs/baselines.md)"
    )
    p.add_argument(
        "--update-baseline", action="store_true", help="rewrite --baseline from this run"
    )
    p.add_argument(
        "--sut-fault",
        action="append",
        default=[],
        metavar="NAME",
        help="a fault of the reference SUT, repeatable (cpmconf faults)",
    )
    p.add_argument(
        "--clause",
        action="append",
        default=[],
        metavar="PREFIX",
        help="only cases claiming a clause under this prefix (TS-8.3.2.1, 8.3.2.1, RB-sip)",
    )
    p.add_argument(
        "--strict-should", action="store_true", help="a SHOULD not followed fails the run"
    )
    p.add_argument("--guard", type=float, metavar="S", help="every wait's guard time in seconds")
    p.add_argument(
        "--chaos", metavar="MODE", help="chaos proxy before the SUT: " + ", ".join(CHAOS_MODES)
    )
    p.add_argument(
        "--no-preflight", action="store_true", help="skip the check that the SUT is usable"
    )
    p.add_argument(
        "--reports",
        choices=("all", "json"),
        default=None,
        help="all report formats (default) or compliance.json only",
    )
    p.set_defaults(func=_cmd_run, passthrough=True)

    p = sub.add_parser("faults", help="list the reference SUT's fault switches")
    p.add_argument("--clause", default=None, help="only switches whose clause has this prefix")
    p.add_argument(
        "--summary",
        action="store_true",
        help="the registry's figures instead: switches in total and per place, claimed clauses, "
        "targets, also",
    )
    p.set_defaults(func=_cmd_faults)

    p = sub.add_parser("report", help="build every report format from a results JSON")
    p.add_argument("results", help="compliance.json, or the run folder holding it")
    p.add_argument("--out", default=None, help="output folder (default: beside the results)")
    p.add_argument("--strict-should", action="store_true", help="non-strict fails in JUnit")
    p.set_defaults(func=_cmd_report)

    p = sub.add_parser("matrix", help="interop matrix across several runs")
    p.add_argument("runs", nargs="+", help="run folders or compliance.json files")
    p.add_argument("--out", required=True, help="output folder for matrix.html and matrix.md")
    p.add_argument(
        "--diff", action="store_true", help="only the clauses whose verdict differs between runs"
    )
    p.set_defaults(func=_cmd_matrix)

    p = sub.add_parser(
        "mutants",
        help="run the suite once per fault switch of the reference SUT and print the kill matrix"
        " (exit 1 survivor, 2 collateral, 3 harness error; extra arguments go to each run)",
    )
    p.add_argument("--fault", action="append", default=[], help="only this switch (repeatable)")
    p.add_argument("--jobs", type=int, default=0, help="runs at a time (default: CPU cores)")
    p.add_argument("--json", default=None, metavar="OUT", help="also write the matrix here")
    p.add_argument("--report-dir", default=None, help="folder (default reports/mutants-<time>)")
    p.add_argument("--timeout", type=float, default=300.0, help="hard timeout of each run (s)")
    p.add_argument(
        "--scope",
        choices=("full", "target"),
        default="full",
        help="full: the whole suite per switch (default); target: only the cases claiming the "
        "switch's clause (faster; collateral only among the clauses those cases judge)",
    )
    p.add_argument(
        "--shard",
        default=None,
        metavar="I/N",
        help="run only the I-th of N deterministic slices of the switches (with its own "
        "baseline); join the slices' folders with --merge",
    )
    p.add_argument(
        "--merge",
        nargs="+",
        default=None,
        metavar="DIR",
        help="join the folders (or mutants.json files) of every slice into one matrix; "
        "same exit codes; nothing is run",
    )
    p.set_defaults(func=_cmd_mutants, passthrough=True)

    p = sub.add_parser(
        "judge",
        help="judge a stored capture (pcap) with the passive checks, no stimulus",
        epilog="exit codes: 0 no clause failed; 1 a clause failed; 3 harness error, bad usage, "
        "or nothing judged (no clause passed or failed)",
    )
    p.add_argument("capture", help="the capture file (pcap or pcapng)")
    p.add_argument(
        "--target", default=None, help="target profile (TOML) of the SUT (default: the run's)"
    )
    p.add_argument(
        "--from-run",
        default=None,
        metavar="DIR",
        help="a finished run's folder: the SUT's (and core's) addresses and profile come from it",
    )
    p.add_argument("--core", default=None, metavar="HOST:PORT", help="the SIP/IP core's address")
    p.add_argument(
        "--slices",
        action="store_true",
        help="also write, per check, a pcap of the frames its findings cite (pcap input only)",
    )
    p.add_argument(
        "--sut",
        action="append",
        default=[],
        metavar="HOST:PORT",
        help="an address the SUT sends from (repeatable; default: the profile's fixed ports, "
        "else found by Server/User-Agent)",
    )
    p.add_argument("--report-dir", default=None, help="output folder (default: <capture>-judged)")
    p.set_defaults(func=_cmd_judge)

    p = sub.add_parser("sut", help="run the reference SUT standalone from a target profile")
    p.add_argument("--target", required=True, help="target profile (TOML)")
    p.add_argument("--fault", action="append", default=[], help="switch on a fault (repeatable)")
    p.set_defaults(func=_cmd_sut)
    return parser


def main(argv: list[str] | None = None) -> int:
    args, rest = build_parser().parse_known_args(argv)
    if rest and not getattr(args, "passthrough", False):
        build_parser().error(f"unrecognized arguments: {' '.join(rest)}")
    try:
        if args.func is _cmd_run:
            return _cmd_run(args, rest, argv)
        if getattr(args, "passthrough", False):
            return args.func(args, rest)
        return args.func(args)
    except catalogue.CatalogueError as exc:
        print(f"cpmconf: {exc}", file=sys.stderr)
        return EXIT_HARNESS
    except BrokenPipeError:
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
