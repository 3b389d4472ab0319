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
import time
import weakref
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Final

from structlogx.audit import chain
from structlogx.audit._sql import SQLReads
from structlogx.audit.store import Query, json_text, row_texts, sql_where, timestamp_text
from structlogx.records import AuditEntry

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: SQLite's busy handler alone
    fcntl = None  # type: ignore[assignment]

__all__ = ["MIGRATIONS", "STATE", "TABLE", "SQLiteStore"]

TABLE: Final = "structlogx_audit_entry"
"""The entries table (prefixed, so the store can share an application's database)."""

STATE: Final = "structlogx_audit_state"
"""One row: the chain's head (the last entry written) and anchor (the last entry pruned)."""

_COLUMNS: Final = (
    "id, timestamp, action, level, logger, message, actor_type, actor_id, actor_text, "
    "object_type, object_id, object_text, scope, data, context, visible, shredded, "
    "seed, shred, prev_hash, hash"
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
    (  # version 2: the hash chain's salts and shredding records, the head and the anchor
        f"ALTER TABLE {TABLE} ADD COLUMN seed TEXT",
        f"ALTER TABLE {TABLE} ADD COLUMN shred TEXT",
        f"""CREATE TABLE {STATE} (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            head_id INTEGER NOT NULL,
            head_hash TEXT,
            anchor_id INTEGER,
            anchor_hash TEXT
        )""",
        f"""INSERT INTO {STATE} (id, head_id, head_hash)
            SELECT 1, coalesce(max(id), 0),
                   (SELECT hash FROM {TABLE} ORDER BY id DESC LIMIT 1) FROM {TABLE}""",
    ),
)
"""Forward migrations: ``MIGRATIONS[n]`` takes the schema from version ``n`` to ``n + 1``."""

_INSERT: Final = f"INSERT INTO {TABLE} ({_COLUMNS}) VALUES ({', '.join('?' * 21)})"
_HEAD: Final = f"SELECT head_id, head_hash FROM {STATE}"
_SET_HEAD: Final = f"UPDATE {STATE} SET head_id = ?, head_hash = ?"
_SHRED_UPDATE: Final = (
    f"UPDATE {TABLE} SET message = ?, actor_text = ?, object_text = ?, data = ?, context = ?, "
    "shredded = 1, seed = NULL, shred = ? WHERE id = ?"
)
_SYNCHRONOUS: Final = ("FULL", "NORMAL", "EXTRA")
_ABANDONED: list[sqlite3.Connection] = []  # parents' connections in a forked child: never closed
_STORES: weakref.WeakSet[SQLiteStore] = weakref.WeakSet()


def _row(entry: AuditEntry) -> tuple[Any, ...]:
    """Return the row of *entry* without id and hashes (its text made storable by
    :func:`chain.prepare` before)."""
    return (
        timestamp_text(entry.timestamp),
        *row_texts(entry),
        json_text(entry.data),
        json_text(entry.context),
        1 if entry.visible else 0,
        1 if entry.shredded else 0,
        entry.seed,
        None if entry.shred is None else json_text(entry.shred),
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
        seed=row[17],
        shred=None if row[18] is None else json.loads(row[18]),
        prev_hash=row[19],
        hash=row[20],
    )


def _shred_row(entry: AuditEntry) -> tuple[Any, ...]:
    return (
        entry.message,
        entry.actor_text,
        entry.object_text,
        json_text(entry.data),
        json_text(entry.context),
        json_text(entry.shred),
        entry.id,
    )


def where(query: Query) -> tuple[str, list[Any]]:
    """Return the SQL condition and its parameters for *query* (values always bound)."""
    return sql_where(query, "?", flag=int, moment=timestamp_text)


class SQLiteStore(SQLReads):
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

    transaction_bound = False
    """Whether entries are written inside the application's own transactions (:meth:`bound`)."""

    table: str = TABLE
    _state, _select, _placeholder, _for_update = STATE, _COLUMNS, "?", ""  # BEGIN IMMEDIATE locks
    _shred_update = _SHRED_UPDATE
    _where, _decode = staticmethod(where), staticmethod(_entry)
    _moment, _shred_values = staticmethod(timestamp_text), staticmethod(_shred_row)

    _bound: Callable[[], sqlite3.Connection] | None = None

    @classmethod
    def bound(
        cls, connection: Callable[[], sqlite3.Connection], *, url: str = "sqlite+transaction://"
    ) -> SQLiteStore:
        """Return a store that writes on the application's own connection, inside its
        current transaction, and never commits: entries commit or roll back with the
        business change, as pretix's log entries do. An entry logged while no transaction
        is open begins one, as ``sqlite3`` does before a change (unless the connection is in
        autocommit mode), so the application's next commit or rollback decides for it.

        The entries are chained inside that transaction too: SQLite lets one transaction
        write at a time, so the head read there is the true head. The schema is created now,
        on *connection()*: committed at once, or with the transaction open at that moment.

        Args:
            connection: returns the ``sqlite3.Connection`` the application is using now
                (called at each write, so a per-thread or per-request connection works).
            url: a name for messages.

        Raises:
            TypeError: *connection* is not callable or does not return a sqlite3 connection.
        """
        if isinstance(connection, sqlite3.Connection) or not callable(connection):
            raise TypeError(
                "connection must be a callable returning the sqlite3 connection "
                "(e.g. lambda: conn), so that each write uses the current one"
            )
        store = cls.__new__(cls)
        store.path, store.url, store.synchronous, store.busy_timeout_s = ":bound:", url, "", 0.0
        store._lock = threading.RLock()
        store._connection, store._lock_fd, store._pid = None, -1, os.getpid()
        store._bound, store.transaction_bound = connection, True
        current = store._conn()
        with _savepoint(current, join=False):  # committed now unless a transaction is open
            _migrate(current)
        _STORES.add(store)
        return store

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
        connection.execute("PRAGMA secure_delete = ON")  # shredded and pruned values: zeroed
        self._connection, self._pid = connection, os.getpid()
        with self._write_transaction(connection):
            _migrate(connection)
        return connection

    def _conn(self) -> sqlite3.Connection:
        if self._bound is not None:
            given = self._bound()
            if not isinstance(given, sqlite3.Connection):
                raise TypeError(f"connection() returned {type(given).__name__}, not a sqlite3 one")
            return given
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
        if self._bound is not None:  # inside the application's transaction: never commit it
            with _savepoint(connection):
                yield
            return
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

    @contextlib.contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            connection = self._conn()
            with self._write_transaction(connection):
                yield connection

    @staticmethod
    def _among(ids: list[int]) -> tuple[str, Sequence[Any]]:
        return f"id IN ({', '.join('?' * len(ids))})", ids

    def _reset_after_fork(self) -> None:
        self._lock = threading.RLock()  # a lock held by a parent thread would never be released

    # -- Store protocol --------------------------------------------------------------------

    def prepare(self, entry: AuditEntry) -> tuple[tuple[Any, ...], str]:
        """Return the row of *entry* (without id and hashes) and its content digest.

        The slow part of a write (JSON, the chain's per-value digests); writers call it in
        the logging thread, so a shared commit holds only the inserts and the chaining.
        """
        content = chain.prepare(entry)
        return _row(entry), content

    def append(
        self,
        entries: Sequence[AuditEntry],
        prepared: Sequence[tuple[tuple[Any, ...], str]] | None = None,
    ) -> list[int]:
        """Insert *entries* in one transaction, chained; set and return their ids, in order.

        Args:
            prepared: the entries' :meth:`prepare` results, when the caller made them.
        """
        if not entries:
            return []
        pairs = [self.prepare(entry) for entry in entries] if prepared is None else prepared
        with self._lock:
            connection = self._conn()
            with self._write_transaction(connection):
                last_id, prev = connection.execute(_HEAD).fetchone()  # read inside the lock
                first = last_id + 1
                rows = []
                for offset, (row, content) in enumerate(pairs):
                    entry_id = first + offset
                    digest = chain.link(prev, entry_id, content)
                    rows.append((entry_id, *row, prev, digest))
                    prev = digest
                connection.executemany(_INSERT, rows)
                connection.execute(_SET_HEAD, (first + len(rows) - 1, prev))
        for entry, row in zip(entries, rows, strict=True):
            entry.id, entry.prev_hash, entry.hash = row[0], row[-2], row[-1]
        return [row[0] for row in rows]

    def close(self) -> None:
        """Close this process's connection (a later call reopens it); a bound store's
        connection belongs to the application and stays open."""
        if self._bound is not None:
            return
        with self._lock:
            connection, self._connection = self._connection, None
            if connection is not None and self._pid == os.getpid():
                connection.close()
            if self._lock_fd >= 0:
                os.close(self._lock_fd)
                self._lock_fd = -1

    # -- the chain: verify, shred, prune ----------------------------------------------------

    def _scan(self, connection: sqlite3.Connection) -> Iterator[AuditEntry]:
        last = -1
        while True:
            rows = connection.execute(
                f"SELECT {_COLUMNS} FROM {TABLE} WHERE id > ? ORDER BY id LIMIT 1000", (last,)
            ).fetchall()
            if not rows:
                return
            for row in rows:
                try:
                    yield _entry(row)
                except (ValueError, TypeError):  # a value that no longer parses: tampering
                    yield _unreadable(row)
            last = rows[-1][0]

    def verify(
        self, progress: Callable[[int], object] | None = None, *, workers: int | None = None
    ) -> chain.VerifyReport:
        """Check the hash chain of every entry, in one pass with bounded memory.

        Reads one snapshot on a connection of its own, so writers are not held up. Content
        digests (the costly part) are computed by worker processes on large stores, a chunk
        of ids each, while this process checks the links in order.

        Args:
            progress: called with the number of entries checked, every 10,000.
            workers: processes computing digests; default one per CPU (at most 4) for
                stores of 50,000 entries or more, else none.
        """
        if self.path.startswith(":"):  # in memory, or the application's connection
            with self._lock:
                return self._verify(self._conn(), progress, 0)
        connection = sqlite3.connect(self.path, timeout=self.busy_timeout_s, isolation_level=None)
        try:
            connection.execute("BEGIN")  # one snapshot for the state row and every entry
            return self._verify(connection, progress, workers)
        finally:
            connection.close()

    def _verify(
        self,
        connection: sqlite3.Connection,
        progress: Callable[[int], object] | None,
        workers: int | None,
    ) -> chain.VerifyReport:
        head_id, head_hash, anchor_id, anchor_hash = connection.execute(
            f"SELECT head_id, head_hash, anchor_id, anchor_hash FROM {STATE}"
        ).fetchone()
        first = (anchor_id or 0) + 1
        if workers is None:
            workers = min(os.cpu_count() or 1, 4) if head_id - first >= 50_000 else 0
        anchor = None if anchor_id is None else (anchor_id, anchor_hash)
        if workers < 2:
            return chain.verify_entries(
                self._scan(connection), anchor=anchor, head=(head_id, head_hash), progress=progress
            )
        digests = _ParallelDigests(self.path, first, head_id, workers)
        try:
            return chain.verify_entries(
                _links(connection),
                anchor=anchor,
                head=(head_id, head_hash),
                progress=progress,
                content=digests.lookup(connection),
            )
        except _WorkersFailed:  # no worker process could run here: do it all in this one
            return self._verify(connection, progress, 0)
        finally:
            digests.close()

    def shred(
        self,
        *,
        object: object = None,
        actor: object = None,
        fields: Sequence[str] | None = None,
        reason: str,
        by: object = None,
        dry_run: bool = False,
        batch_size: int = 500,
    ) -> chain.ShredReport:
        """Replace personal values of the entries about *object* or by *actor* with a marker.

        The chain stays verifiable (see :mod:`~structlogx.audit.chain`); old values are
        overwritten in the file (``secure_delete``, then a WAL checkpoint that truncates the
        log). The shredding is itself recorded as a ``structlogx.audit.shredded`` entry.

        Args:
            object, actor: whose entries (at least one); as for :meth:`query`.
            fields: unit names (``message``, ``actor_text``, ``object_text``, ``context``,
                ``data.<key>``); ``None`` shreds all of them.
            reason: why (recorded).
            by: who shreds (recorded as the actor of the record).
            dry_run: change nothing; report what would change.
            batch_size: entries per write transaction.

        Raises:
            ValueError: no object and no actor, an unknown field name, an empty reason.
        """
        plan = chain.ShredPlan.build(object=object, actor=actor, fields=fields, reason=reason)
        report = chain.ShredReport(dry_run=dry_run)
        self._shred_rows(plan, report, batch_size)
        if report.entries and not dry_run:
            self._checkpoint()
            self.append([plan.record(report, by)])
        return report

    def _checkpoint(self) -> None:
        """Move the WAL into the file and empty it, so old values leave the disk."""
        if self.path.startswith(":"):  # in memory, or the application's connection
            return
        with self._lock:
            connection = self._conn()
            for _ in range(50):
                busy = connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
                if not busy:
                    return
                time.sleep(0.1)  # a reader holds an old snapshot: let it finish

    def schema_version(self) -> int:
        """Return the schema version of the database file."""
        with self._lock:
            row = self._conn().execute("SELECT version FROM structlogx_schema").fetchone()
        return int(row[0])


@contextlib.contextmanager
def _savepoint(connection: sqlite3.Connection, *, join: bool = True) -> Iterator[None]:
    """A nested transaction inside the application's current one.

    With no transaction open yet, one is begun first, as ``sqlite3`` itself does before a
    change (unless the connection is in autocommit mode): the application's commit or
    rollback then decides for the entry too, even when it was logged before any change.
    """
    legacy = getattr(sqlite3, "LEGACY_TRANSACTION_CONTROL", -1)
    autocommit = getattr(connection, "autocommit", legacy)
    if (
        join
        and not connection.in_transaction
        and (
            autocommit is False or (autocommit == legacy and connection.isolation_level is not None)
        )
    ):
        connection.execute("BEGIN")
    connection.execute("SAVEPOINT structlogx_audit")
    try:
        yield
    except BaseException:
        with contextlib.suppress(sqlite3.Error):
            connection.execute("ROLLBACK TO structlogx_audit")
            connection.execute("RELEASE structlogx_audit")
        raise
    connection.execute("RELEASE structlogx_audit")


_CHUNK: Final = 20_000  # ids per worker task: bounded memory, enough work per round trip


def _links(connection: sqlite3.Connection) -> Iterator[AuditEntry]:
    """Yield the entries' ids and hashes only, in id order (their content is digested apart)."""
    epoch = _dt.datetime.min.replace(tzinfo=_dt.timezone.utc)
    last = -1
    while True:
        rows = connection.execute(
            f"SELECT id, prev_hash, hash FROM {TABLE} WHERE id > ? ORDER BY id LIMIT 5000", (last,)
        ).fetchall()
        if not rows:
            return
        for entry_id, prev_hash, digest in rows:
            yield AuditEntry(epoch, "", id=entry_id, prev_hash=prev_hash, hash=digest)
        last = rows[-1][0]


def _chunk_digests(path: str, first: int, last: int) -> dict[int, str]:
    """Worker task: the content digest of every entry with first <= id <= last.

    An entry whose content cannot be digested maps to ``"!"`` and the reason.
    """
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = connection.execute(
            f"SELECT {_COLUMNS} FROM {TABLE} WHERE id BETWEEN ? AND ?", (first, last)
        ).fetchall()
    finally:
        connection.close()
    found = {}
    for row in rows:
        try:
            found[row[0]] = _row_digest(row)
        except (ValueError, TypeError) as exc:
            found[row[0]] = f"!{exc}"
    return found


def _row_digest(row: Sequence[Any]) -> str:
    try:
        entry = _entry(row)
    except (ValueError, TypeError):  # as _scan does: a row that no longer parses
        entry = _unreadable(row)
    return chain.content_digest(entry)


class _WorkersFailed(Exception):
    """The worker processes could not start or died (e.g. a ``__main__`` they cannot import)."""


class _ParallelDigests:
    """Content digests computed ahead by worker processes, a few chunks at a time."""

    def __init__(self, path: str, first: int, last: int, workers: int) -> None:
        import concurrent.futures
        import multiprocessing

        self._pool = concurrent.futures.ProcessPoolExecutor(
            workers,
            mp_context=multiprocessing.get_context("spawn"),  # no fork of our threads
        )
        self._path, self._first, self._last = path, first, last
        self._starts = iter(range(first, last + 1, _CHUNK))
        self._pending: dict[int, concurrent.futures.Future[dict[int, str]]] = {}
        self._done: dict[int, str] = {}
        self._chunk = -1
        for _ in range(workers * 2):
            self._submit()

    def _submit(self) -> None:
        start = next(self._starts, None)
        if start is not None:
            end = min(start + _CHUNK - 1, self._last)
            self._pending[start] = self._pool.submit(_chunk_digests, self._path, start, end)

    def lookup(self, connection: sqlite3.Connection) -> Callable[[AuditEntry], str]:
        def content(entry: AuditEntry) -> str:
            entry_id = entry.id or 0
            chunk = self._first + (entry_id - self._first) // _CHUNK * _CHUNK
            if chunk != self._chunk and self._first <= entry_id <= self._last:
                future = self._pending.pop(chunk, None)
                try:
                    self._done = {} if future is None else future.result()
                except (Exception, SystemExit) as exc:  # a worker's exit arrives as its error
                    raise _WorkersFailed(str(exc)) from exc
                self._chunk = chunk
                self._submit()
            found = self._done.get(entry_id)
            if found is None:  # not seen by the worker (written or changed meanwhile): here
                row = connection.execute(
                    f"SELECT {_COLUMNS} FROM {TABLE} WHERE id = ?", (entry_id,)
                ).fetchone()
                if row is None:
                    raise ValueError("the entry is gone")
                return _row_digest(row)
            if found.startswith("!"):
                raise ValueError(found[1:])
            return found

        return content

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def _unreadable(row: Sequence[Any]) -> AuditEntry:
    """An entry for a row whose JSON or time no longer parses; its content cannot match."""
    return AuditEntry(
        id=row[0],
        timestamp=_dt.datetime.min.replace(tzinfo=_dt.timezone.utc),
        action=str(row[2]),
        data={"structlogx.unreadable": [str(value) for value in row[1:19]]},
        seed=row[17] if isinstance(row[17], str) else None,
        prev_hash=row[19],
        hash=row[20],
    )


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


_HELD_AT_FORK: list[SQLiteStore] = []


def _before_fork() -> None:
    # No transaction may be open at fork: SQLite keeps each process's lock bookkeeping for a
    # file in memory, so a child that inherits a connection mid-transaction finds the file
    # "locked" by that connection for ever. Holding every store's lock waits for commits
    # running in other threads (a few milliseconds) and lets no new one start.
    held = sorted(_STORES, key=id)
    for store in held:
        store._lock.acquire()
    _HELD_AT_FORK[:] = held


def _after_fork_in_parent() -> None:
    held, _HELD_AT_FORK[:] = list(_HELD_AT_FORK), []
    for store in reversed(held):
        store._lock.release()


def _after_fork_in_child() -> None:
    _HELD_AT_FORK.clear()
    for store in list(_STORES):
        store._reset_after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(
        before=_before_fork,
        after_in_parent=_after_fork_in_parent,
        after_in_child=_after_fork_in_child,
    )
