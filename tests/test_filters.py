"""Tests for structlogx.filters."""

from __future__ import annotations

import io
import logging
import threading

from structlogx import context
from structlogx.filters import ContextFilter
from structlogx.records import CONTEXT_ATTR


def make_record(name: str = "shop", **extra: object) -> logging.LogRecord:
    return logging.getLogger(name).makeRecord(
        name, logging.INFO, __file__, 1, "m", None, None, extra=extra
    )


def test_context_filter_snapshots_bound_values_at_filter_time() -> None:
    record = make_record()
    with context.bind(request_id="r-1"):
        assert ContextFilter().filter(record) is True
    assert dict(getattr(record, CONTEXT_ATTR)) == {"request_id": "r-1"}


def test_context_filter_keeps_an_existing_snapshot() -> None:
    record = make_record()
    with context.bind(request_id="first"):
        ContextFilter().filter(record)
    with context.bind(request_id="second"):
        ContextFilter().filter(record)
    assert getattr(record, CONTEXT_ATTR)["request_id"] == "first"


def test_context_filter_as_attributes_feeds_text_formats_without_overwriting_extras() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(request_id)s %(user_id)s %(message)s"))
    handler.addFilter(ContextFilter(as_attributes=True))
    logger = logging.getLogger("ctx.attrs")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    logger.addHandler(handler)
    try:
        with context.bind(request_id="r-2", user_id="bound"):
            logger.info("hello", extra={"user_id": "explicit"})
    finally:
        logger.removeHandler(handler)
    assert stream.getvalue() == "r-2 explicit hello\n"


def test_context_filter_name_restricts_like_logging_filter() -> None:
    only_shop = ContextFilter("shop")
    assert only_shop.filter(make_record("shop.orders")) is True
    assert only_shop.filter(make_record("billing")) is False


def test_context_filter_in_threads_sees_each_threads_own_context() -> None:
    results: dict[str, object] = {}

    def work(name: str) -> None:
        with context.bind(worker=name):
            record = make_record()
            ContextFilter().filter(record)
            results[name] = getattr(record, CONTEXT_ATTR)["worker"]

    threads = [threading.Thread(target=work, args=(f"t{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == {f"t{i}": f"t{i}" for i in range(4)}


def test_context_filter_as_attributes_never_sets_reserved_audit_keys() -> None:
    record = make_record()
    with context.bind(action="shop.x.y", user="mallory", request_id="r-3"):
        ContextFilter(as_attributes=True).filter(record)
    assert record.__dict__.get("request_id") == "r-3"
    assert "action" not in record.__dict__
    assert "user" not in record.__dict__
