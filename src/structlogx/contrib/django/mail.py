"""Send structlogx mails through Django's configured e-mail backend.

``AdminEmailHandler(email_backend="structlogx.contrib.django.mail.DjangoEmailBackend")``, or
``STRUCTLOGX_EMAIL_BACKEND`` set to that path in Django's settings, hands each message to
``django.core.mail.get_connection()``: whatever ``EMAIL_BACKEND`` says, including the
``locmem`` backend of Django's test runner (``django.core.mail.outbox``).
"""

from __future__ import annotations

from collections.abc import Iterable
from email.message import EmailMessage
from email.utils import formataddr, getaddresses
from typing import Any

from structlogx.mail.backends import BaseBackend

__all__ = ["DjangoEmailBackend", "to_django"]


def _addresses(message: EmailMessage, name: str) -> list[str]:
    values = [str(value) for value in message.get_all(name, [])]
    return [formataddr(pair) for pair in getaddresses(values) if pair[1]]


def to_django(message: EmailMessage, connection: Any = None) -> Any:
    """Return a Django ``EmailMultiAlternatives`` with *message*'s headers, text and HTML."""
    from django.core.mail import EmailMultiAlternatives

    text, html = "", None
    for part in message.walk():
        if part.is_multipart() or part.get_content_disposition() == "attachment":
            continue
        if part.get_content_type() == "text/plain" and not text:
            text = str(part.get_content())
        elif part.get_content_type() == "text/html" and html is None:
            html = str(part.get_content())
    headers = {
        name: str(value)
        for name, value in message.items()
        if name.lower() in ("date", "message-id", "reply-to")
    }
    built = EmailMultiAlternatives(
        subject=str(message.get("Subject", "")),
        body=text,
        from_email=str(message.get("From", "")) or None,
        to=_addresses(message, "To"),
        cc=_addresses(message, "Cc"),
        headers=headers,
        connection=connection,
    )
    if html is not None:
        built.attach_alternative(html, "text/html")
    return built


class DjangoEmailBackend(BaseBackend):
    """A structlogx mail backend that sends through ``django.core.mail.get_connection()``."""

    def send_messages(self, messages: Iterable[EmailMessage]) -> int:
        """Convert each message (:func:`to_django`) and send them in one Django connection."""
        from django.core.mail import get_connection

        connection = get_connection(fail_silently=self.fail_silently)
        converted = [to_django(message, connection) for message in messages]
        return int(connection.send_messages(converted) or 0)
