"""The URI model (cpmconf.codec.uri): RFC 3261 19.1.4's own example sets as golden vectors,
and the three policies the suite names (same contact, same AOR, same GRUU)."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from cpmconf.codec.errors import CodecError
from cpmconf.codec.uri import (
    Uri,
    aor_key,
    gruu_key,
    parse_uri,
    same_aor,
    same_contact,
    same_gruu,
    same_identifier,
)

VECTORS = Path(__file__).parent / "vectors" / "rfc3261-19.1.4-uri-comparison.txt"


def _sections() -> dict[str, list[list[str]]]:
    """The vector file's sections, each a list of sets (line endings normalised only)."""
    text = VECTORS.read_bytes().replace(b"\r\n", b"\n").decode("ascii")
    out: dict[str, list[list[str]]] = {}
    section, current = "", []
    for line in text.split("\n") + [""]:
        if line.startswith("#"):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            out[section] = []
        elif line == "":
            if current:
                out[section].append(current)
            current = []
        else:
            current.append(line)
    return out


SECTIONS = _sections()


def test_vector_file_holds_the_rfc_sets():
    assert [len(s) for s in SECTIONS["equivalent"]] == [2, 3, 2, 2]
    assert [len(s) for s in SECTIONS["not equivalent"]] == [2] * 6
    assert [len(s) for s in SECTIONS["not transitive"]] == [3]


def _pairs(section: str):
    for group in SECTIONS[section]:
        yield from itertools.permutations(group, 2)


@pytest.mark.parametrize("a,b", list(_pairs("equivalent")))
def test_rfc_equivalent_sets(a, b):
    assert Uri.parse(a) and Uri.parse(b)
    assert same_contact(a, b)


@pytest.mark.parametrize("a,b", list(_pairs("not equivalent")))
def test_rfc_not_equivalent_sets(a, b):
    assert Uri.parse(a) and Uri.parse(b)  # parsed, so unequal for the RFC's reason
    assert not same_contact(a, b)


def test_rfc_equality_is_not_transitive():
    plain, on, off = SECTIONS["not transitive"][0]
    assert same_contact(plain, on) and same_contact(plain, off)
    assert not same_contact(on, off)


@pytest.mark.parametrize(
    "a,b,equal",
    [
        ("sip:bob@example.com", "sips:bob@example.com", False),  # SIP and SIPS never
        ("sip:bob@example.com", "sip:example.com", False),  # user in one only
        ("sip:bob:pw@example.com", "sip:bob@example.com", False),  # password in one only
        ("sip:bob@example.com;user=phone", "sip:bob@example.com", False),
        ("sip:bob@example.com;ttl=1", "sip:bob@example.com", False),
        ("sip:bob@example.com;method=INVITE", "sip:bob@example.com", False),
        ("sip:bob@example.com;maddr=192.0.2.1", "sip:bob@example.com", False),
        ("sip:bob@example.com;lr", "sip:bob@example.com", True),  # other params: ignored
        ("sip:bob@example.com;gr=urn:uuid:1", "sip:bob@example.com", True),  # gr too
        ("sip:bob@example.com;gr=urn:uuid:1", "sip:bob@example.com;gr=urn:uuid:2", False),
        ("<sip:bob@example.com>", "sip:bob@example.com", True),
        ('"Bob" <sip:bob@example.com>;tag=1', "sip:bob@example.com", True),
        ("sip:j%40s0n@example.com", "sip:j@s0n@example.com", False),  # %40 stays @-escaped
        ("sip:%6Aoe@example.com", "sip:joe@example.com", True),
        ("tel:+1-212-555-0101", "tel:+12125550101", True),  # RFC 3966 4: separators
        ("tel:+12125550101;ext=1", "tel:+12125550101", False),  # every tel param matters
        ("im:bob@example.com", "IM:bob@example.com", True),
        ("not a uri", "not a uri", False),  # a non-URI equals nothing
        ("", "", False),
        (None, None, False),
    ],
)
def test_contact_policy(a, b, equal):
    assert same_contact(a, b) is equal
    assert same_contact(b, a) is equal


GRUU = "sip:bob@example.com;gr=urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6"
AOR = "sip:bob@example.com"


def test_aor_policy_ignores_params_and_port_not_user_case():
    assert same_aor(AOR, "<sip:bob@EXAMPLE.com:5070;transport=tcp>;tag=x")
    assert same_aor(GRUU, AOR)  # same user: the AOR policy does not see gr
    assert not same_aor("sip:Bob@example.com", AOR)  # userinfo is case-sensitive
    assert not same_aor("sips:bob@example.com", AOR)
    assert same_aor("sip:bob@example.com", "bob <sip:bob@example.com>")
    assert aor_key("sip:bob@example.com;lr") == aor_key(AOR)
    assert aor_key("garbage") is None and not same_aor("garbage", "garbage")


def test_gruu_policy_a_gruu_is_not_its_aor():
    assert not same_gruu(GRUU, AOR)  # the fault a looser comparator once hid
    assert not same_gruu(AOR, GRUU)
    assert same_gruu(GRUU, f"<{GRUU.replace('example.com', 'Example.COM')}>")
    assert not same_gruu(GRUU, GRUU.replace("f81d4fae", "00000000"))
    assert same_gruu(AOR, AOR + ";transport=udp")  # neither is a GRUU: the AOR decides
    temp = "sip:tgruu.7hs==jd7vnzga5w7fajsc7-ajd6fabz0f8g5@example.com;gr"
    assert parse_uri(temp).gr == "" and parse_uri(temp).is_gruu
    assert not same_gruu(temp, "sip:tgruu.7hs==jd7vnzga5w7fajsc7-ajd6fabz0f8g5@example.com")
    assert gruu_key(GRUU) != gruu_key(AOR)


def test_identifier_policy_every_parameter_counts():
    msg = "sip:CPMDeferredMsgMgmt@pf.example.net;id=a1"
    assert same_identifier(msg, "<sip:CPMDeferredMsgMgmt@PF.example.net;ID=a1>")
    assert not same_identifier(msg, "sip:CPMDeferredMsgMgmt@pf.example.net;id=b2")
    assert not same_identifier(msg, "sip:CPMDeferredMsgMgmt@pf.example.net")  # id lost
    assert same_contact(msg, "sip:CPMDeferredMsgMgmt@pf.example.net")  # 19.1.4 alone would
    assert not same_identifier("sip:m@pf.example.net;lr", "sip:m@pf.example.net")


@pytest.mark.parametrize(
    "text",
    ["", "   ", "sip:", "sip:bob@", "<sip:bob@example.com", "sip:bob@exa mple.com", "bob"],
)
def test_not_a_uri_is_a_codec_error(text):
    with pytest.raises(CodecError):
        Uri.parse(text)
    assert parse_uri(text) is None


def test_parts():
    u = Uri.parse("SIP:Alice:pw@[2001:db8::1]:5070;Transport=TCP;lr?Subject=Hi%20there")
    assert (u.scheme, u.user, u.password, u.host, u.port) == (
        "sip", "Alice", "pw", "[2001:db8::1]", 5070,
    )  # fmt: skip
    assert u.params == {"transport": "tcp", "lr": None}
    assert u.headers == {"subject": "Hi%20there"}  # a space is no unreserved character
    assert u.gr is None and not u.is_gruu
