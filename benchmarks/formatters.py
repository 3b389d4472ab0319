"""Per-record cost of structlogx's formatters next to the stdlib, a hand-written floor and peers.

Method
------
Every variant is a real :class:`logging.Logger` (``propagate=False``, level INFO) with exactly
one real :class:`logging.StreamHandler` writing to ``open(os.devnull, "w")``; only the
formatter (and, for python-json-logger, a context filter) differs. A timed segment is
``--records`` calls of ``logger.info(...)``, so the figure includes everything a user pays per
call: record creation (``findCaller`` included), dispatch, the handler lock, formatting and the
write. Times are taken with :func:`time.perf_counter_ns`.

Two record kinds are measured separately, both logged inside
``structlogx.context.bind(request_id="r-1", client_ip="203.0.113.9")``:

* **action**: ``logger.info("Order %s canceled", "ABC42", extra={"action": ..., "user": ...,
  "object": ..., "data": {"amount": Decimal("12.50"), ...}})``;
* **plain**: ``logger.info("Payment provider slow: %.1fs", 2.4)``.

All variants run in ONE process, interleaved: a round times every (variant, kind) pair once, in
an order shuffled anew each round (seeded, so runs are reproducible), after one untimed warm-up
round. The table shows the MEDIAN microseconds per record over the rounds and the ratios of
those medians; the two headline ratios (structlogx plain JSON against the floor and against
python-json-logger) are also computed per round, and their min-max spread is printed so that
noise is visible.

The *floor* is a hand-written ``logging.Formatter`` subclass producing the same fields as
``JSONFormatter()`` (the sanity check asserts the key sets match) with one
``json.dumps(..., default=str)``, written the obvious way: the cost of doing the job without
structlogx's guarantees (never raising, JSON-safety of arbitrary values, one-line output).

Before timing, every variant formats one action and one plain record into a ``StringIO``; the
JSON variants must produce valid JSON holding ``"12.50"``, the action and the bound context,
else the script exits with status 1. ``--samples`` prints those lines.

Run (python-json-logger, structlog and loguru come from the ``bench`` extra)::

    pip install -e '.[bench]'
    python benchmarks/formatters.py [--rounds N] [--records N] [--seed N] [--samples]

loguru has its own API (``logger.bind(**extra).info(...)`` to a devnull sink with
``serialize=True``, context added by a patcher), so its row is informational only.
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
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TextIO

from _shop import ACTION, action_extra

import structlogx
from structlogx import context
from structlogx.formatters import ActionFormatter, JSONFormatter, LogfmtFormatter

KINDS = ("action", "plain")
BOUND: Mapping[str, str] = {"request_id": "r-1", "client_ip": "203.0.113.9"}
INSTALL_HINT = "pip install -e '.[bench]'"

STDLIB = "stdlib text"
FLOOR = "floor (hand-written JSON)"
PJL = "python-json-logger"
PLAIN = "structlogx JSON plain"

_LOGGER_NUMBERS = itertools.count(1)

#: One timed segment: log ``n`` records of one kind.
Runner = Callable[[int], None]


# -- variants -------------------------------------------------------------------------------


class FloorJSONFormatter(logging.Formatter):
    """The hand-written floor: structlogx's plain-schema fields, one ``json.dumps``."""

    def format(self, record: logging.LogRecord) -> str:
        attributes = record.__dict__
        created = record.created
        out: dict[str, Any] = {
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        action = attributes.get("action")
        if action is not None:
            out["action"] = action
            user = attributes.get("user")
            if user is not None:
                user_type = type(user)
                out["actor_type"] = f"{user_type.__module__}.{user_type.__qualname__}"
                out["actor_id"] = str(user.pk)
                out["actor_text"] = str(user)
            obj = attributes.get("object")
            if obj is not None:
                obj_type = type(obj)
                out["object_type"] = f"{obj_type.__module__}.{obj_type.__qualname__}"
                out["object_id"] = str(obj.pk)
                out["object_text"] = str(obj)
            data = attributes.get("data")
            if data is not None:
                out["data"] = data
        out.update(context.current())
        return json.dumps(out, default=str)


class ContextToRecord(logging.Filter):
    """Copy the bound structlogx context onto the record, for python-json-logger."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.__dict__.update(context.current())
        return True


def merge_structlogx_context(
    logger: Any, method_name: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: add the bound structlogx context (explicit keys win)."""
    for key, value in context.current().items():
        event_dict.setdefault(key, value)
    return event_dict


def missing(package: str, error: ImportError) -> SystemExit:
    """Return the exit raised when a benchmark dependency is not installed."""
    return SystemExit(f"benchmarks/formatters.py needs {package} ({error}); {INSTALL_HINT}")


def python_json_logger_formatter() -> logging.Formatter:
    """Build python-json-logger's JsonFormatter (v3+ path, else the pre-v3 one)."""
    try:
        from pythonjsonlogger.json import JsonFormatter
    except ImportError:
        try:
            from pythonjsonlogger.jsonlogger import (  # type: ignore[attr-defined]
                JsonFormatter,
            )
        except ImportError as error:
            raise missing("python-json-logger", error) from error
    formatter: logging.Formatter = JsonFormatter(
        "%(asctime)s %(levelname)s %(name)s %(message)s", json_default=str
    )
    return formatter


def structlog_formatter() -> logging.Formatter:
    """Build structlog's ProcessorFormatter for stdlib (foreign) records."""
    try:
        import structlog
    except ImportError as error:
        raise missing("structlog", error) from error
    formatter: logging.Formatter = structlog.stdlib.ProcessorFormatter(
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.JSONRenderer(default=str),
        ],
        foreign_pre_chain=[
            structlog.stdlib.add_log_level,
            structlog.stdlib.add_logger_name,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.stdlib.ExtraAdder(),
            merge_structlogx_context,
        ],
    )
    return formatter


@dataclass
class Variant:
    """One measured pipeline: a runner per record kind and a way to capture its output."""

    name: str
    runners: dict[str, Runner]
    capture: Callable[[str], str]
    is_json: bool
    structured: bool = True
    own_api: bool = False
    times: dict[str, list[float]] = field(default_factory=dict)


def stdlib_runners(logger: logging.Logger, extra: dict[str, Any]) -> dict[str, Runner]:
    """Return the timed loops for a stdlib logger (identical for every stdlib variant)."""
    info = logger.info

    def action(n: int) -> None:
        for _ in range(n):
            info("Order %s canceled", "ABC42", extra=extra)

    def plain(n: int) -> None:
        for _ in range(n):
            info("Payment provider slow: %.1fs", 2.4)

    return {"action": action, "plain": plain}


def stdlib_variant(
    name: str,
    formatter: logging.Formatter,
    sink: TextIO,
    extra: dict[str, Any],
    *,
    is_json: bool,
    structured: bool = True,
    log_filter: logging.Filter | None = None,
) -> Variant:
    """Wire *formatter* to its own logger and devnull StreamHandler."""
    logger = logging.getLogger(f"bench.v{next(_LOGGER_NUMBERS):02d}")  # same length for all
    logger.propagate = False
    logger.setLevel(logging.INFO)
    for old in list(logger.handlers):
        logger.removeHandler(old)
    handler = logging.StreamHandler(sink)
    handler.setFormatter(formatter)
    if log_filter is not None:
        handler.addFilter(log_filter)
    logger.addHandler(handler)
    runners = stdlib_runners(logger, extra)

    def capture(kind: str) -> str:
        buffer = io.StringIO()
        handler.setStream(buffer)
        try:
            runners[kind](1)
        finally:
            handler.setStream(sink)
        return buffer.getvalue()

    return Variant(name, runners, capture, is_json, structured)


def loguru_variant(sink: TextIO, extra: dict[str, Any]) -> Variant | None:
    """Return the loguru row (own API), or ``None`` with a note when loguru is missing."""
    try:
        from loguru import logger as loguru_logger
    except ImportError:
        print(f"note: loguru not installed, its row is skipped ({INSTALL_HINT})")
        return None

    loguru_logger.remove()  # the default stderr sink
    patched = loguru_logger.patch(lambda record: record["extra"].update(context.current()))

    def action(n: int) -> None:
        for _ in range(n):
            patched.bind(**extra).info("Order {} canceled", "ABC42")

    def plain(n: int) -> None:
        for _ in range(n):
            patched.info("Payment provider slow: {:.1f}s", 2.4)

    runners: dict[str, Runner] = {"action": action, "plain": plain}

    def capture(kind: str) -> str:
        buffer = io.StringIO()
        sink_id = loguru_logger.add(buffer, serialize=True, level="INFO")
        try:
            runners[kind](1)
        finally:
            loguru_logger.remove(sink_id)
        return buffer.getvalue()

    loguru_logger.add(sink, serialize=True, level="INFO")
    return Variant("loguru serialize=True (own API)", runners, capture, True, own_api=True)


def build_variants(sink: TextIO, with_loguru: bool) -> list[Variant]:
    """Build every variant, each on its own logger/handler pair."""
    extra = action_extra()
    variants = [
        stdlib_variant(
            STDLIB,
            logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"),
            sink,
            extra,
            is_json=False,
            structured=False,
        ),
        stdlib_variant(FLOOR, FloorJSONFormatter(), sink, extra, is_json=True),
        stdlib_variant(
            PJL,
            python_json_logger_formatter(),
            sink,
            extra,
            is_json=True,
            log_filter=ContextToRecord(),
        ),
        stdlib_variant(
            "structlog ProcessorFormatter", structlog_formatter(), sink, extra, is_json=True
        ),
        stdlib_variant(PLAIN, JSONFormatter(), sink, extra, is_json=True),
        stdlib_variant(
            "structlogx JSON ecs", JSONFormatter(schema="ecs"), sink, extra, is_json=True
        ),
        stdlib_variant(
            "structlogx JSON otel", JSONFormatter(schema="otel"), sink, extra, is_json=True
        ),
        stdlib_variant("structlogx logfmt", LogfmtFormatter(), sink, extra, is_json=False),
        stdlib_variant(
            "structlogx action text",
            ActionFormatter(),
            sink,
            extra,
            is_json=False,
            structured=False,
        ),
    ]
    if with_loguru:
        loguru = loguru_variant(sink, extra)
        if loguru is not None:
            variants.append(loguru)
    return variants


# -- sanity check ---------------------------------------------------------------------------


def sanity_check(variants: list[Variant], show: bool) -> None:
    """Format one record of each kind per variant and check the output; exit 1 on failure."""
    problems: list[str] = []
    keys: dict[str, dict[str, set[str]]] = {}
    with context.bind(**BOUND):
        for variant in variants:
            for kind in KINDS:
                output = variant.capture(kind)
                line = output.rstrip("\n")
                if show:
                    print(f"[{kind}] {variant.name}:\n    {line}")
                where = f"{variant.name} ({kind} record)"
                if not line or "\n" in line:
                    problems.append(f"{where}: expected exactly one line, got {output!r}")
                    continue
                expected = ["ABC42"] if kind == "action" else ["2.4s"]
                if variant.structured:  # JSON and logfmt: the fields and the bound context
                    expected += [BOUND["request_id"]]
                    if kind == "action":
                        expected += ["12.50", ACTION]
                if variant.is_json:
                    try:
                        parsed = json.loads(line)
                    except ValueError as error:
                        problems.append(f"{where}: not valid JSON ({error}): {line}")
                        continue
                    if not isinstance(parsed, dict):
                        problems.append(f"{where}: JSON is not an object: {line}")
                        continue
                    keys.setdefault(variant.name, {})[kind] = set(parsed)
                for needle in expected:
                    if needle not in line:
                        problems.append(f"{where}: {needle!r} missing from: {line}")
    for kind in KINDS:
        floor_keys = keys.get(FLOOR, {}).get(kind)
        plain_keys = keys.get(PLAIN, {}).get(kind)
        if floor_keys is not None and plain_keys is not None and floor_keys != plain_keys:
            problems.append(
                f"floor and structlogx plain JSON write different fields ({kind} record): "
                f"only floor {sorted(floor_keys - plain_keys)}, "
                f"only structlogx {sorted(plain_keys - floor_keys)}"
            )
    if problems:
        print("SANITY CHECK FAILED, not timing broken formatters:", file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        raise SystemExit(1)


# -- timing ---------------------------------------------------------------------------------


@contextmanager
def bound() -> Iterator[None]:
    """The request context every record is logged in."""
    with context.bind(**BOUND):
        yield


def run_rounds(variants: list[Variant], rounds: int, records: int, seed: int) -> float:
    """Time every (variant, kind) pair once per round, shuffled; store µs/record.

    Returns the share of one CPU the process got during the timed segments (CPU time over
    wall time): well below 1.0 means something else competed for the CPU and the figures
    are noisy.
    """
    pairs = [(variant, kind) for variant in variants for kind in KINDS]
    for variant in variants:
        variant.times = {kind: [] for kind in KINDS}
    shuffler = random.Random(seed)
    clock, cpu_clock = time.perf_counter_ns, time.process_time_ns
    wall_total = cpu_total = 0
    with bound():
        for round_no in range(-1, rounds):  # round -1 is the untimed warm-up
            order = pairs[:]
            shuffler.shuffle(order)
            for variant, kind in order:
                runner = variant.runners[kind]
                gc.collect()
                cpu_start = cpu_clock()
                start = clock()
                runner(records)
                elapsed = clock() - start
                cpu_elapsed = cpu_clock() - cpu_start
                if round_no >= 0:
                    variant.times[kind].append(elapsed / records / 1000.0)
                    wall_total += elapsed
                    cpu_total += cpu_elapsed
    return cpu_total / wall_total if wall_total else 1.0


# -- report ---------------------------------------------------------------------------------


def median(values: list[float]) -> float:
    return statistics.median(values)


def per_round_ratios(numerator: list[float], denominator: list[float]) -> list[float]:
    return [a / b for a, b in zip(numerator, denominator, strict=True)]


def report(variants: list[Variant], rounds: int, records: int, cpu_share: float) -> None:
    """Print the table per kind, the headline ratios with their spread, and the setup."""
    by_name = {variant.name: variant for variant in variants}
    name_width = max(len(variant.name) for variant in variants)
    header = (
        f"{'variant':<{name_width}}  {'µs/record':>9}  {'vs stdlib':>9}  "
        f"{'vs floor':>8}  {'vs pjl':>6}"
    )
    for kind in KINDS:
        medians = {variant.name: median(variant.times[kind]) for variant in variants}
        print(f"\n{kind} record (median of {rounds} rounds x {records} records)")
        print(header)
        print("-" * len(header))
        for variant in variants:
            value = medians[variant.name]
            print(
                f"{variant.name:<{name_width}}  {value:>9.2f}  "
                f"{value / medians[STDLIB]:>8.2f}x  {value / medians[FLOOR]:>7.2f}x  "
                f"{value / medians[PJL]:>5.2f}x"
            )
    plain = by_name[PLAIN]
    print("\nheadline (ratio of medians; per-round ratio min-max in brackets):")
    for kind in KINDS:
        pieces = []
        for reference in (FLOOR, PJL):
            ratio = median(plain.times[kind]) / median(by_name[reference].times[kind])
            spread = per_round_ratios(plain.times[kind], by_name[reference].times[kind])
            label = "floor" if reference == FLOOR else "python-json-logger"
            pieces.append(
                f"JSONFormatter(plain) / {label} = {ratio:.3f} "
                f"[{min(spread):.3f}-{max(spread):.3f}]"
            )
        print(f"  {kind:<6}  " + "   ".join(pieces))
    print(
        f"\nPython {platform.python_version()} ({platform.python_implementation()}), "
        f"{platform.platform()}, {os.cpu_count()} CPUs; "
        f"{rounds} rounds x {records} records per round per variant and kind"
    )
    print(f"structlogx {structlogx.__version__} from {os.path.dirname(structlogx.__file__)}")
    print(f"timed segments got {cpu_share:.0%} of one CPU (CPU time / wall time)", end="")
    print(": the machine was busy, figures are noisy" if cpu_share < 0.9 else "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=15, help="timed rounds (default 15)")
    parser.add_argument(
        "--records", type=int, default=1000, help="records per round per variant (default 1000)"
    )
    parser.add_argument("--seed", type=int, default=1, help="seed of the per-round shuffle")
    parser.add_argument("--samples", action="store_true", help="print each variant's lines")
    parser.add_argument("--no-loguru", action="store_true", help="leave loguru out")
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.records < 1:
        parser.error("--rounds and --records must be at least 1")

    started = time.perf_counter()
    with open(os.devnull, "w", encoding="utf-8") as sink:
        variants = build_variants(sink, with_loguru=not args.no_loguru)
        sanity_check(variants, show=args.samples)
        cpu_share = run_rounds(variants, args.rounds, args.records, args.seed)
        report(variants, args.rounds, args.records, cpu_share)
    print(f"total wall time {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
