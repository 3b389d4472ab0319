"""Notifications: tell the people who care when a logged action matters (pretix's design).

Declare a :class:`NotificationType` for an action (or a ``prefix.*`` family) and register it;
a :class:`~structlogx.handlers.NotificationHandler` then turns each matching audit record into
a :class:`Notification`, built once, and delivers it to every eligible user by the methods
they chose (:class:`MailMethod`, :class:`WebhookMethod`), in a background thread with retries,
turning storms into digests, and (with ``on_commit`` or a followed store) only after the
business transaction commits. See the notifications guide for a walk-through.

The package's modules: :mod:`~structlogx.notifications.types` (types, notifications, the
registry), :mod:`~structlogx.notifications.people` (users, recipients, preferences and their
rules), :mod:`~structlogx.notifications.methods` (mail and webhook delivery, rendering),
:mod:`~structlogx.notifications.dispatch` (the engine: matching, digests, the store follower).
"""

from structlogx.notifications.dispatch import Notifier, StoreFollower
from structlogx.notifications.methods import (
    SIGNATURE_HEADER,
    DeliveryMethod,
    MailMethod,
    WebhookMethod,
    render_html,
    render_text,
    sign,
)
from structlogx.notifications.people import (
    MemoryPreferences,
    MemoryRecipients,
    Preferences,
    Recipients,
    SQLitePreferences,
    User,
    eligible,
    wants,
)
from structlogx.notifications.types import (
    Notification,
    NotificationRegistry,
    NotificationType,
    candidate_patterns,
    default_registry,
    notification_types_for,
    register_notification_type,
    unregister_notification_type,
)

__all__ = [
    "SIGNATURE_HEADER",
    "DeliveryMethod",
    "MailMethod",
    "MemoryPreferences",
    "MemoryRecipients",
    "Notification",
    "NotificationRegistry",
    "NotificationType",
    "Notifier",
    "Preferences",
    "Recipients",
    "SQLitePreferences",
    "StoreFollower",
    "User",
    "WebhookMethod",
    "candidate_patterns",
    "default_registry",
    "eligible",
    "notification_types_for",
    "register_notification_type",
    "render_html",
    "render_text",
    "sign",
    "unregister_notification_type",
    "wants",
]
