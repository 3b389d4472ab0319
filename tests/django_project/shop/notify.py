"""Who hears that an order was paid: the objects the ``notify`` handler in LOGGING names.

Imported while Django configures logging, before the apps are ready: no models here.
"""

from __future__ import annotations

from structlogx.notifications import (
    MemoryPreferences,
    MemoryRecipients,
    Notification,
    NotificationRegistry,
    NotificationType,
    User,
)
from structlogx.records import AuditEntry


class OrderPaid(NotificationType):
    """The shop's one notification type."""

    action_type = "shop.order.paid"
    verbose_name = "Order has been paid"

    def build_notification(self, entry: AuditEntry) -> Notification:
        """Name the order in the title."""
        return Notification(f"{entry.object_text} has been marked as paid")


registry = NotificationRegistry()
registry.register(OrderPaid)
owner = User("1", "owner@example.com", "Olga")
recipients = MemoryRecipients([owner])
preferences = MemoryPreferences()
preferences.set(owner.id, OrderPaid.action_type, "mail", True)
