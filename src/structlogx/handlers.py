"""Handlers: thin ``logging.Handler`` subclasses over the engines of structlogx.

:class:`AuditHandler` persists audit records (``structlogx.audit``); :class:`AdminEmailHandler`
mails error reports to the site's admins (``structlogx.mail``).
"""

from __future__ import annotations

import contextlib
import copy
import functools
import hashlib
import logging
import os
import tempfile
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from structlogx.audit.store import Store, open_store, set_default_store
from structlogx.audit.writer import (
    AsyncWriter,
    DirectWriter,
    Spool,
    SyncWriter,
    Writer,
    replay_spool,
)
from structlogx.conf import settings
from structlogx.notifications import (
    DeliveryMethod,
    NotificationRegistry,
    Notifier,
    Preferences,
    Recipients,
    StoreFollower,
)
from structlogx.records import entry_from_record

__all__ = ["AdminEmailHandler", "AuditHandler", "AuditWriteError", "NotificationHandler"]

DURABILITIES: Final = ("sync", "async")
STRENGTHS: Final = {"fsync": "FULL", "crash": "NORMAL"}


class AuditWriteError(RuntimeError):
    """Raised by a ``strict`` :class:`AuditHandler` whose entry could not be stored.

    The documented way to make a business action fail when its audit entry cannot be
    written: log inside the action's ``try`` and let this error abort it. Without ``strict``
    the entry goes to the spool instead, and logging never raises.
    """


def _spool_path(store: Store) -> str:
    path = getattr(store, "path", None)
    if isinstance(path, str) and not path.startswith(":"):  # a file, not :memory: or :bound:
        return path + ".spool.jsonl"
    # Named after the store, not the process: a restarted process finds and replays it.
    name = hashlib.sha256(str(getattr(store, "url", "")).encode()).hexdigest()[:16]
    return os.path.join(tempfile.gettempdir(), f"structlogx-audit-{name}.spool.jsonl")


class AuditHandler(logging.Handler):
    """Persist every record that carries an ``action`` as an audit entry; ignore the rest.

    The entry is built in the thread that logged (message formatted, ``data`` made JSON-safe,
    actor and object described, bound context captured), then handed to the writer.

    Args:
        store: a store URL (see :func:`structlogx.audit.open_store`) or a store object;
            by default ``settings.AUDIT_STORE`` (``sqlite:///audit.sqlite3``).
        durability: ``"sync"``: ``emit`` returns once the entry is committed (concurrent
            threads share commits); ``"async"``: ``emit`` queues it for a background thread.
        strict: raise store errors into the application instead of spooling them.
        strength: for SQLite and PostgreSQL URLs, ``"fsync"`` (commits survive a power cut;
            the default) or ``"crash"`` (they survive a killed application, not a power cut:
            SQLite's ``synchronous=NORMAL``, PostgreSQL's ``synchronous_commit=off``).
        spool_path: where entries go when the store fails or the async queue stays full
            (default: next to the store file, ``<path>.spool.jsonl``).
        default_store: make this handler's store the one ``LoggedObject.all_logentries()``
            and the CLI read by default.
        writer_options: passed to the writer (``queue_size``, ``batch_size``,
            ``batch_interval_s``, ``block_timeout_s`` for async; ``max_batch``, ``gather_s``
            for sync).

    Records without an action pass through untouched, so one handler on the root logger
    serves the whole hierarchy. A record whose entry cannot be built (an invalid action name)
    is reported through :meth:`handleError` with the reason; the technical outputs still get
    it. The handler does not take the handler lock around ``emit`` (it overrides
    :meth:`handle`): the writer does its own locking, which is what lets threads share commits.

    Example ``dictConfig`` entry::

        "audit": {"class": "structlogx.handlers.AuditHandler",
                  "store": "sqlite:///audit.sqlite3", "durability": "async"}
    """

    def __init__(
        self,
        store: str | Store | None = None,
        durability: str = "sync",
        strict: bool = False,
        *,
        strength: str = "fsync",
        level: int | str = logging.NOTSET,
        spool_path: str | None = None,
        default_store: bool = True,
        **writer_options: Any,
    ) -> None:
        super().__init__(level)
        if durability not in DURABILITIES:
            raise ValueError(f"durability must be 'sync' or 'async', not {durability!r}")
        if strength not in STRENGTHS:
            raise ValueError(f"strength must be 'fsync' or 'crash', not {strength!r}")
        # Checked before the store opens: a typo must not leave a file and a connection.
        allowed = (
            {"queue_size", "batch_size", "batch_interval_s", "block_timeout_s"}
            if durability == "async"
            else {"max_batch", "gather_s"}
        )
        unknown = sorted(set(writer_options) - allowed)
        if unknown:
            raise TypeError(
                f"unknown option(s) for durability={durability!r}: {', '.join(unknown)} "
                f"(allowed: {', '.join(sorted(allowed))})"
            )
        if store is None:
            store = settings.AUDIT_STORE
        opened = isinstance(store, str)
        if isinstance(store, str):
            options: dict[str, str] = {}
            if store.startswith("sqlite:"):
                options["synchronous"] = STRENGTHS[strength]
            elif store.startswith(("postgresql:", "postgres:")):  # the same promise there
                options["synchronous_commit"] = "on" if strength == "fsync" else "off"
            store = open_store(store, **options)
        elif not isinstance(store, Store):
            raise TypeError(f"store must be a URL or a Store, not {type(store).__name__}")
        self.store: Store = store
        self.durability = durability
        self.strict = bool(strict)
        self.spool = Spool(spool_path or _spool_path(store))
        try:
            if getattr(store, "transaction_bound", False):
                if durability != "sync" or writer_options:
                    raise ValueError(
                        "a transaction-bound store writes in the logging thread's own "
                        "transaction: use durability='sync' and no writer options"
                    )
                self.writer: Writer = DirectWriter(store)
            elif durability == "async":
                self.writer = AsyncWriter(store, spool=self.spool, **writer_options)
            else:
                self.writer = SyncWriter(store, **writer_options)
        except BaseException:
            if opened:  # a bad option value: release what this handler opened
                store.close()
            raise
        if default_store:
            set_default_store(store)

    def handle(self, record: logging.LogRecord) -> bool | logging.LogRecord:  # type: ignore[override]
        """Filter, then emit without the handler lock (the writer serialises commits)."""
        if not self.filters:  # the usual case: skip Filterer.filter's loop
            self.emit(record)
            return True
        result = self.filter(record)
        if isinstance(result, logging.LogRecord):
            record = result
        if result:
            self.emit(record)
        return result

    def emit(self, record: logging.LogRecord) -> None:
        """Build the entry and write it; failures go to the spool or :meth:`handleError`."""
        if record.__dict__.get("action") is None:
            return
        try:
            entry = entry_from_record(record)
        except RecursionError:  # pragma: no cover - as the stdlib handlers do
            raise
        except Exception:
            if self.strict:
                raise
            self.handleError(record)
            return
        try:
            self.writer.write(entry)
        except RecursionError:  # pragma: no cover
            raise
        except Exception as exc:
            if self.strict:
                message = f"the audit entry {entry.action} was not stored: {exc}"
                raise AuditWriteError(message) from exc
            if isinstance(self.writer, DirectWriter):  # its transaction may still roll back:
                self.handleError(record)  # a replay later could record what never happened
            else:
                self.spool.write([entry], f"the store failed: {exc!r}")
            return
        if self.spool.pending and self.durability == "sync":
            replay_spool(self.spool, self.store)  # the store is back: catch up, in order

    def flush(self, timeout: float | None = None) -> bool:  # type: ignore[override]
        """Wait until every entry emitted so far is committed; ``False`` on timeout."""
        writer = getattr(self, "writer", None)  # None: __init__ raised after registering
        return True if writer is None else writer.flush(timeout)

    def close(self) -> None:
        """Drain the writer and close the store."""
        try:
            writer = getattr(self, "writer", None)  # logging.shutdown() also meets half-built
            if writer is not None:  # handlers: Handler.__init__ registered them first
                writer.close()
        finally:
            super().close()


_DEFAULT_REPORTER: Final = "structlogx.mail.report.ExceptionReporter"
_guard = threading.local()  # set while this thread is inside AdminEmailHandler.emit


class AdminEmailHandler(logging.Handler):
    """Mail each record to the site admins with an error report: Django's handler, without
    its failures.

    What Django's ``AdminEmailHandler`` does, it does: the subject is ``LEVEL: message``, or
    ``LEVEL (internal IP): message`` / ``LEVEL (EXTERNAL IP): message`` when the record has a
    ``request`` (any kind :func:`~structlogx.mail.request.request_info` reads) whose client
    address is, or is not, in ``INTERNAL_IPS``; :meth:`format_subject` turns CR and LF into
    the texts ``\\r`` and ``\\n``; ``EMAIL_SUBJECT_PREFIX`` goes in front verbatim. The body
    is the formatted record without its traceback, a blank line, and the reporter's text
    report; ``include_html`` attaches the HTML report. With no admins and :meth:`send_mail`
    not overridden, :meth:`emit` returns before doing any work.

    What it adds, each on by default:

    * **non-blocking**: the message is built in the logging thread and sent from a
      background thread (:class:`~structlogx.delivery.Deliverer`); the caller never waits
      on the network. :meth:`flush` waits for the queue; interpreter exit drains it.
    * **throttled**: the same error (:func:`~structlogx.mail.throttle.fingerprint`) is
      mailed once per ``throttle_window_s``, and at most ``max_mails_per_minute`` mails go
      out a minute; the next mail about an error says how many like it were held back.
    * **retried**: a failed send is tried again with exponential backoff, ``attempts``
      times in all, then reported by one line on ``sys.stderr``.
    * **contained**: a failure while building the subject, body or report sends a short
      mail that says so, with the original message; nothing is raised into the caller.
    * **guarded**: records logged while the handler works (by a backend, a reporter, in
      its sending thread) are not mailed, so a failing handler cannot loop.
    * **redacted**: the report hides secrets (:mod:`structlogx.redact`), and so do the
      subject and the formatted record.
    * **fork-safe**: after ``fork`` a child sends through its own thread.

    Args:
        include_html: attach the HTML report as a ``text/html`` alternative.
        email_backend: dotted path of the backend class, read at send time; default
            ``settings.EMAIL_BACKEND``.
        reporter_class: dotted path (or class) of the reporter, resolved now; default
            :class:`structlogx.mail.report.ExceptionReporter`.
        admins, from_email, subject_prefix, internal_ips: per-handler values of the
            settings ``ADMINS``, ``SERVER_EMAIL``, ``EMAIL_SUBJECT_PREFIX`` and
            ``INTERNAL_IPS`` (read at emit time when not given).
        throttle_window_s: one mail per error per this many seconds; ``0`` turns
            throttling off.
        max_mails_per_minute: the overall cap.
        blocking: send in the logging thread, as Django does (for scripts that exit at
            once and tests that want the mail when ``logger.error`` returns).
        attempts: how many times a mail is tried in all.
        backoff_s: the pause after the first failed try; later pauses double.
        clock: seconds for throttling windows (tests); default :func:`time.monotonic`.

    Raises:
        ValueError: an invalid address in ``admins`` or ``from_email`` (named), or a bad
            option value.
        ImportError: ``reporter_class`` cannot be imported.

    Example ``dictConfig`` entry (Django's, with the usual filter)::

        "mail_admins": {"class": "structlogx.handlers.AdminEmailHandler", "level": "ERROR",
                        "filters": ["require_debug_false"], "include_html": True}
    """

    def __init__(
        self,
        include_html: bool = False,
        email_backend: str | None = None,
        reporter_class: str | type | None = None,
        *,
        admins: Sequence[Any] | None = None,
        from_email: str | None = None,
        subject_prefix: str | None = None,
        internal_ips: Sequence[str] | None = None,
        throttle_window_s: float = 60.0,
        max_mails_per_minute: int = 10,
        blocking: bool = False,
        attempts: int = 4,
        backoff_s: float = 1.0,
        level: int | str = logging.NOTSET,
        clock: Callable[[], float] | None = None,
    ) -> None:
        from structlogx._imports import import_string
        from structlogx.delivery import Deliverer
        from structlogx.mail import check_address
        from structlogx.mail.throttle import Throttle

        if admins is not None:
            if isinstance(admins, str):
                raise TypeError("admins must be a list of addresses, not one str")
            admins = [check_address(address) for address in admins]
        else:  # the settings' list is read again at each mail; a typo fails here, not later
            for address in settings.ADMINS:
                check_address(address)
        if from_email is not None:
            from_email = check_address(from_email)
        reporter = _DEFAULT_REPORTER if reporter_class is None else reporter_class
        self.reporter_class = import_string(reporter) if isinstance(reporter, str) else reporter
        if email_backend is not None and not isinstance(email_backend, str):
            raise TypeError("email_backend must be a dotted path (str)")
        # Everything that can fail is checked before Handler.__init__ registers the handler.
        throttle = None if not throttle_window_s else Throttle(
            throttle_window_s, max_mails_per_minute, clock=clock
        )
        deliverer = None if blocking else Deliverer(
            "admin e-mail", attempts=attempts, backoff_s=backoff_s
        )
        super().__init__(level)
        self.include_html = bool(include_html)
        self.email_backend = email_backend
        self.admins = admins
        self.from_email = from_email
        self.subject_prefix = subject_prefix
        self.internal_ips = None if internal_ips is None else list(internal_ips)
        self.throttle = throttle
        self.deliverer = deliverer

    # -- Django's override points ----------------------------------------------------------

    def send_mail(self, subject: str, message: str, *args: Any, **kwargs: Any) -> None:
        """Send one mail to the admins; override to mail someone else (e.g. the managers).

        Called in the sending thread with the subject (without prefix), the text body and
        ``html_message=``; it must raise on failure, so that the mail is tried again.
        """
        from structlogx.mail import build_message

        admins = settings.ADMINS if self.admins is None else self.admins
        if not admins:
            return
        prefix = self.subject_prefix
        if prefix is None:
            prefix = settings.EMAIL_SUBJECT_PREFIX
        built = build_message(
            prefix + subject,
            message,
            from_email=settings.SERVER_EMAIL if self.from_email is None else self.from_email,
            to=admins,
            html=kwargs.get("html_message"),
        )
        with self.connection() as connection:
            connection.send_messages([built])

    def connection(self) -> Any:
        """Return the backend to send through (``email_backend``, read now)."""
        from structlogx.mail import get_connection

        return get_connection(self.email_backend, fail_silently=False)

    def format_subject(self, subject: str) -> str:
        """Escape CR and LF as the two-character texts ``\\r`` and ``\\n`` (no header injection)."""
        return subject.replace("\n", "\\n").replace("\r", "\\r")

    # -- logging.Handler --------------------------------------------------------------------

    def _mails_nobody(self) -> bool:
        overridden = type(self).send_mail is not AdminEmailHandler.send_mail
        return not overridden and not (settings.ADMINS if self.admins is None else self.admins)

    def emit(self, record: logging.LogRecord) -> None:
        """Build the mail here, send it from the background thread; never raises."""
        if getattr(_guard, "active", False) or self._mails_nobody():
            return
        deliverer = self.deliverer
        if deliverer is not None and deliverer.in_delivery_thread():
            return  # logged while sending a mail: mailing it could loop
        _guard.active = True
        try:
            suppressed = 0 if self.throttle is None else self.throttle.admit(record)
            if suppressed is None:
                return
            try:
                subject, message, html = self._build(record, suppressed)
            except Exception as exc:  # the mail still goes out, saying what went wrong
                subject, message, html = _fallback(record, exc), _fallback_body(record, exc), None
            send = _Send(self, subject, message, html)
            if deliverer is None:
                send()
            else:
                deliverer.submit(f"mail {subject[:60]!r}", send)
        except Exception:
            self.handleError(record)
        finally:
            _guard.active = False

    def _build(self, record: logging.LogRecord, suppressed: int) -> tuple[str, str, str | None]:
        from structlogx.mail.request import is_internal, request_info
        from structlogx.redact import redact_text

        text = record.getMessage()
        info = request_info(getattr(record, "request", None))
        if info is None:
            subject = f"{record.levelname}: {text}"
        else:
            internal = is_internal(
                info, settings.INTERNAL_IPS if self.internal_ips is None else self.internal_ips
            )
            where = "internal" if internal else "EXTERNAL"
            subject = f"{record.levelname} ({where} IP): {text}"
        subject = redact_text(self.format_subject(subject))
        plain = copy.copy(record)
        plain.exc_info = plain.exc_text = None
        exc_info = record.exc_info or (None, text, None)
        reporter = self.reporter_class(
            getattr(record, "request", None), *exc_info, is_email=True
        )
        message = f"{redact_text(self.format(plain))}\n\n{reporter.get_traceback_text()}"
        if suppressed:
            message = (
                f"{suppressed} more like this {'was' if suppressed == 1 else 'were'} not "
                f"mailed since the last mail about it (throttling).\n\n{message}"
            )
        html = reporter.get_traceback_html() if self.include_html else None
        return subject, message, html

    def flush(self, timeout: float | None = None) -> bool:  # type: ignore[override]
        """Wait until every queued mail was tried; ``False`` on timeout."""
        deliverer = getattr(self, "deliverer", None)
        return True if deliverer is None else deliverer.flush(timeout)

    def close(self) -> None:
        """Send what is queued (bounded wait), then stop the sending thread."""
        try:
            deliverer = getattr(self, "deliverer", None)
            if deliverer is not None:
                deliverer.close()
        finally:
            super().close()


class _Send:
    """One queued mail: calls the handler's ``send_mail`` in the sending thread."""

    __slots__ = ("handler", "html", "message", "subject")

    def __init__(self, handler: AdminEmailHandler, subject: str, message: str, html: str | None):
        self.handler, self.subject, self.message, self.html = handler, subject, message, html

    def __call__(self) -> None:
        _guard.active = True  # records logged by a backend are not mailed
        try:
            self.handler.send_mail(self.subject, self.message, html_message=self.html)
        finally:
            _guard.active = False


def _safe_message(record: logging.LogRecord) -> str:
    try:
        return record.getMessage()
    except Exception:
        from structlogx.jsonsafe import safe_repr

        return f"{safe_repr(record.msg)} % {safe_repr(record.args)}"


def _fallback(record: logging.LogRecord, exc: BaseException) -> str:
    from structlogx.redact import redact_text

    text = _safe_message(record).replace("\n", "\\n").replace("\r", "\\r")
    return redact_text(f"{getattr(record, 'levelname', 'ERROR')}: {text}")


def _fallback_body(record: logging.LogRecord, exc: BaseException) -> str:
    from structlogx.jsonsafe import safe_repr
    from structlogx.redact import redact_text

    return redact_text(
        f"structlogx could not build the full error report: {safe_repr(exc)}\n\n"
        f"The record: {_safe_message(record)}\n"
        f"Logger: {getattr(record, 'name', '?')}, level {getattr(record, 'levelname', '?')}"
    )


_notify_guard = threading.local()  # set while this thread is inside NotificationHandler.emit


def _resolve(value: Any) -> Any:
    from structlogx._imports import import_string

    return import_string(value) if isinstance(value, str) else value


def _method(value: Any, index: int) -> DeliveryMethod:
    from structlogx._imports import import_string

    if isinstance(value, Mapping):
        options = dict(value)
        factory = options.pop("class", None) or options.pop("()", None)
        if factory is None:
            raise ValueError(f"methods[{index}]: a mapping needs 'class' (a dotted path)")
        value = (import_string(factory) if isinstance(factory, str) else factory)(**options)
    elif isinstance(value, str):
        value = import_string(value)
    if not isinstance(value, DeliveryMethod):
        raise TypeError(f"methods[{index}]: {value!r} has no 'name' and 'send(...)'")
    return value


class NotificationHandler(logging.Handler):
    """Notify the users who care about each audit record (see
    :mod:`structlogx.notifications`); ignore records without an ``action``.

    The entry is built, its types matched, its notifications built (once per entry and
    type) and its recipients resolved in the thread that logged; sending happens in a
    background thread with retries (:class:`~structlogx.delivery.Deliverer`), so logging
    never waits on a mail server or webhook and never raises. Storms become digests
    (``digest_threshold`` per scope and type per ``digest_window_s``).

    After commit, two ways: ``on_commit`` (Django's ``transaction.on_commit`` or anything
    of that shape) defers each record's notifications until the transaction commits, and a
    rollback sends nothing; or ``source`` (a store, or its URL) makes the handler notify
    for the entries committed to that store, read by a follower thread that ``emit`` only
    wakes: entries of rolled-back transactions never appear there.

    Args:
        recipients: a :class:`~structlogx.notifications.Recipients`, or its dotted path.
        preferences: a :class:`~structlogx.notifications.Preferences`, or its dotted path.
        methods: delivery methods: instances, dotted paths of instances, or mappings
            ``{"class": "structlogx.notifications.MailMethod", ...options}``.
        registry: where types are looked up (default: the global registry), or its path.
        digest_window_s: the digest window, in seconds.
        digest_threshold: notifications per scope, type and window sent one by one;
            ``None`` never digests.
        on_commit: a callable that runs a function after the current transaction commits.
        source: a store (or store URL) to follow instead of the records' own entries.
        poll_interval_s: how often the followed store is read without a wake-up.
        blocking: notify in the logging thread, once, without retries (scripts, tests).
        attempts: how many times a delivery is tried in all.
        backoff_s: the pause after the first failed try; later pauses double.
        clock: seconds for digest windows (tests); default :func:`time.monotonic`.

    Raises:
        ValueError, TypeError: a bad option (named), e.g. two methods with the same name.
        ImportError: a dotted path that cannot be imported.

    Example ``dictConfig`` entry::

        "notify": {"class": "structlogx.handlers.NotificationHandler",
                   "recipients": "ext://myshop.notify.recipients",
                   "preferences": "ext://myshop.notify.preferences",
                   "methods": [{"class": "structlogx.notifications.MailMethod"}]}

    .. versionadded:: 0.1
    """

    def __init__(
        self,
        recipients: Recipients | str,
        preferences: Preferences | str,
        methods: Sequence[DeliveryMethod | Mapping[str, Any] | str] = (),
        *,
        registry: NotificationRegistry | str | None = None,
        digest_window_s: float = 300.0,
        digest_threshold: int | None = 10,
        on_commit: Callable[[Callable[[], None]], object] | str | None = None,
        source: Store | str | None = None,
        poll_interval_s: float = 1.0,
        blocking: bool = False,
        attempts: int = 4,
        backoff_s: float = 1.0,
        clock: Callable[[], float] | None = None,
        level: int | str = logging.NOTSET,
    ) -> None:
        from structlogx.delivery import Deliverer

        recipients, preferences = _resolve(recipients), _resolve(preferences)
        if not isinstance(recipients, Recipients):
            raise TypeError(f"recipients: {recipients!r} has no users(scope) method")
        if not isinstance(preferences, Preferences):
            raise TypeError(f"preferences: {preferences!r} lacks setting() or master_enabled()")
        if isinstance(methods, str | Mapping):
            raise TypeError("methods must be a list of delivery methods")
        resolved = [_method(method, index) for index, method in enumerate(methods)]
        on_commit = _resolve(on_commit)
        if on_commit is not None and not callable(on_commit):
            raise TypeError(f"on_commit must be callable, not {on_commit!r}")
        if on_commit is not None and source is not None:
            raise ValueError("give on_commit or source, not both")
        deliverer = None if blocking else Deliverer(
            "notifications", attempts=attempts, backoff_s=backoff_s
        )
        self.notifier = Notifier(
            recipients,
            preferences,
            resolved,
            registry=_resolve(registry),
            digest_window_s=digest_window_s,
            digest_threshold=digest_threshold,
            deliverer=deliverer,
            clock=clock,
        )
        self.deliverer = deliverer
        self.on_commit = on_commit
        self._owned_store = isinstance(source, str)
        store = open_store(source) if isinstance(source, str) else source
        self.follower = None if store is None else StoreFollower(
            store, self.notifier.submit, poll_interval_s=poll_interval_s
        )
        super().__init__(level)

    def emit(self, record: logging.LogRecord) -> None:
        """Build the entry here and queue its notifications (or wake the store follower)."""
        if record.__dict__.get("action") is None or getattr(_notify_guard, "active", False):
            return
        if self.deliverer is not None and self.deliverer.in_delivery_thread():
            return  # logged while notifying: notifying about it could loop
        _notify_guard.active = True
        try:
            if self.follower is not None:
                self.follower.poke()
                return
            entry = entry_from_record(record)
            if self.on_commit is not None:  # submit() never raises into the commit
                self.on_commit(functools.partial(self.notifier.submit, entry))
            else:
                self.notifier.notify(entry)
        except RecursionError:  # pragma: no cover - as the stdlib handlers do
            raise
        except Exception:
            self.handleError(record)
        finally:
            _notify_guard.active = False

    def flush(self, timeout: float | None = None) -> bool:  # type: ignore[override]
        """Read the followed store, queue due digests, wait for every queued delivery."""
        notifier: Notifier | None = getattr(self, "notifier", None)
        if notifier is None:  # __init__ raised after registering
            return True
        if self.follower is not None:
            self.follower.read()
        return notifier.flush(timeout)

    def close(self) -> None:
        """Read the store a last time, send held digests, stop the threads."""
        try:
            follower = getattr(self, "follower", None)
            if follower is not None:
                follower.close()
                with contextlib.suppress(Exception):
                    follower.read()
                if self._owned_store:
                    follower.store.close()
            notifier = getattr(self, "notifier", None)
            if notifier is not None:
                notifier.close()
        finally:
            super().close()
