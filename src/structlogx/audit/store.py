"""The ``Store`` protocol, the shared query filter, and ``open_store(url)``.

A store persists :class:`~structlogx.records.AuditEntry` objects and answers queries about
them. Every store assigns increasing ids in commit order and returns entries newest first,
paginated by keyset (``after=<id of the last entry seen>``), never by offset.

Store URLs:

``sqlite:///relative/path.sqlite3``, ``sqlite:////absolute/path.sqlite3``
    the embedded default (:class:`~structlogx.audit.sqlite.SQLiteStore`).
``sqlite://:memory:``
    an SQLite database in memory, for tests.
``memory://`` or ``memory://name``
    a plain in-process list (:class:`~structlogx.audit.memory.MemoryStore`); the same name
    gives the same store within one process.
``jsonl:///relative/path.jsonl``, ``jsonl:////absolute/path.jsonl``
    an append-only file with one JSON entry per line, fsynced on every commit
    (:class:`~structlogx.audit.jsonl.JSONLStore`).
``postgresql://user:password@host:5432/dbname`` (or ``postgres://…``)
    a PostgreSQL database shared by many servers
    (:class:`~structlogx.audit.postgres.PostgresStore`; ``pip install structlogx[postgres]``).
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import difflib
import operator
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from structlogx.jsonsafe import dumps
from structlogx.records import AuditEntry, Described, describe_actor, describe_object

if TYPE_CHECKING:
    from structlogx.audit.chain import PruneReport, ShredReport, VerifyReport

__all__ = [
    "SCHEMES",
    "TEXT_COLUMNS",
    "Query",
    "Store",
    "as_utc",
    "get_default_store",
    "json_text",
    "open_store",
    "row_texts",
    "set_default_store",
    "sql_where",
    "storable",
    "timestamp_text",
]

_ZERO = _dt.timedelta(0)

SCHEMES = ("sqlite", "jsonl", "memory", "postgresql", "postgres")
"""The URL schemes :func:`open_store` understands."""


@dataclasses.dataclass(frozen=True)
class Query:
    """What a store query asks for; every store applies the same rules.

    Args:
        object: an object (described by :func:`~structlogx.records.describe_object`), a
            :class:`~structlogx.records.Described`, or a ``(type, id)`` pair.
        object_type: only entries about objects of this type label.
        action: an action name, or a ``prefix.*`` pattern.
        actor: an actor object, or an actor id as text.
        scope: only entries of this scope.
        since, until: timestamps (aware datetimes; naive ones are taken as UTC);
            ``since`` inclusive, ``until`` exclusive.
        visible: ``True`` (default) only visible entries, ``False`` only hidden ones,
            ``None`` both.
        limit: at most this many entries (``None``: all).
        after: keyset cursor, the id of the last entry of the previous page.
    """

    object_type: str | None = None
    object_id: str | None = None
    action: str | None = None
    actor_id: str | None = None
    scope: str | None = None
    since: _dt.datetime | None = None
    until: _dt.datetime | None = None
    visible: bool | None = True
    limit: int | None = 100
    after: int | None = None

    @classmethod
    def build(
        cls,
        *,
        object: object = None,
        object_type: str | None = None,
        action: str | None = None,
        actor: object = None,
        scope: object = None,
        since: _dt.datetime | None = None,
        until: _dt.datetime | None = None,
        visible: bool | None = True,
        limit: int | None = 100,
        after: int | None = None,
    ) -> Query:
        """Validate the keyword arguments of ``Store.query`` and normalise them.

        Raises:
            TypeError, ValueError: a filter of the wrong type or an invalid action pattern.
        """
        object_id = None
        if object is not None:
            if isinstance(object, tuple) and not isinstance(object, Described):
                if len(object) != 2:
                    raise ValueError("object= takes an object or a (type, id) pair")
                kind, ident = object
                described = Described(None if kind is None else str(kind), str(ident), None)
            else:
                described = describe_object(object)
            if described.id is None:
                raise ValueError(f"object={object!r} has no id (pk or id attribute) to look up")
            object_type, object_id = described.type or object_type, described.id
        actor_id = None
        if actor is not None:
            actor_id = actor if isinstance(actor, str) else describe_actor(actor).id
        if action is not None:
            _check_action_pattern(action)
        if visible is not None and not isinstance(visible, bool):
            raise TypeError(f"visible must be True, False or None, not {visible!r}")
        if limit is not None and (not isinstance(limit, int) or limit < 0):
            raise ValueError(f"limit must be a non-negative int or None, not {limit!r}")
        if after is not None and not isinstance(after, int):
            raise TypeError(f"after must be an entry id (int), not {type(after).__name__}")
        return cls(
            object_type=object_type,
            object_id=object_id,
            action=action,
            actor_id=actor_id,
            scope=None if scope is None else str(scope),
            since=_utc(since, "since"),
            until=_utc(until, "until"),
            visible=visible,
            limit=limit,
            after=after,
        )

    def matches(self, entry: AuditEntry) -> bool:
        """Return whether *entry* passes every filter (limit and order aside)."""
        if self.after is not None and (entry.id is None or entry.id >= self.after):
            return False
        if self.visible is not None and entry.visible != self.visible:
            return False
        if self.object_type is not None and entry.object_type != self.object_type:
            return False
        if self.object_id is not None and entry.object_id != self.object_id:
            return False
        if self.actor_id is not None and entry.actor_id != self.actor_id:
            return False
        if self.scope is not None and entry.scope != self.scope:
            return False
        if self.since is not None and entry.timestamp < self.since:
            return False
        if self.until is not None and entry.timestamp >= self.until:
            return False
        if self.action is not None:
            if self.action.endswith(".*"):
                return entry.action.startswith(self.action[:-1])
            return entry.action == self.action
        return True


def _unchanged(value: Any) -> Any:
    return value


TEXT_COLUMNS: tuple[str, ...] = (
    "action",
    "level",
    "logger",
    "message",
    "actor_type",
    "actor_id",
    "actor_text",
    "object_type",
    "object_id",
    "object_text",
    "scope",
)
"""The text fields of an entry in the order of the SQL stores' columns (after ``timestamp``)."""

_TEXTS = operator.attrgetter(*TEXT_COLUMNS)


def row_texts(entry: AuditEntry) -> tuple[str | None, ...]:
    """Return the values of :data:`TEXT_COLUMNS` of *entry*, in that order (one C call)."""
    return _TEXTS(entry)


def sql_where(
    query: Query,
    mark: str,
    *,
    text: Callable[[str], Any] = _unchanged,
    flag: Callable[[bool], Any] = _unchanged,
    moment: Callable[[_dt.datetime], Any] = _unchanged,
    everything: str = "1",
) -> tuple[str, list[Any]]:
    """Return the SQL condition of *query* and its parameters, values always bound.

    Shared by the SQL stores, which differ only in their placeholder (*mark*) and in how a
    text, a flag and a time are handed to their driver (*text*, *flag*, *moment*);
    *everything* is the condition that matches every row.
    """
    clauses: list[str] = []
    params: list[Any] = []
    for column, value in (
        ("object_type", query.object_type),
        ("object_id", query.object_id),
        ("actor_id", query.actor_id),
        ("scope", query.scope),
    ):
        if value is not None:
            clauses.append(f"{column} = {mark}")
            params.append(text(value))
    if query.visible is not None:
        clauses.append(f"visible = {mark}")
        params.append(flag(query.visible))
    if query.action is not None:
        if query.action.endswith(".*"):  # a range, so the (action, id) index serves it
            prefix = query.action[:-1]  # "shop.order."
            clauses.append(f"action >= {mark} AND action < {mark}")
            params += [prefix, prefix[:-1] + "/"]  # "/" sorts right after "."
        else:
            clauses.append(f"action = {mark}")
            params.append(query.action)
    if query.since is not None:
        clauses.append(f"timestamp >= {mark}")
        params.append(moment(query.since))
    if query.until is not None:
        clauses.append(f"timestamp < {mark}")
        params.append(moment(query.until))
    if query.after is not None:
        clauses.append(f"id < {mark}")
        params.append(query.after)
    return (" AND ".join(clauses) or everything), params


def as_utc(value: _dt.datetime) -> _dt.datetime:
    """Return *value* in UTC; a naive datetime is taken as UTC (what stores keep)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=_dt.timezone.utc)
    return value if value.utcoffset() == _ZERO else value.astimezone(_dt.timezone.utc)


_last_timestamp: tuple[_dt.datetime | None, str] = (None, "")


def timestamp_text(value: _dt.datetime) -> str:
    """Return *value* in UTC as ISO 8601 with microseconds: fixed width, so it sorts as text.

    The last result is kept (by identity: datetimes are immutable): a write formats each
    entry's timestamp twice, for the hash chain and for the row.
    """
    global _last_timestamp
    last = _last_timestamp  # one read: another thread may replace it meanwhile
    if last[0] is value:
        return last[1]
    text = as_utc(value).isoformat(timespec="microseconds")
    _last_timestamp = (value, text)
    return text


def storable(text: str) -> str:
    """Return *text* unchanged when it encodes as UTF-8, else with lone surrogates escaped.

    Undecodable file names reach Python as lone surrogates (``surrogateescape``); SQLite and
    UTF-8 files refuse them, and refusing the whole entry for one character would lose it.
    """
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def json_text(value: object) -> str:
    """Encode *value* as compact JSON that always encodes as UTF-8 (see :func:`storable`)."""
    text = dumps(value)
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # JSON escapes a lone surrogate as \udcff and reads it back
        return dumps(value, ensure_ascii=True)
    return text


def _utc(value: _dt.datetime | None, name: str) -> _dt.datetime | None:
    if value is None:
        return None
    if not isinstance(value, _dt.datetime):
        raise TypeError(f"{name} must be a datetime, not {type(value).__name__}")
    if value.tzinfo is None:
        return value.replace(tzinfo=_dt.timezone.utc)
    return value.astimezone(_dt.timezone.utc)


def _check_action_pattern(pattern: object) -> None:
    from structlogx.records import action_error

    if not isinstance(pattern, str):
        raise TypeError(f"action must be a str, not {type(pattern).__name__}")
    problem = action_error(pattern[:-2] + ".x" if pattern.endswith(".*") else pattern)
    if problem is not None:
        raise ValueError(f"invalid action pattern {pattern!r}: {problem}")


@runtime_checkable
class Store(Protocol):
    """What an audit store offers; :func:`open_store` returns one."""

    url: str

    def append(self, entries: Sequence[AuditEntry]) -> list[int]:
        """Persist *entries* in one transaction; set and return their new ids, in order."""
        ...

    def get(self, entry_id: int) -> AuditEntry | None:
        """Return the entry with this id, or ``None``."""
        ...

    def query(self, **filters: Any) -> list[AuditEntry]:
        """Return matching entries newest first (see :class:`Query` for the filters)."""
        ...

    def count(self, **filters: Any) -> int:
        """Return how many entries match (``limit`` and ``after`` are ignored)."""
        ...

    def verify(self, progress: Callable[[int], object] | None = None) -> VerifyReport:
        """Check the hash chain (see :mod:`structlogx.audit.chain`)."""
        ...

    def shred(
        self,
        *,
        object: object = None,
        actor: object = None,
        fields: Sequence[str] | None = None,
        reason: str,
        by: object = None,
        dry_run: bool = False,
    ) -> ShredReport:
        """Replace personal values of matching entries with a marker, keeping the chain."""
        ...

    def prune(
        self,
        before: _dt.datetime,
        *,
        reason: str = "retention",
        by: object = None,
        dry_run: bool = False,
    ) -> PruneReport:
        """Delete entries older than *before*, leaving an anchor the chain starts from."""
        ...

    def close(self) -> None:
        """Release the store's connections and files."""
        ...


def _path_of(url: str, scheme: str) -> str:
    rest = url[len(scheme) + 3 :]  # after "scheme://"
    if not rest.startswith("/") or rest == "/":
        raise ValueError(f"{url!r}: write {scheme}:///relative/path or {scheme}:////absolute/path")
    return rest[1:]


def _masked(url: str) -> str:
    """*url* for messages: a password (``user:secret@`` or ``password=...``) hidden."""
    import re

    url = re.sub(r"(//[^/:@]*:)[^@/]*@", r"\1********@", url)
    return re.sub(r"(password\s*=\s*)\S+", r"\1********", url, flags=re.IGNORECASE)


def open_store(url: str, **options: Any) -> Store:
    """Open the store named by *url* (see the module docs); *options* go to its class.

    Raises:
        ValueError: an unknown scheme (the message lists the valid ones and the closest) or
            a malformed URL.
        OSError: the file cannot be created or opened; the message names the path.
    """
    if not isinstance(url, str):
        raise TypeError(f"store URL must be a str, not {type(url).__name__}")
    scheme, separator, _ = url.partition("://")
    if not separator or scheme not in SCHEMES:
        close = difflib.get_close_matches(scheme, SCHEMES, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ValueError(
            f"unknown audit store URL {_masked(url)!r}: the scheme must be one of "
            f"{', '.join(s + '://' for s in SCHEMES)}{hint}"
        )
    if scheme == "memory":
        from structlogx.audit.memory import MemoryStore

        return MemoryStore.named(url[len("memory://") :], **options)
    if scheme == "sqlite":
        from structlogx.audit.sqlite import SQLiteStore

        rest = url[len("sqlite://") :]
        path = ":memory:" if rest in (":memory:", "/:memory:") else _path_of(url, scheme)
        return SQLiteStore(path, url=url, **options)
    if scheme in ("postgresql", "postgres"):
        from structlogx.audit.postgres import PostgresStore

        return PostgresStore(url, url=url, **options)
    from structlogx.audit.jsonl import JSONLStore

    return JSONLStore(_path_of(url, scheme), url=url, **options)


_default_lock = threading.Lock()
_default: list[Store] = []


def set_default_store(store: Store | str) -> Store:
    """Make *store* (or the store at a URL) the one ``LoggedObject.all_logentries()`` reads."""
    resolved = open_store(store) if isinstance(store, str) else store
    with _default_lock:
        _default[:] = [resolved]
    return resolved


def get_default_store() -> Store:
    """Return the default store: the last one set, by an ``AuditHandler`` or explicitly.

    Raises:
        LookupError: no ``AuditHandler`` was configured and none was set.
    """
    with _default_lock:
        if not _default:
            raise LookupError(
                "no default audit store: configure an AuditHandler or call "
                "structlogx.audit.set_default_store(url)"
            )
        return _default[0]
