"""The ``structlogx demo`` scenario: one shop, technical and business records, two outputs.

Later features (audit store, admin mail, notifications) extend this scenario; it stays
offline and finishes in seconds.
"""

from __future__ import annotations

import dataclasses
import logging
import logging.config
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

from structlogx import context, display
from structlogx.records import LoggedObject, changed_data

__all__ = ["run"]


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


def logging_config(directory: Path, stream: TextIO) -> dict[str, Any]:
    """Return the demo's ``LOGGING`` dict: human text on *stream*, JSON lines in a file."""
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
        },
        "loggers": {
            __name__: {"handlers": ["console", "jsonl"], "level": "INFO", "propagate": False}
        },
    }


def run(directory: Path, stream: TextIO = sys.stdout) -> dict[str, Path]:
    """Run the demo, writing into *directory*; return the files it wrote, by role."""
    directory.mkdir(parents=True, exist_ok=True)
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
    finally:
        for handler in logging.getLogger(__name__).handlers:
            handler.flush()
    return {"json lines": directory / "demo.jsonl"}
