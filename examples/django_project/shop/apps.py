"""The shop app: registers the display texts of its actions."""

from __future__ import annotations

from django.apps import AppConfig


class ShopConfig(AppConfig):
    """The example shop."""

    name = "shop"

    def ready(self) -> None:
        """Give the shop's actions their human texts."""
        from structlogx import display

        display.register("shop.order.placed", "The order was placed ({data[total]} EUR).")
        display.register("shop.order.paid", "The order has been marked as paid.")
