"""Build the exception report an administrator reads: plain text for the body, HTML beside it.

:class:`ExceptionReporter` is Django's reporter of the same name, framework-free: the
exception type, value and notes, the whole chain (``__cause__`` and ``__context__``, as
Python prints it, root cause first), every frame with a few source lines around the current
one, what the request was (:mod:`structlogx.mail.request`) and structlogx's settings. The
HTML report adds each frame's local variables.

An error report leaves the process, usually by e-mail, so everything in it passes the rules
of :mod:`structlogx.redact` (sensitive key names, card numbers, ``Bearer``/``Basic``
credentials) and a few more of its own:

* local variables: a variable whose name is sensitive (``password``, ``api_key``) is hidden
  whole, and so is every variable named by :func:`sensitive_variables`; other values are
  shown as a bounded ``repr`` (at most :attr:`ExceptionReporter.repr_limit` characters,
  containers read to a fixed number of items) in which sensitive keys, sensitive
  ``(name, value)`` pairs, ``name=value`` assignments with a sensitive name and passwords in
  URLs (``scheme://user:password@host``) are hidden. A ``__repr__`` that raises shows as
  ``<unrepresentable ...>``.
* POST parameters: those with a sensitive name and those marked with
  :func:`sensitive_post_parameters`, :func:`mark_sensitive_post_parameters` or
  :attr:`ExceptionReporter.sensitive_post_parameters`.
* cookies: every value is hidden (names are kept). Cookies are credentials far more often
  than their names say (``sid``, ``remember``), and a report never needs their values.
* the URL: values of query parameters with a sensitive name.
* settings: every setting with a sensitive name (``EMAIL_HOST_PASSWORD``), and URL passwords
  in the others (``AUDIT_STORE``).

Exception messages and notes pass the card, credential and URL-password rules, not the
``name=value`` rule, because admins need them as written: an exception message that quotes a
secret still shows it.

Beyond those rules, a value found hidden anywhere in the report (a ``password`` local, a
marked POST value, a cookie, a secret setting; 8 characters or more) is hidden wherever else
it appears: in a wrapper's ``args``, in a variable with an innocent name, in a message.

A report never raises: a part that fails while it is built or rendered is replaced by
``<could not be rendered: ...>`` and the rest still goes out.

This module is longer than the style guide's ~600 lines on purpose: the report's data, its
two renderings and the sensitivity markers share the redaction helpers and one never-raise
discipline, and reading them together is how a reviewer checks that nothing leaks. The two
renderers (``_Text``, ``_Html``) are the part to move out first if it grows.

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import contextvars
import dataclasses
import datetime
import functools
import html
import inspect
import itertools
import linecache
import os
import re
import socket
import sys
import threading
import urllib.parse
import weakref
from collections.abc import Callable, Iterable, Mapping, MutableMapping, Sequence, Set
from types import CodeType, FrameType, TracebackType
from typing import Any, ClassVar, Final, TypeVar, cast

from structlogx.conf import settings
from structlogx.jsonsafe import qualified_name, safe_repr
from structlogx.mail.request import (
    ALL_PARAMETERS,
    SENSITIVE_POST_KEY,
    RequestInfo,
    request_info,
)
from structlogx.redact import SUBSTITUTE, is_sensitive_key, redact, redact_text

__all__ = [
    "NO_EXCEPTION_MESSAGE",
    "ExceptionReporter",
    "mark_sensitive_post_parameters",
    "sensitive_post_parameters",
    "sensitive_variables",
]

F = TypeVar("F", bound=Callable[..., Any])

NO_EXCEPTION_MESSAGE: Final = "No exception message supplied"
"""The report's value when there is neither an exception nor a message (Django's text)."""

_ALL: Final = ALL_PARAMETERS  # "hide every name", for variables and POST parameters alike
_MESSAGE_LIMIT: Final = 16 * 1024
_LINE_LIMIT: Final = 500
_PREVIEW_ITEMS: Final = 100  # items read per container while rendering a variable
_PREVIEW_BUDGET: Final = 2000  # values read per variable in all
_PREVIEW_DEPTH: Final = 8
_SECRET_MIN, _SECRET_MAX, _SECRETS_MAX = 8, 4096, 200
_URL_PASSWORD: Final = re.compile(
    r"(?P<head>\b[a-z][a-z0-9+.-]*://[^:/?#@\s]*:)(?P<password>[^@/?#\s]+)(?=@)", re.IGNORECASE
)
# A name, then = or : (the name possibly quoted, as in a dict repr), then a value: a quoted
# string or a run of characters up to a separator.
_ASSIGNMENT: Final = re.compile(
    r"""(?P<name>[A-Za-z_][\w.-]*)(?P<sep>['"]?\s*[=:]\s*)"""
    r"""(?P<value>'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"|[^\s,;&)}\]>'"]+)"""
)
_CAUSE: Final = "The above exception was the direct cause of the following exception:"
_CONTEXT: Final = "During handling of the above exception, another exception occurred:"

# Code objects of functions decorated with sensitive_variables(): their hidden names.
_SENSITIVE_CODE: weakref.WeakKeyDictionary[CodeType, frozenset[str]] = (
    weakref.WeakKeyDictionary()
)
_SENSITIVE_LOCK: Final = threading.Lock()
# Names declared by sensitive_post_parameters() for the view running in this context.
_ACTIVE_POST: contextvars.ContextVar[frozenset[str]] = contextvars.ContextVar(
    "structlogx_sensitive_post_parameters", default=frozenset()
)
_EXCEPTION_MARK: Final = "_structlogx_sensitive_post_parameters"


# -- marking what is sensitive -------------------------------------------------------------


def _check_names(decorator: str, names: tuple[Any, ...]) -> frozenset[str]:
    if len(names) == 1 and callable(names[0]):
        raise TypeError(
            f"{decorator}() must be called to be used as a decorator: "
            f"write @{decorator}(), not @{decorator}"
        )
    for name in names:
        if not isinstance(name, str) or not name:
            raise TypeError(f"{decorator}() takes names as non-empty str, got {name!r}")
    return frozenset(names) if names else frozenset({_ALL})


def sensitive_variables(*names: str) -> Callable[[F], F]:
    """Hide local variables of the decorated function in error reports.

    ``@sensitive_variables("password", "card")`` hides those two names;
    ``@sensitive_variables()`` hides every local variable of the function. Their names stay
    visible, their values become the substitute. As in Django, the names are also hidden in
    every frame the function calls (a helper that receives ``password`` under the same name).

    The function itself is returned unchanged (no wrapper frame, nothing added to each call):
    its code object is recorded, so the decorator works on plain, ``async`` and generator
    functions and on methods. Other decorators above it must use :func:`functools.wraps`
    (it follows ``__wrapped__`` to the function that holds the variables). A variable whose
    name is sensitive anyway (``password``, ``token``) needs no decorator.

    Raises:
        TypeError: used without parentheses, a name is not a non-empty ``str``, or the
            decorated object is not a function.
    """
    hidden = _check_names("sensitive_variables", names)

    def decorator(func: F) -> F:
        code = _innermost_code(func)
        if code is None:
            raise TypeError(
                f"sensitive_variables() decorates functions, not {type(func).__name__}"
            )
        with _SENSITIVE_LOCK:
            _SENSITIVE_CODE[code] = _SENSITIVE_CODE.get(code, frozenset()) | hidden
        return func

    return decorator


def _innermost_code(func: object) -> CodeType | None:
    code = None
    for _ in range(100):
        target = getattr(func, "__func__", func)  # classmethod, staticmethod, bound method
        found = getattr(target, "__code__", None)
        if isinstance(found, CodeType):
            code = found
        func = getattr(target, "__wrapped__", None)
        if func is None:
            break
    return code


def sensitive_post_parameters(*names: str) -> Callable[[F], F]:
    """Hide POST parameters of requests handled by the decorated view in error reports.

    ``@sensitive_post_parameters("pin", "card_number")`` hides those parameters;
    ``@sensitive_post_parameters()`` hides every POST value. Parameters with a sensitive name
    (``password``) are hidden without it. The view may be a plain or an ``async`` function.

    Frameworks hand requests to views differently, so each call marks the request in three
    ways, each of which the reporter reads:

    * every argument that is a request (a Django, Werkzeug or Starlette request, a WSGI
      environ, an ASGI scope) is marked with :func:`mark_sensitive_post_parameters`, so a
      report built later for that request hides the names (Django's behaviour);
    * while the view runs, the names are active in the current context, so a report built
      inside it (``logger.exception(...)`` in an ``except`` block) hides them, whatever the
      request object is (Flask's global ``request``);
    * an exception leaving the view carries the names, so the report built by the framework's
      error handler for that exception hides them.

    To hide names for every request, subclass :class:`ExceptionReporter`, set
    :attr:`~ExceptionReporter.sensitive_post_parameters` and name the subclass as the
    handler's ``reporter_class``.

    Raises:
        TypeError: used without parentheses, or a name is not a non-empty ``str``.
    """
    hidden = _check_names("sensitive_post_parameters", names)

    def begin(args: tuple[Any, ...], kwargs: dict[str, Any]) -> contextvars.Token[frozenset[str]]:
        for argument in itertools.chain(args, kwargs.values()):
            if _is_request(argument):
                try:
                    mark_sensitive_post_parameters(argument, *names)
                except Exception:  # marking must never break the view
                    continue
        return _ACTIVE_POST.set(_ACTIVE_POST.get() | hidden)

    def mark(exc: BaseException) -> None:
        try:
            setattr(exc, _EXCEPTION_MARK, getattr(exc, _EXCEPTION_MARK, frozenset()) | hidden)
        except Exception:  # an exception type that refuses attributes: the other marks remain
            return

    def decorator(func: F) -> F:
        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                token = begin(args, kwargs)
                try:
                    return await func(*args, **kwargs)
                except BaseException as exc:
                    mark(exc)
                    raise
                finally:
                    _ACTIVE_POST.reset(token)

            return cast(F, async_wrapper)

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            token = begin(args, kwargs)
            try:
                return func(*args, **kwargs)
            except BaseException as exc:
                mark(exc)
                raise
            finally:
                _ACTIVE_POST.reset(token)

        return cast(F, wrapper)

    return decorator


def _is_request(value: object) -> bool:
    """Return whether *value* is clearly a request (stricter than :func:`request_info`)."""
    try:
        if isinstance(value, Mapping):
            kind = value.get("type")
            is_scope = isinstance(kind, str) and kind in ("http", "websocket")
            return is_scope or "REQUEST_METHOD" in value or "wsgi.version" in value
        return any(
            hasattr(value, name) for name in ("META", "scope", "environ")
        ) and not isinstance(value, type)
    except Exception:
        return False


def mark_sensitive_post_parameters(request: object, *names: str) -> None:
    """Mark *request* so that reports hide the POST parameters *names* (all without names).

    Marks add up. An object request gets Django's ``sensitive_post_parameters`` attribute (so
    Django's own reporter honours the mark too); a WSGI environ or an ASGI scope, and the
    environ or scope of a Werkzeug or Starlette request, get the
    :data:`~structlogx.mail.request.SENSITIVE_POST_KEY` key.

    Raises:
        TypeError: a name is not a non-empty ``str``, or nothing on *request* can be marked.
    """
    hidden = _check_names("mark_sensitive_post_parameters", names)
    marked = False
    stores: list[object] = [request]
    if not isinstance(request, Mapping):
        stores += [getattr(request, "scope", None), getattr(request, "environ", None)]
    for store in stores:
        if isinstance(store, MutableMapping):
            store[SENSITIVE_POST_KEY] = _merged(store.get(SENSITIVE_POST_KEY), hidden)
            marked = True
    if not isinstance(request, Mapping):
        try:
            old = getattr(request, "sensitive_post_parameters", None)
            request.sensitive_post_parameters = _merged(old, hidden)  # type: ignore[attr-defined]
            marked = True
        except (AttributeError, TypeError):
            pass
    if not marked:
        raise TypeError(f"cannot mark a {type(request).__name__} as a request")


def _merged(old: object, hidden: frozenset[str]) -> str | list[str]:
    """Return Django's form of a mark: ``"__ALL__"`` or a list of names."""
    if old == _ALL or _ALL in hidden:
        return _ALL
    names = list(old) if isinstance(old, (list, tuple, set, frozenset)) else []
    return list(dict.fromkeys([*names, *sorted(hidden)]))


# -- rendering values safely ---------------------------------------------------------------


def _describe(exc: BaseException) -> str:
    try:
        text = str(exc)
    except Exception:
        text = "<exception str() failed>"
    name = qualified_name(type(exc))
    return redact_text(f"{name}: {text[:500]}" if text else name)


def _unrendered(exc: BaseException) -> str:
    return f"<could not be rendered: {_describe(exc)}>"


def _trim(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    marker = f"...[cut {len(text) - limit} chars]"
    return text[: max(0, limit - len(marker))] + marker


def _hide_url_passwords(text: str) -> str:
    if "://" not in text:
        return text
    return _URL_PASSWORD.sub(lambda match: match["head"] + SUBSTITUTE, text)


def _scrub(text: str) -> str:
    """Hide cards, credentials and URL passwords in free text."""
    return _hide_url_passwords(redact_text(text))


def _hide_assignment(match: re.Match[str]) -> str:
    if not is_sensitive_key(match["name"]):
        return match.group()
    quote = match["value"][0] if match["value"][0] in "'\"" else ""
    return f"{match['name']}{match['sep']}{quote}{SUBSTITUTE}{quote}"


def _scrub_value(text: str) -> str:
    """:func:`_scrub`, and values of ``name=value`` assignments with a sensitive name."""
    return _ASSIGNMENT.sub(_hide_assignment, _scrub(text))


def _sensitive(key: object) -> bool:
    if isinstance(key, (bytes, bytearray)):
        key = bytes(key[:200]).decode("latin-1")
    return is_sensitive_key(key)


class _Shown:
    """A value already rendered as text (its ``repr`` is the text)."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


class _Call:
    """``Name(inner)`` or ``Name(a=1, b=2)``: a container or record of another type."""

    __slots__ = ("fields", "inner", "name")

    def __init__(self, name: str, inner: object = None, fields: list[Any] | None = None) -> None:
        self.name, self.inner, self.fields = name, inner, fields

    def __repr__(self) -> str:
        if self.fields is not None:
            return f"{self.name}({', '.join(f'{k}={v!r}' for k, v in self.fields)})"
        return f"{self.name}({self.inner!r})"


class _Braces:
    """The items of a set."""

    __slots__ = ("items",)

    def __init__(self, items: list[Any]) -> None:
        self.items = items

    def __repr__(self) -> str:
        return "{" + ", ".join(map(repr, self.items)) + "}" if self.items else "set()"


_MORE: Final = _Shown("...")
_HIDDEN: Final = _Shown(repr(SUBSTITUTE))
_SCALARS: Final = (int, float, complex, bool, type(None))


class _Secrets:
    """Values hidden somewhere in a report, to be hidden everywhere else in it too.

    A password hidden as a local named ``password`` also travels as the ``args`` of a
    wrapper, in another frame's variable with an innocent name or inside a message. Once a
    value is known to be secret (a sensitive name, a marked POST parameter, a cookie), every
    occurrence of it is replaced. Short values (under 8 characters) are not collected: they
    would hide common words all over the report.
    """

    __slots__ = ("_pattern", "values")

    def __init__(self) -> None:
        self.values: set[str] = set()
        self._pattern: re.Pattern[str] | None = None

    def add(self, value: object) -> None:
        if isinstance(value, (list, tuple)):
            for item in value[:100]:
                self.add(item)
            return
        if isinstance(value, (bytes, bytearray)):
            value = bytes(value[:_SECRET_MAX]).decode("utf-8", "ignore")
        if not isinstance(value, str) or len(self.values) >= _SECRETS_MAX:
            return
        text = value if type(value) is str else str.__str__(value)
        for candidate in (text, *text.split()):  # "Bearer <token>": the token alone too
            if _SECRET_MIN <= len(candidate) <= _SECRET_MAX and candidate.strip("*"):
                self.values.add(candidate)
                self._pattern = None

    def mask(self, value: Any, depth: int = 0) -> Any:
        """Return *value* (plain data: dicts, lists, tuples, str) with the secrets replaced."""
        if not self.values:
            return value
        if self._pattern is None:
            ordered = sorted(self.values, key=len, reverse=True)  # the longest match first
            self._pattern = re.compile("|".join(map(re.escape, ordered)))
        if isinstance(value, str):
            return self._pattern.sub(SUBSTITUTE, value)
        if depth > 12:
            return value
        if isinstance(value, dict):
            return {self.mask(key, depth + 1): self.mask(item, depth + 1)
                    for key, item in value.items()}
        if isinstance(value, (list, tuple)):
            masked = [self.mask(item, depth + 1) for item in value]
            return masked if isinstance(value, list) else tuple(masked)
        return value


class _Preview:
    """Copy a value into plain containers, bounded and with sensitive keys hidden.

    Reading stops after a fixed number of items per container and values in all, so a
    million-item local costs no more than a small one; the copy is then ``repr``'d.
    """

    def __init__(self, limit: int, secrets: _Secrets) -> None:
        self.limit, self.budget, self.secrets = limit, _PREVIEW_BUDGET, secrets

    def hide(self, value: object) -> _Shown:
        self.secrets.add(value)
        return _HIDDEN

    def value(self, value: object, depth: int) -> Any:
        self.budget -= 1
        if self.budget < 0:
            return _MORE
        try:
            cls = type(value)
            if cls is str:
                return redact_text(cast(str, value)[: self.limit + 100])
            if cls in _SCALARS or isinstance(value, (str, bytes, bytearray, memoryview, range)):
                if isinstance(value, (bytes, bytearray)):
                    value = value[: self.limit + 100]
                return _Shown(safe_repr(value, self.limit + 100))
            if depth >= _PREVIEW_DEPTH:
                return _MORE
            if isinstance(value, Mapping):
                return self.mapping(value, depth)
            if isinstance(value, (Sequence, Set)):
                return self.items(value, depth)
            if dataclasses.is_dataclass(value) and not isinstance(value, type):
                return self.dataclass(value, depth)
            return _Shown(safe_repr(value, self.limit + 100))
        except Exception as exc:
            return _Shown(_unrendered(exc))

    def mapping(self, value: Mapping[Any, Any], depth: int) -> Any:
        copied: dict[Any, Any] = {}
        for count, (key, item) in enumerate(value.items()):
            if count >= _PREVIEW_ITEMS or self.budget <= 0:
                copied[_MORE] = _MORE
                break
            shown = key[:200] if type(key) is str else _Shown(safe_repr(key, 200))
            copied[shown] = self.hide(item) if _sensitive(key) else self.value(item, depth + 1)
        return copied if type(value) is dict else _Call(qualified_name(type(value)), copied)

    def items(self, value: Iterable[Any], depth: int) -> Any:
        originals = list(itertools.islice(value, _PREVIEW_ITEMS + 1))
        copied = [self.value(item, depth + 1) for item in originals[:_PREVIEW_ITEMS]]
        if len(originals) > _PREVIEW_ITEMS or self.budget <= 0:
            copied.append(_MORE)
        if len(originals) == 2 and _sensitive(originals[0]):  # ("password", "...") pairs
            copied[1] = self.hide(originals[1])
        cls = type(value)
        if cls is list:
            return copied
        if cls is tuple:
            return tuple(copied)
        if cls is set:
            return _Braces(copied)
        fields = getattr(cls, "_fields", None)  # a named tuple
        if isinstance(fields, tuple) and len(fields) == len(copied):
            pairs = [(name, self.hide(original) if _sensitive(name) else item)
                     for name, original, item in zip(fields, originals, copied, strict=True)]
            return _Call(qualified_name(cls), fields=pairs)
        if isinstance(value, Set):
            return _Call(qualified_name(cls), _Braces(copied))
        return _Call(qualified_name(cls), copied)

    def dataclass(self, value: Any, depth: int) -> Any:
        pairs: list[tuple[str, Any]] = []
        for field in dataclasses.fields(value)[:_PREVIEW_ITEMS]:
            if not field.repr:
                continue
            try:
                item = getattr(value, field.name)
                shown = self.hide(item) if _sensitive(field.name) else self.value(item, depth + 1)
                pairs.append((field.name, shown))
            except Exception as exc:
                pairs.append((field.name, _Shown(_unrendered(exc))))
        return _Call(qualified_name(type(value)), fields=pairs)


def _render_value(value: object, limit: int, secrets: _Secrets) -> str:
    """Return a redacted, bounded ``repr`` of *value*; never raises."""
    try:
        text = repr(_Preview(limit, secrets).value(value, 0))
    except Exception as exc:
        text = _unrendered(exc)
    return _trim(_scrub_value(text), limit)


def _safe_str(value: object) -> str:
    try:
        text = str(value)
        return text if type(text) is str else str.__str__(text)
    except Exception:
        return "<exception str() failed>"


def _message(value: object) -> str:
    return _trim(_scrub(_safe_str(value)), _MESSAGE_LIMIT)


# -- the reporter --------------------------------------------------------------------------


class ExceptionReporter:
    """Build the text and HTML error report for one exception (or message) and request.

    Django's ``ExceptionReporter`` constructor, so ``reporter_class`` subclasses written for
    Django port over: ``ExceptionReporter(request, *sys.exc_info())``, or
    ``ExceptionReporter(request, None, "message", None)`` for a record without exception.
    Override :meth:`get_traceback_text` or :meth:`get_traceback_html` to change a report, or
    the class attributes below to tune it.

    Args:
        request: anything :func:`~structlogx.mail.request.request_info` reads, or ``None``.
        exc_type: the exception's type, or ``None``.
        exc_value: the exception, a message ``str`` when there is no exception, or ``None``.
        tb: the traceback (defaults to ``exc_value.__traceback__``).
        is_email: Django's flag, kept for compatibility: the HTML is always the static
            document that suits e-mail (no script, no form, no external resource).
    """

    context_lines: ClassVar[int] = 5
    """Source lines shown before and after the current line of each frame."""
    repr_limit: ClassVar[int] = 4096
    """Each local variable's text is cut to this many characters."""
    max_frames: ClassVar[int] = 100
    """Frames shown per exception: the 10 outermost and the innermost rest; a line counts the
    frames left out between them."""
    max_chain: ClassVar[int] = 16
    """Exceptions of a chain shown, from the raised one towards its causes."""
    max_variables: ClassVar[int] = 200
    """Local variables shown per frame."""
    sensitive_post_parameters: ClassVar[frozenset[str]] = frozenset()
    """POST names hidden in every report of this class; ``{"__ALL__"}`` hides every value."""

    def __init__(
        self,
        request: object,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | str | None,
        tb: TracebackType | None,
        is_email: bool = True,
    ) -> None:
        self.request = request
        self.exc_type, self.exc_value, self.tb = exc_type, exc_value, tb
        self.is_email = is_email
        # Read now: the reporter may render later (or in another thread) than the view ran.
        self._active_post = _ACTIVE_POST.get()
        self._cache: dict[bool, dict[str, Any]] = {}
        self._secrets = _Secrets()

    # -- public ----------------------------------------------------------------------------

    def get_request_info(self) -> RequestInfo | None:
        """Return what the report shows about the request (a hook: e.g. trusted proxies)."""
        return request_info(self.request)

    def get_traceback_data(self) -> dict[str, Any]:
        """Return everything the report shows, redacted, as plain data (local variables too).

        A part that could not be built is a ``"<could not be rendered: ...>"`` string instead
        of its usual dict or list. Never raises.
        """
        return self._data(variables=True)

    def get_traceback_text(self) -> str:
        """Return the plain-text report (no local variables); never raises."""
        try:
            return _Text(self._data(variables=False)).render()
        except Exception as exc:
            return f"{NO_EXCEPTION_MESSAGE}\n\n{_unrendered(exc)}\n"

    def get_traceback_html(self) -> str:
        """Return the HTML report, one static document with local variables; never raises."""
        try:
            return _Html(self._data(variables=True)).render()
        except Exception as exc:
            body = html.escape(_unrendered(exc))
            return f'<!DOCTYPE html><html><body><div id="traceback">{body}</div></body></html>'

    # -- building the data -----------------------------------------------------------------

    def _data(self, variables: bool) -> dict[str, Any]:
        cached = self._cache.get(variables)
        if cached is not None:
            return cached
        data: dict[str, Any] = {"is_email": self.is_email}
        self._secrets = _Secrets()

        def part(name: str, build: Callable[[], Any]) -> None:
            try:
                data[name] = build()
            except Exception as exc:
                data[name] = _unrendered(exc)

        part("request", self._request)
        part("exception_type", self._exception_type)
        part("exception_value", self._exception_value)
        part("exception_notes", lambda: self._notes(self.exc_value))
        part("exceptions", lambda: self._chain(variables))
        part("lastframe", lambda: self._lastframe(data["exceptions"]))
        part("settings", self._settings)
        part("meta", _meta)
        part("title", lambda: self._title(data))
        try:
            data = self._secrets.mask(data)
        except Exception as exc:  # keep what the rules hid; say that this pass failed
            data["masking"] = _unrendered(exc)
        self._cache[variables] = data
        return data

    def _exception(self) -> BaseException | None:
        return self.exc_value if isinstance(self.exc_value, BaseException) else None

    def _exception_type(self) -> str | None:
        if isinstance(self.exc_type, type):
            return qualified_name(self.exc_type)
        exc = self._exception()
        return qualified_name(type(exc)) if exc is not None else None

    def _exception_value(self) -> str:
        if self.exc_value is None:
            return NO_EXCEPTION_MESSAGE
        return _message(self.exc_value) or (
            "" if self._exception() is not None else NO_EXCEPTION_MESSAGE
        )

    @staticmethod
    def _notes(exc: object) -> list[str]:
        notes = getattr(exc, "__notes__", None) if isinstance(exc, BaseException) else None
        if notes is None:
            return []
        if not isinstance(notes, (list, tuple)):
            return [_message(safe_repr(notes))]
        return [_message(note) for note in notes[:50]]

    def _title(self, data: Mapping[str, Any]) -> str:
        kind = data.get("exception_type")
        title = kind if isinstance(kind, str) else "Report"
        request = data.get("request")
        if isinstance(request, dict) and request.get("path"):
            title += f" at {request['path']}"
        return title

    def _walk_chain(self) -> tuple[list[tuple[BaseException, str | None]], str | None]:
        """Return (exception, how it led to the next one) pairs, outermost first."""
        chain: list[tuple[BaseException, str | None]] = []
        seen: set[int] = set()
        note = None
        exc = self._exception()
        while exc is not None:
            if id(exc) in seen:
                note = f"The exception chain loops back to {_describe(exc)}; the loop is cut here."
                break
            if len(chain) >= self.max_chain:
                note = f"The chain is cut after {self.max_chain} exceptions."
                break
            seen.add(id(exc))
            cause, context = exc.__cause__, exc.__context__
            if cause is not None:
                chain.append((exc, _CAUSE))
                exc = cause
            elif context is not None and not exc.__suppress_context__:
                chain.append((exc, _CONTEXT))
                exc = context
            else:
                chain.append((exc, None))
                exc = None
        return chain, note

    def _chain(self, variables: bool) -> list[dict[str, Any]]:
        chain, note = self._walk_chain()
        if not chain:
            if self.tb is None:
                return []
            frames = self._frames(self.tb, variables)
            return [{"type": self._exception_type(), "value": self._exception_value(),
                     "notes": [], "frames": frames, "relation": None, "chain_note": None}]
        entries = []
        for position, (exc, relation) in enumerate(reversed(chain)):
            tb = self.tb if exc is self.exc_value and self.tb is not None else exc.__traceback__
            entry = self._entry(exc, tb, variables)
            # The first one shown links to nothing above it (its cause, if any, was cut).
            entry["relation"] = relation if position else None
            entry["chain_note"] = None if position else note
            entries.append(entry)
        return entries

    def _entry(
        self, exc: BaseException, tb: TracebackType | None, variables: bool
    ) -> dict[str, Any]:
        entry: dict[str, Any] = {}
        builders: dict[str, Callable[[], Any]] = {
            "type": lambda: qualified_name(type(exc)),
            "value": lambda: _message(exc),
            "notes": lambda: self._notes(exc),
            "frames": lambda: self._frames(tb, variables),
        }
        for key, build in builders.items():
            try:
                entry[key] = build()
            except Exception as failure:
                entry[key] = _unrendered(failure)
        return entry

    @staticmethod
    def _lastframe(entries: object) -> dict[str, Any] | None:
        if isinstance(entries, list) and entries and isinstance(entries[-1]["frames"], list):
            frames = [frame for frame in entries[-1]["frames"] if "omitted" not in frame]
            if frames:
                return cast(dict[str, Any], frames[-1])
        return None

    def _frames(self, tb: TracebackType | None, variables: bool) -> list[dict[str, Any]]:
        tbs: list[TracebackType] = []
        while tb is not None and len(tbs) < 100_000:
            tbs.append(tb)
            tb = tb.tb_next
        keep_head = min(10, self.max_frames // 2)
        omitted = max(0, len(tbs) - self.max_frames)
        hidden: frozenset[str] = _inherited_hidden(tbs[0].tb_frame) if tbs else frozenset()
        frames: list[dict[str, Any]] = []
        for index, item in enumerate(tbs):
            frame = item.tb_frame
            hidden |= _SENSITIVE_CODE.get(frame.f_code, frozenset())
            self._collect(frame, hidden)
            if omitted and index == keep_head:
                frames.append({"omitted": omitted})
            if omitted and keep_head <= index < keep_head + omitted:
                continue
            try:
                frames.append(self._frame(item, hidden if variables else None))
            except Exception as exc:
                frames.append({"filename": "?", "lineno": None, "function": "?",
                               "context_line": None, "pre_context": [], "post_context": [],
                               "variables": [], "error": _unrendered(exc)})
        return frames

    def _frame(self, tb: TracebackType, hidden: frozenset[str] | None) -> dict[str, Any]:
        frame, lineno = tb.tb_frame, tb.tb_lineno
        code = frame.f_code
        function = getattr(code, "co_qualname", None) or code.co_name
        filename = code.co_filename
        result: dict[str, Any] = {
            "filename": filename, "lineno": lineno, "function": function,
            "context_line": None, "pre_context": [], "post_context": [], "variables": [],
            "error": None,
        }
        try:
            lines = linecache.getlines(filename, frame.f_globals) if lineno else []
        except Exception:
            lines = []
        if lineno and 0 < lineno <= len(lines):
            def line(number: int) -> tuple[int, str]:
                text = lines[number - 1].rstrip("\r\n")
                return number, _scrub(text[:_LINE_LIMIT])

            first = max(1, lineno - self.context_lines)
            last = min(len(lines), lineno + self.context_lines)
            result["pre_context"] = [line(n) for n in range(first, lineno)]
            result["context_line"] = line(lineno)[1]
            result["post_context"] = [line(n) for n in range(lineno + 1, last + 1)]
        if hidden is not None:
            result["variables"] = self._variables(frame, hidden)
        return result

    def _collect(self, frame: FrameType, hidden: frozenset[str]) -> None:
        """Remember the values of *frame*'s hidden variables, to hide them everywhere."""
        try:
            for name, value in itertools.islice(frame.f_locals.items(), self.max_variables):
                if _ALL in hidden or name in hidden or _sensitive(name):
                    self._secrets.add(value)
        except Exception:  # unreadable locals are not shown either
            return

    def _variables(self, frame: FrameType, hidden: frozenset[str]) -> list[tuple[str, str]]:
        try:
            pairs = list(itertools.islice(frame.f_locals.items(), self.max_variables + 1))
        except Exception as exc:
            return [("<locals>", _unrendered(exc))]
        shown: list[tuple[str, str]] = []
        for name, value in pairs[: self.max_variables]:
            name_text = name if isinstance(name, str) else safe_repr(name)
            if _ALL in hidden or name in hidden or _sensitive(name):
                shown.append((name_text, SUBSTITUTE))
            else:
                shown.append((name_text, _render_value(value, self.repr_limit, self._secrets)))
        if len(pairs) > self.max_variables:
            shown.append(("...", f"only the first {self.max_variables} variables are shown"))
        return shown

    def _request(self) -> dict[str, Any] | None:
        info = self.get_request_info()
        if info is None:
            return None
        hidden = info.sensitive_post_parameters | frozenset(self.sensitive_post_parameters)
        hidden |= self._active_post | self._exception_marks()
        post: dict[str, Any] = {}
        for name, value in info.post.items():
            hide = _ALL in hidden or name in hidden or _sensitive(name)
            if hide:
                self._secrets.add(value)
            post[name] = SUBSTITUTE if hide else value
        for values in (info.get, info.headers):
            for name, value in values.items():
                if _sensitive(name):
                    self._secrets.add(value)
        for value in info.cookies.values():
            self._secrets.add(value)

        def text(value: str | None) -> str | None:
            return None if value is None else _scrub(value)

        return {
            "kind": info.kind,
            "method": text(info.method),
            "url": text(_hide_query(info.url)),
            "path": text(info.path),
            "client_address": text(info.client_address),
            "user": text(info.user),
            "get": redact(info.get),
            "post": redact(post),
            "cookies": {name: SUBSTITUTE for name in info.cookies},
            "headers": redact(info.headers),
            "notes": [_scrub(note) for note in info.notes],
        }

    def _exception_marks(self) -> frozenset[str]:
        marks: set[str] = set()
        chain, _ = self._walk_chain()
        for exc, _relation in chain:
            found = getattr(exc, _EXCEPTION_MARK, None)
            if isinstance(found, frozenset):
                marks |= found
        return frozenset(marks)

    def _settings(self) -> dict[str, str]:
        shown: dict[str, str] = {}
        for name in settings.names():
            try:
                value = getattr(settings, name)
                if is_sensitive_key(name):
                    self._secrets.add(value)
                    shown[name] = SUBSTITUTE
                else:
                    shown[name] = _render_value(value, 1024, self._secrets)
            except Exception as exc:
                shown[name] = _unrendered(exc)
        return shown


def _inherited_hidden(frame: FrameType | None) -> frozenset[str]:
    """Return the names hidden in *frame* by sensitive_variables() on its callers."""
    hidden: frozenset[str] = frozenset()
    caller = frame.f_back if frame is not None else None
    for _ in range(1000):
        if caller is None:
            break
        hidden |= _SENSITIVE_CODE.get(caller.f_code, frozenset())
        caller = caller.f_back
    return hidden


def _hide_query(url: str | None) -> str | None:
    """Hide the values of sensitive query parameters in *url*."""
    if url is None:
        return None
    base, question, query = url.partition("?")
    if not question:
        return url
    parts = re.split(r"([&;])", query)
    for index in range(0, len(parts), 2):
        name, equals, _value = parts[index].partition("=")
        if equals and is_sensitive_key(urllib.parse.unquote_plus(name)):
            parts[index] = f"{name}={SUBSTITUTE}"
    return f"{base}?{''.join(parts)}"


def _meta() -> dict[str, Any]:
    try:
        host = socket.gethostname()
    except Exception:
        host = None
    return {
        "server_time": datetime.datetime.now(datetime.timezone.utc).isoformat(" ", "seconds"),
        "python_version": sys.version.split()[0],
        "python_executable": sys.executable or None,
        "hostname": host,
        "pid": os.getpid(),
    }


# -- rendering -----------------------------------------------------------------------------


def _summary_rows(data: Mapping[str, Any]) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    request = data.get("request")
    if isinstance(request, dict):
        rows += [("Request Method", request.get("method") or "?"),
                 ("Request URL", request.get("url") or "?"),
                 ("Client Address", request.get("client_address") or "?")]
        if request.get("user"):
            rows.append(("User", request["user"]))
    elif isinstance(request, str):
        rows.append(("Request", request))
    if data.get("exception_type"):
        rows.append(("Exception Type", str(data["exception_type"])))
        rows.append(("Exception Value", str(data.get("exception_value", ""))))
    last = data.get("lastframe")
    if isinstance(last, dict):
        rows.append(("Exception Location",
                     f"{last['filename']}, line {last['lineno']}, in {last['function']}"))
    meta = data.get("meta")
    if isinstance(meta, dict):
        rows += [("Python Executable", str(meta.get("python_executable"))),
                 ("Python Version", str(meta.get("python_version"))),
                 ("Server time", str(meta.get("server_time"))),
                 ("Host", f"{meta.get('hostname')} (pid {meta.get('pid')})")]
    elif isinstance(meta, str):
        rows.append(("Server", meta))
    return rows


_REQUEST_SECTIONS: Final = (("GET", "get"), ("POST", "post"), ("COOKIES", "cookies"),
                            ("HEADERS", "headers"))


class _Text:
    """The plain-text report, laid out as Django's ``technical_500.txt``."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = data
        self.lines: list[str] = []

    def render(self) -> str:
        for section in (self.head, self.traceback, self.request, self.settings):
            try:
                section()
            except Exception as exc:
                self.lines.append(_unrendered(exc))
        return "\n".join(self.lines) + "\n"

    def head(self) -> None:
        data = self.data
        self.lines += [str(data.get("title", "Report")),
                       str(data.get("exception_value") or NO_EXCEPTION_MESSAGE), ""]
        self.lines += [f"{name}: {value}" for name, value in _summary_rows(data)]
        self.lines.append("")

    def traceback(self) -> None:
        exceptions = self.data.get("exceptions")
        if isinstance(exceptions, str):
            self.lines += ["Traceback:", exceptions, ""]
            return
        if not exceptions:
            return
        for entry in exceptions:
            if entry.get("chain_note"):
                self.lines += [entry["chain_note"], ""]
            if entry.get("relation"):
                self.lines += [entry["relation"], ""]
            self.lines.append("Traceback (most recent call last):")
            frames = entry.get("frames")
            for frame in frames if isinstance(frames, list) else [{"error": frames}]:
                self.frame(frame)
            value = entry.get("value")
            self.lines.append(f"{entry.get('type')}: {value}" if value else str(entry.get("type")))
            notes = entry.get("notes")
            self.lines += notes if isinstance(notes, list) else [str(notes)]
            self.lines.append("")

    def frame(self, frame: Mapping[str, Any]) -> None:
        if "omitted" in frame:
            self.lines.append(f"  ... {frame['omitted']} frames not shown ...")
            return
        if frame.get("error") and "filename" not in frame:
            self.lines.append(f"  {frame['error']}")
            return
        where = f'  File "{frame["filename"]}"'
        if frame.get("lineno") is not None:
            where += f", line {frame['lineno']}"
        self.lines.append(f"{where}, in {frame['function']}")
        if frame.get("context_line") is not None:
            self.lines.append(f"    {frame['context_line'].strip()}")
        if frame.get("error"):
            self.lines.append(f"    {frame['error']}")

    def request(self) -> None:
        request = self.data.get("request")
        if request is None:
            self.lines += ["Request data not supplied", ""]
            return
        if isinstance(request, str):
            self.lines += ["Request information:", request, ""]
            return
        self.lines.append("Request information:")
        if request.get("user"):
            self.lines.append(f"USER: {request['user']}")
        for title, key in _REQUEST_SECTIONS:
            values = request.get(key) or {}
            if not values:
                self.lines.append(f"{title}: No {title} data")
                continue
            self.lines.append(f"{title}:")
            self.lines += [f"{name} = {value!r}" for name, value in values.items()]
        if request.get("notes"):
            self.lines.append("Could not be read:")
            self.lines += [f"- {note}" for note in request["notes"]]
        self.lines.append("")

    def settings(self) -> None:
        shown = self.data.get("settings")
        self.lines.append("Settings (structlogx.conf.settings):")
        if isinstance(shown, str):
            self.lines.append(shown)
            return
        self.lines += [f"{name} = {value}" for name, value in (shown or {}).items()]


_CSS: Final = """
body { font: 13px sans-serif; color: #000; background: #fff; margin: 0; }
body > div { border-bottom: 1px solid #ddd; padding: 10px 20px; }
h1 { font-size: 20px; margin: 0 0 6px; } h2 { font-size: 16px; margin: 12px 0 6px; }
#summary { background: #ffc; } pre { white-space: pre-wrap; word-break: break-all; margin: 0; }
table { border-collapse: collapse; width: 100%; } td, th { vertical-align: top; padding: 2px 6px;
 text-align: left; border-bottom: 1px solid #eee; } th { width: 12em; color: #666; }
ol.frames { list-style: none; padding: 0; } li.frame { margin: 0 0 12px; }
ol.context { background: #f6f6f6; margin: 4px 0; padding-left: 50px; font-family: monospace;
 white-space: pre; overflow: auto; } ol.context li.current { background: #fdd; }
.relation, .note { font-style: italic; } code { font-family: monospace; }
"""


class _Html:
    """The HTML report: one static document, every text escaped."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = data
        self.out: list[str] = []

    def render(self) -> str:
        title = html.escape(str(self.data.get("title", "Report")))
        self.out += ['<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n',
                     '<meta name="robots" content="noindex,nofollow">\n',
                     f"<title>{title}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"]
        for name, section in (("summary", self.summary), ("traceback", self.traceback),
                              ("requestinfo", self.request), ("settings", self.settings)):
            self.out.append(f'<div id="{name}">\n')
            mark = len(self.out)
            try:
                section()
            except Exception as exc:
                del self.out[mark:]
                self.out.append(f"<pre>{html.escape(_unrendered(exc))}</pre>\n")
            self.out.append("</div>\n")
        self.out.append("</body>\n</html>\n")
        return "".join(self.out)

    def table(self, rows: Iterable[tuple[object, object]], pre: bool = False) -> None:
        self.out.append("<table>\n")
        for name, value in rows:
            shown = html.escape(str(value))
            cell = f"<pre>{shown}</pre>" if pre else shown
            self.out.append(f"<tr><th>{html.escape(str(name))}</th><td>{cell}</td></tr>\n")
        self.out.append("</table>\n")

    def summary(self) -> None:
        data = self.data
        value = str(data.get("exception_value") or NO_EXCEPTION_MESSAGE)
        self.out.append(f"<h1>{html.escape(str(data.get('title', 'Report')))}</h1>\n")
        self.out.append(f'<pre class="exception_value">{html.escape(value)}</pre>\n')
        notes = data.get("exception_notes")
        for note in notes if isinstance(notes, list) else [notes] if notes else []:
            self.out.append(f'<pre class="note">{html.escape(str(note))}</pre>\n')
        self.table(_summary_rows(data))

    def traceback(self) -> None:
        self.out.append("<h2>Traceback</h2>\n")
        exceptions = self.data.get("exceptions")
        if isinstance(exceptions, str):
            self.out.append(f"<pre>{html.escape(exceptions)}</pre>\n")
            return
        if not exceptions:
            self.out.append("<p>No traceback.</p>\n")
            return
        for entry in exceptions:
            if entry.get("chain_note"):
                self.out.append(f'<p class="note">{html.escape(entry["chain_note"])}</p>\n')
            if entry.get("relation"):
                self.out.append(f'<p class="relation">{html.escape(entry["relation"])}</p>\n')
            self.out.append('<div class="exception">\n<ol class="frames">\n')
            frames = entry.get("frames")
            for frame in frames if isinstance(frames, list) else [{"error": frames}]:
                self.frame(frame)
            self.out.append("</ol>\n")
            value = entry.get("value")
            text = f"{entry.get('type')}: {value}" if value else str(entry.get("type"))
            self.out.append(f'<pre class="exc"><strong>{html.escape(text)}</strong></pre>\n')
            notes = entry.get("notes")
            for note in notes if isinstance(notes, list) else [notes]:
                self.out.append(f'<pre class="note">{html.escape(str(note))}</pre>\n')
            self.out.append("</div>\n")

    def frame(self, frame: Mapping[str, Any]) -> None:
        escape = html.escape
        if "omitted" in frame:
            self.out.append(f'<li class="frame">... {frame["omitted"]} frames not shown ...</li>\n')
            return
        if "filename" not in frame:
            error = escape(str(frame.get("error")))
            self.out.append(f'<li class="frame"><pre>{error}</pre></li>\n')
            return
        line = "" if frame.get("lineno") is None else f", line {frame['lineno']}"
        self.out.append(f'<li class="frame"><code>{escape(str(frame["filename"]))}</code>{line}, '
                        f'in <code>{escape(str(frame["function"]))}</code>\n')
        if frame.get("context_line") is not None:
            start = frame["lineno"] - len(frame["pre_context"])
            self.out.append(f'<ol class="context" start="{start}">')
            for _number, text in frame["pre_context"]:
                self.out.append(f"<li>{escape(text)}</li>")
            self.out.append(f'<li class="current">{escape(frame["context_line"])}</li>')
            for _number, text in frame["post_context"]:
                self.out.append(f"<li>{escape(text)}</li>")
            self.out.append("</ol>\n")
        else:
            self.out.append('<p class="note">Source not available.</p>\n')
        if frame.get("error"):
            self.out.append(f'<pre>{escape(str(frame["error"]))}</pre>\n')
        if frame.get("variables"):
            self.out.append('<p class="note">Local variables:</p>\n')
            self.table(frame["variables"], pre=True)
        self.out.append("</li>\n")

    def request(self) -> None:
        self.out.append("<h2>Request information</h2>\n")
        request = self.data.get("request")
        if request is None:
            self.out.append("<p>Request data not supplied</p>\n")
            return
        if isinstance(request, str):
            self.out.append(f"<pre>{html.escape(request)}</pre>\n")
            return
        if request.get("user"):
            self.out.append(f"<h3>USER</h3>\n<p>{html.escape(request['user'])}</p>\n")
        for title, key in _REQUEST_SECTIONS:
            self.out.append(f"<h3>{title}</h3>\n")
            values = request.get(key) or {}
            if values:
                self.table(((name, repr(value)) for name, value in values.items()), pre=True)
            else:
                self.out.append(f"<p>No {title} data</p>\n")
        if request.get("notes"):
            self.out.append("<h3>Could not be read</h3>\n<ul>\n")
            self.out += [f"<li>{html.escape(note)}</li>\n" for note in request["notes"]]
            self.out.append("</ul>\n")

    def settings(self) -> None:
        self.out.append("<h2>Settings</h2>\n")
        shown = self.data.get("settings")
        if isinstance(shown, str):
            self.out.append(f"<pre>{html.escape(shown)}</pre>\n")
            return
        self.table((shown or {}).items(), pre=True)
