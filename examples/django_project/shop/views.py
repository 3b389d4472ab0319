"""Show an order with its history, pay it, fail."""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from shop.models import Order


def detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The order and its log entries, through ``structlogx/logs.html``."""
    return render(request, "shop/order_detail.html", {"order": get_object_or_404(Order, pk=pk)})


def pay(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark the order paid and log it, in one transaction."""
    with transaction.atomic():
        order = get_object_or_404(Order.objects.select_for_update(), pk=pk)
        order.status = "paid"
        order.save()
        order.log_action("shop.order.paid", user="alice", data={"provider": "demo-pay"})
    return HttpResponse("paid")


def boom(request: HttpRequest) -> HttpResponse:
    """Fail: Django answers 500 and mails the admins the report, with the request."""
    raise RuntimeError("boom in a Django view")
