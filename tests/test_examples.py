"""Every example under ``examples/`` works: each command in ``examples/README.md`` is run as
written (with this interpreter as ``python``) in a copy of the examples, and its output and
files are checked."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shlex
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
README = (EXAMPLES / "README.md").read_text(encoding="utf-8")


def command(example: str) -> str:
    """The one ``sh`` block of the README section about *example* (``script/``, ...)."""
    sections = re.split(r"^## ", README, flags=re.M)
    [section] = [s for s in sections if s.splitlines()[0].endswith(f"(`{example}`)")]
    [block] = re.findall(r"```sh\n(.*?)```", section, re.S)
    return block.strip()


def require(module: str) -> None:
    if importlib.util.find_spec(module) is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{module} is not installed, and CI must run its example")
        pytest.skip(f"{module} is not installed (pip install 'structlogx[test]')")


def run(documented: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Run *documented* in a copy of ``examples/``, ``python`` being this interpreter."""
    shutil.copytree(EXAMPLES, tmp_path / "examples", ignore=shutil.ignore_patterns("__pycache__"))
    python = shlex.quote(sys.executable)
    shell = re.sub(r"(^|&& )python ", lambda m: f"{m.group(1)}{python} ", documented)
    environ = {**os.environ, "PYTHONPATH": str(ROOT / "src"), **env}
    environ.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run(
        shell,
        shell=True,
        cwd=tmp_path,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result


needs_tomllib = pytest.mark.skipif(
    sys.version_info < (3, 11), reason="the script's logging.toml needs tomllib (Python 3.11+)"
)


def json_lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_every_example_has_a_readme_section() -> None:
    assert command("script/") == "cd examples/script && python app.py"
    assert command("flask_app/") == "cd examples/flask_app && python app.py --selftest"
    assert command("django_project/") == (
        "cd examples/django_project && python manage.py migrate && python manage.py demo_order"
    )


@needs_tomllib
def test_script(tmp_path: Path) -> None:
    result = run(command("script/"), tmp_path)
    records = json_lines(result.stdout)
    assert [r["message"] for r in records] == [
        "Payment provider slow: 2.4s",
        "shop.order.placed",
        "shop.order.paid",
    ]
    assert records[1]["data"] == {"total": "12.50"}
    assert records[1]["request_id"] == "script-1"
    assert "#1 alice: The order was placed (12.50 EUR)." in result.stdout
    assert "#2 alice: The order has been marked as paid." in result.stdout
    assert "Hash chain: OK: 2 entries verified" in result.stdout
    trail = tmp_path / "examples" / "script" / "audit.sqlite3"
    assert trail.is_file()


@needs_tomllib
def test_script_level_comes_from_the_environment(tmp_path: Path) -> None:
    result = run(command("script/"), tmp_path, LOG_LEVEL="WARNING")
    assert [r["level"] for r in json_lines(result.stdout)] == ["WARNING"]
    assert "Hash chain: OK: 0 entries" in result.stdout


def test_flask_app(tmp_path: Path) -> None:
    require("flask")
    result = run(command("flask_app/"), tmp_path)
    out = result.stdout
    assert "GET /order/42/pay -> 200 {'order': 42, 'status': 'paid'}" in out
    assert "GET /boom -> 500" in out
    assert "audit: shop.order.paid Order 42 request_id=selftest-1" in out
    assert "Hash chain: OK: 1 entry verified" in out
    requests = [r for r in json_lines(out) if r["logger"] == "structlogx.request"]
    assert [(r["level"], r["message"]) for r in requests] == [
        ("INFO", "OK: /order/42/pay"),
        ("ERROR", "Internal Server Error: /boom"),
    ]
    assert requests[0]["request_id"] == "selftest-1"
    [mail] = (tmp_path / "examples" / "flask_app" / "mail").glob("*.eml")
    text = mail.read_text(encoding="utf-8")
    assert "Subject: [Flask shop] ERROR (EXTERNAL IP): Exception on /boom [GET]" in text
    assert "To: Ops <ops@example.com>" in text
    assert "RuntimeError" in text
    assert "Request Method: GET" in text


def test_django_project(tmp_path: Path) -> None:
    require("django")
    result = run(command("django_project/"), tmp_path)
    out = result.stdout
    assert "Applying structlogx.0001_initial... OK" in out
    assert "Applying shop.0001_initial... OK" in out
    assert "GET /orders/1/pay/ -> 200" in out
    assert "GET /boom/ -> 500" in out
    history = out.split("order.all_logentries(), newest first:")[1].splitlines()[1:3]
    assert history[0].startswith("  #2 ")
    assert history[0].endswith("alice: The order has been marked as paid.  (request demo-pay-1)")
    assert history[1].startswith("  #1 ")
    assert history[1].endswith("bob: The order was placed (12.50 EUR).  (request -)")
    assert "structlogx/logs.html rendered 2 entries on the order page" in out
    assert "Hash chain: OK: 2 entries verified" in out
    project = tmp_path / "examples" / "django_project"
    db = sqlite3.connect(project / "db.sqlite3")
    try:
        rows = db.execute("SELECT action FROM structlogx_logentry ORDER BY id").fetchall()
    finally:
        db.close()
    assert rows == [("shop.order.placed",), ("shop.order.paid",)]
    [mail] = (project / "mail").glob("*.log")
    text = mail.read_text(encoding="utf-8")
    assert "ERROR (EXTERNAL IP): Internal Server Error: /boom/" in text
    assert "boom in a Django view" in text
