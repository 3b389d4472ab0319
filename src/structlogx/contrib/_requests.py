"""What the WSGI and ASGI middlewares share: request ids, the current request, request lines.

The public names are documented, and re-exported, in :mod:`structlogx.contrib.wsgi` and
:mod:`structlogx.contrib.asgi`; this module is private so that each name has one home in the
API reference.

The request of the running request lives in its own :class:`~contextvars.ContextVar`, not in
the bound context (:func:`structlogx.context.bind`): the bound values reach every formatter,
and a whole WSGI environ or ASGI scope (cookies, ``Authorization``) must not. Only
:class:`AttachRequest`, put on the handler that reports requests (the admin e-mail handler),
copies it onto records.
"""

from __future__ import annotations

import contextvars
import http
import logging
import os
import re
import sys
import uuid
from collections.abc import Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from types import TracebackType
from typing import IO, Any, Final, Literal, TypeAlias

__all__ = [
    "LOGGED_KEY",
    "AttachRequest",
    "ServerFormatter",
    "current_request",
    "escape",
    "log_response",
    "request_id",
    "using_request",
]

ExcInfo: TypeAlias = (
    "bool | BaseException | tuple[type[BaseException], BaseException, TracebackType | None]"
    " | tuple[None, None, None] | None"
)

_SAFE_ID: Final = re.compile(r"[A-Za-z0-9._-]{1,64}")
LOGGED_KEY: Final = "structlogx.response_logged"
"""The environ/scope key (or, on other request objects, the attribute
``_structlogx_response_logged``) that marks a request whose response was logged."""
_LOGGED_ATTR: Final = "_structlogx_response_logged"
_REQUEST: Final = contextvars.ContextVar[object]("structlogx_request", default=None)


REQUEST_ID_HEADER: Final = "X-Request-ID"
"""The header that carries the request id, in and out, unless a middleware is told another."""


def check_middleware_options(app: object, header: object, protocol: str) -> None:
    """Raise what both middlewares raise for an *app* that cannot be called or a bad
    *header* name (*protocol*: ``"an ASGI"`` or ``"a WSGI"``, for the message)."""
    if not callable(app):
        raise TypeError(f"app must be {protocol} callable, not {type(app).__name__}")
    if not isinstance(header, str) or not header or not header.isascii():
        raise ValueError(f"header must be a non-empty ASCII header name, not {header!r}")


def request_id(incoming: object = None) -> str:
    """Return *incoming* when it is a safe request id, else a new one (32 hex digits).

    A safe id is 1 to 64 characters among ``A-Z a-z 0-9 . _ -``: a client (or a proxy) may
    choose the id, but cannot smuggle spaces, quotes, line breaks or escape sequences into
    every log line of the request. *incoming* may be ``str`` or ``bytes`` (ASGI headers).
    """
    if isinstance(incoming, (bytes, bytearray)):
        incoming = bytes(incoming).decode("latin-1")
    if isinstance(incoming, str) and _SAFE_ID.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


def escape(text: str) -> str:
    """Return *text* with every non-printable character written as in a Python ``repr``.

    Line breaks become ``\\n``, ``\\r``, ``\\u2028``..., the terminal escape character
    ``\\x1b``, and a backslash ``\\\\``; printable text, non-ASCII letters included, is kept.
    So a request path cannot start a forged log line or colour a terminal, and the original
    text can still be read back exactly.
    """
    if text.isprintable() and "\\" not in text:
        return text
    return "".join(
        "\\\\" if char == "\\" else char if char.isprintable() else repr(char)[1:-1]
        for char in text
    )


def current_request() -> object:
    """Return the request the middleware is handling here (``None`` outside a request).

    The object has ``environ`` (WSGI) or ``scope`` (ASGI) holding the raw mapping, which
    :func:`~structlogx.mail.request.request_info` reads.
    """
    return _REQUEST.get()


@contextmanager
def using_request(request: object) -> Iterator[None]:
    """Make *request* the :func:`current_request` for the ``with`` block; restore on exit."""
    token = _REQUEST.set(request)
    try:
        yield
    finally:
        _REQUEST.reset(token)


class AttachRequest(logging.Filter):
    """Set ``record.request`` to the request being handled, for the admin e-mail handler.

    Put it on :class:`~structlogx.handlers.AdminEmailHandler` so that an error logged
    anywhere during a request (not only by the middleware) reports that request, and its
    subject says ``(internal IP)`` or ``(EXTERNAL IP)``. A record that already has a
    ``request`` keeps it; outside a request nothing is added. Passes every record.

    Adds ``record.request``: an object with an ``environ`` (WSGI) or ``scope`` (ASGI)
    attribute. Keep the filter off handlers that write every attribute (JSON lines): the
    object itself is shown only as ``<WSGI request 'GET' '/path'>``, but there is no reason to
    carry it.

    Example ``dictConfig`` entry::

        "filters": {"request": {"()": "structlogx.contrib.wsgi.AttachRequest"}}
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Attach the current request, if any; return ``True``."""
        if self.nlen and not super().filter(record):
            return False
        request = _REQUEST.get()
        if request is not None and "request" not in record.__dict__:
            record.request = request
        return True


def _reason(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Unknown Status Code"


def _mark_logged(request: object) -> bool:
    """Mark *request* as logged; return whether it was marked before. Never raises."""
    try:
        if isinstance(request, MutableMapping):
            before = bool(request.get(LOGGED_KEY))
            request[LOGGED_KEY] = True
            return before
        if isinstance(request, Mapping):
            return False
        before = bool(getattr(request, _LOGGED_ATTR, False))
        setattr(request, _LOGGED_ATTR, True)
        return before
    except Exception:
        return False


def log_response(
    logger: logging.Logger | str,
    status: int,
    path: str,
    method: str | None = None,
    *,
    request: object = None,
    exc_info: ExcInfo = None,
) -> bool:
    """Log one request line as Django's ``django.request``/``django.server`` loggers do.

    The level is ``ERROR`` for a 5xx status, ``WARNING`` for 4xx and ``INFO`` otherwise; the
    message is ``"%s: %s"`` with the reason phrase and the path (``Not Found: /x``). String
    arguments go through :func:`escape`, so a path with line breaks or escape sequences
    cannot forge or colour log lines. The record has the extras ``status_code``,
    ``request`` and ``method``.

    Each response is logged once: the request (a mutable mapping, or any object that takes
    attributes) is marked, and a second call for it logs nothing.

    Args:
        logger: the logger or its name.
        status: the HTTP status code.
        path: the request path, as text.
        method: the HTTP method (kept as the ``method`` extra).
        request: the request, for handlers that report it (``record.request``) and to log
            each response once.
        exc_info: as for :meth:`logging.Logger.log`: the exception of a failed request.

    Returns:
        Whether a record was logged (``False`` when this request's response already was).
    """
    if request is not None and _mark_logged(request):
        return False
    if isinstance(logger, str):
        logger = logging.getLogger(logger)
    level = logging.ERROR if status >= 500 else logging.WARNING if status >= 400 else logging.INFO
    extra = {
        "status_code": status,
        "request": request,
        "method": escape(method) if isinstance(method, str) else method,
    }
    text = escape(path) if isinstance(path, str) else path
    logger.log(level, "%s: %s", _reason(status), text, exc_info=exc_info, extra=extra,
               stacklevel=2)
    return True


_COLOURS: Final = {2: "\x1b[32m", 3: "\x1b[36m", 4: "\x1b[33m", 5: "\x1b[1;31m"}
_RESET: Final = "\x1b[0m"


class ServerFormatter(logging.Formatter):
    """Colour request lines by status for a development console (Django's ``ServerFormatter``).

    A record with a ``status_code`` (every :func:`log_response` record) is coloured green
    for 2xx, cyan for 3xx, yellow for 4xx and red for 5xx; the traceback stays plain, and
    other records are not coloured. Colour is used only when *stream* is a terminal and the
    ``NO_COLOR`` environment variable is unset or empty (https://no-color.org), decided once
    when the formatter is built; ``color`` forces it on or off.

    Args:
        fmt, datefmt, style, validate: as for :class:`logging.Formatter`; the default format
            is ``[%(asctime)s] %(message)s`` with ``%d/%b/%Y %H:%M:%S`` times, as Django's
            development server prints.
        stream: the stream the handler writes to (default :data:`sys.stderr`, the
            ``StreamHandler`` default; ``"ext://sys.stdout"`` in ``dictConfig``).
        color: ``True`` or ``False`` to decide yourself; ``None`` (default) to detect.

    Example ``dictConfig`` entry::

        "formatters": {"server": {"()": "structlogx.contrib.wsgi.ServerFormatter",
                                  "stream": "ext://sys.stderr"}}
    """

    def __init__(
        self,
        fmt: str | None = None,
        datefmt: str | None = None,
        style: Literal["%", "{", "$"] = "%",
        validate: bool = True,
        *,
        stream: IO[str] | None = None,
        color: bool | None = None,
    ) -> None:
        if fmt is None and style == "%":
            fmt = "[%(asctime)s] %(message)s"
            datefmt = datefmt or "%d/%b/%Y %H:%M:%S"
        super().__init__(fmt, datefmt, style, validate)
        if color is not None and not isinstance(color, bool):
            raise TypeError(f"color must be True, False or None, not {color!r}")
        self.color = _detect_colour(sys.stderr if stream is None else stream) \
            if color is None else color

    def formatMessage(self, record: logging.LogRecord) -> str:
        """Format as usual, then colour the text by ``record.status_code``."""
        text = super().formatMessage(record)
        status = record.__dict__.get("status_code")
        if not self.color or type(status) is not int:
            return text
        colour = _COLOURS.get(status // 100)
        return f"{colour}{text}{_RESET}" if colour else text


def _detect_colour(stream: Any) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    try:
        return bool(stream.isatty())
    except Exception:
        return False
