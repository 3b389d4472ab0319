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
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Final

from structlogx.audit import chain
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


_ANCHOR: Final = "structlogx_anchor"


class JSONLStore:
    """Audit entries appended to a JSON-lines file, hash-chained (see the module docs).

    After :meth:`prune` the file starts with an anchor line, ``{"structlogx_anchor": {"id":
    ..., "hash": ...}}``. Each append also rewrites ``<path>.head`` (the last id and hash),
    so that :meth:`verify` finds entries deleted from the end of the file; a head that lags
    behind the file (a crash between the two writes) is not a problem, a missing head file
    means the end cannot be checked.

    Raises:
        OSError: the file cannot be opened for appending; the message names the path.
    """

    def __init__(self, path: str, *, url: str | None = None) -> None:
        self.path = os.path.abspath(path)  # later reopenings must not follow a chdir
        self.url = url or f"jsonl:///{path}"
        self._lock = threading.Lock()
        self._tail: tuple[int, int, str | None] = (-1, 0, None)  # size, last id, last hash
        try:
            with open(path, "a", encoding="utf-8"):
                pass
        except OSError as exc:
            raise OSError(f"cannot open audit store file {path}: {exc.strerror}") from exc

    def __repr__(self) -> str:
        return f"JSONLStore({self.url!r})"

    def _lines(self) -> Iterator[dict[str, Any]]:
        with open(self.path, encoding="utf-8") as stream:
            for line in stream:
                if not line.endswith("\n"):
                    continue  # torn last line of a crashed write
                try:
                    value = json.loads(line)
                except ValueError:
                    continue
                if isinstance(value, dict):
                    yield value

    def _anchor(self) -> tuple[int, str] | None:
        for line in self._lines():
            anchor = line.get(_ANCHOR)
            if isinstance(anchor, dict):
                return int(anchor["id"]), str(anchor["hash"])
            return None
        return None

    def _read(self) -> Iterator[AuditEntry]:
        for line in self._lines():
            if _ANCHOR in line:
                continue
            try:
                yield entry_from_dict(line)
            except (ValueError, TypeError, KeyError):
                continue

    def _last(self) -> tuple[int, str | None]:
        last: tuple[int, str | None] = (0, None)
        anchor = self._anchor()
        if anchor is not None:
            last = anchor
        for entry in self._read():
            if entry.id is not None and entry.id > last[0]:
                last = (entry.id, entry.hash)
        return last

    def append(self, entries: Sequence[AuditEntry]) -> list[int]:
        """Append *entries*, chained, and fsync; set and return their ids, in order."""
        contents = [chain.prepare(entry) for entry in entries]
        with self._lock, open(self.path, "a+b") as stream:
            if fcntl is not None:
                fcntl.flock(stream.fileno(), fcntl.LOCK_EX)  # other processes append too
            stream.seek(0, os.SEEK_END)
            size = stream.tell()
            if self._tail[0] == size:  # nobody appended since our last write
                last_id, last_hash = self._tail[1], self._tail[2]
            else:
                last_id, last_hash = self._last()
            if size:
                stream.seek(-1, os.SEEK_END)
                if stream.read(1) != b"\n":
                    stream.write(b"\n")  # close a torn line
            last_hash = chain.seal(entries, contents, last_hash, last_id + 1)
            for entry in entries:
                stream.write(_line(entry))
            stream.flush()
            os.fsync(stream.fileno())
            last_id += len(entries)
            self._tail = (stream.tell(), last_id, last_hash)
            self._write_head(last_id, last_hash)  # under the file lock: heads never go back
        return [entry.id for entry in entries]  # type: ignore[misc]

    def _write_head(self, last_id: int, last_hash: str | None) -> None:
        temporary = f"{self.path}.head.{os.getpid()}.tmp"
        with open(temporary, "wb") as stream:
            stream.write(json_text({"id": last_id, "hash": last_hash}).encode("utf-8"))
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, self.path + ".head")

    def _head(self) -> tuple[int, str | None] | None:
        try:
            with open(self.path + ".head", encoding="utf-8") as stream:
                value = json.load(stream)
            return int(value["id"]), value["hash"]
        except FileNotFoundError:
            return None
        except (ValueError, TypeError, KeyError):
            return (-1, "unreadable")  # tampered with: verify reports it

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

    def verify(self, progress: Callable[[int], object] | None = None) -> chain.VerifyReport:
        """Check the hash chain, line by line, and the end of the file against its head."""
        return chain.verify_entries(
            self._read(), anchor=self._anchor(), head=self._head(), head_may_lag=True,
            progress=progress,
        )  # fmt: skip

    def _rewrite(self, anchor: tuple[int, str | None] | None, entries: list[AuditEntry]) -> None:
        """Replace the file atomically (shred and prune rewrite it; appends wait on the lock)."""
        temporary = f"{self.path}.{os.getpid()}.tmp"
        with open(temporary, "wb") as stream:
            if anchor is not None:
                stream.write(json_text({_ANCHOR: {"id": anchor[0], "hash": anchor[1]}}).encode())
                stream.write(b"\n")
            for entry in entries:
                stream.write(_line(entry))
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, self.path)
        self._tail = (-1, 0, None)

    def _exclusive(self) -> Any:
        stream = open(self.path, "a+b")  # noqa: SIM115 - closed by the caller's with
        if fcntl is not None:
            fcntl.flock(stream.fileno(), fcntl.LOCK_EX)
        return stream

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
        """Shred personal values, as :meth:`.SQLiteStore.shred` does; rewrites the file."""
        plan = chain.ShredPlan.build(object=object, actor=actor, fields=fields, reason=reason)
        report = chain.ShredReport(dry_run=dry_run)
        with self._lock, self._exclusive():
            anchor, entries = self._anchor(), list(self._read())
            plan.apply(entries, report)
            if report.entries and not dry_run:
                self._rewrite(anchor, entries)
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
        """Delete old entries, as :meth:`.SQLiteStore.prune` does; rewrites the file."""
        plan = chain.PrunePlan.build(before, reason=reason)
        with self._lock, self._exclusive():
            anchor, entries = self._anchor(), list(self._read())
            cut = plan.old_entries(entries)
            if not cut:
                return chain.PruneReport(0, None if anchor is None else anchor[0], dry_run)
            last = entries[cut - 1]
            report = chain.PruneReport(cut, last.id, dry_run)
            if dry_run:
                return report
            self._rewrite((last.id or 0, last.hash), entries[cut:])
        self.append([plan.record(report, by)])
        return report

    def close(self) -> None:
        """Nothing stays open between calls."""


def _line(entry: AuditEntry) -> bytes:
    line = entry.to_dict()
    line["timestamp"] = as_utc(entry.timestamp).isoformat()
    return json_text(line).encode("utf-8") + b"\n"
