"""Tests for structlogx.audit.postgres beyond the contract suite (``test_audit_store.py``).

Everything runs against a real, throwaway PostgreSQL server (``tests/pg_server.py``): many
processes appending to one chain, SIGKILL mid-commit, shredding checked in ``pg_dump`` output,
tampering done with SQL, what ``JSONB`` and ``TEXT`` cannot hold, ``fork``, the schema, and the
errors of bad URLs and of a missing psycopg.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import itertools
import logging
import os
import random
import signal
import subprocess
import sys
import time
import traceback
from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from audit_helpers import T0, finish, make_entry, spawn, wait_forked
from pg_server import PostgresServer

from structlogx.audit import chain, open_store
from structlogx.audit.postgres import _INSERT_COLUMNS, MIGRATIONS, PostgresStore
from structlogx.handlers import AuditHandler
from structlogx.records import AuditEntry

try:
    import psycopg
except ImportError:  # the tests skip (fail under CI=true, see conftest.py)
    psycopg = None

NEEDS_PSYCOPG = pytest.mark.skipif(
    psycopg is None, reason="psycopg is not installed: the PostgreSQL tests need it"
)

POSIX = pytest.mark.skipif(not hasattr(os, "fork"), reason="POSIX only: fork and SIGKILL")


@pytest.fixture
def store(pg_store_url: str) -> Iterator[PostgresStore]:
    opened = open_store(pg_store_url)
    assert isinstance(opened, PostgresStore)
    try:
        yield opened
    finally:
        opened.close()


def sql(url: str, statement: str, params: Any = None) -> list[tuple[Any, ...]]:
    """Run *statement* on its own autocommit connection; return the rows, if any."""
    with psycopg.connect(url, autocommit=True) as connection:
        cursor = connection.execute(statement, params)
        return cursor.fetchall() if cursor.description else []


def schema_of(url: str) -> str:
    return str(sql(url, "SELECT current_schema()")[0][0])


def all_entries(store: PostgresStore) -> list[AuditEntry]:
    """Every entry, oldest first."""
    return list(reversed(store.query(limit=None, visible=None)))


# -- many processes, one chain --------------------------------------------------------------

PROCESS_WRITER = """
    import threading
    url, p, threads, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    handler, logger = audit_logger(url, default_store=False, strict=True)
    print("ready", flush=True)
    sys.stdin.readline()  # all processes start together

    def work(t):
        for k in range(n):
            data = {"src": f"{p}-{t}", "p": p, "k": k}
            logger.info("p%d t%d k%d", p, t, k, extra={"action": "test.pg.entry", "data": data})

    workers = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    handler.close()
    print("done", flush=True)
"""


@pytest.mark.slow
def test_four_processes_append_twenty_thousand_entries_to_one_chain(pg_store_url: str) -> None:
    processes, threads, per_thread = 4, 25, 200  # 5,000 entries per process, group commits
    open_store(pg_store_url).close()  # the schema exists: the children race only to write
    children = [
        spawn(
            PROCESS_WRITER,
            pg_store_url,
            str(p),
            str(threads),
            str(per_thread),
            stdin=subprocess.PIPE,
        )
        for p in range(processes)
    ]
    for child in children:
        assert child.stdout is not None
        assert child.stdout.readline() == "ready\n", finish(child)[2]
    for child in children:
        assert child.stdin is not None
        child.stdin.write("go\n")
        child.stdin.flush()
    for child in children:
        code, out, err = finish(child, timeout=120)
        assert (code, out, err) == (0, "done\n", "")

    store = open_store(pg_store_url)
    try:
        report = store.verify()
        assert report.ok, report
        assert (report.checked, report.first_id, report.last_id) == (20_000, 1, 20_000)
        entries = all_entries(store)
    finally:
        store.close()
    assert [entry.id for entry in entries] == list(range(1, 20_001))
    ks: dict[str, list[int]] = defaultdict(list)
    for entry in entries:
        ks[entry.data["src"]].append(entry.data["k"])
    assert len(ks) == processes * threads
    assert all(seen == list(range(per_thread)) for seen in ks.values())
    # The processes really wrote concurrently: their commits interleave in the chain.
    switches = sum(
        1 for before, after in itertools.pairwise(entries) if before.data["p"] != after.data["p"]
    )
    assert switches >= 20, switches


def _crash_writer(url: str, p: int, r: int, out: int) -> None:  # pragma: no cover - a child
    """Log entries through a sync AuditHandler forever, writing each acknowledged k to *out*."""
    handler = AuditHandler(url, default_store=False, strict=True)
    logger = logging.getLogger(f"structlogx_tests.pg_crash.{p}")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    logger.handlers[:] = [handler]
    k = 0
    while True:
        data = {"p": p, "round": r, "k": k}
        logger.info("k=%d", k, extra={"action": "test.pg.crash", "data": data})
        os.write(out, b"%d\n" % k)
        k += 1


def _fork_writer(url: str, p: int, r: int) -> tuple[int, Any]:
    """Fork a writer process (cheaper than a new interpreter); return its pid and output."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            os.close(read)
            _crash_writer(url, p, r, write)
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(1)
    os.close(write)
    return pid, os.fdopen(read, "r")


@pytest.mark.slow
@POSIX
def test_sigkill_of_four_writers_loses_no_acknowledged_entry(pg_store_url: str) -> None:
    rng = random.Random("pg-crash")  # reproducible kill points
    rounds = 20 if os.environ.get("CI", "").lower() == "true" else 5
    store = open_store(pg_store_url)
    try:
        for r in range(rounds):
            writers = [_fork_writer(pg_store_url, p, r) for p in range(4)]
            acknowledged = {}
            try:
                for p, (pid, out) in enumerate(writers):
                    last = -1
                    for _ in range(rng.randint(1, 25)):
                        line = out.readline()
                        assert line, f"round {r}: writer {p} died"
                        last = int(line)
                    os.kill(pid, signal.SIGKILL)  # at a random point of its next commit
                    acknowledged[p] = last
            finally:
                for pid, out in writers:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                    os.waitpid(pid, 0)
                    out.close()
            report = store.verify()
            assert report.ok, f"round {r}: {report}"
            ks: dict[int, list[int]] = defaultdict(list)
            for entry in reversed(store.query(action="test.pg.crash", limit=None)):
                if entry.data["round"] == r:
                    ks[entry.data["p"]].append(entry.data["k"])
            for p, last in acknowledged.items():
                # Every acknowledged k is there; what got in past it has no gap or duplicate.
                assert ks[p] == list(range(len(ks[p]))), f"round {r}, writer {p}"
                assert len(ks[p]) > last, f"round {r}, writer {p}: printed {last}"
    finally:
        store.close()


# -- shredding ------------------------------------------------------------------------------

SECRETS = (
    "Alice Liddell",
    "alice@example.org",
    "+44 20 7946 0958",
    "203.0.113.77",
    "alice-nul-secret",
)


def customer_entries(customer: str, name: str, email: str, ip: str) -> list[AuditEntry]:
    return [
        make_entry(
            action="shop.customer.updated",
            message=f"{name} <{email}> changed the address",
            actor_type="shop.Customer",
            actor_id=customer,
            actor_text=name,
            object_type="shop.Customer",
            object_id=customer,
            object_text=name,
            data={"email": email, "phone": "+44 20 7946 0958" if customer == "7" else "+1 555"},
            context={"ip": ip},
        ),
        make_entry(
            action="shop.order.paid",
            message=f"order paid by {name}",
            object_type="shop.Customer",
            object_id=customer,
            object_text=name,
            data={"amount": "10.00", "note": "x\x00alice-nul-secret" if customer == "7" else ""},
        ),
    ]


def table_dump(server: PostgresServer, url: str) -> str:
    """Return ``pg_dump --data-only`` of the entries table, as text."""
    table = f"{schema_of(url)}.structlogx_audit_entry"
    result = subprocess.run(
        [server.tool("pg_dump"), "--data-only", f"--table={table}", f"--dbname={url}"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert "COPY" in result.stdout, result.stdout[-2000:]
    return result.stdout


def copy_out(url: str) -> str:
    with (
        psycopg.connect(url) as connection,
        connection.cursor() as cursor,
        cursor.copy("COPY structlogx_audit_entry TO STDOUT") as copy,
    ):
        return b"".join(bytes(block) for block in copy).decode("utf-8")


def test_shredding_leaves_no_value_in_the_table_dump_and_verify_passes(
    store: PostgresStore, postgres_server: PostgresServer, pg_store_url: str
) -> None:
    store.append(customer_entries("7", "Alice Liddell", "alice@example.org", "203.0.113.77"))
    store.append(customer_entries("8", "Bob Builder", "bob@example.org", "198.51.100.8"))
    before = table_dump(postgres_server, pg_store_url)
    for secret in SECRETS:  # the check below can see them
        assert secret in before, secret
    report = store.shred(object=("shop.Customer", "7"), reason="GDPR erasure request", by="dpo")
    assert report.entries == 2
    # Entry 1 is *about* customer 7 and also *by* customer 7: one entry, shredded once.
    assert sorted(report.changes) == [1, 2]

    dump, copied = table_dump(postgres_server, pg_store_url), copy_out(pg_store_url)
    for secret in SECRETS:
        assert secret not in dump, secret
        assert secret not in copied, secret
    for kept in ("Bob Builder", "bob@example.org", "198.51.100.8"):
        assert kept in dump, kept
    assert chain.SHREDDED in dump
    verified = store.verify()
    assert verified.ok, verified
    assert verified.checked == 5
    (record,) = store.query(action="structlogx.audit.shredded", visible=None)
    assert record.actor_id == "dpo"
    assert record.data["entries"] == 2
    assert record.data["reason"] == "GDPR erasure request"
    got = store.get(1)
    assert got is not None
    assert got.shredded
    assert got.data == {"email": chain.SHREDDED, "phone": chain.SHREDDED}
    # The old row versions went with VACUUM, run by shred itself.
    assert _vacuum_count(pg_store_url) >= 1


def _vacuum_count(url: str) -> int:
    deadline = time.monotonic() + 5
    while True:
        (count,) = sql(
            url,
            "SELECT vacuum_count FROM pg_stat_user_tables "
            "WHERE relname = 'structlogx_audit_entry' AND schemaname = current_schema()",
        )[0]
        if count or time.monotonic() > deadline:
            return int(count)
        time.sleep(0.05)


def test_shred_dry_run_changes_nothing(store: PostgresStore, pg_store_url: str) -> None:
    store.append(customer_entries("7", "Alice Liddell", "alice@example.org", "203.0.113.77"))
    before = copy_out(pg_store_url)
    report = store.shred(object=("shop.Customer", "7"), reason="check", dry_run=True)
    assert (report.entries, report.dry_run) == (2, True)
    assert copy_out(pg_store_url) == before
    assert store.count(visible=None) == 2


# -- tampering ------------------------------------------------------------------------------

Tamper = Callable[[PostgresStore, str], None]


def _change_one_byte_of_data(store: PostgresStore, url: str) -> None:
    sql(url, "UPDATE structlogx_audit_entry SET data = '{\"n\": 4}' WHERE id = 3")


def _change_the_exact_json_text(store: PostgresStore, url: str) -> None:
    # Entry 3 holds a NUL, so its data is read from data_text: tampering there is found too.
    sql(
        url,
        "UPDATE structlogx_audit_entry SET data_text = replace(data_text, 'b', 'c') WHERE id = 3",
    )


def _change_the_message(store: PostgresStore, url: str) -> None:
    sql(url, "UPDATE structlogx_audit_entry SET message = 'paid twice' WHERE id = 3")


def _break_the_exact_json_text(store: PostgresStore, url: str) -> None:
    sql(url, "UPDATE structlogx_audit_entry SET data_text = '{\"n\": ' WHERE id = 3")


def _break_the_shred_record(store: PostgresStore, url: str) -> None:
    sql(url, "UPDATE structlogx_audit_entry SET shred = 'not json' WHERE id = 3")


def _delete_one(store: PostgresStore, url: str) -> None:
    sql(url, "DELETE FROM structlogx_audit_entry WHERE id = 3")


def _insert_a_forged_entry(store: PostgresStore, url: str) -> None:
    # Make room after entry 3, then insert an entry chained to it with a correct hash.
    sql(url, "UPDATE structlogx_audit_entry SET id = id + 1000 WHERE id > 3")
    sql(url, "UPDATE structlogx_audit_entry SET id = id - 999 WHERE id > 1000")
    sql(url, "UPDATE structlogx_audit_state SET head_id = head_id + 1")
    forged = make_entry(message="refund approved", data={"n": 99})
    row, content = store.prepare(forged)
    (prev,) = sql(url, "SELECT hash FROM structlogx_audit_entry WHERE id = 3")[0]
    marks = ", ".join(["%s"] * 23)
    sql(
        url,
        f"INSERT INTO structlogx_audit_entry ({_INSERT_COLUMNS}) VALUES ({marks})",
        (4, *row, prev, chain.link(prev, 4, content)),
    )


def _swap_two(store: PostgresStore, url: str) -> None:
    sql(url, "UPDATE structlogx_audit_entry SET id = 1000 WHERE id = 3")
    sql(url, "UPDATE structlogx_audit_entry SET id = 3 WHERE id = 4")
    sql(url, "UPDATE structlogx_audit_entry SET id = 4 WHERE id = 1000")


def _truncate_the_tail(store: PostgresStore, url: str) -> None:
    sql(url, "DELETE FROM structlogx_audit_entry WHERE id >= 5")


def _truncate_the_tail_after_the_anchor(store: PostgresStore, url: str) -> None:
    pruned = store.prune(T0 + dt.timedelta(days=1))  # every entry; the record is entry 7
    assert (pruned.entries, pruned.anchor_id) == (6, 6)
    sql(url, "DELETE FROM structlogx_audit_entry WHERE id > 6")


TAMPERS: list[tuple[Tamper, int, str]] = [
    (_change_one_byte_of_data, 3, "changed content"),
    (_change_the_exact_json_text, 3, "changed content"),
    (_change_the_message, 3, "changed content"),
    (_break_the_exact_json_text, 3, "changed content"),
    (_break_the_shred_record, 3, "changed content"),
    (_delete_one, 3, "missing entry"),
    (_insert_a_forged_entry, 4, "inserted entry"),
    (_swap_two, 3, "reordered entries"),
    (_truncate_the_tail, 5, "missing entries"),
    (_truncate_the_tail_after_the_anchor, 7, "missing entries"),
]


@pytest.mark.parametrize(
    ("tamper", "first_bad", "kind"), TAMPERS, ids=[t.__name__.strip("_") for t, _, _ in TAMPERS]
)
def test_tampering_is_found_with_the_first_bad_id(
    store: PostgresStore, pg_store_url: str, tamper: Tamper, first_bad: int, kind: str
) -> None:
    store.append(
        [make_entry(data={"n": n} if n != 3 else {"n": 3, "s": "a\x00b"}) for n in range(1, 7)]
    )
    assert store.verify().ok
    tamper(store, pg_store_url)
    report = store.verify()
    assert report.problem is not None, report
    assert (report.problem.id, report.problem.kind) == (first_bad, kind), report


# -- what PostgreSQL cannot hold ------------------------------------------------------------

AWKWARD_DATA = {
    "nul": "a\x00b",
    "nul_key\x00": 1,
    "surrogate": b"\xff".decode("utf-8", "surrogateescape"),
    "exponent": 1e16,
    "tiny": 1e-7,
    "negative_zero": -0.0,
    "big": 2**200,
    "float": 0.1,
    "huge": [-0.0, 1e300, 2.5e-300, None],
    "cafe\u0301": "NFD key",
}


def test_values_jsonb_cannot_hold_come_back_exactly_and_verify(
    store: PostgresStore, pg_store_url: str
) -> None:
    plain = make_entry(data={"k": "v", "x": 1.5})
    awkward = make_entry(data=AWKWARD_DATA, context={"nul": "\x00"})
    store.append([plain, awkward])
    got = store.get(2)
    assert got is not None
    assert got.data == AWKWARD_DATA
    assert repr(got.data["exponent"]) == "1e+16"
    assert repr(got.data["negative_zero"]) == "-0.0"
    assert got.context == {"nul": "\x00"}
    assert store.verify().ok
    rows = sql(
        pg_store_url,
        "SELECT id, data->>'nul', data_text IS NULL, context_text IS NULL "
        "FROM structlogx_audit_entry ORDER BY id",
    )
    # The plain entry needs no exact copy; the awkward one's JSONB holds a stand-in.
    assert rows == [(1, None, True, True), (2, "a\ufffdb", False, False)]


def test_a_nul_in_a_text_field_becomes_a_replacement_character(store: PostgresStore) -> None:
    entry = make_entry(message="a\x00b", object_type="shop.Order", object_id="4\x002")
    store.append([entry])
    assert (entry.message, entry.object_id) == ("a\ufffdb", "4\ufffd2")
    got = store.get(1)
    assert got is not None
    assert (got.message, got.object_id) == ("a\ufffdb", "4\ufffd2")
    assert [e.id for e in store.query(object=("shop.Order", "4\x002"))] == [1]
    assert store.verify().ok


STAMPS = [
    dt.datetime(1, 1, 1, tzinfo=dt.timezone.utc),
    dt.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=dt.timezone.utc),
    T0.replace(microsecond=1),
    T0.astimezone(dt.timezone(dt.timedelta(hours=5, minutes=45))).replace(microsecond=999999),
    T0.replace(tzinfo=None),
]


def test_timestamps_keep_their_microseconds_and_the_chain_text(store: PostgresStore) -> None:
    store.append([make_entry(timestamp=stamp) for stamp in STAMPS])
    for entry_id, stamp in enumerate(STAMPS, 1):
        got = store.get(entry_id)
        assert got is not None
        expected = stamp if stamp.tzinfo else stamp.replace(tzinfo=dt.timezone.utc)
        assert got.timestamp == expected
        assert got.timestamp.utcoffset() == dt.timedelta(0)
        assert got.timestamp.isoformat(timespec="microseconds") == expected.astimezone(
            dt.timezone.utc
        ).isoformat(timespec="microseconds")
    assert store.verify().ok
    assert [
        e.id for e in store.query(since=STAMPS[2], until=STAMPS[2] + dt.timedelta(0, 0, 1))
    ] == [3]


# -- schema, prefix, migrations -------------------------------------------------------------


def test_schema_indexes_and_collation(store: PostgresStore, pg_store_url: str) -> None:
    assert store.schema_version() == len(MIGRATIONS)
    indexes = {
        name
        for (name,) in sql(
            pg_store_url,
            "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() "
            "AND tablename = 'structlogx_audit_entry'",
        )
    }
    assert indexes == {
        "structlogx_audit_entry_pkey",
        *(
            f"structlogx_audit_entry_{name}"
            for name in ("object", "action", "actor", "scope", "time")
        ),
    }
    types = dict(
        sql(
            pg_store_url,
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = 'structlogx_audit_entry'",
        )
    )
    assert types["id"] == "bigint"
    assert types["timestamp"] == "timestamp with time zone"
    assert types["data"] == types["context"] == "jsonb"
    (collation,) = sql(
        pg_store_url,
        "SELECT collation_name FROM information_schema.columns WHERE table_schema = "
        "current_schema() AND table_name = 'structlogx_audit_entry' AND column_name = 'action'",
    )[0]
    assert collation == "C"


def test_table_prefix_keeps_two_trails_apart(pg_store_url: str) -> None:
    first = PostgresStore(pg_store_url)
    second = PostgresStore(pg_store_url, table_prefix="billing_audit")
    try:
        first.append([make_entry(), make_entry()])
        assert second.append([make_entry()]) == [1]
        assert (first.count(), second.count()) == (2, 1)
        assert first.verify().ok
        assert second.verify().ok
    finally:
        first.close()
        second.close()
    tables = {
        name
        for (name,) in sql(
            pg_store_url, "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
        )
    }
    assert {"billing_audit_entry", "billing_audit_state", "billing_audit_schema"} <= tables


@pytest.mark.parametrize("prefix", ["", "Audit", "1audit", "audit-log", 'a"; DROP', "a" * 41])
def test_an_invalid_table_prefix_is_refused(pg_store_url: str, prefix: str) -> None:
    with pytest.raises(ValueError, match="table_prefix must be"):
        PostgresStore(pg_store_url, table_prefix=prefix)


def test_a_newer_schema_is_refused_and_nothing_is_written(pg_store_url: str) -> None:
    open_store(pg_store_url).close()
    sql(pg_store_url, "UPDATE structlogx_audit_schema SET version = %s", (len(MIGRATIONS) + 5,))
    with pytest.raises(RuntimeError, match=r"schema is version \d+, newer.*upgrade structlogx"):
        open_store(pg_store_url)
    assert sql(pg_store_url, "SELECT version FROM structlogx_audit_schema") == [
        (len(MIGRATIONS) + 5,)
    ]
    assert sql(pg_store_url, "SELECT count(*) FROM structlogx_audit_entry") == [(0,)]


def test_concurrent_first_opens_migrate_once(pg_store_url: str) -> None:
    import threading

    errors: list[BaseException] = []
    barrier = threading.Barrier(6)

    def open_one() -> None:
        try:
            barrier.wait()
            open_store(pg_store_url).close()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    workers = [threading.Thread(target=open_one) for _ in range(6)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
    assert errors == []
    assert sql(pg_store_url, "SELECT version FROM structlogx_audit_schema") == [(len(MIGRATIONS),)]


def test_a_user_who_may_only_read_and_write_can_use_a_migrated_store(
    pg_store_url: str,
) -> None:
    owner = open_store(pg_store_url)
    owner.append([make_entry()])
    owner.close()
    schema, role = schema_of(pg_store_url), f"writer_{os.getpid()}_{time.monotonic_ns()}"
    sql(pg_store_url, f"CREATE ROLE {role} LOGIN")
    sql(pg_store_url, f"GRANT USAGE ON SCHEMA {schema} TO {role}")
    sql(pg_store_url, f"REVOKE CREATE ON SCHEMA {schema} FROM PUBLIC")
    sql(pg_store_url, f"GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA {schema} TO {role}")
    url = pg_store_url.replace("postgresql://postgres@", f"postgresql://{role}@", 1)
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        sql(url, "CREATE TABLE no_ddl_for_me (x int)")
    store = open_store(url)
    try:
        assert store.append([make_entry(object_type="shop.Order", object_id="1")]) == [2]
        # VACUUM is the owner's: for this user PostgreSQL skips it with a warning.
        assert store.shred(object=("shop.Order", "1"), reason="check").entries == 1
        assert store.verify().ok
    finally:
        store.close()


# -- connections: fork, close, URLs ---------------------------------------------------------


@POSIX
def test_a_forked_child_uses_its_own_connection_and_leaves_the_parents(
    store: PostgresStore,
) -> None:
    store.append([make_entry(message="parent")])
    parent_backend = store._conn().info.backend_pid
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 1
        try:
            store.append([make_entry(message="child")])
            code = 0 if store._conn().info.backend_pid != parent_backend else 2
            store.close()
            gc.collect()
        finally:
            os._exit(code)
    assert os.waitstatus_to_exitcode(wait_forked(pid)) == 0
    assert store._conn().info.backend_pid == parent_backend  # the parent's is untouched
    assert [entry.message for entry in store.query()] == ["child", "parent"]
    assert store.append([make_entry(message="parent again")]) == [3]
    assert store.verify().ok


def test_a_closed_store_reconnects_and_a_broken_connection_is_replaced(
    store: PostgresStore, pg_store_url: str
) -> None:
    store.append([make_entry()])
    store.close()
    assert store.count() == 1
    backend = store._conn().info.backend_pid
    sql(pg_store_url, "SELECT pg_terminate_backend(%s)", (backend,))
    with pytest.raises(psycopg.OperationalError):
        store.count()  # the error reaches the caller (the handler spools it) ...
    assert store.append([make_entry()]) == [2]  # ... and the next call reconnects
    assert store._conn().info.backend_pid != backend
    assert store.verify().ok


def test_postgres_scheme_alias_and_repr_hide_the_password(pg_store_url: str) -> None:
    alias = pg_store_url.replace("postgresql://", "postgres://", 1)
    opened = open_store(alias)
    try:
        assert isinstance(opened, PostgresStore)
        assert opened.url == alias
        assert opened.append([make_entry()]) == [1]
    finally:
        opened.close()
    with_password = PostgresStore.__new__(PostgresStore)
    with_password.url = "postgresql://audit:s3cret@db.example:5432/audit"
    assert "s3cret" not in repr(with_password)
    assert "audit:***@db.example" in repr(with_password)


@NEEDS_PSYCOPG
@pytest.mark.parametrize(
    "url",
    [
        "postgresql://audit:s3cret@db.example:notaport/audit",
        "postgresql://audit:s3cret@db.example:70000/audit",
        "host=db.example port=5432x password=s3cret",
        "postgresql://audit:s3cret@db.example/audit?no_such_option=1",
    ],
)
def test_a_malformed_url_raises_value_error_without_the_password(url: str) -> None:
    with pytest.raises(ValueError, match="malformed PostgreSQL URL") as caught:
        open_store(url) if "://" in url else PostgresStore(url)
    assert "s3cret" not in str(caught.value)


@NEEDS_PSYCOPG
def test_an_unreachable_server_raises_connection_error_naming_the_url() -> None:
    from smtp_server import free_port

    port = free_port()
    url = f"postgresql://audit:s3cret@127.0.0.1:{port}/audit"
    started = time.monotonic()
    with pytest.raises(ConnectionError, match=r"cannot connect to the audit store") as caught:
        open_store(url, connect_timeout_s=2)
    assert time.monotonic() - started < 10
    assert f"127.0.0.1:{port}/audit" in str(caught.value)
    assert "s3cret" not in str(caught.value)
    assert isinstance(caught.value, OSError)


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"connect_timeout_s": 0}, ValueError, "connect_timeout_s must be a positive"),
        ({"lock_timeout_s": "5"}, ValueError, "lock_timeout_s must be a positive"),
        ({"synchronous_commit": "sometimes"}, ValueError, "synchronous_commit must be one of"),
        ({"synchronus_commit": "on"}, TypeError, "synchronus_commit"),
    ],
)
def test_bad_options_are_refused(
    options: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        open_store("postgresql://audit@127.0.0.1:1/audit", **options)


def test_missing_psycopg_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # import psycopg now raises ImportError
    with pytest.raises(ImportError, match=r"pip install structlogx\[postgres\]"):
        open_store("postgresql://audit@127.0.0.1:5432/audit")
