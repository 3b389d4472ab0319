"""E-mail backends: where built messages go (an SMTP server, the console, files, memory, nowhere).

Every backend has Django's small contract (``open``, ``close``, a context manager,
``send_messages(messages) -> int`` and ``fail_silently``), so the choice is one dotted path in
``settings.EMAIL_BACKEND`` and tests replace SMTP with :class:`MemoryBackend` without code
changes. Backends are safe to share between threads (one lock each) and across ``fork``: the
child gets a fresh lock and never touches a connection its parent opened.
"""

from __future__ import annotations

import copy
import datetime
import functools
import math
import os
import smtplib
import socket
import ssl
import sys
import threading
import uuid
import weakref
from collections.abc import Iterable
from email.message import EmailMessage, Message
from email.utils import getaddresses
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Protocol, TypeVar, runtime_checkable

from structlogx.conf import settings

__all__ = [
    "DEFAULT_TIMEOUT_S",
    "BaseBackend",
    "ConsoleBackend",
    "DummyBackend",
    "EmailBackend",
    "FileBackend",
    "MemoryBackend",
    "SMTPBackend",
]

DEFAULT_TIMEOUT_S = 10.0
"""The SMTP timeout used when neither the backend nor ``settings.EMAIL_TIMEOUT`` sets one."""

B = TypeVar("B", bound="BaseBackend")
_SEPARATOR = "\n" + "-" * 79 + "\n"
_BACKENDS: weakref.WeakSet[BaseBackend] = weakref.WeakSet()


@runtime_checkable
class EmailBackend(Protocol):
    """What :func:`structlogx.mail.get_connection` returns; a custom backend needs only this."""

    def open(self) -> bool:
        """Open the connection if there is one to open; return whether this call opened it."""
        ...

    def close(self) -> None:
        """Close the connection opened by :meth:`open`, if any."""
        ...

    def send_messages(self, messages: Iterable[EmailMessage]) -> int:
        """Send the messages and return how many were sent."""
        ...

    def __enter__(self) -> Any: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


class BaseBackend:
    """Common base: a lock, ``fail_silently``, ``open``/``close`` and the context manager.

    Subclasses override :meth:`send_messages` and, if they hold a connection, :meth:`open` and
    :meth:`close`. Within ``with backend:`` one connection serves every ``send_messages`` call.

    Args:
        fail_silently: return a smaller count instead of raising when sending fails.
        kwargs: accepted so that :func:`~structlogx.mail.get_connection` can pass options
            through, but an option this backend does not know raises ``TypeError`` naming it,
            rather than being ignored.
    """

    def __init__(self, *, fail_silently: bool = False, **kwargs: Any) -> None:
        if kwargs:
            unknown = ", ".join(map(repr, sorted(kwargs)))
            raise TypeError(f"{type(self).__name__} got unexpected options: {unknown}")
        self.fail_silently = fail_silently
        self._lock = threading.RLock()
        _BACKENDS.add(self)

    def open(self) -> bool:
        """Open a connection if the backend uses one; return ``True`` if this call opened it."""
        return False

    def close(self) -> None:
        """Close the connection, if any; a closed backend reopens on the next send."""

    def __enter__(self: B) -> B:
        try:
            self.open()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def send_messages(self, messages: Iterable[EmailMessage]) -> int:
        """Send the messages and return how many were sent."""
        raise NotImplementedError("subclasses of BaseBackend must override send_messages()")

    def _after_fork_in_child(self) -> None:
        # Another thread of the parent may have held the lock at fork time: it stays locked
        # for ever in the child, so the child gets a new one.
        self._lock = threading.RLock()


def _reinit_after_fork() -> None:
    for backend in list(_BACKENDS):
        backend._after_fork_in_child()


if hasattr(os, "register_at_fork"):  # not on Windows
    os.register_at_fork(after_in_child=_reinit_after_fork)


def _addresses(message: Message, *names: str) -> list[str]:
    """Return the bare addresses of the named headers, for the SMTP envelope."""
    found: list[str] = []
    for name in names:
        for value in message.get_all(name, ()):
            parsed = getattr(value, "addresses", None)  # policy.default's header objects
            if parsed is None:
                found.extend(address for _, address in getaddresses([str(value)]) if address)
            else:
                found.extend(address.addr_spec for address in parsed)
    return found


@functools.cache
def _local_hostname() -> str:
    """Return this host's name for EHLO, looked up once: the lookup may be slow (DNS)."""
    return socket.getfqdn()


class SMTPBackend(BaseBackend):
    """Send through an SMTP server with :mod:`smtplib`.

    Every option defaults to its setting, read when the backend is built. One connection serves
    all messages of a ``send_messages`` call, or of a ``with backend:`` block.

    Args:
        host: ``settings.EMAIL_HOST``.
        port: ``settings.EMAIL_PORT``.
        username: ``settings.EMAIL_HOST_USER``; the backend logs in only when both the user
            name and the password are non-empty.
        password: ``settings.EMAIL_HOST_PASSWORD``.
        use_tls: ``settings.EMAIL_USE_TLS``: STARTTLS after connecting (usually port 587).
        use_ssl: ``settings.EMAIL_USE_SSL``: implicit TLS from the start (usually port 465).
        timeout: ``settings.EMAIL_TIMEOUT``, seconds per socket operation. Never infinite: a
            hung server must not hang the sender, so ``None`` in both places means
            :data:`DEFAULT_TIMEOUT_S` (10 s).
        ssl_keyfile: ``settings.EMAIL_SSL_KEYFILE``, for a client certificate.
        ssl_certfile: ``settings.EMAIL_SSL_CERTFILE``, the client certificate.
        fail_silently: return a smaller count instead of raising on SMTP or network errors.

    Raises:
        ValueError: ``use_tls`` and ``use_ssl`` both true, a timeout that is not a positive
            finite number, or a key file without a certificate file.
    """

    def __init__(
        self,
        *,
        host: str | None = None,
        port: int | None = None,
        username: str | None = None,
        password: str | None = None,
        use_tls: bool | None = None,
        use_ssl: bool | None = None,
        timeout: float | None = None,
        ssl_keyfile: str | None = None,
        ssl_certfile: str | None = None,
        fail_silently: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(fail_silently=fail_silently, **kwargs)
        self.host = settings.EMAIL_HOST if host is None else host
        self.port = settings.EMAIL_PORT if port is None else port
        self.username = settings.EMAIL_HOST_USER if username is None else username
        self.password = settings.EMAIL_HOST_PASSWORD if password is None else password
        self.use_tls = bool(settings.EMAIL_USE_TLS if use_tls is None else use_tls)
        self.use_ssl = bool(settings.EMAIL_USE_SSL if use_ssl is None else use_ssl)
        if self.use_tls and self.use_ssl:
            raise ValueError(
                "use_tls (EMAIL_USE_TLS) and use_ssl (EMAIL_USE_SSL) are both true; set only "
                "one: use_tls is STARTTLS (usually port 587), use_ssl is implicit TLS (port 465)"
            )
        configured = settings.EMAIL_TIMEOUT if timeout is None else timeout
        self.timeout = DEFAULT_TIMEOUT_S if configured is None else configured
        if (
            isinstance(self.timeout, bool)
            or not isinstance(self.timeout, int | float)
            or not math.isfinite(self.timeout)
            or self.timeout <= 0
        ):
            raise ValueError(f"timeout must be a positive number of seconds, got {configured!r}")
        self.ssl_keyfile = settings.EMAIL_SSL_KEYFILE if ssl_keyfile is None else ssl_keyfile
        self.ssl_certfile = settings.EMAIL_SSL_CERTFILE if ssl_certfile is None else ssl_certfile
        if self.ssl_keyfile and not self.ssl_certfile:
            raise ValueError(
                f"ssl_keyfile (EMAIL_SSL_KEYFILE) {self.ssl_keyfile!r} is set without "
                "ssl_certfile (EMAIL_SSL_CERTFILE)"
            )
        self.connection: smtplib.SMTP | None = None

    def ssl_context(self) -> ssl.SSLContext:
        """Return the TLS context: the system's trusted CAs, plus the client certificate if set.

        A hook: override it to trust a private CA or to pin a certificate.
        """
        context = ssl.create_default_context()
        if self.ssl_certfile:
            context.load_cert_chain(self.ssl_certfile, self.ssl_keyfile or None)
        return context

    def open(self) -> bool:
        """Connect (and STARTTLS and log in, as configured) unless already connected.

        Returns:
            ``True`` if this call connected; ``False`` if a connection was already open, or
            if connecting failed and ``fail_silently`` is set.
        """
        with self._lock:
            if self.connection is not None:
                return False
            connection: smtplib.SMTP | None = None
            try:
                if self.use_ssl:
                    connection = smtplib.SMTP_SSL(
                        self.host,
                        self.port,
                        local_hostname=_local_hostname(),
                        timeout=self.timeout,
                        context=self.ssl_context(),
                    )
                else:
                    connection = smtplib.SMTP(
                        self.host, self.port, local_hostname=_local_hostname(), timeout=self.timeout
                    )
                    if self.use_tls:
                        connection.starttls(context=self.ssl_context())
                if self.username and self.password:
                    connection.login(self.username, self.password)
            except OSError:  # smtplib.SMTPException and ssl.SSLError are OSErrors
                if connection is not None:
                    connection.close()
                if self.fail_silently:
                    return False
                raise
            self.connection = connection
            return True

    def close(self) -> None:
        """Say QUIT and close the connection; errors only raise without ``fail_silently``."""
        with self._lock:
            connection, self.connection = self.connection, None
            if connection is None:
                return
            try:
                connection.quit()
            except (ssl.SSLError, smtplib.SMTPServerDisconnected):
                pass  # the server already went away: nothing left to close politely
            except OSError:
                if not self.fail_silently:
                    raise
            finally:
                connection.close()

    def send_messages(self, messages: Iterable[EmailMessage]) -> int:
        """Send the messages over one connection and return how many the server accepted.

        A message without recipients is skipped. Without ``fail_silently`` the first failure
        raises (:class:`smtplib.SMTPException` or :class:`OSError`); with it, failed messages
        are not counted. A connection this call opened is closed before it returns.
        """
        pending = list(messages)
        if not pending:
            return 0
        with self._lock:
            opened = self.open()
            if self.connection is None:
                return 0
            sent = 0
            try:
                for message in pending:
                    if self.connection is None:  # dropped after a failure (fail_silently)
                        self.open()
                        if self.connection is None:
                            break
                    if self._send(message):
                        sent += 1
            finally:
                if opened:
                    self.close()
            return sent

    def _send(self, message: EmailMessage) -> bool:
        recipients = _addresses(message, "To", "Cc", "Bcc")
        if not recipients:
            return False
        senders = _addresses(message, "Sender") or _addresses(message, "From")
        connection = self.connection
        assert connection is not None
        try:
            connection.send_message(message, senders[0] if senders else "", recipients)
        except OSError as exc:
            refused = isinstance(exc, smtplib.SMTPRecipientsRefused | smtplib.SMTPResponseException)
            if not refused or connection.sock is None:  # the connection is gone or unusable
                self.connection = None
                connection.close()
            if not self.fail_silently:
                raise
            return False
        return True

    def _after_fork_in_child(self) -> None:
        super()._after_fork_in_child()
        # The socket is shared with the parent: never say QUIT on the parent's session.
        self.connection = None


class ConsoleBackend(BaseBackend):
    """Write each message, as it would be sent, to a stream; for development.

    Args:
        stream: a text stream; by default ``sys.stdout`` at the time of writing (so that
            redirections and test capture see it).
        fail_silently: return a smaller count instead of raising when writing fails.
    """

    def __init__(
        self, *, stream: IO[str] | None = None, fail_silently: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(fail_silently=fail_silently, **kwargs)
        self.stream = stream

    def send_messages(self, messages: Iterable[EmailMessage]) -> int:
        """Write the messages, each followed by a line of 79 dashes; return how many."""
        sent = 0
        with self._lock:
            stream = sys.stdout if self.stream is None else self.stream
            try:
                for message in messages:
                    stream.write(bytes(message).decode("utf-8", "replace") + _SEPARATOR)
                    stream.flush()
                    sent += 1
            except Exception:
                if not self.fail_silently:
                    raise
        return sent


class FileBackend(BaseBackend):
    """Write each message to its own ``.eml`` file in a directory; for development and demos.

    File names are the local time followed by a random UUID
    (``20250102-030405-123456-<hex>.eml``): they sort by time and never collide, even
    between threads and processes writing to one directory. A file appears complete or not
    at all (written under a temporary name, then renamed).

    Args:
        file_path: the directory; by default ``settings.EMAIL_FILE_PATH``. Created (with its
            parents) if missing.
        fail_silently: return a smaller count instead of raising when writing fails.

    Raises:
        ValueError: no directory given, the path exists and is not a directory, or it cannot
            be created or written to; the message names the path.
    """

    def __init__(
        self,
        *,
        file_path: str | os.PathLike[str] | None = None,
        fail_silently: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(fail_silently=fail_silently, **kwargs)
        configured = settings.EMAIL_FILE_PATH if file_path is None else file_path
        if not configured:
            raise ValueError("FileBackend needs a directory: pass file_path or set EMAIL_FILE_PATH")
        path = Path(configured)
        if path.exists() and not path.is_dir():
            raise ValueError(f"e-mail file path {str(path)!r} exists and is not a directory")
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            reason = exc.strerror or exc
            raise ValueError(f"cannot create e-mail directory {str(path)!r}: {reason}") from exc
        if not os.access(path, os.W_OK | os.X_OK):
            raise ValueError(f"e-mail directory {str(path)!r} is not writable")
        self.file_path = path

    def send_messages(self, messages: Iterable[EmailMessage]) -> int:
        """Write one file per message; return how many were written."""
        sent = 0
        for message in messages:
            try:
                self._write(bytes(message))
            except OSError:
                if not self.fail_silently:
                    raise
            else:
                sent += 1
        return sent

    def _write(self, data: bytes) -> Path:
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
        target = self.file_path / f"{stamp}-{uuid.uuid4().hex}.eml"
        temporary = target.with_name(f".{target.name}.tmp")
        try:
            with open(temporary, "xb") as file:
                file.write(data)
            os.replace(temporary, target)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        return target


class MemoryBackend(BaseBackend):
    """Append a copy of each message to :data:`structlogx.mail.outbox`; for tests.

    Each message is serialised first, as a real backend would, so a message that could not be
    sent fails here too; the copy means later changes to the message do not alter the outbox.
    """

    def send_messages(self, messages: Iterable[EmailMessage]) -> int:
        """Append copies to ``structlogx.mail.outbox``; return how many."""
        from structlogx import mail  # the package imports this module lazily; no cycle

        copies = []
        for message in messages:
            bytes(message)
            copies.append(copy.deepcopy(message))
        with self._lock:
            mail.outbox.extend(copies)
        return len(copies)


class DummyBackend(BaseBackend):
    """Send nothing and report every message as sent; to switch e-mail off."""

    def send_messages(self, messages: Iterable[EmailMessage]) -> int:
        """Return the number of messages, doing nothing else."""
        return sum(1 for _ in messages)
