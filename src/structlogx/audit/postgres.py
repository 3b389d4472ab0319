"""A store for many application servers: one PostgreSQL database, through psycopg 3.

``postgresql://user:password@host:5432/dbname`` (or ``postgres://…``; any libpq URL or
``key=value`` connection string) opens a :class:`PostgresStore`. psycopg is imported only
then; install it with ``pip install structlogx[postgres]``.

Writers serialise on one row: every write transaction starts with
``SELECT … FROM <prefix>_state WHERE id = 1 FOR UPDATE``, which holds the chain's head (the id
and hash of the last entry written). Ids are assigned from it and the entries chained to it
inside that transaction, so any number of processes on any number of servers, each with its
own connection, append to one unbroken chain, and ids increase in commit order. A writer
waits at most ``lock_timeout_s`` for that lock, then fails (and the handler spools).

Schema (``<prefix>`` is ``structlogx_audit`` unless ``table_prefix`` says otherwise):
``<prefix>_entry`` (``id BIGINT PRIMARY KEY``, ``timestamp TIMESTAMPTZ``, text columns,
``data``/``context`` as ``JSONB``, the chain's columns), ``<prefix>_state`` (the head and the
pruning anchor) and ``<prefix>_schema`` (the schema version, for forward migrations). The
indexes are SQLite's five: (object_type, object_id, id), (action, id), (actor_id, id),
(scope, id), (timestamp, id). ``action`` uses the ``"C"`` collation, so the ``prefix.*``
ranges of :meth:`PostgresStore.query` compare bytes whatever the database's collation.

Timestamps are ``TIMESTAMPTZ``: microseconds, like Python's ``datetime``, so an entry read back
gives the exact text the chain hashed; the session time zone is UTC.

What PostgreSQL cannot hold:

- ``JSONB`` refuses the character NUL (``\\u0000``) and lone surrogates, writes floats in
  exponent form (``1e+16``) as plain digits, and has no negative zero. When ``data`` or
  ``context`` holds such a value, its exact JSON text is kept in ``data_text`` or
  ``context_text`` (``NULL`` otherwise) and read back from there, so the entry, and its
  chain digest, come back unchanged; the ``JSONB`` column then holds a stand-in for queries
  (NUL and lone surrogates as ``\\ufffd``, infinities and NaN as text).
- ``TEXT`` refuses NUL: a NUL in a text field (``message``, ``actor_text``, …) is stored as
  ``\\ufffd`` (U+FFFD REPLACEMENT CHARACTER). :meth:`PostgresStore.prepare` replaces it before
  the entry is hashed, so the chain covers what is stored and ``verify`` passes.

Shredding overwrites values with ``UPDATE``; PostgreSQL keeps the old row versions until
``VACUUM``, so :meth:`PostgresStore.shred` runs ``VACUUM`` on the table afterwards: the old
values leave every query, ``COPY`` and ``pg_dump``. ``VACUUM`` is not guaranteed to overwrite
the freed space in the data files, and does not reach the WAL or backups: ``VACUUM FULL``
(which locks the table) rewrites the file; WAL segments and backups age out on their own
schedule.

A connection never crosses ``fork``: the child opens its own on first use and leaves the
parent's alone (psycopg does not close a connection inherited across ``fork``).

The module is longer than most (one store: its schema, its row mapping with the ``JSONB``
fallbacks, and the chain operations, as :mod:`~structlogx.audit.sqlite` has them); splitting
it would spread one table's rules over several files.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import decimal
import hashlib
import json
import math
import os
import re
import threading
import weakref
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Final

from structlogx.audit import chain
from structlogx.audit._sql import SQLReads
from structlogx.audit.store import TEXT_COLUMNS, Query, as_utc, json_text, row_texts, sql_where
from structlogx.records import AuditEntry

__all__ = ["MIGRATIONS", "PostgresStore", "migrations", "where"]

INSTALL_HINT: Final = "pip install structlogx[postgres]"

_PREFIX_RE: Final = re.compile(r"[a-z_][a-z0-9_]{0,39}\Z")
_SURROGATE_RE: Final = re.compile("[\ud800-\udfff]")
_REPLACEMENT: Final = "\ufffd"
_SELECT_COLUMNS: Final = (
    "id, timestamp, action, level, logger, message, actor_type, actor_id, actor_text, "
    "object_type, object_id, object_text, scope, data::text, data_text, context::text, "
    "context_text, visible, shredded, seed, shred, prev_hash, hash"
)
_INSERT_COLUMNS: Final = (
    "id, timestamp, action, level, logger, message, actor_type, actor_id, actor_text, "
    "object_type, object_id, object_text, scope, data, data_text, context, context_text, "
    "visible, shredded, seed, shred, prev_hash, hash"
)
_ABANDONED: list[Any] = []  # parents' connections in a forked child: never closed, never freed
_STORES: weakref.WeakSet[PostgresStore] = weakref.WeakSet()


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def migrations(prefix: str) -> tuple[tuple[str, ...], ...]:
    """Return the forward migrations of the tables named *prefix*\\ ``_…``.

    ``migrations(prefix)[n]`` takes the schema from version ``n`` to ``n + 1``.
    """
    entry, state = _quote(f"{prefix}_entry"), _quote(f"{prefix}_state")

    def index(name: str, columns: str) -> str:
        return f"CREATE INDEX {_quote(f'{prefix}_entry_{name}')} ON {entry} ({columns})"

    return (
        (  # version 1
            f"""CREATE TABLE {entry} (
                id BIGINT PRIMARY KEY,
                timestamp TIMESTAMPTZ NOT NULL,
                action TEXT COLLATE "C" NOT NULL,
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
                data JSONB NOT NULL,
                data_text TEXT,
                context JSONB NOT NULL,
                context_text TEXT,
                visible BOOLEAN NOT NULL DEFAULT TRUE,
                shredded BOOLEAN NOT NULL DEFAULT FALSE,
                seed TEXT,
                shred TEXT,
                prev_hash TEXT,
                hash TEXT
            )""",
            index("object", "object_type, object_id, id"),
            index("action", "action, id"),
            index("actor", "actor_id, id"),
            index("scope", "scope, id"),
            index("time", "timestamp, id"),
            f"""CREATE TABLE {state} (
                id INTEGER PRIMARY KEY CHECK (id = 1),
                head_id BIGINT NOT NULL,
                head_hash TEXT,
                anchor_id BIGINT,
                anchor_hash TEXT
            )""",
            f"INSERT INTO {state} (id, head_id) VALUES (1, 0)",
        ),
    )


MIGRATIONS: Final = migrations("structlogx_audit")
"""The forward migrations of the default table prefix (see :func:`migrations`)."""


def _import_psycopg() -> Any:
    try:
        import psycopg
    except ImportError as exc:
        raise ImportError(f"the PostgreSQL audit store needs psycopg 3: {INSTALL_HINT}") from exc
    return psycopg


def _masked(dsn: str) -> str:
    """Return *dsn* with its password, if any, replaced by ``***`` (for messages)."""
    dsn = re.sub(r"(://[^:/?#@]*:)[^@/?#]*@", r"\1***@", dsn)
    return re.sub(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", r"\1***", dsn, flags=re.I)


# -- rows ---------------------------------------------------------------------------------------


def _no_nul(value: object) -> object:
    if value is None or (type(value) is str and "\x00" not in value):
        return value
    return str(value).replace("\x00", _REPLACEMENT)


def _faithful(value: Any) -> bool:
    """Whether ``JSONB`` gives *value* back exactly (see the module docs)."""
    if isinstance(value, str):
        return _text_faithful(value)
    if isinstance(value, dict):
        return all(_faithful(key) and _faithful(item) for key, item in value.items())
    if isinstance(value, list):
        return all(_faithful(item) for item in value)
    if isinstance(value, float):
        return math.isfinite(value) and "e" not in repr(value) and math.copysign(1.0, value) > 0
    return True


def _text_faithful(value: str) -> bool:
    return "\x00" not in value and _SURROGATE_RE.search(value) is None


def _stand_in(value: Any) -> Any:
    """Return what ``JSONB`` can hold in place of *value* (for queries only)."""
    if isinstance(value, str):
        if _text_faithful(value):
            return value
        return _SURROGATE_RE.sub(_REPLACEMENT, value.replace("\x00", _REPLACEMENT))
    if isinstance(value, dict):
        return {_stand_in(key): _stand_in(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_stand_in(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    return value


def _json_columns(value: Any) -> tuple[str, str | None]:
    """Return the ``JSONB`` text and, when ``JSONB`` cannot keep it exactly, the exact text."""
    text = json_text(value)
    if _faithful(value):
        return text, None
    return json_text(_stand_in(value)), text


def _row(entry: AuditEntry) -> tuple[Any, ...]:
    data, data_text = _json_columns(entry.data)
    context, context_text = _json_columns(entry.context)
    return (
        as_utc(entry.timestamp),
        *row_texts(entry),
        data,
        data_text,
        context,
        context_text,
        bool(entry.visible),
        bool(entry.shredded),
        entry.seed,
        None if entry.shred is None else json_text(entry.shred),
    )


def _json_value(jsonb: str, exact: str | None) -> Any:
    """Return the value of a ``data``/``context`` pair of columns.

    The exact text wins when the ``JSONB`` column still holds its stand-in; when it does not,
    someone changed it, and the ``JSONB`` value is returned so that ``verify`` finds the
    change (the chain covers the exact value, and the stand-in follows from it).
    """
    if exact is None:
        return json.loads(jsonb)
    value = json.loads(exact)
    found = json.loads(jsonb)
    return value if _same(found, _stand_in(value)) else found


def _same(found: Any, expected: Any) -> bool:
    """Whether a ``JSONB`` value is the stand-in it should be (numbers compared as decimals:
    ``JSONB`` gives ``1e+300`` back as an int of 301 digits)."""
    if isinstance(found, bool) or isinstance(expected, bool):
        return found is expected
    if isinstance(found, int | float) and isinstance(expected, int | float):
        return decimal.Decimal(repr(found)) == decimal.Decimal(repr(expected))
    if isinstance(found, dict) and isinstance(expected, dict):
        return found.keys() == expected.keys() and all(
            _same(item, expected[key]) for key, item in found.items()
        )
    if isinstance(found, list) and isinstance(expected, list):
        return len(found) == len(expected) and all(map(_same, found, expected))
    return type(found) is type(expected) and bool(found == expected)


def _entry(row: Sequence[Any]) -> AuditEntry:
    return AuditEntry(
        id=row[0],
        timestamp=row[1].astimezone(_dt.timezone.utc),
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
        data=_json_value(row[13], row[14]),
        context=_json_value(row[15], row[16]),
        visible=row[17],
        shredded=row[18],
        seed=row[19],
        shred=None if row[20] is None else json.loads(row[20]),
        prev_hash=row[21],
        hash=row[22],
    )


def _unreadable(row: Sequence[Any]) -> AuditEntry:
    """An entry for a row whose JSON text no longer parses; its content cannot match."""
    return AuditEntry(
        id=row[0],
        timestamp=_dt.datetime.min.replace(tzinfo=_dt.timezone.utc),
        action=str(row[2]),
        data={"structlogx.unreadable": [str(value) for value in row[1:21]]},
        seed=row[19] if isinstance(row[19], str) else None,
        prev_hash=row[21],
        hash=row[22],
    )


def _shred_row(entry: AuditEntry) -> tuple[Any, ...]:
    data, data_text = _json_columns(entry.data)
    context, context_text = _json_columns(entry.context)
    return (
        entry.message,
        entry.actor_text,
        entry.object_text,
        data,
        data_text,
        context,
        context_text,
        json_text(entry.shred),
        entry.id,
    )


def where(query: Query) -> tuple[str, list[Any]]:
    """Return the SQL condition and its parameters for *query* (values always bound); the
    action range is exact because the column's collation is "C"."""
    return sql_where(query, "%s", text=_no_nul, everything="TRUE")


# -- the store ----------------------------------------------------------------------------------


class PostgresStore(SQLReads):
    """Audit entries in a PostgreSQL database, shared by many processes (see the module docs).

    Args:
        dsn: a ``postgresql://`` or ``postgres://`` URL, or a libpq ``key=value`` string.
        url: the URL it was opened from (for messages and :func:`open_store` round trips).
        table_prefix: the tables are ``<prefix>_entry``, ``<prefix>_state`` and
            ``<prefix>_schema`` (lower-case letters, digits and ``_``, at most 40).
        connect_timeout_s: how long connecting may take.
        lock_timeout_s: how long a write waits for another writer's lock on the chain's head.
        synchronous_commit: the session's ``synchronous_commit`` (``None``: the server's,
            ``on`` by default: a commit survives a crash of the database server).

    Raises:
        ImportError: psycopg is not installed (the message says ``pip install
            structlogx[postgres]``).
        ValueError: a malformed URL or an invalid ``table_prefix``.
        ConnectionError: the server cannot be reached (the message names the URL, without
            its password).
        RuntimeError: the database's schema is newer than this structlogx.

    .. versionadded:: 0.1.0
    """

    def __init__(
        self,
        dsn: str,
        *,
        url: str | None = None,
        table_prefix: str = "structlogx_audit",
        connect_timeout_s: float = 10.0,
        lock_timeout_s: float = 30.0,
        synchronous_commit: str | None = None,
    ) -> None:
        if not isinstance(dsn, str):
            raise TypeError(f"dsn must be a str, not {type(dsn).__name__}")
        if not isinstance(table_prefix, str) or not _PREFIX_RE.match(table_prefix):
            raise ValueError(
                f"table_prefix must be lower-case letters, digits and _ (at most 40, not "
                f"starting with a digit), not {table_prefix!r}"
            )
        for name, value in (
            ("connect_timeout_s", connect_timeout_s),
            ("lock_timeout_s", lock_timeout_s),
        ):
            if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
                raise ValueError(f"{name} must be a positive number of seconds, not {value!r}")
        if synchronous_commit is not None and synchronous_commit not in _SYNCHRONOUS_COMMIT:
            raise ValueError(
                f"synchronous_commit must be one of {', '.join(_SYNCHRONOUS_COMMIT)} or None, "
                f"not {synchronous_commit!r}"
            )
        self._psycopg = _import_psycopg()
        try:
            params = self._psycopg.conninfo.conninfo_to_dict(dsn)
        except self._psycopg.ProgrammingError as exc:
            raise ValueError(f"malformed PostgreSQL URL {_masked(dsn)!r}: {exc}") from None
        for port in str(params.get("port") or "5432").split(","):
            if not (port.strip().isdigit() and 0 < int(port) < 65536):
                raise ValueError(f"malformed PostgreSQL URL {_masked(dsn)!r}: bad port {port!r}")
        self.dsn = dsn
        self.url = url or dsn
        self.table_prefix = table_prefix
        self.connect_timeout_s = float(connect_timeout_s)
        self.lock_timeout_s = float(lock_timeout_s)
        self.synchronous_commit = synchronous_commit
        self.table = _quote(f"{table_prefix}_entry")
        self._state = _quote(f"{table_prefix}_state")
        self._schema = _quote(f"{table_prefix}_schema")
        self._migrations = migrations(table_prefix)
        self._lock_key = int.from_bytes(
            hashlib.sha256(f"structlogx:{table_prefix}".encode()).digest()[:8], "big", signed=True
        )
        self._copy = f"COPY {self.table} ({_INSERT_COLUMNS}) FROM STDIN"
        self._lock = threading.RLock()
        self._connection: Any = None
        self._pid = -1
        with self._lock:
            self._conn()
        _STORES.add(self)

    transaction_bound = False
    """Whether entries are written inside the application's own transactions (:meth:`bound`)."""

    _select, _placeholder, _for_update = _SELECT_COLUMNS, "%s", " FOR UPDATE"
    _where, _decode = staticmethod(where), staticmethod(_entry)
    _shred_values = staticmethod(_shred_row)

    @property
    def _shred_update(self) -> str:  # type: ignore[override]
        return (
            f"UPDATE {self.table} SET message = %s, actor_text = %s, object_text = %s, "
            "data = %s, data_text = %s, context = %s, context_text = %s, shredded = TRUE, "
            "seed = NULL, shred = %s WHERE id = %s"
        )

    @staticmethod
    def _moment(value: _dt.datetime) -> _dt.datetime:
        return value  # a timestamptz column: compared as a datetime

    @staticmethod
    def _among(ids: list[int]) -> tuple[str, Sequence[Any]]:
        return "id = ANY(%s)", (ids,)

    def _writing(self) -> contextlib.AbstractContextManager[Any]:
        return self._transaction()

    _bound: Callable[[], Any] | None = None

    @classmethod
    def bound(
        cls,
        connection: Callable[[], Any],
        *,
        table_prefix: str = "structlogx_audit",
        url: str = "postgresql+transaction://",
    ) -> PostgresStore:
        """Return a store that writes on the application's own psycopg connection, inside
        its current transaction, and never commits: entries commit or roll back with the
        business change.

        Each write locks the chain's state row (``SELECT ... FOR UPDATE``) until the
        application's transaction ends, so transactions that write audit entries take turns
        and the chain never forks; keep them short. An entry logged while the connection has
        no transaction open begins one, as psycopg does at a first statement (unless the
        connection is in autocommit mode). The schema is created now: committed at once, or
        with the transaction open at that moment. ``shred`` runs no ``VACUUM`` here (it
        cannot run inside a transaction): call :meth:`vacuum` on an ordinary store later.

        Args:
            connection: returns the ``psycopg.Connection`` the application is using now
                (called at each write).
            table_prefix: as for the constructor.
            url: a name for messages.

        Raises:
            TypeError: *connection* is not callable.
        """
        if not callable(connection) or hasattr(connection, "cursor"):
            raise TypeError(
                "connection must be a callable returning the psycopg connection "
                "(e.g. lambda: conn), so that each write uses the current one"
            )
        if not isinstance(table_prefix, str) or not _PREFIX_RE.match(table_prefix):
            raise ValueError(
                f"table_prefix must be lower-case letters, digits and _, not {table_prefix!r}"
            )
        store = cls.__new__(cls)
        store._psycopg = _import_psycopg()
        store.dsn, store.url, store.table_prefix = "", url, table_prefix
        store.connect_timeout_s, store.lock_timeout_s, store.synchronous_commit = 0.0, 0.0, None
        store.table = _quote(f"{table_prefix}_entry")
        store._state = _quote(f"{table_prefix}_state")
        store._schema = _quote(f"{table_prefix}_schema")
        store._migrations = migrations(table_prefix)
        store._lock_key = int.from_bytes(
            hashlib.sha256(f"structlogx:{table_prefix}".encode()).digest()[:8], "big", signed=True
        )
        store._copy = f"COPY {store.table} ({_INSERT_COLUMNS}) FROM STDIN"
        store._lock = threading.RLock()
        store._connection, store._pid = None, os.getpid()
        store._bound, store.transaction_bound = connection, True
        store._migrate(store._conn())
        _STORES.add(store)
        return store

    def __repr__(self) -> str:
        return f"PostgresStore({_masked(self.url)!r})"

    # -- connection ------------------------------------------------------------------------

    def _open(self, **options: Any) -> Any:
        """Return a new connection, in UTC, with this store's session settings."""
        try:
            connection = self._psycopg.connect(
                self.dsn,
                connect_timeout=max(2, math.ceil(self.connect_timeout_s)),
                **options,
            )
        except self._psycopg.OperationalError as exc:
            raise ConnectionError(
                f"cannot connect to the audit store {_masked(self.url)}: {exc}".strip()
            ) from exc
        try:
            settings = {"TimeZone": "UTC", "lock_timeout": f"{int(self.lock_timeout_s * 1000)}ms"}
            if self.synchronous_commit is not None:
                settings["synchronous_commit"] = self.synchronous_commit
            for name, value in settings.items():
                connection.execute("SELECT set_config(%s, %s, false)", (name, value))
            if not connection.autocommit:
                connection.commit()
        except BaseException:
            connection.close()
            raise
        return connection

    def _conn(self) -> Any:
        """Return this process's connection, (re)opening it when needed; hold ``_lock``."""
        if self._bound is not None:
            return self._bound()
        connection = self._connection
        if connection is not None and self._pid != os.getpid():
            _ABANDONED.append(connection)  # forked: the parent's connection is not ours to use
            connection = self._connection = None
        if connection is not None and (connection.closed or getattr(connection, "broken", False)):
            with contextlib.suppress(Exception):
                connection.close()
            connection = self._connection = None
        if connection is None:
            connection = self._open(autocommit=True)  # transactions: explicit, see _transaction
            try:
                self._migrate(connection)
            except BaseException:
                connection.close()
                raise
            self._connection, self._pid = connection, os.getpid()
        return connection

    def _reset_after_fork(self) -> None:
        self._lock = threading.RLock()  # a lock held by a parent thread would never be released

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[Any]:
        """Hold ``_lock`` and yield a cursor inside a transaction on this process's connection."""
        with self._lock:
            connection = self._conn()
            if (
                self._bound is not None
                and not connection.autocommit
                and connection.info.transaction_status == self._psycopg.pq.TransactionStatus.IDLE
            ):
                connection.execute("SELECT 1")  # begins the application's transaction
            with connection.transaction(), connection.cursor() as cursor:
                yield cursor  # a savepoint inside the application's transaction, if any

    def _migrate(self, connection: Any) -> None:
        latest = len(self._migrations)
        with connection.transaction():
            # Up to date: no lock and no DDL, so a user who may only read and write works.
            if connection.execute("SELECT to_regclass(%s)", (self._schema,)).fetchone()[0]:
                row = connection.execute(f"SELECT version FROM {self._schema}").fetchone()
                if row is not None and _check_version(int(row[0]), latest):
                    return
        with connection.transaction():
            # One migrating process at a time (CREATE TABLE IF NOT EXISTS races otherwise).
            connection.execute("SELECT pg_advisory_xact_lock(%s)", (self._lock_key,))
            connection.execute(
                f"CREATE TABLE IF NOT EXISTS {self._schema} (version INTEGER NOT NULL)"
            )
            row = connection.execute(f"SELECT version FROM {self._schema}").fetchone()
            version = 0 if row is None else int(row[0])
            if _check_version(version, latest):
                return
            for statements in self._migrations[version:]:
                for statement in statements:
                    connection.execute(statement)
            if row is None:
                connection.execute(f"INSERT INTO {self._schema} (version) VALUES (%s)", (latest,))
            else:
                connection.execute(f"UPDATE {self._schema} SET version = %s", (latest,))

    def schema_version(self) -> int:
        """Return the schema version of the database."""
        with self._lock:
            row = self._conn().execute(f"SELECT version FROM {self._schema}").fetchone()
        return int(row[0])

    # -- Store protocol --------------------------------------------------------------------

    def prepare(self, entry: AuditEntry) -> tuple[tuple[Any, ...], str]:
        """Return the row of *entry* (without id and hashes) and its content digest.

        NULs in text fields become U+FFFD first (PostgreSQL text cannot hold them), so the
        digest covers what is stored. Writers call this in the logging thread, so a shared
        commit holds only the inserts and the chaining.
        """
        for name in TEXT_COLUMNS:
            value = getattr(entry, name)
            if value is not None and (type(value) is not str or "\x00" in value):
                setattr(entry, name, _no_nul(value))
        content = chain.prepare(entry)
        return _row(entry), content

    def append(
        self,
        entries: Sequence[AuditEntry],
        prepared: Sequence[tuple[tuple[Any, ...], str]] | None = None,
    ) -> list[int]:
        """Insert *entries* in one transaction, chained; set and return their ids, in order.

        The transaction locks the state row first, so concurrent writers (threads, processes,
        servers) take turns and the chain never forks.

        Args:
            prepared: the entries' :meth:`prepare` results, when the caller made them.
        """
        if not entries:
            return []
        pairs = [self.prepare(entry) for entry in entries] if prepared is None else prepared
        with self._transaction() as cursor:
            cursor.execute(f"SELECT head_id, head_hash FROM {self._state} WHERE id = 1 FOR UPDATE")
            last_id, prev = cursor.fetchone()
            first = last_id + 1
            rows = []
            for offset, (row, content) in enumerate(pairs):
                entry_id = first + offset
                digest = chain.link(prev, entry_id, content)
                rows.append((entry_id, *row, prev, digest))
                prev = digest
            with cursor.copy(self._copy) as copy:  # COPY: about twice as fast as INSERTs
                for row in rows:
                    copy.write_row(row)
            cursor.execute(
                f"UPDATE {self._state} SET head_id = %s, head_hash = %s WHERE id = 1",
                (first + len(rows) - 1, prev),
            )
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
            if connection is not None:
                if self._pid == os.getpid():
                    connection.close()
                else:  # forked: the parent's, which its own process closes
                    _ABANDONED.append(connection)

    # -- the chain: verify, shred, prune ----------------------------------------------------

    def verify(self, progress: Callable[[int], object] | None = None) -> chain.VerifyReport:
        """Check the hash chain of every entry, in one pass with bounded memory.

        Reads one ``REPEATABLE READ`` snapshot on a connection of its own, in pages of 1,000
        entries, so writers are not held up.

        Args:
            progress: called with the number of entries checked, every 10,000.
        """
        if self._bound is not None:  # what the application's connection sees, as it is
            with self._lock:
                return self._verify(self._conn(), progress)
        connection = self._open(autocommit=False)
        try:
            connection.isolation_level = self._psycopg.IsolationLevel.REPEATABLE_READ
            connection.read_only = True
            return self._verify(connection, progress)
        finally:
            connection.close()

    def _verify(
        self, connection: Any, progress: Callable[[int], object] | None
    ) -> chain.VerifyReport:
        head_id, head_hash, anchor_id, anchor_hash = connection.execute(
            f"SELECT head_id, head_hash, anchor_id, anchor_hash FROM {self._state}"
        ).fetchone()
        return chain.verify_entries(
            self._scan(connection),
            anchor=None if anchor_id is None else (anchor_id, anchor_hash),
            head=(head_id, head_hash),
            progress=progress,
        )

    def _scan(self, connection: Any) -> Iterator[AuditEntry]:
        last = -(2**63)
        while True:
            rows = connection.execute(
                f"SELECT {_SELECT_COLUMNS} FROM {self.table} WHERE id > %s ORDER BY id LIMIT 1000",
                (last,),
            ).fetchall()
            if not rows:
                return
            for row in rows:
                try:
                    yield _entry(row)
                except (ValueError, TypeError):  # JSON text that no longer parses: tampering
                    yield _unreadable(row)
            last = rows[-1][0]

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
        vacuum: bool = True,
    ) -> chain.ShredReport:
        """Replace personal values of the entries about *object* or by *actor* with a marker.

        The chain stays verifiable (see :mod:`~structlogx.audit.chain`). Then ``VACUUM``
        removes the old row versions, so the old values leave the table (see the module
        docs for what it does not reach). The shredding is itself recorded as a
        ``structlogx.audit.shredded`` entry.

        Args:
            object, actor: whose entries (at least one); as for :meth:`query`.
            fields: unit names (``message``, ``actor_text``, ``object_text``, ``context``,
                ``data.<key>``); ``None`` shreds all of them.
            reason: why (recorded).
            by: who shreds (recorded as the actor of the record).
            dry_run: change nothing; report what would change.
            batch_size: entries per write transaction.
            vacuum: run ``VACUUM`` on the table afterwards.

        Raises:
            ValueError: no object and no actor, an unknown field name, an empty reason.
        """
        plan = chain.ShredPlan.build(object=object, actor=actor, fields=fields, reason=reason)
        report = chain.ShredReport(dry_run=dry_run)
        self._shred_rows(plan, report, batch_size)
        if report.entries and not dry_run:
            if vacuum and self._bound is None:  # no VACUUM inside a transaction
                self.vacuum()
            self.append([plan.record(report, by)])
        return report

    def vacuum(self) -> None:
        """Run ``VACUUM`` on the entries table: old row versions (shredded values) go.

        Rows still visible to an older, running transaction (a long ``verify``) stay until
        the next ``VACUUM`` (autovacuum runs it too).
        """
        with self._lock:
            self._conn().execute(f"VACUUM {self.table}")


def _check_version(version: int, latest: int) -> bool:
    """Return whether *version* is the latest; raise when it is newer than this code knows."""
    if version > latest:
        raise RuntimeError(
            f"the audit store schema is version {version}, newer than this structlogx knows "
            f"({latest}): upgrade structlogx"
        )
    return version == latest


_SYNCHRONOUS_COMMIT: Final = ("on", "off", "local", "remote_write", "remote_apply")


def _after_fork_in_child() -> None:
    for store in list(_STORES):
        store._reset_after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
