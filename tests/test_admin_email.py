"""Tests for structlogx.handlers.AdminEmailHandler: Django's behaviour, and none of its failures.

The first part ports Django's ``tests/logging_tests`` ``AdminEmailHandlerTest`` to structlogx's
API (settings from ``structlogx.conf.settings``, the memory backend's ``structlogx.mail.outbox``
for Django's ``mail.outbox``). The second part checks what structlogx adds, mostly against a
real SMTP server (``tests/smtp_server.py``): messages as received on the wire, a server that
takes 5 s per message, one that refuses then accepts, none at all; throttling under a burst,
contained failures, the recursion guard, ``fork``, secrets and header injection.
"""

from __future__ import annotations

import email
import email.policy
import io
import json
import logging
import logging.config
import os
import re
import signal
import statistics
import subprocess
import sys
import textwrap
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any, cast

import pytest
from mail_helpers import (
    CountingReporter,
    DjangoLikeRequest,
    ManagersEmailHandler,
    RecordingBackend,
)
from smtp_server import SMTPServer, free_port

from structlogx import mail
from structlogx.conf import settings
from structlogx.handlers import AdminEmailHandler
from structlogx.mail.report import ExceptionReporter

ADMIN = "admin@example.com"
MEMORY = "structlogx.mail.backends.MemoryBackend"
SMTP = "structlogx.mail.backends.SMTPBackend"
PREFIX = "-SuperAwesomeSubject-"
PING_PONG = "Custom message that says '%s' and '%s'"
HAS_FORK = hasattr(os, "fork")

Attach = Callable[..., logging.Logger]


@pytest.fixture(autouse=True)
def _clean(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in list(os.environ):
        if name.startswith("STRUCTLOGX_"):
            monkeypatch.delenv(name)
    mail.outbox.clear()
    RecordingBackend.sent.clear()
    CountingReporter.built = 0
    with settings.override(ADMINS=[ADMIN], EMAIL_BACKEND=MEMORY, INTERNAL_IPS=[]):
        yield
    mail.outbox.clear()
    RecordingBackend.sent.clear()


@pytest.fixture
def attach(request: pytest.FixtureRequest) -> Iterator[Attach]:
    """Return ``attach(handler, name=None)``: a fresh non-propagating logger with *handler*.

    Every handler attached is removed and closed after the test.
    """
    attached: list[tuple[logging.Logger, logging.Handler]] = []

    def attach(handler: logging.Handler, name: str | None = None) -> logging.Logger:
        logger = logging.getLogger(name or f"test_admin_email.{request.node.name}.{len(attached)}")
        logger.propagate = False
        logger.setLevel(logging.DEBUG)
        logger.addHandler(handler)
        attached.append((logger, handler))
        return logger

    yield attach
    for logger, handler in attached:
        logger.removeHandler(handler)
        handler.close()


def smtp_settings(server: SMTPServer | None = None, port: int | None = None, **values: Any) -> Any:
    """Settings that send through the SMTP backend to *server* (or to *port* on 127.0.0.1)."""
    options: dict[str, Any] = {
        "EMAIL_BACKEND": SMTP,
        "EMAIL_HOST": "127.0.0.1" if server is None else server.host,
        "EMAIL_PORT": port if server is None else server.port,
        "EMAIL_HOST_USER": "",
        "EMAIL_HOST_PASSWORD": "",
        "EMAIL_TIMEOUT": 10.0,
    }
    options.update(values)
    return settings.override(**options)


def environ(path: str = "/", *, remote_addr: str = "127.0.0.1", **extra: Any) -> dict[str, Any]:
    """A WSGI environ; *path* is text (encoded here as WSGI's "bytes as latin-1")."""
    return {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": path.encode("utf-8").decode("latin-1"),
        "QUERY_STRING": "",
        "REMOTE_ADDR": remote_addr,
        "HTTP_HOST": "example.com",
        "SERVER_NAME": "example.com",
        "SERVER_PORT": "80",
        "wsgi.url_scheme": "http",
        **extra,
    }


def asgi_scope(path: str = "/", *, remote_addr: str = "127.0.0.1") -> dict[str, Any]:
    """An ASGI HTTP scope."""
    return {
        "type": "http",
        "method": "GET",
        "path": path,
        "query_string": b"",
        "headers": [(b"host", b"example.com")],
        "client": (remote_addr, 51000),
        "server": ("example.com", 80),
        "scheme": "http",
    }


REQUESTS: dict[str, Callable[..., object]] = {
    "wsgi": lambda path="/", remote_addr="127.0.0.1": environ(path, remote_addr=remote_addr),
    "django": lambda path="/", remote_addr="127.0.0.1": DjangoLikeRequest(
        path, remote_addr=remote_addr
    ),
    "asgi": lambda path="/", remote_addr="127.0.0.1": asgi_scope(path, remote_addr=remote_addr),
}


def plain(message: EmailMessage) -> str:
    """The text/plain body, decoded, with LF line ends (a message parsed from the wire has
    CRLF)."""
    part = message.get_body(("plain",))
    assert part is not None
    return cast(str, part.get_content()).replace("\r\n", "\n")


def html_part(message: EmailMessage) -> str:
    """The text/html alternative, decoded, with LF line ends."""
    part = message.get_body(("html",))
    assert part is not None
    return cast(str, part.get_content()).replace("\r\n", "\n")


def header_block(raw: bytes) -> bytes:
    """The header lines of a raw message (before the first empty line)."""
    return raw.split(b"\r\n\r\n", 1)[0]


# -- Django's AdminEmailHandlerTest, ported ------------------------------------------------


@pytest.mark.parametrize("where", ["setting", "handler"])
def test_subject_with_arguments_and_custom_prefix(attach: Attach, where: str) -> None:
    values = {"EMAIL_SUBJECT_PREFIX": PREFIX if where == "setting" else "[not this] "}
    with settings.override(**values):
        handler = AdminEmailHandler(subject_prefix=PREFIX if where == "handler" else None)
        logger = attach(handler)
        logger.error(PING_PONG, "ping", "pong")
        assert handler.flush(5)
    assert [message["Subject"] for message in mail.outbox] == [
        "-SuperAwesomeSubject-ERROR: Custom message that says 'ping' and 'pong'"
    ]


@pytest.mark.parametrize("kind", sorted(REQUESTS))
@pytest.mark.parametrize(
    ("remote_addr", "where"), [("127.0.0.1", "internal"), ("203.0.113.7", "EXTERNAL")]
)
def test_subject_says_internal_or_external_ip(
    attach: Attach, kind: str, remote_addr: str, where: str
) -> None:
    with settings.override(EMAIL_SUBJECT_PREFIX=PREFIX, INTERNAL_IPS=["127.0.0.1"]):
        handler = AdminEmailHandler()
        logger = attach(handler)
        request = REQUESTS[kind](remote_addr=remote_addr)
        logger.error(PING_PONG, "ping", "pong", extra={"request": request})
        assert handler.flush(5)
    assert [message["Subject"] for message in mail.outbox] == [
        f"-SuperAwesomeSubject-ERROR ({where} IP): Custom message that says 'ping' and 'pong'"
    ]


def test_internal_ips_per_handler_and_networks(attach: Attach) -> None:
    handler = AdminEmailHandler(internal_ips=["10.0.0.0/8"], subject_prefix="", blocking=True)
    logger = attach(handler)
    logger.error("inside", extra={"request": environ(remote_addr="10.1.2.3")})
    logger.error("outside", extra={"request": environ(remote_addr="127.0.0.1")})
    assert [message["Subject"] for message in mail.outbox] == [
        "ERROR (internal IP): inside",
        "ERROR (EXTERNAL IP): outside",
    ]


def test_forwarded_for_header_does_not_make_a_client_internal(attach: Attach) -> None:
    with settings.override(INTERNAL_IPS=["127.0.0.1"]):
        handler = AdminEmailHandler(subject_prefix="", blocking=True)
        logger = attach(handler)
        forged = environ(remote_addr="203.0.113.7", HTTP_X_FORWARDED_FOR="127.0.0.1")
        logger.error("forged", extra={"request": forged})
    assert mail.outbox[0]["Subject"] == "ERROR (EXTERNAL IP): forged"


def test_no_usable_request_means_no_ip_in_the_subject(attach: Attach) -> None:
    handler = AdminEmailHandler(subject_prefix="", blocking=True)
    logger = attach(handler)
    logger.error("no request")
    logger.error("not a request", extra={"request": object()})
    assert [message["Subject"] for message in mail.outbox] == [
        "ERROR: no request",
        "ERROR: not a request",
    ]


def test_subject_accepts_newlines(attach: Attach, smtp_server: SMTPServer) -> None:
    with smtp_settings(smtp_server, EMAIL_SUBJECT_PREFIX=""):
        handler = AdminEmailHandler()
        logger = attach(handler)
        logger.error("Message \r\n with newlines")
        assert handler.flush(5)
    [received] = smtp_server.wait_for(1)
    subject = received.message["Subject"]
    assert subject == "ERROR: Message \\r\\n with newlines"
    assert "\n" not in subject
    assert "\r" not in subject
    headers = header_block(received.data)
    assert b"Message \\r\\n with newlines" in headers  # literal backslashes on the wire
    assert not re.search(rb"\r\n\s*with newlines", headers)


def test_format_subject_escapes_cr_and_lf() -> None:
    handler = AdminEmailHandler(blocking=True)
    try:
        assert handler.format_subject("a\r\nb\nc\rd") == "a\\r\\nb\\nc\\rd"
    finally:
        handler.close()


def test_custom_backend_by_dotted_path(attach: Attach) -> None:
    handler = AdminEmailHandler(email_backend="mail_helpers.RecordingBackend")
    logger = attach(handler)
    logger.error("through my backend")
    assert handler.flush(5)
    assert [message["Subject"] for message in RecordingBackend.sent] == [
        "[structlogx] ERROR: through my backend"
    ]
    assert mail.outbox == []


def test_email_backend_is_read_at_send_time(
    attach: Attach, capfd: pytest.CaptureFixture[str]
) -> None:
    handler = AdminEmailHandler(  # no error now: Django reads the backend when sending
        email_backend="mail_helpers.NoSuchBackend", attempts=1, backoff_s=0
    )
    logger = attach(handler)
    logger.error("nowhere to go")
    assert handler.flush(5)
    err = capfd.readouterr().err
    assert "mail_helpers.NoSuchBackend" in err
    assert len([line for line in err.splitlines() if line.startswith("structlogx:")]) == 1


@pytest.mark.parametrize("kind", ["wsgi", "django", "asgi"])
def test_non_ascii_path_in_the_report(attach: Attach, kind: str) -> None:
    handler = AdminEmailHandler(include_html=True)
    logger = attach(handler)
    logger.error("message", extra={"request": REQUESTS[kind]("/°")})
    assert handler.flush(5)
    [message] = mail.outbox
    assert "Report at /°" in plain(message)
    assert "Report at /°" in html_part(message)
    assert bytes(message).isascii()


def test_custom_send_mail_mails_managers_without_admins(attach: Attach) -> None:
    with settings.override(ADMINS=[], MANAGERS=[("manager", "manager@example.com")]):
        handler = ManagersEmailHandler()
        logger = attach(handler)
        logger.error("for the managers")
        assert handler.flush(5)
    [message] = mail.outbox
    assert [address.addr_spec for address in message["To"].addresses] == ["manager@example.com"]
    assert message["Subject"] == "[structlogx] ERROR: for the managers"


def test_custom_reporter_class_by_dotted_path(attach: Attach) -> None:
    handler = AdminEmailHandler(reporter_class="mail_helpers.CustomExceptionReporter")
    logger = attach(handler)
    logger.error("message")
    assert handler.flush(5)
    [message] = mail.outbox
    # Django's msg.body; build_message() ends the body with a newline.
    assert plain(message) == "message\n\ncustom traceback text\n"


def test_default_reporter_class_and_bad_reporter_path() -> None:
    handler = AdminEmailHandler()
    try:
        assert handler.reporter_class is ExceptionReporter
    finally:
        handler.close()
    with pytest.raises(ImportError, match=r"mail_helpers\.NoSuchReporter"):
        AdminEmailHandler(reporter_class="mail_helpers.NoSuchReporter")


def test_html_report_has_no_form_and_no_script(attach: Attach) -> None:
    handler = AdminEmailHandler(include_html=True)
    logger = attach(handler)
    try:
        raise ValueError("with <form action='x'> in it")
    except ValueError:
        logger.exception("failed", extra={"request": environ("/<form>")})
    assert handler.flush(5)
    [message] = mail.outbox
    document = html_part(message)
    assert "<form" not in document
    assert "<script" not in document.lower()
    assert '<div id="traceback">' in document
    assert message.get_content_type() == "multipart/alternative"


def test_no_html_unless_asked(attach: Attach) -> None:
    handler = AdminEmailHandler()
    logger = attach(handler)
    logger.error("text only")
    assert handler.flush(5)
    [message] = mail.outbox
    assert message.get_content_type() == "text/plain"


@pytest.mark.parametrize("where", ["setting", "handler"])
def test_no_admins_means_no_work_at_all(
    attach: Attach, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    submitted: list[object] = []
    with settings.override(ADMINS=[] if where == "setting" else [ADMIN]):
        handler = AdminEmailHandler(
            reporter_class="mail_helpers.CountingReporter",
            admins=[] if where == "handler" else None,
        )

        def fail(*args: object, **kwargs: object) -> Any:
            raise AssertionError("must not be called when nobody is mailed")

        monkeypatch.setattr(handler, "format_subject", fail)
        monkeypatch.setattr(handler, "format", fail)
        assert handler.throttle is not None
        assert handler.deliverer is not None
        monkeypatch.setattr(handler.throttle, "admit", fail)
        monkeypatch.setattr(handler.deliverer, "submit", lambda *args: submitted.append(args))
        logger = attach(handler)
        try:
            raise RuntimeError("boom")
        except RuntimeError:
            logger.exception("nobody to tell", extra={"request": environ()})
        assert handler.flush(5)
    assert CountingReporter.built == 0
    assert submitted == []
    assert mail.outbox == []


def test_blocking_sends_before_logger_error_returns(
    attach: Attach, smtp_server: SMTPServer
) -> None:
    with smtp_settings(smtp_server):
        handler = AdminEmailHandler(blocking=True)
        logger = attach(handler)
        logger.error("sent at once")
        assert len(smtp_server.messages) == 1  # no waiting: it is there already
    assert handler.deliverer is None
    assert smtp_server.messages[0].message["Subject"] == "[structlogx] ERROR: sent at once"


def test_disallowed_host_does_not_break_the_mail(attach: Attach) -> None:
    handler = AdminEmailHandler(blocking=True)
    logger = attach(handler)
    logger.error("bad host", extra={"request": environ(HTTP_HOST="evil.example\r\nX-Y: z")})
    [message] = mail.outbox
    assert "Host header is not a valid host name" in plain(message)


# -- beyond Django: a real SMTP server -----------------------------------------------------


def test_real_server_headers_multipart_and_utf8_subject(
    attach: Attach, smtp_server: SMTPServer
) -> None:
    admins = [("Ops Team", "ops@example.com"), "dev@example.com"]
    with smtp_settings(smtp_server, SERVER_EMAIL="errors@example.com", EMAIL_SUBJECT_PREFIX=""):
        handler = AdminEmailHandler(include_html=True, admins=admins)
        logger = attach(handler)
        try:
            raise ValueError("Größe ungültig: 3 €")
        except ValueError:
            logger.exception("Zahlung fehlgeschlagen für %s", "Zoë", extra={"request": environ()})
        assert handler.flush(5)
    [received] = smtp_server.wait_for(1)
    assert received.mail_from == "errors@example.com"
    assert received.rcpt_tos == ["ops@example.com", "dev@example.com"]
    assert received.data.isascii()  # 7-bit on the wire: encoded words, quoted-printable
    [subject_line] = re.findall(rb"^Subject:.*(?:\r\n[ \t].*)*", header_block(received.data), re.M)
    assert b"=?utf-8?" in subject_line.lower()  # RFC 2047 encoded words
    message = received.message
    assert message["Subject"] == "ERROR (EXTERNAL IP): Zahlung fehlgeschlagen für Zoë"
    assert message["From"] == "errors@example.com"
    assert message["To"] == "Ops Team <ops@example.com>, dev@example.com"
    assert message["Date"] is not None
    assert message["Message-ID"].endswith("@example.com>")
    assert message["MIME-Version"] == "1.0"
    assert message.get_content_type() == "multipart/alternative"
    parts = list(message.iter_parts())
    assert [part.get_content_type() for part in parts] == ["text/plain", "text/html"]
    assert {part.get_content_charset() for part in parts} == {"utf-8"}
    text = plain(message)
    assert text.startswith("Zahlung fehlgeschlagen für Zoë\n\n")
    assert "Größe ungültig: 3 €" in text
    assert "Größe ungültig: 3 €" in html_part(message)


def test_close_delivers_what_is_queued(attach: Attach, smtp_server: SMTPServer) -> None:
    with smtp_settings(smtp_server):
        handler = AdminEmailHandler(throttle_window_s=0)
        logger = attach(handler)
        for number in range(3):
            logger.error("queued %d", number)
        handler.close()  # no flush first
    assert sorted(m.message["Subject"] for m in smtp_server.messages) == [
        f"[structlogx] ERROR: queued {number}" for number in range(3)
    ]


def test_interpreter_exit_drains_the_queue(smtp_server: SMTPServer) -> None:
    script = textwrap.dedent(
        f"""
        import logging
        from structlogx.conf import settings
        from structlogx.handlers import AdminEmailHandler
        settings.configure(ADMINS=["ops@example.com"], EMAIL_BACKEND={SMTP!r},
                           EMAIL_HOST={smtp_server.host!r}, EMAIL_PORT={smtp_server.port})
        logging.getLogger("app").addHandler(AdminEmailHandler())
        logging.getLogger("app").error("mailed at exit")
        """
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("STRUCTLOGX_")}
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=30,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    [received] = smtp_server.wait_for(1)
    assert received.message["Subject"] == "[structlogx] ERROR: mailed at exit"


def test_interpreter_exit_with_the_server_down_stops_retrying() -> None:
    """Exit must not wait out the retries: one last try, then the stderr line, at once."""
    script = textwrap.dedent(
        f"""
        import logging
        from structlogx.conf import settings
        from structlogx.handlers import AdminEmailHandler
        settings.configure(ADMINS=["ops@example.com"], EMAIL_BACKEND={SMTP!r},
                           EMAIL_HOST="127.0.0.1", EMAIL_PORT={free_port()})
        logging.getLogger("app").addHandler(AdminEmailHandler(attempts=4, backoff_s=3.0))
        logging.getLogger("app").error("lost at exit")
        """
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("STRUCTLOGX_")}
    started = time.monotonic()
    try:
        result = subprocess.run(
            [sys.executable, "-c", script],
            capture_output=True,
            text=True,
            timeout=5,  # the retries alone would take 3 + 6 + 12 s
            env=env,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(
            "interpreter exit waited for the retry pauses (> 5 s) instead of stopping retrying"
        )
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started < 5
    lines = result.stderr.splitlines()
    assert len(lines) == 1, lines
    assert "'ERROR: lost at exit' failed after" in lines[0]


@pytest.mark.slow
def test_slow_server_logger_error_returns_at_once(
    attach: Attach, slow_smtp_server: SMTPServer, capfd: pytest.CaptureFixture[str]
) -> None:
    server = slow_smtp_server
    assert server.delay == 5.0
    calls = 20
    with smtp_settings(server):
        handler = AdminEmailHandler(throttle_window_s=0)
        logger = attach(handler)
        durations = []
        for number in range(calls):
            try:
                raise ConnectionError(f"database down ({number})")
            except ConnectionError:
                start = time.perf_counter_ns()
                logger.exception("checkout failed")
                durations.append(time.perf_counter_ns() - start)
        median_ms = statistics.median(durations) / 1e6
        assert median_ms <= 1.0, f"median emit {median_ms:.3f} ms, max {max(durations) / 1e6} ms"
        assert sum(durations) / 1e9 < 2.5  # not one of them waited for the 5 s server
        server.delay = 0  # the first message still takes 5 s; the rest, to bound the test
        started = time.monotonic()
        assert handler.flush(20)
        assert time.monotonic() - started < 15
    assert len(server.wait_for(calls)) == calls
    assert "structlogx:" not in capfd.readouterr().err


def test_refusing_then_accepting_server_gets_the_mail_by_retrying(
    attach: Attach, flaky_smtp_server: SMTPServer, capfd: pytest.CaptureFixture[str]
) -> None:
    server = flaky_smtp_server
    with smtp_settings(server):
        handler = AdminEmailHandler(attempts=4, backoff_s=0.05)
        logger = attach(handler)
        logger.error("retried until delivered")
        assert handler.flush(10)
    assert len(server.refused) == server.refuse_first == 2
    [received] = server.wait_for(1)
    assert received.message["Subject"] == "[structlogx] ERROR: retried until delivered"
    assert capfd.readouterr().err == ""


def test_refusing_server_beyond_attempts_gives_one_stderr_line(
    attach: Attach, flaky_smtp_server: SMTPServer, capfd: pytest.CaptureFixture[str]
) -> None:
    with smtp_settings(flaky_smtp_server):
        handler = AdminEmailHandler(attempts=2, backoff_s=0.05)
        logger = attach(handler)
        logger.error("never delivered")
        assert handler.flush(10)
    assert flaky_smtp_server.messages == []
    lines = capfd.readouterr().err.splitlines()
    assert len(lines) == 1
    assert "failed after 2 attempt(s)" in lines[0]
    assert "451" in lines[0]


def test_no_server_at_all(attach: Attach, capfd: pytest.CaptureFixture[str]) -> None:
    with smtp_settings(port=free_port()):
        handler = AdminEmailHandler(attempts=3, backoff_s=0.05)
        logger = attach(handler)
        started = time.monotonic()
        logger.error("nobody listens")  # must not raise
        emitted = time.monotonic() - started
        assert handler.flush(10)
        elapsed = time.monotonic() - started
    assert emitted < 0.5
    assert elapsed < 5
    lines = capfd.readouterr().err.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("structlogx: admin e-mail: ")
    assert "failed after 3 attempt(s)" in lines[0]
    assert "ConnectionRefusedError" in lines[0]


def test_server_that_never_answers_does_not_hang(
    attach: Attach, capfd: pytest.CaptureFixture[str]
) -> None:
    import socket

    with socket.socket() as listener:  # accepts connections (backlog), never says a word
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        with smtp_settings(port=listener.getsockname()[1], EMAIL_TIMEOUT=0.3):
            handler = AdminEmailHandler(attempts=2, backoff_s=0.05)
            logger = attach(handler)
            started = time.monotonic()
            logger.error("hung server")
            handler.close()  # stops retrying: one last try, bounded by the timeout
            elapsed = time.monotonic() - started
    assert elapsed < 5
    lines = capfd.readouterr().err.splitlines()
    assert len(lines) == 1, lines
    assert "'ERROR: hung server' failed after 1 attempt(s)" in lines[0]
    assert "timed out" in lines[0]


# -- throttling ----------------------------------------------------------------------------


class FakeClock:
    """Seconds that move only when a test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def fail_an_order(logger: logging.Logger, number: int) -> None:
    """Raise and log the same error from the same lines every time."""
    try:
        raise ConnectionError(f"database unavailable while saving order {number}")
    except ConnectionError:
        logger.exception("Saving order %s failed", number)


def test_burst_of_identical_errors_sends_at_most_two_mails(
    attach: Attach, smtp_server: SMTPServer
) -> None:
    clock = FakeClock()
    with smtp_settings(smtp_server):
        handler = AdminEmailHandler(throttle_window_s=60, max_mails_per_minute=10, clock=clock)
        logger = attach(handler)
        for number in range(10_000):
            fail_an_order(logger, number)
        assert handler.flush(10)
        in_window = len(smtp_server.messages)
        assert 1 <= in_window <= 2
        clock.now += 61  # past the window: the same error again, from the same line
        fail_an_order(logger, 10_000)
        assert handler.flush(10)
    messages = smtp_server.wait_for(in_window + 1)
    assert len(messages) == in_window + 1
    held_back = 10_000 - in_window
    last = plain(messages[-1].message)
    assert f"{held_back} more like this were not mailed" in last
    assert "Saving order 10000 failed" in last


def test_overall_cap_and_held_back_count(attach: Attach) -> None:
    clock = FakeClock()
    handler = AdminEmailHandler(
        throttle_window_s=60, max_mails_per_minute=3, clock=clock, blocking=True
    )
    logger = attach(handler)
    for number in range(10):  # ten different errors (different message templates)
        logger.error(f"distinct error {number}")
    assert [m["Subject"] for m in mail.outbox] == [
        f"[structlogx] ERROR: distinct error {number}" for number in range(3)
    ]
    clock.now += 61
    logger.error("distinct error 5")  # held back by the cap last minute
    assert len(mail.outbox) == 4
    assert "1 more like this was not mailed" in plain(mail.outbox[-1])


def test_fingerprint_ignores_the_changing_message_of_one_error(attach: Attach) -> None:
    clock = FakeClock()
    handler = AdminEmailHandler(throttle_window_s=60, clock=clock, blocking=True)
    logger = attach(handler)
    for number in range(5):
        fail_an_order(logger, number)
    logger.error("another error entirely")
    assert [m["Subject"] for m in mail.outbox] == [
        "[structlogx] ERROR: Saving order 0 failed",
        "[structlogx] ERROR: another error entirely",
    ]


def test_throttling_off(attach: Attach) -> None:
    handler = AdminEmailHandler(throttle_window_s=0, blocking=True)
    logger = attach(handler)
    for number in range(25):
        fail_an_order(logger, number)
    assert handler.throttle is None
    assert len(mail.outbox) == 25


# -- contained failures, recursion ---------------------------------------------------------


class RaisingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        raise RuntimeError("formatter exploded")


class RaisingSubjectHandler(AdminEmailHandler):
    def format_subject(self, subject: str) -> str:
        raise RuntimeError("subject exploded")


@pytest.mark.parametrize("broken", ["reporter", "formatter", "subject"])
def test_failure_while_building_sends_a_minimal_mail(
    attach: Attach, capfd: pytest.CaptureFixture[str], broken: str
) -> None:
    if broken == "reporter":
        handler = AdminEmailHandler(reporter_class="mail_helpers.BrokenTextReporter")
    elif broken == "subject":
        handler = RaisingSubjectHandler()
    else:
        handler = AdminEmailHandler()
        handler.setFormatter(RaisingFormatter())
    logger = attach(handler)
    try:
        raise KeyError("order 42")
    except KeyError:
        logger.exception("the original message about %s", "order 42")  # must not raise
    assert handler.flush(5)
    [message] = mail.outbox
    body = plain(message)
    assert "could not build the full error report" in body
    assert {"reporter": "report", "formatter": "formatter", "subject": "subject"}[broken] + (
        " exploded"
    ) in body
    assert "the original message about order 42" in body
    assert "the original message about order 42" in message["Subject"]
    assert capfd.readouterr().err == ""


def test_message_that_cannot_be_formatted_still_mails(
    attach: Attach, capfd: pytest.CaptureFixture[str]
) -> None:
    handler = AdminEmailHandler()
    logger = attach(handler)
    logger.error("total %d items", "not a number")  # a bug in the caller's format string
    assert handler.flush(5)
    [message] = mail.outbox
    assert "total %d items" in message["Subject"]
    assert "could not build the full error report" in plain(message)
    assert "Logging error" not in capfd.readouterr().err


class LoggingSendMailHandler(AdminEmailHandler):
    """A ``send_mail`` that logs an error through a logger this handler is attached to."""

    log_to = ""
    calls = 0

    def send_mail(self, subject: str, message: str, *args: Any, **kwargs: Any) -> None:
        type(self).calls += 1
        logging.getLogger(self.log_to).error("sending %r", subject)
        super().send_mail(subject, message, *args, **kwargs)


@pytest.mark.parametrize("blocking", [False, True])
def test_recursion_guard(attach: Attach, blocking: bool) -> None:
    LoggingSendMailHandler.calls = 0
    handler = LoggingSendMailHandler(blocking=blocking, throttle_window_s=0)
    logger = attach(handler)
    handler.log_to = f"{logger.name}.child"  # propagates to the handler's logger
    logger.error("the first error")
    assert handler.flush(5)
    time.sleep(0.05)  # anything mailed by a loop would show up by now
    assert handler.flush(5)
    assert LoggingSendMailHandler.calls == 1
    assert [m["Subject"] for m in mail.outbox] == ["[structlogx] ERROR: the first error"]


# -- fork ----------------------------------------------------------------------------------


def fork_and_wait(child: Callable[[], int], timeout: float) -> int | None:
    """Run *child* in a forked process; return its exit code, or None if it hung (killed)."""
    with warnings.catch_warnings():  # 3.12+: "This process is multi-threaded, use of fork()"
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 3
        try:
            code = child()
        finally:
            os._exit(code)
    deadline = time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return None
        time.sleep(0.01)


@pytest.mark.skipif(not HAS_FORK, reason="needs os.fork")
def test_fork_child_sends_through_its_own_thread(attach: Attach, tmp_path: Path) -> None:
    with settings.override(
        EMAIL_BACKEND="structlogx.mail.backends.FileBackend", EMAIL_FILE_PATH=str(tmp_path)
    ):
        handler = AdminEmailHandler()
        logger = attach(handler)
        logger.error("from the parent")
        assert handler.flush(5)  # the parent's sender thread now runs

        def child() -> int:
            logger.error("from the child %d", os.getpid())
            return 0 if handler.flush(10) else 2

        code = fork_and_wait(child, timeout=15)
        assert code == 0, "the child hung" if code is None else f"child exit {code}"
        logger.error("from the parent again")
        assert handler.flush(5)
    subjects = []
    for path in sorted(tmp_path.glob("*.eml")):
        parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        subjects.append(parsed["Subject"].removeprefix("[structlogx] ERROR: "))
    assert len(subjects) == 3
    assert "from the parent" in subjects
    assert "from the parent again" in subjects
    assert any(re.fullmatch(r"from the child \d+", subject) for subject in subjects)


@pytest.mark.skipif(not HAS_FORK, reason="needs os.fork")
def test_fork_while_another_thread_is_inside_the_throttle(attach: Attach, tmp_path: Path) -> None:
    """gunicorn --preload forks while some thread may be logging an error: the child must
    not inherit a lock that no thread of its own will ever release."""
    inside, release = threading.Event(), threading.Event()
    holder: dict[str, object] = {}
    clock_calls: dict[int, int] = {}

    def clock() -> float:
        ident = threading.get_ident()
        clock_calls[ident] = clock_calls.get(ident, 0) + 1
        # The second reading is the overall cap's, taken inside the throttle's lock.
        if threading.current_thread() is holder.get("thread") and clock_calls[ident] == 2:
            inside.set()
            release.wait(10)
        return time.monotonic()

    with settings.override(
        EMAIL_BACKEND="structlogx.mail.backends.FileBackend", EMAIL_FILE_PATH=str(tmp_path)
    ):
        handler = AdminEmailHandler(clock=clock)
        logger = attach(handler)
        thread = threading.Thread(target=logger.error, args=("logged by a thread",))
        holder["thread"] = thread
        thread.start()
        try:
            assert inside.wait(5)

            def child() -> int:
                logger.error("from the child")
                return 0 if handler.flush(5) else 2

            code = fork_and_wait(child, timeout=3)
        finally:
            release.set()
            thread.join(5)
        assert handler.flush(5)
    assert code is not None, (
        "the forked child hung in logger.error: a lock held by another thread of the parent at "
        "fork time (the throttle's) is not re-initialised in the child"
    )
    assert code == 0


# -- secrets and header injection on the wire ----------------------------------------------

SECRETS = {
    "POST password": "post-secret-7f3a9c",
    "Authorization header": "bearer-token-51d0e8b2c4aa",
    "EMAIL_HOST_PASSWORD setting": "smtp-setting-secret-93bd",
    "local variable password": "local-variable-secret-c71e",
    "query password": "query-secret-a0b1c2",
    "session cookie": "cookie-secret-6e5d4c",
}


def charge_card(holder: str) -> None:
    password = SECRETS["local variable password"]  # noqa: F841 - read by the HTML report
    harmless_marker = "visible-local-marker"  # noqa: F841
    raise RuntimeError(f"payment gateway refused the charge for {holder}")


def planted_request(kind: str) -> object:
    if kind == "wsgi":
        body = f"password={SECRETS['POST password']}&amount=5".encode()
        return environ(
            "/checkout",
            remote_addr="203.0.113.7",
            REQUEST_METHOD="POST",
            QUERY_STRING=f"password={SECRETS['query password']}&page=2",
            CONTENT_TYPE="application/x-www-form-urlencoded",
            CONTENT_LENGTH=str(len(body)),
            HTTP_AUTHORIZATION=f"Bearer {SECRETS['Authorization header']}",
            HTTP_COOKIE=f"sessionid={SECRETS['session cookie']}",
            **{"wsgi.input": io.BytesIO(body)},
        )
    return DjangoLikeRequest(
        "/checkout",
        method="POST",
        remote_addr="203.0.113.7",
        post={"password": [SECRETS["POST password"]], "amount": ["5"]},
        headers={
            "HTTP_AUTHORIZATION": f"Bearer {SECRETS['Authorization header']}",
            "QUERY_STRING": f"password={SECRETS['query password']}&page=2",
        },
        cookies={"sessionid": SECRETS["session cookie"]},
    )


@pytest.mark.parametrize("kind", ["wsgi", "django"])
def test_planted_secrets_never_reach_the_wire(
    attach: Attach, smtp_server: SMTPServer, kind: str
) -> None:
    with smtp_settings(smtp_server, EMAIL_HOST_PASSWORD=SECRETS["EMAIL_HOST_PASSWORD setting"]):
        handler = AdminEmailHandler(include_html=True)
        logger = attach(handler)
        try:
            charge_card("alice")
        except RuntimeError:
            logger.exception(
                "charge failed for %s", "alice", extra={"request": planted_request(kind)}
            )
        assert handler.flush(5)
    [received] = smtp_server.wait_for(1)
    message = received.message
    text, document = plain(message), html_part(message)
    leaked = {
        what: where
        for what, secret in SECRETS.items()
        for where, content in (
            ("raw", received.data.decode("ascii")),
            ("text", text),
            ("html", document),
        )
        if secret in content
    }
    assert leaked == {}
    # The report is there, with what is not secret: the redaction did not empty it.
    assert "visible-local-marker" in document
    assert "payment gateway refused the charge for alice" in text
    assert "Authorization" in text
    if kind == "django":
        assert "amount" in text


TOP_HEADERS = {
    b"subject",
    b"from",
    b"to",
    b"date",
    b"message-id",
    b"mime-version",
    b"content-type",
    b"content-transfer-encoding",
}


@pytest.mark.parametrize(
    "injected",
    [
        "\r\nBcc: victim@example.com",
        "\nBcc: victim@example.com",
        "\rBcc: victim@example.com",
        "\u2028Bcc: victim@example.com",
        "\x85Bcc: victim@example.com",
        "\vBcc: victim@example.com",
    ],
)
def test_header_injection_from_the_message(
    attach: Attach, smtp_server: SMTPServer, injected: str
) -> None:
    with smtp_settings(smtp_server):
        handler = AdminEmailHandler(include_html=True)
        logger = attach(handler)
        logger.error(f"Order failed{injected}")
        logger.error("Order %s failed", f"A{injected}")
        try:
            raise ValueError(f"bad{injected}")
        except ValueError as exc:
            logger.exception("%s", exc)
        assert handler.flush(5)
    received = smtp_server.wait_for(3)
    for item in received:
        assert item.rcpt_tos == [ADMIN]
        assert item.message.get_all("Bcc") is None
        headers = header_block(item.data)
        assert not re.search(rb"^bcc\s*:", headers, re.IGNORECASE | re.MULTILINE), headers
        names = {
            line.split(b":", 1)[0].lower()
            for line in headers.split(b"\r\n")
            if line and not line[:1].isspace()
        }
        assert names <= TOP_HEADERS, names


# -- configuration -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"admins": ["ops@example.com", "not-an-address"]}, "not-an-address"),
        ({"admins": [("Ops", "ops@")]}, "ops@"),
        ({"admins": ["Ops <ops@example.com>\r\nBcc: victim@example.com"]}, "victim@example.com"),
        ({"from_email": "errors at example.com"}, "errors at example.com"),
    ],
)
def test_invalid_address_fails_at_construction_naming_it(
    options: dict[str, Any], named: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(named)):
        AdminEmailHandler(**options)


def test_admins_as_one_string_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="admins"):
        AdminEmailHandler(admins=cast(Any, "ops@example.com"))


def test_invalid_address_in_settings_admins_fails_at_configuration_time() -> None:
    built: list[AdminEmailHandler] = []
    try:
        with (
            pytest.raises(ValueError, match="not-an-address"),
            settings.override(ADMINS=["ops@example.com", "not-an-address"]),
        ):
            built.append(AdminEmailHandler())
    finally:
        for handler in built:
            handler.close()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"attempts": 0}, "attempts"),
        ({"backoff_s": -1}, "backoff_s"),
        ({"email_backend": RecordingBackend}, "email_backend"),
    ],
)
def test_bad_option_values_fail_at_construction(options: dict[str, Any], message: str) -> None:
    with pytest.raises((ValueError, TypeError), match=message):
        AdminEmailHandler(**options)


DICT_CONFIG = """
{
  "version": 1,
  "disable_existing_loggers": false,
  "filters": {"require_debug_false": {"()": "structlogx.filters.RequireDebugFalse"}},
  "handlers": {
    "mail_admins": {
      "FACTORY_KEY": "structlogx.handlers.AdminEmailHandler",
      "level": "ERROR",
      "filters": ["require_debug_false"],
      "include_html": true,
      "email_backend": "mail_helpers.RecordingBackend",
      "reporter_class": "mail_helpers.CustomExceptionReporter",
      "admins": [["Ops", "ops@example.com"], "dev@example.com"],
      "subject_prefix": "[shop] ",
      "throttle_window_s": 30,
      "blocking": true
    }
  },
  "loggers": {"dictcfg.mail": {"handlers": ["mail_admins"], "level": "INFO", "propagate": false}}
}
"""


@pytest.mark.parametrize("factory_key", ["class", "()"])
def test_dict_config(factory_key: str) -> None:
    config = json.loads(DICT_CONFIG.replace("FACTORY_KEY", factory_key))
    logging.config.dictConfig(config)
    logger = logging.getLogger("dictcfg.mail")
    try:
        [handler] = logger.handlers
        assert isinstance(handler, AdminEmailHandler)
        assert handler.level == logging.ERROR
        assert handler.include_html is True
        assert handler.admins == ["Ops <ops@example.com>", "dev@example.com"]
        assert handler.throttle is not None
        assert handler.throttle.window_s == 30
        logger.warning("not mailed: below ERROR")
        logger.error("mailed")
        with settings.override(DEBUG=True):
            logger.error("not mailed: DEBUG is on")
        assert [m["Subject"] for m in RecordingBackend.sent] == ["[shop] ERROR: mailed"]
        assert plain(RecordingBackend.sent[0]) == "mailed\n\ncustom traceback text\n"
        assert [m.get_content_type() for m in RecordingBackend.sent] == ["multipart/alternative"]
    finally:
        for handler in list(logger.handlers):
            logger.removeHandler(handler)
            handler.close()


def test_dict_config_names_the_invalid_address() -> None:
    config = json.loads(DICT_CONFIG.replace("FACTORY_KEY", "class"))
    config["handlers"]["mail_admins"]["admins"] = ["not-an-address"]
    with pytest.raises(ValueError, match="mail_admins") as raised:
        logging.config.dictConfig(config)
    assert "not-an-address" in f"{raised.value} {raised.value.__cause__}"
    handlers = logging.getLogger("dictcfg.mail").handlers
    assert not any(isinstance(handler, AdminEmailHandler) for handler in handlers)
