"""The ``structlogx`` command (also ``python -m structlogx``)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from structlogx import __version__

__all__ = ["main"]


def _demo(args: argparse.Namespace) -> int:
    from structlogx._demo import run

    directory = Path(args.dir).resolve()
    print(f"structlogx {__version__} demo: a shop logs technical and business records.\n")
    written = run(directory)
    logging.shutdown()
    print("\nWhat it wrote:")
    for role, path in written.items():
        lines = sum(1 for _ in path.open(encoding="utf-8"))
        print(f"  {role:<11} {path}  ({lines} lines)")
    print(
        "\nNext: look at the JSON lines, e.g.  python -m json.tool --json-lines "
        + str(written["json lines"])
    )
    return 0


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _summary(config: Mapping[str, Any]) -> str:
    """Return ``OK: 2 loggers (root, shop), 1 handler (console), 0 formatters, 1 filter``."""

    def names(section: str) -> list[str]:
        value = config.get(section)
        return [str(name) for name in value] if isinstance(value, Mapping) else []

    loggers = (["root"] if config.get("root") else []) + names("loggers")
    handlers = names("handlers")
    return (
        f"OK: {_plural(len(loggers), 'logger')}"
        + (f" ({', '.join(loggers)})" if loggers else "")
        + f", {_plural(len(handlers), 'handler')}"
        + (f" ({', '.join(handlers)})" if handlers else "")
        + f", {_plural(len(names('formatters')), 'formatter')}"
        + f", {_plural(len(names('filters')), 'filter')}"
    )


def _check_config(args: argparse.Namespace) -> int:
    from structlogx.dictconfig import ConfigError, load_config, validate

    source: str = args.source
    if os.getcwd() not in sys.path:  # so that module:ATTRIBUTE finds the project, as -m does
        sys.path.insert(0, os.getcwd())
    try:
        config = load_config(source)
        validate(config)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem)
        print(f"{_plural(len(exc.problems), 'problem')} in {source}", file=sys.stderr)
        return 1
    except OSError as exc:
        reason = exc.strerror or exc
        print(f"structlogx check-config: cannot read {source}: {reason}", file=sys.stderr)
        return 1
    print(_summary(config))
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``structlogx`` command."""
    parser = argparse.ArgumentParser(
        prog="structlogx", description="Structured logging and audit trails on stdlib logging."
    )
    parser.add_argument("--version", action="version", version=f"structlogx {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = commands.add_parser("demo", help="run a short offline demo and show what it wrote")
    demo.add_argument(
        "--dir", default="structlogx-demo", help="where to write (default: ./structlogx-demo)"
    )
    demo.set_defaults(handler=_demo)
    check = commands.add_parser(
        "check-config",
        help="check a logging configuration without applying it",
        description="Check a dictConfig logging configuration without applying it: print each"
        " problem with its path and exit 1, or print a summary and exit 0.",
    )
    check.add_argument(
        "source",
        metavar="PATH",
        help="a .json or .toml file (with ${VAR} interpolation), or module:ATTRIBUTE"
        " (e.g. myproject.settings:LOGGING)",
    )
    check.set_defaults(handler=_check_config)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        status: int = args.handler(args)
    except BrokenPipeError:  # output piped into `head` and the like: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return status
