"""A read-only admin for the audit trail: entries can be browsed, never added or changed."""

from __future__ import annotations

from typing import Any

from django.contrib import admin

from structlogx.contrib.django.models import LogEntry

__all__ = ["LogEntryAdmin"]


@admin.register(LogEntry)
class LogEntryAdmin(admin.ModelAdmin):  # type: ignore[misc]
    """List, search and show entries; adding, changing and deleting are refused."""

    list_display = ("id", "timestamp", "action", "actor_text", "object_text", "message")
    list_filter = ("action", "level", "visible")
    search_fields = ("action", "object_type", "object_id", "actor_id", "message")
    date_hierarchy = "timestamp"
    ordering = ("-id",)

    def get_readonly_fields(self, request: Any, obj: Any = None) -> Any:
        """Every field is read-only."""
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        """Entries are written by the audit handler only."""
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        """Entries are never changed (the hash chain would break)."""
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        """Entries leave only through ``prune`` (which keeps the chain verifiable)."""
        return False
