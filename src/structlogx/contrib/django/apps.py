"""The app configuration: on ready, structlogx reads its settings from Django's."""

from __future__ import annotations

from typing import Any

from django.apps import AppConfig

__all__ = ["DJANGO_NAMES", "DjangoSettings", "StructlogxConfig"]

DJANGO_NAMES = (
    "DEBUG",
    "ADMINS",
    "MANAGERS",
    "SERVER_EMAIL",
    "DEFAULT_FROM_EMAIL",
    "EMAIL_SUBJECT_PREFIX",
    "INTERNAL_IPS",
    "EMAIL_HOST",
    "EMAIL_PORT",
    "EMAIL_HOST_USER",
    "EMAIL_HOST_PASSWORD",
    "EMAIL_USE_TLS",
    "EMAIL_USE_SSL",
    "EMAIL_TIMEOUT",
    "EMAIL_SSL_CERTFILE",
    "EMAIL_SSL_KEYFILE",
    "EMAIL_FILE_PATH",
    "EMAIL_USE_LOCALTIME",
)
"""structlogx settings read from the Django setting of the same name."""


class DjangoSettings:
    """Expose ``django.conf.settings`` as a structlogx settings source.

    For each structlogx setting ``NAME``, the Django setting ``STRUCTLOGX_NAME`` wins when
    present (e.g. ``STRUCTLOGX_AUDIT_STORE``); else the names in :data:`DJANGO_NAMES` are read
    from Django's setting of the same name. ``ADMINS``/``MANAGERS`` may be Django's
    ``(name, address)`` pairs or plain addresses; ``INTERNAL_IPS`` may be any iterable.

    ``EMAIL_BACKEND`` is not taken from Django (Django's backend classes take Django's
    message objects): structlogx sends over SMTP with Django's ``EMAIL_*`` values, or through
    Django's own backend when asked to, with
    ``STRUCTLOGX_EMAIL_BACKEND = "structlogx.contrib.django.mail.DjangoEmailBackend"``
    or the handler's ``email_backend`` option.

    Args:
        source: the settings object (default ``django.conf.settings``).
    """

    def __init__(self, source: Any = None) -> None:
        if source is None:
            from django.conf import settings

            source = settings
        self._source = source

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        source = self._source
        try:
            return getattr(source, f"STRUCTLOGX_{name}")
        except AttributeError:
            pass
        if name not in DJANGO_NAMES:
            raise AttributeError(name)
        value = getattr(source, name)
        if name in ("ADMINS", "MANAGERS"):
            return [item if isinstance(item, str) else tuple(item) for item in value]
        if name == "INTERNAL_IPS":
            return [str(item) for item in value]
        return value


class StructlogxConfig(AppConfig):  # type: ignore[misc]
    """The ``structlogx.contrib.django`` app (label ``structlogx``)."""

    name = "structlogx.contrib.django"
    label = "structlogx"
    verbose_name = "Audit trail"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Make ``django.conf.settings`` the source of ``structlogx.conf.settings``."""
        from structlogx.conf import settings

        settings.set_source(DjangoSettings())
