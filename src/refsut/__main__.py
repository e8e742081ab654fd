"""Command line entry: ``python -m refsut --config FILE.json [--exit-on-stdin-eof]``.

Exit status: 0 after SIGTERM/SIGINT (or stdin EOF when asked), 3 for a configuration error
(the message names the key), 1 when the roles cannot start. Once every socket is bound, one
JSON line goes to stdout; everything else (logs, errors) goes to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import sys
import threading

from .app import RefSut
from .config import ConfigError, load_config
from .store import StoreError

EXIT_CONFIG = 3


def _watch_stdin(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> None:
    # A thread, because asyncio cannot read every kind of stdin (files, ttys) without blocking.
    # It reads the file descriptor, not sys.stdin.buffer: a daemon thread still blocked inside
    # the buffered reader at interpreter exit aborts the process ("_enter_buffered_busy").
    fd = sys.stdin.fileno()

    def run() -> None:
        try:
            while os.read(fd, 65536):
                pass
        except (OSError, ValueError):
            pass
        loop.call_soon_threadsafe(stop.set)

    threading.Thread(target=run, name="stdin-eof", daemon=True).start()


async def _run(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        sut = await RefSut(config).start()
    except StoreError as exc:
        raise ConfigError("pf.store", str(exc)) from None
    except OSError as exc:
        print(f"refsut: cannot start: {exc}", file=sys.stderr)
        return 1
    try:
        sys.stdout.write(json.dumps(sut.ready_info()) + "\n")
        sys.stdout.flush()
        if args.exit_on_stdin_eof:
            _watch_stdin(loop, stop)
        await stop.wait()
    finally:
        await sut.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="refsut", description="cpmconf reference SUT")
    parser.add_argument("--config", required=True, help="JSON configuration file")
    parser.add_argument(
        "--exit-on-stdin-eof", action="store_true", help="stop when stdin reaches end of file"
    )
    parser.add_argument("--log-level", default="INFO", help="stderr log level (default INFO)")
    args = parser.parse_args(argv)
    logging.basicConfig(
        stream=sys.stderr,
        level=getattr(logging, str(args.log_level).upper(), logging.INFO),
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    try:
        return asyncio.run(_run(args))
    except ConfigError as exc:
        print(f"refsut: config error: {exc.key}: {exc.detail}", file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
