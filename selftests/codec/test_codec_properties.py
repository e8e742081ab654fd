"""Property tests (hypothesis) for the framer and the header parsers.

The invariants: framing does not depend on how the stream is cut, valid values survive a
parse/render round trip, and on arbitrary input nothing but CodecError escapes a parser.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cpmconf.codec.cpim import CpimMessage
from cpmconf.codec.errors import CodecError
from cpmconf.codec.framing import SipStreamFramer
from cpmconf.codec.headers import (
    AcceptContact,
    ContactFeatures,
    ConversationId,
    Expires,
    FeatureSet,
    MessageUID,
    PPreferredService,
    Privacy,
    ReleaseVersion,
    ReplyTo,
    WarningHeader,
)
from cpmconf.codec.resource_lists import ResourceList
from cpmconf.codec.sip import SipMessage, build_message

FAST = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])

BASE = [
    ("Via", "SIP/2.0/TCP 127.0.0.1:5060;branch=z9hG4bK1"),
    ("From", "<sip:alice@example.net>;tag=1"),
    ("To", "<sip:bob@example.net>"),
    ("Call-ID", "c1"),
    ("CSeq", "1 MESSAGE"),
]

bodies = st.binary(max_size=300) | st.sampled_from([b"", b"\r\n\r\n", b"MESSAGE x SIP/2.0\r\n\r\n"])


@st.composite
def streams(draw):
    """(messages, stream bytes, cut points) with keep-alives sprinkled between messages."""
    msgs = [
        build_message("MESSAGE sip:bob@example.net SIP/2.0", BASE, body)
        for body in draw(st.lists(bodies, min_size=1, max_size=4))
    ]
    stream = b""
    for m in msgs:
        stream += draw(st.sampled_from([b"", b"\r\n", b"\r\n\r\n"])) + m
    stream += draw(st.sampled_from([b"", b"\r\n\r\n"]))
    cuts = sorted(draw(st.lists(st.integers(0, len(stream)), max_size=12)))
    return msgs, stream, cuts


@FAST
@given(streams())
def test_framer_independent_of_cuts(case):
    msgs, stream, cuts = case
    framer = SipStreamFramer()
    got = []
    prev = 0
    for cut in [*cuts, len(stream)]:
        got += [f.raw for f in framer.feed(stream[prev:cut], 0.0)]
        prev = cut
    assert got == msgs
    assert framer.pending() == 0
    for raw in got:
        assert SipMessage.parse(raw).content_length_ok


@FAST
@given(st.lists(st.binary(max_size=200), max_size=6))
def test_framer_only_codec_error_on_garbage(chunks):
    framer = SipStreamFramer(max_size=512)
    try:
        for chunk in chunks:
            framer.feed(chunk, 0.0)
            assert framer.pending() <= 512 + 200
    except CodecError:
        assert framer.broken


@FAST
@given(st.data())
def test_sip_parse_mutations_only_codec_error(data):
    raw = build_message("MESSAGE sip:bob@example.net SIP/2.0", BASE, b"body")
    pos = data.draw(st.integers(0, len(raw) - 1))
    junk = data.draw(st.binary(min_size=0, max_size=4))
    mutated = raw[:pos] + junk + raw[pos + data.draw(st.integers(0, 3)) :]
    try:
        msg = SipMessage.parse(mutated)
    except CodecError:
        return
    assert bytes(msg) == mutated
    msg.summary()


PARSERS = [
    AcceptContact,
    ContactFeatures,
    WarningHeader,
    PPreferredService,
    ConversationId,
    MessageUID,
    ReleaseVersion,
    Privacy,
    ReplyTo,
    Expires,
]
header_text = st.text(alphabet=st.sampled_from(list(' <>";,=:@*+%().\\/-az09!~\t')), max_size=40)


@pytest.mark.parametrize("cls", PARSERS, ids=lambda c: c.__name__)
@settings(deadline=None)
@given(text=header_text | st.text(max_size=30))
def test_header_parsers_only_codec_error_and_round_trip(cls, text):
    try:
        value = cls.parse(text)
    except CodecError:
        return
    assert str(value) == text
    assert cls.parse(str(value)) == value


@FAST
@given(st.lists(st.text(min_size=1, max_size=20).filter(lambda s: "\x00" not in s), min_size=1))
def test_icsi_encoding_round_trip(urns):
    fs = FeatureSet.build(icsi=urns)
    assert fs.icsi_refs() == urns
    assert all(fs.has_icsi(u) for u in urns)
    assert fs.icsi_encoded_ok()


@FAST
@given(st.integers(-(2**40), 2**40))
def test_message_uid_range(n):
    try:
        assert MessageUID.parse(str(n)).value == n
        assert 1 <= n <= 2**32 - 1
    except CodecError:
        assert not 1 <= n <= 2**32 - 1


@FAST
@given(st.binary(max_size=200))
def test_cpim_and_resource_list_only_codec_error(data):
    for cls in (CpimMessage, ResourceList):
        try:
            cls.parse(data)
        except CodecError:
            pass
