"""A plain script: logging configured from ``logging.toml``, JSON lines, an audit trail.

Run it with ``python app.py``; it writes ``audit.sqlite3`` in the working directory.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from pathlib import Path

import structlogx
from structlogx import display
from structlogx.audit import open_store
from structlogx.dictconfig import configure, load_config

HERE = Path(__file__).resolve().parent

display.register("shop.order.placed", "The order was placed ({data[total]} EUR).")
display.register("shop.order.paid", "The order has been marked as paid.")

logger = logging.getLogger("shop")


class Order(structlogx.LoggedObject):
    """An order; ``log_action`` describes it by type, id and text."""

    def __init__(self, pk: int, code: str) -> None:
        self.pk = pk
        self.code = code

    def __str__(self) -> str:
        return f"Order {self.code}"


def main() -> None:
    """Configure logging, log a technical and two audit records, print the trail."""
    configure(load_config(HERE / "logging.toml"))

    logger.warning("Payment provider slow: %.1fs", 2.4)
    order = Order(1042, "ABC42")
    with structlogx.bind(request_id="script-1"):
        structlogx.log_action(
            logger,
            "shop.order.placed",
            user="alice",
            object=order,
            data={"total": Decimal("12.50")},
        )
        structlogx.log_action(logger, "shop.order.paid", user="alice", object=order)

    store = open_store("sqlite:///audit.sqlite3")
    try:
        print("Audit trail (audit.sqlite3), oldest first:")
        for entry in reversed(store.query(object=order)):
            print(f"  #{entry.id} {entry.actor_text}: {display.display(entry)}")
        print(f"Hash chain: {store.verify()}")
    finally:
        store.close()


if __name__ == "__main__":
    main()
