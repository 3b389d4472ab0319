"""What the SQLite and PostgreSQL stores share: reading entries back, ``prune``, and the row
work of ``shred``.

Each store keeps its own connection handling, schema, appends and what follows a shred (a
WAL checkpoint, a ``VACUUM``); the rest is the same SQL with another placeholder, another
row codec and another way to lock.
"""

from __future__ import annotations

import datetime as _dt
import threading
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any

from structlogx.audit import chain
from structlogx.audit.store import Query
from structlogx.records import AuditEntry


class SQLReads:
    """``get``, ``query``, ``count`` and ``prune`` of the :class:`~structlogx.audit.Store`
    protocol, and the row work of ``shred``.

    A subclass sets ``_lock``, ``table`` and ``_state`` (quoted as SQL needs them),
    ``_select`` (the entry columns, in its decoder's order), ``_placeholder``, ``_for_update``
    (what locks the rows a write reads, if anything) and ``_shred_update``, and provides
    ``_conn``, ``append``, ``_writing``, ``_where``, ``_decode``, ``_moment``, ``_among`` and
    ``_shred_values`` (and ``_checkpoint`` where deleted rows need it to leave the disk).
    """

    _lock: threading.RLock
    _select: str
    table: str
    _state: str
    _placeholder: str
    _for_update: str
    _shred_update: str

    def _conn(self) -> Any:
        raise NotImplementedError

    def append(self, entries: Sequence[AuditEntry], prepared: Any = None) -> list[int]:
        raise NotImplementedError

    def _checkpoint(self) -> None:
        """Make rows a prune deleted leave the disk before its record is written (SQLite: a
        WAL checkpoint; PostgreSQL leaves old row versions to ``VACUUM``)."""

    def _where(self, query: Query) -> tuple[str, list[Any]]:
        raise NotImplementedError

    def _decode(self, row: Sequence[Any]) -> AuditEntry:
        raise NotImplementedError

    def _writing(self) -> AbstractContextManager[Any]:
        """Hold ``_lock`` and yield what executes SQL inside one write transaction."""
        raise NotImplementedError

    def _moment(self, value: Any) -> Any:
        """Return a UTC datetime as the ``timestamp`` column compares it."""
        raise NotImplementedError

    def _among(self, ids: list[int]) -> tuple[str, Sequence[Any]]:
        """Return the condition ``id`` is one of *ids*, and its parameters."""
        raise NotImplementedError

    def _shred_values(self, entry: AuditEntry) -> Sequence[Any]:
        """Return the parameters of ``_shred_update`` for a shredded entry."""
        raise NotImplementedError

    def get(self, entry_id: int) -> AuditEntry | None:
        """Return the entry with this id, or ``None``."""
        if not isinstance(entry_id, int) or not -(2**63) <= entry_id < 2**63:
            return None  # no 64-bit id: no such entry (the drivers would raise)
        sql = f"SELECT {self._select} FROM {self.table} WHERE id = {self._placeholder}"
        with self._lock:
            row = self._conn().execute(sql, (entry_id,)).fetchone()
        return None if row is None else self._decode(row)

    def query(self, **filters: Any) -> list[AuditEntry]:
        """Return matching entries newest first (filters: :class:`~structlogx.audit.Query`)."""
        query = Query.build(**filters)
        condition, params = self._where(query)
        sql = f"SELECT {self._select} FROM {self.table} WHERE {condition} ORDER BY id DESC"
        if query.limit is not None:
            sql += f" LIMIT {self._placeholder}"
            params.append(query.limit)
        with self._lock:
            rows = self._conn().execute(sql, params).fetchall()
        return [self._decode(row) for row in rows]

    def count(self, **filters: Any) -> int:
        """Return how many entries match (``limit`` and ``after`` are ignored)."""
        filters.pop("limit", None)
        filters.pop("after", None)
        condition, params = self._where(Query.build(**filters))
        with self._lock:
            row = (
                self._conn()
                .execute(f"SELECT count(*) FROM {self.table} WHERE {condition}", params)
                .fetchone()
            )
        return int(row[0])

    def _shred_rows(
        self, plan: chain.ShredPlan, report: chain.ShredReport, batch_size: int
    ) -> None:
        """Shred the entries *plan* selects, *batch_size* per write transaction, counting them
        in *report* (a dry run only counts); the caller records it and cleans up."""
        condition, params = self._where(plan.query)
        with self._lock:
            ids = [
                row[0]
                for row in self._conn().execute(
                    f"SELECT id FROM {self.table} WHERE {condition} ORDER BY id", params
                )
            ]
        size = max(1, batch_size)
        for start in range(0, len(ids), size):
            among, values = self._among(ids[start : start + size])
            with self._writing() as db:
                rows = db.execute(
                    f"SELECT {self._select} FROM {self.table} WHERE {among} "
                    f"ORDER BY id{self._for_update}",
                    values,
                ).fetchall()
                updates = []
                for row in rows:
                    shredded = report.add(self._decode(row), plan.fields)
                    if shredded is not None:
                        updates.append(self._shred_values(shredded))
                if updates and not report.dry_run:
                    db.executemany(self._shred_update, updates)

    def prune(
        self,
        before: _dt.datetime,
        *,
        reason: str = "retention",
        by: object = None,
        dry_run: bool = False,
    ) -> chain.PruneReport:
        """Delete the entries older than *before* and keep the chain verifiable.

        Deletes the longest run of entries, from the oldest, whose timestamps are all before
        *before*, and records the last one's id and hash as the *anchor* the remaining chain
        starts from. The pruning is itself recorded as a ``structlogx.audit.pruned`` entry.

        Raises:
            TypeError: *before* is not a datetime.
        """
        plan = chain.PrunePlan.build(before, reason=reason)
        report = self._prune_rows(plan, dry_run)
        if report.entries and not dry_run:
            self._checkpoint()
            self.append([plan.record(report, by)])
        return report

    def _prune_rows(self, plan: chain.PrunePlan, dry_run: bool) -> chain.PruneReport:
        """Delete the oldest run of entries before ``plan.before`` and move the anchor to the
        last one, in one write transaction."""
        mark = self._placeholder
        with self._writing() as db:
            head_id, anchor_id = db.execute(
                f"SELECT head_id, coalesce(anchor_id, 0) FROM {self._state} "
                f"WHERE id = 1{self._for_update}"
            ).fetchone()
            keep = db.execute(
                f"SELECT min(id) FROM {self.table} WHERE timestamp >= {mark}",
                (self._moment(plan.before),),
            ).fetchone()[0]
            cutoff = head_id if keep is None else keep - 1
            last = db.execute(
                f"SELECT id, hash FROM {self.table} WHERE id <= {mark} ORDER BY id DESC LIMIT 1",
                (cutoff,),
            ).fetchone()
            if last is None or last[0] <= anchor_id:
                return chain.PruneReport(0, anchor_id or None, dry_run)
            count = db.execute(
                f"SELECT count(*) FROM {self.table} WHERE id <= {mark}", (last[0],)
            ).fetchone()[0]
            report = chain.PruneReport(count, last[0], dry_run)
            if not dry_run:
                db.execute(f"DELETE FROM {self.table} WHERE id <= {mark}", (last[0],))
                db.execute(
                    f"UPDATE {self._state} SET anchor_id = {mark}, anchor_hash = {mark} "
                    "WHERE id = 1",
                    (last[0], last[1]),
                )
            return report
