"""Objects that the admin e-mail tests name by dotted path (``mail_helpers.<name>``).

pytest puts ``tests/`` on ``sys.path`` (the default ``prepend`` import mode, no
``__init__.py``), so ``email_backend``, ``reporter_class`` and dictConfig's ``"()"`` can import
this module by that name.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from email.message import EmailMessage
from types import TracebackType
from typing import Any, ClassVar

from structlogx.handlers import AdminEmailHandler
from structlogx.mail import mail_managers
from structlogx.mail.report import ExceptionReporter


class RecordingBackend:
    """A custom backend written from the protocol alone (no structlogx base class).

    Every instance appends what it sends to the class-level :attr:`sent` list; tests clear it.
    """

    sent: ClassVar[list[EmailMessage]] = []
    lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, *, fail_silently: bool = False, **options: Any) -> None:
        self.fail_silently = fail_silently
        self.options = options

    def open(self) -> bool:
        """Nothing to open."""
        return False

    def close(self) -> None:
        """Nothing to close."""

    def __enter__(self) -> RecordingBackend:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def send_messages(self, messages: Iterable[EmailMessage]) -> int:
        """Keep the messages; return how many."""
        batch = list(messages)
        for message in batch:
            bytes(message)  # serialisable, as a real backend needs
        with self.lock:
            self.sent.extend(batch)
        return len(batch)


class CustomExceptionReporter(ExceptionReporter):
    """Django's test reporter: a fixed text report."""

    def get_traceback_text(self) -> str:
        """Return the fixed text."""
        return "custom traceback text"


class CountingReporter(ExceptionReporter):
    """Counts its constructions, then refuses to be built: proves that no report was made."""

    built: ClassVar[int] = 0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        type(self).built += 1
        raise AssertionError("no reporter may be built when nobody is mailed")


class BrokenTextReporter(ExceptionReporter):
    """A reporter whose text report raises (a bug in a user's reporter subclass)."""

    def get_traceback_text(self) -> str:
        """Fail."""
        raise RuntimeError("report exploded")


class ManagersEmailHandler(AdminEmailHandler):
    """Django's example override: mail the managers instead of the admins."""

    def send_mail(self, subject: str, message: str, *args: Any, **kwargs: Any) -> None:
        """Send to ``settings.MANAGERS``."""
        mail_managers(subject, message, html_message=kwargs.get("html_message"))


class QueryDict:
    """The part of Django's ``QueryDict`` the request reader uses: ``lists()``."""

    def __init__(self, data: dict[str, list[str]]) -> None:
        self._data = data

    def lists(self) -> Iterator[tuple[str, list[str]]]:
        """Yield (name, values) pairs."""
        return iter(self._data.items())


class DjangoLikeRequest:
    """A stand-in for Django's ``HttpRequest``: ``META``, ``GET``, ``POST``, ``COOKIES``."""

    def __init__(
        self,
        path: str = "/",
        *,
        method: str = "GET",
        remote_addr: str = "127.0.0.1",
        post: dict[str, list[str]] | None = None,
        headers: dict[str, str] | None = None,
        cookies: dict[str, str] | None = None,
    ) -> None:
        self.path = path
        self.method = method
        self.META: dict[str, Any] = {
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "REMOTE_ADDR": remote_addr,
            "HTTP_HOST": "testserver",
            "SERVER_NAME": "testserver",
            "SERVER_PORT": "80",
            **(headers or {}),
        }
        self.GET = QueryDict({})
        self.POST = QueryDict(post or {})
        self.COOKIES = dict(cookies or {})

    def build_absolute_uri(self) -> str:
        """Return the URL as Django would (ASCII; the path percent-encoded)."""
        from urllib.parse import quote

        return f"http://testserver{quote(self.path)}"
