"""The audit trail engine: stores, the query filter and the writers.

Most applications only configure :class:`structlogx.handlers.AuditHandler` and read entries
back with ``store.query(...)``, :func:`get_default_store` or ``obj.all_logentries()``.
"""

from structlogx.audit.store import (
    SCHEMES,
    Query,
    Store,
    get_default_store,
    open_store,
    set_default_store,
)

__all__ = ["SCHEMES", "Query", "Store", "get_default_store", "open_store", "set_default_store"]
