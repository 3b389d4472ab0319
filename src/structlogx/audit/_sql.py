"""Reading entries back from a SQL table: what the SQLite and PostgreSQL stores share.

Each store keeps its own connection handling, schema and writes; the reads are the same SQL
with another placeholder and another row decoder.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from structlogx.audit.store import Query
from structlogx.records import AuditEntry


class SQLReads:
    """``get``, ``query`` and ``count`` of the :class:`~structlogx.audit.Store` protocol.

    A subclass sets ``_lock``, ``table`` (quoted as SQL needs it), ``_select`` (the entry
    columns, in its decoder's order) and ``_placeholder``, and provides ``_conn``, ``_where``
    and ``_decode``.
    """

    _lock: threading.RLock
    _select: str
    table: str
    _placeholder: str

    def _conn(self) -> Any:
        raise NotImplementedError

    def _where(self, query: Query) -> tuple[str, list[Any]]:
        raise NotImplementedError

    def _decode(self, row: Sequence[Any]) -> AuditEntry:
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
