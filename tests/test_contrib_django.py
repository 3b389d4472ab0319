"""Run the Django integration tests (``tests/django_project``) under Django's own runner."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pg_server import PostgresServer

RUNTESTS = Path(__file__).resolve().parent / "django_project" / "runtests.py"


def _run_django_tests(**environment: str) -> None:
    if importlib.util.find_spec("django") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("Django is not installed, and CI must run the Django tests")
        pytest.skip("Django is not installed (pip install 'structlogx[test]')")
    result = subprocess.run(
        [sys.executable, str(RUNTESTS)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={**os.environ, **environment},
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_django_project_passes_under_djangos_test_runner() -> None:
    _run_django_tests()


def test_django_project_passes_on_postgresql(postgres_server: PostgresServer) -> None:
    """The same tests on a real PostgreSQL server: the Django store's chain head is a locked
    row there, and the concurrent-writers test runs (it is skipped on SQLite)."""
    _run_django_tests(STRUCTLOGX_TEST_POSTGRES=postgres_server.create_database("django"))
