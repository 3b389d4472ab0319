"""What ``AdminEmailHandler`` costs the code that logs while the mail server hangs, and how many
mails its throttle lets through under a burst of identical errors.

Method
------
ONE run of this script starts an ``aiosmtpd`` server on 127.0.0.1 (a free port) that waits
``--delay`` seconds (5 by default) before it answers each message: a hung mail server, the
failure that took sites down when Django's handler sent in the request thread. Every handler
sends to it through :class:`structlogx.mail.backends.SMTPBackend` (the settings are set with
``settings.override``); each is attached alone to its own logger (``propagate=False``).

* **emit cost**, throttling off (``throttle_window_s=0``: every call builds a mail and
  queues it): ``--calls`` calls (50; 20 with ``--quick``) of each case, each call timed alone
  with :func:`time.perf_counter_ns` around the logger call, so a figure includes everything
  the caller pays: the record, the report built in the caller's thread, the hand-over to the
  sending thread. The cases: ``logger.error(...)`` without exception; ``logger.exception(...)``
  in an ``except`` block (a two-frame traceback); the same with ``include_html=True``. Each
  handler call is paired with the same call into a logger whose only handler is a no-op
  ``logging.Handler`` (alternating, the no-op first), the floor of any handler. The first
  call of each case is included (it starts the sending thread and warms caches), so ``max``
  is the worst a caller met. After timing, the server's delay drops to 0 and every handler
  is flushed: the server must have received every mail, else the script exits with status 1.
* **burst**, throttling on (the defaults: one mail per error per 60 s, 10 mails a minute):
  ``--burst`` identical ``logger.exception(...)`` calls (10,000), the same exception raised
  and logged from the same lines, timed as one segment (µs per call), next to the same burst
  into the no-op logger. Then the handler is flushed (the server takes ``--delay`` seconds
  per mail) and the mails the server received are counted.

The target is Django's failure turned around: the median emit returns in at most 1 ms while
the server takes 5 s per message (``ok`` or ``MISS`` per case; the acceptance figure is the
default-options rows, the HTML case is shown for information).

Run::

    python benchmarks/mail.py [--quick] [--calls N] [--burst N] [--delay S]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import platform
import socket
import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import structlogx
from structlogx.conf import settings
from structlogx.handlers import AdminEmailHandler

TARGET_US = 1000.0
HOST = "127.0.0.1"
ADMINS = ["ops@example.com"]


class NoopHandler(logging.Handler):
    """The floor: a handler that does nothing with the record."""

    def emit(self, record: logging.LogRecord) -> None:
        """Do nothing."""


@dataclass
class SlowServer:
    """aiosmtpd hooks: answer each message after ``delay`` seconds, count what arrived."""

    delay: float
    received: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        with self.lock:
            self.received += 1
        return "250 OK"

    def wait_for(self, count: int, timeout: float) -> bool:
        """Wait until *count* messages arrived; return whether they did."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.received >= count:
                return True
            time.sleep(0.01)
        return self.received >= count


def free_port() -> int:
    """A TCP port on 127.0.0.1 where nothing listens."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def running_server(delay: float) -> Iterator[tuple[SlowServer, int]]:
    """Run the slow server for the ``with`` block; yield its state and port."""
    try:
        from aiosmtpd.controller import Controller
    except ImportError:
        print("this benchmark needs aiosmtpd (pip install aiosmtpd)", file=sys.stderr)
        raise SystemExit(2) from None
    state = SlowServer(delay)
    for attempt in range(5):
        port = free_port()
        controller = Controller(state, hostname=HOST, port=port, ready_timeout=10.0)
        try:
            controller.start()
            break
        except OSError:
            if attempt == 4:
                raise
    try:
        yield state, port
    finally:
        controller.stop()


def logger_with(handler: logging.Handler, name: str) -> logging.Logger:
    """A fresh logger whose only handler is *handler*."""
    logger = logging.getLogger(f"bench.mail.{name}")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    for old in list(logger.handlers):
        logger.removeHandler(old)
    logger.addHandler(handler)
    return logger


def save_order(order: int) -> None:
    """The failing application code: one more frame in the traceback."""
    raise ConnectionError(f"database unavailable while saving order {order}")


def log_error(logger: logging.Logger, number: int) -> int:
    """One ``logger.error`` call; return its nanoseconds."""
    start = time.perf_counter_ns()
    logger.error("Payment provider down: %s (attempt %d)", "timeout", number)
    return time.perf_counter_ns() - start


def log_exception(logger: logging.Logger, number: int) -> int:
    """One ``logger.exception`` call in an ``except`` block; return its nanoseconds."""
    try:
        save_order(number)
    except ConnectionError:
        start = time.perf_counter_ns()
        logger.exception("Checkout failed for order %s", number)
        return time.perf_counter_ns() - start
    raise AssertionError("unreachable")


@dataclass
class EmitCase:
    """One row of the emit table."""

    name: str
    call: Callable[[logging.Logger, int], int]
    options: dict[str, Any]
    times: list[int] = field(default_factory=list)
    noop_times: list[int] = field(default_factory=list)
    handler: AdminEmailHandler | None = None


def measure_emit(cases: list[EmitCase], calls: int) -> None:
    """Time every case's calls, each next to the same call into the no-op logger."""
    noop = logger_with(NoopHandler(), "noop")
    for index, case in enumerate(cases):
        case.handler = AdminEmailHandler(throttle_window_s=0, **case.options)
        logger = logger_with(case.handler, f"emit{index}")
        for number in range(calls):
            case.noop_times.append(case.call(noop, number))
            case.times.append(case.call(logger, number))


def measure_burst(burst: int) -> tuple[float, float, AdminEmailHandler]:
    """Log *burst* identical errors into a throttled handler and into the no-op logger;
    return µs per call for each, and the handler (to flush)."""
    handler = AdminEmailHandler()  # throttling on, the defaults
    logger = logger_with(handler, "burst")
    noop = logger_with(NoopHandler(), "burst-noop")
    results = []
    for target in (noop, logger):
        start = time.perf_counter_ns()
        for number in range(burst):
            try:
                save_order(number)
            except ConnectionError:
                target.exception("Checkout failed for order %s", number)
        results.append((time.perf_counter_ns() - start) / burst / 1000.0)
    return results[1], results[0], handler


def report_emit(cases: list[EmitCase], calls: int, delay: float) -> None:
    """Print the emit table."""
    width = max(len(case.name) for case in cases)
    header = (
        f"{'case (throttling off)':<{width}}  {'median µs':>9}  {'max µs':>9}  "
        f"{'no-op median µs':>15}  target"
    )
    print(f"\nemit cost with a {delay:g} s SMTP server ({calls} calls per case)")
    print(header)
    print("-" * (len(header) + 14))
    for case in cases:
        median = statistics.median(case.times) / 1000.0
        worst = max(case.times) / 1000.0
        noop = statistics.median(case.noop_times) / 1000.0
        verdict = "ok" if median <= TARGET_US else "MISS"
        print(
            f"{case.name:<{width}}  {median:>9.1f}  {worst:>9.1f}  {noop:>15.2f}  "
            f"median <= {TARGET_US:g} µs {verdict}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--calls", type=int, default=0, help="timed calls per case (50)")
    parser.add_argument("--burst", type=int, default=10_000, help="identical errors (10,000)")
    parser.add_argument("--delay", type=float, default=5.0, help="server seconds per message")
    args = parser.parse_args(argv)
    calls = args.calls or (20 if args.quick else 50)
    if calls < 1 or args.burst < 1 or args.delay < 0:
        parser.error("--calls and --burst must be at least 1, --delay at least 0")

    started = time.perf_counter()
    problems: list[str] = []
    cases = [
        EmitCase("logger.error, text report", log_error, {}),
        EmitCase("logger.exception, text report", log_exception, {}),
        EmitCase("logger.exception, include_html=True", log_exception, {"include_html": True}),
    ]
    with running_server(args.delay) as (server, port):
        smtp = {
            "ADMINS": ADMINS,
            "EMAIL_BACKEND": "structlogx.mail.backends.SMTPBackend",
            "EMAIL_HOST": HOST,
            "EMAIL_PORT": port,
            "EMAIL_HOST_USER": "",
            "EMAIL_TIMEOUT": max(10.0, args.delay * 2),
        }
        with settings.override(**smtp):
            measure_emit(cases, calls)
            server.delay = 0.0  # deliver the queued mails quickly (one per case is in flight)
            for case in cases:
                assert case.handler is not None
                if not case.handler.flush(args.delay + 30):
                    problems.append(f"{case.name}: flush timed out")
                case.handler.close()
            expected = calls * len(cases)
            if not server.wait_for(expected, 5):
                problems.append(f"the server received {server.received} of {expected} mails")

            before = server.received
            server.delay = args.delay
            per_call, noop_per_call, handler = measure_burst(args.burst)
            flushed = handler.flush(args.delay * 3 + 30)
            handler.close()
            if not flushed:
                problems.append("burst: flush timed out")
            mails = server.received - before

    report_emit(cases, calls, args.delay)
    print(f"\nburst of {args.burst:,} identical logger.exception calls, throttling on (defaults)")
    header = f"{'handler':<28}  {'µs/call':>8}  {'mails sent':>10}"
    print(header)
    print("-" * len(header))
    print(f"{'AdminEmailHandler':<28}  {per_call:>8.2f}  {mails:>10}")
    print(f"{'no-op logging.Handler':<28}  {noop_per_call:>8.2f}  {'-':>10}")
    print(
        "\nmedian/max: per call, the first call included (it starts the sending thread);"
        "\nno-op: the same call into a logger whose only handler does nothing"
    )
    print(
        f"Python {platform.python_version()} ({platform.python_implementation()}), "
        f"{platform.platform()}, {os.cpu_count()} CPUs; server delay {args.delay:g} s per message"
    )
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
