"""Build and send e-mail: messages, backend selection, ``send_mail``, ``mail_admins``.

The names are Django's (``send_mail``, ``mail_admins``, ``get_connection``, ``outbox``) so that a
Django user already knows them; the implementation is the standard library's
:class:`email.message.EmailMessage` and :mod:`smtplib`, nothing else. Where a message goes is a
backend (:mod:`structlogx.mail.backends`) chosen by dotted path, so tests and development swap
the SMTP server for memory, files or the console without touching code.

Messages are header-injection safe by construction: no text given to :func:`build_message`
(subject, addresses, extra headers) can add a header line, whatever it contains.
"""

from __future__ import annotations

import base64
import datetime
import email.policy
import email.utils
import re
from collections.abc import Callable, Mapping, Sequence
from email import headerregistry
from email.message import EmailMessage
from typing import TYPE_CHECKING, Any

from structlogx._imports import import_string
from structlogx.conf import Address, settings

if TYPE_CHECKING:
    from structlogx.mail.backends import EmailBackend

__all__ = [
    "build_message",
    "check_address",
    "get_connection",
    "mail_admins",
    "mail_managers",
    "outbox",
    "send_mail",
]

outbox: list[EmailMessage] = []
"""The messages :class:`~structlogx.mail.backends.MemoryBackend` has sent, oldest first.

Tests read it and clear it (``structlogx.mail.outbox.clear()``); the backend looks the name up
at each send, so assigning a new list works too.
"""

# cte_type="7bit": bodies that are not short-lined ASCII go out as quoted-printable or base64,
# never as raw 8-bit data that a server without 8BITMIME may mangle.
_POLICY = email.policy.default.clone(cte_type="7bit")
# Everything str.splitlines() breaks on: the email package refuses any of them in a header
# value, and CR/LF would start a new header line on the wire.
_LINE_BREAKS = re.compile("\r\n|[\r\n\v\f\x1c\x1d\x1e\x85\u2028\u2029]")
_HEADER_NAME = re.compile(r"[!-9;-~]+")  # RFC 5322 ftext: printable ASCII except ":"
_HEADER_CLASSES = headerregistry.HeaderRegistry()
_ANGLE_FORM = re.compile(r"\s*(.*?)\s*<([^<>]*)>\s*", re.DOTALL)


def _one_line(text: str) -> str:
    """Replace every line break with a space: a header value must stay on its header line."""
    return _LINE_BREAKS.sub(" ", text)


def _encoded_words(text: str) -> str:
    """Return *text* as folded base64 encoded words (RFC 2047), at most 39 bytes per word.

    For a subject that contains ``=?``: the email package sends such text unencoded, and the
    reader's mail client would then decode ``=?utf-8?q?...?=`` in it as if it were encoded.
    """
    words, chunk = [], b""
    for char in text:
        encoded = char.encode()
        if len(chunk) + len(encoded) > 39:
            words.append(chunk)
            chunk = b""
        chunk += encoded
    words.append(chunk)
    return "\n ".join(f"=?utf-8?b?{base64.b64encode(word).decode('ascii')}?=" for word in words)


def _parse_address(value: object) -> headerregistry.Address:
    try:
        if isinstance(value, tuple | list) and len(value) == 2 and all(
            isinstance(part, str) for part in value
        ):
            name, addr = value
        elif isinstance(value, str):
            match = _ANGLE_FORM.fullmatch(value)
            name, addr = match.groups() if match else ("", value.strip())
            if len(name) >= 2 and name[0] == name[-1] == '"':
                name = email.utils.unquote(name)
        else:
            raise ValueError("expected a string or a (name, address) pair")
        if _LINE_BREAKS.search(name + addr):
            raise ValueError("line breaks are not allowed")
        parsed = headerregistry.Address(display_name=name, addr_spec=addr)
        if not parsed.username or not parsed.domain:
            raise ValueError("expected local-part@domain")
    except Exception as exc:  # the email package raises several types; report one
        reason = str(exc) or type(exc).__name__
        raise ValueError(f"invalid e-mail address {value!r}: {reason}") from exc
    return parsed


def _set_text_header(message: EmailMessage, name: str, value: object) -> None:
    """Set a header from arbitrary text: line breaks become spaces, ``=?`` is encoded."""
    text = _one_line(str(value))
    if "=?" in text and issubclass(_HEADER_CLASSES[name], headerregistry.UnstructuredHeader):
        message.set_raw(name, _encoded_words(text))
    else:
        message[name] = text


def check_address(value: object) -> str:
    """Validate one address and return it formatted for a header.

    Used at configuration time (``ADMINS``, a handler's ``from_email``) so that a typo is
    reported when the application starts, not when the first error mail fails.

    Args:
        value: ``"ops@example.com"``, ``"Ops <ops@example.com>"`` or a
            ``("Ops", "ops@example.com")`` pair. The local part must be ASCII.

    Returns:
        The address as header text, e.g. ``'Ops <ops@example.com>'``.

    Raises:
        ValueError: the value is not one valid address; the message names the value.
    """
    return str(_parse_address(value))


def build_message(
    subject: str,
    body: str,
    *,
    from_email: Address,
    to: Sequence[Address],
    cc: Sequence[Address] = (),
    html: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> EmailMessage:
    """Build a UTF-8 message with ``Date`` and ``Message-ID``, safe against header injection.

    A line break (CR, LF, or any other character that :meth:`str.splitlines` breaks on) in the
    subject or in an extra header value becomes a space: a header value can never start a new
    header line, so text taken from a log record cannot add ``Bcc:`` or anything else.
    (``AdminEmailHandler`` already shows CR and LF in subjects as the texts ``\\r`` and ``\\n``;
    this is the last line of defence for every caller.) A subject (or unstructured extra
    header) that contains ``=?`` is sent as encoded words, so that no mail client decodes
    text that merely looks encoded.

    The body keeps its lines; CRLF and lone CR become LF, and a final newline is added. Bodies
    that are not short-lined ASCII go out quoted-printable or base64, never as raw 8-bit data.

    Args:
        subject: the subject; non-ASCII text is sent as RFC 2047 encoded words.
        body: the plain-text body.
        from_email: the ``From`` address (see :func:`check_address` for the forms).
        to: ``To`` addresses; a list or tuple, not a single string.
        cc: ``Cc`` addresses.
        html: an HTML alternative; the message becomes ``multipart/alternative``.
        headers: extra headers; one whose name is already set (``Date``, ``Message-ID``,
            ``From``, …) replaces it. ``Content-*`` and ``MIME-Version`` are not allowed:
            the MIME structure is this function's job.

    Raises:
        ValueError: an invalid address or header name, or a MIME structure header.
        TypeError: ``to`` or ``cc`` is a string instead of a sequence.
    """
    for name, value in (("to", to), ("cc", cc)):
        if isinstance(value, str):
            raise TypeError(f"{name} must be a list or tuple of addresses, not the str {value!r}")
    sender = _parse_address(from_email)
    message = EmailMessage(policy=_POLICY)
    _set_text_header(message, "Subject", subject)
    message["From"] = [sender]  # Address objects: nothing is parsed from text again
    if to:
        message["To"] = [_parse_address(address) for address in to]
    if cc:
        message["Cc"] = [_parse_address(address) for address in cc]
    now = datetime.datetime.now(datetime.timezone.utc)
    message["Date"] = now.astimezone() if settings.EMAIL_USE_LOCALTIME else now  # "+0000"
    # The domain comes from the sender: make_msgid() would otherwise ask DNS for this host's
    # name, which can block for seconds on a badly configured machine.
    message["Message-ID"] = email.utils.make_msgid(domain=sender.domain)
    for name, value in (headers or {}).items():
        if not isinstance(name, str) or not _HEADER_NAME.fullmatch(name):
            raise ValueError(f"invalid header name {name!r}")
        if name.lower().startswith("content-") or name.lower() == "mime-version":
            raise ValueError(f"header {name!r} is set by build_message(), not by headers")
        del message[name]
        _set_text_header(message, name, value)
    message.set_content(body)
    if html is not None:
        message.add_alternative(html, subtype="html")
    return message


def get_connection(
    backend: str | Callable[..., EmailBackend] | None = None,
    *,
    fail_silently: bool = False,
    **options: Any,
) -> EmailBackend:
    """Return a new backend instance; nothing is opened yet.

    Args:
        backend: a dotted path or a class; by default ``settings.EMAIL_BACKEND``, read now so
            that ``settings.override(EMAIL_BACKEND=...)`` in a test takes effect.
        fail_silently: passed to the backend: swallow sending errors instead of raising.
        options: passed to the backend's constructor (``host=``, ``file_path=``, …).

    Raises:
        ImportError: the dotted path cannot be imported; the message names it.
    """
    target = settings.EMAIL_BACKEND if backend is None else backend
    factory: Callable[..., EmailBackend] = (
        import_string(target) if isinstance(target, str) else target
    )
    return factory(fail_silently=fail_silently, **options)


def send_mail(
    subject: str,
    message: str,
    from_email: Address | None,
    recipient_list: Sequence[Address],
    *,
    html_message: str | None = None,
    fail_silently: bool = False,
    connection: EmailBackend | None = None,
) -> int:
    """Send one message to ``recipient_list`` and return the number sent (0 or 1).

    Args:
        subject: see :func:`build_message`.
        message: the plain-text body.
        from_email: the sender; ``None`` means ``settings.DEFAULT_FROM_EMAIL``.
        recipient_list: the ``To`` addresses.
        html_message: an HTML alternative.
        fail_silently: with the default connection, return 0 instead of raising when sending
            fails. Invalid addresses raise either way: they are bugs, not outages.
        connection: a backend to send through instead of a new default one.
    """
    built = build_message(
        subject,
        message,
        from_email=settings.DEFAULT_FROM_EMAIL if from_email is None else from_email,
        to=recipient_list,
        html=html_message,
    )
    connection = connection or get_connection(fail_silently=fail_silently)
    return connection.send_messages([built])


def _mail_list(
    recipients: list[Address],
    subject: str,
    message: str,
    *,
    html_message: str | None,
    fail_silently: bool,
    connection: EmailBackend | None,
) -> int:
    if not recipients:
        return 0
    built = build_message(
        settings.EMAIL_SUBJECT_PREFIX + subject,
        message,
        from_email=settings.SERVER_EMAIL,
        to=recipients,
        html=html_message,
    )
    connection = connection or get_connection(fail_silently=fail_silently)
    return connection.send_messages([built])


def mail_admins(
    subject: str,
    message: str,
    *,
    fail_silently: bool = False,
    connection: EmailBackend | None = None,
    html_message: str | None = None,
) -> int:
    """Send a message to ``settings.ADMINS`` and return the number sent (0 or 1).

    The subject gets ``settings.EMAIL_SUBJECT_PREFIX`` in front (verbatim, no space added);
    the sender is ``settings.SERVER_EMAIL``. With no admins it returns 0 at once, without
    building a message or opening a connection.

    Args:
        subject: the subject, without the prefix.
        message: the plain-text body.
        fail_silently: see :func:`send_mail`.
        connection: a backend to send through instead of a new default one.
        html_message: an HTML alternative.
    """
    return _mail_list(
        settings.ADMINS,
        subject,
        message,
        html_message=html_message,
        fail_silently=fail_silently,
        connection=connection,
    )


def mail_managers(
    subject: str,
    message: str,
    *,
    fail_silently: bool = False,
    connection: EmailBackend | None = None,
    html_message: str | None = None,
) -> int:
    """Send a message to ``settings.MANAGERS``; otherwise exactly like :func:`mail_admins`.

    Args:
        subject: the subject, without the prefix.
        message: the plain-text body.
        fail_silently: see :func:`send_mail`.
        connection: a backend to send through instead of a new default one.
        html_message: an HTML alternative.
    """
    return _mail_list(
        settings.MANAGERS,
        subject,
        message,
        html_message=html_message,
        fail_silently=fail_silently,
        connection=connection,
    )
