"""Shared pieces of the notification tests: a local webhook server, users, example types.

The webhook server is ``http.server`` on 127.0.0.1 in a thread; it checks each request's
``X-Structlogx-Signature`` against the body and keeps what it received. ``status`` makes it
answer something else than 204 (to test retries).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import hmac
import http.server
import json
import threading
from collections.abc import Iterator
from typing import Any

from structlogx.notifications import (
    SIGNATURE_HEADER,
    Notification,
    NotificationType,
    User,
)
from structlogx.records import AuditEntry

SECRET = "s3cret-webhook-key"


@dataclasses.dataclass
class Call:
    """One request the webhook server received."""

    body: bytes
    signature: str
    signature_ok: bool

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclasses.dataclass
class WebhookServer:
    url: str
    calls: list[Call] = dataclasses.field(default_factory=list)
    statuses: list[int] = dataclasses.field(default_factory=list)  # answered in order, then 204
    _arrived: threading.Condition = dataclasses.field(default_factory=threading.Condition)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Call]:
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(self.calls) >= count, timeout):
                raise AssertionError(f"{len(self.calls)} of {count} webhook calls in {timeout} s")
            return list(self.calls)


@contextlib.contextmanager
def running_webhook_server(secret: str = SECRET) -> Iterator[WebhookServer]:
    state = WebhookServer("")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            signature = self.headers.get(SIGNATURE_HEADER, "")
            expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
            with state._arrived:
                status = state.statuses.pop(0) if state.statuses else 204
                if 200 <= status < 300:
                    state.calls.append(
                        Call(body, signature, hmac.compare_digest(signature, expected))
                    )
                    state._arrived.notify_all()
            self.send_response(status)
            if 300 <= status < 400:
                self.send_header("Location", "/elsewhere")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


OWNER = User("1", "owner@shop.example", "Olga Owner", permissions={"can_view_orders"})
CLERK = User("2", "clerk@shop.example", "Carl Clerk", permissions={"can_view_orders"})
INTERN = User("3", "intern@shop.example", "Ida Intern")  # no permission


class OrderPaid(NotificationType):
    action_type = "shop.order.paid"
    verbose_name = "Order has been paid"
    required_permission = "can_view_orders"

    def build_notification(self, entry: AuditEntry) -> Notification:
        code = entry.data.get("code", entry.object_id)
        url = f"https://shop.example/orders/{code}"
        notification = Notification(f"Order {code} has been marked as paid", url=url)
        notification.add_attribute("Order code", code)
        notification.add_action("View order details", url)
        return notification


class AnyOrder(NotificationType):
    action_type = "shop.order.*"
    verbose_name = "Anything about orders"
    required_permission = "can_view_orders"

    def build_notification(self, entry: AuditEntry) -> Notification:
        return Notification(f"Order event: {entry.action}")
