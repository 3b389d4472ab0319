"""Notification types, the notifications they build, and the registry that finds them.

A :class:`NotificationType` says which action it is about (``action_type``: an action name or
a ``prefix.*`` family), what users see in their preferences (``verbose_name``), who may
receive it (``required_permission``) and how an audit entry becomes a :class:`Notification`
(:meth:`~NotificationType.build_notification`). This is pretix's design without Django
signals: types are registered in a :class:`NotificationRegistry`, globally or for one scope.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from typing import Any, TypeVar, overload

from structlogx.records import AuditEntry, action_error

__all__ = [
    "Notification",
    "NotificationRegistry",
    "NotificationType",
    "candidate_patterns",
    "default_registry",
    "notification_types_for",
    "register_notification_type",
    "unregister_notification_type",
]


@dataclasses.dataclass(slots=True)
class Notification:
    """What a user is told: a title, an optional detail and link, attributes and actions.

    Build one in :meth:`NotificationType.build_notification`; every delivery method renders
    all of it (mail as text and HTML, webhooks as JSON). Texts are plain text: methods escape.

    Args:
        title: one line, e.g. ``"Order ABC42 has been marked as paid"``.
        detail: a longer explanation.
        url: where to look at the subject (rendered as a link when it is http(s)).
        scope: the tenant or event the notification is about (the mail subject names it).
    """

    title: str
    detail: str | None = None
    url: str | None = None
    scope: str | None = None
    attributes: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    actions: list[tuple[str, str]] = dataclasses.field(default_factory=list)

    def add_attribute(self, title: str, value: object) -> None:
        """Add a labelled value (a row of the mail's table), e.g. ``("Order code", "ABC42")``."""
        self.attributes.append((str(title), str(value)))

    def add_action(self, label: str, url: str) -> None:
        """Add a link the user can follow (a button in the HTML mail)."""
        self.actions.append((str(label), str(url)))

    def to_dict(self) -> dict[str, Any]:
        """Return the notification as JSON-safe data (what a webhook receives)."""
        return {
            "title": self.title,
            "detail": self.detail,
            "url": self.url,
            "scope": self.scope,
            "attributes": [{"title": t, "value": v} for t, v in self.attributes],
            "actions": [{"label": label, "url": url} for label, url in self.actions],
        }


def _duration(seconds: float) -> str:
    if seconds >= 120 and seconds % 60 == 0:
        return f"{int(seconds // 60)} minutes"
    return f"{seconds:g} seconds" if seconds != 1 else "second"


class NotificationType:
    """Subclass to declare a notification type; override the three attributes and
    :meth:`build_notification`.

    Args:
        scope: the scope the type is registered for (``None``: a global type); a type built
            for one event can use it to tailor its texts, as pretix's types use ``event``.
    """

    action_type: str = ""
    """The action (``shop.order.paid``) or family (``shop.order.*``) this type is about; also
    the key of users' preferences for it."""
    verbose_name: str = ""
    """What users see when they choose their notifications, e.g. ``"Order has been paid"``."""
    required_permission: str | None = None
    """Users without this permission get nothing of this type (``None``: everyone may)."""

    def __init__(self, scope: str | None = None) -> None:
        self.scope = scope

    def build_notification(self, entry: AuditEntry) -> Notification:
        """Return the notification for *entry*; built once per entry, sent to every recipient.

        Raising means this entry sends nothing of this type; the error is reported once on
        stderr, and other types and entries proceed.
        """
        raise NotImplementedError

    def build_digest(self, count: int, window_s: float, latest: Notification) -> Notification:
        """Return the one notification that stands for *count* held back in a window.

        Override to say it in the business's words ("37 orders were paid in the last 5
        minutes"); the default names the type and repeats the latest title.
        """
        digest = Notification(
            f"{count} more: {self.verbose_name or self.action_type} "
            f"(in the last {_duration(window_s)})",
            detail=f"The latest: {latest.title}",
            url=latest.url,
            scope=latest.scope,
        )
        digest.add_attribute("Notifications", count)
        return digest

    def __repr__(self) -> str:
        where = "" if self.scope is None else f", scope={self.scope!r}"
        return f"<{type(self).__qualname__} {self.action_type!r}{where}>"


def candidate_patterns(action: str) -> list[str]:
    """Return the patterns that match *action*, most specific first.

    ``a.b.c.d`` gives ``a.b.c.d``, ``a.b.c.*``, ``a.b.*``, ``a.*`` (pretix's lookup order).
    """
    parts = action.split(".")
    return [action] + [".".join(parts[:n]) + ".*" for n in range(len(parts) - 1, 0, -1)]


def _check_type(notification_type: NotificationType) -> None:
    pattern = notification_type.action_type
    if not isinstance(pattern, str) or not pattern:
        raise ValueError(f"{notification_type!r}: action_type must be a non-empty str")
    problem = action_error(pattern[:-2] + ".x" if pattern.endswith(".*") else pattern)
    if problem is not None:
        raise ValueError(f"{notification_type!r}: invalid action_type {pattern!r}: {problem}")
    if type(notification_type).build_notification is NotificationType.build_notification:
        raise TypeError(f"{type(notification_type).__qualname__} must override build_notification")


_T = TypeVar("_T", bound="type[NotificationType] | NotificationType")


class NotificationRegistry:
    """Notification types by scope (``None``: global) and action pattern; thread-safe."""

    def __init__(self) -> None:
        self._types: dict[str | None, dict[str, NotificationType]] = {}
        self._lock = threading.Lock()

    def register(
        self,
        cls_or_instance: type[NotificationType] | NotificationType,
        *,
        scope: str | None = None,
    ) -> NotificationType:
        """Register a type (a class is instantiated with ``scope``) and return the instance.

        A scoped type replaces the global one with the same ``action_type`` for its scope.

        Raises:
            ValueError: the same ``action_type`` is already registered for that scope (or
                globally), or ``action_type`` is not an action name or ``prefix.*``.
            TypeError: not a :class:`NotificationType`, or ``build_notification`` is missing.
        """
        if isinstance(cls_or_instance, type) and issubclass(cls_or_instance, NotificationType):
            instance = cls_or_instance(scope)
        elif isinstance(cls_or_instance, NotificationType):
            instance = cls_or_instance
            if scope is not None:
                instance.scope = scope
        else:
            raise TypeError(
                f"expected a NotificationType subclass or instance, not {cls_or_instance!r}"
            )
        _check_type(instance)
        with self._lock:
            types = self._types.setdefault(instance.scope, {})
            existing = types.get(instance.action_type)
            if existing is not None:
                where = "globally" if instance.scope is None else f"for scope {instance.scope!r}"
                raise ValueError(
                    f"a notification type for {instance.action_type!r} is already registered "
                    f"{where} ({existing!r}); unregister it first"
                )
            types[instance.action_type] = instance
        return instance

    def unregister(
        self, what: str | type[NotificationType] | NotificationType, *, scope: str | None = None
    ) -> bool:
        """Remove the type for an action pattern (or a type's ``action_type``) in *scope*;
        return whether one was registered."""
        pattern = what if isinstance(what, str) else what.action_type
        if isinstance(what, NotificationType) and scope is None:
            scope = what.scope
        with self._lock:
            return self._types.get(scope, {}).pop(pattern, None) is not None

    def types_for(self, action: str, scope: str | None = None) -> list[NotificationType]:
        """Return the types matching *action* in *scope*, most specific pattern first.

        Each pattern of :func:`candidate_patterns` contributes its type: the scope's own when
        it has one, else the global one.
        """
        with self._lock:
            scoped = self._types.get(scope, {}) if scope is not None else {}
            general = self._types.get(None, {})
            found = []
            for pattern in candidate_patterns(action):
                chosen = scoped.get(pattern) or general.get(pattern)
                if chosen is not None:
                    found.append(chosen)
            return found

    def all(self, scope: str | None = None) -> list[NotificationType]:
        """Return every type that applies in *scope* (for a preferences page), by pattern."""
        with self._lock:
            merged = dict(self._types.get(None, {}))
            if scope is not None:
                merged.update(self._types.get(scope, {}))
        return [merged[pattern] for pattern in sorted(merged)]

    def clear(self) -> None:
        """Remove every type (tests)."""
        with self._lock:
            self._types.clear()


default_registry = NotificationRegistry()
"""The registry :func:`register_notification_type` fills and handlers use by default."""


@overload
def register_notification_type(
    cls_or_instance: _T, *, scope: str | None = None, registry: NotificationRegistry | None = None
) -> _T: ...


@overload
def register_notification_type(
    cls_or_instance: None = None,
    *,
    scope: str | None = None,
    registry: NotificationRegistry | None = None,
) -> Callable[[_T], _T]: ...


def register_notification_type(
    cls_or_instance: Any = None,
    *,
    scope: str | None = None,
    registry: NotificationRegistry | None = None,
) -> Any:
    """Register a notification type; usable as ``@register_notification_type`` or
    ``@register_notification_type(scope="event-1")``, or called with an instance.

    Returns what it was given (so the class stays a class under the decorator). See
    :meth:`NotificationRegistry.register` for the errors.
    """
    target = default_registry if registry is None else registry

    def register(given: _T) -> _T:
        target.register(given, scope=scope)
        return given

    return register if cls_or_instance is None else register(cls_or_instance)


def unregister_notification_type(
    what: str | type[NotificationType] | NotificationType, *, scope: str | None = None
) -> bool:
    """Remove a type from the default registry (see :meth:`NotificationRegistry.unregister`)."""
    return default_registry.unregister(what, scope=scope)


def notification_types_for(action: str, scope: str | None = None) -> list[NotificationType]:
    """Return the default registry's types for *action* (see
    :meth:`NotificationRegistry.types_for`)."""
    return default_registry.types_for(action, scope)
