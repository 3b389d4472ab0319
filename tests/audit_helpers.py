"""Shared helpers for the audit tests (``test_audit_store``, ``_handler``, ``_durability``).

pytest puts ``tests/`` on ``sys.path`` (the default ``prepend`` import mode, no
``__init__.py``), so the test modules import this one as ``audit_helpers`` and
``multiprocessing`` workers (fork context) can unpickle the functions below by that name.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
import traceback
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

from structlogx.audit.memory import MemoryStore
from structlogx.handlers import AuditHandler
from structlogx.records import AuditEntry, LoggedObject

T0 = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.timezone.utc)
"""The timestamp of the first entry :func:`make_entry` builds unless told otherwise."""


def make_entry(**fields: Any) -> AuditEntry:
    """Return an entry with sensible defaults; *fields* override them."""
    values: dict[str, Any] = {
        "timestamp": T0,
        "action": "shop.order.paid",
        "level": "INFO",
        "logger": "shop",
        "message": "paid",
    }
    values.update(fields)
    return AuditEntry(**values)


def entry_fields(entry: AuditEntry) -> dict[str, Any]:
    """Return what a store must give back for *entry* (everything but the id)."""
    values = entry.to_dict()
    values.pop("id")
    values["timestamp"] = entry.timestamp
    return values


class User:
    """An actor the way an ORM model looks: a ``pk`` and a ``__str__``."""

    def __init__(self, pk: int, name: str) -> None:
        self.pk = pk
        self.name = name

    def __str__(self) -> str:
        return self.name


class Order(LoggedObject):
    """A logged business object; its records go to the ``audit_helpers`` logger."""

    def __init__(self, pk: int, code: str = "ABC12") -> None:
        self.pk = pk
        self.code = code

    def __str__(self) -> str:
        return f"Order {self.code}"


class BadRepr:
    """A value whose ``__repr__`` (and ``__str__``) raises."""

    def __repr__(self) -> str:
        raise RuntimeError("no repr for you")

    __str__ = __repr__


class BadStrUser:
    """An actor whose ``__str__`` raises."""

    pk = 99

    def __str__(self) -> str:
        raise RuntimeError("no str for you")


class StoreDown(ConnectionError):
    """What :class:`FailingStore` raises from ``append``."""


class FailingStore(MemoryStore):
    """A memory store whose ``append`` fails while ``failing`` is true."""

    def __init__(self) -> None:
        super().__init__(url="memory://failing")
        self.failing = True
        self.calls = 0

    def append(self, entries: Sequence[AuditEntry]) -> list[int]:
        self.calls += 1
        if self.failing:
            raise StoreDown("the audit database is down")
        return super().append(entries)


@contextlib.contextmanager
def audit_logger(handler: logging.Handler) -> Iterator[logging.Logger]:
    """Yield a fresh, non-propagating logger with *handler*; detach and close it after."""
    logger = logging.getLogger(f"structlogx_tests.audit.{uuid.uuid4().hex}")
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    logger.addHandler(handler)
    try:
        yield logger
    finally:
        logger.removeHandler(handler)
        handler.close()


def sqlite_url(path: os.PathLike[str] | str) -> str:
    """Return the ``sqlite:////absolute`` URL of *path*."""
    return "sqlite:///" + os.path.abspath(path)


def integrity_check(path: os.PathLike[str] | str) -> str:
    """Return SQLite's ``PRAGMA integrity_check`` answer for the file (``"ok"`` when sound)."""
    connection = sqlite3.connect(os.fspath(path))
    try:
        return ";".join(str(row[0]) for row in connection.execute("PRAGMA integrity_check"))
    finally:
        connection.close()


def table_rows(path: os.PathLike[str] | str, sql: str) -> list[tuple[Any, ...]]:
    """Run *sql* on the file with a plain ``sqlite3`` connection and return the rows."""
    connection = sqlite3.connect(os.fspath(path))
    try:
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


# -- child processes ---------------------------------------------------------------------------

CHILD_PRELUDE = textwrap.dedent(
    """
    import logging, os, sys
    from structlogx.handlers import AuditHandler

    def audit_logger(url, **options):
        handler = AuditHandler(url, **options)
        logger = logging.getLogger("child")
        logger.setLevel(logging.INFO)
        logger.propagate = False
        logger.addHandler(handler)
        return handler, logger
    """
)
"""Prepended to every child script: ``audit_logger(url, **options) -> (handler, logger)``."""


def child_script(body: str) -> str:
    """Return a complete child script: :data:`CHILD_PRELUDE` plus *body* (dedented)."""
    return CHILD_PRELUDE + textwrap.dedent(body)


def spawn(body: str, *args: str, **popen: Any) -> subprocess.Popen[str]:
    """Start ``python -c <child_script(body)> *args`` with text pipes for stdout and stderr."""
    return subprocess.Popen(
        [sys.executable, "-c", child_script(body), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **popen,
    )


def finish(process: subprocess.Popen[str], timeout: float = 30.0) -> tuple[int, str, str]:
    """Wait for *process* (killing it after *timeout*) and return (returncode, out, err)."""
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        raise AssertionError(f"child did not finish in {timeout}s; stderr:\n{err}") from None
    return process.returncode, out, err


def wait_exit(process: subprocess.Popen[str], timeout: float) -> tuple[int | None, str, str]:
    """Like :func:`finish`, but a child still running after *timeout* is killed and its
    return code given as ``None``, so the caller can check its work before failing."""
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        return None, out, err
    return process.returncode, out, err


def kill(process: subprocess.Popen[str]) -> str:
    """SIGKILL *process*, reap it and return what it wrote on stderr."""
    process.send_signal(signal.SIGKILL)
    _, err = process.communicate(timeout=10)
    assert process.returncode == -signal.SIGKILL, process.returncode
    return err


def wait_forked(pid: int, timeout: float = 20.0) -> int:
    """Reap the forked child *pid* within *timeout* seconds; return its exit status."""
    deadline = time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            raise AssertionError(f"forked child {pid} hung for {timeout}s and was killed")
        time.sleep(0.01)


def log_many(logger: logging.Logger, source: str, count: int) -> None:
    """Log *count* audit records tagged ``{"src": source, "k": k}``."""
    for k in range(count):
        data = {"src": source, "k": k}
        logger.info("entry %s", k, extra={"action": "test.fork.entry", "data": data})


def pool_worker(args: tuple[str, str, int]) -> int:
    """A ``multiprocessing`` task (fork context): log through the inherited logger, flush.

    Returns the worker's pid, so the test can check the work ran outside the parent.
    """
    logger_name, source, count = args
    logger = logging.getLogger(logger_name)
    log_many(logger, source, count)
    for handler in logger.handlers:
        if isinstance(handler, AuditHandler) and not handler.flush(10.0):
            raise AssertionError(
                "the audit handler did not flush in a pool worker within 10 s; threads:\n"
                + thread_stacks()
            )
    return os.getpid()


def thread_stacks() -> str:
    """Return the current stack of every thread of this process (for hang diagnostics)."""
    names = {thread.ident: thread.name for thread in threading.enumerate()}
    return "\n".join(
        f"--- {names.get(ident, ident)}\n" + "".join(traceback.format_stack(frame))
        for ident, frame in sys._current_frames().items()
    )
