"""Settings of the example shop: the structlogx app, its middleware, and structlogx in LOGGING."""

from __future__ import annotations

from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = "structlogx-example-only"  # an example, never deployed
DEBUG = False  # admin mails are sent only when DEBUG is off (require_debug_false)
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
USE_TZ = True
ROOT_URLCONF = "shopsite.urls"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "shop",
]
INSTALLED_APPS += ["structlogx.contrib.django"]

MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "structlogx.contrib.django.middleware.RequestContextMiddleware",  # after authentication
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]

DATABASES = {
    "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "db.sqlite3"},
}

ADMINS = [("Ops", "ops@example.com")]
SERVER_EMAIL = "shop@example.com"
# Django's file backend: each mail is a file in ./mail, nothing leaves the machine.
EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
EMAIL_FILE_PATH = BASE_DIR / "mail"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request": {"()": "structlogx.contrib.django.middleware.RequestFilter"},
        "require_debug_false": {"()": "django.utils.log.RequireDebugFalse"},
    },
    "handlers": {
        "audit": {
            "class": "structlogx.handlers.AuditHandler",
            "store": "ext://structlogx.contrib.django.store.default_store",
        },
        "mail_admins": {
            "class": "structlogx.handlers.AdminEmailHandler",
            "level": "ERROR",
            "filters": ["require_debug_false", "request"],
            "email_backend": "structlogx.contrib.django.mail.DjangoEmailBackend",
            "blocking": True,  # the demo command exits at once; leave out in production
        },
    },
    "loggers": {
        "shop": {"handlers": ["audit", "mail_admins"], "level": "INFO"},
        "django.request": {"handlers": ["mail_admins"], "level": "ERROR", "propagate": False},
    },
}
