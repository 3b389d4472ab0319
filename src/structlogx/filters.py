"""Filters that plug into ``dictConfig`` by dotted path, like any stdlib filter.

Each filter implements only :meth:`logging.Filter.filter`, returns a real ``bool``, does no
I/O, documents the record attributes it adds or changes, and builds from ``dictConfig`` with
JSON-able arguments (functions and classes as dotted paths). Bad arguments raise
``TypeError``/``ValueError`` (``ImportError`` for a dotted path that does not import) when the
filter is built, naming the argument.

Filters never raise while logging. When a function supplied by the configuration (a
:class:`CallbackFilter` callback, a :class:`RateLimitFilter` key) raises, the filter applies its
documented fallback and, while :data:`logging.raiseExceptions` is true, writes the traceback to
``sys.stderr`` once per filter instance, as :meth:`logging.Handler.handleError` does for
handlers. ``RecursionError`` is re-raised, as the stdlib handlers do.

The module is longer than the usual ~600 lines because it holds nine filters, each small and
mostly documentation (a ``dictConfig`` example each): one module is the one place to look for
a filter. The redaction rules live in :mod:`structlogx.redact`.
"""

from __future__ import annotations

import itertools
import logging
import math
import os
import sys
import threading
import time
import traceback
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from types import MappingProxyType
from typing import Any, Final

from structlogx import context as _context
from structlogx._imports import import_string
from structlogx.conf import Settings, settings
from structlogx.display import Registry
from structlogx.jsonsafe import safe_repr
from structlogx.records import CONTEXT_ATTR, RESERVED_KEYS
from structlogx.redact import SENSITIVE_KEYS, SUBSTITUTE, Redactor, key_pattern

__all__ = [
    "ActionFilter",
    "CallbackFilter",
    "ContextFilter",
    "ExceptionFilter",
    "LevelRewriteFilter",
    "RateLimitFilter",
    "RedactFilter",
    "RequireDebugFalse",
    "RequireDebugTrue",
]

# The number of attributes LogRecord.__init__ sets: what comes after them in a record's
# __dict__ came from ``extra`` (or was set on the record later).
_STANDARD_COUNT: Final = len(vars(logging.LogRecord("", 0, "", 0, "", (), None)))

# settings.DEBUG without the descriptor call (a third of the read): same cache, same value.
_read_debug, _settings_state = Settings.DEBUG._read, settings._state

# What each numeric %-conversion can write, whatever the argument (an int or float, or any
# object converted with __index__/__int__/__float__): digits, signs, padding, "#" prefixes,
# exponents, inf and nan. "%s", "%r", "%a" and "%c" can write anything.
_NUMBER_CHARS: Final = "0123456789+- "
_NUMBER_OUTPUT: Final[dict[str, frozenset[str]]] = {
    **dict.fromkeys("diu", frozenset(_NUMBER_CHARS)),
    "o": frozenset(_NUMBER_CHARS + "o"),
    "x": frozenset(_NUMBER_CHARS + "abcdefx"),
    "X": frozenset(_NUMBER_CHARS + "ABCDEFX"),
    **dict.fromkeys("efg", frozenset(_NUMBER_CHARS + ".einfa")),
    **dict.fromkeys("EFG", frozenset(_NUMBER_CHARS + ".EINFA")),
    "%": frozenset("%"),
}
_SPEC_CHARS: Final = frozenset("-+ #0123456789*.hlL")  # flags, width, precision, length
_GET_MESSAGE: Final = logging.LogRecord.getMessage

_PLAIN_TYPES: Final = frozenset({int, float, bool, type(None)})
_SHORTEST_SECRET: Final = 10  # "Basic YTpi": no shorter text holds a card or a credential

# -- shared helpers -------------------------------------------------------------------------


def _report(owner: logging.Filter, what: str, record: logging.LogRecord) -> None:
    """Write the current exception to stderr, once per filter, while raiseExceptions is on."""
    flags = owner.__dict__
    if not logging.raiseExceptions or flags.get("_structlogx_reported"):
        return
    flags["_structlogx_reported"] = True
    stream = sys.stderr
    if stream is None:  # pythonw
        return
    try:
        stream.write(f"--- structlogx: {type(owner).__name__}: {what} (reported once) ---\n")
        traceback.print_exc(file=stream)
        stream.write(
            f"Record: logger {record.name!r}, message {safe_repr(record.msg, 200)}, "
            f"at {record.pathname}:{record.lineno}\n"
        )
    except Exception:  # pragma: no cover - a broken stderr: nothing else to tell
        pass


def _callable(value: object, option: str) -> Callable[..., Any]:
    if isinstance(value, str):
        try:
            value = import_string(value)
        except ImportError as exc:
            raise ImportError(f"{option}: {exc}") from exc
    if not callable(value):
        raise TypeError(f"{option} must be callable or a dotted path, not {type(value).__name__}")
    return value


def _items(value: Sequence[Any]) -> tuple[Any, ...]:
    """Copy a list item by item, so that dictConfig's ``cfg://`` values resolve."""
    return tuple(value[index] for index in range(len(value)))


def _strings(value: object, option: str, *, allow_empty: bool = True) -> tuple[str, ...]:
    """Accept one str or a list of str (as JSON gives them); reject empty strings."""
    if isinstance(value, str):
        value = (value,)
    elif not isinstance(value, Sequence) or isinstance(value, bytes):
        raise TypeError(f"{option} must be a str or a list of str, not {type(value).__name__}")
    items = _items(value)
    for item in items:
        if not isinstance(item, str):
            raise TypeError(f"{option} must hold str, got {type(item).__name__}: {item!r}")
        if not item:
            raise ValueError(f"{option} must not hold an empty string")
    if not items and not allow_empty:
        raise ValueError(f"{option} must not be an empty list (leave it out instead)")
    return items


def _exception_classes(value: object, option: str) -> tuple[type[BaseException], ...]:
    """Accept a class, a dotted path, or a list of them; return the classes."""
    single = isinstance(value, (str, type))
    if single:
        items: tuple[Any, ...] = (value,)
    elif isinstance(value, Sequence) and not isinstance(value, bytes):
        items = _items(value)
    else:
        raise TypeError(
            f"{option} must be an exception class, a dotted path or a list of them, "
            f"not {type(value).__name__}"
        )
    if not items:
        raise ValueError(f"{option} must name at least one exception class")
    classes: list[type[BaseException]] = []
    for index, item in enumerate(items):
        where = option if single else f"{option}[{index}]"
        resolved = item
        if isinstance(item, str):
            try:
                resolved = import_string(item)
            except ImportError as exc:
                raise ImportError(f"{where}: {exc}") from exc
        if not (isinstance(resolved, type) and issubclass(resolved, BaseException)):
            raise TypeError(f"{where} must be an exception class, got {safe_repr(resolved, 80)}")
        classes.append(resolved)
    return tuple(classes)


def _level(value: object, option: str) -> int:
    if isinstance(value, str):
        number = logging.getLevelName(value.upper())
        if not isinstance(number, int):
            raise ValueError(f"{option}: unknown level name {value!r}")
        return number
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{option} must be a level name or an int, not {type(value).__name__}")
    if value < 0:
        raise ValueError(f"{option} must not be negative, got {value}")
    return value


class _ActionMatcher:
    """Match action names against patterns with :mod:`structlogx.display`'s rules.

    A private :class:`~structlogx.display.Registry` validates the patterns and answers which
    of them match; the answers are cached per action name.
    """

    __slots__ = ("_all", "_cache", "_registry")

    def __init__(self, patterns: object, option: str) -> None:
        self._registry = Registry()
        checked = _strings(patterns, option, allow_empty=False)
        self._all = "*" in checked  # every action, even one that is not a str
        for index, pattern in enumerate(checked):
            try:
                self._registry.register(pattern, "")
            except (TypeError, ValueError) as exc:
                raise type(exc)(f"{option}[{index}]: {exc}") from exc
        self._cache: dict[str, bool] = {}

    def __call__(self, action: object) -> bool:
        if type(action) is not str:
            return self._all and action is not None
        cache = self._cache
        answer = cache.get(action)
        if answer is None:
            answer = bool(self._registry.candidates(action))
            if len(cache) >= 1024:
                cache.clear()
            cache[action] = answer
        return answer


def _formatted_chars(template: str) -> frozenset[str] | None:
    """Return the characters ``template % args`` can hold, ``None`` for any character.

    Those of the template and those its conversions write, when all are numeric (``%d``,
    ``%.1f``: see _NUMBER_OUTPUT). The scan finds the conversion that ``%`` would; a template
    that it misreads makes ``%`` raise, which LevelRewriteFilter treats as no match anyway.
    """
    chars, start, end = set(template), 0, len(template)
    while (start := template.find("%", start) + 1) > 0:
        while start < end and template[start] in _SPEC_CHARS:
            start += 1
        written = _NUMBER_OUTPUT.get(template[start]) if start < end else None
        if written is None:  # "%s", "%c", "%(key)s" write anything; invalid ones raise
            return None
        chars |= written
        start += 1
    return frozenset(chars)


# -- filters --------------------------------------------------------------------------------


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


class CallbackFilter(logging.Filter):
    """Pass the records for which a function returns a true value (Django's ``CallbackFilter``).

    Args:
        callback: a function taking the record, or the dotted path of one (so that JSON and
            TOML configurations can name it).

    A callback that raises does not drop the record: it passes (nothing is lost), and the
    error is reported once on ``sys.stderr`` (see the module docs).

    Example ``dictConfig`` entry::

        "filters": {"no_health_checks": {
            "()": "structlogx.filters.CallbackFilter",
            "callback": "myproject.logging.not_a_health_check"}}
    """

    def __init__(self, callback: Callable[[logging.LogRecord], object] | str) -> None:
        super().__init__()
        self.callback: Callable[[logging.LogRecord], object] = _callable(callback, "callback")

    def filter(self, record: logging.LogRecord) -> bool:
        """Return the truth of ``callback(record)``; ``True`` when the callback raises."""
        try:
            return bool(self.callback(record))
        except RecursionError:  # pragma: no cover - as the stdlib handlers do
            raise
        except Exception:
            _report(self, "the callback raised; the record passes", record)
            return True


class RequireDebugFalse(logging.Filter):
    """Pass records only while ``settings.DEBUG`` is false (Django's filter of the same name).

    :data:`structlogx.conf.settings` is read for every record, so a changed setting is seen
    at once. The usual guard of an admin e-mail handler: no mail from a developer's machine.

    Example ``dictConfig`` entry::

        "filters": {"require_debug_false": {"()": "structlogx.filters.RequireDebugFalse"}}
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Return ``True`` when DEBUG is off, else ``False``."""
        return not _read_debug(_settings_state)


class RequireDebugTrue(logging.Filter):
    """Pass records only while ``settings.DEBUG`` is true (Django's filter of the same name).

    Example ``dictConfig`` entry::

        "filters": {"require_debug_true": {"()": "structlogx.filters.RequireDebugTrue"}}
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Return ``True`` when DEBUG is on, else ``False``."""
        return bool(_read_debug(_settings_state))


class ActionFilter(logging.Filter):
    """Pass audit records (those with an ``action``), optionally only some actions.

    Args:
        actions: action patterns, as :mod:`structlogx.display` takes them: an exact action
            name, a dotted prefix followed by ``.*`` (``"shop.order.*"`` matches
            ``shop.order.paid`` but neither ``shop.order`` itself nor ``shop.orders.paid``) or
            ``"*"``; one pattern or a list. ``None`` (the default): every audit record.
        invert: pass exactly the records the filter would otherwise drop: without *actions*,
            the technical records (no ``action``); with *actions*, the technical records and
            the audit records whose action matches none of the patterns.

    Raises:
        ValueError: a pattern is not an action name, ``prefix.*`` or ``*``.

    Example ``dictConfig`` entries::

        "filters": {
            "audit_only": {"()": "structlogx.filters.ActionFilter"},
            "shop_audit": {"()": "structlogx.filters.ActionFilter", "actions": ["shop.*"]},
            "technical_only": {"()": "structlogx.filters.ActionFilter", "invert": true}}
    """

    def __init__(self, actions: str | Sequence[str] | None = None, *, invert: bool = False) -> None:
        super().__init__()
        self._matches = None if actions is None else _ActionMatcher(actions, "actions")
        self.invert = bool(invert)

    def filter(self, record: logging.LogRecord) -> bool:
        """Return whether *record* is an audit record with a matching action (or not, inverted)."""
        action = record.__dict__.get("action")
        if action is None:
            return self.invert
        matches = self._matches
        passes = matches is None or matches(action)
        return passes is not self.invert


class LevelRewriteFilter(logging.Filter):
    """Change the level of matching records, e.g. ERROR to WARNING for a known, harmless error.

    A record is rewritten when **all** the given criteria match; a criterion that takes a list
    matches when any item does. Without criteria every record is rewritten. The filter
    passes every record.

    Args:
        level: the new level, a name (``"WARNING"``) or a number.
        from_levels: rewrite only records at these levels (names or numbers).
        logger: logger names: a record matches when its logger is one of them or below
            (``"django.security"`` matches ``django.security.csrf``, not ``django.securityx``),
            as :class:`logging.Filter` decides.
        exception: exception classes or their dotted paths: the record's exception is an
            instance of one of them.
        message: substrings of the formatted message (``record.getMessage()``). Checked
            last, as it formats the message (unless no item can be in it: when an item has
            a character neither in ``msg`` nor written by its ``%d``/``%.1f``
            conversions): pair it with a cheaper criterion.
        action: action patterns (exact, ``prefix.*`` or ``*``, see :class:`ActionFilter`).

    Changes ``record.levelno`` and ``record.levelname``.

    **Put it on a logger**, the one that logs the records. A logger's filters run before
    the record goes to any handler, and each handler compares its level with the (rewritten)
    level. On a handler it is too late: the handler has already accepted the record by its
    original level, so a handler at ERROR still writes a rewritten ERROR (shown as WARNING),
    and the changed level leaks into the handlers that see the record afterwards. Logger
    filters only see records logged on that very logger, not those propagated from its
    children: attach the filter to each logger that logs the records.

    Raises:
        ValueError: an unknown level name or an invalid action pattern.
        TypeError: an argument of the wrong type.
        ImportError: an exception dotted path that does not import.

    Example ``dictConfig`` entries (the filter goes in the logger's ``filters``)::

        "filters": {"disallowed_host_is_a_warning": {
            "()": "structlogx.filters.LevelRewriteFilter",
            "level": "WARNING",
            "from_levels": ["ERROR"],
            "exception": "django.core.exceptions.DisallowedHost"}},
        "loggers": {"django.security.DisallowedHost": {
            "filters": ["disallowed_host_is_a_warning"]}}
    """

    def __init__(
        self,
        level: int | str,
        *,
        from_levels: Sequence[int | str] | None = None,
        logger: str | Sequence[str] | None = None,
        exception: type[BaseException] | str | Sequence[type[BaseException] | str] | None = None,
        message: str | Sequence[str] | None = None,
        action: str | Sequence[str] | None = None,
    ) -> None:
        super().__init__()
        self.level = _level(level, "level")
        self.levelname = logging.getLevelName(self.level)
        if from_levels is None:
            self.from_levels: frozenset[int] | None = None
        elif isinstance(from_levels, (str, int)):
            self.from_levels = frozenset({_level(from_levels, "from_levels")})
        elif isinstance(from_levels, Sequence):
            levels = _items(from_levels)
            if not levels:
                raise ValueError("from_levels must not be an empty list (leave it out instead)")
            self.from_levels = frozenset(_level(item, "from_levels") for item in levels)
        else:
            raise TypeError(
                f"from_levels must be a list of levels, not {type(from_levels).__name__}"
            )
        self.loggers = None if logger is None else _strings(logger, "logger", allow_empty=False)
        self._prefixes = tuple(name + "." for name in self.loggers or ())
        self.exceptions = None if exception is None else _exception_classes(exception, "exception")
        self.messages = None if message is None else _strings(message, "message", allow_empty=False)
        self._message = self.messages[0] if self.messages and len(self.messages) == 1 else None
        self._message_chars = tuple(frozenset(item) for item in self.messages or ())
        self._templates: dict[str, bool] = {}  # see _could_hold
        self._matches = None if action is None else _ActionMatcher(action, "action")

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the level when every given criterion matches; always ``True``."""
        levelno, from_levels = record.levelno, self.from_levels
        if levelno == self.level or (from_levels is not None and levelno not in from_levels):
            return True
        if self.loggers is not None:
            name = record.name
            if name not in self.loggers and not name.startswith(self._prefixes):
                return True
        if self.exceptions is not None:
            exc_info = record.exc_info
            if not exc_info or not isinstance(exc_info[1], self.exceptions):
                return True
        if self._matches is not None and not self._matches(record.__dict__.get("action")):
            return True
        messages = self.messages
        if messages is not None:
            msg = record.msg
            if type(msg) is str:  # the usual case: skip formatting when no item can be in it
                could = self._templates.get(msg)
                if could is None:
                    could = self._could_hold(msg)
                if not could and type(record).getMessage is _GET_MESSAGE:
                    return True
            try:
                text = record.getMessage()
            except Exception:
                return True
            # ``in`` per item: 2-3x faster than a regex alternation (sre tries every item at
            # every position) or a generator; no loop for one item, the usual case.
            only = self._message
            if only is not None:
                if only not in text:
                    return True
            else:
                for item in messages:
                    if item in text:
                        break
                else:
                    return True
        record.levelno, record.levelname = self.level, self.levelname
        return True

    def _could_hold(self, template: str) -> bool:
        """Return (and remember) whether an item can be in ``template % args`` at all."""
        chars = _formatted_chars(template)
        could = chars is None or any(item <= chars for item in self._message_chars)
        if len(self._templates) >= 1024:
            self._templates.clear()
        self._templates[template] = could
        return could


class ExceptionFilter(logging.Filter):
    """Drop records whose exception is one of the listed kinds (Django's ``UnreadablePostError``).

    Args:
        exclude: exception classes or their dotted paths (one or a list): a record whose
            exception is an instance of one of them is dropped.
        chain: also look at the exceptions the record's exception was raised from or while
            handling: the chain a traceback shows, following ``__cause__``, else
            ``__context__`` unless suppressed (``raise ... from None``). Cycle-safe.

    Records without an exception pass.

    Raises:
        ImportError: a dotted path that does not import.
        TypeError: an item that is not an exception class.
        ValueError: an empty list.

    Example ``dictConfig`` entry::

        "filters": {"no_unreadable_post": {
            "()": "structlogx.filters.ExceptionFilter",
            "exclude": ["django.http.UnreadablePostError"]}}
    """

    def __init__(
        self,
        exclude: type[BaseException] | str | Sequence[type[BaseException] | str],
        *,
        chain: bool = False,
    ) -> None:
        super().__init__()
        self.exclude = _exception_classes(exclude, "exclude")
        self.chain = bool(chain)

    def filter(self, record: logging.LogRecord) -> bool:
        """Return ``False`` for a record whose exception (or chain) matches, else ``True``."""
        exc_info = record.exc_info
        if not exc_info:
            return True
        exc = exc_info[1]
        if exc is None:
            kind = exc_info[0]
            return not (isinstance(kind, type) and issubclass(kind, self.exclude))
        if not self.chain:
            return not isinstance(exc, self.exclude)
        seen: set[int] = set()
        current: BaseException | None = exc
        while current is not None and id(current) not in seen:
            if isinstance(current, self.exclude):
                return False
            seen.add(id(current))
            cause = current.__cause__
            if cause is None and not current.__suppress_context__:
                cause = current.__context__
            current = cause
        return True


# RateLimitFilter locks are re-created in a forked child, where a lock held by another thread
# of the parent at fork time would stay locked for ever (as logging does for its handlers).
_RATE_LIMITERS: weakref.WeakSet[RateLimitFilter] = weakref.WeakSet()


def _reinit_rate_limit_locks() -> None:  # pragma: no cover - runs in forked children
    for limiter in list(_RATE_LIMITERS):
        limiter._lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reinit_rate_limit_locks)


class RateLimitFilter(logging.Filter):
    """Pass at most *rate* records per *per_s* seconds for each kind of record.

    Each key has its own fixed window, which starts with the first record of the key and
    lasts *per_s* seconds; within it the first *rate* records pass and the others are
    dropped (so across a window boundary up to ``2 * rate`` records may pass in *per_s*
    seconds). The next record of the key that passes carries ``record.suppressed``, the
    number of records of that key dropped since the previous one passed; records with
    nothing dropped before them get no such attribute. A count is only reported by a later
    record of the same key: a filter does no I/O and runs no timers.

    Args:
        rate: records per window, an int of at least 1.
        per_s: the window length in seconds, above 0.
        key: a function of the record returning a hashable key, or its dotted path. The
            default key is the logger name, the level, the message template
            (``record.msg``, not the formatted message), the exception type and the place of
            the logging call (``pathname``, ``lineno``). A key function that raises or
            returns an unhashable value is reported once on ``sys.stderr`` and the record is
            limited under the default key.
        max_keys: the number of keys remembered; beyond it the least recently seen key is
            forgotten, with its window and its count of dropped records.
        clock: a function returning seconds (its dotted path in configs); default
            :func:`time.monotonic`. For tests. Should the clock (or anything else) fail, the
            record passes and the error is reported once.

    Adds ``record.suppressed`` (see above); on a handler, that handler's output and every
    handler after it shows it, as the record is shared. Thread-safe.

    Example ``dictConfig`` entry (10 records a minute for each kind of record)::

        "filters": {"ten_a_minute": {
            "()": "structlogx.filters.RateLimitFilter", "rate": 10, "per_s": 60}}
    """

    def __init__(
        self,
        rate: int,
        per_s: float,
        *,
        key: Callable[[logging.LogRecord], Hashable] | str | None = None,
        max_keys: int = 10_000,
        clock: Callable[[], float] | str | None = None,
    ) -> None:
        super().__init__()
        if isinstance(rate, bool) or not isinstance(rate, int):
            raise TypeError(f"rate must be an int, not {type(rate).__name__}")
        if rate < 1:
            raise ValueError(f"rate must be at least 1, got {rate}")
        if isinstance(per_s, bool) or not isinstance(per_s, (int, float)):
            raise TypeError(f"per_s must be a number of seconds, not {type(per_s).__name__}")
        if not (math.isfinite(per_s) and per_s > 0):
            raise ValueError(f"per_s must be a finite number of seconds above 0, got {per_s}")
        if isinstance(max_keys, bool) or not isinstance(max_keys, int):
            raise TypeError(f"max_keys must be an int, not {type(max_keys).__name__}")
        if max_keys < 1:
            raise ValueError(f"max_keys must be at least 1, got {max_keys}")
        self.rate, self.per_s, self.max_keys = rate, float(per_s), max_keys
        self.key: Callable[[logging.LogRecord], Hashable] | None = (
            None if key is None else _callable(key, "key")
        )
        self.clock: Callable[[], float] = (
            time.monotonic if clock is None else _callable(clock, "clock")
        )
        # key -> [window start, records passed in the window, records dropped since last pass]
        self._windows: OrderedDict[Hashable, list[Any]] = OrderedDict()
        self._lock = threading.Lock()
        _RATE_LIMITERS.add(self)

    def filter(self, record: logging.LogRecord) -> bool:
        """Return whether *record* is within its key's rate; set ``suppressed`` when due."""
        try:
            key_function = self.key
            if key_function is not None:
                try:
                    key = key_function(record)
                    hash(key)
                except RecursionError:  # pragma: no cover
                    raise
                except Exception:
                    _report(self, "the key function failed; the default key is used", record)
                    key_function = None
            if key_function is None:  # the default key, inline: this runs for every record
                msg, exc_info = record.msg, record.exc_info
                key = (
                    record.name,
                    record.levelno,
                    msg if type(msg) is str else type(msg),
                    exc_info[0] if exc_info else None,
                    record.pathname,
                    record.lineno,
                )
            dropped = self.admit(key)
        except RecursionError:  # pragma: no cover
            raise
        except Exception:  # a broken clock, a key whose __eq__ raises: nothing is lost
            _report(self, "rate limiting failed; the record passes", record)
            return True
        if dropped is None:
            return False
        if dropped:
            record.suppressed = dropped
        return True

    def admit(self, key: Hashable) -> int | None:
        """Count one event of *key*: ``None`` if it is over the rate, else how many were
        dropped since the last one admitted (usually 0).

        The filter's decision without a record, for callers that throttle other things
        (the admin e-mail handler throttles mails with it). May raise if the clock does.
        """
        now = self.clock()
        windows = self._windows
        with self._lock:
            window = windows.get(key)
            if window is None:
                windows[key] = [now, 1, 0]
                if len(windows) > self.max_keys:
                    windows.popitem(last=False)
                return 0
            windows.move_to_end(key)
            if now - window[0] >= self.per_s:
                window[0], window[1] = now, 0
            if window[1] >= self.rate:
                window[2] += 1
                return None
            window[1] += 1
            dropped: int = window[2]
            window[2] = 0
            return dropped


class RedactFilter(logging.Filter):
    """Hide secrets in a record before any handler writes it (see :mod:`structlogx.redact`).

    What is looked at, and what replaces what:

    * ``record.msg``: card numbers and credentials in a ``str`` template; a mapping or
      sequence message is redacted as a whole, keys included.
    * ``record.args``: each argument, *before* formatting, so ``%s`` shows the redacted
      value; a single mapping argument (``"%(token)s"``-style) is redacted by its keys.
    * every attribute beyond the standard ones (the ``extra`` keys, and what earlier filters
      set): a sensitive attribute name (``extra={"api_key": ...}``) replaces the whole
      value; other values (``data`` included) are redacted within, at any depth.
    * the bound context (:func:`structlogx.context.bind`): when it holds secrets, a redacted
      snapshot is stored as ``record.structlogx_context``, which the formatters read
      instead of the live context.

    The caller's objects are never changed: the record's attributes are replaced by redacted
    copies. Exception texts, tracebacks and ``int`` arguments are not redacted. The record is
    shared by every handler that sees it after this filter; put the filter on the logger, or
    on the first handler, and after any filter that copies values onto the record (such as
    :class:`ContextFilter` with ``as_attributes``): it only sees what the record holds when
    it runs. Should redaction fail unexpectedly, the record is dropped (fail closed) and the
    error reported once on ``sys.stderr``.

    Args:
        keys: the substrings that make a key sensitive (case-insensitive; one or a list),
            replacing the default :data:`~structlogx.redact.SENSITIVE_KEYS`; ``[]`` for none.
        extra_keys: substrings added to *keys* (one or a list).
        substitute: what hidden values become.
        cards: hide payment card numbers in strings.
        credentials: hide ``Bearer``/``Basic`` credentials in strings.

    Example ``dictConfig`` entry (the filter goes in a logger's or the first handler's
    ``filters``)::

        "filters": {"redact": {
            "()": "structlogx.filters.RedactFilter", "extra_keys": ["iban", "ssn"]}}
    """

    def __init__(
        self,
        *,
        keys: Sequence[str] | None = None,
        extra_keys: Sequence[str] = (),
        substitute: str = SUBSTITUTE,
        cards: bool = True,
        credentials: bool = True,
    ) -> None:
        super().__init__()
        names = SENSITIVE_KEYS if keys is None else _strings(keys, "keys")
        names += _strings(extra_keys, "extra_keys")
        if not isinstance(substitute, str):
            raise TypeError(f"substitute must be a str, not {type(substitute).__name__}")
        self.redactor = Redactor(
            keys=key_pattern(names), substitute=substitute, cards=cards, credentials=credentials
        )
        self._bound: tuple[object, Any] = (None, None)  # bound context -> redacted snapshot

    def filter(self, record: logging.LogRecord) -> bool:
        """Replace secret-bearing attributes with redacted copies; ``False`` only on failure."""
        try:
            redactor = self.redactor
            redact, text = redactor.redact, redactor.text
            clean = redactor._clean  # the texts known to hide nothing
            msg = record.msg
            if type(msg) is str:
                if len(msg) >= _SHORTEST_SECRET and msg not in clean:
                    new = text(msg)
                    if new is not msg:
                        record.msg = new
            elif msg is not None:
                record.msg = redact(msg)
            args = record.args
            if args:
                for arg in args if type(args) is tuple else (args,):
                    if type(arg) in _PLAIN_TYPES or (
                        type(arg) is str
                        and (len(arg) < _SHORTEST_SECRET or arg in clean or text(arg) is arg)
                    ):
                        continue  # the usual arguments: numbers, text with nothing to hide
                    record.args = redact(args)  # the full walk; a copy where needed
                    break
            attributes = record.__dict__
            extras = len(attributes) - _STANDARD_COUNT
            if extras > 0:
                # LogRecord.__init__ sets every standard attribute and makeRecord adds the
                # extras after them: only the last *extras* items are read (from the end, so
                # the standard ones are not even stepped over). They are redacted whatever
                # they are: the extras, a context snapshot, a message a formatter stored.
                changes = redactor._changes(
                    itertools.islice(reversed(attributes.items()), extras), 1, set()
                )
                if changes:
                    attributes.update(changes)
            bound = attributes.get(CONTEXT_ATTR)
            if bound is None:
                bound = _context.current()
            if bound:
                cached_for, snapshot = self._bound
                if cached_for is not bound:
                    snapshot = redact(bound)
                    if snapshot is not bound:  # a dict, or the substitute if reading bound failed
                        snapshot = MappingProxyType(snapshot if isinstance(snapshot, dict) else {})
                    self._bound = (bound, snapshot)
                if snapshot is not bound:
                    attributes[CONTEXT_ATTR] = snapshot
        except RecursionError:  # pragma: no cover
            raise
        except Exception:
            _report(self, "redaction failed; the record is dropped", record)
            return False
        return True
