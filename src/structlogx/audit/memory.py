"""An in-process store: a list behind a lock, for tests and short-lived scripts."""

from __future__ import annotations

import bisect
import copy
import datetime as _dt
import threading
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from structlogx.audit import chain
from structlogx.audit.store import Query, as_utc
from structlogx.records import AuditEntry

__all__ = ["MemoryStore"]


class MemoryStore:
    """Audit entries kept in memory, hash-chained like every store; nothing survives the process.

    Entries are stored as copies, so changing an entry after :meth:`append` or a query
    result changes nothing in the store.
    """

    _named: ClassVar[dict[str, MemoryStore]] = {}
    _named_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, *, url: str = "memory://") -> None:
        self.url = url
        self._entries: list[AuditEntry] = []  # increasing ids
        self._ids: list[int] = []  # the same ids, for bisect
        self._anchor: tuple[int, str | None] | None = None
        self._head: tuple[int, str | None] = (0, None)
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"MemoryStore({self.url!r}, {len(self._entries)} entries)"

    @classmethod
    def named(cls, name: str) -> MemoryStore:
        """Return the process-wide store called *name*; an empty name gives a fresh store."""
        if not name:
            return cls()
        with cls._named_lock:
            store = cls._named.get(name)
            if store is None:
                store = cls._named[name] = cls(url=f"memory://{name}")
            return store

    def append(self, entries: Sequence[AuditEntry]) -> list[int]:
        """Store chained copies of *entries*; set and return their ids, in order."""
        kept = [copy.deepcopy(entry) for entry in entries]
        for entry in kept:
            entry.timestamp = as_utc(entry.timestamp)  # comparable with query bounds
        contents = [chain.prepare(entry) for entry in kept]
        with self._lock:
            last_id, last_hash = self._head
            self._head = (last_id + len(kept), chain.seal(kept, contents, last_hash, last_id + 1))
            self._entries.extend(kept)
            self._ids.extend(entry.id for entry in kept)  # type: ignore[misc]
        for entry, stored in zip(entries, kept, strict=True):
            entry.id, entry.prev_hash, entry.hash = stored.id, stored.prev_hash, stored.hash
            entry.seed, entry.timestamp = stored.seed, stored.timestamp
        return [entry.id for entry in kept]  # type: ignore[misc]

    def get(self, entry_id: int) -> AuditEntry | None:
        """Return a copy of the entry with this id, or ``None``."""
        with self._lock:
            index = bisect.bisect_left(self._ids, entry_id)
            if index < len(self._ids) and self._ids[index] == entry_id:
                return copy.deepcopy(self._entries[index])
        return None

    def query(self, **filters: Any) -> list[AuditEntry]:
        """Return matching entries newest first (filters: :class:`~structlogx.audit.Query`)."""
        query = Query.build(**filters)
        found: list[AuditEntry] = []
        with self._lock:
            for entry in reversed(self._entries):
                if query.limit is not None and len(found) >= query.limit:
                    break
                if query.matches(entry):
                    found.append(copy.deepcopy(entry))
        return found

    def count(self, **filters: Any) -> int:
        """Return how many entries match (``limit`` and ``after`` are ignored)."""
        filters.pop("limit", None)
        filters.pop("after", None)
        query = Query.build(**filters)
        with self._lock:
            return sum(1 for entry in self._entries if query.matches(entry))

    def verify(self, progress: Callable[[int], object] | None = None) -> chain.VerifyReport:
        """Check the hash chain, as :meth:`.SQLiteStore.verify` does."""
        with self._lock:
            entries, anchor, head = list(self._entries), self._anchor, self._head
        return chain.verify_entries(
            entries,
            anchor=None if anchor is None else (anchor[0], anchor[1] or ""),
            head=head,
            progress=progress,
        )

    def shred(
        self,
        *,
        object: object = None,
        actor: object = None,
        fields: Sequence[str] | None = None,
        reason: str,
        by: object = None,
        dry_run: bool = False,
    ) -> chain.ShredReport:
        """Shred personal values, as :meth:`.SQLiteStore.shred` does."""
        plan = chain.ShredPlan.build(object=object, actor=actor, fields=fields, reason=reason)
        report = chain.ShredReport(dry_run=dry_run)
        with self._lock:
            plan.apply(self._entries, report)
        if report.entries and not dry_run:
            self.append([plan.record(report, by)])
        return report

    def prune(
        self,
        before: _dt.datetime,
        *,
        reason: str = "retention",
        by: object = None,
        dry_run: bool = False,
    ) -> chain.PruneReport:
        """Delete old entries, as :meth:`.SQLiteStore.prune` does."""
        plan = chain.PrunePlan.build(before, reason=reason)
        with self._lock:
            cut = plan.old_entries(self._entries)
            if not cut:
                return chain.PruneReport(
                    0, None if self._anchor is None else self._anchor[0], dry_run
                )
            last = self._entries[cut - 1]
            report = chain.PruneReport(cut, last.id, dry_run)
            if dry_run:
                return report
            self._anchor = (last.id or 0, last.hash)
            del self._entries[:cut], self._ids[:cut]
        self.append([plan.record(report, by)])
        return report

    def close(self) -> None:
        """Nothing to release."""
