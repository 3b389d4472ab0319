"""A real SMTP server for tests: ``aiosmtpd`` on 127.0.0.1, keeping what it receives raw.

pytest puts ``tests/`` on ``sys.path`` (the default ``prepend`` import mode, no
``__init__.py``); ``tests/conftest.py`` registers this module with ``pytest_plugins``, so every
test module can request the fixtures by name:

- ``smtp_server``: accepts every message;
- ``slow_smtp_server``: answers each DATA after ``delay`` seconds (5 by default): a hung
  server, to prove that logging returns at once; keep the test that uses it short;
- ``flaky_smtp_server``: refuses the first ``refuse_first`` messages (2 by default) with
  ``refuse_reply`` (a 451), then accepts;

and :func:`free_port` gives a port where nothing listens ("no server at all"). For another
lifetime (a module-scoped server for property tests) use :func:`running_smtp_server`.

Each server advertises ``AUTH`` without TLS and accepts any credentials, recording them in
``logins``, so a test can check that a client did, or did not, log in.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any, cast

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

__all__ = [
    "Received",
    "SMTPServer",
    "flaky_smtp_server",
    "free_port",
    "running_smtp_server",
    "slow_smtp_server",
    "smtp_server",
]

HOST = "127.0.0.1"


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 where nothing listens (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@dataclass
class Received:
    """One message the server accepted (or refused, in ``SMTPServer.refused``)."""

    mail_from: str
    rcpt_tos: list[str]
    data: bytes  # as on the wire (CRLF line ends), after dot-unstuffing
    mail_options: list[str]
    connection: int  # 1 for the first connection the server accepted, 2 for the next, …

    @property
    def message(self) -> EmailMessage:
        """The data parsed with ``email.policy.default``."""
        parsed = email.message_from_bytes(self.data, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class SMTPServer:
    """The state of one running server; the fixtures return it."""

    host: str
    port: int
    delay: float = 0.0
    refuse_first: int = 0
    refuse_reply: str = "451 4.3.0 Try again later"
    messages: list[Received] = field(default_factory=list)
    refused: list[Received] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)
    connections: int = 0
    _arrived: threading.Condition = field(default_factory=threading.Condition, repr=False)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Received]:
        """Wait until ``count`` messages were accepted; return them (fails on timeout)."""
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(self.messages) >= count, timeout):
                raise AssertionError(f"{len(self.messages)} of {count} messages in {timeout} s")
            return list(self.messages)

    # --- aiosmtpd hooks (run in the server's event loop thread) ---

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        received = Received(
            mail_from=str(envelope.mail_from),
            rcpt_tos=list(envelope.rcpt_tos),
            data=bytes(envelope.original_content or b""),
            mail_options=list(envelope.mail_options),
            connection=cast(int, getattr(session, "connection_number", 0)),
        )
        with self._arrived:
            if len(self.refused) < self.refuse_first:
                self.refused.append(received)
                return self.refuse_reply
            self.messages.append(received)
            self._arrived.notify_all()
        return "250 OK"

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        if isinstance(auth_data, LoginPassword):
            self.logins.append((auth_data.login.decode(), auth_data.password.decode()))
        return AuthResult(success=True)


class _Controller(Controller):
    """Number the connections, so that tests can see whether one was reused."""

    def __init__(self, state: SMTPServer, **options: Any) -> None:
        super().__init__(
            state,
            hostname=state.host,
            port=state.port,
            authenticator=state.authenticate,
            auth_require_tls=False,
            ready_timeout=10.0,
            **options,
        )
        self.state = state

    def factory(self) -> SMTP:
        self.state.connections += 1
        smtp = _NumberedSMTP(self.handler, **self.SMTP_kwargs)
        smtp.connection_number = self.state.connections
        return smtp


class _NumberedSMTP(SMTP):
    connection_number = 0

    def _create_session(self) -> Session:
        session = super()._create_session()
        session.connection_number = self.connection_number  # type: ignore[attr-defined]
        return session


@contextlib.contextmanager
def running_smtp_server(
    *,
    delay: float = 0.0,
    refuse_first: int = 0,
    refuse_reply: str | None = None,
    tls_context: ssl.SSLContext | None = None,
    ssl_context: ssl.SSLContext | None = None,
) -> Iterator[SMTPServer]:
    """Run a server for the ``with`` block; see the module docstring for the options.

    ``tls_context`` offers STARTTLS with it; ``ssl_context`` makes the server speak TLS from
    the first byte (implicit TLS, as on port 465).
    """
    options: dict[str, Any] = {}
    if tls_context is not None:
        options["tls_context"] = tls_context
    if ssl_context is not None:
        options["ssl_context"] = ssl_context
    for attempt in range(5):  # the port is free when chosen, but another process may take it
        state = SMTPServer(HOST, free_port(), delay=delay, refuse_first=refuse_first)
        if refuse_reply is not None:
            state.refuse_reply = refuse_reply
        controller = _Controller(state, **options)
        try:
            controller.start()
            break
        except OSError:
            if attempt == 4:
                raise
            time.sleep(0.05)
    state.connections = 0  # start() made one connection to check that the server answers
    try:
        yield state
    finally:
        controller.stop()


@pytest.fixture
def smtp_server() -> Iterator[SMTPServer]:
    """A server that accepts every message."""
    with running_smtp_server() as server:
        yield server


@pytest.fixture
def slow_smtp_server() -> Iterator[SMTPServer]:
    """A server that takes 5 s (``server.delay``) to answer each message."""
    with running_smtp_server(delay=5.0) as server:
        yield server


@pytest.fixture
def flaky_smtp_server() -> Iterator[SMTPServer]:
    """A server that refuses the first 2 messages (``server.refuse_first``) with a 451."""
    with running_smtp_server(refuse_first=2) as server:
        yield server
