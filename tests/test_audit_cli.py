"""Tests for ``structlogx audit show`` and ``structlogx audit export``: the real command in a
subprocess, against SQLite files written by an AuditHandler or by the demo."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import json
import logging
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from structlogx.audit import open_store
from structlogx.handlers import AuditHandler
from structlogx.records import AuditEntry

T0 = dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.timezone.utc)
TEXTS = """
from structlogx import display

display.register("clitest.order.placed", "The order was placed ({data[total]} EUR).")
display.register("clitest.order.paid", "The order has been marked as paid.")
"""


def run_cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    environment.pop("STRUCTLOGX_AUDIT_STORE", None)
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "structlogx", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        env=environment,
        check=False,
    )


def log(handler: AuditHandler, minutes: int, action: str, **extra: object) -> None:
    """Send one audit record through *handler*, logged *minutes* after T0."""
    record = logging.LogRecord("shop", logging.INFO, __file__, 1, action, (), None)
    record.created = (T0 + dt.timedelta(minutes=minutes)).timestamp()
    record.__dict__.update(action=action, **extra)
    handler.handle(record)


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    """A directory with ``audit.sqlite3`` (five entries, one invisible) and ``texts.py``."""
    handler = AuditHandler(store=f"sqlite:///{tmp_path / 'audit.sqlite3'}", default_store=False)
    alice = {"type": "shop.User", "id": "7", "text": "alice@example.com"}
    bob = {"type": "shop.User", "id": "8", "text": "bob@example.com"}
    order = {"type": "shop.Order", "id": "1042", "text": "Order ABC42"}
    other = {"type": "shop.Order", "id": "1043", "text": "Order XYZ43"}
    try:
        log(handler, 0, "clitest.order.placed", user=alice, object=order, data={"total": "12.50"})
        log(handler, 10, "clitest.order.paid", user=alice, object=order)
        log(handler, 20, "clitest.order.placed", user=bob, object=other, data={"total": "3"})
        log(handler, 30, "clitest.order.note", user=bob, object=other, visible=False)
        log(handler, 40, "clitest.user.login", user=bob, scope="democon")
    finally:
        handler.close()
    (tmp_path / "texts.py").write_text(TEXTS, encoding="utf-8")
    return tmp_path


STORE = "sqlite:///audit.sqlite3"


def table_rows(stdout: str) -> list[list[str]]:
    """Split a table into cells (columns are separated by two spaces or more)."""
    return [re.split(r"\s{2,}", line.strip()) for line in stdout.splitlines()]


# -- show -----------------------------------------------------------------------------------


def test_show_prints_a_table_newest_first_without_invisible_entries(shop: Path) -> None:
    result = run_cli("audit", "show", "--store", STORE, "--import", "texts", cwd=shop)

    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert table_rows(result.stdout) == [
        ["TIME (UTC)", "ACTOR", "WHAT", "OBJECT"],
        ["2026-05-01 12:40:00", "bob@example.com", "clitest.user.login", "-"],
        ["2026-05-01 12:20:00", "bob@example.com", "The order was placed (3 EUR).", "Order XYZ43"],
        ["2026-05-01 12:10:00", "alice@example.com", "The order has been marked as paid.",
         "Order ABC42"],
        ["2026-05-01 12:00:00", "alice@example.com", "The order was placed (12.50 EUR).",
         "Order ABC42"],
    ]  # fmt: skip
    header, *lines = result.stdout.splitlines()
    for title in ("ACTOR", "WHAT", "OBJECT"):  # aligned: every column starts under its title
        column = header.index(title)
        assert all(line[column - 2 : column] == "  " for line in lines)
        assert all(line[column] != " " for line in lines)


def test_show_all_includes_invisible_entries(shop: Path) -> None:
    result = run_cli("audit", "show", "--store", STORE, "--all", cwd=shop)

    assert result.returncode == 0, result.stderr
    assert "clitest.order.note" in result.stdout
    assert len(result.stdout.splitlines()) == 6


def test_show_without_texts_falls_back_to_the_message(shop: Path) -> None:
    result = run_cli("audit", "show", "--store", STORE, cwd=shop)

    assert "clitest.order.paid" in result.stdout
    assert "marked as paid" not in result.stdout


def test_show_json_prints_each_entry_as_to_dict(shop: Path) -> None:
    result = run_cli("audit", "show", "--store", STORE, "--json", "--all", cwd=shop)

    assert result.returncode == 0, result.stderr
    printed = [json.loads(line) for line in result.stdout.splitlines()]
    store = open_store(f"sqlite:///{shop / 'audit.sqlite3'}")
    try:
        expected = [found.to_dict() for found in store.query(visible=None)]
    finally:
        store.close()
    assert printed == expected
    assert [item["id"] for item in printed] == [5, 4, 3, 2, 1]


@pytest.mark.parametrize(
    ("options", "ids"),
    [
        (["--object", "shop.Order:1042"], [2, 1]),
        (["--action", "clitest.order.*"], [3, 2, 1]),
        (["--action", "clitest.order.paid"], [2]),
        (["--actor", "8"], [5, 3]),
        (["--actor", "8", "--all"], [5, 4, 3]),
        (["--scope", "democon"], [5]),
        (["--since", "2026-05-01T12:10:00Z"], [5, 3, 2]),
        (["--until", "2026-05-01T12:10:00+00:00"], [1]),
        (["--since", "2026-05-01 14:05+02:00", "--until", "2026-05-01T12:40"], [3, 2]),
        (["--since", "2026-05-02"], []),
        (["--limit", "2"], [5, 3]),
        (["--limit", "0"], [5, 3, 2, 1]),
    ],
)
def test_show_filters(shop: Path, options: list[str], ids: list[int]) -> None:
    result = run_cli("audit", "show", "--store", STORE, "--json", *options, cwd=shop)

    assert result.returncode == 0, result.stderr
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == ids


def test_show_says_when_the_limit_hides_entries(shop: Path) -> None:
    result = run_cli("audit", "show", "--store", STORE, "--limit", "2", cwd=shop)

    assert len(result.stdout.splitlines()) == 3
    assert result.stderr == (
        "structlogx audit show: showing the newest 2; more match"
        " (use --limit N, or --limit 0 for all)\n"
    )
    exact = run_cli("audit", "show", "--store", STORE, "--limit", "4", cwd=shop)
    assert exact.stderr == ""


def test_show_with_no_match(shop: Path) -> None:
    result = run_cli("audit", "show", "--store", STORE, "--actor", "nobody", cwd=shop)

    assert result.returncode == 0
    assert result.stdout == "No matching audit entries.\n"
    quiet = run_cli("audit", "show", "--store", STORE, "--actor", "nobody", "--json", cwd=shop)
    assert quiet.stdout == ""


def test_store_from_the_environment(shop: Path) -> None:
    result = run_cli("audit", "show", "--json", cwd=shop, env={"STRUCTLOGX_AUDIT_STORE": STORE})

    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 4


def test_show_replaces_control_characters(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'audit.sqlite3'}")
    try:
        store.append(
            [AuditEntry(T0, "clitest.x.y", actor_text="evil\x1b[2J\nname", message="a\tb")]
        )
    finally:
        store.close()

    result = run_cli("audit", "show", "--store", STORE, cwd=tmp_path)

    assert "\x1b" not in result.stdout
    assert "evil?[2J name" in result.stdout
    assert "a b" in result.stdout


def test_show_reads_the_trail_the_demo_wrote(tmp_path: Path) -> None:
    demo = run_cli("demo", cwd=tmp_path)
    assert demo.returncode == 0, demo.stderr
    url = f"sqlite:///{tmp_path / 'structlogx-demo' / 'audit.sqlite3'}"
    assert f"structlogx audit show --store {url} --import structlogx._demo" in demo.stdout

    result = run_cli("audit", "show", "--store", url, "--import", "structlogx._demo", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    rows = table_rows(result.stdout)
    assert [row[2] for row in rows[3:]] == [
        "The order has been canceled (customer request).",
        "The order status was changed to paid.",
        "The order has been marked as paid.",
        "The order was placed (12.50 EUR).",
    ]
    assert all(row[1] == "alice@example.com" for row in rows[3:])
    # The demo honoured customer 8's erasure request: shredded, and the shredding recorded.
    assert rows[2][1:3] == ["[shredded]", "The order was placed ([shredded] EUR)."]
    assert rows[1][1] == "privacy@shop.example"
    assert rows[1][2].startswith("Shredded personal data in 1 audit entry")


def test_show_output_into_a_closed_pipe_stops_quietly(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'audit.sqlite3'}")
    try:
        store.append([AuditEntry(T0, "clitest.bulk.entry", actor_text="x" * 30)] * 3000)
    finally:
        store.close()
    environment = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    with subprocess.Popen(
        [sys.executable, "-m", "structlogx", "audit", "show", "--store", STORE, "--limit", "0"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=environment,
    ) as process:
        assert process.stdout is not None
        assert process.stderr is not None
        assert process.stdout.readline().startswith(b"TIME")
        process.stdout.close()  # as `| head -1` does
        stderr = process.stderr.read().decode()
        status = process.wait(timeout=60)
    assert status == 1
    assert stderr == ""


# -- export ---------------------------------------------------------------------------------


def test_export_jsonl(shop: Path) -> None:
    result = run_cli(
        "audit", "export", "--store", STORE, "--format", "jsonl", "--output", "out.jsonl",
        cwd=shop,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    assert result.stdout == "Exported 4 entries to out.jsonl.\n"
    lines = (shop / "out.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["id"] for line in lines] == [5, 3, 2, 1]


def test_export_csv_with_filters(shop: Path) -> None:
    result = run_cli(
        "audit", "export", "--store", STORE, "--format", "csv", "--output", "out.csv",
        "--action", "clitest.order.*", "--all", "--import", "texts", cwd=shop,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    with (shop / "out.csv").open(encoding="utf-8", newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert [row["id"] for row in rows] == ["4", "3", "2", "1"]
    assert rows[2]["display"] == "The order has been marked as paid."
    assert json.loads(rows[3]["data"]) == {"total": "12.50"}
    assert rows[0]["visible"] == "false"


def test_export_html(shop: Path) -> None:
    result = run_cli(
        "audit", "export", "--store", STORE, "--format", "html", "--output", "trail.html",
        "--title", "Shop <audit>", "--import", "texts", cwd=shop,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    page = (shop / "trail.html").read_text(encoding="utf-8")
    assert "<title>Shop &lt;audit&gt;</title>" in page
    assert page.count("<tr data-i=") == 4
    assert "The order has been marked as paid." in page
    assert page.lower().count("<script") == 1


def test_export_to_stdout(shop: Path) -> None:
    result = run_cli(
        "audit", "export", "--store", STORE, "--format", "csv", "--output", "-", "--limit", "1",
        cwd=shop,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    rows = list(csv.reader(io.StringIO(result.stdout, newline="")))
    assert len(rows) == 2
    assert rows[1][2] == "clitest.user.login"


# -- bad input ------------------------------------------------------------------------------

BAD_INPUT = [
    (
        ["--store", "nope:///x"],
        "unknown audit store URL 'nope:///x': the scheme must be one of sqlite://, jsonl://,"
        " memory://",
        2,
    ),
    (["--store", "sqlite:/audit.sqlite3"], "unknown audit store URL 'sqlite:/audit.sqlite3'", 2),
    (
        ["--store", "sqlite://audit.sqlite3"],
        "'sqlite://audit.sqlite3': write sqlite:///relative/path or sqlite:////absolute/path",
        2,
    ),
    (
        ["--store", "memory://shop"],
        "memory://shop: an in-memory store lives only inside the process that writes it",
        2,
    ),
    ([], "no store: pass --store URL or set STRUCTLOGX_AUDIT_STORE", 2),
    (
        ["--store", "sqlite:///missing.sqlite3"],
        "no audit store at missing.sqlite3: the file does not exist",
        1,
    ),
    (["--store", "jsonl:///missing.jsonl"], "no audit store at missing.jsonl", 1),
    (["--store", "sqlite:///texts.py"], "cannot read the audit store texts.py", 1),
    (["--store", "sqlite:///empty.sqlite3"], "empty.sqlite3 holds no audit trail", 1),
    (
        ["--store", STORE, "--since", "yesterday"],
        "bad --since 'yesterday': write an ISO 8601 date or time, e.g. 2026-05-01"
        " or 2026-05-01T13:45:00Z",
        2,
    ),
    (["--store", STORE, "--until", "2026-13-01"], "bad --until '2026-13-01'", 2),
    (
        ["--store", STORE, "--object", "1042"],
        "bad --object '1042': write TYPE:ID, e.g. shop.Order:1042",
        2,
    ),
    (["--store", STORE, "--object", "shop.Order:"], "bad --object 'shop.Order:'", 2),
    (["--store", STORE, "--action", "Shop.*"], "bad --action 'Shop.*': segment 'Shop' must", 2),
    (["--store", STORE, "--action", "shop"], "bad --action 'shop': an action name must be", 2),
    (["--store", STORE, "--limit", "-1"], "bad --limit -1: use 0 (all) or more", 2),
    (["--store", STORE, "--import", "no_such_module"], "cannot import no_such_module", 1),
]


@pytest.mark.parametrize(("options", "message", "status"), BAD_INPUT)
@pytest.mark.parametrize("command", ["show", "export"])
def test_bad_input_is_one_line_and_an_exit_status(
    shop: Path, command: str, options: list[str], message: str, status: int
) -> None:
    with contextlib.closing(sqlite3.connect(shop / "empty.sqlite3")) as connection:
        connection.execute("CREATE TABLE other (x)")  # a database without an audit table
        connection.commit()
    before = sorted(path.name for path in shop.iterdir())
    extra = ["--format", "csv", "--output", "out.csv"] if command == "export" else []

    result = run_cli("audit", command, *options, *extra, cwd=shop)

    assert result.returncode == status
    assert result.stdout == ""
    assert result.stderr.startswith(f"structlogx audit {command}: {message}")
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr
    assert sorted(path.name for path in shop.iterdir()) == before  # nothing created


def test_export_refuses_to_overwrite_the_store(shop: Path) -> None:
    result = run_cli(
        "audit", "export", "--store", STORE, "--format", "jsonl", "--output", "audit.sqlite3",
        cwd=shop,
    )  # fmt: skip

    assert result.returncode == 2
    assert result.stderr == (
        "structlogx audit export: --output audit.sqlite3 is the audit store itself\n"
    )
    store = open_store(f"sqlite:///{shop / 'audit.sqlite3'}")
    try:
        assert store.count(visible=None) == 5
    finally:
        store.close()


def test_export_to_a_missing_directory(shop: Path) -> None:
    result = run_cli(
        "audit", "export", "--store", STORE, "--format", "html", "--output", "no/dir/x.html",
        cwd=shop,
    )  # fmt: skip

    assert result.returncode == 1
    assert result.stderr == (
        "structlogx audit export: cannot write no/dir/x.html: No such file or directory\n"
    )


def test_export_needs_format_and_output(shop: Path) -> None:
    result = run_cli(
        "audit", "export", "--store", STORE, "--format", "xml", "--output", "-", cwd=shop
    )

    assert result.returncode == 2
    assert "argument --format: invalid choice: 'xml'" in result.stderr
    missing = run_cli("audit", "export", "--store", STORE, cwd=shop)
    assert missing.returncode == 2
    assert "the following arguments are required: --format, --output" in missing.stderr


def test_audit_without_a_command_prints_help(tmp_path: Path) -> None:
    result = run_cli("audit", cwd=tmp_path)

    assert result.returncode == 2
    assert "show" in result.stderr
    assert "export" in result.stderr


def test_lone_surrogates_are_written_as_json_escapes(tmp_path: Path) -> None:
    line = (
        '{"timestamp":"2026-05-01T12:00:00+00:00","action":"clitest.x.y","id":1,'
        '"actor_text":"bad \\udc80","data":{"k":"\\udcff"}}\n'
    )
    (tmp_path / "trail.jsonl").write_text(line, encoding="utf-8")
    store = "jsonl:///trail.jsonl"

    shown = run_cli("audit", "show", "--store", store, "--json", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["actor_text"] == "bad \udc80"
    for kind in ("jsonl", "csv", "html"):
        result = run_cli(
            "audit", "export", "--store", store, "--format", kind, "--output", f"out.{kind}",
            cwd=tmp_path,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
    written = (tmp_path / "out.jsonl").read_text(encoding="utf-8")
    assert json.loads(written)["data"] == {"k": "\udcff"}
    assert "bad \\udc80" in (tmp_path / "out.html").read_text(encoding="utf-8")
