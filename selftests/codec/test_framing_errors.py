"""A framing error keeps the messages completed before it (FramingError.frames)."""

import pytest

from cpmconf.codec.errors import CodecError, FramingError
from cpmconf.codec.framing import SipStreamFramer

GOOD = (
    b"OPTIONS sip:a@example.net SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:5060;branch=z9hG4bK1\r\n"
    b"Call-ID: c1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
)


def test_frames_before_garbage_are_kept_on_the_error():
    framer = SipStreamFramer()
    with pytest.raises(FramingError) as info:
        framer.feed(GOOD + b"\x16\x03\x01garbage that is not SIP\r\n\r\n", 1.0)
    assert [f.raw for f in info.value.frames] == [GOOD]
    assert isinstance(info.value, CodecError) and framer.broken
