"""The logic behind ``structlogx audit show`` and ``structlogx audit export``.

Kept apart from :mod:`structlogx.cli` (which only builds the parser) so the demo can share
the table format. Every expected failure becomes a :class:`CommandError`: one line on stderr
and an exit status, never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as _dt
import importlib
import os
import sqlite3
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Final

from structlogx.audit.export import iter_entries, write, write_jsonl
from structlogx.audit.store import Query, Store, open_store
from structlogx.records import AuditEntry

ENV_STORE: Final = "STRUCTLOGX_AUDIT_STORE"
"""The environment variable that names the store when ``--store`` is not given."""

USAGE: Final = 2  # bad input, as argparse exits
FAILURE: Final = 1  # good input, but the store or the output cannot be used

_CONTROLS: Final = {code: "?" for code in (*range(0x20), *range(0x7F, 0xA0))} | {
    ord("\t"): " ",
    ord("\n"): " ",
    ord("\r"): " ",
}
_WIDTHS: Final = (19, 32, 72, 40)  # time, actor, what, object: the most a column takes
_HEADER: Final = ("TIME (UTC)", "ACTOR", "WHAT", "OBJECT")
_CHUNK: Final = 1000
# A lone surrogate (from a JSON "\udc80" escape) cannot be encoded as UTF-8; written as
# "\udc80" it reads back as the same character inside JSON strings, and stays visible as text.
_ERRORS: Final = "backslashreplace"


class CommandError(Exception):
    """A problem to report in one line, with the exit status to return."""

    def __init__(self, message: str, status: int = FAILURE) -> None:
        super().__init__(message)
        self.status = status


# -- input ----------------------------------------------------------------------------------


def store_url(value: str | None) -> str:
    """Return the store URL from ``--store`` or the environment."""
    url = value or os.environ.get(ENV_STORE, "")
    if not url:
        raise CommandError(f"no store: pass --store URL or set {ENV_STORE}", USAGE)
    return url


def _file_of(url: str) -> str | None:
    """Return the file a ``sqlite://`` or ``jsonl://`` URL names (``None``: not a file URL)."""
    scheme, _, rest = url.partition("://")
    if scheme not in ("sqlite", "jsonl") or rest in (":memory:", "/:memory:"):
        return None
    if not rest.startswith("/") or rest == "/":
        return None  # malformed: open_store says how to write it
    return rest[1:]


def _check_sqlite(path: str) -> None:
    """Refuse a file that holds no audit trail, reading it only (never creating a table)."""
    from structlogx.audit.sqlite import TABLE

    uri = Path(path).resolve().as_uri() + "?mode=ro"
    try:
        with contextlib.closing(sqlite3.connect(uri, uri=True)) as connection:
            found = connection.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (TABLE,)
            ).fetchone()
    except sqlite3.Error as exc:
        raise CommandError(f"cannot read the audit store {path}: {exc}") from exc
    if found is None:
        raise CommandError(f"{path} holds no audit trail (it has no {TABLE} table)")


def open_existing(url: str) -> Store:
    """Open the store at *url* for reading, refusing to create a missing file.

    Raises:
        CommandError: a bad URL (status 2), or a missing or unreadable store (status 1).
    """
    if url.startswith("memory://") or url in ("sqlite://:memory:", "sqlite:///:memory:"):
        raise CommandError(
            f"{url}: an in-memory store lives only inside the process that writes it; "
            "use a sqlite:// or jsonl:// file",
            USAGE,
        )
    path = _file_of(url)
    if path is not None:
        if not os.path.exists(path):
            raise CommandError(f"no audit store at {path}: the file does not exist")
        if not os.path.isfile(path):
            raise CommandError(f"no audit store at {path}: not a file")
        if url.startswith("sqlite:"):
            _check_sqlite(path)
    try:
        return open_store(url)
    except (ValueError, TypeError) as exc:
        raise CommandError(str(exc), USAGE) from exc
    except (OSError, sqlite3.Error, RuntimeError) as exc:
        raise CommandError(f"cannot open the audit store {url}: {exc}") from exc


def parse_time(text: str, option: str) -> _dt.datetime:
    """Parse an ISO 8601 date or time; a trailing ``Z`` and naive values mean UTC."""
    value = text.strip()
    if value[-1:] in ("Z", "z"):
        value = value[:-1] + "+00:00"  # Python 3.10's fromisoformat does not read Z
    try:
        moment = _dt.datetime.fromisoformat(value)
    except ValueError:
        raise CommandError(
            f"bad {option} {text!r}: write an ISO 8601 date or time, "
            "e.g. 2026-05-01 or 2026-05-01T13:45:00Z",
            USAGE,
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=_dt.timezone.utc)


def parse_object(text: str) -> tuple[str, str]:
    """Split ``TYPE:ID`` (the type label as stored, e.g. ``shop.Order:1042``)."""
    kind, separator, ident = text.partition(":")
    if not separator or not kind.strip() or not ident.strip():
        raise CommandError(f"bad --object {text!r}: write TYPE:ID, e.g. shop.Order:1042", USAGE)
    return kind.strip(), ident.strip()


def filters(args: argparse.Namespace) -> dict[str, Any]:
    """Return the ``store.query`` filters of the command line, validated.

    Raises:
        CommandError: a bad time, object or action pattern (status 2).
    """
    found: dict[str, Any] = {"visible": None if args.all else True}
    if args.object is not None:
        found["object"] = parse_object(args.object)
    if args.action is not None:
        found["action"] = args.action
    if args.actor is not None:
        found["actor"] = args.actor
    if args.scope is not None:
        found["scope"] = args.scope
    if args.since is not None:
        found["since"] = parse_time(args.since, "--since")
    if args.until is not None:
        found["until"] = parse_time(args.until, "--until")
    try:
        Query.build(**found)
    except (TypeError, ValueError) as exc:
        message = str(exc).replace("invalid action pattern", "bad --action")
        raise CommandError(message, USAGE) from None
    return found


def _limit(args: argparse.Namespace) -> int | None:
    if args.limit < 0:
        raise CommandError(f"bad --limit {args.limit}: use 0 (all) or more", USAGE)
    return args.limit or None


def _import_texts(modules: Iterable[str]) -> None:
    """Import the modules that register display texts (``--import``)."""
    if os.getcwd() not in sys.path:  # so that the project's modules import, as -m does
        sys.path.insert(0, os.getcwd())
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception as exc:
            raise CommandError(f"cannot import {name}: {type(exc).__name__}: {exc}") from exc


# -- output ---------------------------------------------------------------------------------


def _clean(text: str, width: int) -> str:
    """One line of at most *width* characters, with no control characters for the terminal."""
    text = text.translate(_CONTROLS)
    return text if len(text) <= width else text[: width - 1] + "…"


def _cells(entry: AuditEntry) -> tuple[str, str, str, str]:
    stamp = entry.timestamp
    if stamp.tzinfo is not None and stamp.utcoffset():
        stamp = stamp.astimezone(_dt.timezone.utc)
    if entry.object_text:
        subject = entry.object_text
    elif entry.object_type or entry.object_id:
        subject = f"{entry.object_type or '?'}:{entry.object_id or '?'}"
    else:
        subject = "-"
    return (
        stamp.strftime("%Y-%m-%d %H:%M:%S"),
        _clean(entry.actor_text or entry.actor_id or "-", _WIDTHS[1]),
        _clean(entry.display(), _WIDTHS[2]),
        _clean(subject, _WIDTHS[3]),
    )


def table(entries: Iterable[AuditEntry], *, indent: str = "") -> Iterator[str]:
    """Yield an aligned table of *entries* (time, actor, display text, object), header first.

    Columns are sized on the first thousand rows, then only widen, so a long listing streams.
    Nothing is yielded for no entries.
    """
    widths = [len(title) for title in _HEADER]
    iterator = iter(entries)
    header: list[tuple[str, ...]] = [_HEADER]
    while True:
        chunk: list[tuple[str, ...]] = [
            _cells(entry) for _, entry in zip(range(_CHUNK), iterator, strict=False)
        ]
        if not chunk:
            return
        for row in chunk:
            widths = [max(width, len(cell)) for width, cell in zip(widths, row, strict=True)]
        for row in header + chunk:
            cells = (cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=False))
            yield f"{indent}{'  '.join(cells)}  {row[-1]}".rstrip()
        header = []


# -- commands -------------------------------------------------------------------------------


def _fail(command: str, error: CommandError) -> int:
    print(f"structlogx audit {command}: {error}", file=sys.stderr)
    return error.status


@contextlib.contextmanager
def _failures(what: str) -> Iterator[None]:
    """Turn a failing store or file into a :class:`CommandError`; a closed pipe stays as is."""
    try:
        yield
    except BrokenPipeError:
        raise  # the command line stops quietly
    except OSError as exc:
        raise CommandError(f"{what}: {exc.strerror or exc}") from exc
    except sqlite3.Error as exc:
        raise CommandError(f"{what}: {exc}") from exc


def _tolerant_stdout() -> None:
    """Let stdout write lone surrogates as JSON does (``\\udc80``) instead of failing."""
    with contextlib.suppress(AttributeError, ValueError, OSError):
        sys.stdout.reconfigure(errors=_ERRORS)  # type: ignore[union-attr]


def _print(store: Store, args: argparse.Namespace, found: dict[str, Any]) -> bool:
    """Print the entries of ``audit show``; return whether more match than were shown."""
    limit = _limit(args)
    more = False
    if limit is None:
        entries: Iterable[AuditEntry] = iter_entries(store, **found)
    else:  # one more than asked, to tell whether more match
        page = list(iter_entries(store, limit=limit + 1, **found))
        entries, more = page[:limit], len(page) > limit
    if args.json:
        write_jsonl(entries, sys.stdout)
        return more
    empty = True
    for line in table(entries):
        print(line)
        empty = False
    if empty:
        print("No matching audit entries.")
    return more


def show(args: argparse.Namespace) -> int:
    """``structlogx audit show``: print matching entries, newest first."""
    try:
        found = filters(args)
        _limit(args)
        url = store_url(args.store)
        _import_texts(args.imports)
        store = open_existing(url)
        _tolerant_stdout()
        try:
            with _failures(f"cannot read the audit store {url}"):
                more = _print(store, args, found)
        finally:
            store.close()
    except CommandError as error:
        return _fail("show", error)
    if more:
        print(
            f"structlogx audit show: showing the newest {args.limit}; more match"
            " (use --limit N, or --limit 0 for all)",
            file=sys.stderr,
        )
    return 0


def _check_output(output: str, url: str) -> None:
    store_file = _file_of(url)
    if output == "-" or store_file is None:
        return
    if os.path.realpath(output) == os.path.realpath(store_file):
        raise CommandError(f"--output {output} is the audit store itself", USAGE)


def _export_to_file(
    entries: Iterable[AuditEntry], output: str, format: str, options: dict[str, Any]
) -> int:
    with _failures(f"cannot write {output}"):
        stream = open(output, "w", encoding="utf-8", errors=_ERRORS, newline="")  # noqa: SIM115
    try:
        with stream:
            return write(entries, stream, format, **options)
    except BaseException:
        if os.path.isfile(output) and not os.path.islink(output):  # never a device or a link
            with contextlib.suppress(OSError):
                os.remove(output)  # no half-written export left behind
        raise


def export(args: argparse.Namespace) -> int:
    """``structlogx audit export``: write matching entries as JSON lines, CSV or HTML."""
    options: dict[str, Any] = {"title": args.title} if args.format == "html" else {}
    try:
        found = filters(args)
        limit = _limit(args)
        url = store_url(args.store)
        _check_output(args.output, url)
        _import_texts(args.imports)
        store = open_existing(url)
        try:
            entries = iter_entries(store, limit=limit, **found)
            if args.output == "-":
                _tolerant_stdout()
                with _failures(f"cannot export from {url}"):
                    write(entries, sys.stdout, args.format, **options)
                return 0
            with _failures(f"cannot export from {url} to {args.output}"):
                count = _export_to_file(entries, args.output, args.format, options)
        finally:
            store.close()
    except CommandError as error:
        return _fail("export", error)
    print(f"Exported {count} {'entry' if count == 1 else 'entries'} to {args.output}.")
    return 0


def _progress(stream: Any) -> Any:
    """Return a progress callback that rewrites one line on a terminal, or ``None``."""
    if not getattr(stream, "isatty", lambda: False)():
        return None

    def show(checked: int) -> None:
        print(f"\rverified {checked:,} entries...", end="", file=stream, flush=True)

    return show


def verify(args: argparse.Namespace) -> int:
    """``structlogx audit verify``: check the hash chain; exit 1 on any problem."""
    try:
        url = store_url(args.store)
        store = open_existing(url)
        try:
            with _failures(f"cannot read the audit store {url}"):
                progress = _progress(sys.stderr)
                report = store.verify(progress=progress)
                if progress is not None:
                    print("\r\033[K", end="", file=sys.stderr, flush=True)
        finally:
            store.close()
    except CommandError as error:
        return _fail("verify", error)
    print(report)
    return 0 if report.ok else 1


def shred(args: argparse.Namespace) -> int:
    """``structlogx audit shred``: replace personal values of one object's or actor's entries."""
    try:
        if args.object is None and args.actor is None:
            raise CommandError("say whose entries: --object TYPE:ID or --actor ID", USAGE)
        subject = None if args.object is None else parse_object(args.object)
        url = store_url(args.store)
        store = open_existing(url)
        try:
            with _failures(f"cannot shred in the audit store {url}"):
                report = store.shred(
                    object=subject,
                    actor=args.actor,
                    fields=args.fields or None,
                    reason=args.reason,
                    by=args.by,
                    dry_run=args.dry_run,
                )
        except (TypeError, ValueError) as exc:
            raise CommandError(str(exc), USAGE) from exc
        finally:
            store.close()
    except CommandError as error:
        return _fail("shred", error)
    for entry_id, names in report.changes.items():
        print(f"entry {entry_id}: {', '.join(names)}")
    print(str(report)[:1].upper() + str(report)[1:] + ".")
    return 0


def prune(args: argparse.Namespace) -> int:
    """``structlogx audit prune``: delete entries older than a time, keeping the chain."""
    try:
        before = parse_time(args.before, "--before")
        url = store_url(args.store)
        store = open_existing(url)
        try:
            with _failures(f"cannot prune the audit store {url}"):
                report = store.prune(
                    before, reason=args.reason, by=args.by, dry_run=args.dry_run
                )
        finally:
            store.close()
    except CommandError as error:
        return _fail("prune", error)
    print(str(report)[:1].upper() + str(report)[1:] + ".")
    return 0


def replay(args: argparse.Namespace) -> int:
    """``structlogx audit replay``: move spooled entries into the store, oldest first."""
    from structlogx.audit.writer import Spool

    try:
        url = store_url(args.store)
        spool_path = args.spool or (f"{_file_of(url)}.spool.jsonl" if _file_of(url) else None)
        if spool_path is None:
            raise CommandError("this store has no default spool file: pass --spool PATH", USAGE)
        if not os.path.exists(spool_path) and not os.path.exists(spool_path + ".replaying"):
            print(f"Nothing to replay: no spool at {spool_path}.")
            return 0
        store = open_existing(url)
        try:
            with _failures(f"cannot replay into the audit store {url}"):
                report = Spool(spool_path).replay(store)
        finally:
            store.close()
    except CommandError as error:
        return _fail("replay", error)
    print(str(report)[:1].upper() + str(report)[1:] + ".")
    return 0
