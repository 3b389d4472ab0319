"""Tests for ``structlogx check-config``."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from configs.config_helpers import LoggingState

from structlogx.cli import main

CONFIGS = Path(__file__).resolve().parent / "configs"


@pytest.fixture(autouse=True)
def _restore_logging_and_path(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(sys, "path", list(sys.path))  # check-config may add the directory
    state = LoggingState()
    yield
    state.restore()


def check(capsys: pytest.CaptureFixture[str], source: str | Path) -> tuple[int, str, str]:
    status = main(["check-config", str(source)])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_clean_file(capsys: pytest.CaptureFixture[str]) -> None:
    before = LoggingState().describe()
    assert check(capsys, CONFIGS / "complex.json") == (
        0,
        "OK: 3 loggers (django, django.request, myproject.custom),"
        " 2 handlers (console, mail_admins), 2 formatters, 2 filters\n",
        "",
    )
    assert LoggingState().describe() == before  # checked, not applied


def test_clean_file_with_root_and_singulars(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DJANGO_LOG_LEVEL", "DEBUG")
    assert check(capsys, CONFIGS / "django_env.json") == (
        0,
        "OK: 2 loggers (root, django), 1 handler (console), 0 formatters, 0 filters\n",
        "",
    )


def test_each_problem_on_its_own_line(capsys: pytest.CaptureFixture[str]) -> None:
    path = CONFIGS / "five_mistakes.json"
    status, out, err = check(capsys, path)
    assert status == 1
    assert out.splitlines() == [
        'version: missing; add "version": 1 (the only dictConfig version)',
        "formatters.json.schemaa: unknown argument 'schemaa' for"
        " structlogx.formatters.JSONFormatter; did you mean 'schema'?",
        "handlers.console.formatter: 'jsn' is not defined; did you mean 'json'?",
        "handlers.audit.class: cannot import 'structlogx_nope.handlers.AuditHandler':"
        " No module named 'structlogx_nope'",
        "loggers.shop.level: unknown level 'VERBOSE'; known: NOTSET, DEBUG, INFO, WARN,"
        " WARNING, ERROR, CRITICAL, FATAL",
    ]
    assert err == f"5 problems in {path}\n"


def test_module_attribute(capsys: pytest.CaptureFixture[str]) -> None:
    assert check(capsys, "configs.django_settings:LOGGING") == (
        0,
        "OK: 2 loggers (root, django), 1 handler (console), 0 formatters, 0 filters\n",
        "",
    )


def test_module_attribute_not_found(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = check(capsys, "configs.django_settings:LOGING")
    assert (status, err) == (1, "1 problem in configs.django_settings:LOGING\n")
    assert out == (
        "configs.django_settings:LOGING: 'configs.django_settings' has no attribute 'LOGING';"
        " did you mean 'LOGGING'?\n"
    )


def test_missing_environment_variable(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("STRUCTLOGX_TEST_LOG_DIR", raising=False)
    status, out, _ = check(capsys, CONFIGS / "file_handler.json")
    assert status == 1
    assert out == (
        "handlers.file.filename: environment variable 'STRUCTLOGX_TEST_LOG_DIR' is not set;"
        " set it, or give a default: ${STRUCTLOGX_TEST_LOG_DIR:-default}\n"
    )


def test_file_problems(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = check(capsys, CONFIGS / "broken.json")
    assert status == 1
    assert out.startswith(f"{CONFIGS / 'broken.json'}: invalid JSON at line 1, column ")
    status, out, _ = check(capsys, CONFIGS / "logging.ini")
    assert status == 1
    assert "unsupported file type '.ini'" in out


def test_unreadable_file(capsys: pytest.CaptureFixture[str]) -> None:
    path = CONFIGS / "missing.json"
    assert check(capsys, path) == (
        1,
        "",
        f"structlogx check-config: cannot read {path}: No such file or directory\n",
    )


def test_help_lists_the_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "check-config" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["check-config", "--help"])
    assert "module:ATTRIBUTE" in capsys.readouterr().out


def run_module(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    env.pop("DJANGO_LOG_LEVEL", None)
    return subprocess.run(
        [sys.executable, "-m", "structlogx", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )


def test_python_dash_m(tmp_path: Path) -> None:
    clean = run_module("check-config", str(CONFIGS / "django_env.json"), cwd=tmp_path)
    assert (clean.returncode, clean.stderr) == (0, "")
    assert clean.stdout == (
        "OK: 2 loggers (root, django), 1 handler (console), 0 formatters, 0 filters\n"
    )
    # a module:ATTRIBUTE spec is found from the working directory
    spec = run_module("check-config", "configs.django_settings:LOGGING", cwd=CONFIGS.parent)
    assert (spec.returncode, spec.stderr) == (0, ""), spec.stdout
    bad = run_module("check-config", str(CONFIGS / "five_mistakes.json"), cwd=tmp_path)
    assert bad.returncode == 1
    assert len(bad.stdout.splitlines()) == 5
    assert bad.stdout.splitlines()[2] == (
        "handlers.console.formatter: 'jsn' is not defined; did you mean 'json'?"
    )
