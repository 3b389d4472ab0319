"""The ``structlogx`` command (also ``python -m structlogx``)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

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
