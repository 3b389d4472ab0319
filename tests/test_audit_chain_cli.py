"""Tests for ``structlogx audit verify``, ``audit shred`` and ``audit prune``: the real command
in a subprocess, against a SQLite file; the file is tampered with through :mod:`sqlite3`."""

from __future__ import annotations

import datetime as dt
import os
import pty
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from structlogx.audit import chain
from structlogx.audit.sqlite import STATE, TABLE, SQLiteStore
from structlogx.records import AuditEntry

T0 = dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.timezone.utc)
SECRET = "ann.secret@example.com"
STORE = "sqlite:///audit.sqlite3"


def run_cli(*args: str, cwd: Path, stderr: int | None = None) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    environment.pop("STRUCTLOGX_AUDIT_STORE", None)
    return subprocess.run(
        [sys.executable, "-m", "structlogx", "audit", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE if stderr is None else stderr,
        text=True,
        timeout=60,
        env=environment,
        check=False,
    )


def one_line_error(result: subprocess.CompletedProcess[str], command: str) -> str:
    """Return the error line; check it is one line, names the command, and no traceback."""
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"structlogx audit {command}: "), lines[0]
    return lines[0]


def entry(number: int, **fields: object) -> AuditEntry:
    values: dict[str, object] = {
        "timestamp": T0 + dt.timedelta(days=number - 1),
        "action": "shop.order.paid",
        "logger": "shop",
        "message": f"Order {number} paid",
        "actor_type": "shop.User",
        "actor_id": "u-7",
        "actor_text": "alice@example.com",
        "object_type": "shop.Order",
        "object_id": str(number),
        "data": {"amount": "12.50"},
    }
    values.update(fields)
    return AuditEntry(**values)  # type: ignore[arg-type]


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    """A directory with ``audit.sqlite3``: entries 1 to 6, a day apart; Ann's are 2 and 4."""
    ann = {
        "actor_type": "shop.Customer",
        "actor_id": "c-1001",
        "actor_text": SECRET,
        "data": {"email": SECRET, "amount": "3.00"},
    }
    store = SQLiteStore(str(tmp_path / "audit.sqlite3"))
    try:
        store.append([entry(n, **(ann if n in (2, 4) else {})) for n in range(1, 7)])
    finally:
        store.close()
    return tmp_path


def sql(directory: Path, statement: str, *params: object) -> list[tuple[object, ...]]:
    connection = sqlite3.connect(directory / "audit.sqlite3", isolation_level=None)
    try:
        return connection.execute(statement, params).fetchall()
    finally:
        connection.close()


def raw_bytes(directory: Path) -> bytes:
    return b"".join(
        path.read_bytes()
        for path in directory.iterdir()
        if path.name.startswith("audit.sqlite3") and path.is_file()
    )


# -- verify --------------------------------------------------------------------------------------


def test_verify_an_intact_trail(shop: Path) -> None:
    result = run_cli("verify", "--store", STORE, cwd=shop)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == "OK: 6 entries verified (ids 1 to 6)\n"


def test_verify_takes_the_store_from_the_environment(shop: Path) -> None:
    environment = {**os.environ, "STRUCTLOGX_AUDIT_STORE": STORE}
    result = subprocess.run(
        [sys.executable, "-m", "structlogx", "audit", "verify"],
        cwd=shop,
        capture_output=True,
        text=True,
        timeout=60,
        env=environment,
        check=False,
    )
    assert (result.returncode, result.stdout) == (0, "OK: 6 entries verified (ids 1 to 6)\n")


def test_verify_a_tampered_trail_names_the_entry_and_exits_1(shop: Path) -> None:
    sql(shop, f"UPDATE {TABLE} SET data = ? WHERE id = 4", '{"amount":"3.01","email":"x"}')
    result = run_cli("verify", "--store", STORE, cwd=shop)
    assert result.returncode == 1
    assert result.stdout == (
        "FAILED after 4 entries: entry 4: changed content: its hash does not match its content\n"
    )
    assert result.stderr == ""


def test_verify_a_deleted_entry(shop: Path) -> None:
    sql(shop, f"DELETE FROM {TABLE} WHERE id = 3")
    result = run_cli("verify", "--store", STORE, cwd=shop)
    assert result.returncode == 1
    assert result.stdout.startswith("FAILED after 3 entries: entry 3: missing entry:")


def test_verify_a_truncated_tail(shop: Path) -> None:
    sql(shop, f"DELETE FROM {TABLE} WHERE id > 4")
    result = run_cli("verify", "--store", STORE, cwd=shop)
    assert result.returncode == 1
    assert result.stdout.startswith("FAILED after 4 entries: entry 5: missing entries:")


def test_verify_an_entry_whose_json_was_broken_is_a_problem_not_a_traceback(shop: Path) -> None:
    sql(shop, f"UPDATE {TABLE} SET data = ? WHERE id = 4", '{"amount":"3.00"]')
    result = run_cli("verify", "--store", STORE, cwd=shop)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 1
    assert result.stdout.startswith("FAILED after 4 entries: entry 4: changed content")


def test_verify_shows_progress_on_a_terminal_and_clears_it(shop: Path) -> None:
    controller, terminal = pty.openpty()
    try:
        result = run_cli("verify", "--store", STORE, cwd=shop, stderr=terminal)
        os.close(terminal)
        terminal = -1
        shown = b""
        while True:
            try:
                chunk = os.read(controller, 4096)
            except OSError:  # EIO: the terminal side is closed and drained
                break
            if not chunk:
                break
            shown += chunk
    finally:
        if terminal >= 0:
            os.close(terminal)
        os.close(controller)
    assert result.returncode == 0
    assert result.stdout == "OK: 6 entries verified (ids 1 to 6)\n"
    assert b"verified 6 entries..." in shown
    assert shown.endswith(b"\r\x1b[K")


def test_verify_without_a_terminal_shows_no_progress(shop: Path) -> None:
    result = run_cli("verify", "--store", STORE, cwd=shop)
    assert "verified 6 entries..." not in result.stderr


# -- shred ---------------------------------------------------------------------------------------


def test_shred_dry_run_lists_what_would_change_and_changes_nothing(shop: Path) -> None:
    before = sql(shop, f"SELECT * FROM {TABLE} ORDER BY id")
    result = run_cli(
        "shred", "--store", STORE, "--actor", "c-1001", "--reason", "GDPR 17", "--dry-run", cwd=shop
    )
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.splitlines() == [  # no object: object_text is None, nothing to shred
        "entry 2: actor_text, context, data.amount, data.email, message",
        "entry 4: actor_text, context, data.amount, data.email, message",
        "Would shred personal data in 2 entries.",
    ]
    assert sql(shop, f"SELECT * FROM {TABLE} ORDER BY id") == before


def test_shred_by_actor_for_real(shop: Path) -> None:
    assert SECRET.encode() in raw_bytes(shop)
    result = run_cli(
        "shred",
        "--store",
        STORE,
        "--actor",
        "c-1001",
        "--reason",
        "GDPR 17",
        "--by",
        "dpo",
        cwd=shop,
    )
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.splitlines()[-1] == "Shredded personal data in 2 entries."
    assert SECRET.encode() not in raw_bytes(shop)
    rows = sql(shop, f"SELECT id, message, shredded FROM {TABLE} WHERE actor_id = 'c-1001'")
    assert rows == [(2, chain.SHREDDED, 1), (4, chain.SHREDDED, 1)]
    (record,) = sql(shop, f"SELECT action, actor_id, data FROM {TABLE} WHERE id = 7")
    assert record[:2] == ("structlogx.audit.shredded", "dpo")
    assert '"reason":"GDPR 17"' in str(record[2])
    verified = run_cli("verify", "--store", STORE, cwd=shop)
    assert (verified.returncode, verified.stdout) == (0, "OK: 7 entries verified (ids 1 to 7)\n")


def test_shred_by_object_with_fields(shop: Path) -> None:
    result = run_cli(
        "shred",
        "--store",
        STORE,
        "--object",
        "shop.Order:2",
        "--field",
        "data.email",
        "--field",
        "actor_text",
        "--reason",
        "GDPR 17",
        cwd=shop,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "entry 2: actor_text, data.email",
        "Shredded personal data in 1 entry.",
    ]
    ((message, data),) = sql(shop, f"SELECT message, data FROM {TABLE} WHERE id = 2")
    assert message == "Order 2 paid"
    assert data == '{"email":"[shredded]","amount":"3.00"}'
    assert run_cli("verify", "--store", STORE, cwd=shop).returncode == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--reason", "GDPR"], "--object TYPE:ID or --actor ID"),
        (["--actor", "c-1001", "--reason", ""], "reason"),
        (["--actor", "c-1001", "--reason", "GDPR", "--field", "email"], "'email'"),
        (["--object", "shop.Order", "--reason", "GDPR"], "bad --object"),
    ],
)
def test_shred_bad_input_exits_2_with_one_line(shop: Path, args: list[str], message: str) -> None:
    before = sql(shop, f"SELECT * FROM {TABLE} ORDER BY id")
    result = run_cli("shred", "--store", STORE, *args, cwd=shop)
    assert result.returncode == 2
    assert message in one_line_error(result, "shred")
    assert result.stdout == ""
    assert sql(shop, f"SELECT * FROM {TABLE} ORDER BY id") == before


def test_shred_without_a_reason_is_a_usage_error(shop: Path) -> None:
    result = run_cli("shred", "--store", STORE, "--actor", "c-1001", cwd=shop)
    assert result.returncode == 2
    assert "--reason" in result.stderr
    assert "Traceback" not in result.stderr


# -- prune ---------------------------------------------------------------------------------------


def test_prune_dry_run_then_for_real(shop: Path) -> None:
    dry = run_cli("prune", "--store", STORE, "--before", "2026-05-03T12:00Z", "--dry-run", cwd=shop)
    assert (dry.returncode, dry.stderr) == (0, "")
    assert dry.stdout == "Would prune 2 entries; the chain starts after entry 2.\n"
    assert sql(shop, f"SELECT count(*) FROM {TABLE}") == [(6,)]
    result = run_cli(
        "prune",
        "--store",
        STORE,
        "--before",
        "2026-05-03T12:00Z",
        "--reason",
        "two days",
        "--by",
        "ops",
        cwd=shop,
    )
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == "Pruned 2 entries; the chain starts after entry 2.\n"
    assert SECRET.encode() in raw_bytes(shop)  # entry 4 is Ann's and stays
    ids = [row[0] for row in sql(shop, f"SELECT id FROM {TABLE} ORDER BY id")]
    assert ids == [3, 4, 5, 6, 7]
    assert sql(shop, f"SELECT action, actor_id FROM {TABLE} WHERE id = 7") == [
        ("structlogx.audit.pruned", "ops")
    ]
    verified = run_cli("verify", "--store", STORE, cwd=shop)
    assert verified.returncode == 0
    assert verified.stdout == ("OK: 5 entries verified (ids 3 to 7) after the pruning anchor 2\n")
    sql(shop, f"UPDATE {STATE} SET anchor_hash = ?", "0" * 64)
    tampered = run_cli("verify", "--store", STORE, cwd=shop)
    assert tampered.returncode == 1
    assert tampered.stdout.startswith(
        "FAILED after 1 entry after the pruning anchor 2: entry 3: broken link"
    )


def test_prune_of_ann_s_entries_takes_her_values_off_the_disk(shop: Path) -> None:
    result = run_cli("prune", "--store", STORE, "--before", "2026-05-05", cwd=shop)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Pruned 4 entries; the chain starts after entry 4.\n"
    assert SECRET.encode() not in raw_bytes(shop)


def test_prune_with_nothing_to_prune(shop: Path) -> None:
    result = run_cli("prune", "--store", STORE, "--before", "2020-01-01", cwd=shop)
    assert (result.returncode, result.stdout) == (0, "Pruned 0 entries.\n")


@pytest.mark.parametrize("before", ["yesterday", "2026-13-01", ""])
def test_prune_bad_before_exits_2(shop: Path, before: str) -> None:
    result = run_cli("prune", "--store", STORE, "--before", before, cwd=shop)
    assert result.returncode == 2
    assert "bad --before" in one_line_error(result, "prune")
    assert sql(shop, f"SELECT count(*) FROM {TABLE}") == [(6,)]


# -- the store -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["verify"],
        ["shred", "--actor", "c-1001", "--reason", "GDPR"],
        ["prune", "--before", "2026-05-03"],
    ],
)
def test_a_missing_store_exits_1_and_creates_nothing(tmp_path: Path, args: list[str]) -> None:
    result = run_cli(*args, "--store", "sqlite:///missing.sqlite3", cwd=tmp_path)
    assert result.returncode == 1
    assert "no audit store at missing.sqlite3" in one_line_error(result, args[0])
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "args",
    [
        ["verify"],
        ["shred", "--actor", "c-1001", "--reason", "GDPR"],
        ["prune", "--before", "2026-05-03"],
    ],
)
def test_no_store_or_a_memory_store_exits_2(tmp_path: Path, args: list[str]) -> None:
    result = run_cli(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert "no store" in one_line_error(result, args[0])
    result = run_cli(*args, "--store", "memory://x", cwd=tmp_path)
    assert result.returncode == 2
    assert "in-memory store" in one_line_error(result, args[0])


def test_a_file_that_is_not_an_audit_store_exits_1(tmp_path: Path) -> None:
    sqlite3.connect(tmp_path / "other.sqlite3").execute("CREATE TABLE t (x)").connection.close()
    result = run_cli("verify", "--store", "sqlite:///other.sqlite3", cwd=tmp_path)
    assert result.returncode == 1
    assert "holds no audit trail" in one_line_error(result, "verify")
