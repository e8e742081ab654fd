"""The run's own Message Storage Server (cpmconf.roles.dovecot) and reading it back
(cpmconf.roles.store): start, readiness, APPENDUID, fetch, stop, and each way it can fail to
come up (not installed, exits at once, never greets) ending in a reason within its bound.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import stat
import tempfile
import time
from pathlib import Path

import pytest

from cpmconf.roles import dovecot as dv
from cpmconf.roles import sut
from cpmconf.roles.dovecot import Account, Dovecot, StoreUnavailable
from cpmconf.roles.profile import load_profile
from cpmconf.roles.store import StoreAccess, fetch
from refsut.imapstore import ImapRecorder, MessageStoreConfig, StoreAccount

EMBEDDED = Path(__file__).resolve().parents[2] / "fixtures" / "profiles" / "embedded.toml"
ACCOUNTS = [
    Account("sip:alice@example.net", "alice@example.net", "a-pw"),
    Account("sip:erin@example.net", "erin@example.net", "e-pw"),
]
needs_dovecot = pytest.mark.skipif(dv.binary() is None, reason="dovecot-imapd not installed")


@pytest.fixture
def folder():
    # Dovecot's own users read the mail when run as root: a folder they can traverse (the
    # pytest tmp_path sits below a directory only root may enter).
    path = Path(tempfile.mkdtemp(prefix="cpmconf-imap-"))
    path.chmod(stat.S_IRWXU | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)
    yield path / "imap"
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def running(folder):
    server = Dovecot(folder, ACCOUNTS)
    server.start()
    yield server
    server.stop()


def _refused(address) -> bool:
    try:
        socket.create_connection(address, timeout=1.0).close()
    except OSError:
        return True
    return False


@needs_dovecot
def test_starts_greets_and_stops(running):
    assert running.process is not None and running.process.poll() is None
    assert running.started_in is not None and running.started_in < dv.READY_BOUND
    host, port = running.address
    assert host == "127.0.0.1" and port > 0
    conf = (running.folder / "dovecot.conf").read_text()
    assert f"port = {port}" in conf and "listen = 127.0.0.1" in conf
    assert "alice@example.net:{PLAIN}a-pw" in (running.folder / "users").read_text()
    proc = running.process
    running.stop()
    assert proc.poll() is not None
    assert _refused((host, port))
    running.stop()  # a second stop is harmless


@needs_dovecot
def test_appenduid_names_the_object_fetch_returns(running):
    host, port = running.address
    cfg = MessageStoreConfig(
        (host, port),
        "INBOX",
        tuple(StoreAccount(a.uri, a.login, a.password) for a in ACCOUNTS),
    )
    rec = ImapRecorder(cfg)
    raw = b"MESSAGE sip:erin@example.net SIP/2.0\r\nCall-ID: x1\r\nContent-Length: 2\r\n\r\nhi"
    uid = rec.append("<sip:erin@example.net>;tag=1", raw)
    second = asyncio.run(rec.record("sip:erin@example.net", raw + b"!"))
    assert uid > 0 and second == uid + 1
    access = StoreAccess((host, port), "INBOX", tuple(ACCOUNTS))
    got = fetch(access, "sip:erin@example.net", uid)
    assert got.problem is None and got.raw == raw
    assert got.to_json()["object"].endswith("hi")
    # The same UID in another user's store: not there (each user's folder counts on its own).
    other = fetch(access, "sip:alice@example.net", uid)
    assert other.raw is None and "no object with UID" in other.problem and not other.harness
    assert fetch(access, "sip:erin@example.net", uid + 50).raw is None
    # No credentials for a user, a wrong password, a missing folder: each said as whose fault.
    assert fetch(access, "sip:bob@example.net", uid).harness
    nofolder = StoreAccess((host, port), "CPM/{user}", tuple(ACCOUNTS))
    missing = fetch(nofolder, "sip:erin@example.net", uid)
    assert "no folder 'CPM/erin'" in missing.problem and not missing.harness
    bad = StoreAccess(
        (host, port), "INBOX", (Account("sip:erin@example.net", "erin@example.net", "x"),)
    )
    assert fetch(bad, "sip:erin@example.net", uid).harness


@needs_dovecot
def test_recording_without_an_account_gives_no_uid(running):
    cfg = MessageStoreConfig(running.address, "INBOX", ())
    assert asyncio.run(ImapRecorder(cfg).record("sip:nobody@example.net", b"x")) is None


def test_not_installed_is_unavailable_with_the_reason(folder, monkeypatch):
    monkeypatch.setattr(dv, "binary", lambda: None)
    with pytest.raises(StoreUnavailable, match="dovecot is not installed"):
        Dovecot(folder, ACCOUNTS).start()
    profile = load_profile(EMBEDDED)
    store, reason, server = asyncio.run(sut.start_store(profile, folder))
    assert store is None and server is None and "not installed" in reason


def _fake_binary(tmp: Path, script: str) -> str:
    path = tmp / "fake-dovecot"
    path.write_text("#!/bin/sh\n" + script + "\n")
    path.chmod(0o755)
    return str(path)


def test_a_store_that_does_not_come_up_makes_the_store_cases_inconclusive(folder, monkeypatch):
    exe = _fake_binary(folder.parent, "exit 3")
    monkeypatch.setattr(dv, "binary", lambda: exe)
    with pytest.raises(sut.StoreStartFailed, match="exited with status 3"):
        asyncio.run(sut.start_store(load_profile(EMBEDDED), folder))


def test_a_server_that_exits_is_unavailable_at_once(folder, monkeypatch):
    exe = _fake_binary(folder.parent, "echo 'Fatal: bad config' >&2; exit 89")
    monkeypatch.setattr(dv, "binary", lambda: exe)
    t0 = time.monotonic()
    with pytest.raises(StoreUnavailable, match="exited with status 89") as info:
        Dovecot(folder, ACCOUNTS).start(bound=5.0)
    assert time.monotonic() - t0 < 4.0
    assert "Fatal: bad config" in str(info.value)


def test_a_server_that_never_greets_is_unavailable_within_the_bound(folder, monkeypatch):
    exe = _fake_binary(folder.parent, "exec sleep 60")
    monkeypatch.setattr(dv, "binary", lambda: exe)
    server = Dovecot(folder, ACCOUNTS)
    t0 = time.monotonic()
    with pytest.raises(StoreUnavailable, match="no IMAP greeting"):
        server.start(bound=0.5)
    assert time.monotonic() - t0 < 3.0
    assert server.process is None  # stopped on the way out


def test_no_store_in_the_profile_is_the_reason(folder):
    profile = load_profile(EMBEDDED)
    bare = profile.__class__(**{**profile.__dict__, "store": None})
    store, reason, server = asyncio.run(sut.start_store(bare, folder))
    assert store is None and server is None and reason == sut.NO_STORE
    assert sut.external(bare).store is None


def test_the_refsut_config_names_the_store():
    profile = load_profile(EMBEDDED)
    access = StoreAccess(("127.0.0.1", 1143), "INBOX", profile.store.accounts)
    cfg = sut.refsut_config(
        profile, ("127.0.0.1", 5060), Path("s.sqlite"), [], message_store=access
    )
    ms = cfg["pf"]["message_store"]
    assert ms["address"] == "127.0.0.1:1143" and ms["folder"] == "INBOX"
    assert {a["uri"] for a in ms["accounts"]} >= {"sip:alice@example.net", "sip:erin@example.net"}
    from refsut.config import parse_config

    parsed = parse_config(cfg).pf.message_store
    assert parsed.address == ("127.0.0.1", 1143) and len(parsed.accounts) == len(ms["accounts"])
    assert (
        "message_store" not in sut.refsut_config(profile, ("127.0.0.1", 5060), Path("s"), [])["pf"]
    )


def test_an_external_profile_names_its_store(tmp_path):
    text = EMBEDDED.read_text().replace("embedded = true", "embedded = false")
    text = text.replace(
        'transport = "udp"\ndomain', 'address = "127.0.0.1:5060"\ntransport = "udp"\ndomain', 1
    )
    text = text.replace(
        '[client]\ntransport = "udp"',
        '[client]\naddress = "127.0.0.1:5062"\n'
        'upper_tester = "http://127.0.0.1:8080"\ntransport = "udp"',
    )
    text = text.replace(
        '[store]\nfolder = "INBOX"', '[store]\naddress = "127.0.0.1:10143"\nfolder = "CPM/{user}"'
    )
    path = tmp_path / "ext.toml"
    path.write_text(text)
    handle = sut.external(load_profile(path))
    assert handle.store.address == ("127.0.0.1", 10143)
    assert handle.store.folder_of("<sip:Bob@example.net>;tag=x") == "CPM/bob"
    assert handle.store.account("sip:erin@example.net").password == "erin-store"
    no_address = path.read_text().replace('address = "127.0.0.1:10143"\n', "")
    path.write_text(no_address)
    handle = sut.external(load_profile(path))
    assert handle.store is None and "names no address" in handle.store_reason


@needs_dovecot
@pytest.mark.skipif(os.geteuid() != 0, reason="only root runs Dovecot's mail as other users")
def test_a_private_run_folder_runs_the_server_elsewhere_and_brings_its_log_home(tmp_path):
    home = tmp_path / "imap"  # below pytest's root-only directory
    server = Dovecot(home, ACCOUNTS)
    server.start()
    try:
        assert server.folder != home and (home / "WHERE").exists()
        ran_in = server.folder
        access = StoreAccess(server.address, "INBOX", tuple(ACCOUNTS))
        assert "no object with UID 1" in fetch(access, "sip:erin@example.net", 1).problem
    finally:
        server.stop()
    assert not ran_in.exists() and server.folder == home
    assert (home / "dovecot.conf").exists() and (home / "dovecot.log").exists()


@needs_dovecot
@pytest.mark.skipif(os.geteuid() != 0, reason="the mail user is only chosen when root")
def test_a_server_that_greets_but_cannot_serve_mail_is_unavailable(folder, monkeypatch):
    real = dv._users()
    monkeypatch.setattr(dv, "_users", lambda: (real[0], real[1], 0, 0))  # uid 0: refused
    server = Dovecot(folder, ACCOUNTS)
    with pytest.raises(StoreUnavailable, match="cannot serve alice@example.net's mail"):
        server.start(bound=5.0)
    assert server.process is None


def test_the_store_is_started_only_when_a_selected_case_reads_it():
    from types import SimpleNamespace

    from fixtures.session import _store_selected

    from cpmconf import catalogue

    cat = catalogue.load()
    state = SimpleNamespace(run_info={}, catalogue=cat)
    assert _store_selected(state)  # the whole suite
    state.run_info["selection"] = {"clauses": ["TS-8.3.2.1-4a.iii-200", "TS-8.5.1-send-4a.i"]}
    assert not _store_selected(state)
    state.run_info["selection"] = {"clauses": ["TS-8.3.2.1-4a.iii-200", "TS-8.5.1-send-3"]}
    assert _store_selected(state)


def test_a_store_case_without_a_store_is_not_applicable_with_the_reason():
    from types import SimpleNamespace

    from testcases.test_ts_8_5_1_store import _store

    from cpmconf.verdict import Inconclusive, NotApplicable

    pf = SimpleNamespace(handle=SimpleNamespace(store=None, store_reason=sut.NO_STORE))
    with pytest.raises(NotApplicable, match="names no message store"):
        _store(pf)
    pf.handle.store_failed, pf.handle.store_reason = True, "dovecot exited with status 89"
    with pytest.raises(Inconclusive, match="exited with status 89"):
        _store(pf)
