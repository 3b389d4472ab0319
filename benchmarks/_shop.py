"""The application objects of the benchmark records, shared by the benchmark scripts."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

ACTION = "shop.order.canceled"


class User:
    """A small stand-in for an ORM user."""

    def __init__(self, pk: int, username: str) -> None:
        self.pk = pk
        self.id = pk
        self.username = username

    def __str__(self) -> str:
        return self.username


class Order:
    """A small stand-in for an ORM order."""

    def __init__(self, pk: int, code: str) -> None:
        self.pk = pk
        self.code = code

    def __str__(self) -> str:
        return f"Order {self.code}"


def action_extra() -> dict[str, Any]:
    """Return the ``extra`` of the action record (built once, reused by every call)."""
    return {
        "action": ACTION,
        "user": User(7, "alice"),
        "object": Order(42, "ABC42"),
        "data": {"amount": Decimal("12.50"), "reason": "customer request", "items": 3},
    }
