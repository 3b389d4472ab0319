"""Bind key/value pairs to every record logged inside a block, across threads and tasks.

``with bind(request_id="r-1", user="alice"):`` makes those values part of every record logged
inside the block (through :class:`~structlogx.filters.ContextFilter` and the formatters), in
every function it calls and every asyncio task it starts.

Design: the whole context is one immutable mapping held in a single
:class:`~contextvars.ContextVar` (structlog keeps one variable per key instead). Reading a
snapshot, which happens for every record, is then a single ``ContextVar.get()`` with no copy;
binding, which happens once per request, pays for building a new small mapping.

Where the values reach:

* asyncio tasks copy the context when they are created, so a task started inside ``bind``
  sees the values, and a ``bind`` inside the task does not leak out of it.
* threads do *not* inherit context variables. Start the thread through :func:`wrap`
  (``Thread(target=wrap(work))``), or run it with ``contextvars.copy_context().run``;
  ``concurrent.futures`` executors: ``executor.submit(wrap(work), ...)``.
"""

from __future__ import annotations

import contextvars
import functools
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from types import MappingProxyType
from typing import Any, Final, TypeVar

__all__ = ["bind", "current", "isolated", "wrap"]

_T = TypeVar("_T")

_EMPTY: Final[Mapping[str, Any]] = MappingProxyType({})
_CONTEXT: Final = contextvars.ContextVar[Mapping[str, Any]]("structlogx_context", default=_EMPTY)


def current() -> Mapping[str, Any]:
    """Return the values bound here, as a read-only mapping (a cheap snapshot)."""
    return _CONTEXT.get()


@contextmanager
def bind(**values: Any) -> Iterator[Mapping[str, Any]]:
    """Bind *values* for the duration of the ``with`` block; restore the previous ones on exit.

    Inner binds add to (and may shadow) the outer ones. Yields the combined context.
    """
    combined: Mapping[str, Any] = MappingProxyType({**_CONTEXT.get(), **values})
    token = _CONTEXT.set(combined)
    try:
        yield combined
    finally:
        _CONTEXT.reset(token)


@contextmanager
def isolated() -> Iterator[None]:
    """Run the block with an empty context (e.g. a background job started from a request)."""
    token = _CONTEXT.set(_EMPTY)
    try:
        yield
    finally:
        _CONTEXT.reset(token)


def wrap(function: Callable[..., _T]) -> Callable[..., _T]:
    """Return *function* bound to a copy of the current context, to run in another thread.

    Each call runs in its own copy of that snapshot, so the wrapped function may run in
    several threads at once and a ``bind`` inside one call never reaches another.
    """
    snapshot = contextvars.copy_context()

    @functools.wraps(function)
    def run(*args: Any, **kwargs: Any) -> _T:
        return snapshot.copy().run(function, *args, **kwargs)

    return run
