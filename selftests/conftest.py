"""Splits the self-tests into the quick ones and the long proofs.

The long proofs (the target-scope kill matrix, the determinism repeats, the chaos modes) each
run the conformance suite many times over; together they take most of the self-test time, so
they carry the `proof` marker and run through `./dev proofs`, while `./dev selftests` runs the
rest. CI runs both. The list is by module so a test file never has to know which run it is in.
"""

from __future__ import annotations

from pathlib import Path

import pytest

PROOF_MODULES = {
    "conformance/test_fault_kills.py",
    "conformance/test_determinism.py",
    "conformance/test_chaos.py",
}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "proof: a long proof (kill matrix, determinism, chaos), run by ./dev proofs"
    )


def pytest_collection_modifyitems(config: pytest.Config, items) -> None:
    here = Path(__file__).parent
    for item in items:
        try:
            rel = Path(str(item.path)).relative_to(here).as_posix()
        except ValueError:
            continue
        if rel in PROOF_MODULES:
            item.add_marker(pytest.mark.proof)
