"""Human-readable texts for action types: pretix's ``logentry_display``, without signals.

Register a text (or a callable) for an action type or a family of them, then turn any audit
entry or record into the sentence a person reads::

    from structlogx import display

    display.register("shop.order.paid", "The order has been marked as paid.")
    display.register("shop.order.canceled", "The order was canceled ({data[reason]}).")
    display.register("shop.*", lambda entry: f"Shop event: {entry.action}")

    display.display(entry)   # "The order was canceled (customer request)."

Patterns are exact action names or a dotted prefix followed by ``.*``; ``*`` alone matches
every action. The most specific pattern wins: the exact name, then the longest prefix.

Text templates may use ``{data[key]}`` placeholders and nothing else: no attribute access, no
indexing beyond one key, no conversion or format spec, so a template can never reach into
an object. A key missing from the entry's data renders as ``?``. Write ``{{`` and ``}}`` for
literal braces. A callable receives the entry (or the record) and returns the text, or
``None`` to let the next less specific pattern answer.

An action with no registration falls back to the record's message, then to the action name.
"""

from __future__ import annotations

import logging
import re
import string
import threading
from collections.abc import Callable, Mapping
from typing import Any, Final, TypeVar, overload

from structlogx.jsonsafe import safe_repr
from structlogx.records import AuditEntry, action_error

__all__ = ["MISSING", "Registry", "default_registry", "display", "register", "unregister"]

MISSING: Final = "?"
"""What a ``{data[key]}`` placeholder renders when the key is missing (pretix's rule)."""

Entry = AuditEntry | logging.LogRecord | Mapping[str, Any]
"""Anything :func:`display` accepts: an entry, a record, or a mapping with the entry's keys."""

Text = str | Callable[[Any], "str | None"]

_TextT = TypeVar("_TextT", bound=Text)

_PLACEHOLDER: Final = re.compile(r"data\[([^\[\]{}!:.]+)\]\Z")


def _compile(template: str) -> list[tuple[str, str | None]]:
    """Split *template* into (literal, data key) pieces, rejecting anything but ``{data[key]}``."""
    pieces: list[tuple[str, str | None]] = []
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise ValueError(f"invalid display template {template!r}: {exc}") from exc
    for literal, field, spec, conversion in parsed:
        if field is None:
            pieces.append((literal, None))
            continue
        match = _PLACEHOLDER.match(field)
        if match is None or spec or conversion:
            raise ValueError(
                f"invalid placeholder {{{field}{'!' + conversion if conversion else ''}"
                f"{':' + spec if spec else ''}}} in display template {template!r}: "
                "only {data[key]} is allowed"
            )
        pieces.append((literal, match.group(1)))
    return pieces


def _render(pieces: list[tuple[str, str | None]], data: object) -> str:
    parts: list[str] = []
    for literal, key in pieces:
        parts.append(literal)
        if key is not None:
            value = data.get(key, MISSING) if isinstance(data, Mapping) else MISSING
            try:
                parts.append(value if isinstance(value, str) else str(value))
            except Exception:
                parts.append(safe_repr(value))
    return "".join(parts)


def _check_pattern(pattern: object) -> None:
    if not isinstance(pattern, str):
        raise TypeError(f"display pattern must be a str, not {type(pattern).__name__}")
    if pattern == "*":
        return
    # A prefix may be a single segment ("shop.*"): check it as if it had a second one.
    problem = action_error(pattern[:-2] + ".x" if pattern.endswith(".*") else pattern)
    if problem is not None:
        raise ValueError(f"invalid display pattern {pattern!r}: {problem}")


def _field(entry: Entry, name: str) -> Any:
    if isinstance(entry, Mapping):
        return entry.get(name)
    if isinstance(entry, logging.LogRecord):
        return entry.__dict__.get(name)
    return getattr(entry, name, None)


class Registry:
    """A mapping from action patterns to display texts; thread-safe to register into."""

    def __init__(self) -> None:
        self._texts: dict[str, tuple[Text, list[tuple[str, str | None]] | None]] = {}
        self._lock = threading.Lock()

    def register(self, pattern: str, text: Text) -> None:
        """Register *text* (template or callable) for *pattern*; a later call replaces it.

        Raises:
            ValueError: the pattern is not an action name, ``prefix.*`` or ``*``, or the
                template uses anything but ``{data[key]}`` placeholders.
            TypeError: *text* is neither a ``str`` nor callable.
        """
        _check_pattern(pattern)
        if isinstance(text, str):
            compiled: list[tuple[str, str | None]] | None = _compile(text)
        elif callable(text):
            compiled = None
        else:
            raise TypeError(f"display text must be a str or a callable, not {type(text).__name__}")
        with self._lock:
            self._texts[pattern] = (text, compiled)

    def unregister(self, pattern: str) -> None:
        """Forget *pattern*; unknown patterns are ignored."""
        with self._lock:
            self._texts.pop(pattern, None)

    def candidates(self, action: str) -> list[str]:
        """Return the registered patterns that match *action*, most specific first."""
        texts = self._texts
        found = [action] if action in texts else []
        prefix = action
        while "." in prefix:
            prefix = prefix.rsplit(".", 1)[0]
            if prefix + ".*" in texts:
                found.append(prefix + ".*")
        if "*" in texts:
            found.append("*")
        return found

    def text_for(self, entry: Entry) -> str | None:
        """Return the registered text for *entry*, or ``None`` when no pattern answers."""
        action = _field(entry, "action")
        if not isinstance(action, str):
            return None
        for pattern in self.candidates(action):
            registered = self._texts.get(pattern)
            if registered is None:  # unregistered meanwhile
                continue
            text, compiled = registered
            if compiled is not None:
                return _render(compiled, _field(entry, "data"))
            try:
                result = text(entry)  # type: ignore[operator]
            except Exception:
                continue
            if result is not None:
                return result if isinstance(result, str) else safe_repr(result)
        return None

    def display(self, entry: Entry) -> str:
        """Return the human text for *entry*: registered text, else its message, else its action."""
        text = self.text_for(entry)
        if text is not None:
            return text
        if isinstance(entry, logging.LogRecord):
            try:
                message: object = entry.getMessage()
            except Exception:
                message = entry.msg
        else:
            message = _field(entry, "message")
        if message:
            return message if isinstance(message, str) else safe_repr(message)
        action = _field(entry, "action")
        return action if isinstance(action, str) else ""


default_registry: Final = Registry()
"""The registry behind the module-level functions and the formatters' default."""


@overload
def register(pattern: str, text: _TextT) -> _TextT: ...
@overload
def register(pattern: str, text: None = None) -> Callable[[_TextT], _TextT]: ...
def register(pattern: str, text: Text | None = None) -> Any:
    """Register *text* for *pattern* in the default registry and return it.

    Without *text*, return a decorator, for callables::

        @display.register("shop.order.*")
        def order_text(entry): return f"Order {entry.object_text}: {entry.action}"
    """
    if text is None:
        _check_pattern(pattern)  # fail at decoration time, not at first use

        def decorator(function: _TextT) -> _TextT:
            default_registry.register(pattern, function)
            return function

        return decorator
    default_registry.register(pattern, text)
    return text


def unregister(pattern: str) -> None:
    """Remove *pattern* from the default registry."""
    default_registry.unregister(pattern)


def display(entry: Entry, registry: Registry | None = None) -> str:
    """Return the human text for *entry*.

    Args:
        entry: an :class:`~structlogx.records.AuditEntry`, a log record, or a mapping.
        registry: where to look the action up (default: :data:`default_registry`).
    """
    return (registry or default_registry).display(entry)
