"""SQLite verify with worker processes: the same reports as the one-process pass."""

from __future__ import annotations

import datetime as _dt
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from structlogx.audit import sqlite as sqlite_module
from structlogx.audit.sqlite import TABLE, SQLiteStore
from structlogx.records import AuditEntry

ENTRIES = 2_500


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("verify") / "template.sqlite3"
    store = SQLiteStore(str(path), synchronous="NORMAL")
    moment = _dt.datetime(2026, 12, 1, tzinfo=_dt.timezone.utc)
    for start in range(0, ENTRIES, 500):
        store.append(
            [
                AuditEntry(
                    timestamp=moment + _dt.timedelta(seconds=n),
                    action="shop.order.paid",
                    message=f"Order {n} paid",
                    actor_id=str(n % 7),
                    actor_text="ann@example.com",
                    object_type="shop.Order",
                    object_id=str(n),
                    data={"amount": "10.00", "n": n},
                )
                for n in range(start, start + 500)
            ]
        )
    store.close()
    return path


@pytest.fixture
def store(template: Path, tmp_path: Path) -> Iterator[SQLiteStore]:
    path = tmp_path / "audit.sqlite3"
    path.write_bytes(template.read_bytes())
    opened = SQLiteStore(str(path))
    yield opened
    opened.close()


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sqlite_module, "_CHUNK", 400)  # several chunks per worker


def tamper(store: SQLiteStore, sql: str, *params: object) -> None:
    connection = sqlite3.connect(store.path)
    connection.execute(sql, params)
    connection.commit()
    connection.close()


def both(store: SQLiteStore) -> tuple[str, str]:
    return str(store.verify(workers=0)), str(store.verify(workers=2))


def test_an_intact_chain(store: SQLiteStore) -> None:
    alone, parallel = both(store)
    assert alone == parallel == f"OK: {ENTRIES:,} entries verified (ids 1 to {ENTRIES})"


@pytest.mark.parametrize(
    ("sql", "params", "where"),
    [
        (
            f"UPDATE {TABLE} SET data = replace(data, '10.00', '10.01') WHERE id = ?",
            (1_777,),
            "entry 1777: changed content",
        ),
        (f"DELETE FROM {TABLE} WHERE id = ?", (901,), "entry 901: missing entry"),
        (f"UPDATE {TABLE} SET data = '{{broken' WHERE id = ?", (5,), "entry 5: changed content"),
        (f"UPDATE {TABLE} SET seed = 'zz' WHERE id = ?", (2_400,), "entry 2400: changed content"),
        (f"DELETE FROM {TABLE} WHERE id > ?", (2_497,), "entry 2498: missing entries"),
    ],
)
def test_tampering_is_reported_alike(
    store: SQLiteStore, sql: str, params: tuple[object, ...], where: str
) -> None:
    tamper(store, sql, *params)
    alone, parallel = both(store)
    assert alone == parallel
    assert where in parallel


def test_workers_that_cannot_run_fall_back_to_one_process(
    store: SQLiteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_submit(self: object) -> None:
        pool = self._pool  # type: ignore[attr-defined]
        start = next(self._starts, None)  # type: ignore[attr-defined]
        if start is not None:
            self._pending[start] = pool.submit(sys.exit, 3)  # type: ignore[attr-defined]

    monkeypatch.setattr(sqlite_module._ParallelDigests, "_submit", broken_submit)
    tamper(store, f"UPDATE {TABLE} SET message = 'x' WHERE id = ?", 1_234)
    report = store.verify(workers=2)
    assert str(report) == str(store.verify(workers=0))
    assert report.problem is not None
    assert report.problem.id == 1_234
