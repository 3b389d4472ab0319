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

import contextlib
import dataclasses
import json
import os
import sys
import threading
import weakref
from collections.abc import Iterator, Sequence
from typing import Any, Protocol

from structlogx._background import Worker
from structlogx.audit.store import Store, json_text
from structlogx.records import AuditEntry

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: one process per spool
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "AsyncWriter",
    "DirectWriter",
    "ReplayReport",
    "Spool",
    "SyncWriter",
    "Writer",
    "replay_spool",
]

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


@dataclasses.dataclass
class ReplayReport:
    """What :meth:`Spool.replay` did.

    Attributes:
        replayed: entries appended to the store, in their spooled order.
        bad_lines: ``(line number, why)`` of each line that could not be read (a line cut
            short by a crash, a line that is not an entry); kept in ``<spool>.bad``.
    """

    replayed: int = 0
    bad_lines: list[tuple[int, str]] = dataclasses.field(default_factory=list)

    def __str__(self) -> str:
        bad = "".join(f"; line {number}: {why}" for number, why in self.bad_lines)
        return f"replayed {self.replayed} spooled entries{bad}"


class Spool:
    """An append-only JSON-lines file for entries that could not reach the store.

    Each line is ``AuditEntry.to_dict()``; the file is fsynced after every write so that what
    was spooled survives a crash. The first spooling of each :class:`Spool` is reported on
    stderr. :meth:`replay` moves the entries into a store, oldest first; the handler does it
    after its next successful write, and ``structlogx audit replay`` does it by hand.
    """

    def __init__(self, path: str) -> None:
        self.path = os.path.abspath(path)
        self._lock = threading.Lock()
        self._reported = False
        self.pending = os.path.exists(self.path) or os.path.exists(self.path + ".replaying")
        """Whether there may be entries to replay (set by :meth:`write`, cleared by replay)."""

    def write(self, entries: Sequence[AuditEntry], reason: str) -> None:
        """Append *entries*; never raises (a spool that fails is reported on stderr)."""
        try:
            with self._lock, open(self.path, "ab") as stream:
                for entry in entries:
                    stream.write(json_text(entry.to_dict()).encode("utf-8") + b"\n")
                stream.flush()
                os.fsync(stream.fileno())
            self.pending = True
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
        """Return the spooled entries as dicts (for inspection), skipping unreadable lines."""
        found = []
        for name in (self.path + ".replaying", self.path):
            for _, line in _lines(name):
                with contextlib.suppress(ValueError):
                    value = json.loads(line)
                    if isinstance(value, dict):
                        found.append(value)
        return found

    def replay(self, store: Store, *, batch_size: int = 500) -> ReplayReport:
        """Append the spooled entries to *store*, oldest first, and remove them from the spool.

        One process at a time (a lock file); entries spooled meanwhile wait for the next
        replay. Should the store fail half-way, what is left stays spooled, and the error is
        raised. A crash between a commit and the removal of the spool replays those entries
        again: they keep their seed, so duplicates can be recognised.
        """
        report = ReplayReport()
        taking = self.path + ".replaying"
        with self._lock, _file_lock(self.path + ".lock"):
            for _ in range(2):  # a replay that stopped half-way first, then the spool itself
                if not os.path.exists(taking):
                    try:
                        os.rename(self.path, taking)
                    except FileNotFoundError:
                        break
                entries = self._parse(taking, report)
                for start in range(0, len(entries), batch_size):
                    batch = entries[start : start + batch_size]
                    try:
                        store.append(batch)
                    except BaseException:
                        _rewrite(taking, entries[start:])  # keep what was not replayed
                        raise
                    report.replayed += len(batch)
                os.remove(taking)
            self.pending = os.path.exists(self.path)
        return report

    def _parse(self, name: str, report: ReplayReport) -> list[AuditEntry]:
        from structlogx.audit.jsonl import entry_from_dict

        entries: list[AuditEntry] = []
        bad: list[str] = []
        for number, line in _lines(name, torn=True):
            try:
                if not line.endswith("\n"):
                    raise ValueError("the line is cut short (a crash while spooling)")
                entry = entry_from_dict(json.loads(line))
            except (ValueError, TypeError, KeyError) as exc:
                report.bad_lines.append((number, str(exc) or type(exc).__name__))
                bad.append(line if line.endswith("\n") else line + "\n")
                continue
            entry.id = entry.prev_hash = entry.hash = None  # the store chains it anew
            entries.append(entry)
        if bad:
            with open(self.path + ".bad", "a", encoding="utf-8") as stream:
                stream.writelines(bad)
            lines = ", ".join(str(number) for number, _ in report.bad_lines)
            print(
                f"structlogx: {len(bad)} unreadable spool line(s) in {name} (line {lines}) "
                f"kept in {self.path}.bad; the others are replayed",
                file=sys.stderr,
            )
        return entries


def _lines(name: str, *, torn: bool = False) -> Iterator[tuple[int, str]]:
    try:
        with open(name, encoding="utf-8", errors="surrogateescape") as stream:
            for number, line in enumerate(stream, start=1):
                if line.endswith("\n") or torn:
                    yield number, line
    except FileNotFoundError:
        return


def _rewrite(name: str, entries: Sequence[AuditEntry]) -> None:
    temporary = name + ".tmp"
    with open(temporary, "wb") as stream:
        for entry in entries:
            stream.write(json_text(entry.to_dict()).encode("utf-8") + b"\n")
        stream.flush()
        os.fsync(stream.fileno())
    os.replace(temporary, name)


@contextlib.contextmanager
def _file_lock(name: str) -> Iterator[None]:
    descriptor = os.open(name, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        if fcntl is not None:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)


_replaying = threading.Lock()


def replay_spool(spool: Spool, store: Store) -> None:
    """Replay *spool* into *store* after a successful write; never raises, never waits.

    One thread at a time replays (the others go on); a failure keeps the entries spooled
    and is said on stderr.
    """
    if not _replaying.acquire(blocking=False):
        return
    try:
        report = spool.replay(store)
        if report.replayed:
            print(f"structlogx: {report} into {store.url}", file=sys.stderr)
    except Exception as exc:
        print(f"structlogx: the audit spool {spool.path} stays: {exc!r}", file=sys.stderr)
    finally:
        _replaying.release()


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


class DirectWriter:
    """Write each entry in the caller's thread, on its own: for transaction-bound stores,
    where an entry must go through the connection, and transaction, of the thread that
    logged it (so entries of different threads are never committed together)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def write(self, entry: AuditEntry) -> None:
        """Write *entry* in the current transaction of the store's connection."""
        self.store.append([entry])

    def flush(self, timeout: float | None = None) -> bool:
        """Nothing waits: always ``True``."""
        return True

    def close(self) -> None:
        """The connection is the application's: nothing to close."""


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
            self._commit,
            self._overflow,
            name="structlogx-audit-writer",
            queue_size=queue_size,
            batch_size=batch_size,
            batch_interval_s=batch_interval_s,
            block_timeout_s=block_timeout_s,
        )
        self.queue_size, self.batch_size = queue_size, batch_size
        self.batch_interval_s, self.block_timeout_s = batch_interval_s, block_timeout_s

    def _commit(self, entries: list[AuditEntry]) -> None:
        self.store.append(entries)
        if self.spool.pending:
            replay_spool(self.spool, self.store)  # the store is back: catch up, in order

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
