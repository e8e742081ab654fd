"""Hypothesis profiles for the parser property tests (codec and capture self-tests).

`ci` (the default) is what CI and `./dev selftests` run: derandomized, so every run draws the
same examples, with a bounded example count and no example database on disk. `long` is for a
local hunt: random seeds and many more examples. Pick one with HYPOTHESIS_PROFILE, e.g.
`HYPOTHESIS_PROFILE=long .venv/bin/pytest selftests/codec selftests/capture -q`.

The property tests leave max_examples to the profile (only `deadline` and health checks are
set per test), so the profile decides how hard they search.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

PROFILES = {
    "ci": {"max_examples": 100, "derandomize": True, "database": None, "print_blob": True},
    "long": {"max_examples": 5000, "derandomize": False},
}


def load() -> str:
    """Register the profiles (idempotent) and load the one HYPOTHESIS_PROFILE names."""
    for name, options in PROFILES.items():
        settings.register_profile(
            name, deadline=None, suppress_health_check=[HealthCheck.too_slow], **options
        )
    name = os.environ.get("HYPOTHESIS_PROFILE", "ci")
    if name not in PROFILES:
        raise ValueError(f"HYPOTHESIS_PROFILE={name!r}: expected one of {', '.join(PROFILES)}")
    settings.load_profile(name)
    return name
