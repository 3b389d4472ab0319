"""Request context and request logging for any WSGI application (Flask, Django, Bottle...).

Wrap the application once::

    from structlogx.contrib.wsgi import RequestContextMiddleware

    app.wsgi_app = RequestContextMiddleware(app.wsgi_app)   # Flask
    application = RequestContextMiddleware(application)     # any WSGI callable

For the duration of each request, including while the server iterates the response body,
the middleware binds ``request_id``, ``client_address``, ``method`` and ``path``
(:func:`structlogx.context.bind`), makes the environ the :func:`current_request` for
:class:`AttachRequest`, and answers with an ``X-Request-ID`` header. When the response is
complete it logs one request line through :func:`log_response`; an exception escaping the
application is logged as ``ERROR`` ``Internal Server Error`` with its traceback and raised
again for the server to handle.

:func:`log_response`, :func:`escape`, :func:`request_id`, :func:`current_request`,
:class:`AttachRequest` and :class:`ServerFormatter` are shared with
:mod:`structlogx.contrib.asgi` and documented here.

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from types import TracebackType
from typing import Any

from structlogx import context
from structlogx.contrib._requests import (
    REQUEST_ID_HEADER,
    AttachRequest,
    ServerFormatter,
    check_middleware_options,
    current_request,
    escape,
    log_response,
    request_id,
    using_request,
)

__all__ = [
    "AttachRequest",
    "RequestContextMiddleware",
    "ServerFormatter",
    "WSGIRequest",
    "current_request",
    "escape",
    "log_response",
    "request_id",
]

_ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]
StartResponse = Callable[..., Callable[[bytes], object]]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def _wsgi_text(value: object) -> str:
    """Decode a WSGI "bytes as latin-1" string as UTF-8 (as the application sees it)."""
    if not isinstance(value, str):
        return ""
    try:
        return value.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return value


class WSGIRequest:
    """The request the middleware handles: ``record.request`` and :func:`current_request`.

    :func:`~structlogx.mail.request.request_info` reads it through its ``environ``; its
    ``repr`` shows only the method and the path, so a formatter that writes every attribute
    does not dump cookies and headers.

    Attributes:
        environ: the WSGI environ.
    """


    def __init__(self, environ: dict[str, Any]) -> None:
        self.environ = environ
        self._structlogx_response_logged = False

    def __repr__(self) -> str:
        method = escape(str(self.environ.get("REQUEST_METHOD", "")))
        path = escape(_wsgi_text(self.environ.get("PATH_INFO", "")))
        return f"<WSGI request {method!r} {path!r}>"


class RequestContextMiddleware:
    """Bind the request context and log each response of a WSGI application.

    Args:
        app: the WSGI application.
        logger: the logger (or its name) of the request lines.
        log_requests: log one line per response (``False``: none at all, failures included;
            raise the logger's level instead to keep only 4xx/5xx, as ``django.request``).
        header: the request and response header that carries the request id.
    """

    def __init__(
        self,
        app: WSGIApp,
        logger: logging.Logger | str = "structlogx.request",
        log_requests: bool = True,
        *,
        header: str = REQUEST_ID_HEADER,
    ) -> None:
        check_middleware_options(app, header, "a WSGI")
        self.app = app
        self.logger = logger
        self.log_requests = bool(log_requests)
        self.header = header
        self._environ_key = "HTTP_" + header.upper().replace("-", "_")

    def __call__(
        self, environ: dict[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        """Run the application inside the request context; see the class docs."""
        rid = request_id(environ.get(self._environ_key))
        path = _wsgi_text(environ.get("SCRIPT_NAME", "")) + _wsgi_text(environ.get("PATH_INFO", ""))
        method = str(environ.get("REQUEST_METHOD", ""))
        response = _Response(self, WSGIRequest(environ), path or "/", method, {
            "request_id": rid,
            "client_address": environ.get("REMOTE_ADDR"),
            "method": escape(method),
            "path": escape(path or "/"),
        })
        header = self.header
        lower = header.lower()

        def start(status: str, headers: list[tuple[str, str]],
                  exc_info: _ExcInfo | None = None) -> Callable[[bytes], object]:
            response.status = _status_code(status)
            headers = [item for item in headers if item[0].lower() != lower]
            headers.append((header, rid))
            if exc_info is None:
                return start_response(status, headers)
            return start_response(status, headers, exc_info)

        with response.bound():
            try:
                response.result = self.app(environ, start)
            except Exception:
                response.failed()
                raise
        return response


def _status_code(status: object) -> int:
    try:
        return int(str(status).split(None, 1)[0])
    except (ValueError, IndexError):
        return 500


class _Response:
    """The body iterable: binds the context around each chunk and logs at ``close()``."""

    def __init__(self, owner: RequestContextMiddleware, request: WSGIRequest, path: str,
                 method: str, values: dict[str, Any]) -> None:
        self.owner = owner
        self.request = request
        self.path = path
        self.method = method
        self.values = values
        self.status: int | None = None
        self.result: Iterable[bytes] = ()
        self._iterator: Iterator[bytes] | None = None
        self._closed = False

    def bound(self) -> ExitStack:
        stack = ExitStack()
        stack.enter_context(context.bind(**self.values))
        stack.enter_context(using_request(self.request))
        return stack

    def log(self, status: int, exc_info: bool = False) -> None:
        if self.owner.log_requests:
            log_response(self.owner.logger, status, self.path, self.method,
                         request=self.request, exc_info=exc_info)

    def failed(self) -> None:
        """Log the exception being handled as a 500 (inside the bound context)."""
        self.log(500, exc_info=sys.exc_info()[0] is not None)

    def __iter__(self) -> _Response:
        return self

    def __next__(self) -> bytes:
        with self.bound():
            try:
                if self._iterator is None:
                    self._iterator = iter(self.result)
                return next(self._iterator)
            except StopIteration:
                raise
            except Exception:
                self.failed()
                raise

    def close(self) -> None:
        """Close the application's iterable, then log the response (once)."""
        if self._closed:
            return
        self._closed = True
        with self.bound():
            try:
                close = getattr(self.result, "close", None)
                if close is not None:
                    close()
            except Exception:
                self.failed()
                raise
            self.log(500 if self.status is None else self.status)
