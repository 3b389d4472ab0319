"""Shared pytest plugins: the real SMTP server fixtures from ``tests/smtp_server.py`` and the
throwaway PostgreSQL server from ``tests/pg_server.py``.

Under ``CI=true`` a test skipped for want of PostgreSQL fails instead: CI installs the server
(``.ci/run``), so such a skip means the PostgreSQL tests silently did not run.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

pytest_plugins = ["smtp_server", "pg_server"]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[Any]:
    """Under ``CI=true``, turn a skip whose reason mentions PostgreSQL into a failure."""
    outcome = yield
    if os.environ.get("CI", "").lower() != "true":
        return
    report = outcome.get_result()
    if not report.skipped or hasattr(report, "wasxfail"):
        return
    longrepr = report.longrepr
    reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    if "postgresql" in reason.lower():
        report.outcome = "failed"
        report.longrepr = f"CI=true: PostgreSQL tests must run, but this one skipped: {reason}"
