"""Deliver messages from a background thread, with retries, so a caller never waits on a network.

A :class:`Deliverer` takes *deliveries* — zero-argument callables that send one thing (a mail,
a webhook call) and raise on failure — and runs them in its own thread. A failed delivery is
tried again after an exponentially growing pause, up to ``attempts`` times; then one line on
``sys.stderr`` says what was lost and why. Nothing is ever raised into the code that submitted
it, and nothing hangs: the queue never blocks a caller (a full queue drops the delivery with a
line on stderr), and :meth:`Deliverer.close` (run at interpreter exit) stops retrying and waits
at most ``drain_timeout_s`` for what is queued.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Final

from structlogx._background import Worker

__all__ = ["Deliverer", "Delivery"]

Delivery = tuple[str, Callable[[], object]]
"""What :meth:`Deliverer.submit` queues: a description for error lines, and the sending call."""

_MAX_PAUSE_S: Final = 300.0


def _say(line: str) -> None:
    with contextlib.suppress(Exception):  # stderr closed: nothing left to tell
        print(line, file=sys.stderr, flush=True)


class Deliverer:
    """A background thread that runs deliveries with retries (see the module docs).

    Args:
        name: the thread's name, also used in stderr lines.
        attempts: how many times a delivery is tried in all (at least 1).
        backoff_s: the pause after the first failure; each later pause doubles, up to
            ``max_backoff_s``.
        max_backoff_s: the longest pause between two attempts.
        queue_size: how many deliveries may wait; beyond it they are dropped (said on stderr).
        drain_timeout_s: the most :meth:`close` waits for queued deliveries.

    Raises:
        ValueError: a count below 1 or a negative time.
    """

    def __init__(
        self,
        name: str,
        *,
        attempts: int = 4,
        backoff_s: float = 1.0,
        max_backoff_s: float = 60.0,
        queue_size: int = 1000,
        drain_timeout_s: float = 10.0,
    ) -> None:
        if isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 1:
            raise ValueError(f"attempts must be an int of at least 1, not {attempts!r}")
        for option, seconds in (
            ("backoff_s", backoff_s),
            ("max_backoff_s", max_backoff_s),
            ("drain_timeout_s", drain_timeout_s),
        ):
            if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
                raise ValueError(f"{option} must be a number of seconds >= 0, not {seconds!r}")
        self.name = name
        self.attempts = attempts
        self.backoff_s = float(backoff_s)
        self.max_backoff_s = min(float(max_backoff_s), _MAX_PAUSE_S)
        self.drain_timeout_s = float(drain_timeout_s)
        self._worker: Worker[Delivery] = Worker(
            self._run_batch,
            self._dropped,
            name=name,
            queue_size=queue_size,
            batch_size=1,
            batch_interval_s=0,
            block_timeout_s=0,  # never make the caller wait: that is the point of this class
            close_timeout_s=self.drain_timeout_s,  # at interpreter exit too
        )
        self._closing = self._worker.closing  # set by close(), here or at exit

    def submit(self, what: str, send: Callable[[], object]) -> None:
        """Queue *send* for the thread; *what* names it in error lines. Never raises."""
        self._worker.put((what, send))

    def in_delivery_thread(self) -> bool:
        """Return whether the caller runs in this deliverer's thread (for recursion guards)."""
        return threading.current_thread() is self._worker._thread

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every delivery submitted so far was tried; ``False`` on timeout."""
        return self._worker.flush(timeout)

    def close(self) -> None:
        """Stop retrying, try what is queued once more, for at most ``drain_timeout_s``."""
        self._worker.close()

    def _run_batch(self, batch: list[Delivery]) -> None:
        for what, send in batch:
            self._deliver(what, send)

    def _deliver(self, what: str, send: Callable[[], object]) -> None:
        pause = self.backoff_s
        attempt = 0
        while True:
            attempt += 1
            try:
                send()
                return
            except Exception as exc:
                error = exc
            if attempt >= self.attempts or self._closing.is_set():
                break
            if self._closing.wait(pause):  # closing: stop pausing, one last try happened
                break
            pause = min(pause * 2, self.max_backoff_s)
        _say(f"structlogx: {self.name}: {what} failed after {attempt} attempt(s): {error!r}")

    def _dropped(self, items: Sequence[Delivery], reason: str) -> None:
        names = ", ".join(what for what, _ in items[:3]) + (", ..." if len(items) > 3 else "")
        _say(f"structlogx: {self.name}: {len(items)} delivery(ies) dropped ({reason}): {names}")
