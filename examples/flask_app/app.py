"""A Flask app with structlogx: request context, an audit trail and admin error mails.

``python app.py`` serves on http://127.0.0.1:5000 (``PORT`` picks another port);
``python app.py --selftest`` sends two requests through Flask's test client instead and
prints what they left behind. Both write ``audit.sqlite3`` and ``mail/`` in the working
directory.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from flask import Flask, jsonify
from flask.typing import ResponseReturnValue

import structlogx
from structlogx.audit import open_store
from structlogx.conf import settings
from structlogx.contrib.wsgi import RequestContextMiddleware
from structlogx.dictconfig import configure

settings.configure(
    ADMINS=[("Ops", "ops@example.com")],
    SERVER_EMAIL="shop@example.com",
    EMAIL_SUBJECT_PREFIX="[Flask shop] ",
    EMAIL_BACKEND="structlogx.mail.backends.FileBackend",
    EMAIL_FILE_PATH="mail",  # one .eml file per mail, in ./mail
)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "context": {"()": "structlogx.filters.ContextFilter"},
        "request": {"()": "structlogx.contrib.wsgi.AttachRequest"},
    },
    "formatters": {"json": {"()": "structlogx.formatters.JSONFormatter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": "json",
            "filters": ["context"],
        },
        "audit": {"class": "structlogx.handlers.AuditHandler", "store": "sqlite:///audit.sqlite3"},
        "mail_admins": {
            "class": "structlogx.handlers.AdminEmailHandler",
            "level": "ERROR",
            "filters": ["request"],
            # Send before the response returns, so the self-test finds the mail at once;
            # leave it out in production, where mails go from a background thread.
            "blocking": True,
        },
    },
    "loggers": {
        "shop": {"handlers": ["audit"], "level": "INFO"},
        # The request lines go to the console only: Flask logs the view's exception, with
        # its traceback, to the root logger, which mails it.
        "structlogx.request": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
    "root": {"handlers": ["console", "mail_admins"], "level": "INFO"},
}

configure(LOGGING)
logger = logging.getLogger("shop")

app = Flask(__name__)
app.wsgi_app = RequestContextMiddleware(app.wsgi_app)  # type: ignore[method-assign]


@app.route("/order/<int:order_id>/pay", methods=["GET", "POST"])
def pay(order_id: int) -> ResponseReturnValue:
    """Mark an order paid: one audit record, with the request's context."""
    structlogx.log_action(
        logger,
        "shop.order.paid",
        user="alice",
        object={"type": "Order", "id": order_id, "text": f"Order {order_id}"},
        data={"provider": "demo-pay"},
    )
    return jsonify(order=order_id, status="paid")


@app.route("/boom")
def boom() -> ResponseReturnValue:
    """Fail: Flask answers 500 and logs the exception, which mails the admins."""
    raise RuntimeError("boom in a Flask view")


def selftest() -> int:
    """Send the two requests through the test client and print what they left behind."""
    client = app.test_client()
    # buffered: the whole body is read and closed, as a server does, so the request line
    # of each response is logged before the call returns.
    paid = client.get("/order/42/pay", headers={"X-Request-ID": "selftest-1"}, buffered=True)
    print(f"GET /order/42/pay -> {paid.status_code} {paid.get_json()}")
    failed = client.get("/boom", buffered=True)
    print(f"GET /boom -> {failed.status_code}")
    store = open_store("sqlite:///audit.sqlite3")
    try:
        for entry in store.query(action="shop.order.paid", limit=1):
            request = entry.context.get("request_id")
            print(f"audit: {entry.action} {entry.object_text} request_id={request}")
        print(f"Hash chain: {store.verify()}")
    finally:
        store.close()
    mails = sorted(Path("mail").glob("*.eml"))
    print(f"mail: {len(mails)} file(s) in mail/")
    for path in mails:
        subject = next(
            line
            for line in path.read_text(encoding="utf-8").splitlines()
            if line.startswith("Subject:")
        )
        print(f"  {path.name}: {subject}")
    return 0 if paid.status_code == 200 and failed.status_code == 500 and mails else 1


if __name__ == "__main__":
    if "--selftest" in sys.argv[1:]:
        sys.exit(selftest())
    app.run(host="127.0.0.1", port=int(os.environ.get("PORT", "5000")))
