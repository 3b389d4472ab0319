"""One background thread behind a bounded queue: what the async audit writer and the mail
sender share.

Callers :meth:`~Worker.put` items and return; the thread hands them to ``process`` in batches
of up to ``batch_size``, waiting up to ``batch_interval_s`` for a batch to fill. The queue is
bounded: a caller that finds it full waits up to ``block_timeout_s``, then the item goes to
``overflow`` with the reason (a spool file, a line on stderr) instead of being dropped
silently. :meth:`~Worker.flush` waits until everything put before it was processed;
:meth:`~Worker.close` and interpreter exit drain the queue. A forked child starts with an
empty queue and its own thread on its first ``put`` (the parent's thread does not exist in
the child, and its queued items stay the parent's to process).

(The stdlib's ``QueueListener`` hands records over one at a time; batching is the point
here, and the items are prepared entries and messages, not records.)
"""

from __future__ import annotations

import atexit
import collections
import os
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from typing import Any, Final, Generic, TypeVar

__all__ = ["Worker"]

T = TypeVar("T")

_STOP: Final = object()
_WORKERS: weakref.WeakSet[Worker[Any]] = weakref.WeakSet()


def _check(name: str, value: object, *, integer: bool) -> None:
    valid = (
        not isinstance(value, bool)
        and isinstance(value, int if integer else int | float)
        and value >= (1 if integer else 0)
    )
    if not valid:
        kind = "a positive int" if integer else "a number of seconds >= 0"
        raise ValueError(f"{name} must be {kind}, not {value!r}")


class Worker(Generic[T]):
    """A daemon thread that processes queued items in batches (see the module docs).

    Args:
        process: called in the thread with each batch; an exception it raises sends the
            batch to ``overflow``.
        overflow: called with items that cannot be processed and why: the queue stayed
            full, the worker was closed, or ``process`` raised. Must not raise.
        name: the thread's name.
        queue_size: how many items may wait.
        batch_size: the most items one ``process`` call takes.
        batch_interval_s: how long a batch may wait to fill up.
        block_timeout_s: how long ``put`` waits on a full queue before ``overflow``.
        close_timeout_s: how long :meth:`close` waits for the thread by default (``None``:
            as long as it takes).

    Raises:
        ValueError: a size that is not a positive int or a time that is negative.
    """

    def __init__(
        self,
        process: Callable[[list[T]], object],
        overflow: Callable[[Sequence[T], str], object],
        *,
        name: str,
        queue_size: int = 10_000,
        batch_size: int = 1000,
        batch_interval_s: float = 0.005,
        block_timeout_s: float = 1.0,
        close_timeout_s: float | None = None,
    ) -> None:
        _check("queue_size", queue_size, integer=True)
        _check("batch_size", batch_size, integer=True)
        _check("batch_interval_s", batch_interval_s, integer=False)
        _check("block_timeout_s", block_timeout_s, integer=False)
        self.process, self.overflow, self.name = process, overflow, name
        self.queue_size = queue_size
        self.batch_size = batch_size
        self.batch_interval_s = float(batch_interval_s)
        self.block_timeout_s = float(block_timeout_s)
        self.close_timeout_s = close_timeout_s
        self.closed = False
        self.closing = threading.Event()
        """Set when :meth:`close` starts (at exit too): long waits in ``process`` should end."""
        self._reset()
        _WORKERS.add(self)
        atexit.register(_close_at_exit, weakref.ref(self))

    def _reset(self) -> None:
        # A deque, not queue.Queue: appending is one C call, and the thread is woken through
        # an Event only when it sleeps. Callers meet a lock only when the queue is full.
        self._items: collections.deque[Any] = collections.deque()
        self._wake = threading.Event()  # set: there is something to take
        self._space = threading.Condition(threading.Lock())  # a full queue's callers wait here
        self._space_waiters = 0
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._pid = os.getpid()

    def _start(self) -> None:
        with self._start_lock:
            if self._pid != os.getpid():  # forked where register_at_fork is missing
                self._reset()
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
                self._thread.start()

    def _put(self, item: object, timeout: float | None) -> bool:
        items = self._items
        if len(items) >= self.queue_size and not self._wait_for_space(timeout):
            return False
        items.append(item)
        if not self._wake.is_set():
            self._wake.set()
        return True

    def _wait_for_space(self, timeout: float | None) -> bool:
        with self._space:
            self._space_waiters += 1
            try:
                return self._space.wait_for(
                    lambda: len(self._items) < self.queue_size, timeout=timeout
                )
            finally:
                self._space_waiters -= 1

    def put(self, item: T) -> None:
        """Queue *item*; hand it to ``overflow`` if the queue stays full or the worker closed."""
        if self.closed:
            self.overflow([item], "it was closed")
            return
        if self._thread is None:  # the first put, or the first in a forked child
            self._start()
        if not self._put(item, self.block_timeout_s):
            self.overflow([item], f"its queue stayed full for {self.block_timeout_s:g}s")

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every item put before this call is processed; ``False`` on timeout."""
        thread = self._thread
        if self.closed or thread is None or self._pid != os.getpid() or not thread.is_alive():
            return True  # nothing can be waiting: close() drained it, or no thread ran here
        done = threading.Event()
        return self._put(done, timeout) and done.wait(timeout)

    def close(self, timeout: float | None = None) -> None:
        """Process what is queued, then stop the thread; later items go to ``overflow``.

        Args:
            timeout: the most seconds to wait for the thread (default ``close_timeout_s``,
                also used at interpreter exit); what it has not taken by then goes to
                ``overflow`` (for work that may hang, such as network delivery).
        """
        if self.closed:
            return
        self.closed = True
        self.closing.set()
        if timeout is None:
            timeout = self.close_timeout_s
        thread = self._thread
        if thread is not None and self._pid == os.getpid() and thread.is_alive():
            self._items.append(_STOP)  # past the bound on purpose: close must not block
            self._wake.set()
            thread.join(timeout)
            if thread.is_alive():
                left = self._drain()
                if left:
                    self.overflow(left, f"it was closed and not done after {timeout:g}s")
                return
        # An item put while close() ran may sit behind the stop: process it, never drop it.
        late = self._drain()
        if late:
            self._process(late)

    def _drain(self) -> list[T]:
        items: list[T] = []
        while self._items:
            item = self._items.popleft()
            if item is not _STOP and not _is_marker(item):
                items.append(item)
        return items

    def _process(self, batch: list[T]) -> None:
        try:
            self.process(batch)
        except Exception as exc:
            self.overflow(batch, f"processing failed: {exc!r}")

    def _take(self, batch: list[T], markers: list[threading.Event]) -> bool:
        """Move queued items into *batch* and *markers*; return whether a stop was taken."""
        popleft, items = self._items.popleft, self._items
        while items and len(batch) < self.batch_size:
            item = popleft()
            if item is _STOP:
                return True
            if _is_marker(item):
                markers.append(item)
            else:
                batch.append(item)
        return False

    def _run(self) -> None:
        wake = self._wake
        while True:
            wake.wait()
            wake.clear()  # before taking: a put from now on sets it again
            batch: list[T] = []
            markers: list[threading.Event] = []
            stop = self._take(batch, markers)
            deadline = time.monotonic() + self.batch_interval_s
            while not stop and not markers and len(batch) < self.batch_size:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not wake.wait(remaining):
                    break
                wake.clear()
                stop = self._take(batch, markers)
            if self._items:
                wake.set()  # more than one batch was waiting
            if self._space_waiters:
                with self._space:
                    self._space.notify_all()
            if batch:
                self._process(batch)
            for marker in markers:
                marker.set()
            if stop:
                return


def _is_marker(item: object) -> bool:
    return type(item) is threading.Event


def _close_at_exit(reference: weakref.ref[Worker[Any]]) -> None:
    worker = reference()
    if worker is not None and worker._pid == os.getpid():
        worker.close()


def _after_fork_in_child() -> None:
    for worker in list(_WORKERS):
        worker._reset()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
