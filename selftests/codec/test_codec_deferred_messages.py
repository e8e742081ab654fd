"""Self-tests for cpmconf.codec.deferred_messages: golden bytes, round trip, schema, XPath."""

from __future__ import annotations

import pytest

from cpmconf.codec.deferred_messages import (
    DeferredList,
    DeferredMessage,
    ids_by_xpath,
    validate,
)
from cpmconf.codec.errors import CodecError

GOLDEN = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<deferred-messages xmlns="urn:cpmconf:params:xml:ns:deferred-messages" version="1"'
    b' user="sip:frank@example.net">\n'
    b'  <message id="sip:cpm-deferred@example.net;id=m1">\n'
    b"    <originator>sip:alice@example.net</originator>\n"
    b"    <subject>lunch &amp; more</subject>\n"
    b"    <date>2026-01-02T03:04:05Z</date>\n"
    b"    <size>120</size>\n"
    b"  </message>\n"
    b'  <message id="sip:cpm-deferred@example.net;id=m2">\n'
    b"  </message>\n"
    b"</deferred-messages>\n"
)


def _doc() -> DeferredList:
    return DeferredList.build(
        "sip:frank@example.net",
        [
            DeferredMessage(
                "sip:cpm-deferred@example.net;id=m1",
                "sip:alice@example.net",
                "lunch & more",
                "2026-01-02T03:04:05Z",
                120,
            ),
            DeferredMessage("sip:cpm-deferred@example.net;id=m2"),
        ],
    )


def test_golden_bytes_and_round_trip():
    doc = _doc()
    assert bytes(doc) == GOLDEN
    again = DeferredList.parse(str(doc))
    assert again == doc
    assert again.ids() == [
        "sip:cpm-deferred@example.net;id=m1",
        "sip:cpm-deferred@example.net;id=m2",
    ]
    assert again.messages[0].subject == "lunch & more"
    assert again.messages[1].missing() == ("originator", "subject", "date", "size")


def test_schema_accepts_ours_and_names_problems():
    assert validate(GOLDEN) == []
    bad = GOLDEN.replace(b"<size>120</size>", b"<size>big</size>")
    assert any("size" in p for p in validate(bad))
    twice = GOLDEN.replace(b"id=m2", b"id=m1")
    assert validate(twice)  # the schema's uniqueness constraint
    with pytest.raises(CodecError, match="twice"):
        DeferredList.parse(twice)


@pytest.mark.parametrize(
    "data, match",
    [
        (b"<x/>", "root element"),
        (GOLDEN.replace(b'version="1"', b'version="7"'), "not supported"),
        (GOLDEN.replace(b' id="sip:cpm-deferred@example.net;id=m2"', b""), "without an id"),
        (b'<!DOCTYPE x [<!ENTITY a "b">]><x/>', "unsafe"),
        (b"<unclosed>", "well-formed"),
    ],
)
def test_bad_bodies_are_codec_errors(data, match):
    with pytest.raises(CodecError, match=match):
        DeferredList.parse(data)


def test_xpath_reads_ids_from_another_vendors_body():
    other = (
        b'<queue xmlns="urn:vendor:q"><item><ref>sip:pf.example.net;id=A</ref></item>'
        b"<item><ref>sip:pf.example.net;id=B</ref></item></queue>"
    )
    assert ids_by_xpath(other, "//v:item/v:ref", {"v": "urn:vendor:q"}) == [
        "sip:pf.example.net;id=A",
        "sip:pf.example.net;id=B",
    ]
    ns = {"d": "urn:cpmconf:params:xml:ns:deferred-messages"}
    assert ids_by_xpath(GOLDEN, "//d:message/@id", ns)[1].endswith("id=m2")
    with pytest.raises(CodecError, match="XPath"):
        ids_by_xpath(GOLDEN, "//d:message[", ns)
