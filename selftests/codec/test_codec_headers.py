"""Self-tests for cpmconf.codec.headers: the typed CPM header value parsers."""

from __future__ import annotations

import pytest

from cpmconf.codec.errors import CodecError
from cpmconf.codec.headers import (
    AcceptContact,
    ContactFeatures,
    ContributionId,
    ConversationId,
    Expires,
    FeatureSet,
    InReplyToContributionId,
    MessageExpires,
    MessageUID,
    NameAddr,
    PAssertedService,
    PPreferredService,
    Privacy,
    ReleaseVersion,
    ReplyTo,
    WarningHeader,
    WarningValue,
    encode_icsi,
    warnings_of,
)

MSG = "urn:urn-7:3gpp-service.ims.icsi.oma.cpm.msg"
LARGE = "urn:urn-7:3gpp-service.ims.icsi.oma.cpm.largemsg"
DEFERRED = "urn:urn-7:3gpp-service.ims.icsi.oma.cpm.deferred"
AC = '*;+g.3gpp.icsi-ref="urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.msg";explicit;require'
CONTACT = (
    "<sip:alice@127.0.0.1:5060;transport=tcp>"
    ';+sip.instance="<urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6>"'
    ';+g.3gpp.icsi-ref="urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.msg,'
    'urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.largemsg";automata'
)


# ---------------------------------------------------------------- feature sets


def test_accept_contact():
    ac = AcceptContact.parse(AC)
    assert str(ac) == AC
    assert ac.is_wildcard and ac.uri is None
    assert ac.explicit and ac.require
    assert ac.features == {"g.3gpp.icsi-ref": "urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.msg"}
    assert ac.icsi_refs() == [MSG]
    assert ac.icsi_refs_raw() == ["urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.msg"]
    assert ac.icsi_encoded_ok()
    assert ac.has_icsi(MSG) and ac.has_icsi(encode_icsi(MSG))
    assert ac.has_icsi(MSG.upper())  # URNs compared case-insensitively
    assert not ac.has_icsi(LARGE)
    assert ac.has_tag("g.3gpp.icsi-ref") and ac.has_tag("+g.3gpp.icsi-ref")
    assert not ac.has_tag("explicit")  # a caller-preference flag, not a feature tag


def test_contact_features():
    c = ContactFeatures.parse(CONTACT)
    assert str(c) == CONTACT
    assert c.uri == "sip:alice@127.0.0.1:5060;transport=tcp"
    assert c.target == "<sip:alice@127.0.0.1:5060;transport=tcp>"
    assert c.features["sip.instance"] == "<urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6>"
    assert c.features["automata"] is None and c.has_tag("automata")
    assert c.icsi_refs() == [MSG, LARGE]
    assert c.has_icsi(LARGE) and not c.has_icsi(DEFERRED)
    assert not c.explicit


def test_unencoded_icsi_still_matches_but_is_flagged():
    c = FeatureSet.parse(f'<sip:a@h>;+g.3gpp.icsi-ref="{MSG}"')
    assert c.has_icsi(MSG)
    assert not c.icsi_encoded_ok()


def test_feature_set_build_golden_and_parse_many():
    fs = FeatureSet.build(icsi=[MSG], explicit=True, require=True)
    assert str(fs) == AC
    c = FeatureSet.build(
        "<sip:a@127.0.0.1>", icsi=[DEFERRED], tags=[("+sip.instance", "<urn:uuid:1>")]
    )
    assert str(c) == (
        '<sip:a@127.0.0.1>;+g.3gpp.icsi-ref="urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.deferred"'
        ';+sip.instance="<urn:uuid:1>"'
    )
    many = FeatureSet.parse_many(CONTACT + ", <sip:b@h>;expires=0")
    assert len(many) == 2 and many[1].param("expires") == "0"
    assert FeatureSet.parse(str(fs)) == fs


@pytest.mark.parametrize(
    "bad",
    ["", "<sip:a@h", '*;+g.3gpp.icsi-ref="unterminated', "*;=x", "<notauri>;a", "*;a b"],
)
def test_feature_set_bad(bad):
    with pytest.raises(CodecError):
        FeatureSet.parse(bad)


# ---------------------------------------------------------------- Warning


def test_warning_oma_code_under_399():
    w = WarningValue.parse('399 pf.example.net "125 No messages"')
    assert (w.code, w.agent, w.text) == (399, "pf.example.net", "125 No messages")
    assert w.oma_code() == 125 and w.oma_text() == "No messages"
    assert not w.oma_code_in_warn_code and w.misplaced_oma_code() is None
    assert str(w) == '399 pf.example.net "125 No messages"'


def test_warning_oma_code_in_warn_code_position_is_flagged():
    w = WarningValue.parse('125 pf.example.net "No messages"')
    assert w.oma_code() is None
    assert w.oma_code_in_warn_code and w.misplaced_oma_code() == 125
    hdr = WarningHeader.parse('125 pf.example.net "No messages"')
    assert hdr.find_oma(125) is None and hdr.find_misplaced_oma(125) is not None


def test_warning_sip_code_not_flagged():
    w = WarningValue.parse('370 pf.example.net "Insufficient bandwidth"')
    assert w.oma_code() is None and not w.oma_code_in_warn_code


def test_warning_list_and_build():
    text = '399 pf.example.net "122 Function not allowed", 399 pf "125 No, messages"'
    hdr = WarningHeader.parse(text)
    assert str(hdr) == text
    assert [v.oma_code() for v in hdr.values] == [122, 125]
    assert hdr.oma_codes() == [122, 125] and hdr.misplaced_oma_codes() == []
    assert WarningHeader.parse('125 pf "No messages"').misplaced_oma_codes() == [125]
    assert hdr.find_oma(125).text == "125 No, messages"
    assert str(WarningValue.oma(122, "pf.example.net", "Function not allowed")) == (
        '399 pf.example.net "122 Function not allowed"'
    )
    assert [v.code for v in warnings_of([text, '301 [::1]:5060 "x"'])] == [399, 399, 301]


@pytest.mark.parametrize(
    "bad", ["", "399", '39 a "x"', "399 a text", '399 a "x', '399 "x"', '399 a "x",', 'abc a "x"']
)
def test_warning_bad(bad):
    with pytest.raises(CodecError):
        WarningHeader.parse(bad)


# ---------------------------------------------------------------- service and ids


def test_p_preferred_service():
    p = PPreferredService.parse(MSG)
    assert p.services == (MSG,) and p.has(MSG) and not p.has(LARGE)
    assert str(PPreferredService.build(MSG, LARGE)) == f"{MSG},{LARGE}"
    assert PAssertedService.parse(f"{MSG} , {LARGE}").services == (MSG, LARGE)
    for bad in ("", "+g.oma.sip-cpm", "urn:", f"{MSG},"):
        with pytest.raises(CodecError):
            PPreferredService.parse(bad)


@pytest.mark.parametrize("cls", [ConversationId, ContributionId, InReplyToContributionId])
def test_cpm_ids(cls):
    v = cls.parse(" f81d4fae-7dec-11d0 ")
    assert v.value == "f81d4fae-7dec-11d0" and str(v) == " f81d4fae-7dec-11d0 "
    for bad in ("", "a b", "a;b", "<x>"):
        with pytest.raises(CodecError) as info:
            cls.parse(bad)
        assert cls.__name__[:4].lower() in info.value.what.lower().replace("-", "")


@pytest.mark.parametrize("good", ["1", "42", "4294967295"])
def test_message_uid_good(good):
    assert MessageUID.parse(good).value == int(good)
    assert str(MessageUID.build(int(good))) == good


@pytest.mark.parametrize(
    "bad", ["0", "-1", "4294967296", "99999999999", "12a", "", "1.0", "007", "+5"]
)
def test_message_uid_bounds(bad):
    with pytest.raises(CodecError):
        MessageUID.parse(bad)


# ---------------------------------------------------------------- products


def test_release_version_client_and_server():
    ua = ReleaseVersion.parse("CPM-client/OMA2.0 Acme-Phone/1.2 (Linux; arm)")
    assert ua.products == (("CPM-client", "OMA2.0", None), ("Acme-Phone", "1.2", "Linux; arm"))
    assert ua.cpm_release() == "OMA2.0" and ua.cpm_product() == "CPM-client/OMA2.0"
    srv = ReleaseVersion.parse("(pre) PF/3 CPM-serv/OMA2.0")
    assert srv.products[0] == ("", None, "pre")
    assert srv.cpm_product() == "CPM-serv/OMA2.0"
    assert ReleaseVersion.parse("Acme/1.0").cpm_release() is None
    assert str(ua) == "CPM-client/OMA2.0 Acme-Phone/1.2 (Linux; arm)"
    for bad in ("", "Acme/", "(unterminated", "a@b"):
        with pytest.raises(CodecError):
            ReleaseVersion.parse(bad)


# ---------------------------------------------------------------- misc


def test_privacy():
    p = Privacy.parse("id; user")
    assert p.values == ("id", "user") and p.has("ID") and not p.has("header")
    for bad in ("", "id;;user", "id user"):
        with pytest.raises(CodecError):
            Privacy.parse(bad)


def test_reply_to():
    r = ReplyTo.parse('"Alice Home" <sip:alice@home.example.net>;x=1')
    assert r.display_name == "Alice Home" and r.uri == "sip:alice@home.example.net"
    assert r.param("x") == "1" and str(r) == '"Alice Home" <sip:alice@home.example.net>;x=1'
    assert ReplyTo.parse("tel:+15551234567").uri == "tel:+15551234567"
    assert ReplyTo.parse("Alice <sip:a@b>").display_name == "Alice"
    assert str(ReplyTo.build("sip:a@b", 'A "q"')) == '"A \\"q\\"" <sip:a@b>'
    assert ReplyTo.build("sip:a@b", 'A "q"').display_name == 'A "q"'
    for bad in ("", "<sip:a@b", "Al;ce <sip:a@b>", "<nothing>"):
        with pytest.raises(CodecError) as info:
            ReplyTo.parse(bad)
        assert info.value.what == "Reply-To header"


def test_name_addr_uri_with_headers():
    na = NameAddr.parse("<sip:pf.example.net;id=1?cpm_action=deliver>")
    assert na.uri == "sip:pf.example.net;id=1?cpm_action=deliver"


def test_expires():
    assert Expires.parse("0").seconds == 0 and Expires.parse(" 3600 ").seconds == 3600
    assert str(Expires.build(60)) == "60"
    assert MessageExpires.parse("4294967295").seconds == 2**32 - 1
    for bad in ("", "-1", "1.5", "4294967296", "9" * 5000, "abc"):
        with pytest.raises(CodecError):
            Expires.parse(bad)


@pytest.mark.parametrize(
    "cls",
    [
        AcceptContact,
        WarningHeader,
        PPreferredService,
        ConversationId,
        MessageUID,
        ReleaseVersion,
        Privacy,
        ReplyTo,
        Expires,
    ],
)
def test_non_str_input_is_codec_error(cls):
    with pytest.raises(CodecError):
        cls.parse(b"bytes")  # type: ignore[arg-type]
