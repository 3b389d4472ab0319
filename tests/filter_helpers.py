"""Objects that the filter tests name by dotted path (``filter_helpers.<name>``).

pytest puts ``tests/`` on ``sys.path`` (the default ``prepend`` import mode, no
``__init__.py``), so dictConfig's ``"()"`` factories can import this module by that name.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Hashable


class ClientGone(OSError):
    """Stands in for Django's ``UnreadablePostError``: the client went away mid-request."""


class ListHandler(logging.Handler):
    """Keep every handled record (with the level it had when handled) in ``records``."""

    def __init__(self, level: int = logging.NOTSET) -> None:
        super().__init__(level)
        self.records: list[logging.LogRecord] = []
        self.levels: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        self.levels.append(record.levelname)


def not_health_check(record: logging.LogRecord) -> bool:
    """A CallbackFilter callback: drop the load balancer's health-check requests."""
    return "/health" not in record.getMessage()


def broken_callback(record: logging.LogRecord) -> bool:
    """A callback that always raises."""
    raise RuntimeError("callback bug")


def message_key(record: logging.LogRecord) -> Hashable:
    """A RateLimitFilter key: the message template only."""
    return record.msg


def broken_key(record: logging.LogRecord) -> Hashable:
    """A key function returning something unhashable."""
    return [record.msg]


def broken_clock() -> float:
    """A clock that always raises."""
    raise OSError("no clock")


class FakeClock:
    """A thread-safe clock that only moves when told to."""

    def __init__(self) -> None:
        self.now = 1000.0
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self.now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds


clock = FakeClock()
"""The clock named ``filter_helpers.clock`` in configs."""
