"""Throughput, caller latency and query speed of the audit trail (AuditHandler over SQLite).

Method
------
Every figure comes from ONE run of this script, on database files in a fresh temporary
directory (``--dir`` picks the file system; it is removed at the end). Each measurement that
writes starts from a fresh file whose table was created by
:class:`structlogx.audit.sqlite.SQLiteStore`, so all of them start from the same state.

* **raw sqlite3 baselines**: a plain :mod:`sqlite3` connection (``journal_mode=WAL``,
  ``synchronous=FULL``, then ``NORMAL``) inserts the row an ``AuditHandler`` would write
  for the benchmark record (built once, up front), one ``BEGIN`` + ``INSERT`` + ``COMMIT``
  per row, from one thread: the floor of a durable per-entry commit on this disk.
* **sync** ``AuditHandler(strength="fsync")`` with 1, 2, 4 and 8 threads, each calling
  ``logger.info("Order %s paid", "ABC42", extra={"action": "shop.order.paid", "data":
  {...}})`` in a loop; the figure is entries per second over the segment, and its ratio to
  the FULL baseline of the same round. ``strength="crash"`` with 1 thread is compared with
  the NORMAL baseline.
* **async** ``AuditHandler(durability="async")`` (default options, ``fsync`` strength):
  *sustained*: ``--async-entries`` calls from one thread, timed from the first call until
  ``handler.flush()`` returns; *caller*: bursts of ``--burst`` calls timed on the caller's
  side (the writer thread runs meanwhile; a ``flush()`` between bursts is not timed), each
  next to a burst of the same call into a no-op ``logging.Handler`` (a coin flip decides
  which runs first); the ratio is the median of the paired ratios.
* **processes**: ``--processes`` processes (``spawn``) each with their own sync
  ``AuditHandler`` on ONE file, released together by a barrier; every ``logger.info`` call
  is timed, so its duration is the wait for the write lock plus the commit. The table shows
  each process's p50, p99 and max over all rounds, and the total entries per second.
* **queries** on ``--query-entries`` entries (1,000,000 by default): a file filled with one
  raw ``executemany`` transaction (10,000 objects of three types, 50 actions under five
  prefixes, 500 actors, 20 scopes, timestamps spread over 2025, 2% hidden), cached in
  ``<tempdir>/structlogx-bench-audit/`` under a name holding the schema version, so reruns
  skip the fill. ``store.query(object=(type, id), limit=50)`` for random objects and
  ``store.query(action="shop.order.*", since=..., until=..., limit=50)`` for random 30-day
  windows are each timed ``--query-runs`` times (after 10 untimed warm-up queries); the
  table shows median and p95 milliseconds, decoding of the 50 entries included.
* **chaining cost** (the hash chain is always on, so "without the chain" is computed): one
  thread writes through ``SQLiteStore`` (``synchronous=FULL``) the way a sync writer does,
  ``store.append([entry], [store.prepare(entry)])`` per entry, next to a segment of the raw
  FULL baseline (a coin flip decides which runs first); then ``chain.prepare(entry)`` +
  ``chain.link(...)``, the chain's own work, is timed alone in a loop without I/O. The
  chaining ratio is (sync cost) / (sync cost - chain cost): how much slower a sync write is
  than it would be without the chain; median of the per-round ratios.
* **floors** (what no audit handler on this write path can beat on this machine): the same
  ``logger.info`` call into a handler that hands one ready-made entry to structlogx's own
  writers (``SyncWriter``, ``AsyncWriter``) over a store that inserts the prebuilt raw
  baseline row: no entry is built, nothing is normalised or encoded. Sync floors run with 1
  and 8 threads (``FULL``) and 1 thread (``NORMAL``), each paired with its raw baseline like
  the sync segments; async floors run like *sustained*. Each floor runs twice: without the
  chain, and with the chain's own work (``chain.prepare`` + ``chain.link`` per entry, its
  result unused) done by the store in the committing thread. A target above its floor
  cannot be met by making the handler's own work cheaper: the logging call, the thread
  hand-offs and the commit alone (and the chain, where it is on) exceed it.
* **verify** of ``--verify-entries`` chained entries (1,000,000 by default): the query rows
  again, each given its seed and hash by ``chain.prepare`` and ``chain.link`` in the fill
  loop and written by one raw ``executemany`` (the state row holds the head), cached like the
  query file; ``store.verify()`` is timed once on it (the file was just filled or read, so
  it is likely in the OS cache).

The write measurements run ``--rounds`` times in an order shuffled anew each round (seeded).
fsync on a virtual disk is noisy, so every sync segment runs right next to a segment of its
raw baseline (before or after it, a coin flip) and its ratio is taken to that neighbour: a
slow spell of the disk hits both. Rates are medians over rounds, ratios are medians of the
paired ratios, shown with their min-max range so that noise is visible. After every write
measurement the file must hold exactly the entries written and no spool file may exist, else
the script exits with status 1 after printing the table.

Run::

    python benchmarks/audit.py [--quick] [--rounds N] [--seconds S] [--dir DIR]
                               [--verify-entries N]
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as _dt
import gc
import json
import logging
import math
import multiprocessing
import os
import platform
import random
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import structlogx
from structlogx.audit import chain
from structlogx.audit.sqlite import MIGRATIONS, STATE, TABLE, SQLiteStore
from structlogx.audit.sqlite import _entry as decode_row
from structlogx.audit.writer import AsyncWriter, Spool, SyncWriter
from structlogx.handlers import AuditHandler
from structlogx.records import AuditEntry, entry_from_record

#: The row columns in table order, without ``id`` (checked against the table).
COLUMNS = (
    "timestamp",
    "action",
    "level",
    "logger",
    "message",
    "actor_type",
    "actor_id",
    "actor_text",
    "object_type",
    "object_id",
    "object_text",
    "scope",
    "data",
    "context",
    "visible",
    "shredded",
    "prev_hash",
    "hash",
    "seed",
    "shred",
)
INSERT = f"INSERT INTO {TABLE} ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
INSERT_WITH_ID = (
    f"INSERT INTO {TABLE} (id, {', '.join(COLUMNS)}) VALUES ({', '.join('?' * (len(COLUMNS) + 1))})"
)
MESSAGE = ("Order %s paid", "ABC42")
ACTION = "shop.order.paid"
THREADS = (1, 2, 4, 8)
FILL_VERSION = 1  # bump when the generated data changes, to invalidate cached files

TARGETS = {"fsync 1": 0.95, "fsync 8": 4.0, "crash 1": 0.8}  # ratios to the raw baseline
TARGET_ASYNC_RATE = 100_000
TARGET_ASYNC_CALLER = 1.5
TARGET_LOCK_WAIT_MS = 100.0
TARGET_QUERY_OBJECT_MS = 10.0
TARGET_CHAINING = 1.2  # (sync cost) / (sync cost - chain cost)
TARGET_VERIFY_S_PER_MILLION = 20.0

#: One call of the measured kind (a log call or a raw commit).
Call = Callable[[], None]


def extra() -> dict[str, Any]:
    """Return the ``extra`` of the benchmark record (built once, reused by every call)."""
    return {
        "action": ACTION,
        "data": {"amount": Decimal("12.50"), "items": 3, "provider": "paypal"},
    }


class NoOpHandler(logging.Handler):
    """A handler whose ``emit`` does nothing: the caller's floor for one log call."""

    def emit(self, record: logging.LogRecord) -> None:
        """Do nothing."""


_LOGGER_NUMBERS = iter(range(1, 10**6))


def make_logger(handler: logging.Handler) -> logging.Logger:
    """Return a fresh logger (``propagate=False``, INFO) whose only handler is *handler*."""
    logger = logging.getLogger(f"bench.audit.l{next(_LOGGER_NUMBERS):04d}")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    for old in list(logger.handlers):
        logger.removeHandler(old)
    logger.addHandler(handler)
    return logger


def log_call(logger: logging.Logger) -> Call:
    """Return the benchmark call on *logger*."""
    info, (message, argument), record_extra = logger.info, MESSAGE, extra()

    def call() -> None:
        info(message, argument, extra=record_extra)

    return call


def detach(logger: logging.Logger, handler: logging.Handler) -> None:
    """Close *handler* and take it off *logger*, so nothing holds it afterwards."""
    logger.removeHandler(handler)
    handler.close()


def new_store_file(directory: str, name: str) -> str:
    """Create a fresh store file (table made by ``SQLiteStore``) and return its path."""
    path = os.path.join(directory, name + ".sqlite3")
    for suffix in ("", "-wal", "-shm", "-lock", ".spool.jsonl"):
        with contextlib.suppress(FileNotFoundError):
            os.remove(path + suffix)
    SQLiteStore(path).close()
    return path


def count_rows(path: str) -> int:
    """Return how many entries the file holds."""
    with contextlib.closing(sqlite3.connect(path)) as connection:
        return int(connection.execute(f"SELECT count(*) FROM {TABLE}").fetchone()[0])


def benchmark_entry() -> AuditEntry:
    """Return the entry an AuditHandler builds for the benchmark record."""
    logger = logging.getLogger("bench.audit.l0000")
    record = logger.makeRecord(
        logger.name, logging.INFO, __file__, 1, MESSAGE[0], MESSAGE[1:], None, extra=extra()
    )
    return entry_from_record(record)


def benchmark_row() -> tuple[Any, ...]:
    """Return the row an AuditHandler writes for the benchmark record (built once)."""
    entry = benchmark_entry()
    values = entry.to_dict()
    values["timestamp"] = entry.timestamp.isoformat(timespec="microseconds")
    values["data"] = json.dumps(values["data"], separators=(",", ":"))
    values["context"] = json.dumps(values["context"], separators=(",", ":"))
    values["visible"], values["shredded"] = int(entry.visible), int(entry.shredded)
    return tuple(values[name] for name in COLUMNS)


def check_columns(directory: str) -> None:
    """Exit 1 when the store's table no longer has the columns this script inserts."""
    path = new_store_file(directory, "columns")
    with contextlib.closing(sqlite3.connect(path)) as connection:
        actual = [row[1] for row in connection.execute(f"PRAGMA table_info({TABLE})")]
    if actual != ["id", *COLUMNS]:
        print(f"the store's columns changed: {actual}; update COLUMNS", file=sys.stderr)
        raise SystemExit(1)


# -- timed segments ------------------------------------------------------------------------


def run_threads(call: Call, threads: int, seconds: float) -> tuple[int, float]:
    """Run *call* in a loop in *threads* threads for *seconds*; return (calls, wall seconds)."""
    barrier = threading.Barrier(threads + 1)
    counts = [0] * threads
    deadline = [0.0]

    def worker(index: int) -> None:
        barrier.wait()
        stop, clock, done = deadline[0], time.perf_counter, 0
        while clock() < stop:
            call()
            done += 1
        counts[index] = done

    workers = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for thread in workers:
        thread.start()
    gc.collect()
    start = time.perf_counter()
    deadline[0] = start + seconds
    barrier.wait()
    for thread in workers:
        thread.join()
    return sum(counts), time.perf_counter() - start


class RowStore:
    """The floor of a store: each entry becomes the prebuilt baseline row, in one
    ``BEGIN IMMEDIATE`` ... ``COMMIT`` per batch; with *chained*, the chain's own work
    (``chain.prepare`` + ``chain.link``) is done for each entry too, its result unused."""

    url = "floor://"

    def __init__(self, path: str, synchronous: str, row: tuple[Any, ...], chained: bool) -> None:
        self.connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.connection.execute("PRAGMA journal_mode = WAL")
        self.connection.execute(f"PRAGMA synchronous = {synchronous}")
        self.row, self.chained = row, chained
        self.head: str | None = None
        self.number = 0

    def append(self, entries: list[AuditEntry]) -> None:
        if self.chained:
            for entry in entries:
                entry.seed = None  # the entry is reused: give it a new seed, as a new one gets
                self.number += 1
                self.head = chain.link(self.head, self.number, chain.prepare(entry))
        execute = self.connection.execute
        execute("BEGIN IMMEDIATE")
        self.connection.executemany(INSERT, [self.row] * len(entries))
        execute("COMMIT")

    def close(self) -> None:
        self.connection.close()


class ReadyEntryHandler(logging.Handler):
    """Hand one ready-made entry to *writer* for every record: no audit work in the caller."""

    def __init__(self, writer: SyncWriter | AsyncWriter, entry: AuditEntry) -> None:
        super().__init__()
        self.writer, self.entry = writer, entry

    def handle(self, record: logging.LogRecord) -> bool:
        self.writer.write(self.entry)
        return True

    def flush(self, timeout: float | None = None) -> bool:  # type: ignore[override]
        return self.writer.flush(timeout)

    def close(self) -> None:
        self.writer.close()
        super().close()


class Bench:
    """The write measurements, sharing one temporary directory and a problem list."""

    def __init__(self, directory: str, seconds: float) -> None:
        self.directory = directory
        self.seconds = seconds
        self.row = benchmark_row()
        self.entry = benchmark_entry()
        self.problems: list[str] = []
        self.files = 0

    def fresh(self, name: str) -> str:
        self.files += 1
        return new_store_file(self.directory, f"{name}-{self.files}")

    def verify(self, name: str, path: str, expected: int) -> None:
        actual = count_rows(path)
        if actual != expected:
            self.problems.append(f"{name}: {expected} entries written, the file holds {actual}")
        if os.path.exists(path + ".spool.jsonl"):
            self.problems.append(f"{name}: entries were spooled to {path}.spool.jsonl")

    def raw(self, synchronous: str) -> float:
        """Rows per second of raw per-row commits."""
        path = self.fresh(f"raw-{synchronous}")
        connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute(f"PRAGMA synchronous = {synchronous}")
        execute, row = connection.execute, self.row

        def call() -> None:
            execute("BEGIN")
            execute(INSERT, row)
            execute("COMMIT")

        done, elapsed = run_threads(call, 1, self.seconds)
        connection.close()
        self.verify(f"raw {synchronous}", path, done)
        return done / elapsed

    def sync(self, strength: str, threads: int) -> float:
        """Entries per second through a sync AuditHandler."""
        path = self.fresh(f"sync-{strength}-{threads}")
        handler = AuditHandler(f"sqlite:///{path}", strength=strength, default_store=False)
        logger = make_logger(handler)
        done, elapsed = run_threads(log_call(logger), threads, self.seconds)
        detach(logger, handler)
        self.verify(f"sync {strength} x{threads}", path, done)
        return done / elapsed

    def floor_sync(self, synchronous: str, threads: int, chained: bool) -> float:
        """Entries per second of the sync floor (see the module docs)."""
        path = self.fresh(f"floor-{synchronous}-{threads}-{'chained' if chained else 'plain'}")
        writer = SyncWriter(RowStore(path, synchronous, self.row, chained))  # type: ignore[arg-type]
        handler = ReadyEntryHandler(writer, self.entry)
        logger = make_logger(handler)
        done, elapsed = run_threads(log_call(logger), threads, self.seconds)
        detach(logger, handler)
        self.verify(f"floor {synchronous} x{threads}", path, done)
        return done / elapsed

    def floor_async(self, entries: int, chained: bool) -> float:
        """Entries per second of the async floor, from the first call until ``flush()``."""
        path = self.fresh(f"floor-async-{'chained' if chained else 'plain'}")
        store = RowStore(path, "FULL", self.row, chained)
        writer = AsyncWriter(store, spool=Spool(path + ".spool.jsonl"))  # type: ignore[arg-type]
        handler = ReadyEntryHandler(writer, dataclasses.replace(self.entry))
        return self.sustained("async floor", path, handler, entries)

    def chained(self) -> float:
        """Microseconds per entry of ``store.prepare`` + ``store.append`` (FULL, 1 thread)."""
        path = self.fresh("chained")
        store = SQLiteStore(path, synchronous="FULL")
        template, prepare, append = self.entry, store.prepare, store.append
        replace = dataclasses.replace

        def call() -> None:
            entry = replace(template)  # prepare() sets the seed: a fresh entry per write
            append([entry], [prepare(entry)])

        done, elapsed = run_threads(call, 1, self.seconds)
        store.close()
        self.verify("chained sync", path, done)
        check = SQLiteStore(path)
        report = check.verify()
        check.close()
        if not report.ok or report.checked != done:
            self.problems.append(f"chained sync: {report}")
        return elapsed / done * 1e6

    def chain_only(self, entries: int) -> float:
        """Microseconds per entry of ``chain.prepare`` + ``chain.link`` alone, no I/O."""
        template, prepare, link = self.entry, chain.prepare, chain.link
        replace = dataclasses.replace
        previous = None
        gc.collect()
        start = time.perf_counter()
        for number in range(1, entries + 1):
            entry = replace(template)
            previous = link(previous, number, prepare(entry))
        return (time.perf_counter() - start) / entries * 1e6

    def async_rate(self, entries: int) -> float:
        """Entries per second from the first async emit until ``flush()`` returns."""
        path = self.fresh("async-rate")
        handler = AuditHandler(f"sqlite:///{path}", durability="async", default_store=False)
        return self.sustained("async sustained", path, handler, entries)

    def sustained(
        self, name: str, path: str, handler: AuditHandler | ReadyEntryHandler, entries: int
    ) -> float:
        """Entries per second of *entries* calls into an async *handler* writing to *path*,
        from the first call until its ``flush()`` returns; the handler is closed after."""
        logger = make_logger(handler)
        call = log_call(logger)
        call()  # starts the writer thread and warms the connection
        handler.flush()
        gc.collect()
        start = time.perf_counter()
        for _ in range(entries):
            call()
        flushed = handler.flush()
        elapsed = time.perf_counter() - start
        detach(logger, handler)
        if not flushed:
            self.problems.append(f"{name}: flush() returned False")
        self.verify(name, path, entries + 1)
        return entries / elapsed

    def async_caller(self, bursts: int, burst: int, shuffler: random.Random) -> list[float]:
        """Return per-burst pairs: [async µs/emit, no-op µs/emit, ...] (flattened)."""
        path = self.fresh("async-caller")
        handler = AuditHandler(f"sqlite:///{path}", durability="async", default_store=False)
        logger = make_logger(handler)
        noop = NoOpHandler()
        noop_logger = make_logger(noop)
        calls = {"async": log_call(logger), "noop": log_call(noop_logger)}
        calls["async"]()
        handler.flush()
        result: list[float] = []
        for _ in range(bursts):
            order = ["async", "noop"] if shuffler.random() < 0.5 else ["noop", "async"]
            times: dict[str, float] = {}
            for kind in order:
                call = calls[kind]
                gc.collect()
                start = time.perf_counter_ns()
                for _ in range(burst):
                    call()
                times[kind] = (time.perf_counter_ns() - start) / burst / 1000.0
                handler.flush()
            result += [times["async"], times["noop"]]
        detach(logger, handler)
        detach(noop_logger, noop)
        self.verify("async caller", path, bursts * burst + 1)
        return result


# -- several processes ---------------------------------------------------------------------


def process_worker(path: str, seconds: float, barrier: Any, results: Any) -> None:
    """One process of the multi-process measurement: time every log call."""
    handler = AuditHandler(f"sqlite:///{path}", default_store=False)
    logger = make_logger(handler)
    call = log_call(logger)
    call()  # opens the connection
    latencies: list[int] = []
    clock = time.perf_counter_ns
    barrier.wait()
    start = clock()
    deadline = start + int(seconds * 1e9)
    while True:
        before = clock()
        call()
        after = clock()
        latencies.append(after - before)
        if after >= deadline:
            break
    elapsed = (clock() - start) / 1e9
    detach(logger, handler)
    results.put((os.getpid(), latencies, elapsed))


def run_processes(bench: Bench, processes: int) -> tuple[list[list[int]], int, float]:
    """Return (latencies per process in ns, entries, wall seconds) of one multi-process run."""
    path = bench.fresh("processes")
    spawn = multiprocessing.get_context("spawn")
    barrier = spawn.Barrier(processes)
    results = spawn.Queue()
    workers = [
        spawn.Process(target=process_worker, args=(path, bench.seconds, barrier, results))
        for _ in range(processes)
    ]
    for worker in workers:
        worker.start()
    collected = [results.get(timeout=120 + 10 * bench.seconds) for _ in workers]
    for worker in workers:
        worker.join()
    collected.sort()
    latencies = [item[1] for item in collected]
    entries = sum(len(item) for item in latencies)
    bench.verify("processes", path, entries + processes)
    return latencies, entries, max(item[2] for item in collected)


# -- queries -------------------------------------------------------------------------------

PREFIXES = ("shop.order", "shop.payment", "shop.customer", "shop.event", "auth.user")
VERBS = (
    "created",
    "changed",
    "paid",
    "canceled",
    "refunded",
    "approved",
    "expired",
    "deleted",
    "exported",
    "commented",
)
OBJECT_TYPES = (("shop.Order", 8000), ("shop.Customer", 1500), ("shop.Event", 500))
YEAR_START = _dt.datetime(2025, 1, 1, tzinfo=_dt.timezone.utc)
YEAR = _dt.timedelta(days=365)


def objects() -> list[tuple[str, str]]:
    """Return the 10,000 (type, id) pairs the generated entries are about."""
    return [(kind, str(1000 + n)) for kind, count in OBJECT_TYPES for n in range(count)]


def generated_rows(n: int, seed: int) -> Iterator[tuple[Any, ...]]:
    """Yield *n* rows with ids 1..n and increasing timestamps over 2025."""
    rng = random.Random(seed)
    subjects = objects()
    actions = [f"{prefix}.{verb}" for prefix in PREFIXES for verb in VERBS]
    step = YEAR / n
    for number in range(1, n + 1):
        kind, ident = rng.choice(subjects)
        actor = rng.randrange(500)
        cents = rng.randrange(100, 100_000)
        timestamp = YEAR_START + step * number
        yield (
            number,
            timestamp.isoformat(timespec="microseconds"),
            rng.choice(actions),
            "INFO",
            "shop",
            f"{kind} {ident}",
            "auth.User",
            str(actor),
            f"user{actor}@example.com",
            kind,
            ident,
            f"{kind} #{ident}",
            f"event-{rng.randrange(20):02d}",
            f'{{"amount":"{cents // 100}.{cents % 100:02d}","items":{rng.randrange(1, 9)}}}',
            f'{{"request_id":"r-{number}"}}',
            0 if number % 50 == 0 else 1,
            0,
            None,
            None,
            None,
            None,
        )


def chained_rows(n: int, seed: int, last: list[str | None]) -> Iterator[tuple[Any, ...]]:
    """Yield :func:`generated_rows` with their seeds and hashes; leave the head in *last*."""
    previous: str | None = None
    for row in generated_rows(n, seed):
        entry = decode_row(row)  # as the store reads it back: seed, hashes and shred None
        digest = chain.link(previous, row[0], chain.prepare(entry))
        yield (*row[:17], previous, digest, entry.seed, None)
        previous = last[0] = digest


def query_file(n: int, cache_dir: str | None, chained: bool = False) -> tuple[str, float | None]:
    """Return the path of a cached file with *n* entries (filling it if needed) and fill secs.

    *chained*: give every entry its seed and hash, as a store would, and record the head.
    """
    base = cache_dir or os.path.join(tempfile.gettempdir(), "structlogx-bench-audit")
    os.makedirs(base, exist_ok=True)
    kind = f"{chain.VERSION}-" if chained else "fill"  # a new chain scheme: a new file
    path = os.path.join(base, f"schema{len(MIGRATIONS)}-{kind}{FILL_VERSION}-n{n}.sqlite3")
    if os.path.exists(path):
        try:
            if count_rows(path) == n:
                return path, None
        except sqlite3.Error:
            pass
    part = path + ".part"
    for suffix in ("", "-wal", "-shm", "-lock"):
        with contextlib.suppress(FileNotFoundError):
            os.remove(part + suffix)
    start = time.perf_counter()
    SQLiteStore(part).close()
    connection = sqlite3.connect(part, isolation_level=None)
    connection.execute("PRAGMA synchronous = OFF")
    connection.execute("PRAGMA cache_size = -262144")  # 256 MiB: the indexes stay in memory
    connection.execute("BEGIN")
    if chained:
        head: list[str | None] = [None]
        connection.executemany(INSERT_WITH_ID, chained_rows(n, n, head))
        connection.execute(f"UPDATE {STATE} SET head_id = ?, head_hash = ?", (n, head[0]))
    else:
        connection.executemany(INSERT_WITH_ID, generated_rows(n, seed=n))
    connection.execute("COMMIT")
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    with contextlib.suppress(FileNotFoundError):
        os.remove(part + "-lock")
    os.replace(part, path)
    return path, time.perf_counter() - start


def time_queries(path: str, runs: int, seed: int) -> dict[str, list[float]]:
    """Time the two queries *runs* times each; return milliseconds per query kind."""
    rng = random.Random(seed)
    subjects = objects()
    store = SQLiteStore(path)

    def by_object() -> None:
        store.query(object=rng.choice(subjects), limit=50)

    def by_action() -> None:
        since = YEAR_START + _dt.timedelta(days=rng.randrange(335))
        store.query(
            action="shop.order.*", since=since, until=since + _dt.timedelta(days=30), limit=50
        )

    kinds = {"object": by_object, "action": by_action}
    timings: dict[str, list[float]] = {kind: [] for kind in kinds}
    for query in kinds.values():
        for _ in range(10):
            query()
    for _ in range(runs):
        for kind, query in kinds.items():
            start = time.perf_counter_ns()
            query()
            timings[kind].append((time.perf_counter_ns() - start) / 1e6)
    sample = store.query(object=subjects[0], limit=50)
    store.close()
    if not sample:
        timings["object"] = []
    return timings


# -- report --------------------------------------------------------------------------------


def percentile(values: list[float] | list[int], share: float) -> float:
    """Return the *share* (0..1) percentile of *values*, nearest rank."""
    ordered = sorted(values)
    return float(ordered[max(0, math.ceil(share * len(ordered)) - 1)])


@dataclass
class Row:
    """One line of the table."""

    label: str
    value: str
    ratio: str = ""
    spread: str = ""
    target: str = ""
    ok: bool | None = None


def ratio_row(label: str, rates: list[float], ratios: list[float], target: float | None) -> Row:
    """Return the row of a paired measurement: median rate, median ratio, its range."""
    ratio = statistics.median(ratios)
    return Row(
        label,
        f"{statistics.median(rates):,.0f}/s",
        f"{ratio:.3f}x",
        f"{min(ratios):.3f}-{max(ratios):.3f}",
        "" if target is None else f">= {target:.2f}x",
        None if target is None else ratio >= target,
    )


def print_table(title: str, rows: list[Row]) -> None:
    widths = [
        max(len(getattr(row, name)) for row in rows)
        for name in ("label", "value", "ratio", "spread", "target")
    ]
    widths = [max(width, len(head)) for width, head in zip(widths, HEADERS, strict=False)]
    header = "  ".join(
        f"{head:<{width}}" if i == 0 else f"{head:>{width}}"
        for i, (head, width) in enumerate(zip(HEADERS, widths, strict=False))
    )
    print(f"\n{title}")
    print(header + "  verdict")
    print("-" * (len(header) + 9))
    for row in rows:
        verdict = "" if row.ok is None else ("ok" if row.ok else "MISS")
        cells = (row.label, row.value, row.ratio, row.spread, row.target)
        print(
            "  ".join(
                f"{cell:<{width}}" if i == 0 else f"{cell:>{width}}"
                for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
            )
            + f"  {verdict}"
        )


HEADERS = ("measurement", "value", "ratio", "ratio range", "target")


def file_system(path: str) -> str:
    """Return the type and device of the file system holding *path* (Linux), or ``?``."""
    try:
        with open("/proc/mounts", encoding="utf-8") as mounts:
            entries = [line.split() for line in mounts]
    except OSError:
        return "?"
    path = os.path.realpath(path)
    best = ("", "?", "?")
    for device, point, kind, *_ in entries:
        inside = path == point or path.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best[0]):
            best = (point, kind, device)
    return f"{best[1]} on {best[2]}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--rounds", type=int, help="rounds of the write measurements (5)")
    parser.add_argument("--seconds", type=float, help="seconds per write segment (2.0)")
    parser.add_argument("--async-entries", type=int, help="entries of the async run (100000)")
    parser.add_argument("--burst", type=int, default=2000, help="calls per caller burst")
    parser.add_argument("--bursts", type=int, help="caller bursts per round (20)")
    parser.add_argument("--processes", type=int, default=4, help="processes on one file (4)")
    parser.add_argument("--query-entries", type=int, help="entries of the query file (1000000)")
    parser.add_argument("--query-runs", type=int, help="timed runs per query (200)")
    parser.add_argument(
        "--verify-entries", type=int, help="entries of the chained verify file (1000000)"
    )
    parser.add_argument("--dir", help="parent directory of the temporary files (the disk)")
    parser.add_argument("--cache-dir", help="where the query file is cached")
    parser.add_argument("--seed", type=int, default=1, help="seed of the shuffles and queries")
    args = parser.parse_args(argv)
    quick = args.quick
    rounds = args.rounds or (1 if quick else 5)
    seconds = args.seconds or (0.3 if quick else 2.0)
    async_entries = args.async_entries or (10_000 if quick else 100_000)
    bursts = args.bursts or (5 if quick else 20)
    query_entries = args.query_entries or (100_000 if quick else 1_000_000)
    query_runs = args.query_runs or (50 if quick else 200)
    verify_entries = args.verify_entries or (100_000 if quick else 1_000_000)
    chain_entries = 5_000 if quick else 20_000
    if min(rounds, async_entries, bursts, args.burst, args.processes, query_runs) < 1:
        parser.error("counts must be at least 1")

    started = time.perf_counter()
    shuffler = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="structlogx-bench-", dir=args.dir) as directory:
        check_columns(directory)
        bench = Bench(directory, seconds)
        pairs = {f"fsync {n}": ("fsync", n, "FULL") for n in THREADS}
        pairs["crash 1"] = ("crash", 1, "NORMAL")
        rates: dict[str, list[float]] = {name: [] for name in [*pairs, "FULL", "NORMAL"]}
        ratios: dict[str, list[float]] = {name: [] for name in pairs}
        floors = {  # name: (the target's name, chained)
            f"floor {name} {'chained' if chained else 'plain'}": (name, chained)
            for name in TARGETS
            for chained in (False, True)
        }
        floor_rates: dict[str, list[float]] = {name: [] for name in floors}
        floor_ratios: dict[str, list[float]] = {name: [] for name in floors}
        floor_async: dict[bool, list[float]] = {False: [], True: []}
        async_rates: list[float] = []
        caller: list[float] = []
        latencies: list[list[int]] = [[] for _ in range(args.processes)]
        process_rates: list[float] = []
        chained_us: list[float] = []
        chained_raw_us: list[float] = []
        chain_us: list[float] = []
        bench.sync("fsync", 2)  # untimed warm-up
        bench.chain_only(chain_entries // 5)
        for _ in range(rounds):
            order = [*pairs, *floors, "async", "floor async", "caller", "processes", "chain"]
            shuffler.shuffle(order)
            for name in order:
                if name == "async":
                    async_rates.append(bench.async_rate(async_entries))
                elif name == "floor async":
                    for chained in (False, True):
                        floor_async[chained].append(bench.floor_async(async_entries, chained))
                elif name in floors:
                    goal, chained = floors[name]
                    _, threads, synchronous = pairs[goal]
                    if shuffler.random() < 0.5:
                        rate = bench.floor_sync(synchronous, threads, chained)
                        base = bench.raw(synchronous)
                    else:
                        base = bench.raw(synchronous)
                        rate = bench.floor_sync(synchronous, threads, chained)
                    floor_rates[name].append(rate)
                    floor_ratios[name].append(rate / base)
                elif name == "caller":
                    caller += bench.async_caller(bursts, args.burst, shuffler)
                elif name == "processes":
                    per_process, entries, elapsed = run_processes(bench, args.processes)
                    for mine, theirs in zip(latencies, per_process, strict=True):
                        mine.extend(theirs)
                    process_rates.append(entries / elapsed)
                elif name == "chain":
                    if shuffler.random() < 0.5:
                        sync_us, raw_rate = bench.chained(), bench.raw("FULL")
                    else:
                        raw_rate, sync_us = bench.raw("FULL"), bench.chained()
                    chained_us.append(sync_us)
                    chained_raw_us.append(1e6 / raw_rate)
                    chain_us.append(bench.chain_only(chain_entries))
                else:
                    strength, threads, synchronous = pairs[name]
                    if shuffler.random() < 0.5:
                        rate, base = bench.sync(strength, threads), bench.raw(synchronous)
                    else:
                        base, rate = bench.raw(synchronous), bench.sync(strength, threads)
                    rates[name].append(rate)
                    rates[synchronous].append(base)
                    ratios[name].append(rate / base)
        query_path, fill_s = query_file(query_entries, args.cache_dir)
        timings = time_queries(query_path, query_runs, args.seed)
        verify_path, verify_fill_s = query_file(verify_entries, args.cache_dir, chained=True)
        verify_store = SQLiteStore(verify_path)
        start = time.perf_counter()
        verify_report = verify_store.verify()
        verify_s = time.perf_counter() - start
        verify_store.close()
        problems = bench.problems
        if not verify_report.ok or verify_report.checked != verify_entries:
            problems.append(f"verify: {verify_report}")
        if not timings["object"]:
            problems.append("queries: the by-object query found nothing")

    rows = [
        Row(f"raw sqlite3 {synchronous}, 1 row/commit", f"{statistics.median(values):,.0f}/s")
        for synchronous, values in (("FULL", rates["FULL"]), ("NORMAL", rates["NORMAL"]))
    ]
    for name, (strength, threads, synchronous) in pairs.items():
        target = TARGETS.get(name)
        rows.append(
            ratio_row(
                f"sync {strength}, {threads} thread{'s' if threads > 1 else ''} / raw "
                f"{synchronous}",
                rates[name],
                ratios[name],
                target,
            )
        )
    async_rate = statistics.median(async_rates)
    rows.append(
        Row(
            f"async sustained, {async_entries:,} entries to flush()",
            f"{async_rate:,.0f}/s",
            spread=f"{min(async_rates):,.0f}-{max(async_rates):,.0f}/s",
            target=f">= {TARGET_ASYNC_RATE:,}/s",
            ok=async_rate >= TARGET_ASYNC_RATE,
        )
    )
    async_us, noop_us = caller[0::2], caller[1::2]
    caller_ratios = [a / b for a, b in zip(async_us, noop_us, strict=True)]
    caller_ratio = statistics.median(caller_ratios)
    rows.append(Row("no-op handler, caller µs/emit", f"{statistics.median(noop_us):.2f} µs"))
    rows.append(
        Row(
            "async caller µs/emit / no-op",
            f"{statistics.median(async_us):.2f} µs",
            f"{caller_ratio:.3f}x",
            f"{percentile(caller_ratios, 0.25):.3f}-{percentile(caller_ratios, 0.75):.3f}",
            f"<= {TARGET_ASYNC_CALLER:.2f}x",
            caller_ratio <= TARGET_ASYNC_CALLER,
        )
    )
    print_table(
        f"writes (median of {rounds} rounds x {seconds:g} s; threads share one handler)", rows
    )

    rows = []
    for name, (goal, chained) in floors.items():
        strength, threads, synchronous = pairs[goal]
        rows.append(
            ratio_row(
                f"floor sync {strength}, {threads} thread{'s' if threads > 1 else ''}, "
                f"{'with' if chained else 'no'} chain / raw {synchronous}",
                floor_rates[name],
                floor_ratios[name],
                TARGETS[goal],
            )
        )
    for chained in (False, True):
        values = floor_async[chained]
        rows.append(
            Row(
                f"floor async sustained, {'with' if chained else 'no'} chain",
                f"{statistics.median(values):,.0f}/s",
                spread=f"{min(values):,.0f}-{max(values):,.0f}/s",
                target=f">= {TARGET_ASYNC_RATE:,}/s",
                ok=statistics.median(values) >= TARGET_ASYNC_RATE,
            )
        )
    print_table(
        "floors: the same logging call, a ready entry, structlogx's writers, the prebuilt row "
        "(a MISS: the target is\nabove what the logging call, the hand-offs and the commit "
        "alone reach here)",
        rows,
    )

    rows = []
    for number, waits in enumerate(latencies, start=1):
        worst = max(waits) / 1e6
        rows.append(
            Row(
                f"process {number}: log call p50 / p99 / max",
                f"{percentile(waits, 0.5) / 1e6:.2f} / {percentile(waits, 0.99) / 1e6:.2f} / "
                f"{worst:.1f} ms",
                target=f"max <= {TARGET_LOCK_WAIT_MS:g} ms",
                ok=worst <= TARGET_LOCK_WAIT_MS,
            )
        )
    rows.append(
        Row(
            f"{args.processes} processes, sync fsync: total",
            f"{statistics.median(process_rates):,.0f}/s",
            spread=f"{min(process_rates):,.0f}-{max(process_rates):,.0f}/s",
        )
    )
    print_table(
        f"{args.processes} processes on one file ({rounds} rounds x {seconds:g} s, "
        f"{sum(map(len, latencies)):,} calls timed)",
        rows,
    )

    rows = []
    for kind, label, target in (
        ("object", "query(object=(type, id), limit=50)", TARGET_QUERY_OBJECT_MS),
        ("action", 'query(action="shop.order.*", 30 days, limit=50)', None),
    ):
        values = timings[kind] or [math.nan]
        p95 = percentile(values, 0.95)
        rows.append(
            Row(
                label + " p50 / p95",
                f"{statistics.median(values):.2f} / {p95:.2f} ms",
                target="" if target is None else f"p95 <= {target:g} ms",
                ok=None if target is None else p95 <= target,
            )
        )
    filled = "cached" if fill_s is None else f"filled in {fill_s:.1f} s"
    print_table(f"queries on {query_entries:,} entries ({query_runs} runs each, {filled})", rows)

    shares = [chain / sync for chain, sync in zip(chain_us, chained_us, strict=True)]
    chaining = [sync / (sync - chain) for chain, sync in zip(chain_us, chained_us, strict=True)]
    versus_raw = [sync / raw for sync, raw in zip(chained_us, chained_raw_us, strict=True)]
    chaining_ratio = statistics.median(chaining)
    verify_target = TARGET_VERIFY_S_PER_MILLION * verify_entries / 1_000_000
    rows = [
        Row("raw sqlite3 FULL, 1 row/commit", f"{statistics.median(chained_raw_us):.1f} µs"),
        Row(
            "sync store.prepare + append, FULL / raw",
            f"{statistics.median(chained_us):.1f} µs",
            f"{statistics.median(versus_raw):.3f}x",
            f"{min(versus_raw):.3f}-{max(versus_raw):.3f}",
        ),
        Row(
            "chain.prepare + chain.link alone / sync",
            f"{statistics.median(chain_us):.1f} µs",
            f"{statistics.median(shares):.1%}",
            f"{min(shares):.1%}-{max(shares):.1%}",
        ),
        Row(
            "chaining: sync / (sync - chain)",
            "",
            f"{chaining_ratio:.3f}x",
            f"{min(chaining):.3f}-{max(chaining):.3f}",
            f"<= {TARGET_CHAINING:.2f}x",
            chaining_ratio <= TARGET_CHAINING,
        ),
        Row(
            f"store.verify(), {verify_entries:,} chained entries",
            f"{verify_s:.2f} s",
            f"{verify_entries / verify_s:,.0f}/s",
            target=f"<= {verify_target:g} s",
            ok=verify_s <= verify_target,
        ),
    ]
    verified = "cached" if verify_fill_s is None else f"filled in {verify_fill_s:.1f} s"
    print_table(
        f"the hash chain (per entry; median of {rounds} rounds x {seconds:g} s, "
        f"{chain_entries:,} entries chained alone; verify file {verified})",
        rows,
    )

    print(
        "\nratio: median over rounds of (rate / the rate of the raw baseline segment run "
        "next to it); ratio range:\nmin-max (for the caller row: 25th-75th percentile of "
        "the paired per-burst ratios)"
    )
    print(
        f"Python {platform.python_version()} ({platform.python_implementation()}), "
        f"{platform.platform()}, {os.cpu_count()} CPUs; SQLite {sqlite3.sqlite_version}"
    )
    where = args.dir or tempfile.gettempdir()
    print(f"files on {where} ({file_system(where)}); query file {query_path}")
    print(f"structlogx {structlogx.__version__} from {os.path.dirname(structlogx.__file__)}")
    print(f"total wall time {time.perf_counter() - started:.1f} s")
    if problems:
        print("\nPROBLEMS (figures above are not valid):", file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
