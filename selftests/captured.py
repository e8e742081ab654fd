"""Self-test helper: a parsed message as the capture View would hand it to a check."""

from cpmconf.capture.view import Seen


def captured(msg, from_sut: bool = True, index: int = 1, flow=None) -> Seen:
    return Seen.captured(index, float(index), from_sut, msg, flow)
