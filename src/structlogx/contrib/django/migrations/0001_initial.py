"""Create the audit trail's tables: ``LogEntry`` and the one-row ``ChainHead``."""

from __future__ import annotations

from typing import Any

from django.db import migrations, models


class Migration(migrations.Migration):  # type: ignore[misc]
    """The initial schema (the columns and indexes of every structlogx store)."""

    initial = True

    dependencies: list[Any] = []  # noqa: RUF012 - read by Django

    operations = [  # noqa: RUF012 - read by Django
        migrations.CreateModel(
            name="ChainHead",
            fields=[
                (
                    "id",
                    models.PositiveSmallIntegerField(default=1, primary_key=True, serialize=False),
                ),
                ("head_id", models.BigIntegerField(default=0)),
                ("head_hash", models.TextField(null=True)),
                ("anchor_id", models.BigIntegerField(null=True)),
                ("anchor_hash", models.TextField(null=True)),
            ],
        ),
        migrations.CreateModel(
            name="LogEntry",
            fields=[
                ("id", models.BigIntegerField(primary_key=True, serialize=False)),
                ("timestamp", models.DateTimeField()),
                ("action", models.CharField(max_length=255)),
                ("level", models.TextField()),
                ("logger", models.TextField()),
                ("message", models.TextField()),
                ("actor_type", models.TextField(null=True)),
                ("actor_id", models.CharField(max_length=255, null=True)),
                ("actor_text", models.TextField(null=True)),
                ("object_type", models.CharField(max_length=255, null=True)),
                ("object_id", models.CharField(max_length=255, null=True)),
                ("object_text", models.TextField(null=True)),
                ("scope", models.CharField(max_length=255, null=True)),
                ("data", models.JSONField(default=dict)),
                ("context", models.JSONField(default=dict)),
                ("visible", models.BooleanField(default=True)),
                ("shredded", models.BooleanField(default=False)),
                ("seed", models.TextField(null=True)),
                ("shred", models.JSONField(null=True)),
                ("prev_hash", models.TextField(null=True)),
                ("hash", models.TextField(null=True)),
            ],
            options={
                "verbose_name": "log entry",
                "verbose_name_plural": "log entries",
                "ordering": ("-id",),
                "indexes": [
                    models.Index(
                        fields=["object_type", "object_id", "id"], name="structlogx_object"
                    ),
                    models.Index(fields=["action", "id"], name="structlogx_action"),
                    models.Index(fields=["actor_id", "id"], name="structlogx_actor"),
                    models.Index(fields=["scope", "id"], name="structlogx_scope"),
                    models.Index(fields=["timestamp", "id"], name="structlogx_time"),
                ],
            },
        ),
    ]
