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
    from structlogx._demo import print_trail, run, size_of, verify_erase_export

    directory = Path(args.dir).resolve()
    print(f"structlogx {__version__} demo: a shop logs technical and business records.\n")
    written = run(directory)
    logging.shutdown()
    print()
    store = print_trail(written["audit trail"])
    print()
    written["html page"] = directory / "audit.html"
    verify_erase_export(written["audit trail"], written["html page"])
    print("\nWhat it wrote:")
    for role, path in written.items():
        print(f"  {role:<12} {path}  ({size_of(path)})")
    texts = "--import structlogx._demo"  # the demo's display texts
    mail = next(iter(sorted(written["admin mail"].glob("*.eml"))), written["admin mail"])
    print(
        "\nNext: look at the JSON lines, e.g.  python -m json.tool --json-lines "
        + str(written["json lines"])
        + f"\n      the audit trail:              structlogx audit show --store {store} {texts}"
        + f"\n      check its hash chain:         structlogx audit verify --store {store}"
        + f"\n      the trail as one web page:    open {written['html page']} in a browser"
        + f"\n      the admin mail of the error:  {mail}"
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
    _add_audit(commands)
    return parser


def _audit_filters() -> argparse.ArgumentParser:
    """Return the options ``audit show`` and ``audit export`` share."""
    from structlogx._audit_cli import ENV_STORE

    shared = argparse.ArgumentParser(add_help=False)
    shared.add_argument(
        "--store",
        metavar="URL",
        help=f"the audit store, e.g. sqlite:///audit.sqlite3 (default: ${ENV_STORE})",
    )
    shared.add_argument(
        "--object", metavar="TYPE:ID", help="only entries about this object, e.g. shop.Order:1042"
    )
    shared.add_argument(
        "--action",
        metavar="PATTERN",
        help="an action name or a prefix.* pattern, e.g. shop.order.*",
    )
    shared.add_argument("--actor", metavar="ID", help="only entries by this actor id")
    shared.add_argument("--scope", metavar="KEY", help="only entries of this scope (tenant, event)")
    shared.add_argument(
        "--since",
        metavar="ISO",
        help="from this time on (inclusive), e.g. 2026-05-01 or 2026-05-01T13:45:00Z;"
        " times without an offset are UTC",
    )
    shared.add_argument("--until", metavar="ISO", help="before this time (exclusive)")
    shared.add_argument("--all", action="store_true", help="include invisible entries")
    shared.add_argument(
        "--import",
        dest="imports",
        metavar="MODULE",
        action="append",
        default=[],
        help="import MODULE first, for the display texts it registers (repeatable)",
    )
    return shared


def _add_audit(commands: Any) -> None:
    from structlogx._audit_cli import export, show

    audit = commands.add_parser(
        "audit",
        help="look at or export an audit trail",
        description="Look at or export the entries of an audit store.",
    )

    def usage(args: argparse.Namespace) -> int:
        audit.print_help(sys.stderr)
        return 2

    audit.set_defaults(handler=usage)
    actions = audit.add_subparsers(dest="audit_command", metavar="COMMAND")
    shared = _audit_filters()
    show_parser = actions.add_parser(
        "show",
        parents=[shared],
        help="print entries, newest first",
        description="Print the matching entries of an audit store, newest first, as a table"
        " (time, actor, what happened, object) or as JSON lines.",
    )
    show_parser.add_argument(
        "--limit", type=int, default=50, metavar="N", help="at most N entries (default: 50; 0: all)"
    )
    show_parser.add_argument(
        "--json", action="store_true", help="one JSON object per line instead of a table"
    )
    show_parser.set_defaults(handler=show)
    export_parser = actions.add_parser(
        "export",
        parents=[shared],
        help="write entries as JSON lines, CSV or one HTML page",
        description="Write the matching entries of an audit store, newest first, as JSON lines,"
        " CSV or one self-contained HTML page.",
    )
    export_parser.add_argument(
        "--format", required=True, choices=("jsonl", "csv", "html"), help="the output format"
    )
    export_parser.add_argument(
        "--output", required=True, metavar="FILE", help="where to write (- for stdout)"
    )
    export_parser.add_argument(
        "--limit", type=int, default=0, metavar="N", help="at most N entries (default: 0, all)"
    )
    export_parser.add_argument(
        "--title", default="Audit trail", help="the HTML page's title (default: Audit trail)"
    )
    export_parser.set_defaults(handler=export)
    _add_chain_commands(actions)


def _add_chain_commands(actions: Any) -> None:
    from structlogx._audit_cli import prune, replay, shred, verify

    store_help = "the store URL (default: $STRUCTLOGX_AUDIT_STORE)"
    verify_parser = actions.add_parser(
        "verify",
        help="check the hash chain; exit 1 on any problem",
        description="Check every entry's hash and link, in one pass; print what was checked"
        " and the first problem, if any (exit status 1).",
    )
    verify_parser.add_argument("--store", metavar="URL", help=store_help)
    verify_parser.set_defaults(handler=verify)
    shred_parser = actions.add_parser(
        "shred",
        help="replace personal data in one object's or actor's entries (GDPR)",
        description="Replace the personal values of the entries about an object or by an"
        " actor with a marker, keeping the chain verifiable; the shredding is recorded.",
    )
    shred_parser.add_argument("--store", metavar="URL", help=store_help)
    shred_parser.add_argument("--object", metavar="TYPE:ID", help="entries about this object")
    shred_parser.add_argument("--actor", metavar="ID", help="entries by this actor id")
    shred_parser.add_argument(
        "--field",
        dest="fields",
        action="append",
        metavar="NAME",
        help="message, actor_text, object_text, context or data.KEY (repeatable; default: all)",
    )
    shred_parser.add_argument("--reason", required=True, help="why (recorded)")
    shred_parser.add_argument("--by", help="who shreds (recorded as the actor)")
    shred_parser.add_argument(
        "--dry-run", action="store_true", help="change nothing; list what would change"
    )
    shred_parser.set_defaults(handler=shred)
    prune_parser = actions.add_parser(
        "prune",
        help="delete entries older than a time, keeping the chain verifiable",
        description="Delete the oldest entries up to the first one at or after --before; the"
        " remaining chain starts from an anchor; the pruning is recorded.",
    )
    prune_parser.add_argument("--store", metavar="URL", help=store_help)
    prune_parser.add_argument(
        "--before", required=True, metavar="ISO", help="delete entries older than this"
    )
    prune_parser.add_argument("--reason", default="retention", help="why (recorded)")
    prune_parser.add_argument("--by", help="who prunes (recorded as the actor)")
    prune_parser.add_argument(
        "--dry-run", action="store_true", help="change nothing; say what would go"
    )
    prune_parser.set_defaults(handler=prune)
    replay_parser = actions.add_parser(
        "replay",
        help="move entries spooled while the store was down into it",
        description="Append the entries of a spool file to the store, oldest first, and"
        " remove them from the spool; unreadable lines are reported and kept in <spool>.bad.",
    )
    replay_parser.add_argument("--store", metavar="URL", help=store_help)
    replay_parser.add_argument(
        "--spool", metavar="PATH", help="the spool file (default: <store file>.spool.jsonl)"
    )
    replay_parser.set_defaults(handler=replay)


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
