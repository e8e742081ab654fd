"""The `cpmconf` command line: the top of the layering, dispatching to the layers below.

Exit codes are shared by every subcommand: 0 success, 3 harness error or bad usage. (`run`
adds 1 and 2 for regressions and stale baselines.)
"""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from pathlib import Path

from cpmconf import catalogue

EXIT_OK = 0
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
    print(f"# {len(chosen)} clause(s)", file=sys.stderr)
    return EXIT_OK


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
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except catalogue.CatalogueError as exc:
        print(f"cpmconf: {exc}", file=sys.stderr)
        return EXIT_HARNESS
    except BrokenPipeError:
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
