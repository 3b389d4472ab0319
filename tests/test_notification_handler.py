"""NotificationHandler end to end: pretix's notification tests, on a real SMTP server and a
local webhook server; batches, digests, after-commit delivery, failing types."""

from __future__ import annotations

import logging
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from notification_helpers import (
    CLERK,
    INTERN,
    OWNER,
    SECRET,
    AnyOrder,
    OrderPaid,
    WebhookServer,
    running_webhook_server,
)
from smtp_server import SMTPServer

from structlogx.audit import open_store
from structlogx.audit.sqlite import SQLiteStore
from structlogx.conf import settings
from structlogx.handlers import AuditHandler, NotificationHandler
from structlogx.notifications import (
    MailMethod,
    MemoryPreferences,
    MemoryRecipients,
    Notification,
    NotificationRegistry,
    NotificationType,
    User,
    WebhookMethod,
)
from structlogx.records import AuditEntry

SMTP = "structlogx.mail.backends.SMTPBackend"


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def webhook_server() -> Iterator[WebhookServer]:
    with running_webhook_server() as server:
        yield server


@pytest.fixture
def logger() -> Iterator[logging.Logger]:
    log = logging.getLogger(f"structlogx_tests.notify.{uuid.uuid4().hex}")
    log.propagate = False
    log.setLevel(logging.INFO)
    yield log
    for handler in list(log.handlers):
        log.removeHandler(handler)
        handler.close()


class Shop:
    """One shop's notification setup: the pretix test fixture, in structlogx terms."""

    def __init__(self, smtp: SMTPServer, hooks: WebhookServer, logger: logging.Logger) -> None:
        self.smtp, self.hooks, self.logger = smtp, hooks, logger
        self.registry = NotificationRegistry()
        self.registry.register(OrderPaid)
        self.registry.register(AnyOrder)
        self.recipients = MemoryRecipients([OWNER, CLERK, INTERN])
        self.preferences = MemoryPreferences()
        self.clock = Clock()
        self.mail = MailMethod(
            SMTP,
            from_email="shop@shop.example",
            subject_prefix="[Shop] ",
            backend_options={"host": smtp.host, "port": smtp.port, "username": "", "password": ""},
        )
        self.webhook = WebhookMethod(hooks.url, SECRET)

    def handler(self, **options: Any) -> NotificationHandler:
        options.setdefault("backoff_s", 0.01)
        handler = NotificationHandler(
            self.recipients,
            self.preferences,
            [self.mail, self.webhook],
            registry=self.registry,
            clock=self.clock,
            **options,
        )
        self.logger.addHandler(handler)
        return handler

    def log(
        self, action: str, *, user: object = CLERK, scope: str | None = "event-1", **data: Any
    ) -> None:
        self.logger.info(
            action, extra={"action": action, "user": user, "scope": scope, "data": data}
        )

    def mails(self) -> list[tuple[str, str]]:
        """(recipient, subject) of every message the SMTP server accepted."""
        return sorted(
            (message.rcpt_tos[0], str(message.message["Subject"])) for message in self.smtp.messages
        )

    def hooked(self) -> list[tuple[str, str]]:
        assert all(call.signature_ok for call in self.hooks.calls)
        return sorted(
            (call.json["recipient"]["email"], call.json["notification"]["title"])
            for call in self.hooks.calls
        )


@pytest.fixture
def shop(smtp_server: SMTPServer, webhook_server: WebhookServer, logger: logging.Logger) -> Shop:
    return Shop(smtp_server, webhook_server, logger)


PAID = "[Shop] event-1: Order ABC42 has been marked as paid"


# -- pretix's tests ------------------------------------------------------------------------


def test_event_level_setting_triggers(shop: Shop) -> None:
    shop.preferences.set(OWNER.id, "shop.order.paid", "mail", True, scope="event-1")
    shop.preferences.set(OWNER.id, "shop.order.paid", "webhook", True, scope="event-1")
    handler = shop.handler()
    shop.log("shop.order.paid", code="ABC42")
    shop.log("shop.order.paid", code="OTHER", scope="event-2")  # not for this scope
    assert handler.flush(5)
    assert shop.mails() == [("owner@shop.example", PAID)]
    assert shop.hooked() == [("owner@shop.example", "Order ABC42 has been marked as paid")]


def test_global_setting_triggers(shop: Shop) -> None:
    shop.preferences.set(OWNER.id, "shop.order.paid", "mail", True)
    handler = shop.handler()
    shop.log("shop.order.paid", code="ABC42")
    assert handler.flush(5)
    assert shop.mails() == [("owner@shop.example", PAID)]
    assert shop.hooks.calls == []  # webhook not chosen


def test_wildcard_type_triggers(shop: Shop) -> None:
    shop.preferences.set(OWNER.id, "shop.order.*", "webhook", True)
    handler = shop.handler()
    shop.log("shop.order.changed.item", code="ABC42")
    assert handler.flush(5)
    assert shop.hooked() == [("owner@shop.example", "Order event: shop.order.changed.item")]
    assert shop.smtp.messages == []


def test_disabled_scope_setting_overrides_enabled_global(shop: Shop) -> None:
    shop.preferences.set(OWNER.id, "shop.order.paid", "mail", True)
    shop.preferences.set(OWNER.id, "shop.order.paid", "mail", False, scope="event-1")
    handler = shop.handler()
    shop.log("shop.order.paid", code="ABC42")
    shop.log("shop.order.paid", code="XYZ", scope="event-2")  # global still applies there
    assert handler.flush(5)
    assert shop.mails() == [
        ("owner@shop.example", "[Shop] event-2: Order XYZ has been marked as paid")
    ]


def test_the_actor_is_not_notified(shop: Shop) -> None:
    for user in (OWNER, CLERK):
        shop.preferences.set(user.id, "shop.order.paid", "mail", True)
    handler = shop.handler()
    shop.log("shop.order.paid", user=CLERK, code="ABC42")
    assert handler.flush(5)
    assert shop.mails() == [("owner@shop.example", PAID)]


def test_no_notification_without_the_permission(shop: Shop) -> None:
    shop.preferences.set(INTERN.id, "shop.order.paid", "mail", True)
    shop.preferences.set(INTERN.id, "shop.order.paid", "webhook", True)
    handler = shop.handler()
    shop.log("shop.order.paid", code="ABC42")
    assert handler.flush(5)
    assert shop.smtp.messages == []
    assert shop.hooks.calls == []


def test_master_switch_off_sends_nothing(shop: Shop) -> None:
    shop.preferences.set(OWNER.id, "shop.order.paid", "mail", True)
    shop.preferences.set_master(OWNER.id, False)
    handler = shop.handler()
    shop.log("shop.order.paid", code="ABC42")
    assert handler.flush(5)
    assert shop.smtp.messages == []


def test_records_without_action_are_ignored(shop: Shop) -> None:
    shop.preferences.set(OWNER.id, "shop.order.*", "mail", True)
    handler = shop.handler()
    shop.logger.error("shop.order.paid but no action")
    assert handler.flush(5)
    assert shop.smtp.messages == []


# -- batches and failures ------------------------------------------------------------------


def test_an_entry_without_a_type_does_not_stop_the_others(shop: Shop) -> None:
    """pretix's notify() has `break` where `continue` belongs."""
    shop.preferences.set(OWNER.id, "shop.order.paid", "mail", True)
    handler = shop.handler()
    shop.log("shop.order.paid", code="A1")
    shop.log("shop.user.logged_in")  # no type
    shop.log("shop.order.paid", code="A2", scope=None)  # no scope: a global entry
    shop.log("shop.order.paid", code="A3")
    assert handler.flush(5)
    assert shop.mails() == [
        ("owner@shop.example", "[Shop] Order A2 has been marked as paid"),
        ("owner@shop.example", "[Shop] event-1: Order A1 has been marked as paid"),
        ("owner@shop.example", "[Shop] event-1: Order A3 has been marked as paid"),
    ]


class Broken(NotificationType):
    action_type = "shop.order.paid"
    verbose_name = "Broken"

    def build_notification(self, entry: AuditEntry) -> Notification:
        raise KeyError("no such order")


def test_a_raising_build_notification_sends_nothing_and_says_so_once(
    shop: Shop, capsys: pytest.CaptureFixture[str]
) -> None:
    shop.registry.unregister("shop.order.paid")
    shop.registry.register(Broken)
    shop.preferences.set(OWNER.id, "shop.order.paid", "mail", True)
    shop.preferences.set(OWNER.id, "shop.order.*", "mail", True)
    handler = shop.handler()
    for _ in range(3):
        shop.log("shop.order.paid", code="ABC42")
    assert handler.flush(5)
    # the wildcard type proceeds; the broken one sent nothing
    assert (
        shop.mails() == [("owner@shop.example", "[Shop] event-1: Order event: shop.order.paid")] * 3
    )
    errors = [line for line in capsys.readouterr().err.splitlines() if "Broken" in line]
    assert len(errors) == 1
    assert "KeyError" in errors[0]
    assert "shop.order.paid" in errors[0]


def test_failed_webhooks_are_retried(shop: Shop) -> None:
    shop.preferences.set(OWNER.id, "shop.order.paid", "webhook", True)
    shop.hooks.statuses[:] = [500, 302]  # then 204
    handler = shop.handler(attempts=3)
    shop.log("shop.order.paid", code="ABC42")
    assert handler.flush(5)
    assert shop.hooked() == [("owner@shop.example", "Order ABC42 has been marked as paid")]


def test_logging_returns_while_the_mail_server_hangs(
    logger: logging.Logger, webhook_server: WebhookServer
) -> None:
    from smtp_server import running_smtp_server

    with running_smtp_server(delay=1.0) as slow:
        shop = Shop(slow, webhook_server, logger)
        shop.preferences.set(OWNER.id, "shop.order.paid", "mail", True)
        handler = shop.handler()
        started = time.monotonic()
        shop.log("shop.order.paid", code="ABC42")
        assert time.monotonic() - started < 0.5
        assert handler.flush(5)
        assert len(slow.messages) == 1


# -- digests -------------------------------------------------------------------------------


class PaidWithDigest(OrderPaid):
    def build_digest(self, count: int, window_s: float, latest: Notification) -> Notification:
        return Notification(f"{count} orders were paid in the last {window_s / 60:g} minutes")


def test_a_storm_becomes_one_digest_per_recipient_per_window(shop: Shop) -> None:
    shop.registry.unregister("shop.order.paid")
    shop.registry.register(PaidWithDigest)
    for user in (OWNER, CLERK):
        shop.preferences.set(user.id, "shop.order.paid", "mail", True)
    shop.preferences.set(OWNER.id, "shop.order.paid", "webhook", True)
    handler = shop.handler(digest_window_s=300, digest_threshold=3)
    actor = User("99", "customer@example.com")
    for n in range(1000):  # 1,000 identical actions in 10 s
        shop.clock.now = 1000.0 + n * 0.01
        shop.log("shop.order.paid", user=actor, code=f"C{n}")
    assert handler.flush(10)
    # before the window ends: the first 3 one by one, to each of owner (2 methods) and clerk
    assert len(shop.smtp.messages) == 6
    assert len(shop.hooks.calls) == 3
    shop.clock.now = 1000.0 + 300  # the window ends
    assert handler.flush(10)
    digests = [s for _, s in shop.mails() if "orders were paid" in s]
    assert sorted(digests) == ["[Shop] event-1: 997 orders were paid in the last 5 minutes"] * 2
    assert {m.rcpt_tos[0] for m in shop.smtp.messages[6:]} == {OWNER.email, CLERK.email}
    assert len(shop.hooks.calls) == 4
    assert shop.hooks.calls[-1].json["notification"]["title"] == (
        "997 orders were paid in the last 5 minutes"
    )


def test_digests_count_per_window_and_per_scope(shop: Shop) -> None:
    shop.preferences.set(OWNER.id, "shop.order.paid", "mail", True)
    handler = shop.handler(digest_window_s=5, digest_threshold=2)
    for n in range(1000):  # 10 s: two windows of 5 s
        shop.clock.now = 1000.0 + n * 0.01
        shop.log("shop.order.paid", code=f"C{n}", scope="event-1" if n % 2 else "event-2")
    shop.clock.now = 1100.0
    assert handler.flush(10)
    subjects = [s for _, s in shop.mails()]
    digests = sorted(s for s in subjects if "more:" in s)
    # per scope and window: 250 entries, 2 sent one by one, 248 in the digest
    assert digests == [
        f"[Shop] {scope}: 248 more: Order has been paid (in the last 5 seconds)"
        for scope in ("event-1", "event-1", "event-2", "event-2")
    ]
    assert len(subjects) == 4 * 2 + 4


def test_close_sends_held_digests(shop: Shop) -> None:
    shop.preferences.set(OWNER.id, "shop.order.paid", "mail", True)
    handler = shop.handler(digest_window_s=300, digest_threshold=1)
    for n in range(5):
        shop.log("shop.order.paid", code=f"C{n}")
    shop.logger.removeHandler(handler)
    handler.close()
    shop.smtp.wait_for(2)
    assert [s for _, s in shop.mails() if "more:" in s] == [
        "[Shop] event-1: 4 more: Order has been paid (in the last 5 minutes)"
    ]


# -- after commit --------------------------------------------------------------------------


class Transactions:
    """Django's transaction.on_commit, in miniature."""

    def __init__(self) -> None:
        self.pending: list[Callable[[], None]] = []

    def on_commit(self, function: Callable[[], None]) -> None:
        self.pending.append(function)

    def commit(self) -> None:
        pending, self.pending = self.pending, []
        for function in pending:
            function()

    def rollback(self) -> None:
        self.pending.clear()


def test_on_commit_defers_and_rollback_drops(shop: Shop) -> None:
    shop.preferences.set(OWNER.id, "shop.order.paid", "mail", True)
    transactions = Transactions()
    handler = shop.handler(on_commit=transactions.on_commit)
    shop.log("shop.order.paid", code="ROLLED")
    assert handler.flush(5)
    assert shop.smtp.messages == []
    transactions.rollback()
    shop.log("shop.order.paid", code="ABC42")
    transactions.commit()
    assert handler.flush(5)
    assert shop.mails() == [("owner@shop.example", PAID)]


def test_following_a_transaction_bound_store(shop: Shop, tmp_path: Path) -> None:
    path = tmp_path / "shop.sqlite3"
    database = sqlite3.connect(path, check_same_thread=False)
    database.execute("CREATE TABLE orders (code TEXT PRIMARY KEY, status TEXT)")
    database.execute("INSERT INTO orders VALUES ('ABC42', 'pending'), ('ROLLED', 'pending')")
    shop.logger.addHandler(AuditHandler(SQLiteStore.bound(lambda: database), default_store=False))
    database.commit()
    shop.preferences.set(OWNER.id, "shop.order.paid", "mail", True)
    follower = open_store(f"sqlite:///{path}")
    handler = shop.handler(source=follower, poll_interval_s=0.05)

    def pay(code: str) -> None:
        database.execute("UPDATE orders SET status = 'paid' WHERE code = ?", (code,))
        shop.log("shop.order.paid", code=code)

    def fail() -> None:
        with database:
            pay("ROLLED")
            assert handler.flush(5)  # the transaction is open: nothing committed to read
            raise RuntimeError("payment refused")

    with pytest.raises(RuntimeError):
        fail()
    assert handler.flush(5)
    assert shop.smtp.messages == []
    with database:
        pay("ABC42")
    assert handler.flush(5)
    assert shop.mails() == [("owner@shop.example", PAID)]
    shop.logger.removeHandler(handler)
    handler.close()
    follower.close()
    database.close()


def test_a_bound_store_cannot_be_followed(shop: Shop) -> None:
    database = sqlite3.connect(":memory:")
    with pytest.raises(ValueError, match="transaction-bound"):
        NotificationHandler(
            shop.recipients, shop.preferences, [], source=SQLiteStore.bound(lambda: database)
        )


# -- configuration -------------------------------------------------------------------------

RECIPIENTS = MemoryRecipients([OWNER])
PREFERENCES = MemoryPreferences()


def test_builds_from_dictconfig_data(tmp_path: Path) -> None:
    import logging.config

    from structlogx import mail

    name = f"structlogx_tests.notify.{uuid.uuid4().hex}"
    registry = NotificationRegistry()
    registry.register(OrderPaid)
    PREFERENCES.set(OWNER.id, "shop.order.paid", "mail", True)
    logging.config.dictConfig(
        {
            "version": 1,
            "disable_existing_loggers": False,
            "handlers": {
                "notify": {
                    "class": "structlogx.handlers.NotificationHandler",
                    "recipients": "ext://test_notification_handler.RECIPIENTS",
                    "preferences": "test_notification_handler.PREFERENCES",
                    "methods": [
                        {"class": "structlogx.notifications.MailMethod", "subject_prefix": ""}
                    ],
                    "blocking": True,
                }
            },
            "loggers": {name: {"handlers": ["notify"], "level": "INFO", "propagate": False}},
        }
    )
    log = logging.getLogger(name)
    handler = log.handlers[0]
    assert isinstance(handler, NotificationHandler)
    handler.notifier.registry = registry
    mail.outbox.clear()
    with settings.override(EMAIL_BACKEND="structlogx.mail.backends.MemoryBackend"):
        log.info("paid", extra={"action": "shop.order.paid", "data": {"code": "X1"}})
    assert [m["Subject"] for m in mail.outbox] == ["Order X1 has been marked as paid"]
    log.removeHandler(handler)
    handler.close()


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"methods": [MailMethod(), MailMethod()]}, "distinct names"),
        ({"methods": [{"subject_prefix": ""}]}, "needs 'class'"),
        ({"methods": [object()]}, "has no 'name'"),
        ({"digest_window_s": 0}, "digest_window_s"),
        ({"digest_threshold": -1}, "digest_threshold"),
        ({"on_commit": 3}, "on_commit"),
    ],
)
def test_bad_options_are_named(options: dict[str, Any], error: str) -> None:
    with pytest.raises((TypeError, ValueError), match=error):
        NotificationHandler(RECIPIENTS, PREFERENCES, **options)


def test_the_timer_sends_a_digest_when_its_window_ends(shop: Shop) -> None:
    shop.preferences.set(OWNER.id, "shop.order.paid", "mail", True)
    handler = shop.handler(digest_window_s=0.3, digest_threshold=1)
    handler.notifier.clock = time.monotonic  # real time: no flush() below
    for n in range(3):
        shop.log("shop.order.paid", code=f"C{n}")
    shop.smtp.wait_for(2, timeout=5)  # the first one, then the digest of the other two
    assert sorted(s for _, s in shop.mails())[0] == (
        "[Shop] event-1: 2 more: Order has been paid (in the last 0.3 seconds)"
    )
