"""The embedded default store: one SQLite file in WAL mode, safe across threads and processes.

Writes run as ``BEGIN IMMEDIATE`` transactions under an OS file lock (``fcntl.flock`` on
``<path>-lock``): SQLite's own busy handler sleeps and polls, and under contention one process
can starve for seconds, while ``flock`` queues writers fairly. Ids are assigned inside the write
transaction (from ``sqlite_sequence``), so they increase in commit order across processes.

``synchronous=FULL`` (the ``fsync`` durability strength) makes every commit survive a power
cut; ``NORMAL`` (the ``crash`` strength) survives a killed application, not a power cut.

A connection never crosses ``fork``: the child opens its own on first use and leaves the
parent's untouched (closing it in the child could disturb the parent's locks).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import sqlite3
import threading
import weakref
from collections.abc import Iterator, Sequence
from typing import Any, Final

from structlogx.audit.store import Query, as_utc, json_text, storable
from structlogx.records import AuditEntry

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: SQLite's busy handler alone
    fcntl = None  # type: ignore[assignment]

__all__ = ["MIGRATIONS", "TABLE", "SQLiteStore"]

TABLE: Final = "structlogx_audit_entry"
"""The entries table (prefixed, so the store can share an application's database)."""

_COLUMNS: Final = (
    "id, timestamp, action, level, logger, message, actor_type, actor_id, actor_text, "
    "object_type, object_id, object_text, scope, data, context, visible, shredded, "
    "prev_hash, hash"
)

MIGRATIONS: Final[tuple[tuple[str, ...], ...]] = (
    (  # version 1
        f"""CREATE TABLE {TABLE} (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            timestamp TEXT NOT NULL,
            action TEXT NOT NULL,
            level TEXT NOT NULL,
            logger TEXT NOT NULL,
            message TEXT NOT NULL,
            actor_type TEXT,
            actor_id TEXT,
            actor_text TEXT,
            object_type TEXT,
            object_id TEXT,
            object_text TEXT,
            scope TEXT,
            data TEXT NOT NULL,
            context TEXT NOT NULL,
            visible INTEGER NOT NULL DEFAULT 1,
            shredded INTEGER NOT NULL DEFAULT 0,
            prev_hash TEXT,
            hash TEXT
        )""",
        f"CREATE INDEX {TABLE}_object ON {TABLE} (object_type, object_id, id)",
        f"CREATE INDEX {TABLE}_action ON {TABLE} (action, id)",
        f"CREATE INDEX {TABLE}_actor ON {TABLE} (actor_id, id)",
        f"CREATE INDEX {TABLE}_scope ON {TABLE} (scope, id)",
        f"CREATE INDEX {TABLE}_time ON {TABLE} (timestamp, id)",
    ),
)
"""Forward migrations: ``MIGRATIONS[n]`` takes the schema from version ``n`` to ``n + 1``."""

_INSERT: Final = (
    f"INSERT INTO {TABLE} ({_COLUMNS.removeprefix('id, ')}) VALUES ({', '.join('?' * 18)})"
)
_SYNCHRONOUS: Final = ("FULL", "NORMAL", "EXTRA")
_ABANDONED: list[sqlite3.Connection] = []  # parents' connections in a forked child: never closed
_STORES: weakref.WeakSet[SQLiteStore] = weakref.WeakSet()


def _timestamp_text(value: _dt.datetime) -> str:
    return as_utc(value).isoformat(timespec="microseconds")  # fixed width: sorts as text


def _text(value: str | None) -> str | None:
    return value if value is None or value.isascii() else storable(value)


def _row(entry: AuditEntry) -> tuple[Any, ...]:
    return (
        _timestamp_text(entry.timestamp),
        entry.action,
        entry.level,
        _text(entry.logger),
        _text(entry.message),
        _text(entry.actor_type),
        _text(entry.actor_id),
        _text(entry.actor_text),
        _text(entry.object_type),
        _text(entry.object_id),
        _text(entry.object_text),
        _text(entry.scope),
        json_text(entry.data),
        json_text(entry.context),
        1 if entry.visible else 0,
        1 if entry.shredded else 0,
        entry.prev_hash,
        entry.hash,
    )


def _entry(row: Sequence[Any]) -> AuditEntry:
    return AuditEntry(
        id=row[0],
        timestamp=_dt.datetime.fromisoformat(row[1]),
        action=row[2],
        level=row[3],
        logger=row[4],
        message=row[5],
        actor_type=row[6],
        actor_id=row[7],
        actor_text=row[8],
        object_type=row[9],
        object_id=row[10],
        object_text=row[11],
        scope=row[12],
        data=json.loads(row[13]),
        context=json.loads(row[14]),
        visible=bool(row[15]),
        shredded=bool(row[16]),
        prev_hash=row[17],
        hash=row[18],
    )


def where(query: Query) -> tuple[str, list[Any]]:
    """Return the SQL condition and its parameters for *query* (values always bound)."""
    clauses: list[str] = []
    params: list[Any] = []
    for column, value in (
        ("object_type", query.object_type),
        ("object_id", query.object_id),
        ("actor_id", query.actor_id),
        ("scope", query.scope),
    ):
        if value is not None:
            clauses.append(f"{column} = ?")
            params.append(value)
    if query.visible is not None:
        clauses.append("visible = ?")
        params.append(1 if query.visible else 0)
    if query.action is not None:
        if query.action.endswith(".*"):  # a range, so the (action, id) index serves it
            prefix = query.action[:-1]  # "shop.order."
            clauses.append("action >= ? AND action < ?")
            params += [prefix, prefix[:-1] + "/"]  # "/" sorts right after "."
        else:
            clauses.append("action = ?")
            params.append(query.action)
    if query.since is not None:
        clauses.append("timestamp >= ?")
        params.append(_timestamp_text(query.since))
    if query.until is not None:
        clauses.append("timestamp < ?")
        params.append(_timestamp_text(query.until))
    if query.after is not None:
        clauses.append("id < ?")
        params.append(query.after)
    return (" AND ".join(clauses) or "1"), params


class SQLiteStore:
    """Audit entries in one SQLite file (see the module docs).

    Args:
        path: the database file, or ``":memory:"``.
        url: the URL it was opened from (for messages and :func:`open_store` round trips).
        synchronous: ``"FULL"`` (survives power loss), ``"NORMAL"`` (survives a killed
            process) or ``"EXTRA"``.
        busy_timeout_s: how long SQLite waits for another connection's lock.

    Raises:
        OSError: the directory is missing or not writable, or the file is not writable.
        ValueError: an unknown ``synchronous`` value.
    """

    def __init__(
        self,
        path: str,
        *,
        url: str | None = None,
        synchronous: str = "FULL",
        busy_timeout_s: float = 30.0,
    ) -> None:
        if str(synchronous).upper() not in _SYNCHRONOUS:
            raise ValueError(
                f"synchronous must be one of {', '.join(_SYNCHRONOUS)}, not {synchronous!r}"
            )
        # Absolute now: a reconnect after close() or fork must not follow a later chdir.
        self.path = path if path == ":memory:" else os.path.abspath(path)
        self.url = url or (f"sqlite:///{path}" if path != ":memory:" else "sqlite://:memory:")
        self.synchronous = str(synchronous).upper()
        self.busy_timeout_s = float(busy_timeout_s)
        if path != ":memory:":
            _check_writable(path)
        self._lock = threading.RLock()
        self._connection: sqlite3.Connection | None = None
        self._lock_fd = -1
        self._pid = -1
        self._connect()
        _STORES.add(self)

    def __repr__(self) -> str:
        return f"SQLiteStore({self.url!r})"

    # -- connection ------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(
            self.path,
            timeout=self.busy_timeout_s,
            isolation_level=None,  # we issue BEGIN/COMMIT ourselves
            check_same_thread=False,  # guarded by self._lock
        )
        connection.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_s * 1000)}")
        if self.path != ":memory:":
            connection.execute("PRAGMA journal_mode = WAL")
            if fcntl is not None:
                self._lock_fd = os.open(self.path + "-lock", os.O_RDWR | os.O_CREAT, 0o644)
        connection.execute(f"PRAGMA synchronous = {self.synchronous}")
        self._connection, self._pid = connection, os.getpid()
        with self._write_transaction(connection):
            _migrate(connection)
        return connection

    def _conn(self) -> sqlite3.Connection:
        connection = self._connection
        if connection is None or self._pid != os.getpid():
            if connection is not None:  # forked: the parent's connection is not ours to use
                _ABANDONED.append(connection)
                if self._lock_fd >= 0:
                    os.close(self._lock_fd)  # our copy only; the parent keeps its own
                    self._lock_fd = -1
            connection = self._connect()
        return connection

    @contextlib.contextmanager
    def _write_transaction(self, connection: sqlite3.Connection) -> Iterator[None]:
        if self._lock_fd >= 0:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
        try:
            connection.execute("BEGIN IMMEDIATE")
            yield
            connection.execute("COMMIT")
        except BaseException:
            if connection.in_transaction:  # also after a COMMIT that failed
                with contextlib.suppress(sqlite3.Error):
                    connection.execute("ROLLBACK")
            raise
        finally:
            if self._lock_fd >= 0:
                fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    def _reset_after_fork(self) -> None:
        self._lock = threading.RLock()  # a lock held by a parent thread would never be released

    # -- Store protocol --------------------------------------------------------------------

    def prepare(self, entry: AuditEntry) -> tuple[Any, ...]:
        """Return the row of *entry*, without its id (JSON encoded: the slow part of a write).

        Writers call it in the logging thread, so a shared commit holds only the inserts.
        """
        return _row(entry)

    def append(
        self, entries: Sequence[AuditEntry], prepared: Sequence[tuple[Any, ...]] | None = None
    ) -> list[int]:
        """Insert *entries* in one transaction; set and return their ids, in order.

        Args:
            prepared: the entries' rows from :meth:`prepare`, when the caller made them.
        """
        if not entries:
            return []
        rows = [_row(entry) for entry in entries] if prepared is None else prepared
        with self._lock:
            connection = self._conn()
            with self._write_transaction(connection):
                if len(rows) == 1:
                    last = connection.execute(_INSERT, rows[0]).lastrowid
                else:  # ids are consecutive: the write lock is ours until COMMIT
                    connection.executemany(_INSERT, rows)
                    last = connection.execute("SELECT last_insert_rowid()").fetchone()[0]
        first = int(last) - len(rows) + 1  # type: ignore[arg-type]
        ids = list(range(first, first + len(rows)))
        for entry, entry_id in zip(entries, ids, strict=True):
            entry.id = entry_id
        return ids

    def get(self, entry_id: int) -> AuditEntry | None:
        """Return the entry with this id, or ``None``."""
        with self._lock:
            row = (
                self._conn()
                .execute(f"SELECT {_COLUMNS} FROM {TABLE} WHERE id = ?", (entry_id,))
                .fetchone()
            )
        return None if row is None else _entry(row)

    def query(self, **filters: Any) -> list[AuditEntry]:
        """Return matching entries newest first (filters: :class:`~structlogx.audit.Query`)."""
        query = Query.build(**filters)
        condition, params = where(query)
        sql = f"SELECT {_COLUMNS} FROM {TABLE} WHERE {condition} ORDER BY id DESC"
        if query.limit is not None:
            sql += " LIMIT ?"
            params.append(query.limit)
        with self._lock:
            rows = self._conn().execute(sql, params).fetchall()
        return [_entry(row) for row in rows]

    def count(self, **filters: Any) -> int:
        """Return how many entries match (``limit`` and ``after`` are ignored)."""
        filters.pop("limit", None)
        filters.pop("after", None)
        condition, params = where(Query.build(**filters))
        with self._lock:
            row = (
                self._conn()
                .execute(f"SELECT count(*) FROM {TABLE} WHERE {condition}", params)
                .fetchone()
            )
        return int(row[0])

    def close(self) -> None:
        """Close this process's connection (a later call reopens it)."""
        with self._lock:
            connection, self._connection = self._connection, None
            if connection is not None and self._pid == os.getpid():
                connection.close()
            if self._lock_fd >= 0:
                os.close(self._lock_fd)
                self._lock_fd = -1

    def schema_version(self) -> int:
        """Return the schema version of the database file."""
        with self._lock:
            row = self._conn().execute("SELECT version FROM structlogx_schema").fetchone()
        return int(row[0])


def _check_writable(path: str) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise OSError(f"audit store directory does not exist: {directory} (for {path})")
    if os.path.exists(path):
        if not os.access(path, os.R_OK | os.W_OK):
            raise OSError(f"audit store file is not writable: {path}")
    elif not os.access(directory, os.W_OK):
        raise OSError(f"audit store directory is not writable: {directory} (for {path})")


def _migrate(connection: sqlite3.Connection) -> None:
    connection.execute("CREATE TABLE IF NOT EXISTS structlogx_schema (version INTEGER NOT NULL)")
    row = connection.execute("SELECT version FROM structlogx_schema").fetchone()
    version = 0 if row is None else int(row[0])
    if version > len(MIGRATIONS):
        raise RuntimeError(
            f"the audit store schema is version {version}, newer than this structlogx knows "
            f"({len(MIGRATIONS)}): upgrade structlogx"
        )
    for statements in MIGRATIONS[version:]:
        for statement in statements:
            connection.execute(statement)
    if row is None:
        connection.execute("INSERT INTO structlogx_schema (version) VALUES (?)", (len(MIGRATIONS),))
    elif version != len(MIGRATIONS):
        connection.execute("UPDATE structlogx_schema SET version = ?", (len(MIGRATIONS),))


def _after_fork_in_child() -> None:
    for store in list(_STORES):
        store._reset_after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
