"""An in-process store: a list behind a lock, for tests and short-lived scripts."""

from __future__ import annotations

import copy
import threading
from collections.abc import Sequence
from typing import Any, ClassVar

from structlogx.audit.store import Query, as_utc
from structlogx.records import AuditEntry

__all__ = ["MemoryStore"]


class MemoryStore:
    """Audit entries kept in memory; nothing survives the process.

    Entries are stored as copies, so changing an entry after :meth:`append` or a query
    result changes nothing in the store.
    """

    _named: ClassVar[dict[str, MemoryStore]] = {}
    _named_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, *, url: str = "memory://") -> None:
        self.url = url
        self._entries: list[AuditEntry] = []
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
        """Store copies of *entries*; set and return their ids, in order."""
        with self._lock:
            first = len(self._entries) + 1
            for offset, entry in enumerate(entries):
                entry.id = first + offset
                kept = copy.deepcopy(entry)
                kept.timestamp = as_utc(kept.timestamp)  # comparable with query bounds
                self._entries.append(kept)
        return list(range(first, first + len(entries)))

    def get(self, entry_id: int) -> AuditEntry | None:
        """Return a copy of the entry with this id, or ``None``."""
        with self._lock:
            if 1 <= entry_id <= len(self._entries):
                return copy.deepcopy(self._entries[entry_id - 1])
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

    def close(self) -> None:
        """Nothing to release; the entries stay."""
