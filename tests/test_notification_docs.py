"""The notifications guide's promises: its examples run and print what it shows.

Every ```python block of ``docs/notifications.md`` runs as a script of its own in a fresh
directory (a subprocess: logging configuration, registries and threads never leak). When a
```text block follows it, the script's stdout must be exactly that text.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

DOC = (Path(__file__).resolve().parent.parent / "docs" / "notifications.md").read_text("utf-8")
BLOCK = re.compile(r"```python\n(.*?)```\n(?:[ \t]*\n)*(?:```text\n(.*?)```)?", re.S)
EXAMPLES = [(match.group(1), match.group(2)) for match in BLOCK.finditer(DOC)]


def test_the_guide_has_examples() -> None:
    assert len(EXAMPLES) >= 5


@pytest.mark.parametrize(
    ("code", "expected"), EXAMPLES, ids=[f"example{i + 1}" for i in range(len(EXAMPLES))]
)
def test_example_runs_as_shown(code: str, expected: str | None, tmp_path: Path) -> None:
    script = tmp_path / "example.py"
    script.write_text(code, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-u", str(script)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=20,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    if expected is not None:
        assert result.stdout == expected
