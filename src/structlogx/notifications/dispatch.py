"""The engine behind :class:`~structlogx.handlers.NotificationHandler`: from audit entries to
deliveries, with digests, after-commit delivery and a store follower.

For each entry, :class:`Notifier` finds the matching types, builds each notification once,
resolves recipients (:func:`~structlogx.notifications.people.eligible`) and their methods
(:func:`~structlogx.notifications.people.wants`), all in the calling thread, and queues one
delivery per recipient and method on a :class:`~structlogx.delivery.Deliverer`: a
background thread with retries and backoff that never raises into the application.

Digests: per (scope, type), the first ``digest_threshold`` notifications of a window of
``digest_window_s`` go out one by one; later ones are held, and when the window ends each
recipient gets one digest per method (:meth:`NotificationType.build_digest`) saying how
many were held. A background timer sends due digests; :meth:`Notifier.flush` does too.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Sequence

from structlogx.audit.store import Store
from structlogx.delivery import Deliverer
from structlogx.notifications.methods import DeliveryMethod
from structlogx.notifications.people import Preferences, Recipients, User, eligible, wants
from structlogx.notifications.types import (
    Notification,
    NotificationRegistry,
    NotificationType,
    default_registry,
)
from structlogx.records import AuditEntry

__all__ = ["Notifier", "StoreFollower"]

Send = tuple[str, Callable[[], object]]


def _say(line: str) -> None:
    with contextlib.suppress(Exception):  # stderr closed: nothing left to tell
        print(line, file=sys.stderr, flush=True)


class _Ticker:
    """A daemon thread that calls ``tick()`` and sleeps for the seconds it returns (``None``:
    until poked). Started on first poke; a forked child starts its own."""

    def __init__(self, name: str, tick: Callable[[], float | None]) -> None:
        self.name, self.tick = name, tick
        self._wake = threading.Event()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid = -1
        self._lock = threading.Lock()

    def poke(self) -> None:
        if self._stopped.is_set():
            return
        if self._thread is None or self._pid != os.getpid():
            with self._lock:
                if self._thread is None or self._pid != os.getpid():
                    self._wake, self._pid = threading.Event(), os.getpid()
                    self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
                    self._thread.start()
        self._wake.set()

    def _run(self) -> None:
        wake = self._wake
        while not self._stopped.is_set():
            try:
                pause = self.tick()
            except Exception as exc:  # a tick must not kill the thread
                _say(f"structlogx: {self.name}: {exc!r}")
                pause = 1.0
            wake.wait(pause)
            wake.clear()

    def stop(self) -> None:
        self._stopped.set()
        self._wake.set()
        thread = self._thread
        if (
            thread is not None
            and self._pid == os.getpid()
            and thread is not threading.current_thread()
        ):
            thread.join(5)


@dataclasses.dataclass
class _Window:
    end: float
    count: int = 0
    held: dict[tuple[str, str], int] = dataclasses.field(default_factory=dict)
    users: dict[str, User] = dataclasses.field(default_factory=dict)
    latest: Notification | None = None
    notification_type: NotificationType | None = None


class Notifier:
    """Turn audit entries into deliveries (see the module docs).

    Args:
        recipients: who may see a scope's entries.
        preferences: what each user chose.
        methods: the delivery methods, each with a distinct ``name``.
        registry: where types are looked up (default: the global registry).
        digest_window_s: the length of a digest window.
        digest_threshold: notifications per (scope, type) and window sent one by one
            (``None``: never digest).
        deliverer: the background sender; ``None`` delivers in the caller's thread, once.
        clock: seconds for digest windows (tests); default :func:`time.monotonic`.

    Raises:
        ValueError: two methods share a name, or a bad window or threshold.
    """

    def __init__(
        self,
        recipients: Recipients,
        preferences: Preferences,
        methods: Sequence[DeliveryMethod],
        *,
        registry: NotificationRegistry | None = None,
        digest_window_s: float = 300.0,
        digest_threshold: int | None = 10,
        deliverer: Deliverer | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        names = [method.name for method in methods]
        if len(set(names)) != len(names):
            raise ValueError(f"delivery methods need distinct names, got {names}")
        if not isinstance(digest_window_s, int | float) or digest_window_s <= 0:
            raise ValueError(f"digest_window_s must be a positive number, not {digest_window_s!r}")
        if digest_threshold is not None and (
            isinstance(digest_threshold, bool)
            or not isinstance(digest_threshold, int)
            or digest_threshold < 0
        ):
            raise ValueError(
                f"digest_threshold must be an int >= 0 or None, not {digest_threshold!r}"
            )
        self.recipients, self.preferences = recipients, preferences
        self.methods = list(methods)
        self.registry = default_registry if registry is None else registry
        self.digest_window_s = float(digest_window_s)
        self.digest_threshold = digest_threshold
        self.deliverer = deliverer
        self.clock = time.monotonic if clock is None else clock
        self._lock = threading.Lock()
        self._windows: dict[tuple[str | None, str], _Window] = {}
        self._reported: set[str] = set()
        self._timer = _Ticker("structlogx notification digests", self._tick)

    # -- entry points ------------------------------------------------------------------

    def submit(self, entry: AuditEntry, at: float | None = None) -> None:
        """Notify for *entry* now, like :meth:`notify`, but never raise: an error goes to
        stderr (for callbacks run after a commit, and the store follower)."""
        try:
            self.notify(entry, at)
        except Exception as exc:
            _say(f"structlogx: notifications: entry {entry.id} ({entry.action}): {exc!r}")

    def notify(self, entry: AuditEntry, at: float | None = None) -> int:
        """Notify for *entry*: match, build, resolve here; queue the deliveries; return how
        many were queued.

        Runs in the caller's thread, so that a storm is counted exactly and never fills the
        sending queue; only sending is left to the background. Raises what the recipients or
        preferences raise, before anything is counted or queued.
        """
        when = self.clock() if at is None else at
        planned: list[tuple[NotificationType, Notification, list[tuple[User, DeliveryMethod]]]] = []
        for notification_type in self.registry.types_for(entry.action, entry.scope):
            notification = self._build(notification_type, entry)
            if notification is None:
                continue  # that type sends nothing for this entry; the others proceed
            if notification.scope is None:
                notification.scope = entry.scope
            planned.append(
                (notification_type, notification, self._targets(notification_type, entry))
            )
        sends: list[Send] = []
        with self._lock:
            sends += self._due(when)
            for notification_type, notification, targets in planned:
                sends += self._count(entry.scope, notification_type, notification, targets, when)
        self._queue(sends)
        return len(sends)

    def flush_digests(self, *, everything: bool = False) -> int:
        """Queue the digests of ended windows (``everything``: of all windows); return how
        many were queued."""
        with self._lock:
            sends = self._due(float("inf") if everything else self.clock())
        self._queue(sends)
        return len(sends)

    def flush(self, timeout: float | None = None) -> bool:
        """Queue due digests, then wait until every delivery queued so far was tried."""
        self.flush_digests()
        return True if self.deliverer is None else self.deliverer.flush(timeout)

    def close(self) -> None:
        """Send every held digest, then stop the timer and the sending thread."""
        self._timer.stop()
        self.flush_digests(everything=True)
        if self.deliverer is not None:
            self.deliverer.flush(self.deliverer.drain_timeout_s)
            self.deliverer.close()

    # -- the steps ---------------------------------------------------------------------

    def _build(self, notification_type: NotificationType, entry: AuditEntry) -> Notification | None:
        try:
            built = notification_type.build_notification(entry)
            if not isinstance(built, Notification):
                raise TypeError(f"build_notification returned {type(built).__name__}")
            return built
        except Exception as exc:
            key = f"{type(notification_type).__qualname__}:{notification_type.action_type}"
            with self._lock:
                first = key not in self._reported
                self._reported.add(key)
            if first:  # stderr, never logging: a log record here could notify again
                where = "".join(traceback.format_exception_only(type(exc), exc)).strip()
                _say(
                    f"structlogx: notifications: {notification_type!r}.build_notification "
                    f"failed for entry {entry.id} ({entry.action}): {where} "
                    "(later failures of this type are not reported)"
                )
            return None

    def _targets(
        self, notification_type: NotificationType, entry: AuditEntry
    ) -> list[tuple[User, DeliveryMethod]]:
        users = eligible(
            self.recipients.users(entry.scope),
            actor_id=entry.actor_id,
            permission=notification_type.required_permission,
        )
        return [
            (user, method)
            for user in users
            for method in self.methods
            if wants(
                self.preferences, user.id, notification_type.action_type, method.name, entry.scope
            )
        ]

    def _count(
        self,
        scope: str | None,
        notification_type: NotificationType,
        notification: Notification,
        targets: Iterable[tuple[User, DeliveryMethod]],
        now: float,
    ) -> list[Send]:
        """Count the notification in its window; return its sends, or hold them."""
        if self.digest_threshold is None:
            return [self._send(notification_type, notification, u, m) for u, m in targets]
        key = (scope, notification_type.action_type)
        window = self._windows.get(key)
        if window is None:
            window = self._windows[key] = _Window(end=now + self.digest_window_s)
        window.count += 1
        if window.count <= self.digest_threshold:
            return [self._send(notification_type, notification, u, m) for u, m in targets]
        held = False
        for user, method in targets:
            pair = (user.id, method.name)
            window.held[pair] = window.held.get(pair, 0) + 1
            window.users[user.id] = user
            held = True
        if held:
            window.latest, window.notification_type = notification, notification_type
            self._timer.poke()
        return []

    def _due(self, now: float) -> list[Send]:
        """Close the windows that ended by *now*; return their digests (call under the lock)."""
        sends: list[Send] = []
        for key in [key for key, window in self._windows.items() if window.end <= now]:
            window = self._windows.pop(key)
            notification_type, latest = window.notification_type, window.latest
            if notification_type is None or latest is None:
                continue
            methods = {method.name: method for method in self.methods}
            for (user_id, method_name), count in window.held.items():
                digest = self._digest(notification_type, count, latest)
                if digest is not None and digest.scope is None:
                    digest.scope = latest.scope
                method = methods.get(method_name)
                if digest is not None and method is not None:
                    sends.append(
                        self._send(notification_type, digest, window.users[user_id], method)
                    )
        return sends

    def _digest(
        self, notification_type: NotificationType, count: int, latest: Notification
    ) -> Notification | None:
        try:
            return notification_type.build_digest(count, self.digest_window_s, latest)
        except Exception as exc:
            _say(f"structlogx: notifications: {notification_type!r}.build_digest failed: {exc!r}")
            return None

    def _tick(self) -> float | None:
        """The timer: send due digests; sleep until the next window with held ones ends."""
        self.flush_digests()
        with self._lock:
            ends = [window.end for window in self._windows.values() if window.held]
        if not ends:
            return None
        return max(min(ends) - self.clock(), 0.05)

    @staticmethod
    def _send(
        notification_type: NotificationType,
        notification: Notification,
        user: User,
        method: DeliveryMethod,
    ) -> Send:
        what = f"{method.name} to user {user.id}: {notification.title[:60]!r}"
        return what, lambda: method.send(notification, user, notification_type)

    def _queue(self, sends: list[Send]) -> None:
        for what, send in sends:
            if self.deliverer is None:
                self._run(what, send)
            else:
                self.deliverer.submit(what, send)

    @staticmethod
    def _run(what: str, call: Callable[[], object]) -> None:
        try:
            call()
        except Exception as exc:
            _say(f"structlogx: notifications: {what} failed: {exc!r}")


class StoreFollower:
    """Read committed entries from a store, oldest new one first, and hand them on.

    Entries of rolled-back transactions never become visible, so following a store is how a
    transaction-bound audit trail notifies only after commit. The follower starts after the
    newest entry present when it is created, and assumes that ids become visible in
    increasing order (true of SQLite, where one transaction writes at a time).

    Args:
        store: the store to read; a separate connection from the application's (a
            transaction-bound store would also see the current uncommitted transaction).
        deliver: called with each new entry.
        poll_interval_s: how often the store is read when nobody pokes the follower.
        page_size: entries per query.

    Raises:
        ValueError: *store* is transaction-bound.
    """

    def __init__(
        self,
        store: Store,
        deliver: Callable[[AuditEntry], object],
        *,
        poll_interval_s: float = 1.0,
        page_size: int = 500,
    ) -> None:
        if getattr(store, "transaction_bound", False):
            raise ValueError(
                "a transaction-bound store reads the application's own connection, uncommitted "
                "entries included: follow a store opened on the same database, e.g. "
                "open_store('sqlite:///shop.sqlite3')"
            )
        self.store, self.deliver = store, deliver
        self.poll_interval_s = float(poll_interval_s)
        self.page_size = page_size
        self._lock = threading.Lock()
        newest = store.query(limit=1, visible=None)
        self.last_id = newest[0].id or 0 if newest else 0
        self._eager_until = 0.0
        self._ticker = _Ticker("structlogx notification follower", self._tick)
        self._ticker.poke()

    def poke(self) -> None:
        """Read soon, and often for the next two seconds (a commit is probably coming)."""
        self._eager_until = time.monotonic() + 2.0
        self._ticker.poke()

    def read(self) -> int:
        """Read and hand on every new committed entry now; return how many."""
        with self._lock:
            fresh: list[AuditEntry] = []
            after: int | None = None
            while True:  # newest first, page by page, down to the last one seen
                page = self.store.query(limit=self.page_size, visible=None, after=after)
                newer = [entry for entry in page if (entry.id or 0) > self.last_id]
                fresh += newer
                if len(newer) < len(page) or len(page) < self.page_size:
                    break
                after = page[-1].id
            fresh.sort(key=lambda entry: entry.id or 0)
            for entry in fresh:
                self.deliver(entry)
                self.last_id = entry.id or self.last_id
            return len(fresh)

    def _tick(self) -> float:
        self.read()
        return 0.05 if time.monotonic() < self._eager_until else self.poll_interval_s

    def close(self) -> None:
        """Stop the reading thread."""
        self._ticker.stop()
