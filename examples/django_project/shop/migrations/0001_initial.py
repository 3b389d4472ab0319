"""Create the shop's ``Order``."""

from __future__ import annotations

from typing import Any

from django.db import migrations, models

import structlogx.records


class Migration(migrations.Migration):
    """The initial schema."""

    initial = True

    dependencies: list[Any] = []  # noqa: RUF012 - read by Django

    operations = [  # noqa: RUF012 - read by Django
        migrations.CreateModel(
            name="Order",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("code", models.CharField(max_length=20)),
                ("total", models.DecimalField(decimal_places=2, max_digits=10)),
                ("status", models.CharField(default="pending", max_length=20)),
            ],
            options={"abstract": False},
            bases=(structlogx.records.LoggedObject, models.Model),
        ),
    ]
