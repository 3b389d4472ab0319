"""How entries reach a store: group commit for ``sync``, a batching thread for ``async``.

``SyncWriter.write`` returns once the entry is committed. A caller that finds no commit
running commits its own entry inline, in its own thread (no hand-off cost). Callers that
arrive while a commit runs queue up; when it ends, the first of them becomes the next leader
and commits everything queued in one transaction, then wakes the others, each through its own
lock (one wake-up per waiter, no thundering herd). A leader that saw company last time waits
up to ``gather_s`` for the callers it just woke to come back, so batches do not split.

``AsyncWriter.write`` enqueues and returns. One daemon thread commits in batches of up to
``batch_size`` entries or ``batch_interval_s`` seconds. The queue is bounded: when it is
full the caller blocks up to ``block_timeout_s``, then the entry goes to the spool file
(reported once on stderr) rather than being dropped. ``flush(timeout)`` returns once every
entry written before it is committed; ``close()`` and interpreter exit drain the queue.
The queue and the thread are :class:`structlogx._background.Worker`, shared with the mail
sender.

Both survive ``fork``: the child gets fresh locks, an empty queue and its own thread.
"""

from __future__ import annotations

import os
import sys
import threading
import weakref
from collections.abc import Sequence
from typing import Any, Protocol

from structlogx._background import Worker
from structlogx.audit.store import Store
from structlogx.jsonsafe import dumps
from structlogx.records import AuditEntry

__all__ = ["AsyncWriter", "Spool", "SyncWriter", "Writer"]

_WRITERS: weakref.WeakSet[SyncWriter] = weakref.WeakSet()


class Writer(Protocol):
    """What an :class:`~structlogx.handlers.AuditHandler` hands entries to."""

    store: Store

    def write(self, entry: AuditEntry) -> None:
        """Persist *entry* (or queue it, for the asynchronous writer)."""
        ...

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until everything written so far is committed; ``False`` on timeout."""
        ...

    def close(self) -> None:
        """Flush and release threads."""
        ...


class Spool:
    """An append-only JSON-lines file for entries that could not reach the store.

    Each line is ``AuditEntry.to_dict()``; the file is fsynced after every write so that what
    was spooled survives a crash. Reported once per process on stderr.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._reported = False

    def write(self, entries: Sequence[AuditEntry], reason: str) -> None:
        """Append *entries*; never raises (a spool that fails is reported on stderr)."""
        try:
            with self._lock, open(self.path, "ab") as stream:
                for entry in entries:
                    stream.write(dumps(entry.to_dict()).encode("utf-8") + b"\n")
                stream.flush()
                os.fsync(stream.fileno())
            if not self._reported:
                self._reported = True
                print(
                    f"structlogx: audit entries spooled to {self.path} ({reason})",
                    file=sys.stderr,
                )
        except Exception as exc:  # the last resort failed: say so, loudly, every time
            print(
                f"structlogx: {len(entries)} audit entries LOST: cannot spool to "
                f"{self.path} ({exc!r}) after: {reason}",
                file=sys.stderr,
            )

    def read(self) -> list[dict[str, Any]]:
        """Return the spooled entries as dicts (for replay and inspection)."""
        import json

        try:
            with open(self.path, encoding="utf-8") as stream:
                return [json.loads(line) for line in stream if line.endswith("\n")]
        except FileNotFoundError:
            return []


class _Ticket:
    __slots__ = ("entry", "error", "lead", "prepared", "wakeup")

    def __init__(self, entry: AuditEntry, prepared: object) -> None:
        self.entry = entry
        self.prepared = prepared
        self.error: BaseException | None = None
        self.lead = False
        self.wakeup = threading.Lock()
        self.wakeup.acquire()


class SyncWriter:
    """Commit each entry before ``write`` returns, sharing commits between threads.

    When the store offers ``prepare(entry)`` (SQLite does: the row, its JSON encoded), each
    caller prepares its own entry before queueing, so the leader's transaction holds only
    the inserts and the commit.

    Args:
        store: where entries go.
        max_batch: the most entries one transaction takes.
        gather_s: how long a leader that had company waits for it to come back (seconds).
    """

    def __init__(self, store: Store, *, max_batch: int = 1000, gather_s: float = 0.0002) -> None:
        if not isinstance(max_batch, int) or isinstance(max_batch, bool) or max_batch < 1:
            raise ValueError(f"max_batch must be a positive int, not {max_batch!r}")
        if not isinstance(gather_s, int | float) or not 0 <= gather_s <= 1:
            raise ValueError(f"gather_s must be between 0 and 1 second, not {gather_s!r}")
        self.store = store
        self.max_batch = max_batch
        self.gather_s = float(gather_s)
        self._prepare = getattr(store, "prepare", None)
        self._reset()
        _WRITERS.add(self)

    def _reset(self) -> None:
        self._mutex = threading.Lock()
        self._pending: list[_Ticket] = []
        self._busy = False
        self._company = 0  # how many others shared the last commit
        self._gathered = threading.Event()  # set when the company a leader waits for is back
        self._wanted = 0

    def write(self, entry: AuditEntry) -> None:
        """Commit *entry*; re-raise the store's error if its commit failed."""
        prepare = self._prepare
        ticket = _Ticket(entry, None if prepare is None else prepare(entry))
        with self._mutex:
            if self._busy:
                self._pending.append(ticket)
                if self._wanted and len(self._pending) >= self._wanted:
                    self._wanted = 0
                    self._gathered.set()
            else:
                self._busy = ticket.lead = True
        if not ticket.lead:
            ticket.wakeup.acquire()  # committed by a leader, or made the next leader
        if ticket.lead:
            self._lead(ticket)
        if ticket.error is not None:
            raise ticket.error

    def _lead(self, ticket: _Ticket) -> None:
        company = self._company
        if company and self.gather_s:
            with self._mutex:
                waiting = len(self._pending) < company
                if waiting:
                    self._gathered.clear()
                    self._wanted = company
            if waiting:  # the callers of the last commit are on their way back
                self._gathered.wait(self.gather_s)
        with self._mutex:
            self._wanted = 0
            batch = [ticket, *self._pending[: self.max_batch - 1]]
            del self._pending[: self.max_batch - 1]
        entries = [member.entry for member in batch]
        try:
            if self._prepare is None:
                self.store.append(entries)
            else:
                self.store.append(entries, [member.prepared for member in batch])  # type: ignore[call-arg]
        except Exception as exc:
            for member in batch:
                member.error = exc
        except BaseException:  # KeyboardInterrupt in the leader: fail the others, pass it on
            ticket.error = RuntimeError("the commit was interrupted")
            for member in batch[1:]:
                member.error = ticket.error
            self._hand_over(batch)
            raise
        self._hand_over(batch)

    def _hand_over(self, batch: list[_Ticket]) -> None:
        with self._mutex:
            self._company = len(batch) - 1
            successor = self._pending.pop(0) if self._pending else None
            if successor is None:
                self._busy = False
            else:
                successor.lead = True
        for member in batch[1:]:
            member.wakeup.release()
        if successor is not None:
            successor.wakeup.release()

    def flush(self, timeout: float | None = None) -> bool:
        """Nothing is ever queued past ``write``: always ``True``."""
        return True

    def close(self) -> None:
        """Close the store's connection."""
        self.store.close()


class AsyncWriter:
    """Queue entries and commit them in batches on a background thread (see the module docs).

    Args:
        store: where entries go.
        queue_size: how many entries may wait; a full queue blocks callers.
        batch_size: the most entries one transaction takes.
        batch_interval_s: how long a batch may wait to fill up.
        block_timeout_s: how long a caller waits on a full queue before spooling.
        spool: where entries go when the queue stays full or the store fails.
    """

    def __init__(
        self,
        store: Store,
        *,
        spool: Spool,
        queue_size: int = 10_000,
        batch_size: int = 1000,
        batch_interval_s: float = 0.005,
        block_timeout_s: float = 1.0,
    ) -> None:
        self.store = store
        self.spool = spool
        self._worker: Worker[AuditEntry] = Worker(
            store.append,
            self._overflow,
            name="structlogx-audit-writer",
            queue_size=queue_size,
            batch_size=batch_size,
            batch_interval_s=batch_interval_s,
            block_timeout_s=block_timeout_s,
        )
        self.queue_size, self.batch_size = queue_size, batch_size
        self.batch_interval_s, self.block_timeout_s = batch_interval_s, block_timeout_s

    def _overflow(self, entries: Sequence[AuditEntry], reason: str) -> None:
        self.spool.write(entries, f"the audit writer: {reason}")

    def write(self, entry: AuditEntry) -> None:
        """Queue *entry*; spool it if the queue stays full for ``block_timeout_s``."""
        self._worker.put(entry)

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every entry written before this call is committed (or spooled)."""
        return self._worker.flush(timeout)

    def close(self) -> None:
        """Drain the queue, stop the thread and close the store; later writes are spooled."""
        self._worker.close()  # idempotent, like the store's close
        self.store.close()


def _after_fork_in_child() -> None:
    for writer in list(_WRITERS):
        writer._reset()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
