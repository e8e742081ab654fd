"""Self-tests for cpmconf.codec.sdp: exact round trip, MSRP attributes, builder, bad input."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cpmconf.codec.errors import CodecError
from cpmconf.codec.msrp import MsrpUri
from cpmconf.codec.sdp import (
    Connection,
    Origin,
    SessionDescription,
    build_sdp,
    format_file_selector,
    parse_file_selector,
)

FAST = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])

GOLDEN = (
    "v=0\r\n"
    "o=alice 2890844526 2890844527 IN IP4 alicepc.example.com\r\n"
    "s=-\r\n"
    "c=IN IP4 alicepc.example.com\r\n"
    "t=0 0\r\n"
    "a=recvonly\r\n"
    "m=message 7777 TCP/MSRP *\r\n"
    "a=accept-types:message/cpim text/plain\r\n"
    "a=accept-wrapped-types:text/plain image/jpeg\r\n"
    "a=path:msrp://relay.example.net:2855/kjfjan;tcp msrp://alicepc.example.com:7777/iau39;tcp\r\n"
    "a=setup:active\r\n"
    "a=max-size:1048576\r\n"
    "a=msrp-cema\r\n"
    "a=sendonly\r\n"
    'a=file-selector:name:"My cool%20picture.jpg" type:image/jpeg size:32349 '
    "hash:sha-1:72:24:5F:E8:65:3D:DA:F3:71:36:2F:86:D4:71:91:3E:E4:A2:CE:2E\r\n"
    "a=file-transfer-id:vBnG916bdberum2fFEABR1FR3ExZMUrd\r\n"
    "a=file-range:1-*\r\n"
)


def sdp(*media_attrs: str, session_attrs: tuple[str, ...] = (), extra_media: str = "") -> str:
    lines = ["v=0", "o=- 1 1 IN IP4 127.0.0.1", "s=-", "c=IN IP4 127.0.0.1", "t=0 0"]
    lines += [f"a={a}" for a in session_attrs]
    lines += ["m=message 2855 TCP/MSRP *", *(f"a={a}" for a in media_attrs)]
    return "".join(f"{ln}\r\n" for ln in lines) + extra_media


def test_golden_round_trip_and_fields():
    d = SessionDescription.parse(GOLDEN)
    assert str(d) == GOLDEN
    assert bytes(d) == GOLDEN.encode()
    assert SessionDescription.parse(GOLDEN.encode()) == d
    assert d.crlf
    assert d.origin == Origin("alice", "2890844526", 2890844527, "IN", "IP4", "alicepc.example.com")
    assert str(d.origin) == "alice 2890844526 2890844527 IN IP4 alicepc.example.com"
    assert d.session_name == "-"
    assert d.connection == Connection("IN", "IP4", "alicepc.example.com")
    assert d.attributes == (("recvonly", None),)
    assert len(d.lines) == 17 and d.lines[0] == ("v", "0")

    (m,) = d.media
    assert d.msrp_media() == [m]
    assert (m.media, m.port, m.proto, m.fmt, m.port_count) == (
        "message",
        7777,
        "TCP/MSRP",
        ("*",),
        None,
    )
    assert str(m) == GOLDEN[GOLDEN.index("m=") :]
    assert [n for n, _ in m.attributes][:3] == ["accept-types", "accept-wrapped-types", "path"]
    assert ("msrp-cema", None) in m.attributes
    assert m.path() == [
        "msrp://relay.example.net:2855/kjfjan;tcp",
        "msrp://alicepc.example.com:7777/iau39;tcp",
    ]
    assert m.path_uris()[1] == MsrpUri.parse("msrp://ALICEPC.example.com:7777/iau39;TCP")
    assert m.accept_types() == ["message/cpim", "text/plain"]
    assert m.accept_wrapped_types() == ["text/plain", "image/jpeg"]
    assert m.setup() == "active"
    assert m.max_size() == 1048576
    assert m.cema()
    assert m.direction() == "sendonly"  # media level wins over the session's recvonly
    assert d.direction() == "recvonly" and d.direction(0) == "sendonly"
    assert m.file_selector() == {
        "name": "My cool picture.jpg",
        "type": "image/jpeg",
        "size": 32349,
        "hash": ("sha-1", "72:24:5F:E8:65:3D:DA:F3:71:36:2F:86:D4:71:91:3E:E4:A2:CE:2E"),
    }
    assert m.file_transfer_id() == "vBnG916bdberum2fFEABR1FR3ExZMUrd"
    assert m.file_range() == (1, None)
    assert m.connection() == d.connection
    assert d.attr("recvonly") == "" and d.attr("setup") is None
    assert d.attr("setup", media=0) == "active" and d.attr("setup", media=m) == "active"
    assert d.attrs("accept-types", 0) == ["message/cpim text/plain"]


def test_lf_line_ends_round_trip_too():
    text = GOLDEN.replace("\r\n", "\n")
    d = SessionDescription.parse(text)
    assert str(d) == text and not d.crlf
    assert d.media[0].setup() == "active"
    # No final line end, and trailing empty lines, are tolerated and kept.
    for variant in (GOLDEN[:-2], GOLDEN + "\r\n\r\n"):
        assert str(SessionDescription.parse(variant)) == variant


@pytest.mark.parametrize(
    ("session", "media", "expected"),
    [
        ((), (), "sendrecv"),
        (("sendonly",), (), "sendonly"),
        (("sendonly",), ("recvonly",), "recvonly"),
        (("inactive",), ("sendrecv",), "sendrecv"),
        ((), ("inactive",), "inactive"),
        (("recvonly", "recvonly"), (), "recvonly"),  # repeated, not conflicting
    ],
)
def test_direction_media_level_overrides_session_level(session, media, expected):
    d = SessionDescription.parse(sdp(*media, session_attrs=session))
    assert d.media[0].direction() == expected


def test_conflicting_directions_at_one_level():
    d = SessionDescription.parse(sdp("sendonly", "recvonly"))
    with pytest.raises(CodecError, match="conflicting"):
        d.media[0].direction()


def test_setup_inherits_session_level_and_is_validated():
    d = SessionDescription.parse(sdp(session_attrs=("setup:passive",)))
    assert d.media[0].setup() == "passive" and d.media[0].attr("setup") is None
    assert d.media[0].attr("setup", inherit=True) == "passive"
    d = SessionDescription.parse(sdp("setup:actpass", session_attrs=("setup:passive",)))
    assert d.media[0].setup() == "actpass"
    with pytest.raises(CodecError):
        SessionDescription.parse(sdp("setup:sideways")).media[0].setup()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("size:1234", {"size": 1234}),
        ('name:"x" type:text/plain size:1234', {"name": "x", "type": "text/plain", "size": 1234}),
        (
            'type:text/plain;charset="a b"  name:"a b"',
            {"type": 'text/plain;charset="a b"', "name": "a b"},
        ),
        ('name:"caf%C3%A9.txt"', {"name": "café.txt"}),
        ("hash:sha-1:AB:CD", {"hash": ("sha-1", "AB:CD")}),
        ("size:0 future:thing", {"size": 0, "future": "thing"}),
        ("", {}),
    ],
)
def test_file_selector_forms(value, expected):
    d = SessionDescription.parse(sdp(f"file-selector:{value}"))
    assert d.media[0].file_selector() == expected
    assert parse_file_selector(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "size:12x",
        "size:",
        "name:x",
        'name:"x" name:"y"',
        "hash:sha-1",
        "type:plain",
        "junk",
        'name:"%FF"',
    ],
)
def test_bad_file_selector(value):
    d = SessionDescription.parse(sdp(f"file-selector:{value}"))
    with pytest.raises(CodecError):
        d.media[0].file_selector()


def test_format_file_selector_round_trips():
    text = format_file_selector(
        name='a "q" b%.txt', type="text/plain", size=5, hash=("sha-1", "AA")
    )
    assert parse_file_selector(text) == {
        "name": 'a "q" b%.txt',
        "type": "text/plain",
        "size": 5,
        "hash": ("sha-1", "AA"),
    }


def test_missing_attributes():
    m = SessionDescription.parse(sdp()).media[0]
    assert m.path() == [] and m.path_uris() == []
    assert m.accept_types() == [] and m.accept_wrapped_types() == []
    assert m.setup() is None and m.file_selector() is None and m.max_size() is None
    assert m.file_range() is None and m.file_transfer_id() is None and m.file_disposition() is None
    assert not m.cema() and m.direction() == "sendrecv"
    assert m.attr("path") is None and m.attrs("path") == [] and not m.has_attr("path")


def test_bad_typed_values():
    m = SessionDescription.parse(sdp("max-size:lots", "file-range:x-y", "path:http://x")).media[0]
    for accessor in (m.max_size, m.file_range, m.path_uris):
        with pytest.raises(CodecError):
            accessor()


def test_several_media_and_media_level_connection():
    text = sdp(
        "path:msrp://127.0.0.1:2855/a;tcp",
        extra_media=(
            "m=audio 49170 RTP/AVP 0 8\r\nc=IN IP4 10.0.0.1\r\na=sendonly\r\n"
            "m=message 2856 TCP/TLS/MSRP *\r\na=path:msrps://127.0.0.1:2856/b;tcp\r\n"
        ),
    )
    d = SessionDescription.parse(text)
    assert str(d) == text
    assert [m.media for m in d.media] == ["message", "audio", "message"]
    assert [m.index for m in d.msrp_media()] == [0, 2]
    assert d.media[1].fmt == ("0", "8") and not d.media[1].is_msrp
    assert d.media[1].connection() == Connection("IN", "IP4", "10.0.0.1")
    assert d.media[2].connection() == Connection("IN", "IP4", "127.0.0.1")
    assert d.attr("path", media=2) == "msrps://127.0.0.1:2856/b;tcp"
    with pytest.raises(CodecError):
        d.attr("path", media=3)


GOOD = sdp("path:msrp://127.0.0.1:2855/a;tcp")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "\r\n",
        "hello",
        "v=0",
        GOOD.replace("v=0", "v=1"),
        GOOD.replace("o=- 1 1 IN IP4 127.0.0.1\r\n", ""),
        GOOD.replace("s=-\r\n", "s=-\r\ns=again\r\n"),
        GOOD.replace("o=- 1 1 IN IP4 127.0.0.1", "o=- x 1 IN IP4 127.0.0.1"),
        GOOD.replace("o=- 1 1 IN IP4 127.0.0.1", "o=- 1 1 IN IP4"),
        GOOD.replace("c=IN IP4 127.0.0.1", "c=IN"),
        GOOD.replace("t=0 0", "t=now"),
        GOOD.replace("m=message 2855 TCP/MSRP *", "m=message TCP/MSRP *"),
        GOOD.replace("m=message 2855 TCP/MSRP *", "m=message 99999 TCP/MSRP *"),
        GOOD.replace("m=message 2855 TCP/MSRP *", "m=message 2855 TCP/MSRP"),
        GOOD.replace("a=path", "a=pa th"),
        GOOD.replace("a=path", "a="),
        GOOD + "o=- 1 1 IN IP4 127.0.0.1\r\n",  # session-level line in a media section
        GOOD + "x=unknown\r\n",
        GOOD.replace("s=-\r\n", "s=-\r\n\r\n"),  # empty line inside
        GOOD.replace("s=-\r\n", "s=-\rt=0 0\r\n"),  # bare CR
        GOOD.replace("s=-", "S=-"),
        GOOD.replace("s=-", "s -"),
        GOOD + "a=x\x00\r\n",
        GOOD.encode() + b"a=\xff\r\n",
        b"\x16\x03\x01\x02\x00",
        12,
    ],
)
def test_garbage_raises_codec_error(text):
    with pytest.raises(CodecError):
        SessionDescription.parse(text)


def test_build_sdp_offer():
    path = "msrp://127.0.0.1:7394/abc;tcp"
    d = build_sdp(host="127.0.0.1", path=path, session_id=42, direction="sendonly")
    assert str(d) == (
        "v=0\r\n"
        "o=- 42 0 IN IP4 127.0.0.1\r\n"
        "s=-\r\n"
        "c=IN IP4 127.0.0.1\r\n"
        "t=0 0\r\n"
        "m=message 7394 TCP/MSRP *\r\n"
        "a=accept-types:message/cpim\r\n"
        "a=path:msrp://127.0.0.1:7394/abc;tcp\r\n"
        "a=setup:active\r\n"
        "a=sendonly\r\n"
    )
    assert (
        SessionDescription.build(host="127.0.0.1", path=path, session_id=42, direction="sendonly")
        == d
    )


def test_build_sdp_answer_options():
    uri = MsrpUri.build("::1", None, "s1", secure=True)
    d = build_sdp(
        host="::1",
        path=[uri],
        accept_types=["message/cpim", "application/im-iscomposing+xml"],
        accept_wrapped_types="*",
        setup="passive",
        tls=True,
        max_size=4096,
        cema=True,
        file_selector={"name": "f.txt", "size": 10},
        file_transfer_id="ft1",
        file_disposition="attachment",
        attributes=[("x-custom", "1"), ("x-flag", None)],
        session_attributes=[("tool", "cpmconf")],
    )
    assert d.crlf and d.origin.addrtype == "IP6" and d.connection.address == "::1"
    assert d.attr("tool") == "cpmconf"
    (m,) = d.msrp_media()
    assert (m.port, m.proto) == (2855, "TCP/TLS/MSRP")
    assert m.path_uris() == [uri]
    assert m.accept_types() == ["message/cpim", "application/im-iscomposing+xml"]
    assert m.accept_wrapped_types() == ["*"]
    assert m.setup() == "passive" and m.cema() and m.max_size() == 4096
    assert m.file_selector() == {"name": "f.txt", "size": 10}
    assert m.file_disposition() == "attachment"
    assert m.attr("x-custom") == "1" and m.attr("x-flag") == ""


@pytest.mark.parametrize(
    "kwargs",
    [
        {"path": "http://x"},
        {"path": []},
        {"setup": "sideways"},
        {"direction": "both"},
        {"attributes": [("x", "a\r\nb")]},
    ],
)
def test_build_sdp_rejects_bad_parts(kwargs):
    args = {"host": "127.0.0.1", "path": "msrp://127.0.0.1:2855/a;tcp", **kwargs}
    with pytest.raises(CodecError):
        build_sdp(**args)


# ------------------------------------------------------------------ properties

sdp_text = st.text(alphabet=st.sampled_from(list("vosctma=:/ *.0123456789\r\nIPN4-")), max_size=120)


def _exercise(d: SessionDescription) -> None:
    d.msrp_media()
    d.direction()
    for m in d.media:
        for accessor in (
            m.path,
            m.path_uris,
            m.accept_types,
            m.setup,
            m.direction,
            m.file_selector,
            m.max_size,
            m.file_range,
            m.connection,
        ):
            try:
                accessor()
            except CodecError:
                pass


@FAST
@given(sdp_text | st.text(max_size=80) | st.binary(max_size=80))
def test_only_codec_error_escapes(data):
    try:
        d = SessionDescription.parse(data)
    except CodecError:
        return
    _exercise(d)
    assert str(d) == (data.decode() if isinstance(data, bytes) else data)


@FAST
@given(st.data())
def test_mutations_only_codec_error_and_round_trip(data):
    pos = data.draw(st.integers(0, len(GOLDEN) - 1))
    junk = data.draw(st.text(alphabet=st.sampled_from(list('a=: \r\n"%/*0m')), max_size=4))
    mutated = GOLDEN[:pos] + junk + GOLDEN[pos + data.draw(st.integers(0, 3)) :]
    try:
        d = SessionDescription.parse(mutated)
    except CodecError:
        return
    assert str(d) == mutated
    _exercise(d)
