"""Throttling of error mails: the same error is mailed once per window, all errors a few times
a minute, and the next mail says how many were held back.

Django mails every error; five minutes of database downtime has sent 2,000 identical mails. A
:class:`Throttle` counts errors by :func:`fingerprint` (what is wrong and where, not the
changing details of the message) with two :class:`~structlogx.filters.RateLimitFilter`
windows: one per fingerprint, one for all mails together.
"""

from __future__ import annotations

import logging
import os
import sys
import sysconfig
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from types import TracebackType
from typing import Final

from structlogx.filters import RateLimitFilter

__all__ = ["Throttle", "fingerprint"]

_LIBRARY_DIRS: Final = tuple(
    os.path.normcase(os.path.abspath(path)) + os.sep
    for path in {
        sysconfig.get_paths()[name] for name in ("stdlib", "platstdlib", "purelib", "platlib")
    }
)
_HELD_KEYS: Final = 1000
_THROTTLES: weakref.WeakSet[Throttle] = weakref.WeakSet()


def _after_fork_in_child() -> None:  # pragma: no cover - runs in forked children
    # A lock another thread of the parent held at fork would never be released in the child
    # (gunicorn --preload forks while request threads may be mailing).
    for throttle in list(_THROTTLES):
        throttle._lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _application_frame(tb: TracebackType | None) -> tuple[str, int, str] | None:
    """Return (file, line, function) of the innermost frame outside the stdlib and site-packages."""
    found = None
    innermost = None
    while tb is not None:
        code = tb.tb_frame.f_code
        where = (code.co_filename, tb.tb_lineno, code.co_name)
        innermost = where
        if not os.path.normcase(os.path.abspath(code.co_filename)).startswith(_LIBRARY_DIRS):
            found = where
        tb = tb.tb_next
    return found or innermost


def fingerprint(record: logging.LogRecord) -> Hashable:
    """Return what makes two error records "the same error" for throttling.

    With an exception: its type and the innermost frame of application code (outside the
    standard library and installed packages), so the same bug in the same place is one
    error whatever its message says. Without one: the logger name and the message template
    (``record.msg``, before its arguments are filled in). Never raises.
    """
    try:
        exc_info = record.exc_info
        if exc_info and exc_info[0] is not None:
            kind = exc_info[0]
            return (f"{kind.__module__}.{kind.__qualname__}", _application_frame(exc_info[2]))
        msg = record.msg
        return (record.name, msg if isinstance(msg, str) else type(msg).__qualname__)
    except Exception:  # pragma: no cover - a record with broken attributes
        return (getattr(record, "name", "?"), "?")


class Throttle:
    """Decide whether an error record may be mailed now (see the module docs).

    Args:
        window_s: one mail per fingerprint per this many seconds.
        per_minute: at most this many mails a minute in all.
        clock: seconds, :func:`time.monotonic` by default (for tests).
        key: the fingerprint function.

    Raises:
        TypeError, ValueError: a window or rate that is not a positive number.
    """

    def __init__(
        self,
        window_s: float = 60.0,
        per_minute: int = 10,
        *,
        clock: Callable[[], float] | None = None,
        key: Callable[[logging.LogRecord], Hashable] = fingerprint,
    ) -> None:
        self.key = key
        self._each = RateLimitFilter(1, window_s, clock=clock)
        self._all = RateLimitFilter(per_minute, 60.0, clock=clock)
        self._held: OrderedDict[Hashable, int] = OrderedDict()  # let through, then capped
        self._lock = threading.Lock()
        self.window_s, self.per_minute = window_s, per_minute
        _THROTTLES.add(self)

    def admit(self, record: logging.LogRecord) -> int | None:
        """Return ``None`` to hold *record* back, else how many like it were held back since
        the last one mailed. Never raises (a failure admits the record)."""
        try:
            key = self.key(record)
            suppressed = self._each.admit(key)
            if suppressed is None:
                return None
            with self._lock:
                if self._all.admit(None) is None:  # over the overall cap: count it for later
                    self._held[key] = self._held.pop(key, 0) + suppressed + 1
                    if len(self._held) > _HELD_KEYS:
                        self._held.popitem(last=False)
                    return None
                return suppressed + self._held.pop(key, 0)
        except Exception as exc:  # a broken clock or key function: mail rather than lose it
            print(f"structlogx: mail throttling failed ({exc!r}); mailing", file=sys.stderr)
            return 0
