"""Self-tests for cpmconf.codec.resource_lists, including hostile XML."""

from __future__ import annotations

import pytest

from cpmconf.codec.errors import CodecError
from cpmconf.codec.resource_lists import CPM_ACTIONS, Entry, ResourceList

MSG_ID = "sip:pf.example.net;id=Q1w2e3"

GOLDEN = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists">\n'
    b"<list>\n"
    b'<entry uri="sip:pf.example.net;id=Q1w2e3?cpm_action=deliver"/>\n'
    b'<entry uri="sip:pf.example.net;id=Q1w2e3?cpm_action=delete"/>\n'
    b'<entry uri="sip:pf.example.net;id=Q1w2e3?cpm_action=interwork"/>\n'
    b'<entry uri="sip:pf.example.net;id=Q1w2e3?cpm_action=store"/>\n'
    b"</list>\n"
    b"</resource-lists>\n"
)

RECIPIENTS = b"""<?xml version="1.0" encoding="UTF-8"?>
<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists"
    xmlns:cp="urn:ietf:params:xml:ns:copycontrol">
  <list>
    <entry uri="sip:bill@example.com" cp:copyControl="to"/>
    <entry uri="sip:randy@example.net" cp:copyControl="cc" cp:anonymize="true">
      <display-name>Randy &amp; Co</display-name>
    </entry>
    <list name="nested">
      <entry uri="tel:+15551234567" cp:copyControl="bcc"/>
    </list>
  </list>
</resource-lists>"""


def test_each_cpm_action_golden_and_round_trip():
    doc = ResourceList.build([Entry.with_action(MSG_ID, a) for a in CPM_ACTIONS])
    assert bytes(doc) == GOLDEN
    parsed = ResourceList.parse(GOLDEN)
    assert parsed == doc and str(parsed) == GOLDEN.decode()
    assert [e.action for e in parsed.entries] == list(CPM_ACTIONS)
    assert {e.base_uri for e in parsed.entries} == {MSG_ID}


def test_action_with_other_uri_headers_and_encoding():
    e = Entry(uri="sip:pf.example.net;id=1?x=a%20b&cpm_action=deliver")
    assert e.action == "deliver"
    assert e.base_uri == "sip:pf.example.net;id=1?x=a%20b"
    assert e.uri_headers == (("x", "a b"), ("cpm_action", "deliver"))
    assert Entry.with_action("sip:p;id=1?x=y", "store").uri == "sip:p;id=1?x=y&cpm_action=store"
    plain = Entry(uri="sip:bob@example.net")
    assert plain.action is None and plain.base_uri == plain.uri


def test_recipient_list_with_copy_control_and_nesting():
    doc = ResourceList.parse(RECIPIENTS)
    assert doc.uris() == ["sip:bill@example.com", "sip:randy@example.net", "tel:+15551234567"]
    assert [e.copy_control for e in doc.entries] == ["to", "cc", "bcc"]
    assert doc.entries[1].display_name == "Randy & Co" and doc.entries[1].anonymize is True
    assert doc.entries[0].anonymize is None
    rebuilt = ResourceList.build(doc.entries)
    assert rebuilt.entries == doc.entries
    assert b'cp:copyControl="cc" cp:anonymize="true"><display-name>Randy &amp; Co<' in bytes(
        rebuilt
    )


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists">
<list><entry uri="sip:a@b"><display-name>&lol4;</display-name></entry></list>
</resource-lists>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE r [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>
<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists">
<list><entry uri="sip:a@b"><display-name>&xxe;</display-name></entry></list>
</resource-lists>"""

EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE resource-lists SYSTEM "http://127.0.0.1:1/evil.dtd">
<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists"><list/></resource-lists>"""


@pytest.mark.parametrize("doc", [BILLION_LAUGHS, EXTERNAL_ENTITY, EXTERNAL_DTD])
def test_hostile_xml_refused(doc):
    with pytest.raises(CodecError, match="unsafe"):
        ResourceList.parse(doc)


@pytest.mark.parametrize(
    "doc",
    [
        b"",
        b"<resource-lists",
        b"<other xmlns='urn:x'/>",
        b"<resource-lists/>",  # no namespace
        b"<resource-lists xmlns='urn:ietf:params:xml:ns:resource-lists'><list><entry/></list>"
        b"</resource-lists>",
        b"<resource-lists xmlns='urn:ietf:params:xml:ns:resource-lists'><list>"
        b"<entry uri='sip:a@b?novalue'/></list></resource-lists>",
        b"\xff\xfe<",
    ],
)
def test_malformed(doc):
    with pytest.raises(CodecError):
        ResourceList.parse(doc)
