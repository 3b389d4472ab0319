"""Helpers named by the fixture configurations, and a logging-state snapshot for tests."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any


class SpecialFilter(logging.Filter):
    """The seed's ``project.logging.SpecialFilter``: drops records logged with ``quiet=True``.

    Adds ``record.special``: the *foo* argument, so tests can see that it arrived.
    """

    def __init__(self, foo: str) -> None:
        super().__init__()
        self.foo = foo

    def filter(self, record: logging.LogRecord) -> bool:
        """Tag the record; drop it when it carries ``quiet``."""
        record.special = self.foo
        return not getattr(record, "quiet", False)


class RecordingHandler(logging.Handler):
    """A handler that keeps what it receives, for tests that look at routing.

    It keeps the records and their formatted text. A plain ``logging.Handler`` on purpose: no
    ``MemoryHandler`` buffering or flushing to reason about.
    """

    def __init__(self, level: int | str = logging.NOTSET) -> None:
        super().__init__(level)
        self.records: list[logging.LogRecord] = []
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Keep the record and its formatted text."""
        self.records.append(record)
        self.messages.append(self.format(record))


class UnreadablePostError(OSError):
    """The seed's ``django.http.UnreadablePostError``: a client aborted an upload."""


def skip_unreadable_post(record: logging.LogRecord) -> bool:
    """The seed's callback: drop records about an aborted upload."""
    if record.exc_info:
        exc_value = record.exc_info[1]
        if isinstance(exc_value, UnreadablePostError):
            return False
    return True


def all_loggers() -> list[logging.Logger]:
    """Return the root logger and every logger created so far."""
    named = [
        logger
        for logger in logging.Logger.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
    ]
    return [logging.root, *named]


def handler_named(name: str) -> logging.Handler:
    """Return the handler that ``dictConfig`` built under *name* (attached to some logger)."""
    for logger in all_loggers():
        for handler in logger.handlers:
            if handler.name == name:
                return handler
    raise LookupError(f"no handler named {name!r} is attached to a logger")


def _is_pytest(handler: logging.Handler) -> bool:
    # pytest attaches its own capture handlers to the root logger for each test phase and
    # removes them itself; a snapshot must neither keep nor bring them back.
    return type(handler).__module__.startswith("_pytest")


@dataclass
class _Logger:
    level: int
    handlers: list[logging.Handler]
    filters: list[Any]
    propagate: bool
    disabled: bool


_PRISTINE = _Logger(logging.NOTSET, [], [], True, False)


class LoggingState:
    """The global logging state: root and every logger's level, handlers, filters, flags.

    ``LoggingState()`` takes a snapshot; :meth:`restore` puts it back, resets loggers created
    since, and closes the handlers that were added since (pytest's own handlers left alone).
    """

    def __init__(self) -> None:
        self.loggers = {
            "" if logger is logging.root else logger.name: self._capture(logger)
            for logger in all_loggers()
        }

    @staticmethod
    def _capture(logger: logging.Logger) -> _Logger:
        handlers = [handler for handler in logger.handlers if not _is_pytest(handler)]
        return _Logger(
            logger.level, handlers, list(logger.filters), logger.propagate, logger.disabled
        )

    def describe(self) -> dict[str, tuple[Any, ...]]:
        """Return a comparable view: name to (level, handler ids, filter ids, flags)."""
        return {
            name: (
                state.level,
                tuple(map(id, state.handlers)),
                tuple(map(id, state.filters)),
                state.propagate,
                state.disabled,
            )
            for name, state in self.loggers.items()
        }

    def restore(self) -> None:
        """Put the snapshot back."""
        kept = {id(handler) for state in self.loggers.values() for handler in state.handlers}
        for logger in all_loggers():
            name = "" if logger is logging.root else logger.name
            state = self.loggers.get(name, _PRISTINE)
            for handler in logger.handlers:
                if not _is_pytest(handler) and id(handler) not in kept:
                    handler.close()
            ours = [handler for handler in logger.handlers if _is_pytest(handler)]
            logger.handlers = ours + state.handlers
            logger.filters = list(state.filters)
            logger.propagate, logger.disabled = state.propagate, state.disabled
            if logger.level != state.level:
                logger.setLevel(state.level)
