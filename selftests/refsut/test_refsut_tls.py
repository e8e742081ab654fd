"""Self-tests for TLS across the profile, the embedded SUT's config and the reference SUT:
`transport = "tls"` per role, the refsut's cert/key/ca config (a bad one is one line), and
the refsut answering over TLS with msrps: paths on its MSRP legs."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from cpmconf.catalogue import REPO_ROOT
from cpmconf.roles.profile import ProfileError, load_profile
from cpmconf.roles.sut import refsut_config
from cpmconf.transport import SipEndpoint
from cpmconf.transport.tls import contexts, make_test_pki
from refsut.app import RefSut
from refsut.config import ConfigError, parse_config
from selftests.refsut.support import config_dict

PROFILES = REPO_ROOT / "fixtures" / "profiles"


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_test_pki(tmp_path_factory.mktemp("pki"))


def test_the_tls_profile_runs_both_roles_over_tls_and_the_default_none():
    tls = load_profile(PROFILES / "embedded-tls.toml")
    assert tls.pf.transport == tls.client.transport == "tls" and tls.uses_tls
    assert not load_profile(PROFILES / "embedded.toml").uses_tls


def test_a_bad_transport_names_the_file_and_the_key(tmp_path):
    text = (PROFILES / "embedded-tls.toml").read_text()
    bad = tmp_path / "typo.toml"
    bad.write_text(text.replace('\ntransport = "tls"', '\ntransport = "tsl"', 1))
    with pytest.raises(ProfileError) as err:
        load_profile(bad)
    assert str(err.value).startswith(f"{bad}: key 'pf.transport': 'tsl' is not one of")


def test_the_embedded_sut_gets_the_runs_certificate_through_its_config(pki, tmp_path):
    profile = load_profile(PROFILES / "embedded-tls.toml")
    cfg = refsut_config(profile, ("127.0.0.1", 9), tmp_path / "s.sqlite", [], tls=pki)
    assert cfg["tls"] == {"cert": str(pki.cert), "key": str(pki.key), "ca": str(pki.ca)}
    assert parse_config(cfg).tls is not None
    assert "tls" not in refsut_config(profile, ("127.0.0.1", 9), tmp_path / "s.sqlite", [])


def test_refsut_tls_config_errors_are_one_line(pki, tmp_path):
    cfg = config_dict(("127.0.0.1", 9), transport="tls")
    with pytest.raises(ConfigError) as missing:
        parse_config(cfg)
    assert str(missing.value) == "pf.transport: tls needs the tls section (cert, key, ca)"
    cfg["tls"] = {"cert": str(tmp_path / "none.pem"), "key": str(pki.key), "ca": str(pki.ca)}
    with pytest.raises(ConfigError) as bad:
        parse_config(cfg)
    assert str(bad.value) == f"tls: TLS certificate file {tmp_path / 'none.pem'}: not found"


def test_refsut_answers_options_over_tls_and_offers_msrps_paths(pki):
    server_ctx, client_ctx = contexts(pki)
    options = (
        "OPTIONS sip:{host}:{port} SIP/2.0\r\n"
        "Via: SIP/2.0/TLS {core};branch=z9hG4bK-tls1\r\n"
        "Max-Forwards: 70\r\n"
        "From: <sip:probe@example.net>;tag=p1\r\n"
        "To: <sip:{host}:{port}>\r\n"
        "Call-ID: tls-probe\r\n"
        "CSeq: 1 OPTIONS\r\n"
        "Content-Length: 0\r\n\r\n"
    )

    async def main():
        async with SipEndpoint(ssl_server=server_ctx, ssl_client=client_ctx) as core:
            data = config_dict(core.address, transport="tls")
            data["tls"] = {"cert": str(pki.cert), "key": str(pki.key), "ca": str(pki.ca)}
            async with RefSut(parse_config(data)) as sut:
                host, port = sut.pf.address
                raw = options.format(host=host, port=port, core="{}:{}".format(*core.address))
                await core.send(raw.encode(), (host, port), "tls")
                got = await core.receive(lambda i: i.message.call_id == "tls-probe", 3)
                assert got.transport == "tls" and got.message.status == 200
                leg = sut.pf.msrp.leg("probe")
                assert str(leg.uri).startswith("msrps://") and sut.client.msrp.secure

    asyncio.run(asyncio.wait_for(main(), 10))


def test_profile_readme_documents_tls():
    text = Path(PROFILES / "README.md").read_text()
    assert "embedded-tls.toml" in text and "keylog" in text


def test_tls_dir_and_tls_ca_are_read_beside_the_profile_and_a_missing_ca_is_named(tmp_path):
    text = (PROFILES / "embedded-tls.toml").read_text()
    head = "[test_system]\n"
    (tmp_path / "sut-ca.pem").write_text("-")
    good = tmp_path / "lab.toml"
    good.write_text(text.replace(head, head + 'tls_dir = "pki"\ntls_ca = "sut-ca.pem"\n'))
    p = load_profile(good)
    assert (p.tls_dir, p.tls_ca) == (str(tmp_path / "pki"), str(tmp_path / "sut-ca.pem"))
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace(head, head + 'tls_ca = "none.pem"\n'))
    with pytest.raises(ProfileError) as err:
        load_profile(bad)
    assert str(err.value) == (
        f"{bad}: key 'test_system.tls_ca': no such file: {tmp_path / 'none.pem'}"
    )


def test_an_msrps_path_makes_the_sdp_say_tcp_tls_msrp_on_both_sides():
    from cpmconf.codec.sdp import build_sdp
    from refsut import wire

    secure = wire.msrp_uri("127.0.0.1", 4000, "s1", secure=True)
    assert secure == "msrps://127.0.0.1:4000/s1;tcp"
    assert b"m=message 4000 TCP/TLS/MSRP *" in wire.sdp_msrp(host="127.0.0.1", path=secure)
    plain = wire.msrp_uri("127.0.0.1", 4000, "s1")
    assert b"m=message 4000 TCP/MSRP *" in wire.sdp_msrp(host="127.0.0.1", path=plain)
    assert build_sdp(host="127.0.0.1", path=secure).media[0].proto == "TCP/TLS/MSRP"
    assert build_sdp(host="127.0.0.1", path=plain).media[0].proto == "TCP/MSRP"


def _collect(profile: str) -> list[str]:
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-m", "pytest", "testcases", "--co", "-q", "--sut", profile],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return out.stdout.splitlines()


def test_tls_variants_are_collected_only_when_the_profile_runs_tls():
    default = _collect("embedded")
    tls = _collect(str(PROFILES / "embedded-tls.toml"))
    variants = [ln for ln in tls if re.search(r"[\[-]tls[\]-]", ln)]
    assert len(variants) == 9, tls[-12:]
    assert not [ln for ln in default if re.search(r"[\[-]tls[\]-]", ln)]
    total = int(re.match(r"(\d+) tests collected", tls[-1]).group(1))
    shown = re.match(r"(\d+)/(\d+) tests collected \((\d+) deselected\)", default[-1])
    assert shown and shown.groups() == (str(total - 9), str(total), "9"), default[-1]
