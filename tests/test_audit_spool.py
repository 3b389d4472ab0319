"""Spool and replay: entries written while the store is down reach it, in order, once it is back."""

from __future__ import annotations

import datetime as _dt
import json
import logging
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from structlogx.audit import open_store
from structlogx.audit.memory import MemoryStore
from structlogx.audit.writer import Spool
from structlogx.handlers import AuditHandler
from structlogx.records import AuditEntry


class FlakyStore(MemoryStore):
    """A memory store that is down while ``down`` is true."""

    def __init__(self) -> None:
        super().__init__()
        self.down = False

    def append(self, entries: Sequence[AuditEntry]) -> list[int]:
        if self.down:
            raise ConnectionError("the audit database is down")
        return super().append(entries)


@pytest.fixture
def logger() -> Iterator[logging.Logger]:
    log = logging.getLogger(f"structlogx_tests.spool.{uuid.uuid4().hex}")
    log.propagate = False
    log.setLevel(logging.INFO)
    yield log
    for handler in list(log.handlers):
        log.removeHandler(handler)
        handler.close()


def entry(n: int) -> AuditEntry:
    return AuditEntry(
        timestamp=_dt.datetime(2026, 12, 1, 8, 0, n, tzinfo=_dt.timezone.utc),
        action="shop.order.paid",
        message=f"order {n}",
        data={"n": n},
    )


def numbers(store: Any) -> list[int]:
    return [found.data["n"] for found in reversed(store.query(limit=None))]


@pytest.mark.parametrize("durability", ["sync", "async"])
def test_entries_spooled_while_the_store_is_down_are_replayed_in_order(
    tmp_path: Path,
    logger: logging.Logger,
    durability: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    store = FlakyStore()
    handler = AuditHandler(store, durability, spool_path=str(tmp_path / "spool.jsonl"))
    logger.addHandler(handler)
    logger.info("up", extra={"action": "shop.order.paid", "data": {"n": 0}})
    handler.flush()
    store.down = True
    for n in range(1, 6):  # no exception reaches the application
        logger.info("down", extra={"action": "shop.order.paid", "data": {"n": n}})
    handler.flush()
    assert [line["data"]["n"] for line in handler.spool.read()] == [1, 2, 3, 4, 5]
    store.down = False
    logger.info("back", extra={"action": "shop.order.paid", "data": {"n": 6}})
    handler.flush()
    assert numbers(store) == [0, 6, 1, 2, 3, 4, 5]  # spooled ones after, in their order
    assert handler.spool.read() == []
    assert not handler.spool.pending
    assert store.verify().ok
    err = capsys.readouterr().err
    assert "audit entries spooled to" in err
    assert "replayed 5 spooled entries" in err


def test_torn_and_garbled_lines_are_reported_by_number_and_the_rest_replays(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "spool.jsonl"
    spool = Spool(str(path))
    spool.write([entry(1), entry(2)], "test")
    with path.open("a", encoding="utf-8") as stream:
        stream.write("this is not JSON\n")
        stream.write(json.dumps({"not": "an entry"}) + "\n")
    spool.write([entry(3)], "test")
    with path.open("a", encoding="utf-8") as stream:
        stream.write(json.dumps(entry(4).to_dict(), default=str)[:40])  # a crash mid-line
    store = MemoryStore()
    report = spool.replay(store)
    assert report.replayed == 3
    assert [number for number, _ in report.bad_lines] == [3, 4, 6]
    assert "cut short" in report.bad_lines[-1][1]
    assert numbers(store) == [1, 2, 3]
    assert not path.exists()
    assert (tmp_path / "spool.jsonl.bad").read_text(encoding="utf-8").count("\n") == 3
    assert "line 3, 4, 6" in capsys.readouterr().err
    assert store.verify().ok


def test_a_replay_that_fails_half_way_keeps_the_rest(tmp_path: Path) -> None:
    spool = Spool(str(tmp_path / "spool.jsonl"))
    spool.write([entry(n) for n in range(1, 8)], "test")

    class BreaksAfterOneBatch(MemoryStore):
        calls = 0

        def append(self, entries: Sequence[AuditEntry]) -> list[int]:
            self.calls += 1
            if self.calls > 1:
                raise ConnectionError("gone again")
            return super().append(entries)

    broken = BreaksAfterOneBatch()
    with pytest.raises(ConnectionError):
        spool.replay(broken, batch_size=3)
    assert numbers(broken) == [1, 2, 3]
    assert spool.pending
    store = MemoryStore()
    assert spool.replay(store).replayed == 4
    assert numbers(store) == [4, 5, 6, 7]
    assert spool.read() == []


def test_replay_across_a_reopened_spool(tmp_path: Path) -> None:
    path = str(tmp_path / "spool.jsonl")
    Spool(path).write([entry(1)], "test")
    again = Spool(path)  # another process, or after a restart
    assert again.pending
    store = MemoryStore()
    assert again.replay(store).replayed == 1
    assert Spool(path).pending is False


def test_lone_surrogates_survive_the_spool(tmp_path: Path) -> None:
    name = b"report-\xff.txt".decode("utf-8", "surrogateescape")
    spool = Spool(str(tmp_path / "spool.jsonl"))
    spool.write(
        [
            AuditEntry(
                timestamp=_dt.datetime.now(_dt.timezone.utc), action="a.b", data={"file": name}
            )
        ],
        "test",
    )
    store = MemoryStore()
    assert spool.replay(store).replayed == 1
    assert store.query()[0].data == {"file": name}


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "structlogx", "audit", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
    )


def test_cli_replay(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'audit.sqlite3'}"
    open_store(url).close()
    nothing = run_cli("replay", "--store", url, cwd=tmp_path)
    assert nothing.returncode == 0, nothing.stderr
    assert "Nothing to replay" in nothing.stdout
    Spool(str(tmp_path / "audit.sqlite3.spool.jsonl")).write([entry(1), entry(2)], "test")
    result = run_cli("replay", "--store", url, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Replayed 2 spooled entries."
    store = open_store(url)
    try:
        assert numbers(store) == [1, 2]
        assert store.verify().ok
    finally:
        store.close()
    memory = run_cli("replay", "--store", "jsonl:///x.jsonl", cwd=tmp_path)
    assert memory.returncode == 0
    assert "Nothing to replay" in memory.stdout
