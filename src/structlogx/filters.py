"""Filters that plug into ``dictConfig`` by dotted path, like any stdlib filter.

Each filter implements only :meth:`logging.Filter.filter`, does no I/O, and documents the
record attributes it adds.
"""

from __future__ import annotations

import logging
from typing import Any

from structlogx import context as _context
from structlogx.records import CONTEXT_ATTR, RESERVED_KEYS

__all__ = ["ContextFilter"]


class ContextFilter(logging.Filter):
    """Copy the bound context (:func:`structlogx.context.bind`) onto each record.

    The copy happens at handling time, in the thread that logged, so the values survive a
    later hop to another thread (``QueueHandler``/``QueueListener``, an async audit writer).
    Put it on the handler that enqueues, or on a logger.

    Adds ``record.structlogx_context`` (:data:`~structlogx.records.CONTEXT_ATTR`): the
    read-only mapping of bound values. A record that already has one keeps it.

    Args:
        name: as for :class:`logging.Filter`: only records of this logger and below pass.
        as_attributes: also set each bound key as a record attribute (when the record has no
            attribute of that name), so text formats can use ``%(request_id)s``. The reserved
            audit keys (``action``, ``user``, ``object``, ``data``, ``scope``) are never set this
            way: a bound ``user`` must not turn every record into an audit record's actor.

    Example ``dictConfig`` entry::

        "filters": {"context": {"()": "structlogx.filters.ContextFilter"}}
    """

    def __init__(self, name: str = "", *, as_attributes: bool = False) -> None:
        super().__init__(name)
        self.as_attributes = bool(as_attributes)

    def filter(self, record: logging.LogRecord) -> bool:
        """Attach the context; passes every record (subject to *name*)."""
        if self.nlen and not super().filter(record):
            return False
        attributes: dict[str, Any] = record.__dict__
        bound = attributes.get(CONTEXT_ATTR)
        if bound is None:
            bound = attributes[CONTEXT_ATTR] = _context.current()
        if self.as_attributes:
            for key, value in bound.items():
                if key not in RESERVED_KEYS:
                    attributes.setdefault(key, value)
        return True
