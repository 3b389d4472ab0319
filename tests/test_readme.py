"""The README's promises: its commands are the ones CI runs, and its example works as shown."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def shell_blocks() -> list[str]:
    return [block.strip() for block in re.findall(r"```sh\n(.*?)```", README, re.S)]


def test_quick_start_has_exactly_two_commands_and_ci_runs_the_test_one() -> None:
    blocks = shell_blocks()
    assert len(blocks) == 2
    demo, tests = blocks
    assert demo.endswith("structlogx demo")
    assert tests.endswith("python -m pytest")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert tests in ci


def test_logging_example_prints_the_documented_line(tmp_path: Path) -> None:
    code = re.search(r"```python\n(.*?)```", README, re.S)
    assert code is not None
    result = subprocess.run(
        [sys.executable, "-c", code.group(1)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=True,
    )
    shown = re.search(r"```json\n(.*?)```", README, re.S)
    assert shown is not None
    expected = json.loads(shown.group(1))
    actual = json.loads(result.stderr)
    assert actual.keys() == expected.keys()
    expected.pop("timestamp")
    actual.pop("timestamp")
    assert actual == expected
