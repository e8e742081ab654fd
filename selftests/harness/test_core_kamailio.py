"""The real core the suite starts with `[test_system] core = "kamailio"`
(cpmconf.roles.kamailio): start, readiness by an OPTIONS ping, stop, and each way it can fail
to come up (not installed, a config it rejects) ending in one line that names the file.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cpmconf.roles import kamailio as km
from cpmconf.roles.kamailio import CoreUnavailable, Kamailio
from cpmconf.roles.profile import ProfileError, load_profile

PROFILES = Path(__file__).resolve().parents[2] / "fixtures" / "profiles"
needs_kamailio = pytest.mark.skipif(km.binary() is None, reason="kamailio not installed")


def _answers(address) -> bool:
    """Whether an OPTIONS ping to `address` gets a 200 within a second."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        s.settimeout(1.0)
        s.sendto(km._ping(address, s.getsockname(), "selftest", 1), address)
        try:
            return s.recv(65535).startswith(b"SIP/2.0 200")
        except OSError:
            return False


@needs_kamailio
def test_start_ready_stop(tmp_path):
    real = Kamailio(tmp_path / "kamailio", ("127.0.0.1", 9))
    t0 = time.monotonic()
    address = real.start()
    try:
        assert time.monotonic() - t0 < km.READY_BOUND
        assert real.started_in is not None
        assert _answers(address)
        cfg = real.config.read_text()
        assert f"listen=udp:127.0.0.1:{address[1]}" in cfg
        assert "127.0.0.1:9;transport=" in cfg  # everything goes on to the suite's core
    finally:
        real.stop()
    assert real.process is None
    assert not _answers(address)
    assert real.log.is_file() and real.log.stat().st_size > 0  # kept in the run folder


def test_missing_binary_is_one_clear_line(tmp_path):
    real = Kamailio(tmp_path / "kamailio", ("127.0.0.1", 9))
    with pytest.raises(CoreUnavailable) as err:
        real.start(exe=str(tmp_path / "no-kamailio"))
    text = str(err.value)
    assert "\n" not in text
    assert "test_system.core" in text and "kamailio is not installed" in text


@needs_kamailio
def test_rejected_config_names_the_file(tmp_path):
    bad = tmp_path / "bad.cfg.j2"
    bad.write_text("#!KAMAILIO\nlisten=udp:{{ host }}:{{ port }}\nno_such_keyword = 1\n")
    real = Kamailio(tmp_path / "kamailio", ("127.0.0.1", 9), template=bad)
    t0 = time.monotonic()
    with pytest.raises(CoreUnavailable) as err:
        real.start(bound=5.0)
    assert time.monotonic() - t0 < 6.0
    text = str(err.value)
    assert "\n" not in text
    assert str(real.config) in text


def test_profile_key(tmp_path):
    assert load_profile(PROFILES / "embedded.toml").core == "suite"
    assert load_profile(PROFILES / "embedded-kamailio-core.toml").core == "kamailio"
    text = (PROFILES / "embedded.toml").read_text()
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace("judge_route = true\n", 'judge_route = true\ncore = "openser"\n'))
    with pytest.raises(ProfileError, match="test_system.core"):
        load_profile(bad)


@needs_kamailio
def test_a_killed_harness_leaves_no_kamailio(tmp_path):
    """SIGKILL to the process that started it: its Kamailio stops answering within a bound."""
    code = (
        "import json, sys; from cpmconf.roles.kamailio import Kamailio; "
        f"k = Kamailio({str(tmp_path / 'k')!r}, ('127.0.0.1', 9)); "
        "print(json.dumps(k.start()), flush=True); sys.stdin.read()"
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        address = tuple(json.loads(parent.stdout.readline()))
        assert _answers(address)
    finally:
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(5)
    deadline = time.monotonic() + 5.0
    while _answers(address):
        assert time.monotonic() < deadline, f"kamailio at {address} outlived its harness"
