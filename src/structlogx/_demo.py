"""The ``structlogx demo`` scenario: one shop, technical and business records, four outputs.

The console gets human text, ``demo.jsonl`` gets JSON lines, ``audit.sqlite3`` gets the audit
trail (the records with an action) through an ``AuditHandler``, and the error is mailed to the
shop's admin by an ``AdminEmailHandler`` through the file backend, into ``mail/``. A
``NotificationHandler`` tells the shop owner that the order was paid, by mail through the file
backend, into ``notifications/``. It stays offline and finishes in seconds.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import logging.config
import os
import shutil
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

from structlogx import context, display
from structlogx.conf import settings
from structlogx.notifications import (
    MemoryPreferences,
    MemoryRecipients,
    Notification,
    NotificationRegistry,
    NotificationType,
    User,
)
from structlogx.records import AuditEntry, LoggedObject, changed_data

__all__ = ["logging_config", "print_trail", "run", "size_of"]

_STORE_FILES = ("", "-wal", "-shm", "-lock", ".spool.jsonl")  # a store file and its siblings


@dataclasses.dataclass
class Customer:
    """A shop user; ``pk`` and ``str()`` are what the audit trail records of an actor."""

    pk: int
    email: str

    def __str__(self) -> str:
        return self.email


@dataclasses.dataclass
class Order(LoggedObject):
    """A shop order that logs its own actions (pretix's ``order.log_action``)."""

    pk: int
    code: str
    total: Decimal
    status: str = "pending"

    def __str__(self) -> str:
        return f"Order {self.code}"


def _register_texts() -> None:
    display.register("shop.order.placed", "The order was placed ({data[total]} EUR).")
    display.register("shop.order.paid", "The order has been marked as paid.")
    display.register("shop.order.changed", "The order status was changed to {data[status]}.")
    display.register("shop.order.canceled", "The order has been canceled ({data[reason]}).")


_register_texts()  # at import too, so `structlogx audit show --import structlogx._demo` has them


class OrderPaidNotification(NotificationType):
    """The demo's notification type: tell the shop owner about each paid order."""

    action_type = "shop.order.paid"
    verbose_name = "Order has been paid"
    required_permission = "can_view_orders"

    def build_notification(self, entry: AuditEntry) -> Notification:
        """Return the owner's notification: the order, its payment provider, a link."""
        url = f"https://shop.example/control/orders/{entry.object_id}"
        notification = Notification(f"{entry.object_text} has been marked as paid", url=url)
        notification.add_attribute("Order", entry.object_text or "?")
        notification.add_attribute("Paid with", entry.data.get("provider", "?"))
        notification.add_attribute("Customer", entry.actor_text or "?")
        notification.add_action("View order details", url)
        return notification


NOTIFICATION_TYPES = NotificationRegistry()
"""The demo's own registry (the global one stays untouched when the demo runs in a process)."""
NOTIFICATION_TYPES.register(OrderPaidNotification)
SHOP_OWNER = User("1", "owner@shop.example", "Shop owner", permissions={"can_view_orders"})
RECIPIENTS = MemoryRecipients([SHOP_OWNER])
PREFERENCES = MemoryPreferences()
PREFERENCES.set(SHOP_OWNER.id, "shop.order.paid", "mail", True)


def logging_config(directory: Path, stream: TextIO) -> dict[str, Any]:
    """Return the demo's ``LOGGING``: text on *stream*, JSON lines and the trail in *directory*."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": "structlogx.filters.ContextFilter"}},
        "formatters": {
            "text": {
                "()": "structlogx.formatters.ActionFormatter",
                "format": "%(levelname)-7s %(name)s: %(message)s",
                "single_line": False,
            },
            "json": {"()": "structlogx.formatters.JSONFormatter"},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "stream": stream,
                "formatter": "text",
                "filters": ["context"],
            },
            "jsonl": {
                "class": "logging.FileHandler",
                "filename": str(directory / "demo.jsonl"),
                "mode": "w",
                "encoding": "utf-8",
                "formatter": "json",
                "filters": ["context"],
            },
            "audit": {
                "class": "structlogx.handlers.AuditHandler",
                "store": f"sqlite:///{directory / 'audit.sqlite3'}",
                "filters": ["context"],
            },
            "mail_admins": {  # to files in <directory>/mail: see DEMO_SETTINGS
                "class": "structlogx.handlers.AdminEmailHandler",
                "level": "ERROR",
                "email_backend": "structlogx.mail.backends.FileBackend",
                "include_html": True,
            },
            "notify": {  # the shop owner hears about paid orders, by mail into notifications/
                "class": "structlogx.handlers.NotificationHandler",
                "recipients": "ext://structlogx._demo.RECIPIENTS",
                "preferences": "ext://structlogx._demo.PREFERENCES",
                "registry": "ext://structlogx._demo.NOTIFICATION_TYPES",
                "methods": [
                    {
                        "class": "structlogx.notifications.MailMethod",
                        "email_backend": "structlogx.mail.backends.FileBackend",
                        "from_email": "shop@shop.example",
                        "subject_prefix": "[Demo shop] ",
                        "backend_options": {"file_path": str(directory / "notifications")},
                    }
                ],
            },
        },
        "loggers": {
            __name__: {
                "handlers": ["console", "jsonl", "audit", "mail_admins", "notify"],
                "level": "INFO",
                "propagate": False,
            }
        },
    }


def run(directory: Path, stream: TextIO = sys.stdout) -> dict[str, Path]:
    """Run the demo, writing into *directory*; return the files it wrote, by role."""
    directory.mkdir(parents=True, exist_ok=True)
    for suffix in _STORE_FILES:  # a fresh trail each run
        with contextlib.suppress(FileNotFoundError):
            os.remove(f"{directory / 'audit.sqlite3'}{suffix}")
    mail_dir = directory / "mail"
    shutil.rmtree(mail_dir, ignore_errors=True)  # only this run's mail
    notification_dir = directory / "notifications"
    shutil.rmtree(notification_dir, ignore_errors=True)
    notification_dir.mkdir()
    with settings.override(
        ADMINS=[("Shop admin", "admin@shop.example")],
        SERVER_EMAIL="errors@shop.example",
        EMAIL_FILE_PATH=str(mail_dir),
    ):
        _play(directory, stream)
    return {
        "json lines": directory / "demo.jsonl",
        "audit trail": directory / "audit.sqlite3",
        "admin mail": mail_dir,
        "notification": notification_dir,
    }


def _play(directory: Path, stream: TextIO) -> None:
    _register_texts()
    logging.config.dictConfig(logging_config(directory, stream))
    logger = logging.getLogger(__name__)  # Order.log_action logs here too
    alice = Customer(pk=7, email="alice@example.com")
    order = Order(pk=1042, code="ABC42", total=Decimal("12.50"))
    try:
        logger.info("Shop starting (demo)")
        with context.bind(request_id="req-7f3a", client_ip="203.0.113.9"):
            logger.info(
                "Order %s placed",
                order.code,
                extra={
                    "action": "shop.order.placed",
                    "user": alice,
                    "object": order,
                    "data": {"total": order.total, "items": {"ticket", "t-shirt"}},
                },
            )
            order.status = "paid"
            order.log_action("shop.order.paid", user=alice, data={"provider": "demo-pay"})
            order.log_action("shop.order.changed", user=alice, data=changed_data(order, ["status"]))
            logger.warning("Payment provider slow: %.1fs", 2.4)
            try:
                raise TimeoutError("mail server did not answer")
            except TimeoutError:
                logger.exception("Could not send the confirmation for %s", order.code)
            order.log_action("shop.order.canceled", user=alice, data={"reason": "customer request"})
        bob = Customer(pk=8, email="bob@example.com")  # asks to be forgotten, below
        poster = Order(pk=1043, code="XYZ9", total=Decimal("8.00"))
        logger.info(
            "Order %s placed",
            poster.code,
            extra={
                "action": "shop.order.placed",
                "user": bob,
                "object": poster,
                "data": {"total": poster.total, "items": ["poster"]},
            },
        )
    finally:
        for handler in logging.getLogger(__name__).handlers:
            handler.flush()  # the audit writer and the mail sender too


def verify_erase_export(store_path: Path, html_path: Path, stream: TextIO | None = None) -> None:
    """Check the trail's hash chain, honour customer 8's erasure request, export the trail
    as one HTML page, and say what happened."""
    from structlogx.audit import open_store
    from structlogx.audit.export import iter_entries, write_html

    out = stream or sys.stdout
    store = open_store(f"sqlite:///{store_path}")
    try:
        print(f"Hash chain: {store.verify()}", file=out)
        erased = store.shred(
            actor="8", reason="erasure request from the customer", by="privacy@shop.example"
        )
        print(f"Erasure request of customer 8: {erased}, recorded in the trail", file=out)
        print(f"Hash chain after the erasure: {store.verify()}", file=out)
        with html_path.open("w", encoding="utf-8") as page:
            write_html(iter_entries(store, visible=None), page, title="structlogx demo trail")
    finally:
        store.close()


def size_of(path: Path) -> str:
    """Return ``8 lines`` for a text output, ``6 entries`` for the audit store, ``1 message``
    for a mail folder, the size of the HTML page."""
    if path.is_dir():
        count = sum(1 for _ in path.glob("*.eml"))
        return f"{count} message" if count == 1 else f"{count} messages"
    if path.suffix == ".html":
        return f"{path.stat().st_size:,} bytes, no network needed"
    if path.suffix == ".sqlite3":
        from structlogx.audit import open_store

        store = open_store(f"sqlite:///{path}")
        try:
            count = store.count(visible=None)
        finally:
            store.close()
        return f"{count} entries" if count != 1 else "1 entry"
    with path.open(encoding="utf-8") as lines:
        return f"{sum(1 for _ in lines)} lines"


def print_trail(path: Path, stream: TextIO | None = None) -> str:
    """Print the audit trail at *path*, oldest first, as a table; return the store's URL."""
    from structlogx._audit_cli import table
    from structlogx.audit import open_store
    from structlogx.audit.export import iter_entries

    out = stream or sys.stdout
    url = f"sqlite:///{path}"
    store = open_store(url)
    try:
        entries = list(iter_entries(store, visible=None))
    finally:
        store.close()
    print(f"Audit trail ({path}):", file=out)
    for line in table(reversed(entries), indent="  "):
        print(line, file=out)
    return url
