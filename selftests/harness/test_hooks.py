"""SUT control hooks (cpmconf.roles.hooks): a command line and an HTTP call each run with
`{seconds}` filled in; a failing, silent or missing hook is a HookError naming the hook, and a
missing one gives the not-applicable reason. An external SUT's handle carries its profile's
hooks; the embedded reference SUT's are HTTP calls to its control interface."""

from __future__ import annotations

import asyncio
import http.server
import sys
import threading

import pytest

from cpmconf.roles import hooks
from cpmconf.roles.profile import profile_from_dict
from cpmconf.roles.sut import external


def test_a_command_hook_runs_with_the_seconds_filled_in(tmp_path):
    out = tmp_path / "seen"
    script = "import sys; open(sys.argv[1], 'w').write(sys.argv[2])"
    spec = f'{sys.executable} -c "{script}" {out} {{seconds}}'
    asyncio.run(hooks.run({"clock": spec}, "clock", 120))
    assert out.read_text() == "120"


def test_a_failing_command_hook_names_the_hook_and_its_exit_status():
    spec = f'{sys.executable} -c "import sys; sys.exit(4)"'
    with pytest.raises(hooks.HookError, match=r"reset hook .* exited 4"):
        asyncio.run(hooks.run({"reset": spec}, "reset"))
    with pytest.raises(hooks.HookError, match="cannot start"):
        asyncio.run(hooks.run({"reset": "/nonexistent/ctl reset"}, "reset"))


def test_a_missing_hook_is_named_as_the_not_applicable_reason():
    assert hooks.missing({}, "clock") == (
        "the profile declares no clock hook ([hooks] clock), which this case needs"
    )
    assert hooks.missing({"clock": "x"}, "clock") is None
    with pytest.raises(hooks.HookError, match="no clock hook"):
        asyncio.run(hooks.run({}, "clock", 1))


class _Recorder(http.server.BaseHTTPRequestHandler):
    seen: list = []
    status = 200

    def do_POST(self):  # noqa: N802 (http.server's naming)
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.seen.append((self.path, body))
        self.send_response(self.status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    srv = http.server.HTTPServer(("127.0.0.1", 0), _Recorder)
    _Recorder.seen = []
    _Recorder.status = 200
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


def test_an_http_hook_posts_its_body_with_the_seconds_filled_in(server):
    asyncio.run(
        hooks.run({"clock": f'POST {server}/clock {{"advance": {{seconds}}}}'}, "clock", 90)
    )
    assert _Recorder.seen == [("/clock", b'{"advance": 90}')]


def test_an_http_hook_answered_with_an_error_is_a_hook_error(server):
    _Recorder.status = 500
    with pytest.raises(hooks.HookError, match="reset hook .* answered HTTP 500"):
        asyncio.run(hooks.run({"reset": f"POST {server}/reset"}, "reset"))


def test_an_external_suts_handle_carries_the_profiles_hooks():
    profile = profile_from_dict(
        {
            "name": "x",
            "pf": {"address": "127.0.0.1:5060", "domain": "example.net", "server_identity": "s"},
            "users": [{"uri": "sip:a@example.net"}],
            "hooks": {"reset": "./ctl reset"},
        }
    )
    handle = external(profile)
    assert handle.hooks == {"reset": "./ctl reset"}
    asyncio.run(external(profile_from_dict({**_client(), "name": "y"})).reset())  # no hook: no-op


def _client() -> dict:
    return {
        "client": {
            "address": "127.0.0.1:5062",
            "user": "sip:a@example.net",
            "upper_tester": "http://127.0.0.1:1",
        }
    }


def test_the_embedded_suts_hooks_are_http_calls_to_its_control_interface(tmp_path):
    from cpmconf.catalogue import REPO_ROOT
    from cpmconf.roles.profile import load_profile
    from cpmconf.roles.sut import start_embedded

    profile = load_profile(REPO_ROOT / "fixtures" / "profiles" / "embedded.toml")

    async def scenario():
        handle = await start_embedded(profile, ("127.0.0.1", 9), tmp_path, [])
        try:
            assert set(handle.hooks) == {"reset", "clock"}
            assert all(spec.startswith("POST http://127.0.0.1:") for spec in handle.hooks.values())
            assert '"offset": 90' in await hooks.run(handle.hooks, "clock", 90)
            await handle.reset()
            assert '"offset": 5' in await hooks.run(handle.hooks, "clock", 5)  # reset: from 0
        finally:
            await handle.stop()

    asyncio.run(asyncio.wait_for(scenario(), 30))
