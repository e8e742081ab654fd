"""`cpmconf.codec.headers.uri_of`: the URI of an address header value, read leniently (the
steps address a request to what a peer wrote in its Contact or From)."""

from __future__ import annotations

import pytest

from cpmconf.codec.headers import uri_of


@pytest.mark.parametrize(
    ("value", "uri"),
    [
        ("<sip:alice@example.com>;tag=1", "sip:alice@example.com"),
        (
            '"Alice" <sip:alice@example.com;gr=urn:uuid:1>;+sip.instance="x"',
            "sip:alice@example.com;gr=urn:uuid:1",
        ),
        ("sip:alice@127.0.0.1:5070;expires=60", "sip:alice@127.0.0.1:5070"),
        ("<not a uri>;x", "not a uri"),  # unparseable: what sits between the brackets
        ("", ""),
        (None, ""),
    ],
)
def test_uri_of(value, uri):
    assert uri_of(value) == uri
