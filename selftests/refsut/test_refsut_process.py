"""The refsut as a process: ready line, liveness, clean exits and config errors (exit 3)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys

import pytest

from cpmconf.transport import SipEndpoint

from .support import config_dict

EXIT_CONFIG = 3


def start(tmp_path, config: dict, *extra: str) -> subprocess.Popen:
    path = tmp_path / "refsut.json"
    path.write_text(json.dumps(config))
    return subprocess.Popen(
        [sys.executable, "-m", "refsut", "--config", str(path), *extra],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def ready_line(proc: subprocess.Popen) -> dict:
    line = proc.stdout.readline()  # the refsut prints it once every socket is bound
    assert line, proc.stderr.read().decode()
    return json.loads(line)


async def ping(address: str) -> int:
    host, port = address.rsplit(":", 1)
    async with SipEndpoint() as ep:
        raw = (
            "OPTIONS sip:example.net SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {ep.host}:{ep.port};branch=z9hG4bKp1\r\n"
            "From: <sip:t@example.net>;tag=1\r\nTo: <sip:example.net>\r\nCall-ID: ping-1\r\n"
            "CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
        ).encode()
        await ep.send(raw, (host, int(port)))
        item = await ep.receive(lambda i: i.ok, 3.0)
        return item.message.status


def test_ready_line_liveness_and_sigterm(tmp_path):
    cfg = config_dict(("127.0.0.1", 9))
    cfg["pf"]["store"] = str(tmp_path / "store.sqlite")
    proc = start(tmp_path, cfg)
    try:
        ready = ready_line(proc)
        assert ready["ready"] is True
        assert set(ready) == {"ready", "pf", "client", "upper_tester"}
        assert ready["upper_tester"].startswith("http://127.0.0.1:")
        assert asyncio.run(ping(ready["pf"])) == 200
        assert asyncio.run(ping(ready["client"])) == 200
        proc.terminate()
        assert proc.wait(timeout=5) == 0
    finally:
        proc.kill()
        proc.wait(timeout=5)
    assert (tmp_path / "store.sqlite").exists()


def test_exits_on_stdin_eof_and_omits_absent_roles(tmp_path):
    cfg = config_dict(("127.0.0.1", 9))
    del cfg["client"]
    proc = start(tmp_path, cfg, "--exit-on-stdin-eof")
    try:
        assert set(ready_line(proc)) == {"ready", "pf"}
        proc.stdin.close()
        assert proc.wait(timeout=5) == 0
    finally:
        proc.kill()
        proc.wait(timeout=5)


@pytest.mark.parametrize(
    ("mutate", "key"),
    [
        (lambda c: c["pf"].update(colour="blue"), "pf.colour"),
        (lambda c: c["pf"]["users"][0].update(preference="maybe"), "pf.users[0].preference"),
        (lambda c: c["client"].update(listen="10.1.2.3:5060"), "client.listen"),
        (lambda c: c.update(faults=["pf.no-such-fault"]), "faults[0]"),
    ],
)
def test_bad_config_exits_3_naming_the_key(tmp_path, mutate, key):
    cfg = config_dict(("127.0.0.1", 9))
    mutate(cfg)
    proc = start(tmp_path, cfg)
    try:
        out, err = proc.communicate(timeout=10)
    finally:
        proc.kill()
    assert proc.returncode == EXIT_CONFIG
    assert out == b""
    assert key in err.decode()
