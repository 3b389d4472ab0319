"""structlogx.contrib.wsgi (and the shared helpers), against a real wsgiref server."""

from __future__ import annotations

import ast
import contextlib
import io
import logging
import logging.config
import os
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from hypothesis import given
from hypothesis import strategies as st

from structlogx import context, mail
from structlogx.conf import settings
from structlogx.contrib import wsgi
from structlogx.contrib._requests import using_request
from structlogx.contrib.wsgi import (
    AttachRequest,
    RequestContextMiddleware,
    ServerFormatter,
    WSGIRequest,
    escape,
    log_response,
    request_id,
)
from structlogx.handlers import AdminEmailHandler

ADMIN = "admin@example.com"
MEMORY = "structlogx.mail.backends.MemoryBackend"
Response = tuple[int, dict[str, str], bytes]


class Records(logging.Handler):
    """Keep every record, with the bound context at the time it was handled."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        record.bound = dict(context.current())
        self.records.append(record)


@pytest.fixture(autouse=True)
def _clean(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in list(os.environ):
        if name.startswith("STRUCTLOGX_"):
            monkeypatch.delenv(name)
    mail.outbox.clear()
    yield
    mail.outbox.clear()


@pytest.fixture
def records() -> Iterator[Records]:
    handler = Records()
    loggers = [logging.getLogger("structlogx.request"), logging.getLogger("test.app")]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
        logger.propagate = False
    yield handler
    for logger in loggers:
        logger.removeHandler(handler)
        logger.propagate = True
        logger.setLevel(logging.NOTSET)


class QuietHandler(WSGIRequestHandler):
    errors = io.StringIO()

    def get_stderr(self) -> io.StringIO:  # type: ignore[override]
        return self.errors

    def log_message(self, format: str, *args: Any) -> None:
        pass


Get = Callable[..., Response]


@pytest.fixture
def serve() -> Iterator[Callable[[Any], Get]]:
    """Return ``serve(app)``: a ``get(path, headers=None)`` against a real wsgiref server.

    Each ``get`` lets the server handle exactly one request in a thread and joins it, so the
    response (its ``close()`` and its log line included) is complete when ``get`` returns.
    """
    servers: list[WSGIServer] = []
    QuietHandler.errors = io.StringIO()

    def serve(app: Any) -> Get:
        server = make_server("127.0.0.1", 0, app, handler_class=QuietHandler)
        servers.append(server)

        def get(path: str, headers: dict[str, str] | None = None) -> Response:
            thread = threading.Thread(target=server.handle_request)
            thread.start()
            url = f"http://127.0.0.1:{server.server_port}{path}"
            try:
                with urllib.request.urlopen(
                    urllib.request.Request(url, headers=headers or {}), timeout=10
                ) as reply:
                    result = (reply.status, dict(reply.headers), reply.read())
            except urllib.error.HTTPError as error:
                result = (error.code, dict(error.headers), error.read())
            thread.join(10)
            return result

        return get

    yield serve
    for server in servers:
        server.server_close()


def hello(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    logging.getLogger("test.app").info("in the app")
    status = environ.get("PATH_INFO", "/")
    if status == "/missing":
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"nope"]
    if status == "/boom":
        raise RuntimeError("boom")
    start_response("200 OK", [("Content-Type", "text/plain"), ("X-Request-ID", "app-set")])
    return [b"hello"]


def request_lines(records: Records) -> list[logging.LogRecord]:
    return [r for r in records.records if r.name == "structlogx.request"]


# -- the middleware on a real server -------------------------------------------------------


def test_context_is_bound_in_the_app_and_the_request_line_is_info(
    serve: Callable[[Any], Get], records: Records
) -> None:
    get = serve(RequestContextMiddleware(hello))

    status, headers, body = get("/hello?x=1", {"X-Request-ID": "abc-123"})

    assert (status, body) == (200, b"hello")
    assert headers["X-Request-ID"] == "abc-123"
    app_record, line = records.records
    assert app_record.bound == {
        "request_id": "abc-123", "client_address": "127.0.0.1", "method": "GET", "path": "/hello"
    }
    assert app_record.bound == line.bound
    assert (line.levelno, line.getMessage(), line.status_code) == (logging.INFO, "OK: /hello", 200)
    assert isinstance(line.request, WSGIRequest)
    assert line.request.environ["PATH_INFO"] == "/hello"
    assert dict(context.current()) == {}


@pytest.mark.parametrize("incoming", ["", "a b", "x" * 65, "id\r\nX-Evil: 1", "ü", "a/b"])
def test_an_unsafe_request_id_is_replaced(
    serve: Callable[[Any], Get], records: Records, incoming: str
) -> None:
    get = serve(RequestContextMiddleware(hello))
    headers = {"X-Request-ID": incoming} if "\n" not in incoming else {}
    if "\n" in incoming:  # urllib refuses to send it; the pattern must refuse it too
        assert request_id(incoming) != incoming
    _, reply, _ = get("/", headers)
    rid = reply["X-Request-ID"]
    assert rid != incoming
    assert len(rid) == 32
    assert int(rid, 16) >= 0
    assert rid == request_lines(records)[0].bound["request_id"]


def test_missing_request_id_is_generated_and_unique(
    serve: Callable[[Any], Get], records: Records
) -> None:
    get = serve(RequestContextMiddleware(hello))
    first, second = get("/")[1]["X-Request-ID"], get("/")[1]["X-Request-ID"]
    assert first != second


def test_not_found_is_one_warning(serve: Callable[[Any], Get], records: Records) -> None:
    get = serve(RequestContextMiddleware(hello))

    assert get("/missing")[0] == 404

    [line] = request_lines(records)
    expected = (logging.WARNING, "Not Found: /missing", 404)
    assert (line.levelno, line.getMessage(), line.status_code) == expected


def test_an_exception_is_logged_as_500_with_traceback_and_raised_again(
    serve: Callable[[Any], Get], records: Records
) -> None:
    get = serve(RequestContextMiddleware(hello))

    status, _, _ = get("/boom")

    assert status == 500  # wsgiref saw the exception and answered 500 itself
    assert "RuntimeError: boom" in QuietHandler.errors.getvalue()
    [line] = request_lines(records)
    expected = (logging.ERROR, "Internal Server Error: /boom", 500)
    assert (line.levelno, line.getMessage(), line.status_code) == expected
    assert line.exc_info is not None
    assert isinstance(line.exc_info[1], RuntimeError)
    assert line.bound["request_id"] != "abc"
    assert line.bound["path"] == "/boom"


def test_an_exception_while_iterating_is_logged_once_and_raised(
    serve: Callable[[Any], Get], records: Records
) -> None:
    seen: list[dict[str, Any]] = []
    closed: list[bool] = []

    class Body:
        def __iter__(self) -> Iterator[bytes]:
            seen.append(dict(context.current()))
            yield b"first"
            seen.append(dict(context.current()))
            raise ValueError("mid-body")

        def close(self) -> None:
            seen.append(dict(context.current()))
            closed.append(True)

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return Body()

    get = serve(RequestContextMiddleware(app))
    with contextlib.suppress(Exception):  # the connection may break after the first chunk
        get("/stream")

    assert closed == [True]
    assert len(seen) == 3
    assert all(item.get("path") == "/stream" for item in seen)
    [line] = request_lines(records)
    assert (line.levelno, line.status_code) == (logging.ERROR, 500)
    assert line.exc_info is not None
    assert isinstance(line.exc_info[1], ValueError)


def test_the_context_is_bound_while_a_generator_body_runs(
    serve: Callable[[Any], Get], records: Records
) -> None:
    def app(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        start_response("302 Found", [("Location", "/elsewhere")])
        yield context.current()["request_id"].encode()

    get = serve(RequestContextMiddleware(app))
    rid = "from-client.1"

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)
    urllib.request.install_opener(opener)
    try:
        status, _, body = get("/go", {"X-Request-ID": rid})
    finally:
        urllib.request.install_opener(urllib.request.build_opener())
    assert (302, rid.encode()) == (status, body)
    [line] = request_lines(records)
    assert (line.levelno, line.getMessage()) == (logging.INFO, "Found: /go")


def test_control_characters_in_the_path_are_escaped(
    serve: Callable[[Any], Get], records: Records
) -> None:
    get = serve(RequestContextMiddleware(hello))

    get("/x%0AINFO%20forged%20line%1b%5B31m%E2%80%A8%5C")

    [line] = request_lines(records)
    message = line.getMessage()
    assert "\n" not in message
    assert "\x1b" not in message
    assert "\u2028" not in message
    assert message == "OK: /x\\nINFO forged line\\x1b[31m\\u2028\\\\"
    assert line.bound["path"] == "/x\\nINFO forged line\\x1b[31m\\u2028\\\\"


def test_log_requests_false_logs_nothing(serve: Callable[[Any], Get], records: Records) -> None:
    get = serve(RequestContextMiddleware(hello, log_requests=False))
    assert get("/missing")[0] == 404
    assert request_lines(records) == []
    assert len(records.records) == 1  # the app's own record, still with context
    assert "request_id" in records.records[0].bound


@pytest.mark.parametrize(("internal_ips", "where"), [
    (["127.0.0.1"], "internal"), ([], "EXTERNAL"), (["10.0.0.0/8"], "EXTERNAL"),
])
def test_the_admin_mail_reports_the_request(
    serve: Callable[[Any], Get], records: Records, internal_ips: list[str], where: str
) -> None:
    handler = AdminEmailHandler(blocking=True, subject_prefix="", throttle_window_s=0)
    handler.setLevel(logging.ERROR)
    handler.addFilter(AttachRequest())
    loggers = [logging.getLogger("structlogx.request"), logging.getLogger("test.app")]
    for logger in loggers:
        logger.addHandler(handler)

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        logging.getLogger("test.app").error("payment failed")
        raise RuntimeError("boom")

    try:
        with settings.override(ADMINS=[ADMIN], EMAIL_BACKEND=MEMORY, INTERNAL_IPS=internal_ips):
            get = serve(RequestContextMiddleware(app))
            assert get("/pay?order=42")[0] == 500
    finally:
        for logger in loggers:
            logger.removeHandler(handler)
        handler.close()

    app_mail, request_mail = mail.outbox
    assert f"ERROR ({where} IP): payment failed" == app_mail["Subject"]
    assert f"ERROR ({where} IP): Internal Server Error: /pay" == request_mail["Subject"]
    body = request_mail.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert "RuntimeError" in text
    assert "/pay?order=42" in text


# -- log_response, escape, request_id ------------------------------------------------------


@pytest.mark.parametrize(("status", "level", "reason"), [
    (200, logging.INFO, "OK"), (301, logging.INFO, "Moved Permanently"),
    (400, logging.WARNING, "Bad Request"), (499, logging.WARNING, "Unknown Status Code"),
    (500, logging.ERROR, "Internal Server Error"), (503, logging.ERROR, "Service Unavailable"),
])
def test_log_response_levels(records: Records, status: int, level: int, reason: str) -> None:
    assert log_response("test.app", status, "/p", "GET")
    [record] = records.records
    assert (level, f"{reason}: /p", status, None, "GET") == (
        record.levelno, record.getMessage(), record.status_code, record.request, record.method)
    assert __file__ == record.pathname  # the caller, not the helper


@pytest.mark.parametrize("request_", [{"PATH_INFO": "/"}, WSGIRequest({}), type("R", (), {})()])
def test_log_response_logs_each_request_once(records: Records, request_: object) -> None:
    logger = logging.getLogger("test.app")
    assert log_response(logger, 500, "/p", "GET", request=request_)
    assert not log_response(logger, 500, "/p", "GET", request=request_)
    assert len(records.records) == 1


def test_log_response_escapes_the_method(records: Records) -> None:
    log_response("test.app", 405, "/p", "GE\nT")
    assert records.records[0].method == "GE\\nT"


def test_attach_request_keeps_an_existing_request() -> None:
    record = logging.makeLogRecord({"request": "mine"})
    assert AttachRequest().filter(record)
    assert record.request == "mine"
    record = logging.makeLogRecord({})
    assert AttachRequest().filter(record)
    assert not hasattr(record, "request")


def test_request_repr_hides_the_environ() -> None:
    request = WSGIRequest({"REQUEST_METHOD": "GET", "PATH_INFO": "/a\n",
                           "HTTP_COOKIE": "sessionid=secret"})
    assert repr(request) == "<WSGI request 'GET' '/a\\\\n'>"


@pytest.mark.parametrize("value", ["abc", "A.b_c-9", "x" * 64, b"bytes-id"])
def test_request_id_keeps_safe_ids(value: str | bytes) -> None:
    expected = value.decode() if isinstance(value, bytes) else value
    assert expected == request_id(value)


@given(st.text())
def test_escape_is_printable_and_reversible(text: str) -> None:
    escaped = escape(text)
    assert escaped.isprintable()
    assert not any(char in escaped for char in "\r\n\x1b\x85\u2028\u2029")
    assert text == ast.literal_eval("'" + escaped.replace("'", "\\'") + "'")
    if text.isprintable() and "\\" not in text:
        assert text == escaped


def test_middleware_rejects_bad_options() -> None:
    with pytest.raises(TypeError, match="app"):
        RequestContextMiddleware(42)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="header"):
        RequestContextMiddleware(hello, header="")


def test_public_names() -> None:
    for name in wsgi.__all__:
        assert getattr(wsgi, name).__doc__, name


# -- ServerFormatter -----------------------------------------------------------------------


class TTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def line(status: int | None) -> logging.LogRecord:
    extra = {} if status is None else {"status_code": status}
    return logging.makeLogRecord({"msg": "GET /x", "levelno": logging.INFO, **extra})


@pytest.mark.parametrize(("status", "colour"), [
    (200, "\x1b[32m"), (304, "\x1b[36m"), (404, "\x1b[33m"), (500, "\x1b[1;31m"),
])
def test_server_formatter_colours_by_status(status: int, colour: str) -> None:
    formatter = ServerFormatter("%(message)s", color=True)
    assert f"{colour}GET /x\x1b[0m" == formatter.format(line(status))


def test_server_formatter_leaves_other_records_and_tracebacks_plain() -> None:
    formatter = ServerFormatter("%(message)s", color=True)
    assert formatter.format(line(None)) == "GET /x"
    assert formatter.format(line(101)) == "GET /x"
    try:
        raise KeyError("k")
    except KeyError:
        import sys

        record = line(500)
        record.exc_info = sys.exc_info()
    text = formatter.format(record)
    assert text.startswith("\x1b[1;31mGET /x\x1b[0m\nTraceback")


def test_server_formatter_detects_colour(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert ServerFormatter(stream=TTY()).color
    assert not ServerFormatter(stream=io.StringIO()).color
    monkeypatch.setenv("NO_COLOR", "1")
    assert not ServerFormatter(stream=TTY()).color
    assert ServerFormatter(stream=TTY(), color=True).color


def test_server_formatter_default_format() -> None:
    text = ServerFormatter(color=False).format(line(200))
    assert text.startswith("[")
    assert text.endswith("] GET /x")


def test_server_formatter_from_dictconfig(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    stream = TTY()
    monkeypatch.setattr("sys.stdout", stream)
    logging.config.dictConfig({
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"server": {"()": "structlogx.contrib.wsgi.ServerFormatter",
                                  "format": "%(message)s", "stream": "ext://sys.stdout"}},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "server",
                                 "stream": "ext://sys.stdout"}},
        "loggers": {"test.dictconfig": {"handlers": ["console"], "level": "INFO",
                                        "propagate": False}},
    })
    logger = logging.getLogger("test.dictconfig")
    try:
        log_response(logger, 404, "/x", "GET")
    finally:
        for handler in list(logger.handlers):
            logger.removeHandler(handler)
    assert stream.getvalue() == "\x1b[33mNot Found: /x\x1b[0m\n"


def test_server_formatter_rejects_a_bad_colour() -> None:
    with pytest.raises(TypeError, match="color"):
        ServerFormatter(color="yes")  # type: ignore[arg-type]


def test_attach_request_from_dictconfig_json(records: Records) -> None:
    import json

    config = json.loads("""{
        "version": 1, "disable_existing_loggers": false,
        "filters": {"request": {"()": "structlogx.contrib.wsgi.AttachRequest"}},
        "loggers": {"test.attach": {"filters": ["request"], "level": "INFO"}}
    }""")
    logging.config.dictConfig(config)
    logger = logging.getLogger("test.attach")
    logger.addHandler(records)
    request = WSGIRequest({"PATH_INFO": "/"})
    try:
        with using_request(request):
            logger.info("inside")
        logger.info("outside")
    finally:
        logger.removeHandler(records)
        logger.filters.clear()
    inside, outside = records.records
    assert inside.request is request
    assert not hasattr(outside, "request")
