"""Tests for the structlogx command line and the demo."""

from __future__ import annotations

import email
import email.policy
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from structlogx import __version__
from structlogx.cli import main


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    return subprocess.run(
        [sys.executable, "-m", "structlogx", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )


def test_demo_writes_json_lines_and_says_where(tmp_path: Path) -> None:
    result = run_cli("demo", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    output = tmp_path / "structlogx-demo" / "demo.jsonl"
    assert str(output) in result.stdout
    entries = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    actions = [entry["action"] for entry in entries if "action" in entry]
    assert actions == [
        "shop.order.placed",
        "shop.order.paid",
        "shop.order.changed",
        "shop.order.canceled",
        "shop.order.placed",  # bob's, outside the bound request
    ]
    assert all(entry["request_id"] == "req-7f3a" for entry in entries[:-1] if "action" in entry)
    assert "request_id" not in entries[-1]
    assert any(entry.get("exception", {}).get("type") == "TimeoutError" for entry in entries)
    placed = entries[1]
    assert placed["data"]["total"] == "12.50"
    assert placed["actor_text"] == "alice@example.com"
    assert "The order has been marked as paid." in result.stdout  # the human text on the console
    assert result.stderr == ""


def test_demo_prints_its_audit_trail_oldest_first(tmp_path: Path) -> None:
    result = run_cli("demo", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    store = tmp_path / "structlogx-demo" / "audit.sqlite3"
    trail = result.stdout.split(f"Audit trail ({store}):\n", 1)[1].split("\n\n", 1)[0]
    rows = [line.split("  ") for line in trail.splitlines()]
    assert [[cell.strip() for cell in row if cell.strip()][1:] for row in rows] == [
        ["ACTOR", "WHAT", "OBJECT"],
        ["alice@example.com", "The order was placed (12.50 EUR).", "Order ABC42"],
        ["alice@example.com", "The order has been marked as paid.", "Order ABC42"],
        ["alice@example.com", "The order status was changed to paid.", "Order ABC42"],
        ["alice@example.com", "The order has been canceled (customer request).", "Order ABC42"],
        ["bob@example.com", "The order was placed (8.00 EUR).", "Order XYZ9"],
    ]
    assert f"audit trail  {store}  (6 entries)" in result.stdout
    url = f"sqlite:///{store}"
    assert f"structlogx audit show --store {url} --import structlogx._demo" in result.stdout
    assert f"structlogx audit verify --store {url}" in result.stdout


def test_demo_verifies_erases_a_customer_and_exports_the_trail(tmp_path: Path) -> None:
    result = run_cli("demo", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Hash chain: OK: 5 entries verified (ids 1 to 5)" in result.stdout
    assert "Erasure request of customer 8: shredded personal data in 1 entry" in result.stdout
    assert "Hash chain after the erasure: OK: 6 entries verified (ids 1 to 6)" in result.stdout
    store = tmp_path / "structlogx-demo" / "audit.sqlite3"
    for name in ("audit.sqlite3", "audit.sqlite3-wal"):
        path = store.with_name(name)
        if path.exists():
            assert b"bob@example.com" not in path.read_bytes()
    page = tmp_path / "structlogx-demo" / "audit.html"
    assert f"html page    {page}" in result.stdout
    text = page.read_text(encoding="utf-8")
    assert "The order has been canceled (customer request)." in text
    assert "bob@example.com" not in text
    assert "structlogx.audit.shredded" in text


def test_demo_starts_a_fresh_trail_each_run(tmp_path: Path) -> None:
    assert run_cli("demo", cwd=tmp_path).returncode == 0
    again = run_cli("demo", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "(6 entries)" in again.stdout


def test_demo_mails_its_error_to_files_and_says_where(tmp_path: Path) -> None:
    assert run_cli("demo", cwd=tmp_path).returncode == 0
    result = run_cli("demo", cwd=tmp_path)  # a second run replaces the first run's mail
    assert result.returncode == 0, result.stderr
    folder = tmp_path / "structlogx-demo" / "mail"
    (mail,) = folder.glob("*.eml")
    assert f"admin mail   {folder}  (1 message)" in result.stdout
    assert str(mail) in result.stdout
    message = email.message_from_bytes(mail.read_bytes(), policy=email.policy.default)
    assert message["Subject"] == "[structlogx] ERROR: Could not send the confirmation for ABC42"
    assert message["To"] == "Shop admin <admin@shop.example>"
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",))
    assert text is not None
    assert "TimeoutError: mail server did not answer" in text.get_content()


def test_demo_notifies_the_shop_owner_of_the_paid_order(tmp_path: Path) -> None:
    assert run_cli("demo", cwd=tmp_path).returncode == 0
    result = run_cli("demo", cwd=tmp_path)  # a second run replaces the first run's mail
    assert result.returncode == 0, result.stderr
    folder = tmp_path / "structlogx-demo" / "notifications"
    (mail,) = folder.glob("*.eml")
    assert f"notification {folder}  (1 message)" in result.stdout
    message = email.message_from_bytes(mail.read_bytes(), policy=email.policy.default)
    assert message["Subject"] == "[Demo shop] Order ABC42 has been marked as paid"
    assert message["To"] == "Shop owner <owner@shop.example>"
    text = message.get_body(("plain",))
    assert text is not None
    assert "Paid with: demo-pay" in text.get_content()
    assert "Customer: alice@example.com" in text.get_content()


def test_demo_dir_option(tmp_path: Path) -> None:
    result = run_cli("demo", "--dir", "out", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out" / "demo.jsonl").is_file()
    assert (tmp_path / "out" / "audit.sqlite3").is_file()


def test_console_script_is_installed(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("structlogx")
    if not script.exists():
        pytest.skip("structlogx is not installed as a console script in this interpreter's bin")
    result = subprocess.run([str(script), "--version"], capture_output=True, text=True, check=False)
    assert result.stdout.strip() == f"structlogx {__version__}"


def test_no_command_prints_help_and_fails(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "demo" in capsys.readouterr().err


def test_unknown_command_is_an_argparse_error() -> None:
    with pytest.raises(SystemExit) as caught:
        main(["nope"])
    assert caught.value.code == 2
