"""Handlers: thin ``logging.Handler`` subclasses over the engines in ``structlogx.audit``."""

from __future__ import annotations

import logging
import os
import tempfile
from typing import Any, Final

from structlogx.audit.store import Store, open_store, set_default_store
from structlogx.audit.writer import AsyncWriter, Spool, SyncWriter, Writer
from structlogx.conf import settings
from structlogx.records import entry_from_record

__all__ = ["AuditHandler"]

DURABILITIES: Final = ("sync", "async")
STRENGTHS: Final = {"fsync": "FULL", "crash": "NORMAL"}


def _spool_path(store: Store) -> str:
    path = getattr(store, "path", None)
    if isinstance(path, str) and path != ":memory:":
        return path + ".spool.jsonl"
    return os.path.join(tempfile.gettempdir(), f"structlogx-audit-{os.getpid()}.spool.jsonl")


class AuditHandler(logging.Handler):
    """Persist every record that carries an ``action`` as an audit entry; ignore the rest.

    The entry is built in the thread that logged (message formatted, ``data`` made JSON-safe,
    actor and object described, bound context captured), then handed to the writer.

    Args:
        store: a store URL (see :func:`structlogx.audit.open_store`) or a store object;
            by default ``settings.AUDIT_STORE`` (``sqlite:///audit.sqlite3``).
        durability: ``"sync"``: ``emit`` returns once the entry is committed (concurrent
            threads share commits); ``"async"``: ``emit`` queues it for a background thread.
        strict: raise store errors into the application instead of spooling them.
        strength: for SQLite URLs, ``"fsync"`` (commits survive a power cut; the default) or
            ``"crash"`` (they survive a killed application, not a power cut).
        spool_path: where entries go when the store fails or the async queue stays full
            (default: next to the store file, ``<path>.spool.jsonl``).
        default_store: make this handler's store the one ``LoggedObject.all_logentries()``
            and the CLI read by default.
        writer_options: passed to the writer (``queue_size``, ``batch_size``,
            ``batch_interval_s``, ``block_timeout_s`` for async; ``max_batch``, ``gather_s``
            for sync).

    Records without an action pass through untouched, so one handler on the root logger
    serves the whole hierarchy. A record whose entry cannot be built (an invalid action name)
    is reported through :meth:`handleError` with the reason; the technical outputs still get
    it. The handler does not take the handler lock around ``emit`` (it overrides
    :meth:`handle`): the writer does its own locking, which is what lets threads share commits.

    Example ``dictConfig`` entry::

        "audit": {"class": "structlogx.handlers.AuditHandler",
                  "store": "sqlite:///audit.sqlite3", "durability": "async"}
    """

    def __init__(
        self,
        store: str | Store | None = None,
        durability: str = "sync",
        strict: bool = False,
        *,
        strength: str = "fsync",
        level: int | str = logging.NOTSET,
        spool_path: str | None = None,
        default_store: bool = True,
        **writer_options: Any,
    ) -> None:
        super().__init__(level)
        if durability not in DURABILITIES:
            raise ValueError(f"durability must be 'sync' or 'async', not {durability!r}")
        if strength not in STRENGTHS:
            raise ValueError(f"strength must be 'fsync' or 'crash', not {strength!r}")
        # Checked before the store opens: a typo must not leave a file and a connection.
        allowed = (
            {"queue_size", "batch_size", "batch_interval_s", "block_timeout_s"}
            if durability == "async"
            else {"max_batch", "gather_s"}
        )
        unknown = sorted(set(writer_options) - allowed)
        if unknown:
            raise TypeError(
                f"unknown option(s) for durability={durability!r}: {', '.join(unknown)} "
                f"(allowed: {', '.join(sorted(allowed))})"
            )
        if store is None:
            store = settings.AUDIT_STORE
        opened = isinstance(store, str)
        if isinstance(store, str):
            options = {"synchronous": STRENGTHS[strength]} if store.startswith("sqlite:") else {}
            store = open_store(store, **options)
        elif not isinstance(store, Store):
            raise TypeError(f"store must be a URL or a Store, not {type(store).__name__}")
        self.store: Store = store
        self.durability = durability
        self.strict = bool(strict)
        self.spool = Spool(spool_path or _spool_path(store))
        try:
            self.writer: Writer = (
                AsyncWriter(store, spool=self.spool, **writer_options)
                if durability == "async"
                else SyncWriter(store, **writer_options)
            )
        except BaseException:
            if opened:  # a bad option value: release what this handler opened
                store.close()
            raise
        if default_store:
            set_default_store(store)

    def handle(self, record: logging.LogRecord) -> bool | logging.LogRecord:  # type: ignore[override]
        """Filter, then emit without the handler lock (the writer serialises commits)."""
        if not self.filters:  # the usual case: skip Filterer.filter's loop
            self.emit(record)
            return True
        result = self.filter(record)
        if isinstance(result, logging.LogRecord):
            record = result
        if result:
            self.emit(record)
        return result

    def emit(self, record: logging.LogRecord) -> None:
        """Build the entry and write it; failures go to the spool or :meth:`handleError`."""
        if record.__dict__.get("action") is None:
            return
        try:
            entry = entry_from_record(record)
        except RecursionError:  # pragma: no cover - as the stdlib handlers do
            raise
        except Exception:
            if self.strict:
                raise
            self.handleError(record)
            return
        try:
            self.writer.write(entry)
        except RecursionError:  # pragma: no cover
            raise
        except Exception as exc:
            if self.strict:
                raise
            self.spool.write([entry], f"the store failed: {exc!r}")

    def flush(self, timeout: float | None = None) -> bool:  # type: ignore[override]
        """Wait until every entry emitted so far is committed; ``False`` on timeout."""
        writer = getattr(self, "writer", None)  # None: __init__ raised after registering
        return True if writer is None else writer.flush(timeout)

    def close(self) -> None:
        """Drain the writer and close the store."""
        try:
            writer = getattr(self, "writer", None)  # logging.shutdown() also meets half-built
            if writer is not None:  # handlers: Handler.__init__ registered them first
                writer.close()
        finally:
            super().close()
