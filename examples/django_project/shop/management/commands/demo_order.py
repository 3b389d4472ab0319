"""``python manage.py demo_order``: an order's life in the audit trail, without a server."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.test import Client

from shop.models import Order
from structlogx.contrib.django.store import DjangoStore


class Command(BaseCommand):
    """Create an order, log its actions, print its history and check the hash chain."""

    help = __doc__

    def handle(self, *args: Any, **options: Any) -> None:
        """Run the demo; fail when the chain does not verify."""
        with transaction.atomic():  # the change and its entry commit together
            order = Order.objects.create(code="ABC42", total=Decimal("12.50"))
            order.log_action("shop.order.placed", user="bob", data={"total": order.total})

        # Requests through the whole middleware stack, as runserver would handle them.
        client = Client(raise_request_exception=False)
        paid = client.get(f"/orders/{order.pk}/pay/", HTTP_X_REQUEST_ID="demo-pay-1")
        failed = client.get("/boom/")
        page = client.get(f"/orders/{order.pk}/").content.decode()
        self.stdout.write(f"GET /orders/{order.pk}/pay/ -> {paid.status_code}")
        self.stdout.write(f"GET /boom/ -> {failed.status_code}")

        self.stdout.write(f"\n{order}: order.all_logentries(), newest first:")
        for entry in order.all_logentries():
            request_id = entry.context.get("request_id", "-")
            self.stdout.write(
                f"  #{entry.id} {entry.timestamp:%Y-%m-%d %H:%M:%S} {entry.actor_text}:"
                f" {entry.display()}  (request {request_id})"
            )
        rendered = page.count('class="structlogx-log"')
        self.stdout.write(f"\nstructlogx/logs.html rendered {rendered} entries on the order page")

        mails = sorted(Path(settings.EMAIL_FILE_PATH).glob("*.log"))
        self.stdout.write(f"Admin mails in {settings.EMAIL_FILE_PATH}: {len(mails)}")

        report = DjangoStore().verify()
        self.stdout.write(f"Hash chain: {report}")
        if not report.ok:
            raise CommandError("the audit trail does not verify")
