"""An order that logs its changes with ``log_action``."""

from __future__ import annotations

from django.db import models

from structlogx.contrib.django.models import LoggedModel


class Order(LoggedModel):
    """An order of the example shop."""

    code = models.CharField(max_length=20)
    total = models.DecimalField(max_digits=10, decimal_places=2)
    status = models.CharField(max_length=20, default="pending")

    def __str__(self) -> str:
        return f"Order {self.code}"
