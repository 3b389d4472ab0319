"""Request context and request logging for any ASGI application (FastAPI, Starlette...).

Wrap the application once::

    from structlogx.contrib.asgi import RequestContextMiddleware

    app.add_middleware(RequestContextMiddleware)        # FastAPI / Starlette
    application = RequestContextMiddleware(application) # any ASGI callable

For each ``http`` request the middleware binds ``request_id``, ``client_address``,
``method`` and ``path`` (:func:`structlogx.context.bind`) while the application runs, makes
the scope the :func:`~structlogx.contrib.wsgi.current_request` for
:class:`~structlogx.contrib.wsgi.AttachRequest`, and adds an ``X-Request-ID`` header to
``http.response.start``. When the application returns it logs one request line through
:func:`~structlogx.contrib.wsgi.log_response`, with the status of ``http.response.start``;
an exception escaping the application is logged as ``ERROR`` ``Internal Server Error`` with
its traceback and raised again for the server. ``lifespan`` and ``websocket`` scopes pass
through untouched.

The shared helpers (:func:`~structlogx.contrib.wsgi.log_response`,
:class:`~structlogx.contrib.wsgi.AttachRequest`,
:class:`~structlogx.contrib.wsgi.ServerFormatter`...) are importable from here too and
documented in :mod:`structlogx.contrib.wsgi`.

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, MutableMapping
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
    "ASGIRequest",
    "AttachRequest",
    "RequestContextMiddleware",
    "ServerFormatter",
    "current_request",
    "escape",
    "log_response",
    "request_id",
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class ASGIRequest:
    """The request the middleware handles: ``record.request`` and ``current_request()``.

    :func:`~structlogx.mail.request.request_info` reads it through its ``scope``; its
    ``repr`` shows only the method and the path.

    Attributes:
        scope: the ASGI ``http`` scope.
    """


    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self._structlogx_response_logged = False

    def __repr__(self) -> str:
        method = escape(str(self.scope.get("method", "")))
        path = escape(str(self.scope.get("path", "")))
        return f"<ASGI request {method!r} {path!r}>"


class RequestContextMiddleware:
    """Bind the request context and log each response of an ASGI application.

    Args:
        app: the ASGI application.
        logger: the logger (or its name) of the request lines.
        log_requests: log one line per response (``False``: none at all, failures included;
            raise the logger's level instead to keep only 4xx/5xx, as ``django.request``).
        header: the request and response header that carries the request id.
    """

    def __init__(
        self,
        app: ASGIApp,
        logger: logging.Logger | str = "structlogx.request",
        log_requests: bool = True,
        *,
        header: str = REQUEST_ID_HEADER,
    ) -> None:
        check_middleware_options(app, header, "an ASGI")
        self.app = app
        self.logger = logger
        self.log_requests = bool(log_requests)
        self.header = header
        self._name = header.lower().encode("latin-1")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the application inside the request context; see the class docs."""
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return
        name = self._name
        incoming = None
        for key, value in scope.get("headers") or ():
            if bytes(key).lower() == name:
                incoming = value
                break
        rid = request_id(incoming)
        path = str(scope.get("root_path", "")) + str(scope.get("path", ""))
        method = str(scope.get("method", ""))
        client = scope.get("client")
        request = ASGIRequest(scope)
        status: int | None = None

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message.get("type") == "http.response.start":
                status = int(message.get("status", 500))
                headers = [item for item in message.get("headers") or ()
                           if bytes(item[0]).lower() != name]
                headers.append((name, rid.encode("ascii")))
                message = {**message, "headers": headers}
            await send(message)

        values = {
            "request_id": rid,
            "client_address": client[0] if isinstance(client, (list, tuple)) and client
            else None,
            "method": escape(method),
            "path": escape(path or "/"),
        }
        with context.bind(**values), using_request(request):
            try:
                await self.app(scope, receive, send_with_id)
            except Exception:
                if self.log_requests:
                    log_response(self.logger, 500, path or "/", method, request=request,
                                 exc_info=True)
                raise
            if self.log_requests:
                log_response(self.logger, 500 if status is None else status, path or "/",
                             method, request=request)
