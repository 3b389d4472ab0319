"""Tests for structlogx.filters."""

from __future__ import annotations

import copy
import io
import json
import logging
import logging.config
import os
import re
import signal
import string
import threading
import types
from collections.abc import Callable, Iterator
from typing import Any

import filter_helpers
import pytest
from filter_helpers import ListHandler
from hypothesis import HealthCheck, given
from hypothesis import settings as settings_h
from hypothesis import strategies as st

from structlogx import context
from structlogx.conf import settings
from structlogx.filters import (
    ActionFilter,
    CallbackFilter,
    ContextFilter,
    ExceptionFilter,
    LevelRewriteFilter,
    RateLimitFilter,
    RedactFilter,
    RequireDebugFalse,
    RequireDebugTrue,
)
from structlogx.formatters import JSONFormatter
from structlogx.records import CONTEXT_ATTR
from structlogx.redact import luhn_valid


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


# -- shared helpers -----------------------------------------------------------------------


@pytest.fixture
def wire() -> Iterator[Callable[..., tuple[logging.Logger, ListHandler]]]:
    """Give a fresh non-propagating logger with a ListHandler; undo everything afterwards."""
    made: list[tuple[logging.Logger, list[logging.Handler], list[logging.Filter]]] = []

    def make(
        name: str, *, filters: tuple[logging.Filter, ...] = (), level: int = logging.DEBUG
    ) -> tuple[logging.Logger, ListHandler]:
        logger = logging.getLogger(name)
        logger.setLevel(level)
        logger.propagate = False
        handler = ListHandler()
        logger.addHandler(handler)
        for item in filters:
            logger.addFilter(item)
        made.append((logger, [handler], list(filters)))
        return logger, handler

    yield make
    for logger, handlers, filters in made:
        for handler in handlers + list(logger.handlers):
            logger.removeHandler(handler)
        for item in filters + list(logger.filters):
            logger.removeFilter(item)
        logger.setLevel(logging.NOTSET)
        logger.propagate = True


def json_lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def record_at(level: int, msg: str = "m", name: str = "shop", **extra: object) -> logging.LogRecord:
    return logging.getLogger(name).makeRecord(
        name, level, __file__, 1, msg, None, None, extra=extra
    )


def exc_record(exc: BaseException, name: str = "shop") -> logging.LogRecord:
    return logging.getLogger(name).makeRecord(
        name, logging.ERROR, __file__, 1, "failed", None, (type(exc), exc, exc.__traceback__)
    )


# -- CallbackFilter -----------------------------------------------------------------------


def test_callback_filter_passes_the_record_itself_and_returns_real_bools() -> None:
    seen: list[logging.LogRecord] = []

    def callback(record: logging.LogRecord) -> object:
        seen.append(record)
        return record.msg  # a truthy or falsy str, not a bool

    record, empty = record_at(logging.INFO, "kept"), record_at(logging.INFO, "")
    assert CallbackFilter(callback).filter(record) is True
    assert CallbackFilter(callback).filter(empty) is False
    assert seen[0] is record


def test_callback_filter_takes_a_dotted_path(wire: Any) -> None:
    logger, handler = wire("cb.path", filters=(CallbackFilter("filter_helpers.not_health_check"),))
    logger.info("GET %s", "/health")
    logger.info("GET %s", "/orders")
    assert [r.getMessage() for r in handler.records] == ["GET /orders"]


def test_callback_filter_lets_the_record_pass_when_the_callback_raises_and_reports_once(
    wire: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    logger, handler = wire("cb.broken", filters=(CallbackFilter("filter_helpers.broken_callback"),))
    logger.info("first")
    logger.info("second")
    assert [r.msg for r in handler.records] == ["first", "second"]
    err = capsys.readouterr().err
    assert err.count("CallbackFilter: the callback raised; the record passes") == 1
    assert "RuntimeError: callback bug" in err
    assert "'cb.broken'" in err


def test_callback_filter_stays_quiet_while_raise_exceptions_is_off(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(logging, "raiseExceptions", False)
    assert CallbackFilter(filter_helpers.broken_callback).filter(record_at(logging.INFO)) is True
    assert capsys.readouterr().err == ""


def test_callback_filter_rejects_bad_callbacks_naming_the_parameter() -> None:
    with pytest.raises(TypeError, match="callback must be callable"):
        CallbackFilter(42)  # type: ignore[arg-type]
    with pytest.raises(ImportError, match=r"callback: .*filter_helpers\.nope"):
        CallbackFilter("filter_helpers.nope")


# -- RequireDebugFalse / RequireDebugTrue -------------------------------------------------


@pytest.mark.parametrize("debug", [False, True])
def test_require_debug_filters_return_real_bools(debug: bool) -> None:
    record = record_at(logging.ERROR)
    with settings.override(DEBUG=debug):
        assert RequireDebugFalse().filter(record) is (not debug)
        assert RequireDebugTrue().filter(record) is debug


def test_require_debug_false_reads_the_setting_for_every_record(wire: Any) -> None:
    guard = RequireDebugFalse()
    logger, handler = wire("debug.guard")
    handler.addFilter(guard)
    with settings.override(DEBUG=False):
        logger.error("mailed")
        with settings.override(DEBUG=True):
            logger.error("not mailed")
        logger.error("mailed again")
    assert [r.msg for r in handler.records] == ["mailed", "mailed again"]


def test_require_debug_filters_see_every_kind_of_change_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("STRUCTLOGX_DEBUG", raising=False)
    record = record_at(logging.ERROR)
    guard, debug_only = RequireDebugFalse(), RequireDebugTrue()

    def passes() -> tuple[bool, bool]:
        first = (guard.filter(record), debug_only.filter(record))
        assert (guard.filter(record), debug_only.filter(record)) == first  # now a cached read
        return first

    source = types.SimpleNamespace(DEBUG=True)
    try:
        assert passes() == (True, False)
        monkeypatch.setenv("STRUCTLOGX_DEBUG", "1")
        assert passes() == (False, True)
        monkeypatch.setenv("STRUCTLOGX_DEBUG", "off")
        assert passes() == (True, False)
        monkeypatch.delenv("STRUCTLOGX_DEBUG")
        assert passes() == (True, False)
        settings.set_source(source)
        assert passes() == (False, True)
        source.DEBUG = False
        assert passes() == (True, False)
        settings.set_source(None)
        assert passes() == (True, False)
        settings.configure(DEBUG=True)
        assert passes() == (False, True)
        with settings.override(DEBUG=False):
            assert passes() == (True, False)
        assert passes() == (False, True)
    finally:
        settings.reset()
    assert passes() == (True, False)


# -- ActionFilter ---------------------------------------------------------------------------

ACTION_RECORDS = [
    record_at(logging.INFO, "tech"),
    record_at(logging.INFO, "paid", action="shop.order.paid"),
    record_at(logging.INFO, "shop", action="shop.cart"),
    record_at(logging.INFO, "shopx", action="shopx.order.paid"),
    record_at(logging.INFO, "sent", action="billing.invoice.sent"),
    record_at(logging.INFO, "voided", action="billing.invoice.voided"),
    record_at(logging.INFO, "odd", action=7),
]


def passing(log_filter: logging.Filter) -> list[str]:
    return [str(r.msg) for r in ACTION_RECORDS if log_filter.filter(r) is True]


def test_action_filter_without_patterns_passes_audit_records_only() -> None:
    assert passing(ActionFilter()) == ["paid", "shop", "shopx", "sent", "voided", "odd"]
    assert passing(ActionFilter(invert=True)) == ["tech"]


def test_action_filter_patterns_follow_the_display_rules() -> None:
    selected = ActionFilter(["shop.*", "billing.invoice.sent"])
    assert passing(selected) == ["paid", "shop", "sent"]
    assert passing(ActionFilter("shop.order.*")) == ["paid"]
    assert passing(ActionFilter(["*"])) == passing(ActionFilter())


@pytest.mark.parametrize("actions", [None, ["shop.*"], ["billing.invoice.sent", "shop.cart"]])
def test_action_filter_invert_passes_exactly_what_the_plain_filter_drops(
    actions: list[str] | None,
) -> None:
    plain, inverted = ActionFilter(actions), ActionFilter(actions, invert=True)
    for record in ACTION_RECORDS:
        assert plain.filter(record) is not inverted.filter(record)
    assert "tech" in passing(inverted)


def test_action_filter_rejects_bad_patterns_naming_the_item() -> None:
    with pytest.raises(ValueError, match=r"actions\[1\]: .*'Shop\.\*'"):
        ActionFilter(["shop.*", "Shop.*"])
    with pytest.raises(TypeError, match="actions must hold str"):
        ActionFilter([1])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="actions must be a str or a list"):
        ActionFilter(5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="actions must not be an empty list"):
        ActionFilter([])


# -- LevelRewriteFilter ---------------------------------------------------------------------


class Disallowed(Exception):
    pass


def test_level_rewrite_on_the_logger_reroutes_the_record_between_handlers() -> None:
    logger = logging.getLogger("rewrite.placement")
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    console, mail = ListHandler(logging.WARNING), ListHandler(logging.ERROR)
    rewrite = LevelRewriteFilter("WARNING", exception=Disallowed)
    logger.addHandler(console)
    logger.addHandler(mail)
    logger.addFilter(rewrite)
    try:
        try:
            raise Disallowed("bad host")
        except Disallowed:
            logger.exception("Invalid HTTP_HOST header")
        logger.error("a real error")
    finally:
        logger.removeFilter(rewrite)
        logger.removeHandler(console)
        logger.removeHandler(mail)
    assert console.levels == ["WARNING", "ERROR"]
    assert [r.levelno for r in console.records] == [logging.WARNING, logging.ERROR]
    assert [r.msg for r in mail.records] == ["a real error"]


def test_level_rewrite_on_a_handler_cannot_get_below_that_handlers_level() -> None:
    logger = logging.getLogger("rewrite.pitfall")
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    mail = ListHandler(logging.ERROR)
    mail.addFilter(LevelRewriteFilter("WARNING", exception=Disallowed))
    logger.addHandler(mail)
    try:
        try:
            raise Disallowed("bad host")
        except Disallowed:
            logger.exception("Invalid HTTP_HOST header")
    finally:
        logger.removeHandler(mail)
    # The handler compared ERROR with its level before its filter ran: it still got the record.
    assert mail.levels == ["WARNING"]


def test_level_rewrite_needs_all_criteria() -> None:
    rewrite = LevelRewriteFilter(
        logging.WARNING,
        from_levels=["ERROR"],
        logger="django.security",
        exception="filter_helpers.ClientGone",
        message=["client went", "disconnect"],
        action="web.request.*",
    )
    gone = filter_helpers.ClientGone("x")

    def check(
        *,
        level: int = logging.ERROR,
        name: str = "django.security.csrf",
        exc: BaseException | None = gone,
        msg: str = "the client went away",
        action: str | None = "web.request.aborted",
    ) -> str:
        record = logging.getLogger(name).makeRecord(
            name,
            level,
            __file__,
            1,
            msg,
            None,
            None if exc is None else (type(exc), exc, None),
            extra={} if action is None else {"action": action},
        )
        assert rewrite.filter(record) is True
        assert record.levelname == logging.getLevelName(record.levelno)
        return record.levelname

    assert check() == "WARNING"
    assert check(name="django.security") == "WARNING"
    assert check(name="django.securityx") == "ERROR"
    assert check(name="django") == "ERROR"
    assert check(level=logging.CRITICAL) == "CRITICAL"
    assert check(exc=None) == "ERROR"
    assert check(exc=ValueError("x")) == "ERROR"
    assert check(msg="peer disconnect") == "WARNING"
    assert check(msg="nothing to see") == "ERROR"
    assert check(action=None) == "ERROR"
    assert check(action="web.other.aborted") == "ERROR"


def test_level_rewrite_matches_the_formatted_message_and_survives_a_broken_one() -> None:
    rewrite = LevelRewriteFilter("INFO", message="order ABC42")
    formatted = logging.getLogger("x").makeRecord(
        "x", logging.ERROR, __file__, 1, "order %s", ("ABC42",), None
    )
    broken = logging.getLogger("x").makeRecord(
        "x", logging.ERROR, __file__, 1, "order %d", ("ABC42",), None
    )
    assert rewrite.filter(formatted) is True
    assert rewrite.filter(broken) is True
    assert (formatted.levelname, broken.levelname) == ("INFO", "ERROR")


class _Number:
    """Formats as a number with %d or %f; its str() holds the searched text."""

    def __index__(self) -> int:
        return 7

    def __float__(self) -> float:
        return 2.5

    def __str__(self) -> str:
        return "client disconnected"


def _rewritten(rewrite: LevelRewriteFilter, msg: object, args: Any) -> bool:
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, msg, args, None)
    assert rewrite.filter(record) is True
    return record.levelno == logging.WARNING


@pytest.mark.parametrize(
    ("message", "msg", "args"),
    [
        ("0x1f", "code %#x", (31,)),  # letters written by numeric conversions
        ("ff", "code %x", (255,)),
        ("0X1F", "code %#X", (31,)),
        ("0o17", "mode %#o", (15,)),
        ("-INF", "took %G", (float("-inf"),)),
        ("nan", "took %.1f", (float("nan"),)),
        ("1e+20", "size %g", (1e20,)),
        ("E+20", "size %E", (1e20,)),
        ("100%", "at %d%%", (100,)),
        ("100%% done", "100%% done", ()),  # no arguments: not formatted at all
        ("A", "char %c", (65,)),  # %c, %s, %r and mapping keys write anything
        ("client", "%s: %d", ("client", 1)),
        ("client", "%r", ("client",)),
        ("client", "%(who)s left", ({"who": "client"},)),
        ("client disconnected", "%s", (_Number(),)),
        ("7 2.5", "%d %.1f", (_Number(), _Number())),
        ("True", "%s", (True,)),
    ],
)
def test_level_rewrite_finds_text_written_by_any_conversion(
    message: str, msg: str, args: tuple[object, ...]
) -> None:
    assert _rewritten(LevelRewriteFilter("WARNING", message=message), msg, args)


def test_level_rewrite_skips_formatting_only_when_no_item_can_be_in_the_message() -> None:
    calls: list[str] = []

    class Counted:
        def __float__(self) -> float:
            calls.append("float")
            return 2.4

    rewrite = LevelRewriteFilter("WARNING", message=["client disconnected", "gone"])
    assert not _rewritten(rewrite, "Payment provider slow: %.1fs", (Counted(),))
    assert calls == []  # "c" is in no item's reach: neither in the text nor written by %f
    assert not _rewritten(rewrite, "Payment on go slow: %.1fs", (Counted(),))
    assert calls == ["float"]  # "gone" could be there (all its letters are): formatted

    class Translated(logging.LogRecord):
        def getMessage(self) -> str:
            return "client disconnected"

    record = Translated("x", logging.ERROR, __file__, 1, "slow: %.1fs", (2.4,), None)
    rewrite.filter(record)
    assert record.levelname == "WARNING"  # a subclass's getMessage is always asked


_FORMAT_CHARS = "ab%1.-+eEfFxX ni("


@st.composite
def _templates(draw: st.DrawFn) -> str:
    parts = []
    for _ in range(draw(st.integers(0, 4))):
        parts.append(draw(st.text(_FORMAT_CHARS, max_size=4)))
        spec = "%" + draw(st.sampled_from(["", "-", "+", " ", "#", "0", "#0", "-+"]))
        spec += draw(st.sampled_from(["", "3", "*"])) + draw(st.sampled_from(["", ".2", ".*"]))
        spec += draw(st.sampled_from(["", "l", "h"]))
        parts.append(spec + draw(st.sampled_from("diuoxXeEfFgGcsra%z(")))
    return "".join(parts)


_ARGS = st.one_of(
    st.integers(-300, 300),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.text(_FORMAT_CHARS, max_size=3),
    st.just(_Number()),
)


@given(
    msg=_templates(),
    args=st.one_of(st.tuples(), st.lists(_ARGS, max_size=4).map(tuple)),
    items=st.lists(st.text(_FORMAT_CHARS + "INFA0o7c", min_size=1, max_size=4), min_size=1),
)
def test_level_rewrite_by_message_matches_formatting_then_searching(
    msg: str, args: tuple[object, ...], items: list[str]
) -> None:
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, msg, args, None)
    try:
        text = record.getMessage()
    except Exception:
        expected = False
    else:
        expected = any(item in text for item in items)
    assert _rewritten(LevelRewriteFilter("WARNING", message=items), msg, args) is expected


def test_level_rewrite_rejects_bad_configuration_naming_the_parameter() -> None:
    with pytest.raises(ValueError, match="level: unknown level name 'LOUD'"):
        LevelRewriteFilter("LOUD")
    with pytest.raises(TypeError, match="level must be"):
        LevelRewriteFilter(True)
    with pytest.raises(ValueError, match="from_levels: unknown level name"):
        LevelRewriteFilter("INFO", from_levels=["ERROR", "NOPE"])
    with pytest.raises(ImportError, match=r"exception\[0\]: .*filter_helpers.Missing"):
        LevelRewriteFilter("INFO", exception=["filter_helpers.Missing"])
    with pytest.raises(TypeError, match="exception must be an exception class"):
        LevelRewriteFilter("INFO", exception="filter_helpers.ListHandler")
    with pytest.raises(ValueError, match=r"action\[0\]"):
        LevelRewriteFilter("INFO", action="Not A Pattern")
    with pytest.raises(TypeError, match="logger must be a str or a list"):
        LevelRewriteFilter("INFO", logger=3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="message must not hold an empty string"):
        LevelRewriteFilter("INFO", message="")
    for option in ("from_levels", "logger", "message", "action"):
        with pytest.raises(ValueError, match=f"{option} must not be an empty list"):
            LevelRewriteFilter("INFO", **{option: []})


# -- ExceptionFilter ------------------------------------------------------------------------


def raised(exc: BaseException) -> BaseException:
    try:
        raise exc
    except BaseException as caught:
        return caught


def test_exception_filter_drops_listed_kinds_and_their_subclasses() -> None:
    drop = ExceptionFilter(["filter_helpers.ClientGone", KeyError])
    assert drop.filter(exc_record(raised(filter_helpers.ClientGone("gone")))) is False
    assert drop.filter(exc_record(raised(KeyError("k")))) is False
    assert drop.filter(exc_record(raised(OSError("disk")))) is True
    assert drop.filter(record_at(logging.ERROR)) is True
    assert ExceptionFilter(OSError).filter(exc_record(raised(filter_helpers.ClientGone()))) is False


def test_exception_filter_follows_the_chain_only_when_asked() -> None:
    try:
        try:
            raise filter_helpers.ClientGone("gone")
        except OSError as inner:
            raise RuntimeError("upload failed") from inner
    except RuntimeError as exc:
        caused = exc
    try:
        try:
            raise filter_helpers.ClientGone("gone")
        except OSError:
            raise ValueError("while handling") from None
    except ValueError as exc:
        suppressed = exc
    try:
        try:
            raise filter_helpers.ClientGone("gone")
        except OSError:
            raise ValueError("while handling")  # noqa: B904 - the implicit context is the point
    except ValueError as exc:
        during = exc
    plain = ExceptionFilter("filter_helpers.ClientGone")
    chained = ExceptionFilter("filter_helpers.ClientGone", chain=True)
    assert plain.filter(exc_record(caused)) is True
    assert chained.filter(exc_record(caused)) is False
    assert chained.filter(exc_record(during)) is False
    assert chained.filter(exc_record(suppressed)) is True


def test_exception_filter_chain_is_cycle_safe() -> None:
    first, second = ValueError("a"), TypeError("b")
    first.__context__, second.__context__ = second, first
    assert ExceptionFilter(KeyError, chain=True).filter(exc_record(first)) is True
    assert ExceptionFilter(TypeError, chain=True).filter(exc_record(first)) is False


def test_exception_filter_in_a_logger(wire: Any) -> None:
    logger, handler = wire("exc.logger", filters=(ExceptionFilter("filter_helpers.ClientGone"),))
    for exc in (filter_helpers.ClientGone("gone"), OSError("disk full")):
        try:
            raise exc
        except OSError:
            logger.exception("request failed")
    logger.error("no exception here")
    assert [type(r.exc_info[1]).__name__ if r.exc_info else None for r in handler.records] == [
        "OSError",
        None,
    ]


def test_exception_filter_rejects_bad_configuration() -> None:
    with pytest.raises(ImportError, match=r"exclude\[1\]: .*no_such_module"):
        ExceptionFilter([KeyError, "no_such_module.Error"])
    with pytest.raises(ImportError, match="exclude: "):
        ExceptionFilter("filter_helpers.Missing")
    with pytest.raises(TypeError, match="exclude must be an exception class"):
        ExceptionFilter("filter_helpers.not_health_check")
    with pytest.raises(TypeError, match=r"exclude\[0\] must be an exception class"):
        ExceptionFilter([int])
    with pytest.raises(ValueError, match="at least one"):
        ExceptionFilter([])
    with pytest.raises(TypeError, match="exclude must be"):
        ExceptionFilter(3)  # type: ignore[arg-type]


# -- RateLimitFilter ------------------------------------------------------------------------


def emit(logger: logging.Logger, template: str) -> None:
    """Log *template* from one fixed line, so that every call has the same default key."""
    logger.warning(template, "arg")


def test_rate_limit_filter_reports_suppressed_records_on_the_next_passing_one(wire: Any) -> None:
    clock = filter_helpers.FakeClock()
    logger, _ = wire("rate.basic", filters=(RateLimitFilter(2, 10, clock=clock),))
    stream = io.StringIO()
    json_handler = logging.StreamHandler(stream)
    json_handler.setFormatter(JSONFormatter())
    logger.addHandler(json_handler)
    for _ in range(5):
        emit(logger, "slow %s")
    clock.advance(9.9)
    emit(logger, "slow %s")  # still in the first window
    clock.advance(0.1)
    emit(logger, "slow %s")  # a new window: passes, carrying the count
    emit(logger, "slow %s")
    clock.advance(9.9)
    emit(logger, "slow %s")  # the second window is still open: dropped
    clock.advance(0.1)
    emit(logger, "slow %s")
    lines = json_lines(stream)
    assert [line.get("suppressed") for line in lines] == [None, None, 4, None, 1]


def test_rate_limit_filter_default_key_separates_kinds_of_records(wire: Any) -> None:
    logger, handler = wire(
        "rate.keys", filters=(RateLimitFilter(1, 60, clock=filter_helpers.FakeClock()),)
    )
    for value in ("a", "b"):
        logger.warning("same template %s", value)  # same key: one passes
    emit(logger, "other template %s")
    logger.error("same template %s", "c")  # another level
    logger.warning("same template %s", "d")  # another line
    try:
        raise KeyError("k")
    except KeyError:
        logger.warning("same template %s", "e", exc_info=True)  # another line and exception
    assert [r.getMessage() for r in handler.records] == [
        "same template a",
        "other template arg",
        "same template c",
        "same template d",
        "same template e",
    ]


def test_rate_limit_filter_key_from_a_dotted_path(wire: Any) -> None:
    limiter = RateLimitFilter(1, 60, key="filter_helpers.message_key", clock=filter_helpers.clock)
    logger, handler = wire("rate.custom", filters=(limiter,))
    logger.warning("one")
    logger.warning("one")  # another line, same custom key
    logger.warning("two")
    assert [r.msg for r in handler.records] == ["one", "two"]


def test_rate_limit_filter_falls_back_to_the_default_key_when_the_key_fails(
    wire: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    limiter = RateLimitFilter(
        1, 60, key=filter_helpers.broken_key, clock=filter_helpers.FakeClock()
    )
    logger, handler = wire("rate.broken", filters=(limiter,))
    for _ in range(3):
        emit(logger, "x %s")
    assert len(handler.records) == 1
    assert capsys.readouterr().err.count("the key function failed") == 1


def test_rate_limit_filter_lets_records_pass_when_its_clock_fails(
    wire: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    limiter = RateLimitFilter(1, 60, clock="filter_helpers.broken_clock")
    logger, handler = wire("rate.clock", filters=(limiter,))
    for _ in range(3):
        emit(logger, "x %s")
    assert len(handler.records) == 3
    assert capsys.readouterr().err.count("rate limiting failed; the record passes") == 1


def test_rate_limit_filter_counts_add_up_under_threads(wire: Any) -> None:
    clock = filter_helpers.FakeClock()
    limiter = RateLimitFilter(3, 1.0, clock=clock)
    logger, handler = wire("rate.threads", filters=(limiter,))
    templates = [f"kind {i} %s" for i in range(5)]
    per_thread = 600
    start = threading.Barrier(4)

    def work(offset: int) -> None:
        start.wait()
        for i in range(per_thread):
            emit(logger, templates[(i + offset) % len(templates)])
            if i % 7 == 0:
                clock.advance(0.01)  # windows keep turning over while the threads run

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    clock.advance(5)  # the final flush: one more record per key after its window
    for template in templates:
        emit(logger, template)
    logged = 4 * per_thread + len(templates)
    suppressed = sum(getattr(r, "suppressed", 0) for r in handler.records)
    assert 0 < suppressed < logged
    assert len(handler.records) + suppressed == logged
    flush = handler.records[-len(templates) :]
    assert [r.msg for r in flush] == templates


def test_rate_limit_filter_forgets_the_least_recently_seen_keys(wire: Any) -> None:
    limiter = RateLimitFilter(
        1, 60, key=filter_helpers.message_key, max_keys=3, clock=filter_helpers.FakeClock()
    )
    logger, handler = wire("rate.lru", filters=(limiter,))
    for msg in ("a", "a", "b", "c", "a", "d"):  # "d" evicts "b", the least recently seen
        logger.warning(msg)
    assert len(limiter._windows) == 3
    logger.warning("a")  # remembered: still limited
    logger.warning("b")  # forgotten: passes again, its window and count are gone
    assert [r.msg for r in handler.records] == ["a", "b", "c", "d", "b"]
    assert [getattr(r, "suppressed", None) for r in handler.records] == [None] * 5
    assert len(limiter._windows) == 3


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"rate": 0, "per_s": 1}, ValueError, "rate must be at least 1"),
        ({"rate": 1.5, "per_s": 1}, TypeError, "rate must be an int"),
        ({"rate": True, "per_s": 1}, TypeError, "rate must be an int"),
        ({"rate": 1, "per_s": 0}, ValueError, "per_s must be a finite number"),
        ({"rate": 1, "per_s": float("inf")}, ValueError, "per_s must be a finite number"),
        ({"rate": 1, "per_s": "60"}, TypeError, "per_s must be a number"),
        ({"rate": 1, "per_s": 1, "max_keys": 0}, ValueError, "max_keys must be at least 1"),
        ({"rate": 1, "per_s": 1, "clock": 5}, TypeError, "clock must be callable"),
        ({"rate": 1, "per_s": 1, "key": "filter_helpers.nope"}, ImportError, "key: "),
    ],
)
def test_rate_limit_filter_rejects_bad_configuration(
    kwargs: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        RateLimitFilter(**kwargs)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_rate_limit_filter_works_in_a_child_forked_while_its_lock_was_held() -> None:
    limiter = RateLimitFilter(1, 60)
    with limiter._lock:
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            signal.alarm(5)  # a lock still held would hang the child: let the alarm kill it
            os._exit(0 if limiter.filter(record_at(logging.INFO)) is True else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


# -- RedactFilter -----------------------------------------------------------------------------

CARD = "4111 1111 1111 1111"
STARS = "********************"


def redacted_json(log: Callable[[logging.Logger], None], **options: Any) -> dict[str, Any]:
    logger = logging.getLogger("redact.json")
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JSONFormatter())
    handler.addFilter(RedactFilter(**options))
    logger.addHandler(handler)
    try:
        log(logger)
    finally:
        logger.removeHandler(handler)
    (line,) = json_lines(stream)
    return line


def test_redact_filter_hides_secrets_everywhere_without_touching_the_callers_objects() -> None:
    data = {"amount": 12, "card": f"paid with {CARD}", "auth": {"user": "bob"}}
    extra = {
        "action": "shop.order.paid",
        "data": data,
        "api_key": "k-1",
        "headers": [{"Authorization": "Bearer abc.def-123456"}, ("Cookie", "sessionid=s")],
    }
    arg = {"password": "hunter2", "note": "Bearer abcdefgh12345"}
    before = copy.deepcopy((data, extra, arg))
    line = redacted_json(lambda logger: logger.info("Card %s, payload %s", CARD, arg, extra=extra))
    assert line["message"] == (
        f"Card {STARS}, payload {{'password': '{STARS}', 'note': 'Bearer {STARS}'}}"
    )
    assert line["data"] == {"amount": 12, "card": f"paid with {STARS}", "auth": STARS}
    assert line["api_key"] == STARS
    assert line["headers"] == [{"Authorization": STARS}, ["Cookie", "sessionid=s"]]
    assert (data, extra, arg) == before


def test_redact_filter_hides_mapping_args_by_key_and_a_mapping_message() -> None:
    creds = {"user": "bob", "password": "hunter2"}
    line = redacted_json(lambda logger: logger.info("%(user)s logs in with %(password)s", creds))
    assert line["message"] == f"bob logs in with {STARS}"
    message = {"event": "login", "token": "t-1"}
    line = redacted_json(lambda logger: logger.info(message))
    assert line["message"] == str({"event": "login", "token": STARS})
    assert creds["password"] == "hunter2"
    assert message["token"] == "t-1"


def test_redact_filter_hides_card_numbers_in_the_message_template() -> None:
    line = redacted_json(lambda logger: logger.warning(f"declined card {CARD} for %s", "bob"))
    assert line["message"] == f"declined card {STARS} for bob"


def test_redact_filter_hides_secrets_in_the_bound_context() -> None:
    with context.bind(request_id="r-1", session_id="s-secret"):
        line = redacted_json(lambda logger: logger.info("hello"))
        again = redacted_json(lambda logger: logger.info("hello again"))
        assert context.current()["session_id"] == "s-secret"
    assert (line["request_id"], line["session_id"]) == ("r-1", STARS)
    assert again["session_id"] == STARS


def test_redact_filter_sees_what_earlier_filters_put_on_the_record() -> None:
    logger = logging.getLogger("redact.after.context")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(session_id)s %(message)s"))
    handler.addFilter(ContextFilter(as_attributes=True))
    handler.addFilter(RedactFilter())
    logger.addHandler(handler)
    try:
        with context.bind(session_id="s-secret"):
            logger.info("card %s", CARD)
    finally:
        logger.removeHandler(handler)
    assert stream.getvalue() == f"{STARS} card {STARS}\n"


def test_redact_filter_options() -> None:
    def log(logger: logging.Logger) -> None:
        logger.info(
            "x",
            extra={"iban": "DE89", "password": "pw", "card": CARD, "auth": "Basic dXNlcjpwYXNz"},
        )

    default = redacted_json(log)
    assert (default["iban"], default["password"], default["card"]) == ("DE89", STARS, STARS)
    widened = redacted_json(log, extra_keys=["IBAN"], substitute="[hidden]")
    assert (widened["iban"], widened["password"]) == ("[hidden]", "[hidden]")
    replaced = redacted_json(log, keys=["iban"], cards=False, credentials=False)
    assert replaced == {
        **replaced,
        "iban": STARS,
        "password": "pw",
        "card": CARD,
        "auth": "Basic dXNlcjpwYXNz",
    }
    no_keys = redacted_json(log, keys=[])
    assert (no_keys["password"], no_keys["card"], no_keys["auth"]) == (
        "pw",
        STARS,
        f"Basic {STARS}",
    )


def test_redact_filter_leaves_ordinary_records_alone() -> None:
    extra = {
        "data": {
            "order": "ORD-4111111111111112",
            "date": "2024-01-15 12:00:00",
            "phone": "+49 30 1234 5678",
            "ids": [1234567890123, 42],
            "note": "Basic setup",
        },
        "action": "shop.order.placed",
        "user": "alice",
    }

    def log(logger: logging.Logger) -> None:
        logger.info(
            "Order %s placed at %s; bearer of good news",
            "4111-1111-1111-1112",
            "12:00",
            extra=extra,
        )

    line = redacted_json(log)
    line.pop("timestamp")
    assert line == {
        "level": "INFO",
        "logger": "redact.json",
        "message": "Order 4111-1111-1111-1112 placed at 12:00; bearer of good news",
        "action": "shop.order.placed",
        "actor_id": "alice",
        "actor_text": "alice",
        "data": extra["data"],
    }


def test_redact_filter_keyboard_is_a_documented_false_positive() -> None:
    line = redacted_json(lambda logger: logger.info("x", extra={"keyboard": "de"}))
    assert line["keyboard"] == STARS  # Django's substring rule: KEY


def test_redact_filter_twice_changes_nothing_more() -> None:
    record = record_at(logging.INFO, f"card {CARD}", data={"token": "t", "x": [CARD]})
    first = RedactFilter()
    assert first.filter(record) is True
    msg, data = record.msg, record.__dict__["data"]
    assert RedactFilter().filter(record) is True
    assert record.msg is msg
    assert record.__dict__["data"] is data


def test_redact_filter_rejects_bad_configuration_naming_the_parameter() -> None:
    with pytest.raises(TypeError, match="keys must be a str or a list"):
        RedactFilter(keys=3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="extra_keys must not hold an empty string"):
        RedactFilter(extra_keys=["iban", ""])
    with pytest.raises(TypeError, match="substitute must be a str"):
        RedactFilter(substitute=None)  # type: ignore[arg-type]


# Planted secrets: values under sensitive keys carry "PLANTED", cards sit between "|"s and
# tokens start with "T~"; ordinary text is lower-case letters and spaces, so none of them can
# turn up in the output by accident.
ORDINARY = st.text(alphabet=string.ascii_lowercase + " ", max_size=8)
ORDINARY_KEY = st.text(alphabet=string.ascii_lowercase, min_size=1, max_size=6)
SENSITIVE_WORDS = [
    "password",
    "passwd",
    "api_key",
    "apikey",
    "token",
    "secret",
    "authorization",
    "signature",
    "http_cookie",
    "sessionid",
    "csrftoken",
    "cookie",
    "key",
    "auth",
]


@st.composite
def sensitive_keys(draw: st.DrawFn) -> str:
    word = draw(st.sampled_from(SENSITIVE_WORDS))
    flips = draw(st.lists(st.booleans(), min_size=len(word), max_size=len(word)))
    cased = "".join(c.upper() if flip else c for c, flip in zip(word, flips, strict=True))
    affix = st.text(alphabet=string.ascii_lowercase + "_", max_size=4)
    return draw(affix) + cased + draw(affix)


@st.composite
def card_numbers(draw: st.DrawFn) -> str:
    length = draw(st.integers(13, 19))
    body = draw(st.text(alphabet=string.digits, min_size=length - 1, max_size=length - 1))
    number = next(body + check for check in string.digits if luhn_valid(body + check))
    separator = draw(st.sampled_from(["", " ", "-"]))
    if not separator:
        return number
    if length == 15 and draw(st.booleans()):
        return separator.join((number[:4], number[4:10], number[10:]))  # Amex style
    return separator.join(number[i : i + 4] for i in range(0, length, 4))


TOKENS = st.text(
    alphabet=string.ascii_letters + string.digits + "-._~+/", min_size=6, max_size=30
).map(lambda token: "T~" + token)
PLANTED_TEXT = st.one_of(
    st.builds(lambda a, card, b: f"{a}|{card}|{b}", ORDINARY, card_numbers(), ORDINARY),
    st.builds(lambda a, token, b: f"{a}|Bearer {token}|{b}", ORDINARY, TOKENS, ORDINARY),
)
LEAVES = st.one_of(st.integers(-1000, 1000), st.none(), st.booleans(), ORDINARY, PLANTED_TEXT)
NESTED = st.recursive(
    LEAVES,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.lists(children, max_size=4).map(tuple),
        st.dictionaries(ORDINARY_KEY, children, max_size=4),
        st.dictionaries(
            sensitive_keys(),
            st.one_of(
                st.integers(0, 99).map(lambda n: f"PLANTED-{n}"),
                st.lists(st.just("PLANTED"), min_size=1, max_size=2),
                st.dictionaries(ORDINARY_KEY, st.just("PLANTED"), min_size=1, max_size=2),
            ),
            min_size=1,
            max_size=2,
        ),
    ),
    max_leaves=12,
)


def planted_secrets(value: object) -> list[str]:
    """Every planted card (as written and as digits only) and token inside *value*."""
    found: list[str] = []
    if isinstance(value, str):
        for card in re.findall(r"\|([0-9 -]+)\|", value):
            found += [card, re.sub("[ -]", "", card)]
        found += re.findall(r"Bearer (T~[^|]+)\|", value)
    elif isinstance(value, dict):
        for item in value.values():
            found += planted_secrets(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            found += planted_secrets(item)
    return found


@settings_h(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    payload=st.tuples(NESTED, NESTED, NESTED),
    text=PLANTED_TEXT,
    key=sensitive_keys(),
    audit=st.booleans(),
)
def test_redact_filter_property_no_planted_secret_reaches_json_and_nothing_is_changed(
    payload: tuple[Any, Any, Any], text: str, key: str, audit: bool
) -> None:
    arg, data, details = payload
    extra: dict[str, Any] = {"data": data, "details": details, "x_" + key: "PLANTED-extra"}
    if audit:
        extra["action"] = "shop.test.done"
    msg = "event " + text + " %s"
    before = copy.deepcopy((msg, arg, extra))
    logger = logging.getLogger("redact.property")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JSONFormatter())
    handler.addFilter(RedactFilter())
    logger.addHandler(handler)
    try:
        logger.info(msg, arg, extra=extra)
    finally:
        logger.removeHandler(handler)
    output = stream.getvalue()
    json.loads(output)
    assert "PLANTED" not in output
    for secret in planted_secrets([text, arg, data, details]):
        assert secret not in output
    assert (msg, arg, extra) == before


# -- dictConfig -------------------------------------------------------------------------------

JSON_CONFIG = """
{
  "version": 1,
  "disable_existing_loggers": false,
  "filters": {
    "callback": {"()": "structlogx.filters.CallbackFilter",
                 "callback": "filter_helpers.not_health_check"},
    "debug_false": {"()": "structlogx.filters.RequireDebugFalse"},
    "debug_true": {"()": "structlogx.filters.RequireDebugTrue"},
    "shop_audit": {"()": "structlogx.filters.ActionFilter", "actions": ["shop.*"]},
    "technical": {"()": "structlogx.filters.ActionFilter", "invert": true},
    "client_gone_is_a_warning": {"()": "structlogx.filters.LevelRewriteFilter",
                                 "level": "WARNING", "from_levels": ["ERROR"],
                                 "logger": "jsonfilters", "message": "upload",
                                 "exception": ["filter_helpers.ClientGone"], "action": null},
    "no_client_gone": {"()": "structlogx.filters.ExceptionFilter",
                       "exclude": ["filter_helpers.ClientGone"], "chain": true},
    "once": {"()": "structlogx.filters.RateLimitFilter", "rate": 1, "per_s": 60,
             "key": "filter_helpers.message_key", "max_keys": 100,
             "clock": "filter_helpers.clock"},
    "redact": {"()": "structlogx.filters.RedactFilter", "extra_keys": ["iban"],
               "substitute": "[hidden]", "cards": true, "credentials": true},
    "context": {"()": "structlogx.filters.ContextFilter"}
  },
  "handlers": {
    "callback": {"class": "filter_helpers.ListHandler", "filters": ["callback"]},
    "debug_false": {"class": "filter_helpers.ListHandler", "filters": ["debug_false"]},
    "debug_true": {"class": "filter_helpers.ListHandler", "filters": ["debug_true"]},
    "shop_audit": {"class": "filter_helpers.ListHandler", "filters": ["shop_audit"]},
    "technical": {"class": "filter_helpers.ListHandler", "filters": ["technical"]},
    "errors": {"class": "filter_helpers.ListHandler", "level": "ERROR"},
    "no_client_gone": {"class": "filter_helpers.ListHandler", "filters": ["no_client_gone"]},
    "once": {"class": "filter_helpers.ListHandler", "filters": ["once"]},
    "redact": {"class": "filter_helpers.ListHandler", "filters": ["redact", "context"]}
  },
  "loggers": {
    "jsonfilters": {"level": "INFO", "propagate": false,
                    "filters": ["client_gone_is_a_warning"],
                    "handlers": ["callback", "debug_false", "debug_true", "shop_audit",
                                 "technical", "errors", "no_client_gone", "once",
                                 "redact"]}
  }
}
"""


def test_every_filter_builds_from_a_json_dict_config() -> None:
    logging.config.dictConfig(json.loads(JSON_CONFIG))
    logger = logging.getLogger("jsonfilters")
    handlers = {handler.name: handler for handler in logger.handlers}
    try:
        with settings.override(DEBUG=False):
            logger.info("GET %s", "/health")
            logger.info("paid", extra={"action": "shop.order.paid", "iban": "DE89"})
            logger.info("sent", extra={"action": "billing.invoice.sent"})
            try:
                raise filter_helpers.ClientGone("peer reset")
            except OSError:
                logger.exception("upload aborted")
            try:
                raise KeyError("k")
            except KeyError:
                logger.exception("upload aborted")
        messages = {
            name: [record.getMessage() for record in handler.records]  # type: ignore[attr-defined]
            for name, handler in handlers.items()
        }
    finally:
        for handler in list(logger.handlers):
            logger.removeHandler(handler)
        for item in list(logger.filters):
            logger.removeFilter(item)
    everything = ["GET /health", "paid", "sent", "upload aborted", "upload aborted"]
    assert messages["callback"] == everything[1:]
    assert messages["debug_false"] == everything
    assert messages["debug_true"] == []
    assert messages["shop_audit"] == ["paid"]
    assert messages["technical"] == ["GET /health", "upload aborted", "upload aborted"]
    assert messages["errors"] == ["upload aborted"]  # the KeyError one; ClientGone is a WARNING
    assert messages["no_client_gone"] == everything[:4]
    assert messages["once"] == everything[:4]
    assert handlers["errors"].records[0].exc_info[0] is KeyError  # type: ignore[attr-defined]
    assert handlers["no_client_gone"].records[3].exc_info[0] is KeyError  # type: ignore[attr-defined]
    client_gone = handlers["technical"].records[1]  # type: ignore[attr-defined]
    assert (client_gone.levelname, client_gone.levelno) == ("WARNING", logging.WARNING)
    assert handlers["redact"].records[1].iban == "[hidden]"  # type: ignore[attr-defined]
