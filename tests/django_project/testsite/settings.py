"""Settings of the test site: the structlogx app, the shop, and structlogx in LOGGING."""

from __future__ import annotations

import os
import tempfile
from urllib.parse import urlsplit

SECRET_KEY = "structlogx-tests-only"
DEBUG = False
ALLOWED_HOSTS = ["testserver", "localhost"]
USE_TZ = True
ROOT_URLCONF = "testsite.urls"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "structlogx.contrib.django",
    "shop",
]

MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "structlogx.contrib.django.middleware.RequestContextMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        # The test runner uses an in-memory database; this file is only for manage-style runs.
        "NAME": os.path.join(tempfile.gettempdir(), f"structlogx-django-{os.getpid()}.sqlite3"),
    }
}

# tests/test_contrib_django.py runs the tests a second time on the suite's throwaway
# PostgreSQL server, where ChainHead's row lock (select_for_update) is a real one.
_POSTGRES = os.environ.get("STRUCTLOGX_TEST_POSTGRES")  # postgresql://user@host:port/name
if _POSTGRES:
    _url = urlsplit(_POSTGRES)
    DATABASES["default"] = {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": _url.path.lstrip("/"),
        "USER": _url.username or "",
        "HOST": _url.hostname or "",
        "PORT": str(_url.port or ""),
    }

ADMINS = [("Ops", "ops@example.com")]
SERVER_EMAIL = "errors@example.com"
INTERNAL_IPS: list[str] = []

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request": {"()": "structlogx.contrib.django.middleware.RequestFilter"},
    },
    "handlers": {
        "audit": {
            "class": "structlogx.handlers.AuditHandler",
            "store": "ext://structlogx.contrib.django.store.default_store",
        },
        "mail_admins": {
            "class": "structlogx.handlers.AdminEmailHandler",
            "level": "ERROR",
            "filters": ["request"],
            "email_backend": "structlogx.contrib.django.mail.DjangoEmailBackend",
            "blocking": True,
            "throttle_window_s": 0,
        },
        # Notifications of committed changes only: transaction.on_commit defers them.
        "notify": {
            "class": "structlogx.handlers.NotificationHandler",
            "recipients": "ext://shop.notify.recipients",
            "preferences": "ext://shop.notify.preferences",
            "registry": "ext://shop.notify.registry",
            "methods": [
                {
                    "class": "structlogx.notifications.MailMethod",
                    "email_backend": "structlogx.contrib.django.mail.DjangoEmailBackend",
                    "from_email": "shop@example.com",
                    "subject_prefix": "[Shop] ",
                }
            ],
            "on_commit": "django.db.transaction.on_commit",
            "blocking": True,
        },
    },
    "loggers": {
        "shop": {
            "handlers": ["audit", "mail_admins", "notify"],
            "level": "INFO",
            "propagate": False,
        },
        "django.request": {"handlers": ["mail_admins"], "level": "ERROR", "propagate": False},
    },
}
