"""Added per-record cost of each structlogx filter, as a ratio to the same pipeline without it.

Method
------
Every variant is a real :class:`logging.Logger` (``propagate=False``, level INFO) with exactly
one real :class:`logging.StreamHandler` writing to ``open(os.devnull, "w")`` through
``JSONFormatter()``; the variants differ only in the one filter on the handler (none for the
baseline). A timed segment is ``--records`` calls of ``logger.info(...)``, so the figure
includes everything a user pays per call: record creation (``findCaller`` included),
dispatch, the filter, the handler lock, formatting and the write. Times are taken with
:func:`time.perf_counter_ns`.

Two record kinds are measured separately, both logged inside
``structlogx.context.bind(request_id="r-1", client_ip="203.0.113.9")``, as in
``benchmarks/formatters.py``:

* **action**: ``logger.info("Order %s canceled", "ABC42", extra={"action": ..., "user": ...,
  "object": ..., "data": {"amount": Decimal("12.50"), ...}})``;
* **plain**: ``logger.info("Payment provider slow: %.1fs", 2.4)``.

Each filter is configured so that both records pass unchanged (the cost measured is that of
a record that is written, the common case): ``ActionFilter`` with a pattern neither record
matches and ``invert``, ``LevelRewriteFilter`` with criteria the records do not meet (once
failing on the level, once only on the message text, which formats the message), the rate
limit far above the record count, and records without secrets for ``RedactFilter``. Before
timing, every variant writes one record of each kind into a ``StringIO``; each line must
equal the baseline's (timestamps aside), else the script exits with status 1.

All variants run in ONE process, interleaved: a round times every (filter, kind) pair once,
in an order shuffled anew each round (seeded), after one untimed warm-up round, and each
filter segment runs right next to a baseline segment (before or after it, a coin flip), so
that a slow spell of the machine hits both. For each filter and kind the table shows the
MEDIAN microseconds per record over the rounds, the median of the paired ratios (filter /
baseline) with its interquartile range, so that noise is visible, and the target.

On a noisy machine the whole-pipeline ratio moves by several per cent from run to run, more
than the cheaper filters cost. So each round also times the filter alone: ``filter(record)``
on ``--records`` fresh records made by the same logger with the same arguments, less the time
of calling a no-op the same way. ``est.`` is ``1 + alone / baseline``: the ratio the filter's
own work implies, without the pipeline's noise.

Run::

    python benchmarks/filters.py [--rounds N] [--records N] [--seed N]
"""

from __future__ import annotations

import argparse
import gc
import io
import itertools
import json
import logging
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TextIO

from _shop import action_extra

import structlogx
from structlogx import context
from structlogx.filters import (
    ActionFilter,
    CallbackFilter,
    ContextFilter,
    ExceptionFilter,
    LevelRewriteFilter,
    RateLimitFilter,
    RedactFilter,
    RequireDebugFalse,
)
from structlogx.formatters import JSONFormatter

KINDS = ("action", "plain")
BOUND = {"request_id": "r-1", "client_ip": "203.0.113.9"}
BASELINE = "no filter"
TARGET = 1.05
TARGET_HEAVY = 1.15  # RedactFilter and RateLimitFilter walk the record or take a lock

_LOGGER_NUMBERS = itertools.count(1)

#: One timed segment: log ``n`` records of one kind.
Runner = Callable[[int], None]
#: One timed segment of the filter alone: filter ``n`` fresh records, return nanoseconds.
Timer = Callable[[int], int]


def not_a_health_check(record: logging.LogRecord) -> bool:
    """The CallbackFilter callback: a typical cheap test of the record."""
    return record.levelno >= logging.INFO and record.name != "health"


def filters() -> list[tuple[str, logging.Filter | None, float]]:
    """Return (name, filter, target ratio) for every variant, the baseline first."""
    return [
        (BASELINE, None, 1.0),
        ("ContextFilter", ContextFilter(), TARGET),
        ("CallbackFilter", CallbackFilter(not_a_health_check), TARGET),
        ("RequireDebugFalse", RequireDebugFalse(), TARGET),
        ("ActionFilter", ActionFilter(["billing.*"], invert=True), TARGET),
        (
            "LevelRewriteFilter (level)",
            LevelRewriteFilter("WARNING", from_levels=["ERROR"], logger="django.security"),
            TARGET,
        ),
        (
            "LevelRewriteFilter (message)",
            LevelRewriteFilter("WARNING", message="client disconnected"),
            TARGET,
        ),
        (
            "ExceptionFilter",
            ExceptionFilter(["http.client.RemoteDisconnected"], chain=True),
            TARGET,
        ),
        ("RateLimitFilter", RateLimitFilter(10**9, 60), TARGET_HEAVY),
        ("RedactFilter", RedactFilter(), TARGET_HEAVY),
    ]


@dataclass
class Variant:
    """One measured pipeline: a runner per record kind and a way to capture its output."""

    name: str
    target: float
    runners: dict[str, Runner]
    capture: Callable[[str], str]
    alone: dict[str, Timer]
    times: dict[str, list[float]] = field(default_factory=dict)
    ratios: dict[str, list[float]] = field(default_factory=dict)
    alone_times: dict[str, list[float]] = field(default_factory=dict)


def variant(name: str, log_filter: logging.Filter | None, target: float, sink: TextIO) -> Variant:
    """Wire one logger -> StreamHandler(devnull) with JSONFormatter and *log_filter*."""
    logger = logging.getLogger(f"bench.f{next(_LOGGER_NUMBERS):02d}")  # same length for all
    logger.propagate = False
    logger.setLevel(logging.INFO)
    for old in list(logger.handlers):
        logger.removeHandler(old)
    handler = logging.StreamHandler(sink)
    handler.setFormatter(JSONFormatter())
    if log_filter is not None:
        handler.addFilter(log_filter)
    logger.addHandler(handler)
    info = logger.info
    extra = action_extra()

    def action(n: int) -> None:
        for _ in range(n):
            info("Order %s canceled", "ABC42", extra=extra)

    def plain(n: int) -> None:
        for _ in range(n):
            info("Payment provider slow: %.1fs", 2.4)

    runners: dict[str, Runner] = {"action": action, "plain": plain}

    def capture(kind: str) -> str:
        buffer = io.StringIO()
        handler.setStream(buffer)
        try:
            runners[kind](1)
        finally:
            handler.setStream(sink)
        return buffer.getvalue()

    make = logger.makeRecord
    here = os.path.abspath(__file__)
    prepared = {
        "action": ("Order %s canceled", ("ABC42",), extra),
        "plain": ("Payment provider slow: %.1fs", (2.4,), None),
    }

    def alone_timer(kind: str) -> Timer:
        msg, args, kind_extra = prepared[kind]
        check = (lambda record: True) if log_filter is None else log_filter.filter

        def run(n: int) -> int:
            records = [
                make(logger.name, logging.INFO, here, 1, msg, args, None, extra=kind_extra)
                for _ in range(n)
            ]
            start = time.perf_counter_ns()
            for record in records:
                check(record)
            return time.perf_counter_ns() - start

        return run

    alone = {kind: alone_timer(kind) for kind in KINDS}
    return Variant(name, target, runners, capture, alone)


def sanity_check(variants: list[Variant]) -> None:
    """Every variant must write the baseline's line for each kind; exit 1 otherwise."""
    problems: list[str] = []
    with context.bind(**BOUND):
        expected: dict[str, dict[str, Any]] = {}
        for item in variants:
            for kind in KINDS:
                output = item.capture(kind)
                try:
                    parsed = json.loads(output)
                except ValueError as error:
                    problems.append(
                        f"{item.name} ({kind}): not one JSON line ({error}): {output!r}"
                    )
                    continue
                parsed.pop("timestamp", None)
                parsed.pop("logger", None)  # each variant has its own logger
                reference = expected.setdefault(kind, parsed)
                if parsed != reference:
                    problems.append(f"{item.name} ({kind}): {parsed} != baseline {reference}")
    if problems:
        print("SANITY CHECK FAILED, not timing:", file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        raise SystemExit(1)


def time_segment(runner: Runner, records: int) -> tuple[int, int]:
    """Run one timed segment; return (wall, CPU) nanoseconds."""
    gc.collect()
    cpu_start = time.process_time_ns()
    start = time.perf_counter_ns()
    runner(records)
    return time.perf_counter_ns() - start, time.process_time_ns() - cpu_start


def run_rounds(variants: list[Variant], rounds: int, records: int, seed: int) -> float:
    """Time every (filter, kind) pair once per round, shuffled, each next to a baseline run.

    The baseline segment runs right before or right after (a coin flip) the filter's, so a
    slow spell of the machine hits both; the pair's ratio is stored with the filter. Returns
    the share of one CPU the process got during the timed segments.
    """
    baseline, others = variants[0], variants[1:]
    pairs = [(item, kind) for item in others for kind in KINDS]
    for item in variants:
        item.times = {kind: [] for kind in KINDS}
        item.ratios = {kind: [] for kind in KINDS}
        item.alone_times = {kind: [] for kind in KINDS}
    shuffler = random.Random(seed)
    wall_total = cpu_total = 0
    with context.bind(**BOUND):
        for round_no in range(-1, rounds):  # round -1 is the untimed warm-up
            order = pairs[:]
            shuffler.shuffle(order)
            for item, kind in order:
                first, second = (item, baseline) if shuffler.random() < 0.5 else (baseline, item)
                measured = {}
                for runner in (first, second):
                    measured[runner.name] = time_segment(runner.runners[kind], records)
                filtered, unfiltered = measured[item.name], measured[baseline.name]
                alone = item.alone[kind](records)
                base_alone = baseline.alone[kind](records)
                if round_no < 0:
                    continue
                item.times[kind].append(filtered[0] / records / 1000.0)
                baseline.times[kind].append(unfiltered[0] / records / 1000.0)
                item.ratios[kind].append(filtered[0] / unfiltered[0])
                item.alone_times[kind].append((alone - base_alone) / records / 1000.0)
                wall_total += filtered[0] + unfiltered[0]
                cpu_total += filtered[1] + unfiltered[1]
    return cpu_total / wall_total if wall_total else 1.0


def quartiles(values: list[float]) -> tuple[float, float]:
    """Return the 25th and 75th percentiles of *values*."""
    if len(values) < 2:
        return values[0], values[0]
    cuts = statistics.quantiles(values, n=4)
    return cuts[0], cuts[2]


def report(variants: list[Variant], rounds: int, records: int, cpu_share: float) -> None:
    """Print one table per record kind and the setup."""
    baseline = variants[0]
    width = max(len(item.name) for item in variants)
    header = (
        f"{'filter':<{width}}  {'µs/record':>9}  {'ratio':>7}  {'ratio IQR':>11}  "
        f"{'alone µs':>8}  {'est.':>6}  target"
    )
    for kind in KINDS:
        base = statistics.median(baseline.times[kind])
        print(f"\n{kind} record (median of {rounds} rounds x {records} records)")
        print(header)
        print("-" * (len(header) + 8))
        print(f"{baseline.name:<{width}}  {base:>9.2f}  {1:>6.3f}x")
        for item in variants[1:]:
            value = statistics.median(item.times[kind])
            ratio = statistics.median(item.ratios[kind])
            low, high = quartiles(item.ratios[kind])
            alone = statistics.median(item.alone_times[kind])
            estimate = 1 + alone / base
            verdict = f"{item.target:.2f} " + ("ok" if ratio <= item.target else "OVER")
            print(
                f"{item.name:<{width}}  {value:>9.2f}  {ratio:>6.3f}x  {low:>5.3f}-{high:<5.3f}  "
                f"{alone:>8.2f}  {estimate:>5.3f}x  {verdict}"
            )
    print(
        "\nratio: median over rounds of (filter segment / the baseline segment run next to it);"
        "\nratio IQR: its 25th-75th percentiles; alone µs: the filter called on fresh records,"
        " less a no-op call;\nest.: 1 + alone / baseline µs, the ratio without the noise of the"
        " whole pipeline"
    )
    print(
        f"Python {platform.python_version()} ({platform.python_implementation()}), "
        f"{platform.platform()}, {os.cpu_count()} CPUs; "
        f"{rounds} rounds x {records} records per round per variant and kind"
    )
    print(f"structlogx {structlogx.__version__} from {os.path.dirname(structlogx.__file__)}")
    print(f"timed segments got {cpu_share:.0%} of one CPU (CPU time / wall time)", end="")
    print(": the machine was busy, figures are noisy" if cpu_share < 0.9 else "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=41, help="timed rounds (default 41)")
    parser.add_argument(
        "--records", type=int, default=500, help="records per segment (default 500)"
    )
    parser.add_argument("--seed", type=int, default=1, help="seed of the per-round shuffle")
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.records < 1:
        parser.error("--rounds and --records must be at least 1")

    started = time.perf_counter()
    with open(os.devnull, "w", encoding="utf-8") as sink:
        variants = [variant(name, item, target, sink) for name, item, target in filters()]
        sanity_check(variants)
        cpu_share = run_rounds(variants, args.rounds, args.records, args.seed)
        report(variants, args.rounds, args.records, cpu_share)
    print(f"total wall time {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
