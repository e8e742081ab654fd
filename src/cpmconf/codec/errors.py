"""The single parse error of the codec layer.

Every parser in :mod:`cpmconf.codec` turns bad input into a :class:`CodecError`, so callers
need one ``except`` clause and a conformance check can report *what* failed to parse and
*why* without guessing from a generic exception.
"""

from __future__ import annotations


class CodecError(ValueError):
    """Input that a codec parser (or builder) could not accept.

    ``what`` names the thing being parsed ("SIP start line", "Warning header", ...) and
    ``detail`` says what was wrong with it.
    """

    def __init__(self, what: str, detail: str) -> None:
        super().__init__(f"{what}: {detail}")
        self.what = what
        self.detail = detail

    def __reduce__(self):  # keep pickling (pytest-xdist, multiprocessing) working
        return (type(self), (self.what, self.detail))


class FramingError(CodecError):
    """A stream lost its framing; `frames` holds the messages completed before the fault.

    They arrived intact and in order, so a receiver delivers them before reporting the error.
    """

    def __init__(self, what: str, detail: str, frames: tuple = ()) -> None:
        super().__init__(what, detail)
        self.frames = tuple(frames)

    def __reduce__(self):
        return (type(self), (self.what, self.detail, self.frames))
