"""Tests for structlogx.jsonsafe: every value becomes JSON, and nothing ever raises."""

from __future__ import annotations

import base64
import collections
import dataclasses
import datetime as dt
import decimal
import enum
import io
import json
import math
import pathlib
import uuid
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from structlogx import jsonsafe
from structlogx.jsonsafe import (
    CYCLE_MARKER,
    DEPTH_MARKER,
    MAX_DEPTH,
    MAX_REPR,
    MAX_STRING,
    to_jsonable,
)

# -- helpers ---------------------------------------------------------------------------------


class Color(enum.Enum):
    RED = "red"
    PRICE = decimal.Decimal("1.50")


class Number(enum.Enum):
    ONE = 1


class Level(enum.IntEnum):
    HIGH = 3


class Text(str):
    pass


class BadRepr:
    """An object whose repr explodes (and which has no pk/id/read)."""

    def __repr__(self) -> str:
        raise RuntimeError("repr exploded")


class LongRepr:
    def __repr__(self) -> str:
        return "y" * (MAX_REPR * 3)


class Model:
    """An ORM-like object with a primary key."""

    def __init__(self, pk: object) -> None:
        self.pk = pk


class Row:
    def __init__(self, ident: object) -> None:
        self.id = ident


class ExplodingGetattr:
    def __getattr__(self, name: str) -> Any:
        raise RuntimeError(f"no {name} for you")


class ExplodingItems(collections.abc.Mapping):  # type: ignore[type-arg]
    def __getitem__(self, key: object) -> int:
        return 1

    def __iter__(self) -> Any:
        return iter(["a"])

    def __len__(self) -> int:
        return 1

    def items(self) -> Any:
        raise RuntimeError("items exploded")


@dataclasses.dataclass
class Point:
    x: int
    y: int


@dataclasses.dataclass
class Shape:
    name: str
    corners: list[Point]
    tags: frozenset[str] = frozenset()


def nested_lists(levels: int) -> list[Any]:
    root: list[Any] = []
    node = root
    for _ in range(levels):
        child: list[Any] = []
        node.append(child)
        node = child
    return root


def depth_of_first_path(value: Any) -> tuple[int, Any]:
    """Follow the first item down: return (how many lists deep, what is at the bottom)."""
    depth = 0
    while isinstance(value, list) and value:
        value = value[0]
        depth += 1
    return depth, value


def strict_loads(text: str) -> Any:
    """``json.loads`` that rejects the non-standard NaN/Infinity tokens."""

    def reject(token: str) -> Any:
        raise ValueError(f"non-standard JSON token {token}")

    return json.loads(text, parse_constant=reject)


# -- scalars ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("text", "text"),
        (7, 7),
        (True, True),
        (None, None),
        (1.25, 1.25),
        (float("nan"), "NaN"),
        (float("inf"), "Infinity"),
        (float("-inf"), "-Infinity"),
        (Color.RED, "red"),
        (Color.PRICE, "1.50"),
        (Level.HIGH, 3),
        (dt.datetime(2024, 5, 1, 12, 30, 5, tzinfo=dt.timezone.utc), "2024-05-01T12:30:05+00:00"),
        (dt.datetime(2024, 5, 1, 12, 30, 5, 123000), "2024-05-01T12:30:05.123000"),
        (dt.date(2024, 5, 1), "2024-05-01"),
        (dt.time(8, 15, 0), "08:15:00"),
        (decimal.Decimal("12.50"), "12.50"),
        (decimal.Decimal("NaN"), "NaN"),
        (
            uuid.UUID("12345678-1234-5678-1234-567812345678"),
            "12345678-1234-5678-1234-567812345678",
        ),
        (pathlib.PurePosixPath("/srv/uploads/a.pdf"), "/srv/uploads/a.pdf"),
        ((1, "two", None), [1, "two", None]),
        ({3, 1, 2}, [1, 2, 3]),
        (frozenset({"b", "a"}), ["a", "b"]),
    ],
    ids=repr,
)
def test_documented_conversions(value: object, expected: object) -> None:
    assert expected == to_jsonable(value)


@pytest.mark.parametrize(
    ("value", "expected_type"),
    [(Text("plain"), str), (Level.HIGH, int), (True, bool), (decimal.Decimal("1"), str)],
    ids=repr,
)
def test_subclasses_become_plain_builtin_types(value: object, expected_type: type) -> None:
    assert expected_type is type(to_jsonable(value))


@pytest.mark.parametrize(
    "raw", [b"", b"hello", bytes(range(256)), b"\xff\xfe\x00not utf-8"], ids=repr
)
@pytest.mark.parametrize("wrapper", [bytes, bytearray, memoryview])
def test_bytes_are_base64_and_round_trip(raw: bytes, wrapper: Any) -> None:
    converted = to_jsonable(wrapper(raw))

    assert converted.startswith("base64:")
    assert raw == base64.b64decode(converted.removeprefix("base64:"), validate=True)


def test_unsortable_mixed_set_does_not_raise_and_keeps_every_item() -> None:
    converted = to_jsonable({1, "a", None, 2.5, (1, 2)})

    assert sorted(map(repr, [1, "a", None, 2.5, [1, 2]])) == sorted(map(repr, converted))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (range(3), [0, 1, 2]),
        (collections.deque([1, "x"]), [1, "x"]),
        (collections.UserList([Color.RED, 2]), ["red", 2]),
    ],
    ids=["range", "deque", "UserList"],
)
def test_other_non_string_sequences_become_lists(value: object, expected: list[Any]) -> None:
    # Documented: "list, tuple, other sequences that are not strings: list".
    assert expected == to_jsonable(value)


# -- dataclasses, objects, files -------------------------------------------------------------


def test_dataclass_becomes_dict_of_fields_recursively() -> None:
    shape = Shape("tri", [Point(0, 0), Point(1, 2)], frozenset({"b", "a"}))

    assert to_jsonable(shape) == {
        "name": "tri",
        "corners": [{"x": 0, "y": 0}, {"x": 1, "y": 2}],
        "tags": ["a", "b"],
    }


def test_dataclass_class_itself_is_not_treated_as_instance() -> None:
    assert isinstance(to_jsonable(Point), str)


def test_real_open_file_gives_its_name_only(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "upload.txt"
    path.write_text("top secret content")

    with path.open() as handle:
        assert str(path) == to_jsonable(handle)
        assert {"file": str(path)} == to_jsonable({"file": handle})


def test_file_like_with_name_gives_name_not_content() -> None:
    upload = io.StringIO("top secret content")
    upload.name = "invoice.pdf"  # type: ignore[misc]

    converted = to_jsonable({"upload": upload})

    assert converted == {"upload": "invoice.pdf"}
    assert "secret" not in json.dumps(converted)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Model(5), {"type": f"{__name__}.Model", "id": 5}),
        (Model(uuid.UUID(int=1)), {"type": f"{__name__}.Model", "id": str(uuid.UUID(int=1))}),
        (Row("abc"), {"type": f"{__name__}.Row", "id": "abc"}),
    ],
    ids=["pk", "pk-uuid", "id"],
)
def test_objects_with_pk_or_id_become_type_and_id(value: object, expected: object) -> None:
    assert expected == to_jsonable(value)


def test_repr_fallback_is_trimmed_to_max_repr() -> None:
    converted = to_jsonable(LongRepr())
    kept = converted.index("...[cut ")

    assert len(converted) <= MAX_REPR
    assert kept > MAX_REPR - 30
    assert converted == "y" * kept + f"...[cut {MAX_REPR * 3 - kept} chars]"


def test_repr_that_raises_gives_unrepresentable_marker() -> None:
    expected = f"<unrepresentable {__name__}.BadRepr>"

    assert expected == to_jsonable(BadRepr())
    assert [expected] == to_jsonable([BadRepr()])


def test_getattr_raising_runtime_error_does_not_propagate() -> None:
    converted = to_jsonable({"obj": ExplodingGetattr()})

    assert isinstance(converted["obj"], str)
    assert "ExplodingGetattr" in converted["obj"]


def test_mapping_whose_items_raises_falls_back_to_repr() -> None:
    converted = to_jsonable({"m": ExplodingItems()})

    assert isinstance(converted["m"], str)
    assert "ExplodingItems" in converted["m"]


# -- mapping keys ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        (None, "null"),
        (True, "true"),
        (False, "false"),
        (1, "1"),
        (-20, "-20"),
        (1.5, "1.5"),
        (float("nan"), "NaN"),
        (float("inf"), "Infinity"),
        (Text("sub"), "sub"),
        (dt.date(2024, 1, 2), "2024-01-02"),
        (decimal.Decimal("2.50"), "2.50"),
        ((1, 2), "(1, 2)"),
    ],
    ids=repr,
)
def test_mapping_keys_are_spelled_as_json_does(key: object, expected: str) -> None:
    assert {expected: "v"} == to_jsonable({key: "v"})


@pytest.mark.parametrize("key", [None, True, 7, 1.5, -0.25])
def test_simple_keys_match_the_stdlib_encoder(key: object) -> None:
    assert json.loads(json.dumps({key: 1})) == to_jsonable({key: 1})


@pytest.mark.parametrize(
    ("key", "expected"),
    [(Level.HIGH, "3"), (Number.ONE, "1")],
    ids=["IntEnum", "Enum-with-int-value"],
)
def test_enum_keys_are_spelled_by_their_converted_value(key: object, expected: str) -> None:
    # Documented: other keys "become their converted value's str". An IntEnum key is also
    # what json.dumps spells "3", and jsonsafe.dumps's fast path agrees with that.
    assert {expected: "v"} == to_jsonable({key: "v"})
    assert json.loads(jsonsafe.dumps({key: "v", "n": math.nan}))[expected] == "v"


# -- limits ----------------------------------------------------------------------------------


def test_list_containing_itself_gives_cycle_marker() -> None:
    loop: list[Any] = [1]
    loop.append(loop)

    assert to_jsonable(loop) == [1, CYCLE_MARKER]


def test_dict_cycle_gives_cycle_marker() -> None:
    first: dict[str, Any] = {"name": "first"}
    second: dict[str, Any] = {"name": "second", "back": first}
    first["next"] = second

    assert to_jsonable(first) == {
        "name": "first",
        "next": {"name": "second", "back": CYCLE_MARKER},
    }


def test_shared_but_acyclic_values_are_not_cycles() -> None:
    shared = [1, 2]

    assert to_jsonable({"a": shared, "b": shared}) == {"a": [1, 2], "b": [1, 2]}


def test_nesting_deeper_than_max_depth_is_cut_with_marker() -> None:
    depth, bottom = depth_of_first_path(to_jsonable(nested_lists(MAX_DEPTH + 10)))

    assert (depth, bottom) == (MAX_DEPTH, DEPTH_MARKER)


def test_nesting_up_to_max_depth_is_kept() -> None:
    converted = to_jsonable(nested_lists(MAX_DEPTH - 1))

    assert nested_lists(MAX_DEPTH - 1) == converted


def test_very_deep_nesting_does_not_raise() -> None:
    converted = to_jsonable(nested_lists(50_000))

    json.dumps(converted)


def test_long_string_is_cut_with_marker() -> None:
    converted = to_jsonable("x" * (MAX_STRING + 10))
    kept = converted.index("...[cut ")

    assert len(converted) <= MAX_STRING
    assert converted == "x" * kept + f"...[cut {MAX_STRING + 10 - kept} chars]"


def test_string_of_exactly_max_length_is_kept() -> None:
    text = "x" * MAX_STRING

    assert text == to_jsonable(text)


def test_cut_string_is_stable_when_converted_again() -> None:
    # A store may convert data that was already converted (e.g. re-hashing an entry);
    # the cut text must not be cut a second time.
    once = to_jsonable({"note": "x" * (MAX_STRING + 10)})

    assert once == to_jsonable(once)


@pytest.mark.parametrize(
    "value",
    [10**5000, -(10**5000), {"n": 10**5000}, {10**5000: 1}, 2**14000],
    ids=["huge", "huge-negative", "huge-value", "huge-key", "above-bit-limit"],
)
def test_huge_ints_do_not_raise(value: object) -> None:
    json.dumps(to_jsonable(value), allow_nan=False)
    strict_loads(jsonsafe.dumps(value))


# -- dumps -----------------------------------------------------------------------------------


def test_dumps_with_cycle_is_valid_json_with_cycle_marker() -> None:
    loop: dict[str, Any] = {"a": 1}
    loop["self"] = loop

    text = jsonsafe.dumps(loop)

    assert strict_loads(text) == {"a": 1, "self": CYCLE_MARKER}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"a": [1, 2.5, None]}, {"a": [1, 2.5, None]}),
        ({"amount": decimal.Decimal("12.50")}, {"amount": "12.50"}),
        ({"x": math.nan, "y": math.inf}, {"x": "NaN", "y": "Infinity"}),
        ({(1, 2): {3}}, {"(1, 2)": [3]}),
        (BadRepr(), f"<unrepresentable {__name__}.BadRepr>"),
    ],
    ids=["plain", "decimal", "nan", "tuple-key", "bad-repr"],
)
def test_dumps_encodes_the_jsonable_value(value: object, expected: object) -> None:
    assert expected == strict_loads(jsonsafe.dumps(value))


def test_dumps_is_compact() -> None:
    assert jsonsafe.dumps({"a": (1, 2)}) == '{"a":[1,2]}'


def test_dumps_uses_default_before_the_fallback() -> None:
    assert jsonsafe.dumps({"d": decimal.Decimal(1)}, default=lambda _: "DEC") == '{"d":"DEC"}'


def test_dumps_ensure_ascii_escapes_non_ascii() -> None:
    text = jsonsafe.dumps({"name": "Zoë"}, ensure_ascii=True)

    assert text.isascii()
    assert json.loads(text) == {"name": "Zoë"}


# -- properties ------------------------------------------------------------------------------

_odd_text = st.text(
    st.characters(exclude_categories=())
    | st.sampled_from(["\u2028", "\u2029", "\x85", "\ud800", "\udfff", "\x00", '"', "\\"])
)
_hashable_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | _odd_text
    | st.decimals(allow_nan=True, allow_infinity=True).filter(lambda d: not d.is_snan())
)
_hashables = _hashable_scalars | st.tuples(_hashable_scalars, _hashable_scalars)
_leaves = (
    _hashable_scalars
    | st.sampled_from([2**14000, decimal.Decimal("sNaN"), Color.PRICE, Level.HIGH])
    | st.binary()
    | st.datetimes(timezones=st.none() | st.just(dt.timezone.utc))
    | st.dates()
    | st.builds(BadRepr)
    | st.builds(Model, st.integers() | _odd_text)
)
_keys = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | _odd_text
    | st.tuples(st.integers(), _odd_text)
)
_values = st.recursive(
    _leaves,
    lambda children: (
        st.lists(children, max_size=5)
        | st.lists(children, max_size=5).map(tuple)
        | st.dictionaries(_keys, children, max_size=5)
        | st.sets(_hashables, max_size=5)
        | st.frozensets(_hashables, max_size=5)
    ),
    max_leaves=30,
)


@settings(deadline=None, max_examples=300)
@given(_values)
def test_to_jsonable_never_raises_gives_strict_json_and_is_idempotent(value: object) -> None:
    result = to_jsonable(value)

    json.dumps(result, allow_nan=False)
    assert result == to_jsonable(result)


@settings(deadline=None, max_examples=300)
@given(_values)
def test_dumps_never_raises_and_gives_valid_json(value: object) -> None:
    text = jsonsafe.dumps(value)

    assert isinstance(text, str)
    strict_loads(text)


@settings(deadline=None)
@given(_values)
def test_dumps_ensure_ascii_gives_ascii_json(value: object) -> None:
    text = jsonsafe.dumps(value, ensure_ascii=True)

    assert text.isascii()
    strict_loads(text)


_json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(), children),
    max_leaves=30,
)


@settings(deadline=None, max_examples=300)
@given(_json_values, st.booleans(), st.booleans())
def test_compact_encoder_writes_what_json_dumps_writes(
    value: object, ensure_ascii: bool, sort_keys: bool
) -> None:
    encode = jsonsafe.compact_encoder(ensure_ascii=ensure_ascii, sort_keys=sort_keys)
    expected = json.dumps(
        value, ensure_ascii=ensure_ascii, sort_keys=sort_keys, separators=(",", ":")
    )
    assert encode(value) == expected


def test_compact_encoder_refuses_nan_and_unknown_objects_and_uses_default() -> None:
    encode = jsonsafe.compact_encoder()
    with pytest.raises(ValueError):
        encode({"x": math.nan})
    with pytest.raises(ValueError):
        encode([math.inf])
    with pytest.raises(TypeError):
        encode({"x": object()})
    assert jsonsafe.compact_encoder(default=str)({"d": decimal.Decimal("1.50")}) == '{"d":"1.50"}'


_flat_items = st.dictionaries(
    st.text(max_size=8),
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=20)
    | st.decimals()
    | st.datetimes(timezones=st.none() | st.just(dt.timezone.utc))
    | st.dates()
    | st.times()
    | st.uuids(),
    max_size=16,
)


@settings(deadline=None, max_examples=300)
@given(_flat_items)
def test_the_flat_fast_path_converts_as_the_full_walk_does(value: dict[str, object]) -> None:
    """Flat audit data (text, numbers, Decimal amounts, dates, UUIDs) skips the recursive
    walk; the result must be the one the walk gives."""
    assert to_jsonable(value) == jsonsafe._convert(value, 0, set())
    assert to_jsonable(value) is not value  # a copy: the caller's dict may change later
