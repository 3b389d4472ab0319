"""Who is told: recipients, their preferences, and pretix's rules for combining them.

An application plugs its own user model in through two small protocols: :class:`Recipients`
(who may see a scope's entries) and :class:`Preferences` (what each user chose). In-memory
and SQLite implementations serve tests, demos and small applications.

The rules (:func:`wants`, from pretix's ``notify`` task): a user whose master switch is off
gets nothing; an explicit setting for the entry's scope beats the global one, whether it
enables or disables; with neither, nothing is sent (notifications are opt-in).
:func:`eligible` adds the two rules about people: the actor is never told about their own
action, and users without the type's ``required_permission`` get nothing.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import sqlite3
import threading
from collections.abc import Collection, Iterable, Iterator
from typing import Protocol, runtime_checkable

__all__ = [
    "MemoryPreferences",
    "MemoryRecipients",
    "Preferences",
    "Recipients",
    "SQLitePreferences",
    "User",
    "eligible",
    "wants",
]


@dataclasses.dataclass(frozen=True)
class User:
    """A person who may be notified; ``id`` is compared with the entry's ``actor_id``.

    Logging with ``user=<this User>`` records its ``id`` as the actor's, so the actor is
    recognised and not told about their own action.
    """

    id: str
    email: str
    name: str = ""
    language: str = "en"
    permissions: Collection[str] = frozenset()
    """The user's permissions in the scope asked about; kept as a ``frozenset``."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "id", str(self.id))
        object.__setattr__(self, "permissions", frozenset(self.permissions))

    def has_permission(self, permission: str | None) -> bool:
        """Return whether the user holds *permission* (``None``: no permission needed)."""
        return permission is None or permission in self.permissions

    def __str__(self) -> str:
        return self.name or self.email


@runtime_checkable
class Recipients(Protocol):
    """Who may see a scope's entries: an application answers from its own user model."""

    def users(self, scope: str | None) -> Iterable[User]:
        """Return the users of *scope* (``None``: entries without a scope), with their
        permissions in that scope."""
        ...


@runtime_checkable
class Preferences(Protocol):
    """What users chose; read-only here, an application's settings page writes them."""

    def setting(
        self, user_id: str, action_type: str, method: str, scope: str | None
    ) -> bool | None:
        """Return the explicit choice for this scope (``None``: global), or ``None``."""
        ...

    def master_enabled(self, user_id: str) -> bool:
        """Return the user's master switch (pretix's "receive notifications")."""
        ...


def wants(
    preferences: Preferences, user_id: str, action_type: str, method: str, scope: str | None
) -> bool:
    """Apply pretix's rules: master switch, then the scope's setting, then the global one."""
    if not preferences.master_enabled(user_id):
        return False
    if scope is not None:
        scoped = preferences.setting(user_id, action_type, method, scope)
        if scoped is not None:
            return scoped  # a disabled scope setting overrides an enabled global one
    return bool(preferences.setting(user_id, action_type, method, None))


def eligible(
    users: Iterable[User], *, actor_id: str | None, permission: str | None
) -> Iterator[User]:
    """Yield the users who may be told: not the actor, holding *permission*."""
    for user in users:
        if actor_id is not None and user.id == actor_id:
            continue
        if user.has_permission(permission):
            yield user


class MemoryRecipients:
    """Users kept in a list: each for some scopes, or for all (``scopes=None``)."""

    def __init__(self, users: Iterable[User] = ()) -> None:
        self._users: list[tuple[User, frozenset[str] | None]] = [(user, None) for user in users]
        self._lock = threading.Lock()

    def add(self, user: User, *, scopes: Iterable[str] | None = None) -> None:
        """Add *user* for *scopes* (``None``: every scope, and entries without one)."""
        with self._lock:
            self._users.append((user, None if scopes is None else frozenset(scopes)))

    def users(self, scope: str | None) -> list[User]:
        """Return the users of *scope*; a scope-less entry reaches only users of all scopes."""
        with self._lock:
            return [
                user
                for user, scopes in self._users
                if scopes is None or (scope is not None and scope in scopes)
            ]


class MemoryPreferences:
    """Preferences in dicts; every master switch is on until :meth:`set_master` says not."""

    def __init__(self) -> None:
        self._settings: dict[tuple[str, str, str, str | None], bool] = {}
        self._master: dict[str, bool] = {}
        self._lock = threading.Lock()

    def set(
        self,
        user_id: str,
        action_type: str,
        method: str,
        enabled: bool,
        *,
        scope: str | None = None,
    ) -> None:
        """Record a choice for *scope* (``None``: the global one)."""
        with self._lock:
            self._settings[(str(user_id), action_type, method, scope)] = bool(enabled)

    def clear(
        self, user_id: str, action_type: str, method: str, *, scope: str | None = None
    ) -> None:
        """Forget a choice, so that the less specific one applies again."""
        with self._lock:
            self._settings.pop((str(user_id), action_type, method, scope), None)

    def set_master(self, user_id: str, enabled: bool) -> None:
        """Switch all of a user's notifications on or off."""
        with self._lock:
            self._master[str(user_id)] = bool(enabled)

    def setting(
        self, user_id: str, action_type: str, method: str, scope: str | None
    ) -> bool | None:
        """Return the explicit choice, or ``None``."""
        with self._lock:
            return self._settings.get((user_id, action_type, method, scope))

    def master_enabled(self, user_id: str) -> bool:
        """Return the master switch (on by default)."""
        with self._lock:
            return self._master.get(user_id, True)


_SCHEMA = """
CREATE TABLE IF NOT EXISTS structlogx_notification_setting (
    user_id TEXT NOT NULL, action_type TEXT NOT NULL, method TEXT NOT NULL,
    scope_key TEXT NOT NULL, enabled INTEGER NOT NULL,
    PRIMARY KEY (user_id, action_type, method, scope_key)
);
CREATE TABLE IF NOT EXISTS structlogx_notification_user (
    user_id TEXT PRIMARY KEY, enabled INTEGER NOT NULL
);
"""


def _scope_key(scope: str | None) -> str:
    # "" for the global setting, "#" + scope otherwise: a scope named "" stays distinct.
    return "" if scope is None else "#" + scope


class SQLitePreferences:
    """Preferences in an SQLite file (two small tables, created when missing).

    One connection per process, shared by threads under a lock, reopened after ``fork``.

    Args:
        path: the database file (may be the application's own), or ``":memory:"``.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        self._lock = threading.Lock()
        self._connection: sqlite3.Connection | None = None
        self._pid = -1
        with self._connect() as connection:
            connection.executescript(_SCHEMA)

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if self._connection is None or self._pid != os.getpid():
                self._connection = sqlite3.connect(
                    self.path, isolation_level=None, check_same_thread=False, timeout=30
                )
                self._pid = os.getpid()
            yield self._connection

    def set(
        self,
        user_id: str,
        action_type: str,
        method: str,
        enabled: bool,
        *,
        scope: str | None = None,
    ) -> None:
        """Record a choice for *scope* (``None``: the global one)."""
        with self._connect() as connection:
            connection.execute(
                "INSERT OR REPLACE INTO structlogx_notification_setting VALUES (?, ?, ?, ?, ?)",
                (str(user_id), action_type, method, _scope_key(scope), int(bool(enabled))),
            )

    def clear(
        self, user_id: str, action_type: str, method: str, *, scope: str | None = None
    ) -> None:
        """Forget a choice, so that the less specific one applies again."""
        with self._connect() as connection:
            connection.execute(
                "DELETE FROM structlogx_notification_setting WHERE user_id = ? AND "
                "action_type = ? AND method = ? AND scope_key = ?",
                (str(user_id), action_type, method, _scope_key(scope)),
            )

    def set_master(self, user_id: str, enabled: bool) -> None:
        """Switch all of a user's notifications on or off."""
        with self._connect() as connection:
            connection.execute(
                "INSERT OR REPLACE INTO structlogx_notification_user VALUES (?, ?)",
                (str(user_id), int(bool(enabled))),
            )

    def setting(
        self, user_id: str, action_type: str, method: str, scope: str | None
    ) -> bool | None:
        """Return the explicit choice, or ``None``."""
        with self._connect() as connection:
            row = connection.execute(
                "SELECT enabled FROM structlogx_notification_setting WHERE user_id = ? AND "
                "action_type = ? AND method = ? AND scope_key = ?",
                (user_id, action_type, method, _scope_key(scope)),
            ).fetchone()
        return None if row is None else bool(row[0])

    def master_enabled(self, user_id: str) -> bool:
        """Return the master switch (on by default)."""
        with self._connect() as connection:
            row = connection.execute(
                "SELECT enabled FROM structlogx_notification_user WHERE user_id = ?", (user_id,)
            ).fetchone()
        return True if row is None else bool(row[0])

    def close(self) -> None:
        """Close this process's connection (a later call reopens it)."""
        with self._lock:
            connection, self._connection = self._connection, None
            if connection is not None and self._pid == os.getpid():
                connection.close()
