"""structlogx.contrib.asgi, driven by the ASGI protocol (receive/send) under asyncio.run."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Iterator, MutableMapping
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from structlogx import context, mail
from structlogx.conf import settings
from structlogx.contrib import asgi
from structlogx.contrib.asgi import (
    ASGIRequest,
    AttachRequest,
    RequestContextMiddleware,
    escape,
)
from structlogx.handlers import AdminEmailHandler

ADMIN = "admin@example.com"
MEMORY = "structlogx.mail.backends.MemoryBackend"
Message = MutableMapping[str, Any]


class Records(logging.Handler):
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


def scope(path: str = "/", *, headers: list[tuple[bytes, bytes]] | None = None,
          client: tuple[str, int] | None = ("127.0.0.1", 50000)) -> dict[str, Any]:
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
            "method": "GET", "scheme": "http", "path": path, "raw_path": path.encode(),
            "root_path": "", "query_string": b"a=1", "headers": headers or [],
            "client": client, "server": ("127.0.0.1", 8000)}


def run(app: Any, scope_: dict[str, Any]) -> list[Message]:
    """Drive *app* through one request; return what it sent."""
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(app(scope_, receive, send))
    return sent


async def hello(scope_: Any, receive: Any, send: Any) -> None:
    logging.getLogger("test.app").info("in the app")
    await asyncio.sleep(0)
    path = scope_["path"]
    if path == "/boom":
        raise RuntimeError("boom")
    status = 404 if path == "/missing" else 200
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain"), (b"x-request-id", b"app-set")]})
    await asyncio.sleep(0)
    logging.getLogger("test.app").info("between start and body")
    await send({"type": "http.response.body", "body": b"hello"})


def lines(records: Records) -> list[logging.LogRecord]:
    return [r for r in records.records if r.name == "structlogx.request"]


def header(sent: list[Message], name: bytes) -> list[bytes]:
    return [value for key, value in sent[0]["headers"] if key == name]


def test_context_is_bound_and_the_request_id_is_honoured(records: Records) -> None:
    sent = run(RequestContextMiddleware(hello),
               scope("/hello", headers=[(b"X-Request-ID", b"abc-123")]))

    assert header(sent, b"x-request-id") == [b"abc-123"]
    assert sent[1]["body"] == b"hello"
    first, second, line = records.records
    expected = {"request_id": "abc-123", "client_address": "127.0.0.1", "method": "GET",
                "path": "/hello"}
    assert expected == first.bound == second.bound == line.bound
    assert (line.levelno, line.getMessage(), line.status_code) == (logging.INFO, "OK: /hello", 200)
    assert isinstance(line.request, ASGIRequest)
    assert line.request.scope["path"] == "/hello"
    assert dict(context.current()) == {}


@pytest.mark.parametrize("incoming", [b"", b"a b", b"x" * 65, b"id\r\nX-Evil: 1", b"\xff"])
def test_an_unsafe_request_id_is_replaced(records: Records, incoming: bytes) -> None:
    sent = run(RequestContextMiddleware(hello), scope(headers=[(b"x-request-id", incoming)]))
    [rid] = header(sent, b"x-request-id")
    assert rid != incoming
    assert len(rid) == 32
    assert rid.decode() == lines(records)[0].bound["request_id"]


def test_not_found_is_one_warning(records: Records) -> None:
    run(RequestContextMiddleware(hello), scope("/missing"))
    [line] = lines(records)
    expected = (logging.WARNING, "Not Found: /missing", 404)
    assert (line.levelno, line.getMessage(), line.status_code) == expected


def test_an_exception_is_logged_as_500_with_traceback_and_raised_again(records: Records) -> None:
    with pytest.raises(RuntimeError, match="boom"):
        run(RequestContextMiddleware(hello), scope("/boom"))
    [line] = lines(records)
    expected = (logging.ERROR, "Internal Server Error: /boom", 500)
    assert (line.levelno, line.getMessage(), line.status_code) == expected
    assert line.exc_info is not None
    assert isinstance(line.exc_info[1], RuntimeError)
    assert line.bound["path"] == "/boom"


def test_an_app_that_never_starts_a_response_is_a_500(records: Records) -> None:
    async def silent(scope_: Any, receive: Any, send: Any) -> None:
        return None

    run(RequestContextMiddleware(silent), scope("/quiet"))
    [line] = lines(records)
    assert (line.levelno, line.getMessage()) == (logging.ERROR, "Internal Server Error: /quiet")
    assert line.exc_info is None


def test_control_characters_in_the_path_are_escaped(records: Records) -> None:
    run(RequestContextMiddleware(hello), scope("/x\nINFO forged\x1b[31m\u2028"))
    [line] = lines(records)
    assert line.getMessage() == "OK: /x\\nINFO forged\\x1b[31m\\u2028"
    assert line.bound["path"] == "/x\\nINFO forged\\x1b[31m\\u2028"


def test_log_requests_false_logs_nothing(records: Records) -> None:
    with pytest.raises(RuntimeError):
        run(RequestContextMiddleware(hello, log_requests=False), scope("/boom"))
    assert lines(records) == []


@pytest.mark.parametrize("kind", ["lifespan", "websocket"])
def test_other_scopes_pass_through_untouched(records: Records, kind: str) -> None:
    seen: list[Any] = []

    async def app(scope_: Any, receive: Any, send: Any) -> None:
        seen.append((scope_, send, dict(context.current())))

    async def send(message: Message) -> None:
        pass

    async def receive() -> Message:
        return {"type": f"{kind}.startup"}

    scope_ = {"type": kind}
    asyncio.run(RequestContextMiddleware(app)(scope_, receive, send))
    assert [(scope_, send, {})] == seen
    assert records.records == []


def test_concurrent_requests_keep_their_own_context(records: Records) -> None:
    middleware = RequestContextMiddleware(hello)

    async def one(rid: bytes) -> None:
        async def receive() -> Message:
            return {"type": "http.request"}

        async def send(message: Message) -> None:
            await asyncio.sleep(0)

        await middleware(scope("/" + rid.decode(), headers=[(b"x-request-id", rid)]),
                         receive, send)

    async def main() -> None:
        await asyncio.gather(*(one(f"r{i}".encode()) for i in range(20)))

    asyncio.run(main())
    assert len(records.records) == 60
    for record in records.records:
        assert record.bound["path"] == "/" + record.bound["request_id"]


@pytest.mark.parametrize(("internal_ips", "where"), [(["127.0.0.1"], "internal"), ([], "EXTERNAL")])
def test_the_admin_mail_reports_the_request(
    records: Records, internal_ips: list[str], where: str
) -> None:
    handler = AdminEmailHandler(blocking=True, subject_prefix="", throttle_window_s=0)
    handler.setLevel(logging.ERROR)
    handler.addFilter(AttachRequest())
    loggers = [logging.getLogger("structlogx.request"), logging.getLogger("test.app")]
    for logger in loggers:
        logger.addHandler(handler)

    async def app(scope_: Any, receive: Any, send: Any) -> None:
        logging.getLogger("test.app").error("payment failed")
        raise RuntimeError("boom")

    try:
        with settings.override(ADMINS=[ADMIN], EMAIL_BACKEND=MEMORY, INTERNAL_IPS=internal_ips), \
                pytest.raises(RuntimeError):
            run(RequestContextMiddleware(app), scope("/pay"))
    finally:
        for logger in loggers:
            logger.removeHandler(handler)
        handler.close()

    app_mail, request_mail = mail.outbox
    assert f"ERROR ({where} IP): payment failed" == app_mail["Subject"]
    assert f"ERROR ({where} IP): Internal Server Error: /pay" == request_mail["Subject"]
    body = request_mail.get_body(("plain",))
    assert body is not None
    assert "RuntimeError" in body.get_content()


def test_request_repr_hides_the_scope() -> None:
    request = ASGIRequest({"method": "POST", "path": "/a", "headers": [(b"cookie", b"s=1")]})
    assert repr(request) == "<ASGI request 'POST' '/a'>"


def test_middleware_rejects_bad_options() -> None:
    with pytest.raises(TypeError, match="app"):
        RequestContextMiddleware(None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="header"):
        RequestContextMiddleware(hello, header="é")


def test_public_names() -> None:
    for name in asgi.__all__:
        assert getattr(asgi, name).__doc__, name


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=40))
def test_any_path_gives_one_printable_line(path: str) -> None:
    handler = Records()
    logger = logging.getLogger("structlogx.request")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        run(RequestContextMiddleware(hello), scope("/p/" + path))
    finally:
        logger.removeHandler(handler)
    [line] = lines(handler)
    message = line.getMessage()
    assert message.isprintable()
    assert message == "OK: " + escape("/p/" + path)
