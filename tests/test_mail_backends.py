"""Tests for structlogx.mail.backends: SMTP against a real aiosmtpd server, and the others."""

from __future__ import annotations

import email
import email.policy
import io
import math
import os
import shutil
import smtplib
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from smtp_server import SMTPServer, free_port, running_smtp_server

from structlogx import mail
from structlogx.conf import settings
from structlogx.mail import build_message
from structlogx.mail.backends import (
    DEFAULT_TIMEOUT_S,
    BaseBackend,
    ConsoleBackend,
    DummyBackend,
    EmailBackend,
    FileBackend,
    MemoryBackend,
    SMTPBackend,
)


@pytest.fixture(autouse=True)
def _clean(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in list(os.environ):
        if name.startswith("STRUCTLOGX_"):
            monkeypatch.delenv(name)
    mail.outbox.clear()
    yield
    mail.outbox.clear()
    settings.reset()


def message(subject: str = "Hello", body: str = "Body\n", **options: Any) -> EmailMessage:
    options.setdefault("to", ["ops@example.com"])
    return build_message(subject, body, from_email="app@example.com", **options)


def smtp(server: SMTPServer, **options: Any) -> SMTPBackend:
    return SMTPBackend(host=server.host, port=server.port, **options)


# --- SMTP: what arrives -------------------------------------------------------------------


def test_smtp_delivers_headers_and_envelope(smtp_server: SMTPServer) -> None:
    sent = message("Disk full", "Free some space.\n", cc=[("Boss", "boss@example.com")])
    assert smtp(smtp_server).send_messages([sent]) == 1
    [received] = smtp_server.wait_for(1)
    assert received.mail_from == "app@example.com"
    assert received.rcpt_tos == ["ops@example.com", "boss@example.com"]
    parsed = received.message
    assert sorted(parsed.keys()) == sorted(
        ["Subject", "From", "To", "Cc", "Date", "Message-ID", "MIME-Version", "Content-Type",
         "Content-Transfer-Encoding"]
    )
    assert (parsed["Subject"], parsed["From"], parsed["To"]) == (
        "Disk full", "app@example.com", "ops@example.com"
    )
    assert parsed["Cc"] == "Boss <boss@example.com>"
    assert parsed["Message-ID"] == sent["Message-ID"]
    assert parsed["Date"].datetime is not None
    assert parsed.get_content_type() == "text/plain"
    assert parsed.get_content_charset() == "utf-8"
    assert parsed.get_content().replace("\r\n", "\n") == "Free some space.\n"


def test_smtp_utf8_subject_travels_as_encoded_words(smtp_server: SMTPServer) -> None:
    subject = "Fehler: Größe überschritten — ☃ " + "ü" * 60
    smtp(smtp_server).send_messages([message(subject, "Grüße\n")])
    [received] = smtp_server.wait_for(1)
    assert received.data.isascii()  # nothing raw 8-bit on the wire, no SMTPUTF8 needed
    assert b"=?utf-8?" in received.data
    assert "SMTPUTF8" not in received.mail_options
    assert all(len(line) <= 78 for line in received.data.split(b"\r\n"))
    assert received.message["Subject"] == subject
    assert received.message.get_content().replace("\r\n", "\n") == "Grüße\n"


def test_smtp_multipart_alternative(smtp_server: SMTPServer) -> None:
    smtp(smtp_server).send_messages([message(body="plain ü\n", html="<p>html ü</p>")])
    parsed = smtp_server.wait_for(1)[0].message
    assert parsed.get_content_type() == "multipart/alternative"
    parts = list(parsed.iter_parts())
    assert [part.get_content_type() for part in parts] == ["text/plain", "text/html"]
    assert [part.get_content_charset() for part in parts] == ["utf-8", "utf-8"]
    assert parts[0].get_content().replace("\r\n", "\n") == "plain ü\n"
    assert parts[1].get_content().replace("\r\n", "\n") == "<p>html ü</p>\n"


def test_smtp_display_names_round_trip(smtp_server: SMTPServer) -> None:
    sent = build_message(
        "Hi", "x", from_email=("Jöhn, Doe", "john@example.com"), to=[("Ops Team", "o@example.org")]
    )
    smtp(smtp_server).send_messages([sent])
    [received] = smtp_server.wait_for(1)
    assert received.mail_from == "john@example.com"
    assert received.rcpt_tos == ["o@example.org"]
    [sender] = received.message["From"].addresses
    assert (sender.display_name, sender.addr_spec) == ("Jöhn, Doe", "john@example.com")


# --- SMTP: options --------------------------------------------------------------------------


@pytest.mark.parametrize(("username", "password"), [("", ""), ("user", ""), ("", "secret")])
def test_smtp_does_not_log_in_without_both_credentials(
    smtp_server: SMTPServer, username: str, password: str
) -> None:
    backend = smtp(smtp_server, username=username, password=password)
    assert backend.send_messages([message()]) == 1
    assert smtp_server.logins == []


def test_smtp_logs_in_with_both_credentials(smtp_server: SMTPServer) -> None:
    assert smtp(smtp_server, username="user", password="secret").send_messages([message()]) == 1
    assert smtp_server.logins == [("user", "secret")]


def test_smtp_options_default_to_settings(smtp_server: SMTPServer) -> None:
    with settings.override(
        EMAIL_HOST=smtp_server.host,
        EMAIL_PORT=smtp_server.port,
        EMAIL_HOST_USER="settings-user",
        EMAIL_HOST_PASSWORD="settings-secret",
        EMAIL_TIMEOUT=3,
    ):
        backend = SMTPBackend()
    assert (backend.host, backend.port, backend.timeout) == (smtp_server.host, smtp_server.port, 3)
    assert backend.send_messages([message()]) == 1
    assert smtp_server.logins == [("settings-user", "settings-secret")]


def test_tls_and_ssl_together_fail_at_construction() -> None:
    both = r"use_tls \(EMAIL_USE_TLS\) and use_ssl \(EMAIL_USE_SSL\) are both true"
    with pytest.raises(ValueError, match=both):
        SMTPBackend(use_tls=True, use_ssl=True)
    with settings.override(EMAIL_USE_TLS=True, EMAIL_USE_SSL=True), pytest.raises(
        ValueError, match="both true"
    ):
        SMTPBackend()
    with settings.override(EMAIL_USE_TLS=True, EMAIL_USE_SSL=True):
        assert SMTPBackend(use_ssl=False).use_tls  # an explicit argument wins over the setting


def test_keyfile_without_certfile_fails_at_construction() -> None:
    with pytest.raises(ValueError, match=r"ssl_keyfile \(EMAIL_SSL_KEYFILE\) '/k.pem'"):
        SMTPBackend(ssl_keyfile="/k.pem")


def test_timeout_is_finite_by_default() -> None:
    assert DEFAULT_TIMEOUT_S == settings.EMAIL_TIMEOUT == 10.0
    assert SMTPBackend().timeout == 10.0
    with settings.override(EMAIL_TIMEOUT=None):
        assert SMTPBackend().timeout == DEFAULT_TIMEOUT_S  # None never means "wait for ever"
    with settings.override(EMAIL_TIMEOUT=2.5):
        assert SMTPBackend().timeout == 2.5
        assert SMTPBackend(timeout=1).timeout == 1


@pytest.mark.parametrize("timeout", [0, -1, math.inf, math.nan, True, "5"])
def test_timeout_must_be_positive_and_finite(timeout: Any) -> None:
    with pytest.raises(ValueError, match="timeout must be a positive number of seconds"):
        SMTPBackend(timeout=timeout)


def test_timeout_reaches_the_socket(smtp_server: SMTPServer) -> None:
    with smtp(smtp_server, timeout=4.5) as backend:
        assert backend.connection is not None
        assert backend.connection.sock is not None
        assert backend.connection.sock.gettimeout() == 4.5


def test_unknown_option_is_an_error() -> None:
    with pytest.raises(TypeError, match="SMTPBackend got unexpected options: 'hots'"):
        SMTPBackend(hots="smtp.example.com")


# --- SMTP: connections ----------------------------------------------------------------------


def test_one_connection_serves_a_batch(smtp_server: SMTPServer) -> None:
    backend = smtp(smtp_server)
    assert backend.send_messages([message(f"m{i}") for i in range(3)]) == 3
    received = smtp_server.wait_for(3)
    assert smtp_server.connections == 1
    assert [r.connection for r in received] == [1, 1, 1]
    assert [r.message["Subject"] for r in received] == ["m0", "m1", "m2"]
    assert backend.connection is None  # send_messages closed what it opened


def test_connection_is_reused_inside_with(smtp_server: SMTPServer) -> None:
    with smtp(smtp_server) as backend:
        assert backend.open() is False  # already open
        assert backend.send_messages([message("a")]) == 1
        assert backend.send_messages([message("b"), message("c")]) == 2
        assert backend.connection is not None
    assert backend.connection is None
    smtp_server.wait_for(3)
    assert smtp_server.connections == 1
    backend.close()  # closing again does nothing


def test_separate_calls_use_separate_connections(smtp_server: SMTPServer) -> None:
    backend = smtp(smtp_server)
    backend.send_messages([message("a")])
    backend.send_messages([message("b")])
    assert [r.connection for r in smtp_server.wait_for(2)] == [1, 2]


def test_nothing_to_send_opens_no_connection(smtp_server: SMTPServer) -> None:
    assert smtp(smtp_server).send_messages([]) == 0
    assert smtp_server.connections == 0


def test_message_without_recipients_is_skipped(smtp_server: SMTPServer) -> None:
    backend = smtp(smtp_server)
    assert backend.send_messages([message(to=[]), message("real")]) == 1
    assert [r.message["Subject"] for r in smtp_server.wait_for(1)] == ["real"]


# --- SMTP: failures -------------------------------------------------------------------------


def test_refused_message_raises_then_the_next_is_accepted(
    flaky_smtp_server: SMTPServer,
) -> None:
    flaky_smtp_server.refuse_first = 1
    backend = smtp(flaky_smtp_server)
    with pytest.raises(smtplib.SMTPDataError) as caught:
        backend.send_messages([message("first")])
    assert caught.value.smtp_code == 451
    assert backend.send_messages([message("second")]) == 1
    assert [r.message["Subject"] for r in flaky_smtp_server.refused] == ["first"]
    assert [r.message["Subject"] for r in flaky_smtp_server.wait_for(1)] == ["second"]


def test_permanent_refusal_raises_with_its_code() -> None:
    with running_smtp_server(refuse_first=1, refuse_reply="554 5.7.1 Rejected") as server:
        with pytest.raises(smtplib.SMTPDataError) as caught:
            smtp(server).send_messages([message()])
        assert (caught.value.smtp_code, caught.value.smtp_error) == (554, b"5.7.1 Rejected")


def test_refused_message_fail_silently_is_not_counted(flaky_smtp_server: SMTPServer) -> None:
    backend = smtp(flaky_smtp_server, fail_silently=True)
    batch = [message("a"), message("b"), message("c")]
    assert backend.send_messages(batch) == 1  # the server refuses the first two
    assert [r.message["Subject"] for r in flaky_smtp_server.wait_for(1)] == ["c"]
    assert flaky_smtp_server.connections == 1  # a refusal does not cost the connection


def test_no_server_raises() -> None:
    backend = SMTPBackend(host="127.0.0.1", port=free_port(), timeout=2)
    with pytest.raises(ConnectionRefusedError):
        backend.send_messages([message()])
    with pytest.raises(ConnectionRefusedError), backend:
        pass
    assert backend.connection is None


def test_no_server_fail_silently_returns_zero() -> None:
    backend = SMTPBackend(host="127.0.0.1", port=free_port(), timeout=2, fail_silently=True)
    assert backend.open() is False
    assert backend.send_messages([message()]) == 0
    with backend:
        assert backend.send_messages([message()]) == 0


def test_slow_server_times_out_instead_of_hanging(slow_smtp_server: SMTPServer) -> None:
    backend = smtp(slow_smtp_server, timeout=0.3)
    started = time.monotonic()
    with pytest.raises((TimeoutError, smtplib.SMTPServerDisconnected)):
        backend.send_messages([message()])
    assert time.monotonic() - started < 2.5  # the server would take 5 s
    assert backend.connection is None


def test_lost_connection_is_dropped_and_reopened(smtp_server: SMTPServer) -> None:
    with smtp(smtp_server) as backend:
        assert backend.connection is not None
        assert backend.connection.sock is not None
        backend.connection.sock.shutdown(socket.SHUT_RDWR)  # as if the network dropped it
        with pytest.raises(OSError):
            backend.send_messages([message("lost")])
        assert backend.connection is None
        assert backend.send_messages([message("again")]) == 1
    assert [r.message["Subject"] for r in smtp_server.wait_for(1)] == ["again"]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_forked_child_opens_its_own_connection(smtp_server: SMTPServer) -> None:
    with smtp(smtp_server) as backend:
        backend.send_messages([message("parent before")])
        pid = os.fork()
        if pid == 0:  # the child: never return into pytest
            code = 1
            try:
                code = 0 if backend.connection is None else 2
                code = code or (0 if backend.send_messages([message("child")]) == 1 else 3)
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        backend.send_messages([message("parent after")])  # the parent's session still works
    received = smtp_server.wait_for(3)
    assert {r.message["Subject"]: r.connection for r in received} == {
        "parent before": 1, "child": 2, "parent after": 1
    }


# --- SMTP over TLS ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, made with the openssl command."""
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True,
        capture_output=True,
    )
    return cert, key


def _server_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    return context


def test_starttls(certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))  # trust the test certificate
    with running_smtp_server(tls_context=_server_context(certificate)) as server:
        backend = smtp(server, use_tls=True, username="user", password="secret")
        assert backend.send_messages([message()]) == 1
        assert server.logins == [("user", "secret")]
        assert len(server.wait_for(1)) == 1


def test_implicit_tls_with_client_certificate(
    certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
    with running_smtp_server(ssl_context=_server_context(certificate)) as server:
        cert, key = map(str, certificate)
        backend = smtp(server, use_ssl=True, ssl_certfile=cert, ssl_keyfile=key)
        assert backend.send_messages([message()]) == 1
        assert len(server.wait_for(1)) == 1


def test_untrusted_certificate_is_refused(certificate: tuple[Path, Path]) -> None:
    with running_smtp_server(tls_context=_server_context(certificate)) as server:
        with pytest.raises(ssl.SSLCertVerificationError):
            smtp(server, use_tls=True).send_messages([message()])
        assert smtp(server, use_tls=True, fail_silently=True).send_messages([message()]) == 0
        assert server.messages == []


# --- console, file, memory, dummy -----------------------------------------------------------


def test_console_writes_each_message_and_a_separator() -> None:
    stream = io.StringIO()
    assert ConsoleBackend(stream=stream).send_messages([message("one"), message("two")]) == 2
    text = stream.getvalue()
    chunks = text.split("\n" + "-" * 79 + "\n")
    assert chunks[2] == ""  # each message is followed by the separator
    parsed = [email.message_from_string(chunk, policy=email.policy.default) for chunk in chunks[:2]]
    assert [p["Subject"] for p in parsed] == ["one", "two"]


def test_console_defaults_to_stdout_at_write_time(capsys: pytest.CaptureFixture[str]) -> None:
    backend = ConsoleBackend()
    assert backend.send_messages([message("to stdout")]) == 1
    assert "Subject: to stdout" in capsys.readouterr().out


def test_console_write_failure() -> None:
    stream = io.StringIO()
    stream.close()
    with pytest.raises(ValueError, match="closed file"):
        ConsoleBackend(stream=stream).send_messages([message()])
    assert ConsoleBackend(stream=stream, fail_silently=True).send_messages([message()]) == 0


def _eml_files(folder: Path) -> list[Path]:
    return sorted(folder.iterdir())


def test_file_backend_writes_one_eml_per_message(tmp_path: Path) -> None:
    folder = tmp_path / "a" / "b"  # created, parents too
    backend = FileBackend(file_path=str(folder))
    assert backend.send_messages([message("one"), message("two", html="<p>x</p>")]) == 2
    files = _eml_files(folder)
    assert [path.suffix for path in files] == [".eml", ".eml"]
    parsed = [email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in files]
    assert sorted(p["Subject"] for p in parsed) == ["one", "two"]


def test_file_backend_path_from_settings(tmp_path: Path) -> None:
    with settings.override(EMAIL_FILE_PATH=str(tmp_path)):
        assert FileBackend().send_messages([message()]) == 1
    assert len(_eml_files(tmp_path)) == 1


def test_file_backend_needs_a_directory(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="pass file_path or set EMAIL_FILE_PATH"):
        FileBackend()
    existing = tmp_path / "mail.txt"
    existing.write_text("not a directory")
    with pytest.raises(ValueError, match=r"mail\.txt' exists and is not a directory"):
        FileBackend(file_path=existing)
    with pytest.raises(ValueError, match=r"cannot create e-mail directory .*mail\.txt/sub"):
        FileBackend(file_path=existing / "sub")


def test_file_backend_names_never_collide_across_threads(tmp_path: Path) -> None:
    backend = FileBackend(file_path=tmp_path)
    sent: list[int] = []

    def send() -> None:
        sent.append(sum(backend.send_messages([message()]) for _ in range(25)))

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(sent) == 200
    assert len(_eml_files(tmp_path)) == 200  # and no temporary files are left over


def test_file_backend_names_never_collide_across_processes(tmp_path: Path) -> None:
    script = (
        "import sys\n"
        "from structlogx.mail import build_message\n"
        "from structlogx.mail.backends import FileBackend\n"
        "backend = FileBackend(file_path=sys.argv[1])\n"
        "msg = build_message('s', 'b', from_email='a@example.com', to=['b@example.com'])\n"
        "for _ in range(50): backend.send_messages([msg])\n"
    )
    processes = [
        subprocess.Popen([sys.executable, "-c", script, str(tmp_path)]) for _ in range(3)
    ]
    assert [process.wait(timeout=60) for process in processes] == [0, 0, 0]
    assert len(_eml_files(tmp_path)) == 150


def test_file_backend_write_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    backend = FileBackend(file_path=tmp_path)

    def broken_replace(source: Any, target: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="No space left"):
        backend.send_messages([message()])
    assert FileBackend(file_path=tmp_path, fail_silently=True).send_messages([message()]) == 0
    assert _eml_files(tmp_path) == []  # the temporary file is removed


def test_memory_backend_appends_copies_to_the_outbox() -> None:
    original = message("kept")
    assert MemoryBackend().send_messages([original, message("second")]) == 2
    original.replace_header("Subject", "changed later")
    assert [m["Subject"] for m in mail.outbox] == ["kept", "second"]
    mail.outbox.clear()
    assert MemoryBackend().send_messages([message("after clear")]) == 1
    assert [m["Subject"] for m in mail.outbox] == ["after clear"]


def test_memory_backend_follows_a_replaced_outbox(monkeypatch: pytest.MonkeyPatch) -> None:
    fresh: list[EmailMessage] = []
    monkeypatch.setattr(mail, "outbox", fresh)
    MemoryBackend().send_messages([message()])
    assert len(fresh) == 1


def test_dummy_backend_counts_and_does_nothing() -> None:
    assert DummyBackend().send_messages(iter([message(), message()])) == 2
    assert mail.outbox == []


# --- the common base ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "backend", [SMTPBackend(), ConsoleBackend(), MemoryBackend(), DummyBackend()]
)
def test_every_backend_meets_the_protocol(backend: BaseBackend) -> None:
    assert isinstance(backend, EmailBackend)


def test_base_backend_contract() -> None:
    calls: list[str] = []

    class Recording(BaseBackend):
        def open(self) -> bool:
            calls.append("open")
            return True

        def close(self) -> None:
            calls.append("close")

    with Recording() as backend:
        calls.append("body")
    assert calls == ["open", "body", "close"]
    with pytest.raises(NotImplementedError):
        backend.send_messages([message()])
    with pytest.raises(TypeError, match="DummyBackend got unexpected options: 'a', 'b'"):
        DummyBackend(b=1, a=2)
