"""Tests for structlogx.audit.chain and the chain operations of every store.

First the scheme itself (``canonical``, ``content_digest``, ``link``, ``shred_entry``) against
its module docstring, with property tests; then tampering with the stored trail the way an
attacker would (the raw SQLite file through :mod:`sqlite3`, the JSONL file line by line, the
memory store's private list), shredding, pruning, concurrent writers and a schema-v1 file.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from structlogx.audit import chain
from structlogx.audit.jsonl import JSONLStore
from structlogx.audit.memory import MemoryStore
from structlogx.audit.sqlite import MIGRATIONS, STATE, TABLE, SQLiteStore
from structlogx.audit.store import Store
from structlogx.records import AuditEntry

UTC = dt.timezone.utc
T0 = dt.datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
SEED = "0f" * 16
SECRET = "ann.secret@example.com"
KINDS = ("sqlite", "memory", "jsonl")

HEAD_FIELDS = (
    "timestamp",
    "action",
    "level",
    "logger",
    "actor_type",
    "actor_id",
    "object_type",
    "object_id",
    "scope",
    "visible",
)


def entry(number: int = 1, **fields: Any) -> AuditEntry:
    """Return entry *number* of a trail: one hour apart from ``T0``, a 12.50 payment."""
    values: dict[str, Any] = {
        "timestamp": T0 + dt.timedelta(hours=number - 1),
        "action": "shop.order.paid",
        "logger": "shop",
        "message": f"Order {number} paid",
        "actor_type": "shop.User",
        "actor_id": "u-7",
        "actor_text": "alice@example.com",
        "object_type": "shop.Order",
        "object_id": str(number),
        "object_text": f"Order #{number}",
        "data": {"amount": "12.50", "n": number},
        "context": {"request_id": f"r-{number}"},
    }
    values.update(fields)
    return AuditEntry(**values)


# -- the documented scheme, written out again from the module docstring ------------------------


def doc_canonical(value: Any) -> bytes:
    def nfc(item: Any) -> Any:
        if isinstance(item, str):
            return unicodedata.normalize("NFC", item)
        if isinstance(item, dict):
            return {nfc(key): nfc(inner) for key, inner in item.items()}
        if isinstance(item, list | tuple):
            return [nfc(inner) for inner in item]
        return item

    text = json.dumps(
        nfc(value), ensure_ascii=True, sort_keys=True, separators=(",", ":"), allow_nan=False
    )
    return text.encode("ascii")


def doc_content(item: AuditEntry) -> str:
    assert item.seed is not None
    head = [
        item.timestamp.astimezone(UTC).isoformat(timespec="microseconds"),
        item.action,
        item.level,
        item.logger,
        item.actor_type,
        item.actor_id,
        item.object_type,
        item.object_id,
        item.scope,
        item.visible,
    ]
    units = {
        "message": item.message,
        "context": item.context,
        **{f"data.{key}": value for key, value in item.data.items()},
    }
    for name in ("actor_text", "object_text"):
        if getattr(item, name) is not None:
            units[name] = getattr(item, name)
    names = sorted(units)
    salts = hashlib.shake_256(bytes.fromhex(item.seed)).digest(16 * len(names))
    material = doc_canonical(head)
    for index, name in enumerate(names):
        salt = salts[16 * index : 16 * index + 16]
        unit = salt + b"\0" + doc_canonical(name) + b"\0" + doc_canonical(units[name])
        material += b"\0" + doc_canonical(name) + b"\0" + hashlib.sha256(unit).digest()
    return hashlib.sha256(material).hexdigest()


def doc_link(prev_hash: str | None, entry_id: int, content: str) -> str:
    text = f"structlogx-chain-v2\0{prev_hash or ''}\0{entry_id}\0{content}"
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def test_content_digest_and_link_follow_the_documented_scheme_byte_for_byte() -> None:
    stamp = dt.datetime(2026, 12, 1, 10, 27, 21, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    item = entry(
        timestamp=stamp,  # not UTC, no microseconds: the head still has both
        message="Caf\u0065\u0301 bill",  # decomposed: hashed as NFC
        data={"z": 1.5, "a": [1, "x", None, True], "ü": {"b": 2, "a": 1}},
        scope="event-1",
        visible=False,
        seed=SEED,
    )
    content = chain.content_digest(item)
    assert doc_content(item) == content
    assert doc_link(None, 1, content) == chain.link(None, 1, content)
    assert doc_link("ab" * 32, 17, content) == chain.link("ab" * 32, 17, content)


def test_a_missing_actor_or_object_text_is_no_unit_and_adding_one_changes_the_content() -> None:
    item = entry(actor_text=None, object_text=None, data={"b": 1, "a": 2}, seed=SEED)
    assert chain.unit_names(item) == ["context", "data.a", "data.b", "message"]
    content = chain.content_digest(item)
    assert doc_content(item) == content
    for name in ("actor_text", "object_text"):
        assert chain.content_digest(dataclasses.replace(item, **{name: "mallory"})) != content
        assert chain.content_digest(dataclasses.replace(item, **{name: ""})) != content


def test_the_timestamp_in_the_head_is_utc_with_microseconds() -> None:
    east = dt.timezone(dt.timedelta(hours=5, minutes=30))
    local = entry(timestamp=dt.datetime(2026, 12, 1, 13, 57, 21, tzinfo=east), seed=SEED)
    utc = entry(timestamp=dt.datetime(2026, 12, 1, 8, 27, 21, tzinfo=UTC), seed=SEED)
    assert chain.content_digest(local) == chain.content_digest(utc)
    assert chain.canonical([utc.timestamp.isoformat(timespec="microseconds")]) == (
        b'["2026-12-01T08:27:21.000000+00:00"]'
    )


# -- canonical -----------------------------------------------------------------------------------

KEYS = st.text(max_size=8).filter(lambda key: unicodedata.normalize("NFC", key) == key)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=4),
    max_leaves=12,
)


def nfd(value: Any) -> Any:
    """*value* with every string value (not the keys) in normalisation form NFD."""
    if isinstance(value, str):
        return unicodedata.normalize("NFD", value)
    if isinstance(value, dict):
        return {key: nfd(item) for key, item in value.items()}
    if isinstance(value, list):
        return [nfd(item) for item in value]
    return value


def reversed_keys(value: Any) -> Any:
    """*value* with every dict's keys inserted in reverse order."""
    if isinstance(value, dict):
        return {key: reversed_keys(value[key]) for key in reversed(list(value))}
    if isinstance(value, list):
        return [reversed_keys(item) for item in value]
    return value


@given(JSON)
def test_canonical_is_deterministic_ascii_json(value: Any) -> None:
    once = chain.canonical(value)
    assert chain.canonical(copy.deepcopy(value)) == once
    assert once.isascii()
    assert json.loads(once.decode("ascii")) == json.loads(doc_canonical(value))
    assert once == doc_canonical(value)


@given(JSON)
def test_canonical_ignores_key_order(value: Any) -> None:
    assert chain.canonical(reversed_keys(value)) == chain.canonical(value)


@given(JSON)
def test_canonical_is_the_same_for_nfc_equivalent_strings(value: Any) -> None:
    assert chain.canonical(nfd(value)) == chain.canonical(value)


def test_canonical_composed_and_decomposed_e_acute() -> None:
    composed, decomposed = "caf\u00e9", "cafe\u0301"
    assert composed != decomposed
    assert chain.canonical(composed) == chain.canonical(decomposed) == b'"caf\\u00e9"'
    # Keys stay as written, so that two keys that normalise alike are still two keys.
    assert chain.canonical({decomposed: 1}) != chain.canonical({composed: 1})


def test_canonical_refuses_nan_and_infinity() -> None:
    for number in (float("nan"), float("inf"), float("-inf")):
        with pytest.raises(ValueError, match="JSON"):
            chain.canonical({"x": number})


def test_canonical_numbers_are_as_python_writes_them() -> None:
    assert chain.canonical([1, 1.0, 0.1, -0.0, 10**20, 1e300]) == (
        b"[1,1.0,0.1,-0.0,100000000000000000000,1e+300]"
    )


# -- content_digest ------------------------------------------------------------------------------


def changed(value: Any) -> Any:
    """Return a value whose canonical form differs from *value*'s."""
    if isinstance(value, bool) or value is None:
        return "x" if value is None else not value
    if isinstance(value, str):
        return value + "!"
    if isinstance(value, dt.datetime):
        return value + dt.timedelta(microseconds=1)
    if isinstance(value, dict):
        return {**value, "\x00new": 1}
    return [value]


OPTIONAL_TEXT = st.none() | st.text(max_size=12)
ENTRIES = st.builds(
    AuditEntry,
    timestamp=st.datetimes(
        min_value=dt.datetime(1970, 1, 2), max_value=dt.datetime(2100, 1, 1), timezones=st.just(UTC)
    ),
    action=st.sampled_from(["shop.order.paid", "auth.user.login", "a.b"]),
    level=st.sampled_from(["INFO", "WARNING"]),
    logger=st.text(max_size=8),
    message=st.text(max_size=20),
    actor_type=OPTIONAL_TEXT,
    actor_id=OPTIONAL_TEXT,
    actor_text=OPTIONAL_TEXT,
    object_type=OPTIONAL_TEXT,
    object_id=OPTIONAL_TEXT,
    object_text=OPTIONAL_TEXT,
    scope=OPTIONAL_TEXT,
    data=st.dictionaries(KEYS.filter(bool), JSON, max_size=4),
    context=st.dictionaries(KEYS.filter(bool), JSON, max_size=3),
    visible=st.booleans(),
    seed=st.binary(min_size=16, max_size=16).map(bytes.hex),
)


@given(ENTRIES, st.sampled_from(HEAD_FIELDS))
def test_content_digest_changes_with_any_head_field(item: AuditEntry, name: str) -> None:
    other = dataclasses.replace(item, **{name: changed(getattr(item, name))})
    assert chain.content_digest(other) != chain.content_digest(item)


@given(ENTRIES, st.data())
def test_content_digest_changes_with_any_unit_value(item: AuditEntry, data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(chain.unit_names(item)))
    if name.startswith("data."):
        other = dataclasses.replace(
            item, data={**item.data, name[5:]: changed(item.data[name[5:]])}
        )
    else:
        other = dataclasses.replace(item, **{name: changed(getattr(item, name))})
    assert chain.content_digest(other) != chain.content_digest(item)


@given(ENTRIES, st.binary(min_size=16, max_size=16).map(bytes.hex))
def test_content_digest_changes_with_the_seed(item: AuditEntry, seed: str) -> None:
    if seed != item.seed:
        assert chain.content_digest(dataclasses.replace(item, seed=seed)) != (
            chain.content_digest(item)
        )


def test_content_digest_changes_with_a_data_key_added_or_removed() -> None:
    item = entry(seed=SEED)
    assert chain.content_digest(dataclasses.replace(item, data={**item.data, "x": None})) != (
        chain.content_digest(item)
    )
    assert chain.content_digest(dataclasses.replace(item, data={"amount": "12.50"})) != (
        chain.content_digest(item)
    )


def test_content_digest_changes_when_a_value_under_an_nfc_twin_key_changes() -> None:
    """Two data keys that differ only in normalisation are two units: both are covered."""
    twins = {"\u00e9": "12.50", "e\u0301": "x"}  # "é" composed, and decomposed
    item = entry(data=twins, seed=SEED)
    tampered = dataclasses.replace(item, data={"\u00e9": "99.99", "e\u0301": "x"})
    assert chain.content_digest(tampered) != chain.content_digest(item)
    nested = entry(data={"k": twins}, seed=SEED)
    nested_tampered = entry(data={"k": {"\u00e9": "99.99", "e\u0301": "x"}}, seed=SEED)
    assert chain.content_digest(nested_tampered) != chain.content_digest(nested)


def test_content_digest_needs_a_seed_or_salts() -> None:
    with pytest.raises(ValueError, match="no seed"):
        chain.content_digest(entry())


def test_link_covers_the_previous_hash_the_id_and_the_content() -> None:
    content = "c" * 64
    base = chain.link("a" * 64, 5, content)
    assert base != chain.link(None, 5, content)
    assert base != chain.link("b" * 64, 5, content)
    assert base != chain.link("a" * 64, 6, content)
    assert base != chain.link("a" * 64, 5, "d" * 64)


# -- shred_entry ---------------------------------------------------------------------------------


def unit_value(item: AuditEntry, name: str) -> Any:
    return item.data[name[5:]] if name.startswith("data.") else getattr(item, name)


def shredded_value(name: str) -> Any:
    """What a shredded unit holds: the marker (``context`` must stay a mapping)."""
    return {chain.SHREDDED: True} if name == "context" else chain.SHREDDED


@given(ENTRIES, st.data())
def test_shred_entry_keeps_the_content_digest_and_replaces_exactly_the_named_units(
    item: AuditEntry, data: st.DataObject
) -> None:
    names = chain.unit_names(item)
    subset = data.draw(st.lists(st.sampled_from(names), unique=True))
    content = chain.content_digest(item)
    shredded = chain.shred_entry(item, subset)
    assert chain.content_digest(shredded) == content
    assert shredded.seed is None
    assert shredded.shredded is bool(subset)
    assert sorted(shredded.shred["digests"]) == sorted(subset)  # type: ignore[index]
    for name in names:
        expected = shredded_value(name) if name in subset else unit_value(item, name)
        assert unit_value(shredded, name) == expected, name
    for name in HEAD_FIELDS:
        assert getattr(shredded, name) == getattr(item, name)
    assert item.seed is not None  # the original is untouched
    assert chain.content_digest(item) == content


@given(ENTRIES, st.data())
def test_shredding_twice_is_idempotent_and_in_steps_equals_at_once(
    item: AuditEntry, data: st.DataObject
) -> None:
    names = chain.unit_names(item)
    first = data.draw(st.lists(st.sampled_from(names), unique=True))
    second = data.draw(st.lists(st.sampled_from(names), unique=True))
    once = chain.shred_entry(item, first)
    assert chain.shred_entry(once, first) == once
    stepwise = chain.shred_entry(once, second)
    at_once = chain.shred_entry(item, sorted({*first, *second}))
    assert chain.content_digest(stepwise) == chain.content_digest(item)
    assert stepwise.message == at_once.message
    assert stepwise.data == at_once.data
    assert stepwise.context == at_once.context
    assert stepwise.shred["digests"] == at_once.shred["digests"]  # type: ignore[index]


def test_shred_entry_by_default_shreds_every_unit_and_ignores_unknown_names() -> None:
    item = entry(seed=SEED)
    everything = chain.shred_entry(item)
    assert everything.message == everything.actor_text == everything.object_text == chain.SHREDDED
    assert everything.data == {"amount": chain.SHREDDED, "n": chain.SHREDDED}
    assert everything.context == {chain.SHREDDED: True}
    assert chain.shred_entry(item, ["data.email"]) == dataclasses.replace(
        item, seed=None, shred=chain.shred_entry(item, ["data.email"]).shred
    )
    assert chain.content_digest(everything) == chain.content_digest(item)


def test_a_shredded_value_leaves_only_a_salted_digest() -> None:
    """The salt of a shredded unit is dropped: a short value cannot be found by guessing."""
    item = entry(data={"pin": "1234"}, seed=SEED)
    shredded = chain.shred_entry(item, ["data.pin"])
    record = shredded.shred or {}
    names = chain.unit_names(item)  # context, data.pin, message: the salts in that order
    position = names.index("data.pin")
    salt = hashlib.shake_256(bytes.fromhex(SEED)).digest(16 * len(names))[
        16 * position : 16 * position + 16
    ]
    material = salt + b"\0" + chain.canonical("data.pin") + b"\0" + chain.canonical("1234")
    assert record["digests"] == {"data.pin": hashlib.sha256(material).hexdigest()}
    assert shredded.seed is None
    assert "data.pin" not in record["salts"]
    assert sorted(record["salts"]) == sorted(set(chain.unit_names(item)) - {"data.pin"})
    kept = json.dumps(shredded.to_dict())
    assert "1234" not in kept
    assert salt.hex() not in kept
    assert SEED not in kept


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        (["password"], ValueError),
        (["data."], ValueError),
        ([], ValueError),
        ([5], ValueError),
        ("message", TypeError),
    ],
)
def test_check_fields_refuses_unknown_fields(fields: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        chain.check_fields(fields)


def test_check_fields_accepts_personal_fields_and_data_keys() -> None:
    assert chain.check_fields(None) is None
    assert chain.check_fields([*chain.PERSONAL_FIELDS, "data.email"]) == (
        *chain.PERSONAL_FIELDS,
        "data.email",
    )


# -- stores: helpers -----------------------------------------------------------------------------


def open_kind(kind: str, directory: Path) -> Store:
    if kind == "sqlite":
        return SQLiteStore(str(directory / "audit.sqlite3"), synchronous="NORMAL")
    if kind == "jsonl":
        return JSONLStore(str(directory / "audit.jsonl"))
    return MemoryStore()


class Trail:
    """A store of one kind, and the raw access an attacker has to it."""

    def __init__(self, kind: str, directory: Path) -> None:
        self.kind = kind
        self.directory = directory
        self.path = directory / ("audit.sqlite3" if kind == "sqlite" else "audit.jsonl")
        self.store = open_kind(kind, directory)

    def reopen(self) -> Store:
        if self.kind != "memory":
            self.store.close()
            self.store = open_kind(self.kind, self.directory)
        return self.store

    @property
    def memory(self) -> MemoryStore:
        assert isinstance(self.store, MemoryStore)
        return self.store

    # SQLite: the file through the sqlite3 module -----------------------------------------------

    def sql(self, statement: str, *params: Any) -> list[tuple[Any, ...]]:
        self.store.close()
        connection = sqlite3.connect(self.path, isolation_level=None)
        try:
            return connection.execute(statement, params).fetchall()
        finally:
            connection.close()

    def sql_columns(self) -> list[str]:
        return [row[1] for row in self.sql(f"PRAGMA table_info({TABLE})")]

    # JSONL: the file's lines --------------------------------------------------------------------

    def lines(self) -> list[str]:
        return self.path.read_text(encoding="utf-8").splitlines(keepends=True)

    def write_lines(self, lines: list[str]) -> None:
        self.path.write_text("".join(lines), encoding="utf-8")

    def line_index(self, entry_id: int) -> int:
        lines = self.lines()
        return next(i for i, line in enumerate(lines) if json.loads(line).get("id") == entry_id)

    # memory: the private list -------------------------------------------------------------------

    def memory_index(self, entry_id: int) -> int:
        return next(i for i, item in enumerate(self.memory._entries) if item.id == entry_id)


@pytest.fixture(params=KINDS)
def trail(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Trail]:
    """A store of each kind holding entries 1 to 10, one hour apart from T0."""
    made = Trail(request.param, tmp_path)
    made.store.append([entry(number) for number in range(1, 11)])
    try:
        yield made
    finally:
        made.store.close()


def check(report: chain.VerifyReport, entry_id: int, kind: str) -> None:
    assert report.ok is False, report
    assert report.problem is not None
    assert (report.problem.id, report.problem.kind) == (entry_id, kind), str(report)


def sqlite_row(item: AuditEntry, columns: list[str]) -> list[Any]:
    """Return the row of *item* in the table's column order, as an attacker would write it."""
    values = item.to_dict()
    values["timestamp"] = item.timestamp.astimezone(UTC).isoformat(timespec="microseconds")
    for name in ("data", "context", "shred"):
        values[name] = None if values[name] is None else json.dumps(values[name])
    values["visible"], values["shredded"] = int(item.visible), int(item.shredded)
    return [values[name] for name in columns]


def jsonl_line(item: AuditEntry) -> str:
    values = item.to_dict()
    values["timestamp"] = item.timestamp.astimezone(UTC).isoformat()
    return json.dumps(values) + "\n"


# -- tampering -----------------------------------------------------------------------------------


def test_an_untouched_trail_verifies(trail: Trail) -> None:
    report = trail.reopen().verify()
    assert report.ok, report
    assert (report.checked, report.first_id, report.last_id, report.anchor_id) == (10, 1, 10, None)
    assert str(report) == "OK: 10 entries verified (ids 1 to 10)"


@pytest.mark.parametrize("kind", KINDS)
def test_awkward_text_survives_the_round_trip_and_verifies(kind: str, tmp_path: Path) -> None:
    """Lone surrogates (undecodable file names), NFD text, big ints and floats."""
    store = open_kind(kind, tmp_path)
    store.append(
        [
            entry(1, message="upload of \udcff.txt", data={"file": "\udcff\udc80", "n": 2**64}),
            entry(2, message="cafe\u0301", data={"cafe\u0301": 0.1, "x": [-0.0, 1e300, None]}),
            entry(3, actor_text="\U0001f600 \u00e9", context={"k": {"b": 1, "a": [True]}}),
        ]
    )
    store.close()
    store = open_kind(kind, tmp_path) if kind != "memory" else store
    try:
        report = store.verify()
    finally:
        store.close()
    assert report.ok, report
    assert report.checked == 3


@pytest.mark.parametrize("kind", KINDS)
def test_an_empty_store_verifies(kind: str, tmp_path: Path) -> None:
    store = open_kind(kind, tmp_path)
    try:
        report = store.verify()
    finally:
        store.close()
    assert report.ok, report
    assert (report.checked, report.first_id, report.anchor_id) == (0, None, None)
    assert str(report) == "OK: 0 entries verified"


def test_one_changed_byte_of_data_is_changed_content(trail: Trail) -> None:
    if trail.kind == "sqlite":
        (data,) = trail.sql(f"SELECT data FROM {TABLE} WHERE id = 5")[0]
        tampered = data.replace("12.50", "12.51")
        assert sum(a != b for a, b in zip(data, tampered, strict=True)) == 1
        trail.sql(f"UPDATE {TABLE} SET data = ? WHERE id = 5", tampered)
    elif trail.kind == "jsonl":
        lines, index = trail.lines(), trail.line_index(5)
        lines[index] = lines[index].replace('"12.50"', '"12.51"', 1)
        trail.write_lines(lines)
    else:
        trail.memory._entries[trail.memory_index(5)].data["amount"] = "12.51"
    report = trail.reopen().verify()
    check(report, 5, "changed content")
    assert report.checked == 5


def test_a_deleted_entry_in_the_middle_is_a_missing_entry(trail: Trail) -> None:
    if trail.kind == "sqlite":
        trail.sql(f"DELETE FROM {TABLE} WHERE id = 5")
    elif trail.kind == "jsonl":
        lines = trail.lines()
        del lines[trail.line_index(5)]
        trail.write_lines(lines)
    else:
        index = trail.memory_index(5)
        del trail.memory._entries[index], trail.memory._ids[index]
    check(trail.reopen().verify(), 5, "missing entry")


def test_a_forged_entry_with_a_recomputed_hash_is_an_inserted_entry(trail: Trail) -> None:
    """The attacker inserts a well-formed entry 6 after 5 and renumbers the later ones."""
    before = trail.store.get(5)
    assert before is not None
    forged = entry(6, action="shop.order.refunded", data={"amount": "9999.00"})
    content = chain.prepare(forged)
    forged.id, forged.prev_hash = 6, before.hash
    forged.hash = chain.link(before.hash, 6, content)
    assert chain.content_digest(forged) == content
    if trail.kind == "sqlite":
        columns = trail.sql_columns()
        trail.sql(f"UPDATE {TABLE} SET id = -id WHERE id >= 6")
        trail.sql(f"UPDATE {TABLE} SET id = 1 - id WHERE id < 0")
        marks = ", ".join("?" * len(columns))
        trail.sql(
            f"INSERT INTO {TABLE} ({', '.join(columns)}) VALUES ({marks})",
            *sqlite_row(forged, columns),
        )
        assert [row[0] for row in trail.sql(f"SELECT id FROM {TABLE} ORDER BY id")] == list(
            range(1, 12)
        )
    elif trail.kind == "jsonl":
        lines = []
        for line in trail.lines():
            values = json.loads(line)
            if values["id"] == 6:
                lines.append(jsonl_line(forged))
            if values["id"] >= 6:
                values["id"] += 1
            lines.append(json.dumps(values) + "\n")
        trail.write_lines(lines)
    else:
        for item in trail.memory._entries[5:]:
            item.id = (item.id or 0) + 1
        trail.memory._entries.insert(5, forged)
        trail.memory._ids[:] = [item.id for item in trail.memory._entries]  # type: ignore[misc]
    report = trail.reopen().verify()
    check(report, 6, "inserted entry")
    assert report.checked == 7  # the forged entry itself links; the one after it does not


@pytest.mark.parametrize(("low", "high", "kind"), [(4, 5, "reordered entries"), (4, 8, None)])
def test_two_swapped_entries_are_found_at_the_first(
    trail: Trail, low: int, high: int, kind: str | None
) -> None:
    """Every column but the id exchanged; next to each other, it is named a reordering."""
    if trail.kind == "sqlite":
        columns = [name for name in trail.sql_columns() if name != "id"]
        first, second = (
            trail.sql(f"SELECT {', '.join(columns)} FROM {TABLE} WHERE id = ?", n)[0]
            for n in (low, high)
        )
        assignments = ", ".join(f"{name} = ?" for name in columns)
        trail.sql(f"UPDATE {TABLE} SET {assignments} WHERE id = ?", *second, low)
        trail.sql(f"UPDATE {TABLE} SET {assignments} WHERE id = ?", *first, high)
    elif trail.kind == "jsonl":
        lines = trail.lines()
        a, b = trail.line_index(low), trail.line_index(high)
        one, other = json.loads(lines[a]), json.loads(lines[b])
        one["id"], other["id"] = high, low
        lines[a], lines[b] = json.dumps(other) + "\n", json.dumps(one) + "\n"
        trail.write_lines(lines)
    else:
        entries = trail.memory._entries
        a, b = trail.memory_index(low), trail.memory_index(high)
        entries[a], entries[b] = (
            dataclasses.replace(entries[b], id=low),
            dataclasses.replace(entries[a], id=high),
        )
    report = trail.reopen().verify()
    if kind is None:  # far apart: at least the right place
        assert report.problem is not None
        check(report, low, report.problem.kind)
    else:
        check(report, low, kind)


def test_a_truncated_tail_is_found_through_the_head(trail: Trail) -> None:
    if trail.kind == "sqlite":
        trail.sql(f"DELETE FROM {TABLE} WHERE id > 7")
    elif trail.kind == "jsonl":
        trail.write_lines(trail.lines()[:-3])
    else:
        del trail.memory._entries[-3:], trail.memory._ids[-3:]
    report = trail.reopen().verify()
    check(report, 8, "missing entries")
    assert report.checked == 7


def test_a_jsonl_head_that_lags_after_a_crash_is_no_problem(tmp_path: Path) -> None:
    store = JSONLStore(str(tmp_path / "audit.jsonl"))
    store.append([entry(number) for number in range(1, 4)])
    head = (tmp_path / "audit.jsonl.head").read_text(encoding="utf-8")
    store.append([entry(4)])
    (tmp_path / "audit.jsonl.head").write_text(head, encoding="utf-8")  # crashed before it
    assert store.verify().ok


def test_a_changed_seed_is_changed_content(trail: Trail) -> None:
    other = "a1" * 16
    if trail.kind == "sqlite":
        trail.sql(f"UPDATE {TABLE} SET seed = ? WHERE id = 3", other)
    elif trail.kind == "jsonl":
        lines, index = trail.lines(), trail.line_index(3)
        values = json.loads(lines[index])
        assert values["seed"] not in (None, other)
        values["seed"] = other
        lines[index] = json.dumps(values) + "\n"
        trail.write_lines(lines)
    else:
        trail.memory._entries[trail.memory_index(3)].seed = other
    check(trail.reopen().verify(), 3, "changed content")


@pytest.mark.parametrize("kind", ["sqlite", "jsonl"])
def test_an_entry_that_no_longer_parses_is_reported_not_raised(kind: str, tmp_path: Path) -> None:
    """One byte that breaks the JSON of an entry is a problem to report, not a crash."""
    trail = Trail(kind, tmp_path)
    trail.store.append([entry(number) for number in range(1, 6)])
    if kind == "sqlite":
        (data,) = trail.sql(f"SELECT data FROM {TABLE} WHERE id = 3")[0]
        trail.sql(f"UPDATE {TABLE} SET data = ? WHERE id = 3", data[:-1] + "]")
        expected = "changed content"
    else:
        lines, index = trail.lines(), trail.line_index(3)
        lines[index] = lines[index][:-2] + "]\n"
        trail.write_lines(lines)
        expected = "missing entry"  # an unreadable line is skipped
    try:
        check(trail.reopen().verify(), 3, expected)
    finally:
        trail.store.close()


def test_a_changed_head_record_is_found_in_sqlite(tmp_path: Path) -> None:
    trail = Trail("sqlite", tmp_path)
    trail.store.append([entry(number) for number in range(1, 4)])
    trail.sql(f"UPDATE {STATE} SET head_hash = ?", "0" * 64)
    check(trail.reopen().verify(), 3, "head mismatch")
    trail.store.close()


def test_verify_reports_progress_every_10000_entries_and_at_the_end(tmp_path: Path) -> None:
    store = SQLiteStore(str(tmp_path / "audit.sqlite3"), synchronous="NORMAL")
    try:
        store.append([entry(1 + n % 10) for n in range(20_005)])
        seen: list[int] = []
        report = store.verify(progress=seen.append)
    finally:
        store.close()
    assert report.ok, report
    assert seen == [10_000, 20_000, 20_005]


# -- shredding -----------------------------------------------------------------------------------

ANN = {"actor_type": "shop.Customer", "actor_id": "c-1001", "actor_text": SECRET}
ANN_OBJECT = {
    "object_type": "shop.Customer",
    "object_id": "1001",
    "object_text": f"Ann Secret <{SECRET}>",
}


def customer_entries() -> list[AuditEntry]:
    """Ann's entries (by her, about her, both, invisible) among others'."""
    return [
        entry(1, **ANN, **ANN_OBJECT, message=f"{SECRET} signed up", data={"email": SECRET}),
        entry(2),  # alice about order 2
        entry(3, **ANN_OBJECT, data={"email": SECRET, "amount": "3.00"}),  # admin about Ann
        entry(4, **ANN, context={"client_ip": "198.51.100.23", "mail": SECRET}),  # Ann, order 4
        entry(5, **ANN, **ANN_OBJECT, visible=False, data={"note": f"call {SECRET}"}),
        entry(6),
    ]


def raw_files(trail: Trail) -> dict[str, bytes]:
    found = {}
    for suffix in ("", "-wal", "-shm", "-journal"):
        path = Path(f"{trail.path}{suffix}")
        if path.exists():
            found[path.name] = path.read_bytes()
    return found


def files_holding(trail: Trail, needle: str) -> list[str]:
    return [name for name, data in raw_files(trail).items() if needle.encode() in data]


@pytest.fixture(params=KINDS)
def customers(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Trail]:
    made = Trail(request.param, tmp_path)
    made.store.append(customer_entries())
    try:
        yield made
    finally:
        made.store.close()


def test_shredding_by_object_keeps_verify_passing_and_is_recorded(customers: Trail) -> None:
    store = customers.store
    report = store.shred(object=("shop.Customer", "1001"), reason="GDPR request 17", by="admin")
    assert (report.entries, report.dry_run) == (3, False)
    assert sorted(report.changes) == [1, 3, 5]
    assert str(report) == "shredded personal data in 3 entries"
    verified = customers.reopen().verify()
    assert verified.ok, verified
    assert verified.checked == 7


def test_shredding_by_object_replaces_every_personal_value_of_those_entries(
    customers: Trail,
) -> None:
    store = customers.store
    report = store.shred(object=("shop.Customer", "1001"), reason="GDPR request 17", by="admin")
    assert report.entries == 3  # 1, 3 and the invisible 5
    assert report.changes == {
        1: ["actor_text", "context", "data.email", "message", "object_text"],
        3: ["actor_text", "context", "data.amount", "data.email", "message", "object_text"],
        5: ["actor_text", "context", "data.note", "message", "object_text"],
    }
    store = customers.reopen()
    for entry_id in (1, 3, 5):
        item = store.get(entry_id)
        assert item is not None
        assert item.shredded
        assert (item.message, item.actor_text, item.object_text) == (chain.SHREDDED,) * 3
        assert set(item.data.values()) == {chain.SHREDDED}
        assert item.context == {chain.SHREDDED: True}
        assert (item.actor_id, item.object_id, item.action) == (
            "c-1001" if entry_id != 3 else "u-7",
            "1001",
            "shop.order.paid",
        )
    untouched = store.get(4)
    assert untouched is not None
    assert (untouched.shredded, untouched.actor_text) == (False, SECRET)
    verified = store.verify()
    assert verified.ok, verified
    assert verified.checked == 7


def test_the_shredding_is_recorded_as_an_audit_entry(customers: Trail) -> None:
    customers.store.shred(actor="c-1001", reason="GDPR request 17", by="dpo@example.com")
    record = customers.reopen().query(limit=1)[0]
    assert (record.id, record.action, record.logger) == (
        7,
        "structlogx.audit.shredded",
        "structlogx.audit",
    )
    assert record.actor_id == "dpo@example.com"
    assert record.data == {
        "object": None,
        "actor": "c-1001",
        "fields": "all",
        "reason": "GDPR request 17",
        "entries": 3,
    }
    assert "GDPR request 17" in record.message
    assert SECRET not in json.dumps(record.to_dict())


def test_shredding_by_actor_then_by_object_leaves_no_value_in_the_raw_files(
    customers: Trail,
) -> None:
    assert files_holding(customers, SECRET) or customers.kind == "memory"
    by_actor = customers.store.shred(actor="c-1001", reason="GDPR request 17")
    assert sorted(by_actor.changes) == [1, 4, 5]
    by_object = customers.store.shred(object=("shop.Customer", "1001"), reason="GDPR request 17")
    assert sorted(by_object.changes) == [3]  # 1 and 5 were shredded before
    store = customers.reopen()
    verified = store.verify()
    assert verified.ok, verified
    assert verified.checked == 8
    for needle in (SECRET, "ann.secret", "198.51.100.23"):
        assert files_holding(customers, needle) == [], needle
    if customers.kind == "sqlite":  # while the store is open and after closing it
        store.append([entry(9)])
        assert files_holding(customers, "ann.secret") == []
        store.close()
        assert files_holding(customers, "ann.secret") == []
        store = customers.reopen()
    report = store.prune(T0 + dt.timedelta(hours=3))
    assert report.entries == 3
    assert store.verify().ok
    assert files_holding(customers, "ann.secret") == []


def test_a_shredded_value_changed_afterwards_is_changed_content(customers: Trail) -> None:
    """A shredded value may only be the marker: anything else there is unverified text."""
    customers.store.shred(object=("shop.Customer", "1001"), reason="GDPR")
    forged = "Ann approved the refund of 9999.00"
    if customers.kind == "sqlite":
        customers.sql(f"UPDATE {TABLE} SET message = ? WHERE id = 3", forged)
    elif customers.kind == "jsonl":
        lines, index = customers.lines(), customers.line_index(3)
        values = json.loads(lines[index])
        assert values["message"] == chain.SHREDDED
        values["message"] = forged
        lines[index] = json.dumps(values) + "\n"
        customers.write_lines(lines)
    else:
        customers.memory._entries[customers.memory_index(3)].message = forged
    check(customers.reopen().verify(), 3, "changed content")


def test_shred_waits_for_a_reader_to_finish_before_emptying_the_wal(tmp_path: Path) -> None:
    """A reader on an old snapshot delays the checkpoint; the old values still leave the disk."""
    trail = Trail("sqlite", tmp_path)
    trail.store.append(customer_entries())
    reader = sqlite3.connect(trail.path, isolation_level=None, check_same_thread=False)
    reader.execute("BEGIN")
    reader.execute(f"SELECT count(*) FROM {TABLE}").fetchone()  # holds its snapshot
    timer = threading.Timer(0.4, reader.close)
    timer.start()
    try:
        trail.store.shred(actor="c-1001", reason="GDPR")
        trail.store.shred(object=("shop.Customer", "1001"), reason="GDPR")
    finally:
        timer.join()
    try:
        assert files_holding(trail, "ann.secret") == []
        assert trail.store.verify().ok
    finally:
        trail.store.close()


def test_pruning_removes_old_values_from_the_raw_files(customers: Trail) -> None:
    report = customers.store.prune(T0 + dt.timedelta(hours=4, minutes=30))
    assert (report.entries, report.anchor_id) == (5, 5)  # every entry about Ann
    store = customers.reopen()
    assert store.verify().ok
    if customers.kind != "memory":
        assert files_holding(customers, "ann.secret") == []


def test_shredding_only_the_named_fields(customers: Trail) -> None:
    report = customers.store.shred(
        object=("shop.Customer", "1001"), fields=["data.email", "object_text"], reason="GDPR"
    )
    assert report.changes == {
        1: ["data.email", "object_text"],
        3: ["data.email", "object_text"],
        5: ["object_text"],
    }
    store = customers.reopen()
    first = store.get(1)
    assert first is not None
    assert first.data == {"email": chain.SHREDDED}
    assert first.object_text == chain.SHREDDED
    assert first.message == f"{SECRET} signed up"
    assert first.actor_text == SECRET
    assert first.shredded
    record = store.query(action="structlogx.audit.shredded")[0]
    assert record.data["fields"] == ["data.email", "object_text"]
    assert record.data["object"] == ["shop.Customer", "1001"]
    assert store.verify().ok
    again = store.shred(object=("shop.Customer", "1001"), reason="GDPR")  # the rest of them
    assert sorted(again.changes) == [1, 3, 5]
    assert "data.email" not in again.changes[1]
    assert store.verify().ok


def snapshot(trail: Trail) -> Any:
    if trail.kind == "memory":
        return copy.deepcopy(trail.memory._entries)
    if trail.kind == "jsonl":
        return trail.path.read_bytes()
    return trail.sql(f"SELECT * FROM {TABLE} ORDER BY id") + trail.sql(f"SELECT * FROM {STATE}")


def test_a_dry_run_shred_lists_the_changes_and_changes_nothing(customers: Trail) -> None:
    before = snapshot(customers)
    store = customers.reopen()
    report = store.shred(actor="c-1001", fields=["actor_text"], reason="GDPR", dry_run=True)
    assert (report.dry_run, report.entries) == (True, 3)
    assert report.changes == {1: ["actor_text"], 4: ["actor_text"], 5: ["actor_text"]}
    assert str(report) == "would shred personal data in 3 entries"
    assert snapshot(customers) == before
    assert customers.reopen().count(visible=None) == 6


def test_shredding_nothing_records_nothing(customers: Trail) -> None:
    report = customers.store.shred(actor="nobody", reason="GDPR")
    assert (report.entries, report.changes) == (0, {})
    assert customers.reopen().count(visible=None) == 6


@pytest.mark.parametrize(
    ("arguments", "error", "match"),
    [
        ({"reason": "GDPR"}, ValueError, "object= or actor="),
        ({"actor": "c-1001", "reason": ""}, ValueError, "reason"),
        ({"actor": "c-1001", "reason": "   "}, ValueError, "reason"),
        ({"actor": "c-1001", "reason": "GDPR", "fields": ["email"]}, ValueError, "email"),
        ({"actor": "c-1001", "reason": "GDPR", "fields": []}, ValueError, "empty"),
        ({"actor": "c-1001", "reason": "GDPR", "fields": "message"}, TypeError, "list"),
    ],
)
def test_bad_shred_input_raises_and_changes_nothing(
    customers: Trail, arguments: dict[str, Any], error: type[Exception], match: str
) -> None:
    before = snapshot(customers)
    store = customers.reopen()
    with pytest.raises(error, match=match):
        store.shred(**arguments)
    assert snapshot(customers) == before


# -- pruning -------------------------------------------------------------------------------------


def test_pruning_leaves_an_anchor_and_verify_starts_after_it(trail: Trail) -> None:
    report = trail.store.prune(T0 + dt.timedelta(hours=4, minutes=30), reason="90 days", by="ops")
    assert (report.entries, report.anchor_id, report.dry_run) == (5, 5, False)
    assert str(report) == "pruned 5 entries; the chain starts after entry 5"
    store = trail.reopen()
    verified = store.verify()
    assert verified.ok, verified
    assert (verified.checked, verified.first_id, verified.last_id, verified.anchor_id) == (
        6,
        6,
        11,
        5,
    )
    assert str(verified) == "OK: 6 entries verified (ids 6 to 11) after the pruning anchor 5"
    assert store.get(5) is None
    assert store.count(visible=None) == 6
    record = store.get(11)
    assert record is not None
    assert (record.action, record.actor_id) == ("structlogx.audit.pruned", "ops")
    assert record.data == {
        "before": (T0 + dt.timedelta(hours=4, minutes=30)).isoformat(),
        "entries": 5,
        "anchor_id": 5,
        "reason": "90 days",
    }


def test_pruning_again_and_pruning_everything(trail: Trail) -> None:
    cut = T0 + dt.timedelta(hours=4, minutes=30)
    trail.store.prune(cut)
    again = trail.store.prune(cut)
    assert (again.entries, again.anchor_id) == (0, 5)
    assert trail.store.count(visible=None) == 6  # nothing pruned, nothing recorded
    everything = trail.store.prune(dt.datetime.now(UTC) + dt.timedelta(days=1))
    assert (everything.entries, everything.anchor_id) == (6, 11)
    verified = trail.reopen().verify()
    assert verified.ok, verified
    assert (verified.checked, verified.first_id, verified.anchor_id) == (1, 12, 11)


def test_a_dry_run_prune_changes_nothing(trail: Trail) -> None:
    before = snapshot(trail)
    store = trail.reopen()
    report = store.prune(T0 + dt.timedelta(hours=4, minutes=30), dry_run=True)
    assert (report.entries, report.anchor_id, report.dry_run) == (5, 5, True)
    assert str(report) == "would prune 5 entries; the chain starts after entry 5"
    assert snapshot(trail) == before
    assert trail.reopen().verify().anchor_id is None


def test_a_prune_with_nothing_old_enough(trail: Trail) -> None:
    report = trail.store.prune(T0 - dt.timedelta(days=1), dry_run=True)
    assert (report.entries, report.anchor_id, report.dry_run) == (0, None, True)
    assert str(report) == "would prune 0 entries"
    report = trail.store.prune(T0 - dt.timedelta(days=1))
    assert (report.entries, report.anchor_id) == (0, None)
    assert trail.reopen().count(visible=None) == 10


def test_prune_refuses_a_before_that_is_not_a_datetime(trail: Trail) -> None:
    with pytest.raises(TypeError, match="datetime"):
        trail.store.prune("2024-05-01")  # type: ignore[arg-type]


def test_a_tampered_anchor_is_found(trail: Trail) -> None:
    trail.store.prune(T0 + dt.timedelta(hours=4, minutes=30))
    forged = "0" * 64
    if trail.kind == "sqlite":
        trail.sql(f"UPDATE {STATE} SET anchor_hash = ?", forged)
    elif trail.kind == "jsonl":
        lines = trail.lines()
        anchor = json.loads(lines[0])
        assert anchor["structlogx_anchor"]["id"] == 5
        anchor["structlogx_anchor"]["hash"] = forged
        lines[0] = json.dumps(anchor) + "\n"
        trail.write_lines(lines)
    else:
        trail.memory._anchor = (5, forged)
    check(trail.reopen().verify(), 6, "broken link")


def test_entries_deleted_right_after_the_anchor_are_missing(trail: Trail) -> None:
    trail.store.prune(T0 + dt.timedelta(hours=4, minutes=30))
    if trail.kind == "sqlite":
        trail.sql(f"DELETE FROM {TABLE} WHERE id IN (6, 7)")
    elif trail.kind == "jsonl":
        lines = trail.lines()
        trail.write_lines([lines[0], *lines[3:]])  # the anchor line stays
    else:
        del trail.memory._entries[:2], trail.memory._ids[:2]
    check(trail.reopen().verify(), 6, "missing entry")


def test_a_tail_truncated_after_the_anchor(trail: Trail) -> None:
    trail.store.prune(T0 + dt.timedelta(hours=4, minutes=30))  # 6..10 remain, 11 records it
    if trail.kind == "sqlite":
        trail.sql(f"DELETE FROM {TABLE} WHERE id > 8")
    elif trail.kind == "jsonl":
        trail.write_lines(trail.lines()[:-3])
    else:
        del trail.memory._entries[-3:], trail.memory._ids[-3:]
    report = trail.reopen().verify()
    check(report, 9, "missing entries")


# -- shredding and reloading through real stores (property) --------------------------------------


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ENTRIES, st.data())
def test_a_shredded_entry_reloaded_from_a_real_store_still_verifies(
    item: AuditEntry, data: st.DataObject
) -> None:
    item = dataclasses.replace(item, object_type="shop.Customer", object_id="1001", seed=None)
    names = chain.unit_names(item)
    fields = data.draw(st.none() | st.lists(st.sampled_from(names), min_size=1, unique=True))
    with tempfile.TemporaryDirectory() as directory:
        for kind in KINDS:
            store = open_kind(kind, Path(directory))
            try:
                copied = copy.deepcopy(item)
                store.append([entry(1), copied])
                stored = store.get(2)
                assert stored is not None
                content = chain.content_digest(stored)
                store.shred(object=("shop.Customer", "1001"), fields=fields, reason="GDPR")
                store.close()
                store = open_kind(kind, Path(directory)) if kind != "memory" else store
                reloaded = store.get(2)
                assert reloaded is not None
                assert chain.content_digest(reloaded) == content, kind
                assert reloaded.hash == stored.hash
                report = store.verify()
                assert report.ok, (kind, str(report))
                assert report.checked == 3
            finally:
                store.close()
            for name in os.listdir(directory):
                os.remove(os.path.join(directory, name))


# -- concurrency ---------------------------------------------------------------------------------

WRITER = textwrap.dedent(
    """
    import datetime as dt, os, sys, time
    from structlogx.audit.sqlite import SQLiteStore
    from structlogx.records import AuditEntry

    path, source, count, go = sys.argv[1:]
    store = SQLiteStore(path, synchronous="NORMAL")
    while not os.path.exists(go):
        time.sleep(0.002)
    for k in range(int(count)):
        store.append([AuditEntry(timestamp=dt.datetime.now(dt.timezone.utc),
                                 action="test.chain.write", data={"src": source, "k": k})])
    store.close()
    """
)


def test_threads_and_processes_appending_at_once_make_one_unbroken_chain(tmp_path: Path) -> None:
    path = str(tmp_path / "audit.sqlite3")
    go = tmp_path / "go"
    per_writer = 300
    store = SQLiteStore(path, synchronous="NORMAL")
    processes = [
        subprocess.Popen([sys.executable, "-c", WRITER, path, f"p{n}", str(per_writer), str(go)])
        for n in range(2)
    ]
    failures: list[BaseException] = []

    def write(source: str) -> None:
        try:
            for k in range(0, per_writer, 3):  # batches of up to three
                batch = range(k, min(k + 3, per_writer))
                store.append(
                    [
                        AuditEntry(
                            timestamp=dt.datetime.now(UTC),
                            action="test.chain.write",
                            data={"src": source, "k": n},
                        )
                        for n in batch
                    ]
                )
        except BaseException as exc:  # pragma: no cover - reported below
            failures.append(exc)

    threads = [threading.Thread(target=write, args=(f"t{n}",)) for n in range(4)]
    time.sleep(0.3)  # the children are waiting for "go"
    go.touch()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    codes = [process.wait(60) for process in processes]
    assert failures == []
    assert codes == [0, 0]
    report = store.verify()
    total = 6 * per_writer
    assert report.ok, report
    assert (report.checked, report.first_id, report.last_id) == (total, 1, total)
    assert store.count(visible=None) == total
    entries = sorted(store.query(limit=None), key=lambda item: item.id or 0)
    by_source: dict[str, list[int]] = {}
    for item in entries:
        by_source.setdefault(item.data["src"], []).append(item.data["k"])
    assert by_source == {
        source: list(range(per_writer)) for source in ["t0", "t1", "t2", "t3", "p0", "p1"]
    }
    store.close()


# -- schema version 1 ----------------------------------------------------------------------------


def test_a_schema_v1_file_migrates_and_its_legacy_row_is_unchained(tmp_path: Path) -> None:
    path = tmp_path / "audit.sqlite3"
    connection = sqlite3.connect(path, isolation_level=None)
    for statement in MIGRATIONS[0]:
        connection.execute(statement)
    connection.execute("CREATE TABLE structlogx_schema (version INTEGER NOT NULL)")
    connection.execute("INSERT INTO structlogx_schema (version) VALUES (1)")
    connection.execute(
        f"INSERT INTO {TABLE} (timestamp, action, level, logger, message, data, context) "
        "VALUES (?, 'shop.order.paid', 'INFO', 'shop', 'legacy', '{}', '{}')",
        (T0.isoformat(timespec="microseconds"),),
    )
    connection.close()
    store = SQLiteStore(str(path))
    try:
        assert store.schema_version() == 2
        legacy = store.get(1)
        assert legacy is not None
        assert (legacy.message, legacy.hash, legacy.seed) == ("legacy", None, None)
        report = store.verify()
        check(report, 1, "unchained entry")
        store.append([entry(2)])
        assert store.get(2) is not None
        check(store.verify(), 1, "unchained entry")
    finally:
        store.close()
    columns = [row[1] for row in sqlite3.connect(path).execute(f"PRAGMA table_info({TABLE})")]
    assert columns[-2:] == ["seed", "shred"]
