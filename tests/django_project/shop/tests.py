"""The Django integration, tested through the real request cycle and Django's test runner."""

from __future__ import annotations

import datetime as _dt
import io
import logging
import threading
import time
from unittest import skipUnless

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections, transaction
from django.template.loader import render_to_string
from django.test import Client, TestCase, TransactionTestCase, override_settings

from shop.models import Order
from structlogx import display
from structlogx.conf import settings as structlogx_settings
from structlogx.contrib.django.mail import DjangoEmailBackend
from structlogx.contrib.django.models import ChainHead, LogEntry
from structlogx.contrib.django.store import DjangoStore
from structlogx.mail import build_message


def _client() -> Client:
    return Client(raise_request_exception=False)


class ErrorMailTests(TestCase):
    def test_an_uncaught_exception_mails_the_admins_once_with_the_request(self) -> None:
        response = _client().get("/boom/?q=1", HTTP_USER_AGENT="tests")
        assert response.status_code == 500
        assert len(mail.outbox) == 1
        message = mail.outbox[0]
        assert "ERROR (EXTERNAL IP): Internal Server Error: /boom/" in message.subject
        assert message.to == ["Ops <ops@example.com>"]
        assert message.from_email == "errors@example.com"
        assert "RuntimeError" in message.body
        assert "boom in a view" in message.body
        assert "/boom/" in message.body
        assert "tests" in message.body  # the request's headers

    @override_settings(ADMINS=[("Ops", "ops@example.com"), "dev@example.com"])
    def test_every_admin_gets_it(self) -> None:
        _client().get("/boom/")
        assert len(mail.outbox) == 1
        assert mail.outbox[0].to == ["Ops <ops@example.com>", "dev@example.com"]

    @override_settings(INTERNAL_IPS=["127.0.0.1"])
    def test_an_internal_client_is_named_so(self) -> None:
        _client().get("/boom/")
        assert len(mail.outbox) == 1
        assert "ERROR (internal IP): " in mail.outbox[0].subject

    def test_an_error_logged_by_the_application_gets_the_request(self) -> None:
        response = _client().get("/odd/")
        assert response.status_code == 200
        assert len(mail.outbox) == 1
        assert "ERROR (EXTERNAL IP): something odd happened" in mail.outbox[0].subject
        assert "/odd/" in mail.outbox[0].body


class SettingsBridgeTests(TestCase):
    def test_django_settings_are_read(self) -> None:
        assert structlogx_settings.ADMINS == [("Ops", "ops@example.com")]
        assert structlogx_settings.SERVER_EMAIL == "errors@example.com"
        assert not structlogx_settings.DEBUG

    @override_settings(
        ADMINS=["a@example.com", ("B", "b@example.com")],
        INTERNAL_IPS=("10.0.0.1",),
        EMAIL_HOST="smtp.example.com",
        EMAIL_PORT=2525,
        DEBUG=True,
    )
    def test_plain_addresses_pairs_and_email_settings(self) -> None:
        assert structlogx_settings.ADMINS == ["a@example.com", ("B", "b@example.com")]
        assert structlogx_settings.INTERNAL_IPS == ["10.0.0.1"]
        assert structlogx_settings.EMAIL_HOST == "smtp.example.com"
        assert structlogx_settings.EMAIL_PORT == 2525
        assert structlogx_settings.DEBUG

    @override_settings(STRUCTLOGX_AUDIT_STORE="memory://x")
    def test_structlogx_prefixed_settings_win(self) -> None:
        assert structlogx_settings.AUDIT_STORE == "memory://x"

    def test_djangos_email_backend_is_not_taken_for_structlogx(self) -> None:
        assert structlogx_settings.EMAIL_BACKEND == "structlogx.mail.backends.SMTPBackend"


class TransactionTests(TransactionTestCase):
    def setUp(self) -> None:
        self.order = Order.objects.create(code="A1")

    def test_a_change_rolled_back_leaves_no_entry(self) -> None:
        response = _client().get(f"/orders/{self.order.pk}/cancel-and-fail/")
        assert response.status_code == 500
        assert Order.objects.get(pk=self.order.pk).status == "pending"
        assert LogEntry.objects.count() == 0
        assert DjangoStore().verify().ok

    def test_a_committed_change_leaves_a_chained_entry(self) -> None:
        assert _client().get(f"/orders/{self.order.pk}/pay/").status_code == 200
        assert _client().get(f"/orders/{self.order.pk}/pay/").status_code == 200
        entries = self.order.all_logentries()
        assert [entry.action for entry in entries] == ["shop.order.paid"] * 2
        newest = entries[0]
        assert ("shop.Order", str(self.order.pk)) == (newest.object_type, newest.object_id)
        assert newest.actor_text == "alice"
        assert newest.data == {"status": "paid"}
        assert {"request_id", "client", "method", "path"} == set(newest.context)
        assert f"/orders/{self.order.pk}/pay/" == newest.context["path"]
        assert entries[1].hash == newest.prev_hash
        report = DjangoStore().verify()
        assert report.ok, str(report)
        assert report.checked == 2
        assert (2, newest.hash) == (ChainHead.objects.get().head_id, newest.hash)

    def test_the_verify_command(self) -> None:
        self.order.log_action("shop.order.paid")
        out = io.StringIO()
        call_command("structlogx_verify", stdout=out)
        assert "OK" in out.getvalue()
        LogEntry.objects.update(message="forged")
        with pytest.raises(CommandError):
            call_command("structlogx_verify", stdout=io.StringIO())


class NotificationAfterCommitTests(TransactionTestCase):
    """The ``notify`` handler in LOGGING defers with ``transaction.on_commit``."""

    def setUp(self) -> None:
        self.order = Order.objects.create(code="N1")

    def test_a_successful_change_notifies_once_after_commit(self) -> None:
        with transaction.atomic():
            self.order.status = "paid"
            self.order.save()
            self.order.log_action("shop.order.paid", user="alice", data={"status": "paid"})
            assert LogEntry.objects.count() == 1  # the entry is in the transaction...
            assert mail.outbox == []  # ...the notification waits for the commit
        assert LogEntry.objects.count() == 1
        [message] = mail.outbox
        assert message.to == ["Olga <owner@example.com>"]
        assert message.from_email == "shop@example.com"
        assert message.subject == "[Shop] Order N1 has been marked as paid"
        assert "Order N1 has been marked as paid" in message.body

    def test_a_rolled_back_change_notifies_nobody(self) -> None:
        def pay_then_fail() -> None:
            with transaction.atomic():
                self.order.status = "paid"
                self.order.save()
                self.order.log_action("shop.order.paid", user="alice")
                raise RuntimeError("failed after the change")

        with pytest.raises(RuntimeError):
            pay_then_fail()
        assert Order.objects.get(pk=self.order.pk).status == "pending"
        assert LogEntry.objects.count() == 0
        assert mail.outbox == []

    def test_the_pay_view_notifies_once(self) -> None:
        assert _client().get(f"/orders/{self.order.pk}/pay/").status_code == 200
        assert [m.subject for m in mail.outbox] == ["[Shop] Order N1 has been marked as paid"]
        assert LogEntry.objects.get().action == "shop.order.paid"


@skipUnless(connection.vendor == "postgresql", "row locks are real on PostgreSQL only")
class ConcurrentWritersTests(TransactionTestCase):
    """Threads with connections and transactions of their own log at once: the chain head's
    row lock makes them take turns, so the trail is one unbroken chain."""

    def test_threads_in_their_own_transactions_make_one_chain(self) -> None:
        order = Order.objects.create(code="T1")
        threads, per_thread = 6, 15
        start = threading.Barrier(threads)
        failures: list[BaseException] = []

        def write(number: int) -> None:
            try:
                start.wait()
                for step in range(per_thread):
                    with transaction.atomic():
                        order.log_action("shop.order.noted", data={"thread": number, "step": step})
                        time.sleep(0.001)  # hold the head's lock: the others must wait for it
            except BaseException as exc:  # reported below, in the test's thread
                failures.append(exc)
            finally:
                connections.close_all()  # this thread's connection

        workers = [threading.Thread(target=write, args=(n,)) for n in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(60)
        assert failures == []
        entries = DjangoStore().query(visible=None, limit=None)
        total = threads * per_thread
        assert sorted(entry.id or 0 for entry in entries) == list(range(1, total + 1))
        assert {(e.data["thread"], e.data["step"]) for e in entries} == {
            (n, step) for n in range(threads) for step in range(per_thread)
        }
        report = DjangoStore().verify()
        assert report.ok, str(report)
        assert report.checked == total


class LoggedModelTests(TestCase):
    def test_log_action_then_all_logentries(self) -> None:
        order = Order.objects.create(code="B2")
        other = Order.objects.create(code="C3")
        user = User.objects.create(username="bob")
        order.log_action("shop.order.canceled", user=user, data={"reason": "asked"})
        other.log_action("shop.order.paid")
        entries = order.all_logentries()
        assert len(entries) == 1
        assert entries[0].action == "shop.order.canceled"
        assert ("auth.User", str(user.pk), "bob") == (
            entries[0].actor_type,
            entries[0].actor_id,
            entries[0].actor_text,
        )
        assert entries[0].object_text == "Order B2"
        assert entries[0].data == {"reason": "asked"}
        assert DjangoStore().count() == 2
        assert DjangoStore().count(action="shop.order.*", object=other) == 1

    def test_query_get_and_filters(self) -> None:
        order = Order.objects.create(code="D4")
        order.log_action("shop.order.paid")
        order.log_action("shop.order.noted", visible=False)
        store = DjangoStore()
        [visible] = store.query(object=order)
        assert visible.action == "shop.order.paid"
        assert len(store.query(object=order, visible=None)) == 2
        assert visible == store.get(visible.id or 0)
        assert store.get(999) is None
        later = _dt.datetime.now(_dt.timezone.utc) + _dt.timedelta(minutes=1)
        assert store.query(since=later) == []
        assert len(store.query(until=later)) == 1
        assert store.query(after=visible.id) == []

    def test_an_entry_outside_a_transaction_is_written_at_once(self) -> None:
        logging.getLogger("shop").info("x", extra={"action": "shop.order.noted"})
        assert LogEntry.objects.count() == 1


class ShredAndPruneTests(TestCase):
    def test_shred_keeps_the_chain(self) -> None:
        order = Order.objects.create(code="E5")
        order.log_action("shop.order.paid", user="carol", data={"email": "c@example.com"})
        store = DjangoStore()
        report = store.shred(actor="carol", reason="erasure request")
        assert report.entries == 1
        [entry] = store.query(object=order)
        assert entry.shredded
        assert "c@example.com" not in str(entry.to_dict())
        assert store.query()[0].action == "structlogx.audit.shredded"
        assert store.verify().ok, str(store.verify())

    def test_prune_leaves_an_anchor(self) -> None:
        order = Order.objects.create(code="F6")
        order.log_action("shop.order.paid")
        order.log_action("shop.order.paid")
        store = DjangoStore()
        later = _dt.datetime.now(_dt.timezone.utc) + _dt.timedelta(seconds=1)
        assert store.prune(later, dry_run=True).entries == 2
        report = store.prune(later)
        assert (report.entries, report.anchor_id) == (2, 2)
        assert [e.action for e in store.query()] == ["structlogx.audit.pruned"]
        verified = store.verify()
        assert verified.ok, str(verified)


class TemplateAndAdminTests(TestCase):
    def setUp(self) -> None:
        display.register("shop.order.noted", "Note: {data[note]}")
        self.addCleanup(display.unregister, "shop.order.noted")

    def test_the_include_renders_escaped_entries(self) -> None:
        order = Order.objects.create(code="G7")
        order.log_action(
            "shop.order.noted", user="<b>mallory</b>", data={"note": "<script>alert(1)</script>"}
        )
        html = _client().get(f"/orders/{order.pk}/logs/").content.decode()
        assert "Note: &lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "&lt;b&gt;mallory&lt;/b&gt;" in html
        assert "<script>" not in html
        assert "<b>mallory" not in html

    def test_no_entries(self) -> None:
        order = Order.objects.create(code="H8")
        html = render_to_string("structlogx/logs.html", {"obj": order})
        assert "No log entries." in html

    def test_the_admin_is_read_only(self) -> None:
        Order.objects.create(code="I9").log_action("shop.order.paid")
        admin = User.objects.create_superuser("root", "root@example.com", "pw")
        client = Client()
        client.force_login(admin)
        entry = LogEntry.objects.get()
        assert client.get("/admin/structlogx/logentry/").status_code == 200
        change = f"/admin/structlogx/logentry/{entry.pk}/change/"
        assert client.get(change).status_code == 200
        assert client.get("/admin/structlogx/logentry/add/").status_code == 403
        client.post(change, {"action": "x.y"})
        assert LogEntry.objects.get().action == "shop.order.paid"


class DjangoEmailBackendTests(TestCase):
    def test_text_html_and_addresses_reach_djangos_backend(self) -> None:
        message = build_message(
            "Hi", "text body", from_email="a@example.com", to=["b@example.com"], html="<p>x</p>"
        )
        assert DjangoEmailBackend().send_messages([message]) == 1
        [sent] = mail.outbox
        assert (sent.subject, sent.body, sent.from_email) == ("Hi", "text body\n", "a@example.com")
        assert sent.to == ["b@example.com"]
        assert sent.alternatives[0][1] == "text/html"
        assert "<p>x</p>" in sent.alternatives[0][0]


class MiddlewareTests(TestCase):
    def test_the_logged_in_user_is_bound(self) -> None:
        order = Order.objects.create(code="J1")
        client = Client()
        client.force_login(User.objects.create(username="dora"))
        client.get(f"/orders/{order.pk}/pay/")
        [entry] = order.all_logentries()
        assert entry.context["user_id"] == str(User.objects.get().pk)
        assert entry.context["client"] == "127.0.0.1"

    def test_request_id_header(self) -> None:
        response = _client().get("/odd/", HTTP_X_REQUEST_ID="abc-123")
        assert response["X-Request-ID"] == "abc-123"
        response = _client().get("/odd/", HTTP_X_REQUEST_ID="bad\nid")
        assert response["X-Request-ID"] != "bad\nid"
        assert len(response["X-Request-ID"]) == 32
