"""Tests for structlogx.formatters: what a user reads in the output, and that it never breaks."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import logging.config
import logging.handlers
import math
import queue
import re
import sys
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from structlogx import context, display
from structlogx.filters import ContextFilter
from structlogx.formatters import (
    ECS_VERSION,
    ActionFormatter,
    JSONFormatter,
    LogfmtFormatter,
    otel_severity_number,
)
from structlogx.jsonsafe import MAX_STRING


class User:
    def __init__(self, pk: int, name: str) -> None:
        self.pk = pk
        self.name = name

    def __str__(self) -> str:
        return self.name


class Order:
    def __init__(self, pk: int, code: str) -> None:
        self.pk = pk
        self.code = code

    def __str__(self) -> str:
        return f"Order {self.code}"


class BadRepr:
    def __repr__(self) -> str:
        raise RuntimeError("no repr for you")

    __str__ = __repr__


def make_record(  # noqa: PLR0917 - mirrors Logger.makeRecord
    msg: object = "hello %s",
    args: Any = ("world",),
    level: int = logging.INFO,
    name: str = "shop",
    exc_info: Any = None,
    extra: dict[str, Any] | None = None,
    sinfo: str | None = None,
) -> logging.LogRecord:
    logger = logging.getLogger(name)
    return logger.makeRecord(name, level, __file__, 10, msg, args, exc_info, "func", extra, sinfo)


def exc_info_of(exc: BaseException) -> Any:
    try:
        raise exc
    except BaseException:
        return sys.exc_info()


def one_json(formatter: logging.Formatter, record: logging.LogRecord) -> dict[str, Any]:
    line = formatter.format(record)
    assert "\n" not in line
    result: dict[str, Any] = json.loads(line)
    return result


# -- the acceptance scenario ---------------------------------------------------------------


def test_dictconfig_json_line_holds_action_actor_object_and_exact_decimal() -> None:
    stream = io.StringIO()
    logging.config.dictConfig(
        {
            "version": 1,
            "disable_existing_loggers": False,
            "formatters": {"j": {"()": "structlogx.formatters.JSONFormatter"}},
            "handlers": {
                "out": {"class": "logging.StreamHandler", "stream": stream, "formatter": "j"}
            },
            "loggers": {"shop": {"handlers": ["out"], "level": "INFO", "propagate": False}},
        }
    )
    try:
        logging.getLogger("shop").info(
            "Order %s canceled",
            "ABC",
            extra={
                "action": "shop.order.canceled",
                "user": User(7, "alice"),
                "object": Order(42, "ABC"),
                "data": {"amount": Decimal("12.50")},
            },
        )
    finally:
        logging.getLogger("shop").handlers.clear()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1
    entry = json.loads(lines[0])
    assert entry["message"] == "Order ABC canceled"
    assert entry["action"] == "shop.order.canceled"
    assert (entry["actor_id"], entry["actor_text"]) == ("7", "alice")
    assert entry["actor_type"].endswith("test_formatters.User")
    assert (entry["object_id"], entry["object_text"]) == ("42", "Order ABC")
    assert entry["data"] == {"amount": "12.50"}


def test_dictconfig_class_form_takes_fmt_fields() -> None:
    stream = io.StringIO()
    logging.config.dictConfig(
        {
            "version": 1,
            "disable_existing_loggers": False,
            "formatters": {
                "j": {
                    "class": "structlogx.formatters.JSONFormatter",
                    "format": "%(process)d %(funcName)s %(message)s",
                }
            },
            "handlers": {
                "out": {"class": "logging.StreamHandler", "stream": stream, "formatter": "j"}
            },
            "loggers": {"cls": {"handlers": ["out"], "level": "INFO", "propagate": False}},
        }
    )
    try:
        logging.getLogger("cls").info("hi")
    finally:
        logging.getLogger("cls").handlers.clear()
    entry = json.loads(stream.getvalue())
    assert entry["funcName"] == "test_dictconfig_class_form_takes_fmt_fields"
    assert isinstance(entry["process"], int)
    assert list(entry)[:4] == ["timestamp", "level", "logger", "message"]


# -- the plain schema ----------------------------------------------------------------------


def test_core_fields_and_timestamp_format() -> None:
    record = make_record()
    record.created = 1_700_000_000.1239
    entry = one_json(JSONFormatter(), record)
    assert entry == {
        "timestamp": "2023-11-14T22:13:20.123Z",
        "level": "INFO",
        "logger": "shop",
        "message": "hello world",
    }


def test_timestamp_matches_record_time_across_seconds() -> None:
    formatter = JSONFormatter()
    for created in (0.0, 59.999, 60.0, 1_000_000_000.5, 1_700_000_000.001):
        record = make_record()
        record.created = created
        stamp = one_json(formatter, record)["timestamp"]
        expected = dt.datetime.fromtimestamp(created, dt.timezone.utc)
        assert (
            stamp
            == expected.strftime("%Y-%m-%dT%H:%M:%S.") + f"{expected.microsecond // 1000:03d}Z"
        )


def test_datefmt_replaces_iso_timestamp() -> None:
    record = make_record()
    formatter = JSONFormatter(datefmt="%Y")
    assert one_json(formatter, record)["timestamp"] == formatter.formatTime(record, "%Y")


def test_extras_context_and_collisions() -> None:
    record = make_record(
        extra={
            "order_total": Decimal("3.10"),
            "_private": 1,
            "level": "shadow",
            "request_id": "own",
        }
    )
    with context.bind(request_id="bound", tenant="acme", message="ctx"):
        entry = one_json(JSONFormatter(), record)
    assert entry["order_total"] == "3.10"
    assert "_private" not in entry
    assert entry["level"] == "INFO"
    assert entry["extra.level"] == "shadow"
    assert entry["request_id"] == "own"  # explicit extra wins over the bound value
    assert entry["tenant"] == "acme"
    assert entry["extra.message"] == "ctx"
    assert entry["message"] == "hello world"


def test_context_captured_by_filter_survives_a_queue_hop() -> None:
    stream = io.StringIO()
    target = logging.StreamHandler(stream)
    target.setFormatter(JSONFormatter())
    q: queue.Queue[logging.LogRecord] = queue.Queue()
    enqueue = logging.handlers.QueueHandler(q)
    enqueue.addFilter(ContextFilter())
    listener = logging.handlers.QueueListener(q, target)
    logger = logging.getLogger("queued")
    logger.propagate = False
    logger.addHandler(enqueue)
    listener.start()
    try:
        with context.bind(request_id="r-9"):
            logger.warning("slow")
    finally:
        listener.stop()
        logger.removeHandler(enqueue)
    entry = json.loads(stream.getvalue())
    assert entry["request_id"] == "r-9"


def test_exception_object_with_cause_chain() -> None:
    try:
        try:
            raise KeyError("inner")
        except KeyError as inner:
            raise ValueError("outer") from inner
    except ValueError:
        info = sys.exc_info()
    record = make_record(exc_info=info)
    exception = one_json(JSONFormatter(), record)["exception"]
    assert exception["type"] == "ValueError"
    assert exception["message"] == "outer"
    assert "Traceback (most recent call last)" in exception["stack"]
    assert "KeyError: 'inner'" in exception["stack"]
    assert exception["chain"] == [{"type": "KeyError", "message": "'inner'", "relation": "cause"}]
    assert record.exc_text == exception["stack"]  # cached like Formatter.format does


def test_exception_implicit_context_and_suppressed_context() -> None:
    try:
        try:
            raise OSError("disk")
        except OSError:
            raise RuntimeError("while handling") from None
    except RuntimeError:
        suppressed = sys.exc_info()
    try:
        try:
            raise OSError("disk")
        except OSError:
            raise RuntimeError("while handling")  # noqa: B904 - implicit context on purpose
    except RuntimeError:
        implicit = sys.exc_info()
    assert "chain" not in one_json(JSONFormatter(), make_record(exc_info=suppressed))["exception"]
    chain = one_json(JSONFormatter(), make_record(exc_info=implicit))["exception"]["chain"]
    assert chain == [{"type": "OSError", "message": "disk", "relation": "context"}]


def test_exception_type_is_qualified_outside_builtins() -> None:
    exception = one_json(
        JSONFormatter(), make_record(exc_info=exc_info_of(json.JSONDecodeError("x", "y", 0)))
    )
    assert exception["exception"]["type"] == "json.decoder.JSONDecodeError"


def test_stack_info() -> None:
    entry = one_json(JSONFormatter(), make_record(sinfo="Stack (most recent call last):\n  here"))
    assert entry["stack_info"].startswith("Stack (most recent call last):")


def test_options_rename_static_fields_exclude() -> None:
    record = make_record(extra={"a": 1, "b": 2})
    formatter = JSONFormatter(
        rename_fields={"message": "msg", "a": "alpha"},
        static_fields={"service": "shop", "b": "static"},
        exclude_fields=["logger"],
    )
    entry = one_json(formatter, record)
    assert entry["msg"] == "hello world"
    assert entry["alpha"] == 1
    assert entry["service"] == "shop"
    assert entry["b"] == 2  # an extra replaces a static field of the same name
    assert "logger" not in entry
    assert "message" not in entry
    only = one_json(JSONFormatter(fields=["message", "level", "missing"]), record)
    assert list(only.items()) == [("message", "hello world"), ("level", "INFO")]


def test_json_default_callable_and_dotted_path() -> None:
    class Money:
        def __init__(self, cents: int) -> None:
            self.cents = cents

    record = make_record(extra={"price": Money(1250)})
    entry = one_json(JSONFormatter(json_default=lambda o: f"{o.cents / 100:.2f}"), record)
    assert entry["price"] == "12.50"
    entry = one_json(
        JSONFormatter(json_default="builtins.str"), make_record(extra={"when": dt.date(2026, 1, 2)})
    )
    assert entry["when"] == "2026-01-02"


def test_json_default_that_raises_falls_back_to_to_jsonable() -> None:
    def broken(value: object) -> object:
        raise RuntimeError("boom")

    entry = one_json(JSONFormatter(json_default=broken), make_record(extra={"d": Decimal("1.5")}))
    assert entry["d"] == "1.5"


def test_ensure_ascii_option_and_utf8_default() -> None:
    record = make_record(msg="café ☕", args=None)
    assert "café ☕" in JSONFormatter().format(record)
    line = JSONFormatter(json_ensure_ascii=True).format(record)
    assert line.isascii()
    assert json.loads(line)["message"] == "café ☕"


@pytest.mark.parametrize(
    ("kwargs", "error", "text"),
    [
        ({"schema": "elastic"}, ValueError, "schema must be one of"),
        ({"rename_fields": ["a"]}, TypeError, "rename_fields must be a mapping"),
        ({"rename_fields": {"a": 1}}, TypeError, "rename_fields['a'] must be a str"),
        ({"static_fields": {1: "x"}}, TypeError, "static_fields keys must be str"),
        ({"fields": "message"}, TypeError, "fields must be a list"),
        ({"exclude_fields": [1]}, TypeError, "exclude_fields must hold str"),
        ({"json_default": 3}, TypeError, "json_default must be callable"),
        ({"json_default": "no.such.module.fn"}, ImportError, "no.such.module.fn"),
    ],
)
def test_bad_configuration_raises_at_construction(
    kwargs: dict[str, Any], error: type, text: str
) -> None:
    with pytest.raises(error) as caught:
        JSONFormatter(**kwargs)
    assert text in str(caught.value)


def test_line_separators_and_surrogates_keep_one_valid_utf8_line() -> None:
    text = "a\u2028b\u2029c\x85d\re\nf"
    line = JSONFormatter().format(make_record(msg=text, args=None, extra={"bad": "\ud800x"}))
    assert len(line.splitlines()) == 1
    line.encode("utf-8")
    entry = json.loads(line)
    assert entry["message"] == text
    assert entry["bad"] == "\ud800x"


def test_nan_cycles_and_huge_strings_still_give_valid_json() -> None:
    cyclic: list[Any] = [1]
    cyclic.append(cyclic)
    record = make_record(extra={"nan": math.nan, "cyc": cyclic, "big": "x" * (MAX_STRING + 10)})
    line = JSONFormatter().format(record)
    entry = json.loads(line)  # json.loads accepts NaN tokens, so check the text too
    assert "NaN" not in line.replace('"NaN"', "")
    assert entry["nan"] == "NaN"
    assert entry["cyc"] == [1, "<cycle>"]
    assert entry["big"].endswith(" chars]")
    assert MAX_STRING - 20 < len(entry["big"]) <= MAX_STRING


def test_bad_format_arguments_do_not_raise() -> None:
    entry = one_json(JSONFormatter(), make_record(msg="%d items", args=("many",)))
    assert "'%d items'" in entry["message"]
    assert "format error" in entry["message"]


def test_unprintable_message_object() -> None:
    entry = one_json(JSONFormatter(), make_record(msg=BadRepr(), args=None))
    assert entry["message"]  # something readable, not an exception
    assert entry["level"] == "INFO"


# -- ECS and OpenTelemetry -----------------------------------------------------------------


def action_record(with_exception: bool = True, **extra: Any) -> logging.LogRecord:
    values = {
        "action": "shop.order.paid",
        "user": User(7, "alice"),
        "object": Order(42, "ABC"),
        "scope": "acme",
        "data": {"amount": Decimal("9.99")},
        "request_id": "r-1",
    }
    values.update(extra)
    exc_info = exc_info_of(ValueError("bad")) if with_exception else None
    return make_record(msg="paid", args=None, level=logging.ERROR, extra=values, exc_info=exc_info)


def test_ecs_field_names() -> None:
    record = action_record()
    entry = one_json(JSONFormatter(schema="ecs"), record)
    assert entry["@timestamp"].endswith("Z")
    assert entry["log.level"] == "error"
    assert entry["log.logger"] == "shop"
    assert entry["message"] == "paid"
    assert entry["ecs.version"] == ECS_VERSION
    assert entry["event.action"] == "shop.order.paid"
    assert entry["user.id"] == "7"
    assert entry["user.name"] == "alice"
    assert entry["error.type"] == "ValueError"
    assert entry["error.message"] == "bad"
    assert entry["error.stack_trace"].startswith("Traceback")
    assert entry["log.origin.file.name"] == record.filename
    assert entry["log.origin.file.line"] == 10
    assert entry["log.origin.function"] == "func"
    assert entry["process.pid"] == record.process
    assert entry["process.thread.id"] == record.thread
    assert entry["process.thread.name"] == record.threadName
    assert entry["structlogx.object.id"] == "42"
    assert entry["structlogx.scope"] == "acme"
    assert entry["structlogx.data"] == {"amount": "9.99"}
    assert entry["request_id"] == "r-1"
    for plain in ("timestamp", "level", "logger", "action", "exception", "actor_id"):
        assert plain not in entry


@pytest.mark.parametrize(
    ("level", "number"),
    [
        (logging.DEBUG, 5),
        (logging.INFO, 9),
        (logging.WARNING, 13),
        (logging.ERROR, 17),
        (logging.CRITICAL, 21),
    ],
)
def test_otel_severity_numbers_for_standard_levels(level: int, number: int) -> None:
    assert otel_severity_number(level) == number
    record = make_record(level=level)
    entry = one_json(JSONFormatter(schema="otel"), record)
    assert entry["SeverityNumber"] == number
    assert entry["SeverityText"] == logging.getLevelName(level)


def test_otel_severity_for_custom_levels_stays_in_range() -> None:
    assert otel_severity_number(25) == 12  # between INFO and WARNING: the top of INFO's range
    assert otel_severity_number(11) == 6
    assert otel_severity_number(5) == 4
    assert otel_severity_number(0) == 1
    assert otel_severity_number(100) == 24
    assert all(1 <= otel_severity_number(level) <= 24 for level in range(-5, 200))


def test_otel_field_names() -> None:
    record = action_record()
    entry = one_json(JSONFormatter(schema="otel"), record)
    assert entry["Timestamp"] == str(int(record.created * 1e9))
    assert entry["Body"] == "paid"
    assert entry["EventName"] == "shop.order.paid"
    assert entry["InstrumentationScope"] == {"Name": "shop"}
    attributes = entry["Attributes"]
    assert attributes["exception.type"] == "ValueError"
    assert attributes["exception.message"] == "bad"
    assert attributes["exception.stacktrace"].startswith("Traceback")
    assert attributes["user.id"] == "7"
    assert attributes["user.name"] == "alice"
    assert attributes["code.function.name"] == "func"
    assert attributes["code.line.number"] == 10
    assert attributes["code.file.path"] == record.pathname
    assert attributes["thread.id"] == record.thread
    assert attributes["thread.name"] == record.threadName
    assert attributes["structlogx.data"] == {"amount": "9.99"}
    assert attributes["request_id"] == "r-1"
    assert set(entry) == {
        "Timestamp",
        "SeverityText",
        "SeverityNumber",
        "Body",
        "InstrumentationScope",
        "EventName",
        "Attributes",
    }


# -- logfmt --------------------------------------------------------------------------------


def parse_logfmt(line: str) -> dict[str, str]:
    """A strict logfmt reader: bare values run to the next space, quoted ones are JSON strings."""
    decoder = json.JSONDecoder()
    pairs: dict[str, str] = {}
    position = 0
    while position < len(line):
        match = re.compile(r'([^\s="]+)=').match(line, position)
        assert match, f"no key at {position}: {line[position : position + 20]!r}"
        key, position = match.group(1), match.end()
        if line.startswith('"', position):
            value, position = decoder.raw_decode(line, position)
        else:
            end = line.find(" ", position)
            end = len(line) if end == -1 else end
            value, position = line[position:end], end
        pairs[key] = value
        if position < len(line):
            assert line[position] == " ", line[position:]
            position += 1
    return pairs


def test_logfmt_line_round_trips() -> None:
    record = make_record(
        msg='said "hi"\nthen left',
        args=None,
        extra={
            "empty": "",
            "flag": True,
            "none": None,
            "n": 3,
            "weird key=x": "v",
            "nested": {"a": {"b": 1}},
            "items": [1, 2],
            "dec": Decimal("12.50"),
        },
    )
    line = LogfmtFormatter().format(record)
    assert len(line.splitlines()) == 1
    pairs = parse_logfmt(line)
    assert pairs["message"] == 'said "hi"\nthen left'
    assert pairs["level"] == "INFO"
    assert pairs["empty"] == ""
    assert pairs["flag"] == "true"
    assert pairs["none"] == "null"
    assert pairs["n"] == "3"
    assert pairs["weird_key_x"] == "v"
    assert pairs["nested.a.b"] == "1"
    assert pairs["items"] == "[1,2]"
    assert pairs["dec"] == "12.50"


def test_logfmt_action_fields_flatten_data() -> None:
    pairs = parse_logfmt(LogfmtFormatter().format(action_record()))
    assert pairs["action"] == "shop.order.paid"
    assert pairs["data.amount"] == "9.99"
    assert pairs["exception.type"] == "ValueError"
    assert pairs["exception.stack"].startswith("Traceback")


# -- ActionFormatter -----------------------------------------------------------------------


@pytest.fixture
def order_texts() -> Any:
    display.register("shop.order.paid", "Order paid: {data[amount]} EUR")
    yield
    display.unregister("shop.order.paid")


@pytest.mark.usefixtures("order_texts")
def test_action_formatter_uses_display_text_and_extra_keys() -> None:
    formatter = ActionFormatter(
        "%(levelname)s %(actor_text)s on %(object_text)s [%(scope)s]: %(message)s"
    )
    record = action_record(with_exception=False)
    assert formatter.format(record) == "ERROR alice on Order ABC [acme]: Order paid: 9.99 EUR"
    plain = make_record()
    assert formatter.format(plain) == "INFO  on  []: hello world"
    assert record.getMessage() == "paid"  # the caller's record is left alone


def test_action_formatter_falls_back_to_message_then_action() -> None:
    formatter = ActionFormatter("%(message)s")
    assert (
        formatter.format(make_record(msg="custom", args=None, extra={"action": "x.unknown"}))
        == "custom"
    )
    assert (
        formatter.format(make_record(msg="", args=None, extra={"action": "x.unknown"}))
        == "x.unknown"
    )


def test_action_formatter_single_line_escapes_line_breaks() -> None:
    record = make_record(
        msg="line1\nline2\r\u2028", args=None, exc_info=exc_info_of(ValueError("v"))
    )
    line = ActionFormatter().format(record)
    assert len(line.splitlines()) == 1
    assert "line1\\nline2\\r\\u2028" in line
    assert "ValueError: v" in line
    multi = ActionFormatter(single_line=False).format(record)
    assert len(multi.splitlines()) > 2


def test_action_formatter_rejects_bad_registry() -> None:
    with pytest.raises(TypeError, match="registry must be a display Registry"):
        ActionFormatter(registry="builtins.dict")


# -- the never-breaks property -------------------------------------------------------------

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=True),
    st.text(),
    st.binary(max_size=20),
    st.datetimes(),
    st.builds(BadRepr),
    st.sampled_from(["\u2028", "\ud800", "\n", "x" * (MAX_STRING + 1)]),
)
keys = st.one_of(st.text(max_size=8), st.integers(), st.none(), st.tuples(st.integers()))
nested = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(keys, children, max_size=4),
        st.frozensets(st.one_of(st.integers(), st.text(max_size=4)), max_size=4),
        st.tuples(children, children),
    ),
    max_leaves=12,
)
extra_names = st.text(min_size=1, max_size=10).filter(
    lambda name: (
        name not in logging.LogRecord("", 0, "", 0, "", (), None).__dict__
        and name not in ("message", "asctime")
    )
)


@st.composite
def records(draw: st.DrawFn) -> logging.LogRecord:
    extra = draw(st.dictionaries(extra_names, nested, max_size=5))
    if draw(st.booleans()):
        extra["action"] = draw(st.sampled_from(["shop.order.paid", "Not Valid", ""]))
        extra["user"] = draw(nested)
        extra["object"] = draw(st.one_of(nested, st.just(Order(1, "X"))))
        extra["data"] = draw(nested)
    if draw(st.booleans()):  # a cycle through the extras
        loop: list[Any] = []
        loop.append(loop)
        extra["loop"] = loop
    msg = draw(st.one_of(st.text(), st.just("%s and %d"), st.builds(BadRepr)))
    args = draw(st.one_of(st.none(), st.tuples(nested)))
    exc = draw(st.sampled_from([None, ValueError("v\nw"), KeyError("\u2028")]))
    record = make_record(
        msg=msg, args=args, extra=extra, exc_info=exc_info_of(exc) if exc else None
    )
    return record


FORMATTERS = [
    JSONFormatter(),
    JSONFormatter(schema="ecs"),
    JSONFormatter(schema="otel"),
    JSONFormatter(json_ensure_ascii=True),
    LogfmtFormatter(),
    ActionFormatter(),
]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(record=records())
def test_every_formatter_gives_one_line_and_json_always_parses(record: logging.LogRecord) -> None:
    for formatter in FORMATTERS:
        line = formatter.format(record)
        assert isinstance(line, str)
        # One line as a handler writes it: no character that splitlines() breaks on.
        assert len((line + "\n").splitlines()) == 1, (type(formatter).__name__, line[:200])
        line.encode("utf-8")
        if isinstance(formatter, JSONFormatter):
            assert isinstance(json.loads(line), dict)
            assert "NaN" not in re.sub(r'"(?:[^"\\]|\\.)*"', '""', line)
            assert "Infinity" not in re.sub(r'"(?:[^"\\]|\\.)*"', '""', line)
        if isinstance(formatter, LogfmtFormatter):
            parse_logfmt(line)


@settings(max_examples=200, deadline=None)
@given(value=st.text(max_size=50), key=st.from_regex(r"[a-z][a-z0-9_]{0,7}", fullmatch=True))
def test_logfmt_and_json_give_string_values_back_exactly(value: str, key: str) -> None:
    if key in logging.LogRecord("", 0, "", 0, "", (), None).__dict__ or key in (
        "message",
        "asctime",
        "action",
        "user",
        "object",
        "data",
        "scope",
        "timestamp",
        "level",
        "logger",
        "exception",
        "stack_info",
    ):
        return
    record = make_record(msg=value, args=None, extra={key: value})
    pairs = parse_logfmt(LogfmtFormatter().format(record))
    assert pairs["message"] == value
    assert pairs[key] == value
    entry = json.loads(JSONFormatter().format(record))
    assert entry["message"] == value
    assert entry[key] == value
