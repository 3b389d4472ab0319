"""Request context for logging: ``RequestContextMiddleware`` and ``RequestFilter``.

Add ``"structlogx.contrib.django.middleware.RequestContextMiddleware"`` to ``MIDDLEWARE``
after ``AuthenticationMiddleware``. For each request it binds ``request_id``, ``client``,
``method``, ``path`` and ``user_id`` (the user's primary key, when logged in) with
:func:`structlogx.context.bind`, so every record and audit entry of the request carries
them, and it sends the request id back in the ``X-Request-ID`` response header.

Put :class:`RequestFilter` on a handler (e.g. the admin e-mail handler) to give error
records logged by application code the ``request``, as Django's own ``django.request``
records have it: the mail then reports the request and ``(EXTERNAL IP)``/``(internal IP)``.

Neither imports Django.
"""

from __future__ import annotations

import contextvars
import logging
import re
import uuid
from collections.abc import Callable
from typing import Any, Final

from structlogx.context import bind

__all__ = ["REQUEST_ID_PATTERN", "RequestContextMiddleware", "RequestFilter", "current_request"]

REQUEST_ID_PATTERN: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}\Z")
"""An incoming ``X-Request-ID`` is kept only when it matches; else a new id is made."""

_REQUEST: Final = contextvars.ContextVar[Any]("structlogx_django_request", default=None)


def current_request() -> Any:
    """Return the request being handled in this context, or ``None``."""
    return _REQUEST.get()


def _user_id(request: Any) -> str | None:
    try:
        user = getattr(request, "user", None)
        if user is None or not getattr(user, "is_authenticated", False):
            return None
        return str(user.pk)
    except Exception:  # a broken session or auth backend must not fail the request here
        return None


class RequestContextMiddleware:
    """Bind the request's id, client address, method, path and user for its duration.

    Args:
        get_response: the next layer (Django passes it).
    """

    sync_capable = True
    async_capable = False

    def __init__(self, get_response: Callable[[Any], Any]) -> None:
        self.get_response = get_response

    def request_id(self, request: Any) -> str:
        """Return the incoming ``X-Request-ID`` when it is safe, else a new random id."""
        given = request.META.get("HTTP_X_REQUEST_ID", "")
        if isinstance(given, str) and REQUEST_ID_PATTERN.match(given):
            return given
        return uuid.uuid4().hex

    def __call__(self, request: Any) -> Any:
        request_id = self.request_id(request)
        request.request_id = request_id
        values = {
            "request_id": request_id,
            "client": request.META.get("REMOTE_ADDR"),
            "method": request.method,
            "path": request.path,
        }
        user = _user_id(request)
        if user is not None:
            values["user_id"] = user
        token = _REQUEST.set(request)
        try:
            with bind(**values):
                response = self.get_response(request)
        finally:
            _REQUEST.reset(token)
        if not response.has_header("X-Request-ID"):
            response["X-Request-ID"] = request_id
        return response


class RequestFilter(logging.Filter):
    """Give records of *level* and above the current request as ``record.request``.

    Adds the attribute ``request`` (the Django ``HttpRequest``) only when the record has none
    and :class:`RequestContextMiddleware` is handling a request. Never drops a record.

    Args:
        level: the lowest level that gets the request (default ``ERROR``).
    """

    def __init__(self, level: int | str = logging.ERROR) -> None:
        super().__init__()
        resolved = logging.getLevelName(level) if isinstance(level, str) else level
        if not isinstance(resolved, int):
            raise ValueError(f"level: unknown level name {level!r}")
        self.level = resolved

    def filter(self, record: logging.LogRecord) -> bool:
        """Add ``request`` when missing; return ``True``."""
        if record.levelno >= self.level and getattr(record, "request", None) is None:
            request = _REQUEST.get()
            if request is not None:
                record.request = request
        return True
