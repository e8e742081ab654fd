"""The capture layer's one error type."""

from __future__ import annotations


class CaptureError(RuntimeError):
    """Capture could not be set up or used (no privileges, no interface, did not start)."""
