"""Tests for structlogx.display: pattern registration, templates and fallbacks."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from structlogx import display
from structlogx.display import MISSING, Registry
from structlogx.records import AuditEntry

NOW = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def registry() -> Registry:
    return Registry()


@pytest.fixture
def default_patterns() -> Iterator[list[str]]:
    """Patterns a test registers in the default registry; unregistered afterwards."""
    patterns: list[str] = []
    yield patterns
    for pattern in patterns:
        display.unregister(pattern)


def entry(action: str, data: Any = None, message: str = "") -> AuditEntry:
    return AuditEntry(
        timestamp=NOW, action=action, message=message, data={} if data is None else data
    )


def record(action: object, data: Any = None, msg: str = "", args: Any = ()) -> logging.LogRecord:
    made = logging.LogRecord("shop", logging.INFO, __file__, 1, msg, args, None)
    made.__dict__.update(action=action, data=data)
    return made


# -- patterns --------------------------------------------------------------------------------


def test_exact_pattern(registry: Registry) -> None:
    registry.register("shop.order.paid", "The order has been marked as paid.")

    assert registry.display(entry("shop.order.paid")) == "The order has been marked as paid."
    assert registry.display(entry("shop.order.canceled")) == "shop.order.canceled"


def test_prefix_pattern_matches_actions_below_it_only(registry: Registry) -> None:
    registry.register("shop.order.*", "order event")

    assert [
        registry.display(entry(action))
        for action in (
            "shop.order.paid",
            "shop.order.item.added",
            "shop.order",
            "shop.orders.x",
            "shop.other",
        )
    ] == ["order event", "order event", "shop.order", "shop.orders.x", "shop.other"]


def test_star_matches_every_action(registry: Registry) -> None:
    registry.register("*", "something happened")

    assert [
        registry.display(entry("shop.order.paid")),
        registry.display(entry("paypal.payment.rejected")),
    ] == ["something happened"] * 2


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        ("shop.order.paid", "exact"),
        ("shop.order.canceled", "shop.order.*"),
        ("shop.order.item.added", "shop.order.*"),
        ("shop.cart.filled", "shop.*"),
        ("paypal.payment.rejected", "*"),
    ],
)
def test_most_specific_pattern_wins(registry: Registry, action: str, expected: str) -> None:
    # Registered from least to most specific, so the order of registration cannot decide.
    registry.register("*", "*")
    registry.register("shop.*", "shop.*")
    registry.register("shop.order.*", "shop.order.*")
    registry.register("shop.order.paid", "exact")

    assert expected == registry.display(entry(action))


def test_candidates_are_ordered_most_specific_first(registry: Registry) -> None:
    for pattern in ("*", "shop.*", "shop.order.item.*", "shop.order.*", "shop.order.item.added"):
        registry.register(pattern, "x")

    assert registry.candidates("shop.order.item.added") == [
        "shop.order.item.added",
        "shop.order.item.*",
        "shop.order.*",
        "shop.*",
        "*",
    ]


def test_registering_again_replaces(registry: Registry) -> None:
    registry.register("shop.order.paid", "first")
    registry.register("shop.order.paid", "second")

    assert registry.display(entry("shop.order.paid")) == "second"


@pytest.mark.parametrize(
    "pattern", ["Shop.Order", "shop..x", "shop.*.x", "", "shop.Order.*", "*.*", "shop.*x", ".*"]
)
def test_invalid_patterns_are_rejected(registry: Registry, pattern: str) -> None:
    with pytest.raises(ValueError, match="invalid display pattern"):
        registry.register(pattern, "text")

    assert registry.candidates("shop.order.x") == []


def test_single_segment_exact_pattern_is_rejected(registry: Registry) -> None:
    # Documented: a pattern is an action name (dotted), "prefix.*" or "*"; "shop" is none.
    with pytest.raises(ValueError, match="invalid display pattern"):
        registry.register("shop", "text")


def test_non_str_pattern_is_a_type_error(registry: Registry) -> None:
    with pytest.raises(TypeError):
        registry.register(42, "text")  # type: ignore[arg-type]


@pytest.mark.parametrize("text", [None, 42, b"bytes", ["a"]])
def test_text_must_be_str_or_callable(registry: Registry, text: object) -> None:
    with pytest.raises(TypeError):
        registry.register("shop.order.paid", text)  # type: ignore[arg-type]

    assert registry.candidates("shop.order.paid") == []


def test_unregister(registry: Registry) -> None:
    registry.register("shop.order.paid", "exact")
    registry.register("shop.*", "prefix")

    registry.unregister("shop.order.paid")
    registry.unregister("never.registered")

    assert registry.display(entry("shop.order.paid")) == "prefix"


# -- templates -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "data", "expected"),
    [
        ("Canceled ({data[reason]}).", {"reason": "customer"}, "Canceled (customer)."),
        ("{data[a]}+{data[b]}", {"a": 1, "b": 2.5}, "1+2.5"),
        ("Total: {data[total]} EUR", {"total": "12.50"}, "Total: 12.50 EUR"),
        ("Reason: {data[reason]}", {}, f"Reason: {MISSING}"),
        ("Reason: {data[reason]}", {"other": 1}, "Reason: ?"),
        ("Value: {data[0]}", {"0": "zero"}, "Value: zero"),
        ("Key with space: {data[a b]}", {"a b": "ok"}, "Key with space: ok"),
        ("{{literal}} {data[x]} {{", {"x": 1}, "{literal} 1 {"),
        ("{{data[x]}}", {"x": 1}, "{data[x]}"),
        ("No placeholders", {"x": 1}, "No placeholders"),
    ],
)
def test_template_rendering(
    registry: Registry, template: str, data: dict[str, Any], expected: str
) -> None:
    registry.register("shop.order.canceled", template)

    assert expected == registry.display(entry("shop.order.canceled", data))


@pytest.mark.parametrize("data", [None, "text", ["reason"], 42])
def test_non_mapping_data_renders_missing(registry: Registry, data: object) -> None:
    registry.register("shop.order.canceled", "Reason: {data[reason]}")

    assert registry.display({"action": "shop.order.canceled", "data": data}) == "Reason: ?"


def test_template_value_with_failing_str_does_not_raise(registry: Registry) -> None:
    class BadStr:
        def __str__(self) -> str:
            raise RuntimeError("no")

        def __repr__(self) -> str:
            return "<BadStr>"

    registry.register("shop.order.canceled", "Reason: {data[reason]}")

    assert (
        registry.display(record("shop.order.canceled", {"reason": BadStr()})) == "Reason: <BadStr>"
    )


@pytest.mark.parametrize(
    ("template", "named"),
    [
        ("{data.key}", "{data.key}"),
        ("x {data[key].attr} y", "{data[key].attr}"),
        ("{data[key][sub]}", "{data[key][sub]}"),
        ("{data[key]!r}", "{data[key]!r}"),
        ("{data[key]!s}", "{data[key]!s}"),
        ("{data[key]:>10}", "{data[key]:>10}"),
        ("{0}", "{0}"),
        ("{}", "{}"),
        ("{user}", "{user}"),
        ("{data}", "{data}"),
        ("{data[]}", "{data[]}"),
        ("ok {data[a]} then {entry.__class__}", "{entry.__class__}"),
    ],
)
def test_invalid_placeholders_are_rejected_naming_them(
    registry: Registry, template: str, named: str
) -> None:
    with pytest.raises(ValueError, match="invalid placeholder") as caught:
        registry.register("shop.order.paid", template)

    assert named in str(caught.value)
    assert registry.candidates("shop.order.paid") == []


@pytest.mark.parametrize("template", ["Unbalanced {", "Unbalanced }", "{data[x]"])
def test_unbalanced_braces_are_rejected(registry: Registry, template: str) -> None:
    with pytest.raises(ValueError, match="invalid display template") as caught:
        registry.register("shop.order.paid", template)

    assert repr(template) in str(caught.value)


# -- callables -------------------------------------------------------------------------------


def test_callable_receives_the_entry(registry: Registry) -> None:
    received: list[object] = []

    def text(given: object) -> str:
        received.append(given)
        return "from callable"

    registry.register("shop.order.*", text)
    the_entry = entry("shop.order.paid")

    assert registry.display(the_entry) == "from callable"
    assert [the_entry] == received


def fail(_: object) -> str:
    raise RuntimeError("text function broke")


@pytest.mark.parametrize("specific", [lambda _: None, fail], ids=["returns-none", "raises"])
def test_callable_falls_through_to_less_specific_pattern(
    registry: Registry, specific: Callable[[object], str | None]
) -> None:
    registry.register("*", "catch-all")
    registry.register("shop.*", lambda e: f"shop: {e.action}")
    registry.register("shop.order.*", specific)
    registry.register("shop.order.paid", specific)

    assert registry.display(entry("shop.order.paid")) == "shop: shop.order.paid"


@pytest.mark.parametrize("specific", [lambda _: None, fail], ids=["returns-none", "raises"])
def test_callable_falls_through_to_message_then_action(
    registry: Registry, specific: Callable[[object], str | None]
) -> None:
    registry.register("shop.order.paid", specific)

    assert (
        registry.display(entry("shop.order.paid", message="paid by card")),
        registry.display(entry("shop.order.paid")),
    ) == ("paid by card", "shop.order.paid")


def test_callable_returning_non_str_gives_text(registry: Registry) -> None:
    registry.register("shop.order.paid", lambda _: 42)

    assert registry.display(entry("shop.order.paid")) == "42"


# -- entry kinds and fallbacks ---------------------------------------------------------------


def test_works_for_entry_record_and_mapping(registry: Registry) -> None:
    registry.register("shop.order.canceled", "Canceled ({data[reason]}).")
    data = {"reason": "customer request"}

    assert [
        registry.display(entry("shop.order.canceled", data)),
        registry.display(record("shop.order.canceled", data)),
        registry.display({"action": "shop.order.canceled", "data": data}),
    ] == ["Canceled (customer request)."] * 3


def test_record_from_a_real_logger_call_with_extra(registry: Registry) -> None:
    captured: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = captured.append  # type: ignore[method-assign]
    logger = logging.getLogger("structlogx_tests.display")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning(
            "order %s", "A1", extra={"action": "shop.order.placed", "data": {"total": "9.50"}}
        )
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    registry.register("shop.order.placed", "The order was placed ({data[total]} EUR).")

    assert registry.display(captured[0]) == "The order was placed (9.50 EUR)."


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        (lambda: entry("shop.order.paid", message="Paid."), "Paid."),
        (lambda: entry("shop.order.paid"), "shop.order.paid"),
        (lambda: record("shop.order.paid", msg="order %s paid", args=("A1",)), "order A1 paid"),
        (lambda: record("shop.order.paid"), "shop.order.paid"),
        (lambda: record("shop.order.paid", msg="%d broken", args=("x",)), "%d broken"),
        (lambda: {"action": "shop.order.paid", "message": "From mapping"}, "From mapping"),
        (lambda: {"action": "shop.order.paid"}, "shop.order.paid"),
        (lambda: {"message": "no action"}, "no action"),
        (lambda: {}, ""),
        (lambda: record(None, msg="plain record"), "plain record"),
    ],
    ids=[
        "entry-message",
        "entry-action",
        "record-message",
        "record-action",
        "record-bad-args",
        "mapping-message",
        "mapping-action",
        "mapping-no-action",
        "empty-mapping",
        "record-no-action",
    ],
)
def test_fallback_to_message_then_action(
    registry: Registry, item: Callable[[], Any], expected: str
) -> None:
    assert expected == registry.display(item())


def test_non_str_action_is_not_looked_up(registry: Registry) -> None:
    registry.register("*", "everything")

    assert registry.display({"action": 42, "message": "fallback"}) == "fallback"


# -- default registry and module functions ---------------------------------------------------


def test_module_register_uses_default_registry_and_returns_text(
    default_patterns: list[str],
) -> None:
    default_patterns.append("displaytest.order.paid")

    returned = display.register("displaytest.order.paid", "Paid {data[amount]}.")

    assert returned == "Paid {data[amount]}."
    assert display.display(entry("displaytest.order.paid", {"amount": 3})) == "Paid 3."


def test_register_as_decorator(default_patterns: list[str]) -> None:
    default_patterns.append("displaytest.order.*")

    @display.register("displaytest.order.*")
    def order_text(given: AuditEntry) -> str:
        return f"Order event {given.action}"

    assert callable(order_text)
    assert order_text(entry("displaytest.order.paid")) == "Order event displaytest.order.paid"
    assert display.display(entry("displaytest.order.x")) == "Order event displaytest.order.x"


@pytest.mark.parametrize("pattern", ["Display.Test", "displaytest..x", "displaytest.*.x", ""])
def test_register_decorator_rejects_bad_pattern_at_decoration_time(pattern: str) -> None:
    with pytest.raises(ValueError, match="invalid display pattern"):
        display.register(pattern)

    assert display.display(entry("displaytest.x")) == "displaytest.x"


def test_register_decorator_rejects_non_str_pattern_with_type_error() -> None:
    # Registry.register raises TypeError for a non-str pattern; the decorator form must too.
    with pytest.raises(TypeError):
        display.register(42)  # type: ignore[call-overload]


def test_module_unregister(default_patterns: list[str]) -> None:
    default_patterns.append("displaytest.order.paid")
    display.register("displaytest.order.paid", "Paid.")

    display.unregister("displaytest.order.paid")

    assert display.display(entry("displaytest.order.paid")) == "displaytest.order.paid"


def test_fresh_registry_is_independent_of_default(
    registry: Registry, default_patterns: list[str]
) -> None:
    default_patterns.append("displaytest.order.paid")
    display.register("displaytest.order.paid", "from default")
    registry.register("displaytest.order.paid", "from fresh")

    assert [
        display.display(entry("displaytest.order.paid")),
        display.display(entry("displaytest.order.paid"), registry),
        display.default_registry.display(entry("displaytest.order.paid")),
    ] == ["from default", "from fresh", "from default"]
    assert Registry().display(entry("displaytest.order.paid")) == "displaytest.order.paid"
