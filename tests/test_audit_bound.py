"""Transaction-bound audit writes: entries commit or roll back with the business change."""

from __future__ import annotations

import logging
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from structlogx.audit.sqlite import SQLiteStore
from structlogx.handlers import AuditHandler, AuditWriteError


@pytest.fixture
def database(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    connection = sqlite3.connect(tmp_path / "shop.sqlite3", check_same_thread=False)
    connection.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, status TEXT)")
    connection.execute("INSERT INTO orders VALUES (1, 'pending')")
    connection.commit()
    yield connection
    connection.close()


@pytest.fixture
def logger() -> Iterator[logging.Logger]:
    log = logging.getLogger(f"structlogx_tests.bound.{uuid.uuid4().hex}")
    log.propagate = False
    log.setLevel(logging.INFO)
    yield log
    for handler in list(log.handlers):
        log.removeHandler(handler)
        handler.close()


def pay(connection: sqlite3.Connection, logger: logging.Logger, order: int) -> None:
    connection.execute("UPDATE orders SET status = 'paid' WHERE id = ?", (order,))
    logger.info(
        "Order %s paid",
        order,
        extra={"action": "shop.order.paid", "object": {"type": "shop.Order", "id": order}},
    )


def test_commit_keeps_the_entry_and_rollback_drops_it(
    database: sqlite3.Connection, logger: logging.Logger
) -> None:
    store = SQLiteStore.bound(lambda: database)
    logger.addHandler(AuditHandler(store, default_store=False))

    def fail_to_pay() -> None:
        with database:  # the business transaction
            pay(database, logger, 1)
            raise RuntimeError("the payment provider said no")

    with pytest.raises(RuntimeError):
        fail_to_pay()
    assert database.execute("SELECT status FROM orders").fetchone() == ("pending",)
    assert store.count() == 0
    assert store.verify().ok
    with database:
        pay(database, logger, 1)
    assert database.execute("SELECT status FROM orders").fetchone() == ("paid",)
    (entry,) = store.query()
    assert (entry.action, entry.object_id, entry.id) == ("shop.order.paid", "1", 1)
    report = store.verify()
    assert report.ok
    assert report.checked == 1


def test_the_entry_is_not_committed_before_the_application_commits(
    tmp_path: Path, database: sqlite3.Connection, logger: logging.Logger
) -> None:
    store = SQLiteStore.bound(lambda: database)
    logger.addHandler(AuditHandler(store, default_store=False))
    database.commit()  # the schema, created inside the application's transaction
    pay(database, logger, 1)
    other = sqlite3.connect(tmp_path / "shop.sqlite3")
    try:
        assert other.execute("SELECT count(*) FROM structlogx_audit_entry").fetchone() == (0,)
        database.commit()
        assert other.execute("SELECT count(*) FROM structlogx_audit_entry").fetchone() == (1,)
    finally:
        other.close()


def test_threads_with_their_own_connections_keep_one_chain(
    tmp_path: Path, database: sqlite3.Connection, logger: logging.Logger
) -> None:
    local = threading.local()

    def connection() -> sqlite3.Connection:
        if not hasattr(local, "connection"):
            local.connection = sqlite3.connect(tmp_path / "shop.sqlite3", timeout=30)
        found: sqlite3.Connection = local.connection
        return found

    store = SQLiteStore.bound(connection)
    connection().commit()
    logger.addHandler(AuditHandler(store, default_store=False))

    def work() -> None:
        mine = connection()
        for n in range(50):
            with mine:
                pay(mine, logger, 1)
                if n % 5 == 4:
                    mine.rollback()  # some business changes fail: their entries go too
        mine.close()

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert store.count() == 4 * 40
    report = store.verify()
    assert report.ok, report
    assert report.checked == 160


def test_a_bound_store_refuses_async_and_a_wrong_connection(
    database: sqlite3.Connection,
) -> None:
    store = SQLiteStore.bound(lambda: database)
    with pytest.raises(ValueError, match="durability='sync'"):
        AuditHandler(store, durability="async")
    with pytest.raises(TypeError, match="callable"):
        SQLiteStore.bound(database)  # type: ignore[arg-type]
    broken = SQLiteStore.bound(lambda: database)
    broken._bound = lambda: "not a connection"  # type: ignore[assignment,return-value]
    with pytest.raises(TypeError, match="not a sqlite3 one"):
        broken.count()


def test_a_failed_bound_write_is_reported_not_spooled(
    tmp_path: Path,
    database: sqlite3.Connection,
    logger: logging.Logger,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store = SQLiteStore.bound(lambda: database)
    handler = AuditHandler(store, spool_path=str(tmp_path / "spool.jsonl"), default_store=False)
    logger.addHandler(handler)
    database.execute("DROP TABLE structlogx_audit_state")  # the write will fail
    monkeypatch.setattr(logging, "raiseExceptions", True)
    pay(database, logger, 1)  # no exception into the application
    assert "no such table: structlogx_audit_state" in capsys.readouterr().err
    assert handler.spool.read() == []
    strict = AuditHandler(store, strict=True, default_store=False)
    with pytest.raises(AuditWriteError, match=r"shop\.order\.paid was not stored"):
        strict.handle(
            logger.makeRecord(
                logger.name,
                logging.INFO,
                __file__,
                1,
                "x",
                (),
                None,
                extra={"action": "shop.order.paid"},
            )
        )


def test_an_entry_logged_before_any_change_still_rolls_back(
    database: sqlite3.Connection, logger: logging.Logger
) -> None:
    store = SQLiteStore.bound(lambda: database)
    database.commit()  # the schema
    logger.addHandler(AuditHandler(store, default_store=False))
    logger.info("Refund started", extra={"action": "shop.order.refund_started"})
    assert database.in_transaction  # begun for the entry, as sqlite3 does before a change
    database.execute("UPDATE orders SET status = 'refunded' WHERE id = 1")
    database.rollback()
    assert store.count() == 0
    assert database.execute("SELECT status FROM orders").fetchone() == ("pending",)


def test_an_autocommit_connection_commits_each_entry_at_once(
    tmp_path: Path, logger: logging.Logger
) -> None:
    connection = sqlite3.connect(tmp_path / "auto.sqlite3", isolation_level=None)
    try:
        store = SQLiteStore.bound(lambda: connection)
        logger.addHandler(AuditHandler(store, default_store=False))
        logger.info("x", extra={"action": "shop.order.paid"})
        assert not connection.in_transaction
        other = sqlite3.connect(tmp_path / "auto.sqlite3")
        assert other.execute("SELECT count(*) FROM structlogx_audit_entry").fetchone() == (1,)
        other.close()
    finally:
        connection.close()
