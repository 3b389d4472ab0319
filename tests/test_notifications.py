"""The notification engine's parts: types and the registry, users and preferences, rendering
and delivery methods."""

from __future__ import annotations

import email
import email.policy
import html.parser
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from notification_helpers import CLERK, INTERN, OWNER, SECRET, OrderPaid, running_webhook_server

from structlogx import mail
from structlogx.audit.store import storable
from structlogx.conf import settings as sx_settings
from structlogx.notifications import (
    MailMethod,
    MemoryPreferences,
    MemoryRecipients,
    Notification,
    NotificationRegistry,
    NotificationType,
    SQLitePreferences,
    User,
    WebhookMethod,
    candidate_patterns,
    eligible,
    register_notification_type,
    render_html,
    render_text,
    sign,
    unregister_notification_type,
    wants,
)
from structlogx.notifications import types as types_module
from structlogx.records import AuditEntry

# -- types and the registry ----------------------------------------------------------------


def test_candidate_patterns_follow_pretix() -> None:
    assert candidate_patterns("a.b.c.d") == ["a.b.c.d", "a.b.c.*", "a.b.*", "a.*"]


class Wild(NotificationType):
    action_type = "shop.*"
    verbose_name = "Anything in the shop"

    def build_notification(self, entry: AuditEntry) -> Notification:
        return Notification(entry.action)


def test_types_for_returns_every_match_most_specific_first() -> None:
    registry = NotificationRegistry()
    wild, paid = registry.register(Wild), registry.register(OrderPaid)
    assert registry.types_for("shop.order.paid") == [paid, wild]
    assert registry.types_for("shop.order.canceled") == [wild]
    assert registry.types_for("other.thing") == []


def test_a_scoped_type_replaces_the_global_one_in_its_scope() -> None:
    registry = NotificationRegistry()
    general = registry.register(OrderPaid)
    special = registry.register(OrderPaid, scope="event-1")
    assert special.scope == "event-1"
    assert registry.types_for("shop.order.paid", "event-1") == [special]
    assert registry.types_for("shop.order.paid", "event-2") == [general]
    assert registry.types_for("shop.order.paid") == [general]
    assert registry.all("event-1") == [special]


def test_duplicates_are_rejected_clearly() -> None:
    registry = NotificationRegistry()
    registry.register(OrderPaid)
    with pytest.raises(ValueError, match=r"'shop.order.paid' is already registered globally"):
        registry.register(OrderPaid())
    registry.register(OrderPaid, scope="e1")
    with pytest.raises(ValueError, match="for scope 'e1'"):
        registry.register(OrderPaid, scope="e1")
    assert registry.unregister(OrderPaid)
    assert not registry.unregister("shop.order.paid")
    registry.register(OrderPaid)


class NoBuild(NotificationType):
    action_type = "shop.order.paid"


class BadPattern(OrderPaid):
    action_type = "Shop Order"


def test_bad_types_are_rejected() -> None:
    registry = NotificationRegistry()
    with pytest.raises(TypeError, match="must override build_notification"):
        registry.register(NoBuild)
    with pytest.raises(ValueError, match="invalid action_type 'Shop Order'"):
        registry.register(BadPattern)
    with pytest.raises(TypeError, match="expected a NotificationType"):
        registry.register(object)  # type: ignore[arg-type]


def test_the_decorator_registers_globally_and_returns_the_class() -> None:
    try:

        @register_notification_type
        class Decorated(NotificationType):
            action_type = "tests.decorated.done"

            def build_notification(self, entry: AuditEntry) -> Notification:
                return Notification("done")

        @register_notification_type(scope="event-9")
        class Scoped(Decorated):
            pass

        assert isinstance(Decorated, type)
        found = types_module.notification_types_for("tests.decorated.done", "event-9")
        assert [type(t) for t in found] == [Scoped]
    finally:
        unregister_notification_type("tests.decorated.done")
        unregister_notification_type("tests.decorated.done", scope="event-9")
    assert types_module.notification_types_for("tests.decorated.done") == []


def test_default_digest_names_the_type() -> None:
    latest = Notification("Order X has been marked as paid", url="https://x", scope="e1")
    digest = OrderPaid().build_digest(37, 300, latest)
    assert digest.title == "37 more: Order has been paid (in the last 5 minutes)"
    assert (digest.url, digest.scope) == ("https://x", "e1")


# -- people --------------------------------------------------------------------------------


def test_user_normalises_and_describes() -> None:
    user = User(7, "a@example.com", permissions=["x"])  # type: ignore[arg-type]
    assert (user.id, user.permissions, str(user)) == ("7", frozenset({"x"}), "a@example.com")
    assert user.has_permission(None)
    assert not user.has_permission("y")


def test_recipients_by_scope() -> None:
    recipients = MemoryRecipients([OWNER])
    recipients.add(CLERK, scopes=["event-1"])
    assert recipients.users("event-1") == [OWNER, CLERK]
    assert recipients.users("event-2") == [OWNER]
    assert recipients.users(None) == [OWNER]


def test_eligible_drops_the_actor_and_the_unpermitted() -> None:
    users = [OWNER, CLERK, INTERN]
    assert list(eligible(users, actor_id=CLERK.id, permission="can_view_orders")) == [OWNER]
    assert list(eligible(users, actor_id=None, permission=None)) == users


@pytest.fixture(params=["memory", "sqlite"])
def preferences(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MemoryPreferences]:
    if request.param == "memory":
        yield MemoryPreferences()
    else:
        stored = SQLitePreferences(tmp_path / "prefs.sqlite3")
        yield stored  # type: ignore[misc]
        stored.close()


def test_preference_rules(preferences: MemoryPreferences) -> None:
    def ask(scope: str | None) -> bool:
        return wants(preferences, "1", "shop.order.paid", "mail", scope)

    assert not ask("e1")  # opt-in: nothing chosen, nothing sent
    preferences.set("1", "shop.order.paid", "mail", True)
    assert ask("e1")
    assert ask(None)
    preferences.set("1", "shop.order.paid", "mail", False, scope="e1")
    assert not ask("e1")  # a disabled scope setting overrides the enabled global one
    assert ask("e2")
    preferences.set("1", "shop.order.paid", "mail", True, scope="e1")
    preferences.set("1", "shop.order.paid", "mail", False)
    assert ask("e1")  # an enabled scope setting overrides the disabled global one
    assert not ask("e2")
    preferences.set_master("1", False)
    assert not ask("e1")
    preferences.set_master("1", True)
    preferences.clear("1", "shop.order.paid", "mail", scope="e1")
    assert not ask("e1")
    assert not wants(preferences, "1", "shop.order.paid", "webhook", "e1")


def test_sqlite_preferences_persist(tmp_path: Path) -> None:
    path = tmp_path / "prefs.sqlite3"
    first = SQLitePreferences(path)
    first.set("1", "shop.*", "webhook", True, scope="")
    first.set_master("2", False)
    first.close()
    again = SQLitePreferences(path)
    assert again.setting("1", "shop.*", "webhook", "") is True
    assert again.setting("1", "shop.*", "webhook", None) is None  # "" is a scope, not global
    assert again.master_enabled("2") is False
    assert again.master_enabled("1") is True
    again.close()


# -- rendering -----------------------------------------------------------------------------


def paid_notification() -> Notification:
    notification = Notification(
        "Order <b>ABC42</b> paid", detail="Paid & done", url="https://shop.example/o/1", scope="e1"
    )
    notification.add_attribute("Order code", "ABC42")
    notification.add_attribute("Total", 12.5)
    notification.add_action("View order", "https://shop.example/o/1")
    notification.add_action("Evil", "javascript:alert(1)")
    return notification


def test_text_body_has_everything() -> None:
    text = render_text(paid_notification(), OrderPaid(), "https://shop.example/settings")
    assert text.splitlines()[:5] == [
        "Order <b>ABC42</b> paid",
        "",
        "Paid & done",
        "",
        "Order code: ABC42",
    ]
    assert "Total: 12.5" in text
    assert "View order: https://shop.example/o/1" in text
    assert "notified of: Order has been paid" in text
    assert "https://shop.example/settings" in text


def test_html_body_escapes_and_links_only_safe_urls() -> None:
    body = render_html(paid_notification(), OrderPaid(), "https://shop.example/settings")
    assert "Order &lt;b&gt;ABC42&lt;/b&gt; paid" in body
    assert "Paid &amp; done" in body
    assert '<th style="text-align: left; padding-right: 1em">Order code</th><td>ABC42</td>' in body
    assert '<a href="https://shop.example/o/1"' in body
    assert 'href="javascript' not in body
    assert "Evil: javascript:alert(1)" in body
    assert '<a href="https://shop.example/settings">' in body


def test_mail_subject_and_parts() -> None:
    method = MailMethod(
        "structlogx.mail.backends.MemoryBackend",
        from_email="Shop <shop@shop.example>",
        subject_prefix="[Shop] ",
        unsubscribe_url="https://shop.example/settings",
    )
    mail.outbox.clear()
    method.send(paid_notification(), OWNER, OrderPaid())
    (message,) = mail.outbox
    assert message["Subject"] == "[Shop] e1: Order <b>ABC42</b> paid"
    assert message["To"] == "Olga Owner <owner@shop.example>"
    assert message["List-Unsubscribe"] == "<https://shop.example/settings>"
    kinds = [part.get_content_type() for part in message.walk()]
    assert kinds == ["multipart/alternative", "text/plain", "text/html"]
    mail.outbox.clear()


def test_mail_defaults_come_from_settings() -> None:
    with sx_settings.override(
        EMAIL_SUBJECT_PREFIX="[X] ",
        DEFAULT_FROM_EMAIL="x@example.com",
        EMAIL_BACKEND="structlogx.mail.backends.MemoryBackend",
    ):
        mail.outbox.clear()
        MailMethod().send(Notification("Hi"), INTERN, OrderPaid())
        (message,) = mail.outbox
    assert (message["Subject"], message["From"]) == ("[X] Hi", "x@example.com")
    mail.outbox.clear()


def test_secrets_are_hidden_before_they_leave() -> None:
    notification = Notification("Card 4111 1111 1111 1111 used")
    notification.add_attribute("Auth", "Bearer abcdef123456")
    text = MailMethod().render(notification, OWNER, OrderPaid())[1]
    assert "4111 1111 1111 1111" not in text
    payload = WebhookMethod("http://127.0.0.1:9/", SECRET).payload(notification, OWNER, OrderPaid())
    assert b"4111 1111" not in payload
    assert b"abcdef123456" not in payload


class Collector(html.parser.HTMLParser):
    """Every start tag and attribute an HTML body really has."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.hrefs: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.hrefs += [value or "" for name, value in attrs if name == "href"]

    def handle_data(self, data: str) -> None:
        self.text.append(data)


ALLOWED_TAGS = {"html", "head", "meta", "body", "h1", "p", "table", "tr", "th", "td", "a", "span"}
nasty = st.text(
    alphabet=st.sampled_from(list("<>&\"'=/ \r\n\t\u2028\x85abc:é😀;")) | st.characters(),
    max_size=40,
)


@settings(max_examples=150, deadline=None)
@given(
    title=nasty,
    detail=st.none() | nasty,
    url=st.none() | nasty,
    attributes=st.lists(st.tuples(nasty, nasty), max_size=3),
    actions=st.lists(st.tuples(nasty, nasty), max_size=2),
)
def test_rendering_never_injects_html_or_headers(
    title: str,
    detail: str | None,
    url: str | None,
    attributes: list[tuple[str, str]],
    actions: list[tuple[str, str]],
) -> None:
    notification = Notification(title, detail=detail, url=url, scope=title[:5] or None)
    for pair in attributes:
        notification.add_attribute(*pair)
    for pair in actions:
        notification.add_action(*pair)
    mail.outbox.clear()
    MailMethod("structlogx.mail.backends.MemoryBackend", subject_prefix="[S] ").send(
        notification, OWNER, OrderPaid()
    )
    (message,) = mail.outbox
    mail.outbox.clear()
    wire = bytes(message)
    head = wire.split(b"\n\n", 1)[0]
    names = [
        line.split(b":", 1)[0] for line in head.splitlines() if line and not line[:1].isspace()
    ]
    assert sorted(names) == sorted(
        [b"Subject", b"From", b"To", b"Date", b"Message-ID", b"MIME-Version", b"Content-Type"]
    )
    parsed = email.message_from_bytes(wire, policy=email.policy.default)
    html_part = parsed.get_body(("html",))
    assert html_part is not None
    body = html_part.get_content()
    collector = Collector()
    collector.feed(body)
    assert set(collector.tags) <= ALLOWED_TAGS
    assert all(href.startswith(("http", "mailto")) for href in collector.hrefs)
    shown = "".join(collector.text)  # the parser unescapes: each text comes back as given
    for text in [title, *(v for pair in attributes for v in pair)]:
        if text.strip() and text == storable(text):
            assert text in shown


# -- webhooks ------------------------------------------------------------------------------


def test_webhook_posts_signed_json() -> None:
    with running_webhook_server() as server:
        method = WebhookMethod(server.url, SECRET, timeout_s=2)
        method.send(paid_notification(), OWNER, OrderPaid())
        (call,) = server.wait_for(1)
    assert call.signature_ok
    assert call.signature == sign(call.body, SECRET)
    data = json.loads(call.body)
    assert data["type"] == {"action_type": "shop.order.paid", "verbose_name": "Order has been paid"}
    assert data["recipient"]["id"] == OWNER.id
    assert data["notification"]["attributes"][0] == {"title": "Order code", "value": "ABC42"}


@pytest.mark.parametrize("status", [500, 301, 404])
def test_webhook_non_2xx_is_a_failure(status: int) -> None:
    with running_webhook_server() as server:
        server.statuses.append(status)
        with pytest.raises(OSError):
            WebhookMethod(server.url, SECRET).send(Notification("x"), OWNER, OrderPaid())
        assert server.calls == []


@pytest.mark.parametrize(
    ("url", "secret", "timeout"),
    [("ftp://x/", "k", 1), ("http://x/", "", 1), ("http://x/", "k", 0)],
)
def test_webhook_options_are_checked(url: str, secret: str, timeout: float) -> None:
    with pytest.raises(ValueError):
        WebhookMethod(url, secret, timeout)
