"""The handling INVITE's aftermath (cpmconf.procedures.pf_deferred.handle) on every
legitimate reading: a delivery at the device's GRUU or at the Contact the handling INVITE
gave counts (D-pull-delivery-target), and no IWF hand-over is waited for where the profile
does not claim `interworking` (D-interwork-unclaimed)."""

from __future__ import annotations

from cpmconf.codec.sip import SipMessage
from cpmconf.procedures.pf_deferred import due, is_to_device

GRUU = "sip:frank@example.net;gr=urn:uuid:00000000-0000-4000-8000-000000000001"
CONTACT = "sip:frank-phone@127.0.0.1:5099;transport=udp"


def request(uri: str) -> SipMessage:
    raw = (
        f"MESSAGE {uri} SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKd1\r\n"
        "From: <sip:cpm-pf@example.net>;tag=p1\r\nTo: <sip:frank@example.net>\r\n"
        "Call-ID: d1\r\nCSeq: 1 MESSAGE\r\nContent-Length: 0\r\n\r\n"
    )
    return SipMessage.parse(raw.encode())


def test_a_delivery_at_the_gruu_or_at_the_contact_is_to_the_device():
    match = is_to_device(GRUU, CONTACT)
    assert match(request(GRUU))
    assert match(request(CONTACT))
    # 19.1.4: the same Contact with its parameters in another order and case
    assert match(request("sip:frank-phone@127.0.0.1:5099;TRANSPORT=udp"))


def test_other_addresses_are_not_the_device():
    match = is_to_device(GRUU, CONTACT)
    assert not match(request("sip:frank@example.net"))  # the AOR: counted separately
    assert not match(request("sip:frank@example.net;gr=urn:uuid:other"))  # another device
    assert not match(request("sip:frank-phone@127.0.0.1:5100;transport=udp"))  # another port


def test_a_device_without_a_gruu_is_reached_at_its_contact():
    match = is_to_device(None, CONTACT)
    assert match(request(CONTACT))
    assert not match(request(GRUU))


def test_interwork_hand_overs_are_due_only_where_interworking_is_claimed():
    actions = [("id1", "deliver"), ("id2", "interwork"), ("id3", "delete")]
    assert due(actions, None, interworking=True) == (1, 1)
    assert due(actions, None, interworking=False) == (1, 0)
    assert due(None, 3, interworking=False) == (3, 0)
    assert due(None, None, interworking=True) == (None, 0)
