"""Tests for structlogx.records: action names, descriptions, entries and log_action."""

from __future__ import annotations

import datetime as dt
import decimal
import inspect
import io
import json
import logging
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from structlogx import context
from structlogx.filters import ContextFilter
from structlogx.records import (
    ACTION_MAX_LENGTH,
    CONTEXT_ATTR,
    AuditEntry,
    Described,
    InvalidActionError,
    LoggedObject,
    action_error,
    changed_data,
    describe_actor,
    describe_object,
    entry_from_record,
    log_action,
    validate_action,
)

AUDIT_LOGGER = "structlogx_tests.records.audit"


class Capture(logging.Handler):
    """Keep every record handled, untouched."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def capture() -> Iterator[Callable[[str], list[logging.LogRecord]]]:
    """Return ``attach(logger_name) -> records``; detaches and restores the loggers after."""
    attached: list[tuple[logging.Logger, Capture, int, bool]] = []

    def attach(name: str) -> list[logging.LogRecord]:
        logger = logging.getLogger(name)
        handler = Capture()
        attached.append((logger, handler, logger.level, logger.propagate))
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
        logger.propagate = False
        return handler.records

    yield attach
    for logger, handler, level, propagate in reversed(attached):
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate


@pytest.fixture
def records(capture: Callable[[str], list[logging.LogRecord]]) -> list[logging.LogRecord]:
    return capture(AUDIT_LOGGER)


def next_line() -> int:
    """The line number of the caller's next line."""
    frame = inspect.currentframe()
    assert frame is not None
    assert frame.f_back is not None
    return frame.f_back.f_lineno + 1


def assert_points_here(record: logging.LogRecord, function: str, line: int) -> None:
    assert (__file__, function, line) == (record.pathname, record.funcName, record.lineno)


# -- objects to describe ---------------------------------------------------------------------


class User:
    def __init__(self, pk: object, name: str) -> None:
        self.pk = pk
        self.name = name

    def __str__(self) -> str:
        return self.name


class Row:
    def __init__(self, ident: object) -> None:
        self.id = ident

    def __str__(self) -> str:
        return f"row {self.id}"


class DjangoModel:
    _meta = SimpleNamespace(label="shop.Order")

    def __init__(self, pk: int) -> None:
        self.pk = pk

    def __str__(self) -> str:
        return f"Order #{self.pk}"


class BadStr:
    pk = 9

    def __str__(self) -> str:
        raise RuntimeError("str exploded")

    def __repr__(self) -> str:
        return "<BadStr 9>"


class FailingPk:
    """A ``pk`` property that fails (a deferred field whose database is gone): ``id`` serves."""

    id = 3

    @property
    def pk(self) -> int:
        raise RuntimeError("db gone")

    def __str__(self) -> str:
        return "failing pk"


class Anonymous:
    """Neither ``pk`` nor ``id``: described by its type and text alone."""

    def __str__(self) -> str:
        return "anonymous"


class Event:
    def __str__(self) -> str:
        return "democon-2024"


class Order(LoggedObject):
    """A pretix-like model using the mixin."""

    def __init__(self, code: str, event: object = None) -> None:
        self.pk = code
        self.event = event

    def __str__(self) -> str:
        return f"Order {self.pk}"

    def get_log_scope(self) -> object:
        return self.event


class Plain(LoggedObject):
    pass


# -- action names ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "action",
    [
        "shop.order",
        "shop.order.canceled",
        "paypal.payment.rejected",
        "a1.b_2.c3_",
        "x" + ".y" * ((ACTION_MAX_LENGTH - 1) // 2),
    ],
)
def test_valid_action_names(action: str) -> None:
    assert action_error(action) is None
    assert action == validate_action(action)


@pytest.mark.parametrize(
    ("action", "rule"),
    [
        (None, "must be a str, not NoneType"),
        (b"shop.order", "must be a str, not bytes"),
        (42, "must be a str, not int"),
        ("", "must not be empty"),
        ("a." + "b" * (ACTION_MAX_LENGTH - 1), f"at most {ACTION_MAX_LENGTH} characters"),
        ("shop", "must be dotted"),
        ("Shop.order", "segment 'Shop' must start with a lower-case letter"),
        ("shop.Order", "segment 'Order' must start with a lower-case letter"),
        ("shop.2order", "segment '2order' must start with a lower-case letter"),
        ("shop..order", "segment '' must start with a lower-case letter"),
        ("shop.order.", "segment '' must start with a lower-case letter"),
        ("shop.or-der", "segment 'or-der'"),
        ("shop.or der", "segment 'or der'"),
        ("shop.ordér", "segment 'ordér'"),
        ("shop._order", "segment '_order'"),
    ],
    ids=repr,
)
def test_action_error_names_the_broken_rule(action: object, rule: str) -> None:
    problem = action_error(action)

    assert problem is not None
    assert rule in problem


@pytest.mark.parametrize("action", ["Shop.Order", "shop", "", 7])
def test_validate_action_raises_invalid_action_error_naming_the_action(action: object) -> None:
    with pytest.raises(InvalidActionError) as caught:
        validate_action(action)

    assert isinstance(caught.value, ValueError)
    assert repr(action) in str(caught.value)
    assert str(action_error(action)) in str(caught.value)


# -- descriptions ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, Described(None, None, None)),
        ("alice", Described(None, "alice", "alice")),
        (42, Described(None, "42", "42")),
        (
            {"type": "auth.User", "id": 7, "text": "Alice"},
            Described("auth.User", "7", "Alice"),
        ),
        ({"id": "k-1"}, Described(None, "k-1", None)),
        (User(5, "alice"), Described(f"{__name__}.User", "5", "alice")),
        (User(0, "root"), Described(f"{__name__}.User", "0", "root")),
        (Row("r-9"), Described(f"{__name__}.Row", "r-9", "row r-9")),
        (DjangoModel(12), Described("shop.Order", "12", "Order #12")),
        (BadStr(), Described(f"{__name__}.BadStr", "9", "<BadStr 9>")),
        (FailingPk(), Described(f"{__name__}.FailingPk", "3", "failing pk")),
        (Anonymous(), Described(f"{__name__}.Anonymous", None, "anonymous")),
    ],
    ids=[
        "none",
        "str",
        "int",
        "mapping",
        "partial-mapping",
        "pk",
        "pk-zero",
        "id",
        "django-meta",
        "str-raises",
        "pk-raises",
        "no-ident",
    ],
)
@pytest.mark.parametrize("describe", [describe_actor, describe_object])
def test_describe(
    describe: Callable[[object], Described], value: object, expected: Described
) -> None:
    assert expected == describe(value)


def test_describe_trims_long_text_to_200_chars() -> None:
    described = describe_actor(User(1, "n" * 500))

    assert len(described.text or "") == 200
    assert described.text == "n" * 199 + "…"


def test_describe_passes_a_described_value_through() -> None:
    value = Described("auth.User", "1", "alice")

    assert value is describe_object(value)


# -- entry_from_record -----------------------------------------------------------------------


def test_entry_from_a_real_logger_call(records: list[logging.LogRecord]) -> None:
    logger = logging.getLogger(AUDIT_LOGGER)

    logger.warning(
        "order %s canceled",
        "ABC12",
        extra={
            "action": "shop.order.canceled",
            "user": User(5, "alice"),
            "object": DjangoModel(12),
            "data": {"total": decimal.Decimal("12.50"), "when": dt.date(2024, 5, 1)},
            "scope": Event(),
        },
    )
    (record,) = records
    entry = entry_from_record(record)

    assert entry.timestamp.tzinfo is not None
    assert dt.timedelta(0) == entry.timestamp.utcoffset()
    assert entry.timestamp == dt.datetime.fromtimestamp(record.created, dt.timezone.utc)
    assert record.created == pytest.approx(entry.timestamp.timestamp(), abs=1e-6)
    assert (entry.action, entry.level, entry.logger, entry.message) == (
        "shop.order.canceled",
        "WARNING",
        AUDIT_LOGGER,
        "order ABC12 canceled",
    )
    assert (f"{__name__}.User", "5", "alice") == (
        entry.actor_type,
        entry.actor_id,
        entry.actor_text,
    )
    assert (
        entry.object_type,
        entry.object_id,
        entry.object_text,
    ) == ("shop.Order", "12", "Order #12")
    assert entry.scope == "democon-2024"
    assert entry.data == {"total": "12.50", "when": "2024-05-01"}


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (None, {}),
        ({}, {}),
        ([1, 2], {"value": [1, 2]}),
        ("just text", {"value": "just text"}),
        (decimal.Decimal("3.10"), {"value": "3.10"}),
        ({1: {2, 1}}, {"1": [1, 2]}),
    ],
    ids=repr,
)
def test_entry_data_is_json_safe_dict(
    records: list[logging.LogRecord], data: object, expected: dict[str, Any]
) -> None:
    logging.getLogger(AUDIT_LOGGER).info("x", extra={"action": "shop.x", "data": data})

    assert expected == entry_from_record(records[0]).data


def test_entry_without_optional_fields(records: list[logging.LogRecord]) -> None:
    log_action(AUDIT_LOGGER, "shop.order.paid")

    entry = entry_from_record(records[0])

    assert (
        entry.actor_type,
        entry.actor_id,
        entry.actor_text,
        entry.object_type,
        entry.object_id,
        entry.object_text,
        entry.scope,
        entry.data,
    ) == (None, None, None, None, None, None, None, {})


def test_entry_context_comes_from_the_record_when_present(
    records: list[logging.LogRecord],
) -> None:
    logger = logging.getLogger(AUDIT_LOGGER)
    context_filter = ContextFilter()
    logger.addFilter(context_filter)
    try:
        with context.bind(request_id="r-1", amount=decimal.Decimal("1.50")):
            log_action(logger, "shop.order.paid")
    finally:
        logger.removeFilter(context_filter)

    with context.bind(request_id="other"):
        entry = entry_from_record(records[0])

    assert entry.context == {"request_id": "r-1", "amount": "1.50"}


def test_entry_context_attribute_wins_even_when_empty(records: list[logging.LogRecord]) -> None:
    with context.isolated():
        log_action(AUDIT_LOGGER, "shop.order.paid")
    records[0].__dict__[CONTEXT_ATTR] = context.current()

    with context.bind(request_id="late"):
        entry = entry_from_record(records[0])

    assert entry.context == {}


def test_entry_context_falls_back_to_the_current_context(
    records: list[logging.LogRecord],
) -> None:
    log_action(AUDIT_LOGGER, "shop.order.paid")

    with context.bind(request_id="r-2", user_agent="curl"):
        entry = entry_from_record(records[0])

    assert entry.context == {"request_id": "r-2", "user_agent": "curl"}


def test_entry_outside_any_bind_has_empty_context(records: list[logging.LogRecord]) -> None:
    log_action(AUDIT_LOGGER, "shop.order.paid")

    with context.isolated():
        entry = entry_from_record(records[0])

    assert entry.context == {}


@pytest.mark.parametrize("action", [None, "Shop.Order", "shop", 12])
def test_entry_from_record_rejects_invalid_action(
    records: list[logging.LogRecord], action: object
) -> None:
    logging.getLogger(AUDIT_LOGGER).info("x", extra={"action": action})

    with pytest.raises(InvalidActionError):
        entry_from_record(records[0])


def test_entry_message_with_bad_format_args_does_not_raise(
    records: list[logging.LogRecord],
) -> None:
    logger = logging.getLogger(AUDIT_LOGGER)
    record = logger.makeRecord(
        AUDIT_LOGGER,
        logging.INFO,
        __file__,
        1,
        "%d items",
        ("many",),
        None,
        extra={"action": "shop.cart.filled"},
    )

    entry = entry_from_record(record)

    assert "'%d items'" in entry.message
    assert "'many'" in entry.message


def test_audit_entry_to_dict_is_json_serialisable(records: list[logging.LogRecord]) -> None:
    with context.bind(request_id="r-3"):
        log_action(
            AUDIT_LOGGER,
            "shop.order.paid",
            user=User(1, "alice"),
            object=DjangoModel(3),
            data={"total": decimal.Decimal("9.99"), "tags": {"b", "a"}},
            scope="democon",
        )
        entry = entry_from_record(records[0])

    as_dict = json.loads(json.dumps(entry.to_dict()))

    assert entry.timestamp.isoformat() == as_dict["timestamp"]
    assert as_dict["data"] == {"total": "9.99", "tags": ["a", "b"]}
    assert as_dict["context"] == {"request_id": "r-3"}
    assert (
        as_dict["action"],
        as_dict["scope"],
        as_dict["visible"],
        as_dict["shredded"],
    ) == ("shop.order.paid", "democon", True, False)


def test_audit_entry_to_dict_does_not_share_data() -> None:
    entry = AuditEntry(timestamp=dt.datetime.now(dt.timezone.utc), action="a.b", data={"k": [1]})

    entry.to_dict()["data"]["k"].append(2)

    assert entry.data == {"k": [1]}


# -- log_action ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        pytest.param(lambda: logging.getLogger(AUDIT_LOGGER), id="logger"),
        pytest.param(lambda: AUDIT_LOGGER, id="name"),
        pytest.param(
            lambda: logging.LoggerAdapter(logging.getLogger(AUDIT_LOGGER), {}), id="adapter"
        ),
    ],
)
def test_log_action_targets_and_caller_location(
    records: list[logging.LogRecord], target: Callable[[], Any]
) -> None:
    logger = target()
    user, order = User(1, "alice"), DjangoModel(2)

    line = next_line()
    log_action(logger, "shop.order.canceled", user=user, object=order, data={"a": 1}, scope="s")

    (record,) = records
    assert_points_here(record, "test_log_action_targets_and_caller_location", line)
    assert (
        record.name,
        record.levelno,
        record.getMessage(),
    ) == (AUDIT_LOGGER, logging.INFO, "shop.order.canceled")
    # The extras must survive every kind of target, adapters included.
    extras = record.__dict__
    assert ("shop.order.canceled", user, order, {"a": 1}, "s") == (
        extras.get("action"),
        extras.get("user"),
        extras.get("object"),
        extras.get("data"),
        extras.get("scope"),
    )


def test_log_action_level_and_message(records: list[logging.LogRecord]) -> None:
    log_action(AUDIT_LOGGER, "shop.order.paid", level=logging.WARNING, message="paid by card")

    (record,) = records
    assert (record.levelno, record.getMessage()) == (logging.WARNING, "paid by card")


def test_log_action_sets_only_the_extras_given(records: list[logging.LogRecord]) -> None:
    log_action(AUDIT_LOGGER, "shop.order.paid", user="alice")

    (record,) = records
    assert record.user == "alice"  # type: ignore[attr-defined]
    for absent in ("object", "data", "scope"):
        assert absent not in record.__dict__


def test_log_action_keeps_empty_but_not_none_data(records: list[logging.LogRecord]) -> None:
    log_action(AUDIT_LOGGER, "shop.order.paid", data={})

    assert records[0].data == {}  # type: ignore[attr-defined]


def test_log_action_respects_the_logger_level(records: list[logging.LogRecord]) -> None:
    logging.getLogger(AUDIT_LOGGER).setLevel(logging.WARNING)

    log_action(AUDIT_LOGGER, "shop.order.paid", level=logging.INFO)

    assert records == []


def test_log_action_stacklevel_counts_from_the_caller(records: list[logging.LogRecord]) -> None:
    def audit_helper() -> None:
        log_action(AUDIT_LOGGER, "shop.order.paid", stacklevel=2)

    line = next_line()
    audit_helper()

    assert_points_here(records[0], "test_log_action_stacklevel_counts_from_the_caller", line)


@pytest.mark.parametrize("action", ["Shop.Order", "", "shop"])
def test_log_action_with_invalid_action_still_reaches_the_handler(
    records: list[logging.LogRecord], action: str
) -> None:
    log_action(AUDIT_LOGGER, action)

    (record,) = records
    assert action == record.action  # type: ignore[attr-defined]


# -- LoggedObject ----------------------------------------------------------------------------


def test_logged_object_pretix_call(capture: Callable[[str], list[logging.LogRecord]]) -> None:
    records = capture(__name__)
    order, user = Order("ABC12"), User(3, "alice")

    line = next_line()
    order.log_action("shop.order.canceled", user=user, data={})

    (record,) = records
    assert_points_here(record, "test_logged_object_pretix_call", line)
    assert (__name__, "shop.order.canceled", "shop.order.canceled") == (
        record.name,
        record.action,  # type: ignore[attr-defined]
        record.getMessage(),
    )
    assert (order, user, {}) == (
        record.object,  # type: ignore[attr-defined]
        record.user,  # type: ignore[attr-defined]
        record.data,  # type: ignore[attr-defined]
    )
    assert "scope" not in record.__dict__


def test_logged_object_positional_arguments_and_scope(
    capture: Callable[[str], list[logging.LogRecord]],
) -> None:
    records = capture(__name__)
    order = Order("XY9", event=Event())

    order.log_action(
        "shop.order.paid", "alice", {"total": decimal.Decimal("12.50")}, level=logging.WARNING
    )

    entry = entry_from_record(records[0])
    assert (
        "democon-2024",
        "alice",
        f"{__name__}.Order",
        "XY9",
        "Order XY9",
        {"total": "12.50"},
        "WARNING",
    ) == (
        entry.scope,
        entry.actor_id,
        entry.object_type,
        entry.object_id,
        entry.object_text,
        entry.data,
        entry.level,
    )


def test_logged_object_default_has_no_scope_and_custom_message(
    capture: Callable[[str], list[logging.LogRecord]],
) -> None:
    records = capture(__name__)

    Plain().log_action("shop.thing.done", message="done it")

    (record,) = records
    assert record.getMessage() == "done it"
    assert "scope" not in record.__dict__


def test_logged_object_invalid_action_still_reaches_the_handler(
    capture: Callable[[str], list[logging.LogRecord]],
) -> None:
    records = capture(__name__)

    Order("A").log_action("Not Valid")

    assert [record.action for record in records] == ["Not Valid"]  # type: ignore[attr-defined]


# -- changed_data ----------------------------------------------------------------------------


class Upload:
    """A Django UploadedFile look-alike: read() and name."""

    name = "receipt.pdf"

    def read(self) -> bytes:
        raise AssertionError("the content must never be read")


def test_changed_data_from_mapping() -> None:
    cleaned = {"email": "a@example.org", "count": 3, "ignored": True}

    assert changed_data(cleaned, ["email", "count", "missing"]) == {
        "email": "a@example.org",
        "count": 3,
        "missing": None,
    }


def test_changed_data_from_object() -> None:
    saved = SimpleNamespace(email="b@example.org", count=0)

    assert changed_data(saved, ("email", "count", "missing")) == {
        "email": "b@example.org",
        "count": 0,
        "missing": None,
    }


def test_changed_data_files_become_their_name(tmp_path: Any) -> None:
    path = tmp_path / "avatar.png"
    path.write_bytes(b"\x89PNG secret pixels")
    named_buffer = io.BytesIO(b"secret")
    named_buffer.name = "buffer.bin"  # type: ignore[attr-defined]

    with path.open("rb") as handle:
        result = changed_data(
            {"avatar": handle, "receipt": Upload(), "buffer": named_buffer, "title": "x"},
            ["avatar", "receipt", "buffer", "title"],
        )

    assert {
        "avatar": str(path),
        "receipt": "receipt.pdf",
        "buffer": "buffer.bin",
        "title": "x",
    } == result


def test_changed_data_object_with_failing_attribute_gives_none() -> None:
    class Broken:
        @property
        def total(self) -> int:
            raise RuntimeError("db gone")

    assert changed_data(Broken(), ["total"]) == {"total": None}


def test_entry_from_record_puts_every_value_in_its_own_field() -> None:
    """entry_from_record builds the entry by position: each field must get its own value."""
    record = logging.LogRecord("shop.orders", logging.WARNING, "f.py", 1, "Order %s", ("X",), None)
    record.action = "shop.order.noted"
    record.user = {"type": "auth.User", "id": "u-1", "text": "Alice"}
    record.object = {"type": "shop.Order", "id": "o-2", "text": "the order"}
    record.scope = "event-3"
    record.data = {"note": "n"}
    record.visible = False
    with context.bind(request_id="r-4"):
        entry = entry_from_record(record)
    assert entry.to_dict() | {"timestamp": None} == {
        "timestamp": None,
        "action": "shop.order.noted",
        "level": "WARNING",
        "logger": "shop.orders",
        "message": "Order X",
        "actor_type": "auth.User",
        "actor_id": "u-1",
        "actor_text": "Alice",
        "object_type": "shop.Order",
        "object_id": "o-2",
        "object_text": "the order",
        "scope": "event-3",
        "data": {"note": "n"},
        "context": {"request_id": "r-4"},
        "visible": False,
        "shredded": False,
        "id": None,
        "prev_hash": None,
        "hash": None,
        "seed": None,
        "shred": None,
    }
    assert entry.timestamp == dt.datetime.fromtimestamp(record.created, dt.timezone.utc)
