"""Tests for structlogx.audit stores: one contract suite over every store kind, then SQLite.

The contract (``store.py``): ``append`` assigns increasing ids and sets ``entry.id``; ``query``
returns entries newest first, filtered by :class:`~structlogx.audit.Query`, paginated by keyset
(``after=``); ``count`` ignores ``limit``/``after``; values are bound, never spliced into SQL.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from audit_helpers import T0, Order, User, entry_fields, make_entry, sqlite_url, table_rows

from structlogx.audit import SCHEMES, Query, Store, open_store
from structlogx.audit.jsonl import JSONLStore
from structlogx.audit.memory import MemoryStore
from structlogx.audit.sqlite import MIGRATIONS, TABLE, SQLiteStore
from structlogx.handlers import AuditHandler
from structlogx.records import AuditEntry, Described

STORE_KINDS = ("sqlite-file", "sqlite-memory", "memory", "jsonl")

IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def url_for(kind: str, tmp_path: Path) -> str:
    """Return a fresh store URL of *kind* under *tmp_path*."""
    if kind == "sqlite-file":
        return sqlite_url(tmp_path / "audit.sqlite3")
    if kind == "sqlite-memory":
        return "sqlite://:memory:"
    if kind == "memory":
        return f"memory://contract-{uuid.uuid4().hex}"  # named stores live for the process
    return "jsonl:///" + str(tmp_path / "audit.jsonl")


@pytest.fixture(params=(*STORE_KINDS, "postgres", "sqlite-bound", "postgres-bound"))
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A fresh, empty store of every kind (PostgreSQL: a fresh database, ``tests/pg_server.py``;
    sqlite-bound and postgres-bound: ``bound()`` stores on an application connection in
    autocommit mode, so each write is its own transaction)."""
    connection = None
    if request.param == "postgres":
        opened: Store = open_store(request.getfixturevalue("pg_store_url"))
    elif request.param == "postgres-bound":
        import psycopg

        from structlogx.audit.postgres import PostgresStore

        dsn = request.getfixturevalue("pg_store_url")
        connection = psycopg.connect(dsn, autocommit=True)  # type: ignore[assignment]
        opened = PostgresStore.bound(lambda: connection)
    elif request.param == "sqlite-bound":
        connection = sqlite3.connect(
            tmp_path / "app.sqlite3", isolation_level=None, check_same_thread=False
        )
        opened = SQLiteStore.bound(lambda: connection)
    else:
        opened = open_store(url_for(request.param, tmp_path))
    try:
        yield opened
    finally:
        opened.close()
        if connection is not None:
            connection.close()


def at(minutes: float) -> dt.datetime:
    """Return ``T0`` plus *minutes* (aware, UTC)."""
    return T0 + dt.timedelta(minutes=minutes)


def ids(entries: list[AuditEntry]) -> list[int]:
    return [entry.id for entry in entries]  # type: ignore[misc]


def actions(entries: list[AuditEntry]) -> set[str]:
    return {entry.action for entry in entries}


# -- open_store ---------------------------------------------------------------------------------


def test_open_store_gives_the_store_class_of_each_scheme(tmp_path: Path) -> None:
    kinds = {kind: open_store(url_for(kind, tmp_path)) for kind in STORE_KINDS}
    try:
        assert isinstance(kinds["sqlite-file"], SQLiteStore)
        assert isinstance(kinds["sqlite-memory"], SQLiteStore)
        assert isinstance(kinds["memory"], MemoryStore)
        assert isinstance(kinds["jsonl"], JSONLStore)
        for kind, opened in kinds.items():
            assert isinstance(opened, Store), kind
            assert opened.url == url_for(kind, tmp_path) or kind == "memory"
    finally:
        for opened in kinds.values():
            opened.close()


def test_same_memory_name_is_the_same_store_and_empty_name_a_fresh_one() -> None:
    name = f"memory://same-{uuid.uuid4().hex}"
    assert open_store(name) is open_store(name)
    assert open_store("memory://") is not open_store("memory://")


def test_relative_and_absolute_sqlite_urls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    relative = open_store("sqlite:///sub/rel.sqlite3")
    absolute = open_store("sqlite:///" + str(tmp_path / "abs.sqlite3"))
    try:
        relative.append([make_entry()])
        absolute.append([make_entry()])
    finally:
        relative.close()
        absolute.close()
    assert (tmp_path / "sub" / "rel.sqlite3").is_file()
    assert (tmp_path / "abs.sqlite3").is_file()


def test_misspelt_scheme_names_the_valid_ones_and_suggests_sqlite() -> None:
    with pytest.raises(ValueError, match="sqllite:///x") as caught:
        open_store("sqllite:///x")
    message = str(caught.value)
    for scheme in SCHEMES:
        assert f"{scheme}://" in message
    assert "did you mean 'sqlite'" in message


@pytest.mark.parametrize("url", ["sqlite://relative.sqlite3", "sqlite:///", "jsonl://x.jsonl"])
def test_malformed_path_urls_say_how_to_write_them(url: str) -> None:
    with pytest.raises(ValueError, match=r":///relative/path"):
        open_store(url)


def test_store_url_must_be_text() -> None:
    with pytest.raises(TypeError, match="store URL must be a str"):
        open_store(Path("audit.sqlite3"))  # type: ignore[arg-type]


# -- append / get -------------------------------------------------------------------------------


def test_append_assigns_increasing_ids_and_sets_entry_id(store: Store) -> None:
    first = [make_entry(message=f"m{i}") for i in range(3)]
    first_ids = store.append(first)
    assert first_ids == [1, 2, 3]
    assert [entry.id for entry in first] == first_ids
    second = [make_entry(message="m3"), make_entry(message="m4")]
    second_ids = store.append(second)
    assert second_ids == [4, 5]
    assert [entry.id for entry in second] == second_ids
    assert store.append([]) == []
    assert store.count() == 5


def test_get_returns_the_entry_or_none(store: Store) -> None:
    entry = make_entry(
        actor_type="shop.User",
        actor_id="7",
        actor_text="alice",
        object_type="shop.Order",
        object_id="42",
        object_text="Order ABC12",
        scope="event-1",
        data={"amount": "10.00"},
        context={"request_id": "r-1"},
        level="WARNING",
        logger="shop.orders",
    )
    (entry_id,) = store.append([entry])
    got = store.get(entry_id)
    assert got is not None
    assert got.id == entry_id
    assert entry_fields(got) == entry_fields(entry)
    assert store.get(entry_id + 1) is None
    assert store.get(0) is None
    assert store.get(2**63) is None  # beyond a 64-bit id: no such entry, no driver error
    assert store.get(-(2**64)) is None


def test_changing_an_entry_after_append_or_query_changes_nothing_stored(store: Store) -> None:
    entry = make_entry(data={"list": [1]})
    store.append([entry])
    entry.data["list"].append(2)
    entry.message = "changed"
    (found,) = store.query()
    found.data["list"].append(3)
    got = store.get(1)
    assert got is not None
    assert got.data == {"list": [1]}
    assert got.message == "paid"


# -- query: order, limit, pagination ------------------------------------------------------------


def test_query_returns_newest_first(store: Store) -> None:
    store.append([make_entry(message=f"m{i}", timestamp=at(i)) for i in range(5)])
    found = store.query()
    assert ids(found) == [5, 4, 3, 2, 1]
    assert [entry.message for entry in found] == ["m4", "m3", "m2", "m1", "m0"]


def test_newest_first_is_by_id_not_by_timestamp(store: Store) -> None:
    # Clocks step back; commit order (the id) is what "newest" means.
    store.append([make_entry(timestamp=at(10)), make_entry(timestamp=at(0))])
    assert ids(store.query()) == [2, 1]


def test_limit_defaults_to_100_and_none_means_all(store: Store) -> None:
    store.append([make_entry() for _ in range(130)])
    assert len(store.query()) == 100
    assert ids(store.query(limit=3)) == [130, 129, 128]
    assert store.query(limit=0) == []
    assert len(store.query(limit=None)) == 130


def test_keyset_pagination_gives_every_entry_exactly_once(store: Store) -> None:
    store.append([make_entry(data={"n": n}, timestamp=at(n)) for n in range(250)])
    seen: list[int] = []
    pages = []
    after = None
    while True:
        page = store.query(limit=100, after=after)
        if not page:
            break
        pages.append(len(page))
        seen += ids(page)
        after = page[-1].id
    assert pages == [100, 100, 50]
    assert seen == list(range(250, 0, -1))
    assert len(set(seen)) == 250


def test_keyset_pagination_with_a_filter(store: Store) -> None:
    store.append(
        [
            make_entry(action="shop.order.paid" if n % 3 else "shop.cart.added", visible=n % 2 == 0)
            for n in range(250)
        ]
    )
    expected = [entry.id for entry in store.query(action="shop.order.*", visible=None, limit=None)]
    seen: list[int] = []
    after = None
    while page := store.query(action="shop.order.*", visible=None, limit=30, after=after):
        seen += ids(page)
        after = page[-1].id
    assert seen == expected
    assert len(seen) == sum(1 for n in range(250) if n % 3)


# -- query: filters -----------------------------------------------------------------------------


def test_object_filter_by_instance_pair_and_described(store: Store) -> None:
    order, other = Order(42), Order(43)
    store.append(
        [
            make_entry(object_type="audit_helpers.Order", object_id="42", object_text=str(order)),
            make_entry(object_type="audit_helpers.Order", object_id="43", object_text=str(other)),
            make_entry(object_type="shop.Invoice", object_id="42"),
            make_entry(),
        ]
    )
    assert ids(store.query(object=order)) == [1]
    assert ids(store.query(object=other)) == [2]
    assert ids(store.query(object=("audit_helpers.Order", 42))) == [1]
    assert ids(store.query(object=("shop.Invoice", "42"))) == [3]
    assert ids(store.query(object=Described("shop.Invoice", "42", None))) == [3]
    assert ids(store.query(object=("shop.Invoice", "43"))) == []
    assert store.count(object=order) == 1


def test_object_type_filter(store: Store) -> None:
    store.append(
        [
            make_entry(object_type="shop.Order", object_id="1"),
            make_entry(object_type="shop.Order", object_id="2"),
            make_entry(object_type="shop.OrderLine", object_id="1"),
            make_entry(),
        ]
    )
    assert ids(store.query(object_type="shop.Order")) == [2, 1]
    assert store.count(object_type="shop.Order") == 2
    assert store.query(object_type="shop") == []


ACTIONS = (
    "shop.order",
    "shop.order.paid",
    "shop.order.refund.partial",
    "shop.orderx.y",
    "shop.order_a.b",
    "shop.orderxa.b",
    "shop.other.x",
    "other.shop.order.x",
)


def test_action_filter_exact(store: Store) -> None:
    store.append([make_entry(action=action) for action in ACTIONS])
    for action in ACTIONS:
        assert actions(store.query(action=action)) == {action}, action
        assert store.count(action=action) == 1, action
    assert store.query(action="shop.orde") == []


def test_action_prefix_pattern_matches_whole_segments_below_the_prefix(store: Store) -> None:
    # The documented rule (display.py, Query): "prefix.*" is a dotted prefix, so
    # "shop.order.*" covers "shop.order.<anything>", not "shop.order" itself and not
    # "shop.orderx..." (the same rule display.register patterns follow).
    store.append([make_entry(action=action) for action in ACTIONS])
    assert actions(store.query(action="shop.order.*")) == {
        "shop.order.paid",
        "shop.order.refund.partial",
    }
    assert actions(store.query(action="shop.order.refund.*")) == {"shop.order.refund.partial"}
    assert actions(store.query(action="shop.order_a.*")) == {"shop.order_a.b"}
    assert actions(store.query(action="shop.*")) == set(ACTIONS) - {"other.shop.order.x"}
    assert actions(store.query(action="other.*")) == {"other.shop.order.x"}
    assert store.count(action="shop.order.*") == 2
    assert store.query(action="nothing.*") == []


def test_actor_filter_by_object_and_by_id_text(store: Store) -> None:
    alice, bob = User(7, "alice"), User(8, "bob")
    store.append(
        [
            make_entry(actor_type="audit_helpers.User", actor_id="7", actor_text="alice"),
            make_entry(actor_type="audit_helpers.User", actor_id="8", actor_text="bob"),
            make_entry(actor_id="alice", actor_text="alice"),
            make_entry(),
        ]
    )
    assert ids(store.query(actor=alice)) == [1]
    assert ids(store.query(actor=bob)) == [2]
    assert ids(store.query(actor="7")) == [1]
    assert ids(store.query(actor="alice")) == [3]
    assert store.count(actor=alice) == 1


def test_scope_filter(store: Store) -> None:
    store.append([make_entry(scope="event-1"), make_entry(scope="event-2"), make_entry()])
    assert ids(store.query(scope="event-1")) == [1]
    assert ids(store.query(scope="event-2")) == [2]
    assert store.query(scope="event") == []
    assert store.count(scope="event-1") == 1


def test_scope_filter_takes_any_value_as_text(store: Store) -> None:
    store.append([make_entry(scope="17"), make_entry(scope="18")])
    assert ids(store.query(scope=17)) == [1]


TIMES = [at(0), at(1), at(2), at(2) + dt.timedelta(microseconds=1), at(3), at(4)]


def _time_entries(store: Store) -> None:
    store.append([make_entry(timestamp=stamp, message=str(n)) for n, stamp in enumerate(TIMES)])


def test_since_is_inclusive_and_until_exclusive(store: Store) -> None:
    _time_entries(store)
    assert ids(store.query(since=at(2))) == [6, 5, 4, 3]
    assert ids(store.query(until=at(2))) == [2, 1]
    assert ids(store.query(since=at(1), until=at(3))) == [4, 3, 2]
    assert ids(store.query(since=at(2), until=at(2) + dt.timedelta(microseconds=1))) == [3]
    assert store.query(since=at(5)) == []
    assert store.count(since=at(1), until=at(3)) == 3


def test_naive_bounds_are_taken_as_utc(store: Store) -> None:
    _time_entries(store)
    naive = at(2).replace(tzinfo=None)
    assert ids(store.query(since=naive)) == [6, 5, 4, 3]
    assert ids(store.query(until=naive)) == [2, 1]
    assert store.count(since=naive) == 4


def test_aware_bounds_in_other_zones_are_converted(store: Store) -> None:
    _time_entries(store)
    plus_two = dt.timezone(dt.timedelta(hours=2))
    minus_five = dt.timezone(dt.timedelta(hours=-5, minutes=-30))
    assert ids(store.query(since=at(2).astimezone(plus_two))) == [6, 5, 4, 3]
    assert ids(store.query(until=at(2).astimezone(minus_five))) == [2, 1]


def test_entries_stamped_in_other_zones_compare_as_utc(store: Store) -> None:
    plus_two = dt.timezone(dt.timedelta(hours=2))
    store.append([make_entry(timestamp=at(0).astimezone(plus_two)), make_entry(timestamp=at(5))])
    assert ids(store.query(since=at(0), until=at(1))) == [1]
    got = store.get(1)
    assert got is not None
    assert got.timestamp == at(0)


def test_an_entry_with_a_naive_timestamp_is_utc_or_refused(store: Store) -> None:
    # Either append refuses it, or it is stored as UTC and every later query still works:
    # it must not poison the store so that time-filtered queries raise from then on.
    try:
        store.append([make_entry(timestamp=at(0).replace(tzinfo=None))])
    except (TypeError, ValueError):
        assert store.count() == 0
        return
    store.append([make_entry(timestamp=at(5))])
    assert ids(store.query(since=at(0), until=at(1))) == [1]
    assert ids(store.query(since=at(1))) == [2]


def test_visible_filter(store: Store) -> None:
    store.append([make_entry(visible=True), make_entry(visible=False), make_entry()])
    assert ids(store.query()) == [3, 1]
    assert ids(store.query(visible=True)) == [3, 1]
    assert ids(store.query(visible=False)) == [2]
    assert ids(store.query(visible=None)) == [3, 2, 1]
    assert store.count() == 2
    assert store.count(visible=False) == 1
    assert store.count(visible=None) == 3


def test_filters_combine(store: Store) -> None:
    store.append(
        [
            make_entry(scope="e1", actor_id="7", action="shop.order.paid", timestamp=at(0)),
            make_entry(scope="e1", actor_id="7", action="shop.order.paid", timestamp=at(5)),
            make_entry(scope="e1", actor_id="8", action="shop.order.paid", timestamp=at(5)),
            make_entry(scope="e2", actor_id="7", action="shop.order.paid", timestamp=at(5)),
            make_entry(scope="e1", actor_id="7", action="shop.cart.added", timestamp=at(5)),
        ]
    )
    found = store.query(scope="e1", actor="7", action="shop.order.*", since=at(1))
    assert ids(found) == [2]


def test_count_ignores_limit_and_after(store: Store) -> None:
    store.append([make_entry() for _ in range(12)])
    assert store.count() == 12
    assert store.count(limit=5, after=3) == 12
    assert store.count(action="shop.order.paid", limit=1) == 12


# -- round trips --------------------------------------------------------------------------------

NESTED = {
    "nested": {"list": [1, 2.5, None, True, False, {"deep": ["x", {"deeper": []}]}], "empty": {}},
    "unicode": "Grüße ✓ 日本語 😀 \u2028 \u0085 tab\tnewline\n",
    "ключ": "значение",
    "big": 2**200,
    "negative_big": -(2**70),
    "int64_edge": [2**63 - 1, 2**63, -(2**63), -(2**63) - 1],
    "float": 0.1,
    "zero": 0,
    "nul": "a\x00b",
}


def test_data_and_context_round_trip(store: Store) -> None:
    entry = make_entry(data=NESTED, context={"request_id": "r-1", "client": {"ip": "::1"}})
    store.append([entry])
    got = store.get(entry.id)  # type: ignore[arg-type]
    assert got is not None
    assert got.data == NESTED
    assert type(got.data["big"]) is int
    assert got.context == {"request_id": "r-1", "client": {"ip": "::1"}}
    (queried,) = store.query()
    assert queried.data == NESTED


def test_text_fields_round_trip_unicode(store: Store) -> None:
    text = "Ünïcødé ✓ 日本語 😀 «quotes» \u2028"
    entry = make_entry(
        message=text,
        logger="shop.übersicht",
        actor_id=text,
        actor_text=text,
        object_type="shop.Bestellung",
        object_id=text,
        object_text=text,
        scope=text,
    )
    store.append([entry])
    got = store.get(entry.id)  # type: ignore[arg-type]
    assert got is not None
    assert entry_fields(got) == entry_fields(entry)
    assert ids(store.query(scope=text, actor=text, object=("shop.Bestellung", text))) == [1]


def test_lone_surrogates_do_not_lose_the_entry(store: Store) -> None:
    # Undecodable file names arrive as lone surrogates (os.fsdecode, surrogateescape);
    # JSONFormatter escapes them, and an audit store must not refuse the whole entry.
    name = b"report-\xff.txt".decode("utf-8", "surrogateescape")
    entry = make_entry(message=f"uploaded {name}", data={"file": name})
    store.append([entry])
    got = store.get(entry.id)  # type: ignore[arg-type]
    assert got is not None
    assert got.data == {"file": name}
    assert got.message.startswith("uploaded report-")


SQLISH = (
    "'); DROP TABLE structlogx_audit_entry; --",
    '"; DELETE FROM structlogx_audit_entry WHERE "1"="1',
    "%",
    "100%",
    "_",
    "a_b",
    "it's",
    'say "hi"',
    "back\\slash",
    "*",
    "",
)
DECOYS = ("x", "100x", "axb", "its", "backslash", "anything")


def test_sql_looking_values_are_stored_verbatim_and_found_by_exact_filters(store: Store) -> None:
    def entry(value: str) -> AuditEntry:
        return make_entry(
            message=value,
            logger=value,
            actor_id=value,
            actor_text=value,
            object_type="shop.Order",
            object_id=value,
            object_text=value,
            scope=value,
            data={value: value, "v": value},
            context={"value": value},
        )

    stored = {value: entry(value) for value in (*SQLISH, *DECOYS)}
    store.append(list(stored.values()))
    assert store.count() == len(stored)
    for value in SQLISH:
        expected = [stored[value].id]
        assert ids(store.query(scope=value)) == expected, value
        assert ids(store.query(actor=value)) == expected, value
        assert ids(store.query(object=("shop.Order", value))) == expected, value
        got = store.get(expected[0])  # type: ignore[arg-type]
        assert got is not None
        assert entry_fields(got) == entry_fields(stored[value]), value
    assert store.count() == len(stored)


def test_sql_looking_values_leave_the_sqlite_table_intact(tmp_path: Path) -> None:
    path = tmp_path / "audit.sqlite3"
    store = open_store(sqlite_url(path))
    try:
        store.append([make_entry(message=v, scope=v, data={"v": v}) for v in SQLISH])
    finally:
        store.close()
    assert table_rows(path, f"SELECT count(*) FROM {TABLE}") == [(len(SQLISH),)]
    assert [row[0] for row in table_rows(path, f"SELECT scope FROM {TABLE} ORDER BY id")] == list(
        SQLISH
    )


# -- invalid filters ----------------------------------------------------------------------------

INVALID_FILTERS: list[tuple[dict[str, Any], type[Exception], str]] = [
    ({"action": "Bad Action!"}, ValueError, "invalid action pattern 'Bad Action!'"),
    ({"action": "shop"}, ValueError, "invalid action pattern"),
    ({"action": "shop.order*"}, ValueError, "invalid action pattern"),
    ({"action": 42}, TypeError, "action must be a str"),
    ({"limit": -1}, ValueError, "limit must be a non-negative int"),
    ({"limit": "10"}, ValueError, "limit must be a non-negative int"),
    ({"after": "5"}, TypeError, "after must be an entry id"),
    ({"since": "2024-05-01"}, TypeError, "since must be a datetime"),
    ({"until": 1714564800}, TypeError, "until must be a datetime"),
    ({"object": ("shop.Order", 1, 2)}, ValueError, r"\(type, id\) pair"),
    ({"object": object()}, ValueError, "has no id"),
    ({"visible": "yes"}, TypeError, "visible"),
    ({"actorr": "7"}, TypeError, "actorr"),
]


@pytest.mark.parametrize(
    ("filters", "error", "message"),
    INVALID_FILTERS,
    ids=[repr(filters) for filters, _, _ in INVALID_FILTERS],
)
def test_invalid_filters_raise_with_a_clear_message(
    store: Store, filters: dict[str, Any], error: type[Exception], message: str
) -> None:
    store.append([make_entry()])
    with pytest.raises(error, match=message):
        store.query(**filters)
    if not {"limit", "after"} & set(filters):  # count ignores those two
        with pytest.raises(error, match=message):
            store.count(**filters)


def test_query_build_normalises() -> None:
    query = Query.build(
        object=Order(5),
        actor=User(7, "alice"),
        scope=3,
        since=dt.datetime(2024, 1, 1),
        until=dt.datetime(2024, 1, 1, 2, tzinfo=dt.timezone(dt.timedelta(hours=2))),
    )
    assert dataclasses.asdict(query) == {
        "object_type": "audit_helpers.Order",
        "object_id": "5",
        "action": None,
        "actor_id": "7",
        "scope": "3",
        "since": dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc),
        "until": dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc),
        "visible": True,
        "limit": 100,
        "after": None,
    }


# -- SQLite specifics ---------------------------------------------------------------------------


def test_reopening_a_sqlite_file_keeps_entries_and_schema_version(tmp_path: Path) -> None:
    path = tmp_path / "audit.sqlite3"
    first = SQLiteStore(str(path))
    try:
        first.append([make_entry(data={"n": n}) for n in range(3)])
        assert first.schema_version() == len(MIGRATIONS)
    finally:
        first.close()
    second = open_store(sqlite_url(path))
    try:
        assert isinstance(second, SQLiteStore)
        assert second.count() == 3
        assert second.schema_version() == len(MIGRATIONS)
        assert second.append([make_entry()]) == [4]
        assert [entry.data for entry in second.query()][1:] == [{"n": 2}, {"n": 1}, {"n": 0}]
    finally:
        second.close()
    assert table_rows(path, "SELECT version FROM structlogx_schema") == [(len(MIGRATIONS),)]


def test_sqlite_store_uses_wal_and_the_strength_sets_synchronous(tmp_path: Path) -> None:
    path = tmp_path / "audit.sqlite3"
    for strength, synchronous in (("fsync", "FULL"), ("crash", "NORMAL")):
        handler = AuditHandler(sqlite_url(path), strength=strength, default_store=False)
        try:
            assert isinstance(handler.store, SQLiteStore)
            assert handler.store.synchronous == synchronous
        finally:
            handler.close()
    assert table_rows(path, "PRAGMA journal_mode") == [("wal",)]


def test_sqlite_store_rejects_an_unknown_synchronous(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="synchronous must be one of FULL, NORMAL, EXTRA"):
        SQLiteStore(str(tmp_path / "audit.sqlite3"), synchronous="SOMETIMES")


def test_a_closed_sqlite_store_reopens_on_next_use(tmp_path: Path) -> None:
    store = open_store(sqlite_url(tmp_path / "audit.sqlite3"))
    store.append([make_entry()])
    store.close()
    try:
        assert store.count() == 1
        assert store.append([make_entry()]) == [2]
    finally:
        store.close()


@pytest.mark.parametrize("scheme", ["sqlite", "jsonl"])
def test_a_missing_directory_raises_oserror_naming_the_path(tmp_path: Path, scheme: str) -> None:
    missing = tmp_path / "no" / "such" / "dir"
    url = f"{scheme}:///{missing}/audit.db"
    with pytest.raises(OSError, match=str(missing)):
        open_store(url)
    assert not missing.exists()


def test_a_missing_directory_raises_when_the_handler_is_configured(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    with pytest.raises(OSError, match=str(missing)):
        AuditHandler(f"sqlite:///{missing}/audit.sqlite3")
    config = {
        "version": 1,
        "disable_existing_loggers": False,
        "handlers": {
            "audit": {
                "class": "structlogx.handlers.AuditHandler",
                "store": f"sqlite:///{missing}/audit.sqlite3",
            }
        },
    }
    import gc
    import logging.config

    gc.collect()  # dictConfig() closes every live handler, also half-built ones (see handler tests)
    with pytest.raises(ValueError, match="audit") as caught:
        logging.config.dictConfig(config)
    assert isinstance(caught.value.__cause__, OSError)
    assert str(missing) in str(caught.value.__cause__)


@pytest.mark.parametrize("scheme", ["sqlite", "jsonl"])
def test_a_path_below_a_regular_file_raises_oserror_naming_it(tmp_path: Path, scheme: str) -> None:
    # Unlike permission bits, this fails for root too.
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    with pytest.raises(OSError, match=str(blocker)):
        open_store(f"{scheme}:///{blocker}/audit.db")


@pytest.mark.skipif(IS_ROOT, reason="root ignores permission bits; see the regular-file variant")
def test_a_read_only_directory_raises_oserror_naming_it(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        with pytest.raises(OSError, match=str(locked)):
            open_store(sqlite_url(locked / "audit.sqlite3"))
        with pytest.raises(OSError, match=str(locked)):
            AuditHandler(sqlite_url(locked / "audit.sqlite3"))
    finally:
        locked.chmod(0o755)


@pytest.mark.skipif(IS_ROOT, reason="root ignores permission bits")
def test_a_read_only_file_raises_oserror_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "audit.sqlite3"
    open_store(sqlite_url(path)).close()
    path.chmod(0o444)
    try:
        with pytest.raises(OSError, match=str(path)):
            open_store(sqlite_url(path))
    finally:
        path.chmod(0o644)


def test_a_newer_schema_raises_a_clear_runtime_error(tmp_path: Path) -> None:
    path = tmp_path / "audit.sqlite3"
    open_store(sqlite_url(path)).close()
    connection = sqlite3.connect(path)
    with connection:
        connection.execute("UPDATE structlogx_schema SET version = ?", (len(MIGRATIONS) + 5,))
    connection.close()
    with pytest.raises(RuntimeError, match=r"schema is version \d+, newer.*upgrade structlogx"):
        open_store(sqlite_url(path))
    # The refusal changed nothing.
    assert table_rows(path, "SELECT version FROM structlogx_schema") == [(len(MIGRATIONS) + 5,)]


# -- the chain's operations, on every store ------------------------------------------------------


def test_verify_passes_on_what_was_appended(store: Store) -> None:
    store.append([make_entry(data={"n": n}) for n in range(5)])
    report = store.verify()
    assert report.ok, report
    assert (report.checked, report.first_id, report.last_id) == (5, 1, 5)


def test_shred_replaces_one_objects_values_and_keeps_the_chain(store: Store) -> None:
    store.append(
        [
            make_entry(object_type="shop.Customer", object_id="7", object_text="ann@example.com",
                       message="mail to ann@example.com",
                       data={"email": "ann@example.com", "amount": "3.00"}),
            make_entry(object_type="shop.Customer", object_id="8", object_text="bo@example.com",
                       message="mail to bo@example.com", data={"email": "bo@example.com"}),
        ]
    )  # fmt: skip
    report = store.shred(object=("shop.Customer", "7"), fields=["message", "data.email",
                         "object_text"], reason="erasure request", by="dpo")  # fmt: skip
    assert report.entries == 1
    (shredded,) = store.query(object=("shop.Customer", "7"))
    assert shredded.shredded
    assert (shredded.message, shredded.object_text) == ("[shredded]", "[shredded]")
    assert shredded.data == {"email": "[shredded]", "amount": "3.00"}
    (kept,) = store.query(object=("shop.Customer", "8"))
    assert kept.message == "mail to bo@example.com"
    (record,) = store.query(action="structlogx.audit.shredded")
    assert record.data["reason"] == "erasure request"
    assert record.data["entries"] == 1
    assert store.verify().ok


def test_prune_leaves_an_anchor_the_rest_verifies_from(store: Store) -> None:
    store.append([make_entry(timestamp=T0 + dt.timedelta(hours=n)) for n in range(5)])
    report = store.prune(T0 + dt.timedelta(hours=2), reason="retention")
    assert (report.entries, report.anchor_id) == (2, 2)
    verified = store.verify()
    assert verified.ok, verified
    assert verified.anchor_id == 2
    assert verified.checked == 4  # entries 3 to 5, and the record of the pruning
    assert store.get(1) is None
    (record,) = store.query(action="structlogx.audit.pruned")
    assert record.data["entries"] == 2


def test_replay_appends_spooled_entries_in_order(store: Store, tmp_path: Path) -> None:
    from structlogx.audit.writer import Spool

    spool = Spool(str(tmp_path / "spool.jsonl"))
    spool.write([make_entry(data={"n": n}) for n in range(3)], "the store was down")
    store.append([make_entry(data={"n": "live"})])
    assert spool.replay(store).replayed == 3
    assert [entry.data["n"] for entry in reversed(store.query())] == ["live", 0, 1, 2]
    assert spool.read() == []
    assert store.verify().ok


def test_timestamp_text_is_fixed_width_utc_and_sorts_like_the_instants() -> None:
    from structlogx.audit.store import timestamp_text

    east = dt.timezone(dt.timedelta(hours=5, minutes=30))
    moments = [
        dt.datetime(2026, 12, 1, 13, 57, 21, tzinfo=east),  # 08:27:21 UTC
        dt.datetime(2026, 12, 1, 8, 27, 20, 999999, tzinfo=dt.timezone.utc),
        dt.datetime(2026, 12, 1, 8, 27, 22),  # naive: taken as UTC
    ]
    texts = [timestamp_text(moment) for moment in moments]
    assert texts == [
        "2026-12-01T08:27:21.000000+00:00",
        "2026-12-01T08:27:20.999999+00:00",
        "2026-12-01T08:27:22.000000+00:00",
    ]
    assert [timestamp_text(moment) for moment in moments] == texts  # asked again: the same
    assert sorted(texts) == [texts[1], texts[0], texts[2]]


def test_row_texts_are_the_text_columns_in_the_tables_order(tmp_path: Path) -> None:
    from structlogx.audit.store import TEXT_COLUMNS, row_texts

    item = make_entry()
    assert row_texts(item) == tuple(getattr(item, name) for name in TEXT_COLUMNS)
    SQLiteStore(str(tmp_path / "a.sqlite3")).close()
    with sqlite3.connect(tmp_path / "a.sqlite3") as connection:
        columns = [row[1] for row in connection.execute(f"PRAGMA table_info({TABLE})")]
    connection.close()
    assert tuple(columns[columns.index("timestamp") + 1 : columns.index("data")]) == TEXT_COLUMNS
