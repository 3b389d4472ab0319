"""The audit trail's tables, and ``LoggedModel`` for the application's own models.

``LogEntry`` has the fields and indexes of every structlogx store (see
:class:`~structlogx.records.AuditEntry`); ``ChainHead`` is one row holding the hash chain's
head (the newest entry) and anchor (the last entry pruned). Entries are written by
:class:`~structlogx.contrib.django.store.DjangoStore`, never saved directly.
"""

from __future__ import annotations

from typing import Any

from django.db import models

from structlogx.records import AuditEntry, LoggedObject

__all__ = ["ChainHead", "LogEntry", "LoggedModel"]


class LogEntry(models.Model):  # type: ignore[misc]
    """One audit entry; ids are assigned by the store, in commit order."""

    id = models.BigIntegerField(primary_key=True)
    timestamp = models.DateTimeField()
    action = models.CharField(max_length=255)
    level = models.TextField()
    logger = models.TextField()
    message = models.TextField()
    actor_type = models.TextField(null=True)
    actor_id = models.CharField(max_length=255, null=True)
    actor_text = models.TextField(null=True)
    object_type = models.CharField(max_length=255, null=True)
    object_id = models.CharField(max_length=255, null=True)
    object_text = models.TextField(null=True)
    scope = models.CharField(max_length=255, null=True)
    data = models.JSONField(default=dict)
    context = models.JSONField(default=dict)
    visible = models.BooleanField(default=True)
    shredded = models.BooleanField(default=False)
    seed = models.TextField(null=True)
    shred = models.JSONField(null=True)
    prev_hash = models.TextField(null=True)
    hash = models.TextField(null=True)

    class Meta:
        app_label = "structlogx"
        verbose_name = "log entry"
        verbose_name_plural = "log entries"
        ordering = ("-id",)
        indexes = [  # noqa: RUF012 - read by Django
            models.Index(fields=["object_type", "object_id", "id"], name="structlogx_object"),
            models.Index(fields=["action", "id"], name="structlogx_action"),
            models.Index(fields=["actor_id", "id"], name="structlogx_actor"),
            models.Index(fields=["scope", "id"], name="structlogx_scope"),
            models.Index(fields=["timestamp", "id"], name="structlogx_time"),
        ]

    def __str__(self) -> str:
        return f"#{self.id} {self.action}"

    def to_entry(self) -> AuditEntry:
        """Return this row as an :class:`~structlogx.records.AuditEntry`."""
        from structlogx.contrib.django.store import to_entry

        return to_entry(self)


class ChainHead(models.Model):  # type: ignore[misc]
    """The single row (``pk=1``) with the chain's head and anchor; locked by each write."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    head_id = models.BigIntegerField(default=0)
    head_hash = models.TextField(null=True)
    anchor_id = models.BigIntegerField(null=True)
    anchor_hash = models.TextField(null=True)

    class Meta:
        app_label = "structlogx"

    def __str__(self) -> str:
        return f"head {self.head_id}, anchor {self.anchor_id}"


class LoggedModel(LoggedObject, models.Model):  # type: ignore[misc]
    """Abstract model with pretix's ``log_action(action, user=None, data=None)`` and
    ``all_logentries()``.

    Records go to ``logging.getLogger(<the model's module>)``; an
    :class:`~structlogx.handlers.AuditHandler` with a
    :class:`~structlogx.contrib.django.store.DjangoStore` writes them in the current
    transaction. :meth:`all_logentries` reads the model's own database.
    """

    class Meta:
        abstract = True

    def all_logentries(self, **filters: Any) -> list[AuditEntry]:
        """Return this object's entries, newest first (*filters* as for ``Store.query``)."""
        from structlogx.contrib.django.store import DjangoStore

        return DjangoStore(using=self._state.db or "default").query(object=self, **filters)
