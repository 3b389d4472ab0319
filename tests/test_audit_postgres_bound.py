"""Transaction-bound audit writes on psycopg connections: entries go with the business change."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from structlogx.audit.postgres import PostgresStore
from structlogx.handlers import AuditHandler

psycopg = pytest.importorskip("psycopg", reason="PostgreSQL tests need structlogx[postgres]")


@pytest.fixture
def database(pg_store_url: str) -> Iterator[Any]:
    connection = psycopg.connect(pg_store_url)  # not autocommit: psycopg begins transactions
    connection.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, status TEXT)")
    connection.execute("INSERT INTO orders VALUES (1, 'pending')")
    connection.commit()
    yield connection
    connection.close()


@pytest.fixture
def logger() -> Iterator[logging.Logger]:
    log = logging.getLogger(f"structlogx_tests.pgbound.{uuid.uuid4().hex}")
    log.propagate = False
    log.setLevel(logging.INFO)
    yield log
    for handler in list(log.handlers):
        log.removeHandler(handler)
        handler.close()


def pay(connection: Any, logger: logging.Logger) -> None:
    connection.execute("UPDATE orders SET status = 'paid' WHERE id = 1")
    logger.info("Order 1 paid", extra={"action": "shop.order.paid"})


def status(connection: Any) -> str:
    found: str = connection.execute("SELECT status FROM orders").fetchone()[0]
    return found


def test_rollback_drops_the_entry_and_commit_keeps_it(
    database: Any, logger: logging.Logger
) -> None:
    store = PostgresStore.bound(lambda: database)
    logger.addHandler(AuditHandler(store, default_store=False))

    def fail_to_pay() -> None:
        with database.transaction():
            pay(database, logger)
            raise RuntimeError("the bank said no")

    with pytest.raises(RuntimeError):
        fail_to_pay()
    assert status(database) == "pending"
    assert store.count() == 0
    with database.transaction():
        pay(database, logger)
    database.commit()
    assert status(database) == "paid"
    (entry,) = store.query()
    assert entry.id == 1
    report = store.verify()
    assert report.ok
    assert report.checked == 1


def test_an_entry_logged_before_any_change_still_rolls_back(
    database: Any, logger: logging.Logger
) -> None:
    store = PostgresStore.bound(lambda: database)
    logger.addHandler(AuditHandler(store, default_store=False))
    logger.info("Refund started", extra={"action": "shop.order.refund_started"})
    database.execute("UPDATE orders SET status = 'refunded' WHERE id = 1")
    database.rollback()
    assert store.count() == 0
    assert status(database) == "pending"


def test_transactions_of_several_connections_keep_one_chain(
    pg_store_url: str, database: Any, logger: logging.Logger
) -> None:
    local = threading.local()

    def connection() -> Any:
        if not hasattr(local, "connection"):
            local.connection = psycopg.connect(pg_store_url)
        return local.connection

    store = PostgresStore.bound(connection)
    connection().commit()
    logger.addHandler(AuditHandler(store, default_store=False))

    def work() -> None:
        mine = connection()
        for n in range(30):
            pay(mine, logger)
            if n % 3 == 2:
                mine.rollback()  # a failed business change: its entry goes too
            else:
                mine.commit()
        mine.close()

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert store.count() == 4 * 20
    report = store.verify()
    assert report.ok, report
    assert report.checked == 80


def test_bound_refuses_a_connection_object(database: Any) -> None:
    with pytest.raises(TypeError, match="callable"):
        PostgresStore.bound(database)
