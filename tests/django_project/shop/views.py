"""Views that succeed, fail, and fail after a change."""

from __future__ import annotations

import logging

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from shop.models import Order

logger = logging.getLogger(__name__)


def boom(request: HttpRequest) -> HttpResponse:
    """Fail with an uncaught exception."""
    raise RuntimeError("boom in a view")


def odd(request: HttpRequest) -> HttpResponse:
    """Log an error from application code and answer normally."""
    logger.error("something odd happened")
    return HttpResponse("ok")


def pay(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark the order paid and log it, in one transaction."""
    with transaction.atomic():
        order = get_object_or_404(Order.objects.select_for_update(), pk=pk)
        order.status = "paid"
        order.save()
        order.log_action("shop.order.paid", user="alice", data={"status": "paid"})
    return HttpResponse("paid")


def cancel_and_fail(request: HttpRequest, pk: int) -> HttpResponse:
    """Cancel the order and log it, then fail inside the same transaction."""
    with transaction.atomic():
        order = get_object_or_404(Order.objects.select_for_update(), pk=pk)
        order.status = "canceled"
        order.save()
        order.log_action("shop.order.canceled", user="alice", data={"status": "canceled"})
        raise RuntimeError("failed after the change")


def logs(request: HttpRequest, pk: int) -> HttpResponse:
    """Show the order's log entries through the structlogx include."""
    return render(request, "shop/order_logs.html", {"order": get_object_or_404(Order, pk=pk)})
