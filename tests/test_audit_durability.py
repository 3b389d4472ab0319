"""Durability of AuditHandler on SQLite: threads, processes, SIGKILL, async drain and fork.

Everything runs for real: one SQLite file in ``tmp_path`` shared by threads, by child
processes started with ``sys.executable -c`` and by forked children.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import random
import signal
import sys
import threading
import time
import traceback
from collections import defaultdict
from pathlib import Path

import pytest
from audit_helpers import (
    audit_logger,
    finish,
    integrity_check,
    kill,
    log_many,
    pool_worker,
    spawn,
    sqlite_url,
    table_rows,
    thread_stacks,
    wait_exit,
    wait_forked,
)

from structlogx.audit import open_store
from structlogx.audit import store as store_module
from structlogx.audit.sqlite import TABLE
from structlogx.handlers import AuditHandler
from structlogx.records import AuditEntry

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="POSIX only: fork and SIGKILL")


@pytest.fixture(autouse=True)
def _keep_default_store() -> object:
    saved = list(store_module._default)
    yield
    store_module._default[:] = saved


def read_all(path: Path) -> list[AuditEntry]:
    """Return every entry of the SQLite file, oldest first, through a fresh store."""
    store = open_store(sqlite_url(path))
    try:
        return list(reversed(store.query(limit=None, visible=None)))
    finally:
        store.close()


def assert_ids_dense(entries: list[AuditEntry]) -> None:
    assert [entry.id for entry in entries] == list(range(1, len(entries) + 1))


def assert_each_source_in_order(entries: list[AuditEntry], key: str) -> dict[object, list[int]]:
    """Each source's ``k`` values are 0..n-1, in id order; return the ids per source."""
    by_source: dict[object, list[int]] = defaultdict(list)
    ks: dict[object, list[int]] = defaultdict(list)
    for entry in entries:  # oldest first
        by_source[entry.data[key]].append(entry.id)  # type: ignore[arg-type]
        ks[entry.data[key]].append(entry.data["k"])
    for source, seen in ks.items():
        assert seen == list(range(len(seen))), f"{key}={source}: out of order or duplicated"
    return by_source


# -- (a) threads ----------------------------------------------------------------------------


@pytest.mark.slow
def test_eight_threads_share_one_file_without_loss_or_reordering(tmp_path: Path) -> None:
    path = tmp_path / "audit.sqlite3"
    threads, per_thread = 8, 2000
    handler = AuditHandler(sqlite_url(path), "sync", default_store=False)
    start = threading.Barrier(threads)
    errors: list[BaseException] = []

    def work(logger: logging.Logger, t: int) -> None:
        try:
            start.wait()
            for k in range(per_thread):
                logger.info(
                    "t%d k%d", t, k, extra={"action": "test.thread.entry", "data": {"t": t, "k": k}}
                )
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    with audit_logger(handler) as logger:
        workers = [threading.Thread(target=work, args=(logger, t)) for t in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(60)
        assert not any(worker.is_alive() for worker in workers), "a logging thread hung"
        assert errors == []
        assert handler.store.count() == threads * per_thread
    entries = read_all(path)
    assert len(entries) == threads * per_thread
    assert_ids_dense(entries)
    by_thread = assert_each_source_in_order(entries, "t")
    assert sorted(by_thread) == list(range(threads))
    assert all(len(got) == per_thread for got in by_thread.values())
    assert integrity_check(path) == "ok"


# -- (b) processes --------------------------------------------------------------------------

PROCESS_WRITER = """
    url, p, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    handler, logger = audit_logger(url)
    for k in range(n):
        data = {"p": p, "k": k}
        logger.info("p%d k%d", p, k, extra={"action": "test.process.entry", "data": data})
    handler.close()
    print("done", flush=True)
"""


@pytest.mark.slow
def test_four_processes_share_one_file(tmp_path: Path) -> None:
    path = tmp_path / "audit.sqlite3"
    processes, per_process = 4, 500
    open_store(sqlite_url(path)).close()  # created once, so the children race only to write
    children = [
        spawn(PROCESS_WRITER, sqlite_url(path), str(p), str(per_process)) for p in range(processes)
    ]
    for child in children:
        code, out, err = finish(child)
        assert (code, out) == (0, "done\n"), err
    entries = read_all(path)
    assert len(entries) == processes * per_process
    assert_ids_dense(entries)
    by_process = assert_each_source_in_order(entries, "p")
    assert {p: len(got) for p, got in by_process.items()} == dict.fromkeys(
        range(processes), per_process
    )
    assert integrity_check(path) == "ok"


# -- (c) SIGKILL in sync mode ---------------------------------------------------------------

CRASH_WRITER = """
    url, strength = sys.argv[1], sys.argv[2]
    handler, logger = audit_logger(url, strength=strength)
    k = 0
    while True:
        logger.info("k=%d", k, extra={"action": "test.crash.entry", "data": {"k": k}})
        print(k, flush=True)
        k += 1
"""


@pytest.mark.slow
@pytest.mark.parametrize("strength", ["fsync", "crash"])
def test_every_entry_acknowledged_before_sigkill_survives(tmp_path: Path, strength: str) -> None:
    rng = random.Random(f"crash-{strength}")  # reproducible kill points
    for run in range(10):
        path = tmp_path / f"crash-{run}.sqlite3"
        target = rng.randint(1, 400)
        child = spawn(CRASH_WRITER, sqlite_url(path), strength)
        acknowledged = -1
        assert child.stdout is not None
        for _ in range(target):
            line = child.stdout.readline()
            if not line:
                child.kill()
                raise AssertionError(f"run {run}: the child died early:\n{child.communicate()[1]}")
            acknowledged = int(line)
        kill(child)
        assert integrity_check(path) == "ok", f"run {run}"
        entries = read_all(path)
        ks = [entry.data["k"] for entry in entries]
        # Every printed k is there, and what got in past it has no gap or duplicate.
        assert ks == list(range(len(ks))), f"run {run}"
        assert len(ks) > acknowledged, f"run {run}: printed {acknowledged}, stored {len(ks)}"
        assert_ids_dense(entries)


# -- (d), (e) async -------------------------------------------------------------------------

ASYNC_FLUSH_THEN_HANG = """
    import time
    url, n = sys.argv[1], int(sys.argv[2])
    handler, logger = audit_logger(url, durability="async", batch_interval_s=0.05)
    for k in range(n):
        logger.info("k=%d", k, extra={"action": "test.async.entry", "data": {"k": k}})
    assert handler.flush(20.0)
    print("flushed", flush=True)
    time.sleep(60)
"""


def test_async_flush_then_sigkill_keeps_everything(tmp_path: Path) -> None:
    path = tmp_path / "audit.sqlite3"
    child = spawn(ASYNC_FLUSH_THEN_HANG, sqlite_url(path), "500")
    assert child.stdout is not None
    line = child.stdout.readline()
    if line != "flushed\n":
        child.kill()
        raise AssertionError(f"no 'flushed' from the child: {line!r}\n{child.communicate()[1]}")
    kill(child)
    entries = read_all(path)
    assert [entry.data["k"] for entry in entries] == list(range(500))
    assert integrity_check(path) == "ok"


ASYNC_EXIT = """
    url, n, close = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "close"
    # A long batch interval and a big batch: nearly everything is still queued at exit.
    handler, logger = audit_logger(
        url, durability="async", batch_interval_s=5.0, batch_size=100_000
    )
    for k in range(n):
        logger.info("k=%d", k, extra={"action": "test.async.entry", "data": {"k": k}})
    if close:
        handler.close()
    print("logged", flush=True)
"""


@pytest.mark.parametrize("ending", ["exit-without-close", "close"])
def test_async_entries_are_drained_and_the_process_exits(tmp_path: Path, ending: str) -> None:
    # Without close(), the atexit hook drains the queue; either way, exit must not hang
    # (logging.shutdown() flushes and closes every live handler once more at exit).
    path = tmp_path / "audit.sqlite3"
    child = spawn(ASYNC_EXIT, sqlite_url(path), "500", "close" if ending == "close" else "no")
    code, out, err = wait_exit(child, timeout=10.0)
    assert out == "logged\n", err
    entries = read_all(path)
    assert [entry.data["k"] for entry in entries] == list(range(500))
    assert code is not None, "the child hung at interpreter exit (killed after 10 s)"
    assert (code, err) == (0, "")


# -- (f) fork -------------------------------------------------------------------------------


def _forked_child(
    logger: logging.Logger, handler: AuditHandler, source: str, count: int, deadline_s: int = 20
) -> None:
    """Body of a forked child: log, flush, and leave with ``os._exit`` whatever happens.

    A child still busy after *deadline_s* seconds dies of SIGALRM (exit code -14) instead of
    hanging the test run.
    """
    code = 1
    try:
        signal.signal(signal.SIGALRM, signal.SIG_DFL)
        signal.alarm(deadline_s)
        log_many(logger, source, count)
        code = 0 if handler.flush(deadline_s - 1.0) else 3
        if code:
            print(f"forked child {source}: flush timed out; threads:\n{thread_stacks()}")
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
@pytest.mark.parametrize("durability", ["sync", "async"])
def test_forked_children_and_fork_pool_workers_write_their_own_entries(
    tmp_path: Path, durability: str
) -> None:
    path = tmp_path / "audit.sqlite3"
    handler = AuditHandler(sqlite_url(path), durability, default_store=False)
    with audit_logger(handler) as logger:
        log_many(logger, "parent-before", 1)
        children = []
        for c in range(2):
            pid = os.fork()
            if pid == 0:  # pragma: no cover - the child leaves through os._exit
                _forked_child(logger, handler, f"child-{c}", 200)
            children.append(pid)
        log_many(logger, "parent-during", 50)
        for pid in children:
            assert os.waitstatus_to_exitcode(wait_forked(pid)) == 0, f"forked child {pid}"

        pool_context = multiprocessing.get_context("fork")
        with pool_context.Pool(2) as pool:
            tasks = [(logger.name, f"pool-{w}", 100) for w in range(2)]
            worker_pids = pool.map_async(pool_worker, tasks).get(timeout=30)
        assert os.getpid() not in worker_pids

        log_many(logger, "parent-after", 5)  # the parent still works after all the forks
        assert handler.flush(10.0)
        assert handler.store.count() == 1 + 2 * 200 + 50 + 2 * 100 + 5
    entries = read_all(path)
    counts = {
        source: len(got) for source, got in assert_each_source_in_order(entries, "src").items()
    }
    assert counts == {
        "parent-before": 1,
        "child-0": 200,
        "child-1": 200,
        "parent-during": 50,
        "pool-0": 100,
        "pool-1": 100,
        "parent-after": 5,
    }
    assert_ids_dense(entries)
    if durability == "sync":  # async: the parent's first entry may still be queued at fork
        assert entries[0].data["src"] == "parent-before"
    assert entries[-1].data["src"] == "parent-after"
    assert integrity_check(path) == "ok"
    assert table_rows(path, f"SELECT count(DISTINCT id) FROM {TABLE}") == [(len(entries),)]


@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
@pytest.mark.parametrize("durability", ["sync", "async"])
def test_a_child_forked_while_another_thread_commits_can_write(
    tmp_path: Path, durability: str
) -> None:
    # A server forks its workers while other threads keep logging. The child must not inherit
    # the parent's half-finished transaction: SQLite keeps per-process lock bookkeeping for
    # each open file, so a child that merely abandons the parent's connection can find the
    # database "locked" by that connection forever (until busy_timeout_s, 30 s by default).
    path = tmp_path / "audit.sqlite3"
    handler = AuditHandler(sqlite_url(path), durability, default_store=False)
    forks, per_child = 16, 5
    with audit_logger(handler) as logger:
        stop = threading.Event()

        def keep_logging() -> None:
            k = 0
            while not stop.is_set():
                data = {"src": "busy", "k": k}
                logger.info("busy %d", k, extra={"action": "test.fork.busy", "data": data})
                k += 1

        busy = threading.Thread(target=keep_logging, name="busy-logger")
        busy.start()
        failed: list[tuple[int, int]] = []
        try:
            time.sleep(0.05)
            for c in range(forks):
                time.sleep(0.003)
                pid = os.fork()
                if pid == 0:  # pragma: no cover - the child leaves through os._exit
                    _forked_child(logger, handler, f"child-{c}", per_child, deadline_s=5)
                code = os.waitstatus_to_exitcode(wait_forked(pid, timeout=15))
                if code != 0:
                    failed.append((c, code))
                    break
        finally:
            stop.set()
            busy.join(30)
        assert failed == [], (
            "forked child (index, exit code) could not write; -14 means it was still blocked "
            "after 5 s (SIGALRM)"
        )
        assert handler.flush(10.0)
    entries = read_all(path)
    children = [entry for entry in entries if entry.data["src"] != "busy"]
    assert len(children) == forks * per_child
    assert_each_source_in_order(entries, "src")
    assert_ids_dense(entries)
    assert integrity_check(path) == "ok"
