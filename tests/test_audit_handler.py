"""Tests for structlogx.handlers.AuditHandler: configuration, the acceptance scenario, bad input,
store failures and the default store."""

from __future__ import annotations

import datetime as dt
import gc
import json
import logging
import logging.config
import time
import uuid
import weakref
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from audit_helpers import (
    BadRepr,
    BadStrUser,
    FailingStore,
    Order,
    StoreDown,
    User,
    sqlite_url,
)

from structlogx import context, display
from structlogx.audit import get_default_store, open_store, set_default_store
from structlogx.audit import store as store_module
from structlogx.audit.memory import MemoryStore
from structlogx.audit.sqlite import SQLiteStore
from structlogx.handlers import AuditHandler, AuditWriteError
from structlogx.jsonsafe import CYCLE_MARKER
from structlogx.records import log_action

SPOOL_NOTE = "structlogx: audit entries spooled to"


@pytest.fixture(autouse=True)
def _keep_default_store() -> Iterator[None]:
    """Every AuditHandler sets the process-wide default store: put the old one back after."""
    saved = list(store_module._default)
    try:
        yield
    finally:
        store_module._default[:] = saved


@pytest.fixture
def raise_exceptions(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ``Handler.handleError`` print, whatever another test left behind."""
    monkeypatch.setattr(logging, "raiseExceptions", True)


@pytest.fixture
def memory_url() -> str:
    return f"memory://handler-{uuid.uuid4().hex}"


@pytest.fixture
def attach() -> Iterator[Callable[[str, logging.Handler], logging.Logger]]:
    """Return ``attach(logger_name, handler)``; restores the logger and closes the handler after."""
    saved: list[tuple[logging.Logger, logging.Handler, tuple[Any, ...]]] = []

    def attach(name: str, handler: logging.Handler) -> logging.Logger:
        logger = logging.getLogger(name)
        saved.append((logger, handler, (logger.level, logger.propagate, logger.disabled)))
        logger.setLevel(logging.DEBUG)
        logger.propagate = False
        logger.disabled = False
        logger.addHandler(handler)
        return logger

    yield attach
    for logger, handler, (level, propagate, disabled) in reversed(saved):
        logger.removeHandler(handler)
        handler.close()
        logger.setLevel(level)
        logger.propagate = propagate
        logger.disabled = disabled


@pytest.fixture
def root_config() -> Iterator[None]:
    """Let a test ``dictConfig`` the root logger; close its handlers and restore the root after."""
    # dictConfig() flushes and closes every live handler in the process first; collect the
    # garbage of earlier tests so only this test's own doing decides whether it passes
    # (test_a_handler_that_failed_to_build_does_not_break_logging_shutdown checks that case).
    gc.collect()
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        yield
    finally:
        for handler in list(root.handlers):
            if handler not in handlers:
                root.removeHandler(handler)
                handler.close()
        for handler in handlers:
            if handler not in root.handlers:
                root.addHandler(handler)
        root.setLevel(level)


@pytest.fixture
def paid_text() -> Iterator[str]:
    """Register a display text for ``shop.order.paid``; unregister it after."""
    display.register("shop.order.paid", "Order paid: {data[amount]}")
    try:
        yield "shop.order.paid"
    finally:
        display.unregister("shop.order.paid")


# -- the acceptance scenario --------------------------------------------------------------------


def test_dictconfig_json_lines_and_audit_entries(
    tmp_path: Path, root_config: None, paid_text: str
) -> None:
    log_file, db = tmp_path / "app.log", tmp_path / "audit.sqlite3"
    logging_config = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "structlogx.formatters.JSONFormatter"}},
        "handlers": {
            "console": {
                "class": "logging.FileHandler",
                "filename": str(log_file),
                "formatter": "json",
            },
            "audit": {"class": "structlogx.handlers.AuditHandler", "store": sqlite_url(db)},
        },
        "root": {"level": "INFO", "handlers": ["console", "audit"]},
    }
    logging.config.dictConfig(logging_config)
    (audit,) = [h for h in logging.getLogger().handlers if isinstance(h, AuditHandler)]
    assert isinstance(audit.store, SQLiteStore)
    assert get_default_store() is audit.store

    logger = logging.getLogger(f"structlogx_tests.shop.{uuid.uuid4().hex}")
    alice, order = User(7, "alice"), Order(42)
    logger.info(
        "order %s canceled",
        order.code,
        extra={"action": "shop.order.canceled", "user": alice, "object": order},
    )
    logger.info("cache warmed in %d ms", 12)
    order.log_action("shop.order.paid", user=alice, data={"amount": Decimal("10.00")})

    lines = [json.loads(line) for line in log_file.read_text("utf-8").splitlines()]
    assert [line["message"] for line in lines] == [
        "order ABC12 canceled",
        "cache warmed in 12 ms",
        "shop.order.paid",
    ]
    assert lines[0]["action"] == "shop.order.canceled"
    assert lines[0]["actor_id"] == "7"
    assert lines[0]["object_id"] == "42"
    assert "action" not in lines[1]
    assert lines[2]["action"] == "shop.order.paid"
    assert lines[2]["data"] == {"amount": "10.00"}

    store = audit.store
    assert store.count() == 2  # the plain record is only a JSON line
    canceled, paid = store.query(action="shop.order.canceled"), order.all_logentries()
    assert [entry.id for entry in paid] == [2, 1]
    assert canceled[0].message == "order ABC12 canceled"
    entry = paid[0]
    assert entry.action == "shop.order.paid"
    assert (entry.actor_type, entry.actor_id, entry.actor_text) == (
        "audit_helpers.User",
        "7",
        "alice",
    )
    assert (entry.object_type, entry.object_id, entry.object_text) == (
        "audit_helpers.Order",
        "42",
        "Order ABC12",
    )
    assert entry.data == {"amount": "10.00"}
    assert entry.logger == "audit_helpers"
    assert entry.level == "INFO"
    assert entry.visible is True
    assert entry.display() == "Order paid: 10.00"
    assert canceled[0].display() == "order ABC12 canceled"  # no registration: the message
    assert order.all_logentries(action="shop.order.paid") == [paid[0]]
    assert Order(43).all_logentries() == []


def test_handler_builds_from_json_dictconfig_with_writer_options(
    tmp_path: Path, root_config: None
) -> None:
    config = json.loads(
        json.dumps(
            {
                "version": 1,
                "disable_existing_loggers": False,
                "handlers": {
                    "audit": {
                        "class": "structlogx.handlers.AuditHandler",
                        "store": sqlite_url(tmp_path / "audit.sqlite3"),
                        "durability": "async",
                        "strength": "crash",
                        "spool_path": str(tmp_path / "spool.jsonl"),
                        "batch_size": 50,
                        "queue_size": 500,
                        "level": "INFO",
                    }
                },
                "root": {"level": "DEBUG", "handlers": ["audit"]},
            }
        )
    )
    logging.config.dictConfig(config)
    (audit,) = logging.getLogger().handlers
    assert isinstance(audit, AuditHandler)
    assert audit.durability == "async"
    assert audit.spool.path == str(tmp_path / "spool.jsonl")
    logger = logging.getLogger(f"structlogx_tests.json.{uuid.uuid4().hex}")
    logger.debug("below the handler level", extra={"action": "shop.order.viewed"})
    logger.info("kept", extra={"action": "shop.order.paid"})
    assert audit.flush(5.0)
    assert [entry.action for entry in audit.store.query()] == ["shop.order.paid"]


# -- visibility ---------------------------------------------------------------------------------


def test_invisible_entries_are_hidden_from_default_queries(
    memory_url: str, attach: Callable[[str, logging.Handler], logging.Logger]
) -> None:
    handler = AuditHandler(memory_url)
    logger = attach(f"structlogx_tests.visible.{uuid.uuid4().hex}", handler)
    attach("audit_helpers", handler)
    order = Order(42)
    logger.info("shown", extra={"action": "shop.order.paid", "object": order})
    logger.info("hidden", extra={"action": "shop.order.checked", "object": order, "visible": False})
    order.log_action("shop.order.synced", visible=False)
    log_action(logger, "shop.order.exported", object=order, visible=False)
    store = handler.store
    assert [entry.action for entry in store.query()] == ["shop.order.paid"]
    assert [entry.action for entry in order.all_logentries()] == ["shop.order.paid"]
    assert [entry.action for entry in order.all_logentries(visible=None)] == [
        "shop.order.exported",
        "shop.order.synced",
        "shop.order.checked",
        "shop.order.paid",
    ]
    assert [entry.action for entry in store.query(visible=False)] == [
        "shop.order.exported",
        "shop.order.synced",
        "shop.order.checked",
    ]
    assert store.count() == 1
    assert store.count(visible=None) == 4


# -- bad input ----------------------------------------------------------------------------------


class ListHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_invalid_action_reaches_technical_handlers_and_handle_error(
    tmp_path: Path,
    memory_url: str,
    attach: Callable[[str, logging.Handler], logging.Logger],
    raise_exceptions: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # handlers.py: "A record whose entry cannot be built (an invalid action name) is reported
    # through handleError with the reason; the technical outputs still get it."
    technical = ListHandler()
    audit = AuditHandler(memory_url, spool_path=str(tmp_path / "spool.jsonl"))
    name = f"structlogx_tests.invalid.{uuid.uuid4().hex}"
    logger = attach(name, technical)
    logger.addHandler(audit)
    try:
        logger.info("bad", extra={"action": "Bad Action!"})
        log_action(logger, "shop")
    finally:
        logger.removeHandler(audit)
        audit.close()
    assert [record.__dict__["action"] for record in technical.records] == ["Bad Action!", "shop"]
    err = capsys.readouterr().err
    assert err.count("--- Logging error ---") == 2
    assert "invalid action 'Bad Action!'" in err
    assert "invalid action 'shop'" in err
    assert audit.store.count(visible=None) == 0
    assert audit.spool.read() == []


def test_invalid_action_is_silent_without_raise_exceptions(
    memory_url: str,
    attach: Callable[[str, logging.Handler], logging.Logger],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(logging, "raiseExceptions", False)
    handler = AuditHandler(memory_url)
    logger = attach(f"structlogx_tests.silent.{uuid.uuid4().hex}", handler)
    logger.info("bad", extra={"action": "Bad Action!"})
    assert capsys.readouterr().err == ""
    assert handler.store.count() == 0


@pytest.mark.parametrize("durability", ["sync", "async"])
def test_unserialisable_data_is_stored_with_markers(
    durability: str,
    memory_url: str,
    attach: Callable[[str, logging.Handler], logging.Logger],
    raise_exceptions: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    handler = AuditHandler(memory_url, durability)
    logger = attach(f"structlogx_tests.unserialisable.{uuid.uuid4().hex}", handler)
    cycle: dict[str, Any] = {"name": "loop"}
    cycle["self"] = cycle
    loop: list[Any] = [1]
    loop.append(loop)
    logger.info(
        "odd data %r",
        BadRepr(),
        extra={
            "action": "shop.order.imported",
            "data": {"bad": BadRepr(), "cycle": cycle, "loop": loop, "when": dt.date(2024, 5, 1)},
            "object": BadRepr(),
            "scope": BadRepr(),
        },
    )
    assert handler.flush(5.0)
    (entry,) = handler.store.query()
    assert entry.data["bad"] == "<unrepresentable audit_helpers.BadRepr>"
    assert entry.data["cycle"] == {"name": "loop", "self": CYCLE_MARKER}
    assert entry.data["loop"] == [1, CYCLE_MARKER]
    assert entry.data["when"] == "2024-05-01"
    assert entry.object_type == "audit_helpers.BadRepr"
    assert entry.object_text == "<unrepresentable audit_helpers.BadRepr>"
    assert entry.scope == "<unrepresentable audit_helpers.BadRepr>"
    assert entry.message.startswith("'odd data %r' % ")  # the message could not be formatted
    assert capsys.readouterr().err == ""


def test_an_actor_whose_str_raises_is_stored(
    memory_url: str,
    attach: Callable[[str, logging.Handler], logging.Logger],
    raise_exceptions: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    handler = AuditHandler(memory_url)
    logger = attach(f"structlogx_tests.actor.{uuid.uuid4().hex}", handler)
    logger.info("by a broken user", extra={"action": "shop.order.paid", "user": BadStrUser()})
    (entry,) = handler.store.query(actor="99")
    assert entry.actor_type == "audit_helpers.BadStrUser"
    assert entry.actor_id == "99"
    assert entry.actor_text  # some repr-based text, never an error
    assert capsys.readouterr().err == ""


def test_lone_surrogate_in_data_is_neither_raised_nor_lost(
    tmp_path: Path,
    attach: Callable[[str, logging.Handler], logging.Logger],
    raise_exceptions: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # An undecodable file name (os.fsdecode gives lone surrogates) in an action's data.
    handler = AuditHandler(sqlite_url(tmp_path / "audit.sqlite3"))
    logger = attach(f"structlogx_tests.surrogate.{uuid.uuid4().hex}", handler)
    name = b"report-\xff.txt".decode("utf-8", "surrogateescape")
    logger.info("uploaded", extra={"action": "shop.file.uploaded", "data": {"file": name}})
    err = capsys.readouterr().err
    assert "LOST" not in err
    assert handler.store.count() + len(handler.spool.read()) == 1, err


def test_bound_context_is_captured(
    memory_url: str, attach: Callable[[str, logging.Handler], logging.Logger]
) -> None:
    handler = AuditHandler(memory_url)
    logger = attach(f"structlogx_tests.context.{uuid.uuid4().hex}", handler)
    with context.bind(request_id="r-1", client="198.51.100.7"):
        logger.info("paid", extra={"action": "shop.order.paid"})
    logger.info("paid again", extra={"action": "shop.order.paid"})
    second, first = handler.store.query()
    assert first.context == {"request_id": "r-1", "client": "198.51.100.7"}
    assert second.context == {}


# -- store failures -----------------------------------------------------------------------------


@pytest.mark.parametrize("durability", ["sync", "async"])
def test_a_failing_store_spools_raises_nothing_and_says_so_once(
    durability: str,
    tmp_path: Path,
    attach: Callable[[str, logging.Handler], logging.Logger],
    raise_exceptions: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    store = FailingStore()
    spool_path = tmp_path / "spool.jsonl"
    handler = AuditHandler(store, durability, spool_path=str(spool_path))
    logger = attach(f"structlogx_tests.failing.{uuid.uuid4().hex}", handler)
    for k in range(3):
        logger.info("paid %d", k, extra={"action": "shop.order.paid", "data": {"k": k}})
    assert handler.flush(5.0)
    assert store.calls >= 1
    spooled = handler.spool.read()
    assert [(item["action"], item["data"]) for item in spooled] == [
        ("shop.order.paid", {"k": 0}),
        ("shop.order.paid", {"k": 1}),
        ("shop.order.paid", {"k": 2}),
    ]
    assert spooled[0]["message"] == "paid 0"
    assert handler.spool.path == str(spool_path)
    assert store.count() == 0
    err = capsys.readouterr().err
    assert err.count(SPOOL_NOTE) == 1, err
    assert str(spool_path) in err
    assert "--- Logging error ---" not in err


def test_strict_raises_store_errors_into_the_application(
    tmp_path: Path,
    attach: Callable[[str, logging.Handler], logging.Logger],
    capsys: pytest.CaptureFixture[str],
) -> None:
    handler = AuditHandler(FailingStore(), strict=True, spool_path=str(tmp_path / "spool.jsonl"))
    logger = attach(f"structlogx_tests.strict.{uuid.uuid4().hex}", handler)
    with pytest.raises(AuditWriteError, match=r"shop\.order\.paid was not stored") as caught:
        logger.info("paid", extra={"action": "shop.order.paid"})
    assert isinstance(caught.value.__cause__, StoreDown)  # the store's own error, chained
    assert handler.spool.read() == []
    assert SPOOL_NOTE not in capsys.readouterr().err


def test_strict_lets_a_working_store_work(
    memory_url: str, attach: Callable[[str, logging.Handler], logging.Logger]
) -> None:
    handler = AuditHandler(memory_url, strict=True)
    logger = attach(f"structlogx_tests.strict_ok.{uuid.uuid4().hex}", handler)
    logger.info("paid", extra={"action": "shop.order.paid"})
    logger.info("plain")
    assert handler.store.count() == 1


def test_the_default_spool_sits_next_to_the_sqlite_file(tmp_path: Path) -> None:
    db = tmp_path / "audit.sqlite3"
    handler = AuditHandler(sqlite_url(db), default_store=False)
    try:
        assert handler.spool.path == str(db) + ".spool.jsonl"
    finally:
        handler.close()


# -- async --------------------------------------------------------------------------------------


def test_async_flush_commits_and_close_drains_then_spools_later_writes(
    tmp_path: Path,
    attach: Callable[[str, logging.Handler], logging.Logger],
    capsys: pytest.CaptureFixture[str],
) -> None:
    db = tmp_path / "audit.sqlite3"
    handler = AuditHandler(sqlite_url(db), "async", spool_path=str(tmp_path / "spool.jsonl"))
    logger = attach(f"structlogx_tests.async.{uuid.uuid4().hex}", handler)
    for k in range(300):
        logger.info("k=%d", k, extra={"action": "shop.order.paid", "data": {"k": k}})
    assert handler.flush(10.0) is True
    assert handler.store.count() == 300
    for k in range(300, 350):
        logger.info("k=%d", k, extra={"action": "shop.order.paid", "data": {"k": k}})
    handler.close()
    reader = open_store(sqlite_url(db))
    try:
        assert reader.count() == 350
        assert [entry.data["k"] for entry in reader.query(limit=None)] == list(range(349, -1, -1))
    finally:
        reader.close()
    logger.info("late", extra={"action": "shop.order.paid", "data": {"k": "late"}})
    assert [item["data"] for item in handler.spool.read()] == [{"k": "late"}]
    assert "closed" in capsys.readouterr().err


@pytest.mark.parametrize("durability", ["sync", "async"])
def test_flush_after_close_returns_at_once(tmp_path: Path, durability: str) -> None:
    # logging.shutdown() at interpreter exit calls flush() (no timeout), then close(), on
    # every live handler, also on handlers the application or the atexit hook closed.
    handler = AuditHandler(sqlite_url(tmp_path / "audit.sqlite3"), durability)
    handler.emit(logging.makeLogRecord({"msg": "paid", "action": "shop.order.paid"}))
    handler.close()
    started = time.monotonic()
    assert handler.flush(2.0) is True
    assert time.monotonic() - started < 1.0
    handler.close()  # twice is harmless


# -- configuration ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arguments", "error", "message"),
    [
        ({"durability": "later"}, ValueError, "durability must be 'sync' or 'async'"),
        ({"strength": "power"}, ValueError, "strength must be 'fsync' or 'crash'"),
        ({"store": 42}, TypeError, "store must be a URL or a Store"),
        ({"store": "sqllite:///audit.sqlite3"}, ValueError, "did you mean 'sqlite'"),
        ({"batch_size": 10}, TypeError, "unknown option.*batch_size.*max_batch"),
        ({"durability": "async", "max_batch": 10}, TypeError, "max_batch.*batch_size"),
        ({"durability": "async", "queue_size": 0}, ValueError, "queue_size"),
        ({"max_batch": 0}, ValueError, "max_batch"),
    ],
)
def test_bad_configuration_raises_naming_the_option(
    memory_url: str, arguments: dict[str, Any], error: type[Exception], message: str
) -> None:
    arguments.setdefault("store", memory_url)
    with pytest.raises(error, match=message):
        AuditHandler(**arguments)


class _Recorded(AuditHandler):
    """An AuditHandler that remembers itself before its ``__init__`` runs."""

    last: AuditHandler | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        _Recorded.last = self
        super().__init__(*args, **kwargs)


@pytest.mark.parametrize("failure", ["bad option", "missing directory"])
def test_a_handler_that_failed_to_build_does_not_break_logging_shutdown(
    tmp_path: Path, memory_url: str, failure: str, raise_exceptions: None
) -> None:
    # logging.Handler.__init__ registers the handler for logging.shutdown() (run at exit,
    # and by every dictConfig() call); a handler whose __init__ raised afterwards must
    # still survive shutdown's flush() and close(), or it breaks the next dictConfig().
    arguments: dict[str, Any] = (
        {"store": memory_url, "batch_size": 10}
        if failure == "bad option"
        else {"store": sqlite_url(tmp_path / "missing" / "audit.sqlite3")}
    )
    with pytest.raises((TypeError, OSError)):
        _Recorded(**arguments)
    half_built, _Recorded.last = _Recorded.last, None
    assert half_built is not None
    assert not hasattr(half_built, "writer")  # __init__ stopped before building the writer
    reference = weakref.ref(half_built)
    try:
        logging.shutdown([reference])  # what interpreter exit and every dictConfig() do
    except Exception as exc:  # reported below, once nothing keeps the handler alive
        problem: str | None = f"logging.shutdown() raised {type(exc).__name__}: {exc}"
    else:
        problem = None
    # A half-built handler left alive would break the dictConfig() calls of later tests.
    del half_built
    gc.collect()
    assert reference() is None
    assert problem is None, problem


# -- the default store --------------------------------------------------------------------------


def test_the_default_store_is_the_last_configured_handlers(tmp_path: Path, memory_url: str) -> None:
    first = AuditHandler(memory_url)
    second = AuditHandler(sqlite_url(tmp_path / "audit.sqlite3"))
    quiet = AuditHandler(f"{memory_url}-quiet", default_store=False)
    try:
        assert get_default_store() is second.store
        assert get_default_store() is not first.store
        assert get_default_store() is not quiet.store
    finally:
        for handler in (first, second, quiet):
            handler.close()


def test_set_default_store_by_url_or_object(memory_url: str) -> None:
    by_url = set_default_store(memory_url)
    assert isinstance(by_url, MemoryStore)
    assert get_default_store() is by_url
    assert by_url is open_store(memory_url)
    by_url.append([])
    other = MemoryStore()
    assert set_default_store(other) is other
    assert get_default_store() is other
    order = Order(1)
    assert order.all_logentries() == []


def test_all_logentries_reads_the_default_store(
    memory_url: str, attach: Callable[[str, logging.Handler], logging.Logger]
) -> None:
    handler = AuditHandler(memory_url, default_store=False)
    attach("audit_helpers", handler)
    Order(5).log_action("shop.order.paid", data={"amount": Decimal("1.50")})
    set_default_store(memory_url)
    (entry,) = Order(5).all_logentries()
    assert entry.data == {"amount": "1.50"}


def test_without_any_default_store_a_lookup_error_says_what_to_do() -> None:
    store_module._default.clear()
    with pytest.raises(LookupError, match="configure an AuditHandler or call"):
        get_default_store()
    with pytest.raises(LookupError):
        Order(1).all_logentries()
