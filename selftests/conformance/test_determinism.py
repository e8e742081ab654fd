"""The same SUT gives the same verdicts, run after run and in any order.

The full conformance suite runs against the embedded reference SUT `RUNS` times (20), two at a
time, each as a `cpmconf run` subprocess with a hard timeout: the first in the declared order,
every other one shuffled across all modules by pytest-random-order with its own seed
(`--random-order-bucket=global --random-order-seed=N`, so a failing order can be replayed).

Every run must finish without a harness error, and every test case and every clause must get
the same verdict in all of them. A flip is printed with the verdict, seed and reason of each
run. Flakiness found here is fixed at its cause, never by retrying.
"""

from __future__ import annotations

import collections
import concurrent.futures
import os

import pytest

from .support import RunOutcome, assert_well_formed, run_cpmconf

RUNS = int(os.environ.get("CPMCONF_DETERMINISM_RUNS", 20))
RUN_TIMEOUT = 600.0  # one whole-suite run: a hang, not a slow machine, ends here
WORKERS = 2


def order_args(i: int) -> list[str]:
    if i == 0:
        return []
    return ["--random-order-bucket=global", f"--random-order-seed={i}"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> list[RunOutcome]:
    def one(i: int) -> RunOutcome:
        out = tmp_path_factory.mktemp(f"run{i:02d}")
        return run_cpmconf(out / "report", *order_args(i), "-q", timeout=RUN_TIMEOUT)

    with concurrent.futures.ThreadPoolExecutor(WORKERS, thread_name_prefix="det") as pool:
        outcomes = list(pool.map(one, range(RUNS)))
    for i, o in enumerate(outcomes):
        print(
            f"\nrun {i} ({'declared order' if i == 0 else f'seed {i}'}): exit {o.returncode}"
            f" in {o.elapsed:.1f} s"
        )
    return outcomes


def flips(docs: list[dict], key: str) -> dict[str, list[tuple[int, str, str]]]:
    """Items (tests or clauses) whose verdict differs between runs: id -> [(run, verdict,
    reason)]."""
    seen: dict[str, list[tuple[int, str, str]]] = collections.defaultdict(list)
    for i, doc in enumerate(docs):
        for item in doc[key]:
            seen[item["id"]].append((i, item["verdict"], item.get("reason") or ""))
    return {k: v for k, v in seen.items() if len({verdict for _, verdict, _ in v}) > 1}


def describe(found: dict[str, list[tuple[int, str, str]]]) -> str:
    lines = []
    for item, per_run in sorted(found.items()):
        lines.append(item)
        for i, verdict, reason in per_run:
            order = "declared order" if i == 0 else f"seed {i}"
            lines.append(f"  run {i:2d} ({order}): {verdict}  {reason.strip()[:200]}")
    return "\n".join(lines)


def test_every_run_is_well_formed_and_passes(runs):
    assert len(runs) == RUNS
    for run in runs:
        doc = assert_well_formed(run)
        assert doc["summary"]["tests"]["error"] == 0, run.describe()


def test_no_verdict_flips_between_runs(runs):
    docs = [assert_well_formed(r) for r in runs]
    assert len({len(d["tests"]) for d in docs}) == 1, "runs selected different test cases"
    test_flips = flips(docs, "tests")
    clause_flips = flips(docs, "clauses")
    assert not test_flips and not clause_flips, (
        f"{len(test_flips)} test case(s) and {len(clause_flips)} clause(s) changed verdict "
        f"over {len(docs)} runs:\n" + describe(test_flips) + "\n" + describe(clause_flips)
    )
