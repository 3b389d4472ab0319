"""Delivery methods: how one notification reaches one user (e-mail, webhook, your own).

A method has a ``name`` (the key of users' preferences: ``"mail"``, ``"webhook"``) and a
``send(notification, recipient, notification_type)`` that raises on failure, so that the
handler's background thread tries again with backoff. Everything a notification carries is
plain text: methods escape it for their medium, and hide secrets (:mod:`structlogx.redact`)
before it leaves the process.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import json
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any, Protocol, runtime_checkable

from structlogx.audit.store import storable
from structlogx.conf import settings
from structlogx.notifications.people import User
from structlogx.notifications.types import Notification, NotificationType
from structlogx.redact import redact_text

__all__ = [
    "SIGNATURE_HEADER",
    "DeliveryMethod",
    "MailMethod",
    "WebhookMethod",
    "redacted",
    "render_html",
    "render_text",
    "sign",
]

SIGNATURE_HEADER = "X-Structlogx-Signature"
"""The webhook header carrying ``sha256=<hex HMAC-SHA256 of the body>``."""


@runtime_checkable
class DeliveryMethod(Protocol):
    """One way of telling a user; ``name`` is what preferences are keyed by."""

    name: str

    def send(
        self, notification: Notification, recipient: User, notification_type: NotificationType
    ) -> None:
        """Deliver *notification* to *recipient*; raise on failure (it is retried)."""
        ...


def _clean(text: str) -> str:
    """Return *text* with secrets hidden and lone surrogates escaped (they cannot be sent)."""
    return storable(redact_text(text))


def redacted(notification: Notification) -> Notification:
    """Return a copy with card numbers and credentials hidden in every text, and every text
    encodable as UTF-8."""
    return Notification(
        _clean(notification.title),
        None if notification.detail is None else _clean(notification.detail),
        None if notification.url is None else storable(notification.url),
        None if notification.scope is None else storable(notification.scope),
        [(_clean(t), _clean(v)) for t, v in notification.attributes],
        [(_clean(label), storable(url)) for label, url in notification.actions],
    )


def _linkable(url: str | None) -> bool:
    """Only http(s) and mailto URLs become links: never ``javascript:`` or ``data:``."""
    if not url:
        return False
    scheme = urllib.parse.urlsplit(url.strip()).scheme.lower()
    return scheme in ("http", "https", "mailto")


def _why(notification_type: NotificationType, unsubscribe_url: str | None) -> str:
    name = notification_type.verbose_name or notification_type.action_type
    line = f"You receive this because you chose to be notified of: {name}."
    if unsubscribe_url:
        return f"{line} To stop, change your notification settings: {unsubscribe_url}"
    return f"{line} To stop, change your notification settings."


def render_text(
    notification: Notification,
    notification_type: NotificationType,
    unsubscribe_url: str | None = None,
) -> str:
    """Return the plain-text body: title, detail, attributes, actions, the unsubscribe line."""
    parts = [notification.title]
    if notification.detail:
        parts.append(notification.detail)
    if notification.attributes:
        parts.append("\n".join(f"{title}: {value}" for title, value in notification.attributes))
    links = [(label, url) for label, url in notification.actions]
    if notification.url and all(url != notification.url for _, url in links):
        links.append(("Open", notification.url))
    if links:
        parts.append("\n".join(f"{label}: {url}" for label, url in links))
    parts.append("-- \n" + _why(notification_type, unsubscribe_url))
    return "\n\n".join(parts) + "\n"


def _escape(text: str) -> str:
    return html.escape(text, quote=True).replace("\r", "&#13;")


def render_html(
    notification: Notification,
    notification_type: NotificationType,
    unsubscribe_url: str | None = None,
) -> str:
    """Return the HTML body; every text and URL is escaped, links are http(s)/mailto only."""
    e = _escape
    title = e(notification.title)
    if _linkable(notification.url):
        title = f'<a href="{e(notification.url or "")}">{title}</a>'
    out = [
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8"></head>',
        '<body style="font-family: sans-serif">',
        f'<h1 style="font-size: 1.3em">{title}</h1>',
    ]
    if notification.detail:
        out.append(f"<p>{e(notification.detail)}</p>")
    if notification.attributes:
        out.append('<table style="border-collapse: collapse">')
        for label, value in notification.attributes:
            out.append(
                f'<tr><th style="text-align: left; padding-right: 1em">{e(label)}</th>'
                f"<td>{e(value)}</td></tr>"
            )
        out.append("</table>")
    if notification.actions:
        out.append("<p>")
        for label, url in notification.actions:
            if _linkable(url):
                out.append(
                    f'<a href="{e(url)}" style="display: inline-block; padding: 0.4em 1em; '
                    f'margin: 0.2em; border: 1px solid #36c; border-radius: 4px">{e(label)}</a>'
                )
            else:
                out.append(f"<span>{e(label)}: {e(url)}</span>")
        out.append("</p>")
    why = e(_why(notification_type, None)[: -len(".")])
    if unsubscribe_url and _linkable(unsubscribe_url):
        why += f': <a href="{e(unsubscribe_url)}">{e(unsubscribe_url)}</a>'
    out.append(f'<p style="color: #666; font-size: 0.85em">{why}.</p>')
    out.append("</body></html>\n")
    return "\n".join(out)


class MailMethod:
    """E-mail through the mail backends: one message per recipient, text and HTML.

    The subject is ``<prefix><scope>: <title>`` (no scope: ``<prefix><title>``), built with
    :func:`~structlogx.mail.build_message`, so no text can add a header line.

    Args:
        email_backend: dotted path (or class) of the backend; default
            ``settings.EMAIL_BACKEND``, read at send time.
        from_email: the sender; default ``settings.DEFAULT_FROM_EMAIL``.
        subject_prefix: put in front of subjects verbatim; default
            ``settings.EMAIL_SUBJECT_PREFIX``.
        unsubscribe_url: the page where users change their choices; shown in the
            unsubscribe line and sent as ``List-Unsubscribe``.
        backend_options: passed to the backend (``file_path=``, ``host=``, ...).
        name: the preferences key (default ``"mail"``).

    Raises:
        ValueError: an invalid ``from_email``.
    """

    def __init__(
        self,
        email_backend: str | Callable[..., Any] | None = None,
        from_email: str | None = None,
        subject_prefix: str | None = None,
        *,
        unsubscribe_url: str | None = None,
        backend_options: Mapping[str, Any] | None = None,
        name: str = "mail",
    ) -> None:
        from structlogx.mail import check_address

        self.email_backend = email_backend
        self.from_email = None if from_email is None else check_address(from_email)
        self.subject_prefix = subject_prefix
        self.unsubscribe_url = unsubscribe_url
        self.backend_options = dict(backend_options or {})
        self.name = name

    def subject(self, notification: Notification) -> str:
        """Return the subject (line breaks are made spaces by ``build_message``)."""
        prefix = (
            settings.EMAIL_SUBJECT_PREFIX if self.subject_prefix is None else self.subject_prefix
        )
        where = f"{notification.scope}: " if notification.scope else ""
        return f"{prefix}{where}{notification.title}"

    def render(
        self, notification: Notification, recipient: User, notification_type: NotificationType
    ) -> tuple[str, str, str]:
        """Return ``(subject, text, html)`` for *recipient*, secrets hidden."""
        shown = redacted(notification)
        return (
            self.subject(shown),
            render_text(shown, notification_type, self.unsubscribe_url),
            render_html(shown, notification_type, self.unsubscribe_url),
        )

    def send(
        self, notification: Notification, recipient: User, notification_type: NotificationType
    ) -> None:
        """Build the message and send it; raises when the backend fails (retried)."""
        from structlogx.mail import build_message, get_connection

        subject, text, body_html = self.render(notification, recipient, notification_type)
        headers = {}
        if self.unsubscribe_url and _linkable(self.unsubscribe_url):
            headers["List-Unsubscribe"] = f"<{self.unsubscribe_url}>"
        to: Any = (recipient.name, recipient.email) if recipient.name else recipient.email
        message = build_message(
            subject,
            text,
            from_email=settings.DEFAULT_FROM_EMAIL if self.from_email is None else self.from_email,
            to=[to],
            html=body_html,
            headers=headers,
        )
        with get_connection(self.email_backend, **self.backend_options) as connection:
            connection.send_messages([message])

    def __repr__(self) -> str:
        return f"MailMethod(name={self.name!r})"


def sign(body: bytes, secret: str | bytes) -> str:
    """Return the signature header value for *body*: ``sha256=<hex HMAC-SHA256>``."""
    key = secret.encode() if isinstance(secret, str) else secret
    return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is a failure: following it would resend (or drop) the signed body."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class WebhookMethod:
    """A signed JSON ``POST`` per recipient and notification, with :mod:`urllib`.

    The body holds ``type`` (action type and name), ``recipient`` (id, email, name,
    language), ``notification`` (:meth:`Notification.to_dict`) and ``sent_at``; the header
    ``X-Structlogx-Signature`` carries :func:`sign` of the exact body, so the receiver can
    check it came from you (compare with :func:`hmac.compare_digest`). Any answer but 2xx,
    a redirect included, is a failure and is retried.

    Args:
        url: an http(s) URL.
        secret: the shared HMAC key (non-empty).
        timeout_s: the most seconds one request may take.
        name: the preferences key (default ``"webhook"``).

    Raises:
        ValueError: the URL is not http(s), the secret is empty, or the timeout not positive.
    """

    def __init__(
        self, url: str, secret: str | bytes, timeout_s: float = 5, *, name: str = "webhook"
    ) -> None:
        if urllib.parse.urlsplit(str(url)).scheme not in ("http", "https"):
            raise ValueError(f"url must be an http(s) URL, not {url!r}")
        if not secret:
            raise ValueError("secret must not be empty: receivers need it to check signatures")
        if isinstance(timeout_s, bool) or not isinstance(timeout_s, int | float) or timeout_s <= 0:
            raise ValueError(f"timeout_s must be a positive number, not {timeout_s!r}")
        self.url = url
        self._secret = secret
        self.timeout_s = float(timeout_s)
        self.name = name
        self._opener = urllib.request.build_opener(_NoRedirect)

    def payload(
        self, notification: Notification, recipient: User, notification_type: NotificationType
    ) -> bytes:
        """Return the JSON body for one delivery."""
        data = {
            "type": {
                "action_type": notification_type.action_type,
                "verbose_name": notification_type.verbose_name,
            },
            "recipient": {
                "id": recipient.id,
                "email": recipient.email,
                "name": recipient.name,
                "language": recipient.language,
            },
            "notification": redacted(notification).to_dict(),
            "sent_at": time.time(),
        }
        return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    def send(
        self, notification: Notification, recipient: User, notification_type: NotificationType
    ) -> None:
        """POST the payload; raises on a network error or a non-2xx answer (retried)."""
        body = self.payload(notification, recipient, notification_type)
        request = urllib.request.Request(
            self.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "User-Agent": "structlogx-notifications",
                SIGNATURE_HEADER: sign(body, self._secret),
            },
        )
        with self._opener.open(request, timeout=self.timeout_s) as response:
            status = response.status
        if not 200 <= status < 300:
            raise OSError(f"webhook {self.url} answered {status}")

    def __repr__(self) -> str:
        return f"WebhookMethod({self.url!r}, name={self.name!r})"
