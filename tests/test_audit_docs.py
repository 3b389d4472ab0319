"""The audit guide's promises: its examples run and print what it shows, its tables match the code.

Every ```python block of ``docs/audit.md`` runs as a script of its own in a fresh directory
(a subprocess, so that logging configuration, default stores and writer threads never leak
between examples or into the test run). When a ```text block follows it, the script's stdout
must be exactly that text. No example may print a traceback.
"""

from __future__ import annotations

import inspect
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from structlogx.audit.sqlite import MIGRATIONS, TABLE
from structlogx.audit.writer import AsyncWriter, SyncWriter
from structlogx.handlers import AuditHandler

DOC = (Path(__file__).resolve().parent.parent / "docs" / "audit.md").read_text(encoding="utf-8")
BLOCK = re.compile(r"```python\n(.*?)```\n(?:[ \t]*\n)*(?:```text\n(.*?)```)?", re.S)
EXAMPLES = [(match.group(1), match.group(2)) for match in BLOCK.finditer(DOC)]
FINISHED = "<<example finished>>"
TIMEOUT_S = 20


def example_id(index: int) -> str:
    return f"example{index + 1}"


def test_the_guide_has_examples() -> None:
    assert len(EXAMPLES) >= 6


@pytest.mark.parametrize(
    ("code", "expected"), EXAMPLES, ids=[example_id(i) for i in range(len(EXAMPLES))]
)
def test_example_runs_as_shown(code: str, expected: str | None, tmp_path: Path) -> None:
    if "os.fork()" in code and not hasattr(os, "fork"):
        pytest.skip("needs os.fork")
    script = tmp_path / "example.py"
    script.write_text(f"{code}\nprint({FINISHED!r}, flush=True)\n", encoding="utf-8")
    try:
        result = subprocess.run(
            [sys.executable, "-u", str(script)],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        output = exc.stdout.decode() if isinstance(exc.stdout, bytes) else exc.stdout or ""
        if FINISHED in output and 'durability="async"' in code:
            # Known bug, reported: at interpreter exit the AsyncWriter is closed by its atexit
            # hook first, then logging.shutdown() calls AuditHandler.flush(), which waits
            # forever for a writer thread that has stopped. The example itself ran.
            pytest.xfail("an async AuditHandler hangs at interpreter exit (flush after close)")
        raise
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 0, result.stderr
    stdout = result.stdout
    assert stdout.endswith(FINISHED + "\n"), stdout
    if expected is not None:
        assert stdout[: -len(FINISHED) - 1].rstrip("\n") == expected.rstrip("\n")


def defaults(function: object, *names: str) -> str:
    """Return the defaults of *names* as the guide's tables spell them: `a`, `b`."""
    parameters = inspect.signature(function).parameters  # type: ignore[arg-type]
    return ", ".join(f"`{parameters[name].default!r}`".replace("'", '"') for name in names)


def test_documented_defaults_are_the_code_defaults() -> None:
    rows = [
        defaults(SyncWriter, "max_batch", "gather_s"),
        defaults(AsyncWriter, "queue_size", "batch_size", "batch_interval_s", "block_timeout_s"),
        *(defaults(AuditHandler, name) for name in ("store", "durability", "strength", "strict")),
    ]
    for row in rows:
        assert f"| {row} |" in DOC, row


def test_documented_schema_is_the_code_schema() -> None:
    schema = DOC.split("## The SQLite schema", 1)[1].split("\n## ", 1)[0]
    statements = [statement for migration in MIGRATIONS for statement in migration]
    columns = re.findall(r"^\s+(\w+) [A-Z]", statements[0], re.M)
    assert len(columns) == 19
    for column in columns:
        assert f"`{column}`" in schema, column
    indexes = [
        re.sub(r"\s+", " ", statement).replace("CREATE INDEX ", "").replace(f" ON {TABLE}", "")
        for statement in statements
        if statement.startswith("CREATE INDEX")
    ]
    assert len(indexes) == 5
    for index in indexes:
        assert f"`{index}`" in schema, index
    assert f"`{TABLE}`" in schema
    assert re.search(rf"\(`{len(MIGRATIONS)}` in this\s+release\)", schema)
