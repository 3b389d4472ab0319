"""An append-only JSON-lines file: one entry per line, fsynced on every commit.

Simple to ship and to read with any tool; queries scan the whole file, so it suits small
trails and exports, not a busy application (use SQLite there). A line cut short by a crash
in the middle of a write is ignored when reading, and the next append starts a fresh line.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import threading
from collections.abc import Iterator, Sequence
from typing import Any

from structlogx.audit.store import Query, as_utc, json_text
from structlogx.records import AuditEntry

try:
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

__all__ = ["JSONLStore", "entry_from_dict"]


def entry_from_dict(values: dict[str, Any]) -> AuditEntry:
    """Rebuild an entry from :meth:`~structlogx.records.AuditEntry.to_dict` output."""
    fields = dict(values)
    fields["timestamp"] = _dt.datetime.fromisoformat(fields["timestamp"])
    return AuditEntry(**fields)


class JSONLStore:
    """Audit entries appended to a JSON-lines file (see the module docs).

    Raises:
        OSError: the file cannot be opened for appending; the message names the path.
    """

    def __init__(self, path: str, *, url: str | None = None) -> None:
        self.path = os.path.abspath(path)  # later reopenings must not follow a chdir
        self.url = url or f"jsonl:///{path}"
        self._lock = threading.Lock()
        self._tail = (-1, 0)  # (file size after our last append, last id written)
        try:
            with open(path, "a", encoding="utf-8"):
                pass
        except OSError as exc:
            raise OSError(f"cannot open audit store file {path}: {exc.strerror}") from exc

    def __repr__(self) -> str:
        return f"JSONLStore({self.url!r})"

    def _read(self) -> Iterator[AuditEntry]:
        with open(self.path, encoding="utf-8") as stream:
            for line in stream:
                if not line.endswith("\n"):
                    continue  # torn last line of a crashed write
                try:
                    yield entry_from_dict(json.loads(line))
                except (ValueError, TypeError, KeyError):
                    continue

    def append(self, entries: Sequence[AuditEntry]) -> list[int]:
        """Append *entries* and fsync; set and return their ids, in order."""
        with self._lock, open(self.path, "a+b") as stream:
            if fcntl is not None:
                fcntl.flock(stream.fileno(), fcntl.LOCK_EX)  # other processes append too
            stream.seek(0, os.SEEK_END)
            size = stream.tell()
            if self._tail[0] == size:  # nobody appended since our last write
                last = self._tail[1]
            else:
                last = max((entry.id or 0 for entry in self._read()), default=0)
            if stream.tell():
                stream.seek(-1, os.SEEK_END)
                if stream.read(1) != b"\n":
                    stream.write(b"\n")  # close a torn line
            ids = []
            for offset, entry in enumerate(entries, start=1):
                entry.id = last + offset
                ids.append(entry.id)
                line = entry.to_dict()
                line["timestamp"] = as_utc(entry.timestamp).isoformat()
                stream.write(json_text(line).encode("utf-8") + b"\n")
            stream.flush()
            os.fsync(stream.fileno())
            self._tail = (stream.tell(), ids[-1] if ids else last)
        return ids

    def get(self, entry_id: int) -> AuditEntry | None:
        """Return the entry with this id, or ``None``."""
        return next((entry for entry in self._read() if entry.id == entry_id), None)

    def query(self, **filters: Any) -> list[AuditEntry]:
        """Return matching entries newest first (filters: :class:`~structlogx.audit.Query`)."""
        query = Query.build(**filters)
        found = [entry for entry in self._read() if query.matches(entry)]
        found.sort(key=lambda entry: entry.id or 0, reverse=True)
        return found if query.limit is None else found[: query.limit]

    def count(self, **filters: Any) -> int:
        """Return how many entries match (``limit`` and ``after`` are ignored)."""
        filters.pop("limit", None)
        filters.pop("after", None)
        query = Query.build(**filters)
        return sum(1 for entry in self._read() if query.matches(entry))

    def close(self) -> None:
        """Nothing stays open between calls."""
