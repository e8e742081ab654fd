"""Codec self-tests: load the hypothesis profile before any test module builds its settings."""

from selftests.codec.hypothesis_profiles import load

load()
