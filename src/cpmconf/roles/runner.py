"""One asyncio event loop for the whole run, on its own thread.

Owns the bridge between pytest's synchronous world and the asyncio roles: sockets stay served
between tests, and every coroutine a test runs has a bound after which it is cancelled.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import io
import logging
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")
log = logging.getLogger("cpmconf.loop")


def _one_line_handler(loop: asyncio.AbstractEventLoop, context: dict) -> None:
    """Log an exception nobody retrieved (an abandoned task, say) as one line.

    No traceback is formatted here: in CPython 3.11 that parses source with `ast` (the caret
    lines), and the ast module's state is shared between threads, so doing it on this thread
    while pytest formats a failure on the main thread can raise SystemError ("AST constructor
    recursion depth mismatch") and end the whole session with an internal error.
    """
    exc = context.get("exception")
    where = context.get("task") or context.get("future") or context.get("handle") or ""
    log.warning("%s: %r %s", context.get("message", "event loop error"), exc, where)


class LoopThread:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.loop.set_exception_handler(_one_line_handler)
        self._thread = threading.Thread(target=self._run, name="cpmconf-loop", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float) -> T:
        """Run `coro` on the loop; after `timeout` s cancel it and raise TimeoutError."""
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            if future.done():
                # The coroutine's own TimeoutError (a NoAnswer, say): not our bound expiring.
                raise
            # Where it was stuck, for the log: the one place this diagnosis is read.
            log.debug("bound of %g s expired; pending tasks:\n%s", timeout, self.pending_stacks())
            future.cancel()
            raise TimeoutError(f"did not finish within {timeout:g} s") from None

    def pending_stacks(self) -> str:
        """Where every pending task on the loop is waiting: the diagnosis of a stuck test."""
        out = io.StringIO()
        for task in asyncio.all_tasks(self.loop):
            task.print_stack(limit=8, file=out)
        return out.getvalue()

    def close(self, timeout: float = 5.0) -> None:
        if self.loop.is_closed():
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout)
        if not self._thread.is_alive():
            self.loop.close()
