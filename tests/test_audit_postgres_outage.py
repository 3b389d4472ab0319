"""The database goes away mid-run and comes back: nothing raised, nothing lost, one chain."""

from __future__ import annotations

import logging
import uuid
from pathlib import Path

import pytest
from pg_server import running_postgres_server

from structlogx.handlers import AuditHandler


@pytest.mark.slow
@pytest.mark.parametrize("durability", ["sync", "async"])
def test_a_stopped_server_spools_and_its_restart_replays_in_order(
    tmp_path: Path, durability: str, capfd: pytest.CaptureFixture[str]
) -> None:
    with running_postgres_server() as server:
        url = server.create_database("outage")
        handler = AuditHandler(
            url, durability, spool_path=str(tmp_path / "spool.jsonl"), default_store=False
        )
        logger = logging.getLogger(f"structlogx_tests.outage.{uuid.uuid4().hex}")
        logger.propagate = False
        logger.setLevel(logging.INFO)
        logger.addHandler(handler)

        def log(numbers: range) -> None:
            for n in numbers:  # never an exception into the application
                logger.info("paid %d", n, extra={"action": "shop.order.paid", "data": {"n": n}})
            handler.flush(30)

        try:
            log(range(20))
            server.stop()
            log(range(20, 40))
            assert [line["data"]["n"] for line in handler.spool.read()] == list(range(20, 40))
            server.start()
            log(range(40, 60))
            handler.flush(30)
            entries = list(reversed(handler.store.query(limit=None)))
            numbers = [entry.data["n"] for entry in entries]
            assert sorted(numbers) == list(range(60))  # every entry, once
            spooled = [n for n in numbers if 20 <= n < 40]
            assert spooled == list(range(20, 40))  # replayed in their original order
            assert numbers[:20] == list(range(20))
            assert handler.spool.read() == []
            report = handler.store.verify()
            assert report.ok, report
            assert report.checked == 60
        finally:
            logger.removeHandler(handler)
            handler.close()
    err = capfd.readouterr().err
    assert "audit entries spooled to" in err
    assert "replayed 20 spooled entries" in err
