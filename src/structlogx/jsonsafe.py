"""Turn any Python value into something ``json`` can encode, without ever raising.

Log calls carry whatever the application had at hand: models, Decimals, sets, open files,
objects whose ``__repr__`` explodes. :func:`to_jsonable` maps all of them onto JSON types
(``dict`` with ``str`` keys, ``list``, ``str``, ``int``, finite ``float``, ``bool``, ``None``)
so that a formatter or an audit store can serialise the result with the stdlib encoder.

Conversions, in the order they are tried:

* ``str``, ``int``, ``bool``, ``None``: unchanged (``str`` subclasses become plain ``str``).
* ``float``: unchanged when finite; ``NaN``, ``Infinity`` and ``-Infinity`` become those
  strings, because JSON has no spelling for them.
* :class:`~enum.Enum`: its ``value``, converted.
* :class:`~datetime.datetime`, :class:`~datetime.date`, :class:`~datetime.time`: ISO 8601.
* :class:`~decimal.Decimal`: ``str(value)``, so ``Decimal("12.50")`` stays ``"12.50"``
  (no float rounding).
* :class:`~uuid.UUID`, :class:`~pathlib.PurePath`: ``str(value)``.
* ``bytes``, ``bytearray``, ``memoryview``: the string ``"base64:"`` followed by the standard
  base64 of the bytes. Always base64, never a guess at the text encoding, so the original
  bytes can be recovered exactly.
* mappings: ``dict`` with string keys. ``str`` keys stay; ``None``/``bool``/``int``/``float``
  keys are spelled as ``json`` spells them (``"null"``, ``"true"``, ``"1"``, ``"1.5"``); other keys
  become their converted value's ``str`` (or trimmed ``repr``).
* ``list``, ``tuple``, other sequences that are not strings (``range``, ``deque``): ``list``.
* ``set``, ``frozenset`` and other sets (``dict.keys()``): ``list``, sorted when the items
  are mutually orderable.
* dataclass instances: ``dict`` of their fields.
* file-like objects (they have ``read`` and ``name``): their ``name`` only, never their content
  (pretix logs uploaded files this way).
* objects with a ``pk`` or ``id`` attribute (ORM models): ``{"type": "module.Class", "id": ...}``.
* anything else: ``repr(value)`` trimmed to :data:`MAX_REPR` characters; a ``repr`` that raises
  gives ``"<unrepresentable module.Class>"``.

Limits, each cut with a visible marker rather than an error: nesting deeper than
:data:`MAX_DEPTH` becomes :data:`DEPTH_MARKER`, a container met again inside itself becomes
:data:`CYCLE_MARKER`, and a string longer than :data:`MAX_STRING` characters is cut and ends
with ``"...[cut N chars]"``.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import datetime as _dt
import decimal
import enum
import json
import math
import pathlib
import uuid
from collections.abc import Callable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from typing import Any, Final

__all__ = [
    "CYCLE_MARKER",
    "DEPTH_MARKER",
    "MAX_DEPTH",
    "MAX_REPR",
    "MAX_STRING",
    "compact_encoder",
    "dumps",
    "json_default",
    "qualified_name",
    "safe_repr",
    "to_jsonable",
]

MAX_DEPTH: Final = 32
"""Containers nested deeper than this are replaced by :data:`DEPTH_MARKER`."""
MAX_STRING: Final = 64 * 1024
"""Strings longer than this many characters are cut."""
MAX_REPR: Final = 1000
"""``repr`` fallbacks are trimmed to this many characters."""
CYCLE_MARKER: Final = "<cycle>"
"""Stands in for a container met again inside itself."""
DEPTH_MARKER: Final = "<max depth>"
"""Stands in for a value nested deeper than :data:`MAX_DEPTH`."""

_SCALARS: Final = frozenset({str, int, bool, type(None)})
_NAN_SPELLING: Final = {math.inf: "Infinity", -math.inf: "-Infinity"}
_CONTAINERS: Final = (Mapping, list, tuple, set, frozenset, Sequence, AbstractSet)
_FLAT_ITEMS: Final = 16  # dicts up to this size are tried for the flat fast path
_MAX_INT_BITS: Final = 13_000  # ~3,900 digits: below the interpreter's int-to-str limit


def qualified_name(cls: type) -> str:
    """Return ``module.QualName`` for *cls*, or just the name for builtins."""
    module = getattr(cls, "__module__", None)
    name = getattr(cls, "__qualname__", None) or getattr(cls, "__name__", "?")
    if not module or module == "builtins":
        return str(name)
    return f"{module}.{name}"


def _cut(text: str, limit: int) -> str:
    """Cut *text* to at most *limit* characters, marker included, so cutting twice is a no-op."""
    if len(text) <= limit:
        return text
    keep = max(0, limit - len(f"...[cut {len(text)} chars]"))
    return f"{text[:keep]}...[cut {len(text) - keep} chars]"


def safe_repr(value: object, limit: int = MAX_REPR) -> str:
    """Return ``repr(value)`` trimmed to *limit* characters; never raises."""
    try:
        text = repr(value)
        if type(text) is not str:  # a __repr__ that returns a str subclass
            text = str.__str__(text)
    except Exception:
        return f"<unrepresentable {qualified_name(type(value))}>"
    return _cut(text, limit)


def _float(value: float) -> float | str:
    if math.isfinite(value):
        return float(value)
    return _NAN_SPELLING.get(value, "NaN")


def _key(key: object) -> str:
    """Spell a mapping key the way ``json.dumps`` would, or as readable text."""
    if type(key) is str:
        return _cut(key, MAX_STRING)
    try:
        return _odd_key(key)
    except Exception:
        return safe_repr(key)


def _odd_key(key: object) -> str:
    if key is None:
        return "null"
    if key is True:
        return "true"
    if key is False:
        return "false"
    if isinstance(key, str):
        return str.__str__(key)
    if isinstance(key, int) and not isinstance(key, enum.Enum):
        return int.__repr__(key)
    if isinstance(key, float):
        return str(_float(key)) if not math.isfinite(key) else float.__repr__(key)
    converted = _convert(key, 0, set())
    if isinstance(converted, str):
        return converted
    if converted is None or isinstance(converted, (bool, int, float)):
        return _odd_key(converted)  # an Enum key: spelled by its value, like json would
    return safe_repr(key)


def _convert(value: Any, depth: int, active: set[int]) -> Any:
    cls = type(value)
    if cls in _SCALARS:
        if cls is str and len(value) > MAX_STRING:
            return _cut(value, MAX_STRING)
        if cls is int and value.bit_length() > _MAX_INT_BITS:
            return f"<int of {value.bit_length()} bits>"
        return value
    if cls is float:
        return _float(value)
    if depth >= MAX_DEPTH:
        return DEPTH_MARKER
    if isinstance(value, enum.Enum):
        return _convert(value.value, depth + 1, active)
    if isinstance(value, str):
        return _cut(str.__str__(value), MAX_STRING)
    if isinstance(value, int):
        return _convert(int(value), depth, active)
    if isinstance(value, float):
        return _float(value)
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, (uuid.UUID, pathlib.PurePath)):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return _cut("base64:" + base64.b64encode(bytes(value)).decode("ascii"), MAX_STRING)
    if isinstance(value, _CONTAINERS) or (
        dataclasses.is_dataclass(value) and not isinstance(value, type)
    ):
        marker = id(value)
        if marker in active:
            return CYCLE_MARKER
        active.add(marker)
        try:
            return _container(value, depth + 1, active)
        except Exception:  # a mapping whose items() raises, a failing property...
            return safe_repr(value)
        finally:
            active.discard(marker)
    return _leaf_object(value, depth, active)


def _container(value: Any, depth: int, active: set[int]) -> Any:
    if isinstance(value, Mapping):
        return {_key(k): _convert(v, depth, active) for k, v in value.items()}
    if isinstance(value, (list, tuple, Sequence)):
        return [_convert(item, depth, active) for item in value]
    if isinstance(value, AbstractSet):
        items = list(value)
        with contextlib.suppress(Exception):  # unorderable mix: keep iteration order
            items.sort()
        return [_convert(item, depth, active) for item in items]
    return {
        field.name: _convert(getattr(value, field.name, None), depth, active)
        for field in dataclasses.fields(value)
    }


def _leaf_object(value: Any, depth: int, active: set[int]) -> Any:
    """Describe an object that is not a JSON-like container."""
    try:
        if hasattr(value, "read") and hasattr(value, "name"):
            return _convert(value.name, depth + 1, active)
    except Exception:  # a __getattr__ that raises something other than AttributeError
        return safe_repr(value)
    for attribute in ("pk", "id"):
        try:
            ident = getattr(value, attribute)
        except Exception:
            continue
        if not callable(ident):
            return {
                "type": qualified_name(type(value)),
                "id": _convert(ident, depth + 1, active),
            }
    return safe_repr(value)


_FAST_DEFAULTS: Final[dict[type, Callable[[Any], Any]]] = {
    decimal.Decimal: str,
    _dt.datetime: _dt.datetime.isoformat,
    _dt.date: _dt.date.isoformat,
    _dt.time: _dt.time.isoformat,
    uuid.UUID: str,
}


def json_default(value: object) -> Any:
    """Convert what the ``json`` encoder does not know; meant as its ``default`` hook.

    The common exact types (``Decimal``, ``datetime``, ``date``, ``time``, ``UUID``) take a
    one-look-up fast path; everything else goes through :func:`to_jsonable`. Never raises.
    """
    convert = _FAST_DEFAULTS.get(type(value))
    if convert is not None:
        return convert(value)
    return to_jsonable(value)


def to_jsonable(value: object) -> Any:
    """Return a JSON-encodable equivalent of *value* (see the module docs); never raises."""
    if type(value) is dict and len(value) <= _FLAT_ITEMS:
        # The common ``data`` of an audit record: a few text, number, Decimal and date
        # fields. Copied without the recursive walk when every item is plain, short JSON or
        # one of the exact types of json_default's fast path (converted as _convert does).
        flat = {}
        for key, item in value.items():
            kind = type(item)
            if type(key) is not str or len(key) > MAX_STRING:
                break
            if kind is str:
                if len(item) > MAX_STRING:
                    break
            elif kind is int:
                if item.bit_length() > _MAX_INT_BITS:
                    break
            elif kind is float:
                if item - item != 0.0:  # NaN or an infinity
                    break
            elif item is not None and kind is not bool:
                convert = _FAST_DEFAULTS.get(kind)
                if convert is None:
                    break
                flat[key] = convert(item)
                continue
            flat[key] = item
        else:
            return flat
    try:
        return _convert(value, 0, set())
    except RecursionError:
        return DEPTH_MARKER
    except Exception:
        return safe_repr(value)


def compact_encoder(
    *,
    ensure_ascii: bool = False,
    sort_keys: bool = False,
    default: Callable[[Any], Any] | None = None,
) -> Callable[[Any], str]:
    """Return a function that encodes a value as compact JSON (no NaN, no cycle check).

    ``json.JSONEncoder.encode`` builds a new C encoder on every call, which costs more than
    encoding a small dict; this builds it once (on CPython; elsewhere ``encode`` is used).
    The function raises as ``encode`` does: ``ValueError`` for a NaN, ``TypeError`` for an
    object *default* does not turn into JSON, ``RecursionError`` for a cycle.
    """
    encoder = json.JSONEncoder(
        ensure_ascii=ensure_ascii,
        check_circular=False,
        allow_nan=False,
        sort_keys=sort_keys,
        separators=(",", ":"),
        default=default,
    )
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # pragma: no cover - not CPython
        return encoder.encode
    quote = json.encoder.encode_basestring_ascii if ensure_ascii else json.encoder.encode_basestring
    chunks = make(None, encoder.default, quote, None, ":", ",", sort_keys, False, False)

    def encode(value: Any) -> str:
        return "".join(chunks(value, 0))

    return encode


_FAST_ENCODE: Final = compact_encoder(default=json_default)


def dumps(
    value: object,
    *,
    default: Callable[[Any], Any] | None = None,
    ensure_ascii: bool = False,
) -> str:
    """Encode *value* as compact JSON text; never raises.

    The C encoder runs first on the value as given; only when it fails (a NaN, a cycle, a
    type it does not know and *default* cannot turn into JSON) is the value passed through
    :func:`to_jsonable` and encoded again.

    Args:
        default: called for objects the encoder does not know, as in :func:`json.dumps`.
        ensure_ascii: escape every non-ASCII character.
    """
    encode = (
        _FAST_ENCODE
        if default is None and not ensure_ascii
        else compact_encoder(ensure_ascii=ensure_ascii, default=default or json_default)
    )
    try:
        return encode(value)
    except Exception:
        pass
    try:
        return json.dumps(
            to_jsonable(value), ensure_ascii=ensure_ascii, allow_nan=False, separators=(",", ":")
        )
    except Exception:  # pragma: no cover - to_jsonable output always encodes
        return json.dumps(safe_repr(value), ensure_ascii=ensure_ascii)
