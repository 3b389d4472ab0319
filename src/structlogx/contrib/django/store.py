"""``DjangoStore``: the audit trail in the application's own database, through the ORM.

The store is *transaction-bound* (``transaction_bound = True``): an
:class:`~structlogx.handlers.AuditHandler` writes each entry in the logging thread, inside
the current transaction of the Django connection (``transaction.atomic(savepoint=True)``
nested in it). An entry logged inside ``transaction.atomic()`` therefore commits or rolls
back with the business change, as pretix's log entries do; one logged outside any
transaction commits at once.

Entries are chained as in every structlogx store (see :mod:`structlogx.audit.chain`). Each
write locks the single ``ChainHead`` row (``select_for_update()``), reads the head, assigns the
next ids and stores the new head, so concurrent transactions chain one after another. (SQLite
ignores ``select_for_update()``, but lets one transaction write at a time.)

Use it in ``LOGGING``::

    "audit": {"class": "structlogx.handlers.AuditHandler",
              "store": "ext://structlogx.contrib.django.store.default_store"}

This module imports Django only when a method runs, so ``LOGGING`` can name it before the
apps are loaded.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Sequence
from typing import Any

from structlogx.audit import chain
from structlogx.audit.store import Query, as_utc
from structlogx.records import AuditEntry

__all__ = ["DjangoStore", "default_store", "to_entry"]

_BATCH = 500


def _db_time(value: _dt.datetime) -> _dt.datetime:
    """*value* as the database keeps it: aware UTC, or naive UTC when ``USE_TZ`` is off."""
    from django.conf import settings

    utc = as_utc(value)
    return utc if settings.USE_TZ else utc.replace(tzinfo=None)


def to_entry(row: Any) -> AuditEntry:
    """Return the :class:`~structlogx.records.AuditEntry` of a ``LogEntry`` row."""
    return AuditEntry(
        id=row.id,
        timestamp=as_utc(row.timestamp),
        action=row.action,
        level=row.level,
        logger=row.logger,
        message=row.message,
        actor_type=row.actor_type,
        actor_id=row.actor_id,
        actor_text=row.actor_text,
        object_type=row.object_type,
        object_id=row.object_id,
        object_text=row.object_text,
        scope=row.scope,
        data=row.data,
        context=row.context,
        visible=row.visible,
        shredded=row.shredded,
        seed=row.seed,
        shred=row.shred,
        prev_hash=row.prev_hash,
        hash=row.hash,
    )


class DjangoStore:
    """Audit entries in the ``LogEntry`` table of a Django database (see the module docs).

    Args:
        using: the database alias.
        url: a name for messages (default ``django://<alias>``).

    The app ``structlogx.contrib.django`` must be installed and migrated.
    """

    transaction_bound = True
    """Entries are written inside the application's current transaction."""

    def __init__(self, using: str = "default", *, url: str | None = None) -> None:
        if not isinstance(using, str) or not using:
            raise TypeError(f"using must be a database alias (str), not {using!r}")
        self.using = using
        self.url = url or f"django://{using}"

    def __repr__(self) -> str:
        return f"DjangoStore(using={self.using!r})"

    # -- helpers ---------------------------------------------------------------------------

    def _entries(self) -> Any:
        from structlogx.contrib.django.models import LogEntry

        return LogEntry.objects.using(self.using)

    def _head(self) -> Any:
        """Return the ``ChainHead`` row, locked; create it when missing (e.g. after a flush).

        Must run inside a transaction.
        """
        from django.db import IntegrityError, transaction

        from structlogx.contrib.django.models import ChainHead

        rows = ChainHead.objects.using(self.using).select_for_update()
        head = rows.filter(pk=1).first()
        if head is not None:
            return head
        last = self._entries().order_by("-id").values_list("id", "hash").first()
        head = ChainHead(pk=1, head_id=last[0] if last else 0, head_hash=last[1] if last else None)
        try:
            with transaction.atomic(using=self.using, savepoint=True):
                head.save(using=self.using, force_insert=True)
        except IntegrityError:  # another transaction created it first: use (and lock) that
            return rows.get(pk=1)
        return head

    def _filter(self, query: Query) -> Any:
        rows = self._entries()
        conditions: dict[str, Any] = {}
        for name in ("object_type", "object_id", "actor_id", "scope"):
            value = getattr(query, name)
            if value is not None:
                conditions[name] = value
        if query.visible is not None:
            conditions["visible"] = query.visible
        if query.action is not None:
            if query.action.endswith(".*"):  # a range, so the (action, id) index serves it
                prefix = query.action[:-1]
                conditions["action__gte"], conditions["action__lt"] = prefix, prefix[:-1] + "/"
            else:
                conditions["action"] = query.action
        if query.since is not None:
            conditions["timestamp__gte"] = _db_time(query.since)
        if query.until is not None:
            conditions["timestamp__lt"] = _db_time(query.until)
        if query.after is not None:
            conditions["id__lt"] = query.after
        return rows.filter(**conditions)

    def _row(self, entry: AuditEntry, entry_id: int, prev: str | None, digest: str) -> Any:
        from structlogx.contrib.django.models import LogEntry

        return LogEntry(
            id=entry_id,
            timestamp=_db_time(entry.timestamp),
            action=entry.action,
            level=entry.level,
            logger=entry.logger,
            message=entry.message,
            actor_type=entry.actor_type,
            actor_id=entry.actor_id,
            actor_text=entry.actor_text,
            object_type=entry.object_type,
            object_id=entry.object_id,
            object_text=entry.object_text,
            scope=entry.scope,
            data=entry.data,
            context=entry.context,
            visible=entry.visible,
            shredded=entry.shredded,
            seed=entry.seed,
            shred=entry.shred,
            prev_hash=prev,
            hash=digest,
        )

    # -- Store protocol --------------------------------------------------------------------

    def append(self, entries: Sequence[AuditEntry]) -> list[int]:
        """Insert *entries*, chained, in the current transaction; set and return their ids."""
        if not entries:
            return []
        from django.db import transaction

        contents = [chain.prepare(entry) for entry in entries]
        with transaction.atomic(using=self.using, savepoint=True):
            head = self._head()
            prev, first = head.head_hash, head.head_id + 1
            rows = []
            for offset, content in enumerate(contents):
                digest = chain.link(prev, first + offset, content)
                rows.append(self._row(entries[offset], first + offset, prev, digest))
                prev = digest
            self._entries().bulk_create(rows)
            head.head_id, head.head_hash = first + len(rows) - 1, prev
            head.save(using=self.using, update_fields=["head_id", "head_hash"])
        for entry, row in zip(entries, rows, strict=True):
            entry.id, entry.prev_hash, entry.hash = row.id, row.prev_hash, row.hash
        return [row.id for row in rows]

    def get(self, entry_id: int) -> AuditEntry | None:
        """Return the entry with this id, or ``None``."""
        row = self._entries().filter(pk=entry_id).first()
        return None if row is None else to_entry(row)

    def query(self, **filters: Any) -> list[AuditEntry]:
        """Return matching entries newest first (filters: :class:`~structlogx.audit.Query`)."""
        query = Query.build(**filters)
        rows = self._filter(query).order_by("-id")
        if query.limit is not None:
            rows = rows[: query.limit]
        return [to_entry(row) for row in rows]

    def count(self, **filters: Any) -> int:
        """Return how many entries match (``limit`` and ``after`` are ignored)."""
        filters.pop("limit", None)
        filters.pop("after", None)
        return int(self._filter(Query.build(**filters)).count())

    def verify(self, progress: Callable[[int], object] | None = None) -> chain.VerifyReport:
        """Check the hash chain of the entries up to the head, in id order.

        Entries committed after the head was read are left for the next run.
        """
        from django.db import transaction

        from structlogx.contrib.django.models import ChainHead

        with transaction.atomic(using=self.using):
            head = ChainHead.objects.using(self.using).filter(pk=1).first()
            anchor: tuple[int, str] | None = None
            if head is None:  # a fresh or flushed table: the last entry is the head
                last = self._entries().order_by("-id").values_list("id", "hash").first()
                head_id, head_hash = (int(last[0]), last[1]) if last else (0, None)
            else:
                head_id, head_hash = int(head.head_id), head.head_hash
                if head.anchor_id is not None:
                    anchor = (int(head.anchor_id), str(head.anchor_hash))
            rows = self._entries().filter(id__lte=head_id).order_by("id")
            return chain.verify_entries(
                (to_entry(row) for row in rows.iterator(chunk_size=2000)),
                anchor=anchor,
                head=(head_id, head_hash),
                progress=progress,
            )

    def shred(
        self,
        *,
        object: object = None,
        actor: object = None,
        fields: Sequence[str] | None = None,
        reason: str,
        by: object = None,
        dry_run: bool = False,
    ) -> chain.ShredReport:
        """Replace personal values of the entries about *object* or by *actor* with a marker.

        The chain stays verifiable; the shredding is recorded as a
        ``structlogx.audit.shredded`` entry. Runs in the current transaction when one is open.

        Raises:
            ValueError: no object and no actor, an unknown field name, an empty reason.
        """
        from django.db import transaction

        plan = chain.ShredPlan.build(object=object, actor=actor, fields=fields, reason=reason)
        ids = list(self._filter(plan.query).order_by("id").values_list("id", flat=True))
        report = chain.ShredReport(dry_run=dry_run)
        changed = ("message", "actor_text", "object_text", "data", "context", "shredded")
        for start in range(0, len(ids), _BATCH):
            with transaction.atomic(using=self.using, savepoint=True):
                batch = ids[start : start + _BATCH]
                rows = self._entries().select_for_update().filter(id__in=batch).order_by("id")
                for row in rows:
                    shredded = report.add(to_entry(row), plan.fields)
                    if shredded is None or dry_run:
                        continue
                    for name in changed:
                        setattr(row, name, getattr(shredded, name))
                    row.seed, row.shred = shredded.seed, shredded.shred
                    row.save(using=self.using, update_fields=[*changed, "seed", "shred"])
        if report.entries and not dry_run:
            self.append([plan.record(report, by)])
        return report

    def prune(
        self,
        before: _dt.datetime,
        *,
        reason: str = "retention",
        by: object = None,
        dry_run: bool = False,
    ) -> chain.PruneReport:
        """Delete the oldest entries before *before*, keeping the chain verifiable.

        Deletes the longest run of entries, from the oldest, whose timestamps are all before
        *before*, and records the last one's id and hash as the anchor; the pruning is
        recorded as a ``structlogx.audit.pruned`` entry.

        Raises:
            TypeError: *before* is not a datetime.
        """
        from django.db import transaction
        from django.db.models import Min

        plan = chain.PrunePlan.build(before, reason=reason)
        with transaction.atomic(using=self.using, savepoint=True):
            head = self._head()
            entries = self._entries()
            keep = entries.filter(timestamp__gte=_db_time(plan.before)).aggregate(first=Min("id"))
            cutoff = head.head_id if keep["first"] is None else keep["first"] - 1
            last = entries.filter(id__lte=cutoff).order_by("-id").values_list("id", "hash").first()
            anchor_id = head.anchor_id or 0
            if last is None or last[0] <= anchor_id:
                return chain.PruneReport(0, anchor_id or None, dry_run)
            report = chain.PruneReport(entries.filter(id__lte=last[0]).count(), last[0], dry_run)
            if dry_run:
                return report
            entries.filter(id__lte=last[0]).delete()
            head.anchor_id, head.anchor_hash = last
            head.save(using=self.using, update_fields=["anchor_id", "anchor_hash"])
        self.append([plan.record(report, by)])
        return report

    def close(self) -> None:
        """Nothing to release: the connections are Django's."""


default_store = DjangoStore()
"""A store on the ``default`` database, for ``"store": "ext://...default_store"``."""
