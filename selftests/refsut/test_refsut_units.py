"""Unit tests of the refsut's configuration, fault registry and message store."""

from __future__ import annotations

import pytest

from cpmconf import catalogue
from refsut.config import ConfigError, parse_config
from refsut.faults import REGISTRY, Faults, UnknownFault
from refsut.store import MessageStore

from .support import config_dict


def test_every_fault_names_a_catalogue_clause():
    cat = catalogue.load()
    missing = {f.name: f.clause for f in REGISTRY.values() if f.clause not in cat}
    assert missing == {}
    assert len(REGISTRY) >= 29


def test_faults_refuse_unknown_names():
    with pytest.raises(UnknownFault):
        Faults(["pf.nonsense"])
    with pytest.raises(KeyError):
        Faults().on("pf.nonsense")
    assert Faults(["pf.no-415"]).on("pf.no-415")


def test_config_defaults_and_normalisation():
    cfg = config_dict(("127.0.0.1", 5999))
    cfg["pf"]["users"][0]["devices"][0]["instance"] = "urn:uuid:1"  # brackets added
    parsed = parse_config(cfg)
    assert parsed.pf.users[0].devices[0].instance == "<urn:uuid:1>"
    assert parsed.pf.recording == {"originating", "terminating"}
    assert parsed.client.domain == "example.net"
    # large message mode options and their defaults
    assert parsed.client.msrp_chunk_size == 2048 and parsed.client.answer_delay_ms == 0
    assert parsed.client.out_of_resources is False and parsed.pf.allow_anonymity is True


@pytest.mark.parametrize(
    ("mutate", "key"),
    [
        (lambda c: c.pop("pf") and c.pop("client"), "pf"),
        (lambda c: c["pf"].pop("domain"), "pf.domain"),
        (lambda c: c["pf"].update(recording=["sideways"]), "pf.recording[0]"),
        (lambda c: c["pf"].update(transport="sctp"), "pf.transport"),
        (
            lambda c: c["pf"]["users"][0]["devices"][1].update(selected="yes"),
            "pf.users[0].devices[1].selected",
        ),
        (lambda c: c["client"].update(outbound_proxy="127.0.0.1"), "client.outbound_proxy"),
        (lambda c: c["client"].update(instance="not-a-urn"), "client.instance"),
        (lambda c: c["pf"].update(store="/no/such/dir/x.sqlite"), "pf.store"),
        (lambda c: c["pf"].update(allow_anonymity="no"), "pf.allow_anonymity"),
        (lambda c: c["pf"].update(min_client_release="new"), "pf.min_client_release"),
        (lambda c: c["client"].update(msrp_chunk_size=0), "client.msrp_chunk_size"),
        (lambda c: c["client"].update(msrp_chunk_size=2**20), "client.msrp_chunk_size"),
        (lambda c: c["client"].update(answer_delay_ms=-1), "client.answer_delay_ms"),
        (lambda c: c["client"].update(out_of_resources=1), "client.out_of_resources"),
    ],
)
def test_config_errors_name_the_key(mutate, key):
    cfg = config_dict(("127.0.0.1", 5999))
    mutate(cfg)
    with pytest.raises(ConfigError) as info:
        parse_config(cfg)
    assert info.value.key == key


def test_store_gives_positive_increasing_uids(tmp_path):
    store = MessageStore(str(tmp_path / "s.sqlite"))
    try:
        a = store.add("sip:bob@example.net", b"MESSAGE a", "c1", "recorded")
        b = store.add("sip:bob@example.net", b"MESSAGE b", "c2", "deferred")
        assert 0 < a < b < 2**32
        assert store.get(a).raw == b"MESSAGE a"
        assert [m.uid for m in store.by_state("sip:bob@example.net", "deferred")] == [b]
    finally:
        store.close()
