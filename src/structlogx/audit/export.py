"""Export audit entries as JSON lines, CSV or one self-contained HTML page.

The writers take any iterable of :class:`~structlogx.records.AuditEntry` and write to an open
text stream, so they serve a file, ``sys.stdout`` or an HTTP response alike.
:func:`iter_entries` reads a store page by page (keyset pagination), so exporting a million
entries never holds them all in memory::

    from structlogx.audit import open_store
    from structlogx.audit.export import iter_entries, write_csv

    store = open_store("sqlite:///audit.sqlite3")
    with open("orders.csv", "w", encoding="utf-8", newline="") as stream:
        write_csv(iter_entries(store, action="shop.order.*"), stream)

The ``structlogx audit export`` command does the same from the shell.
"""

from __future__ import annotations

import csv
import datetime as _dt
import html
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Final, TextIO

from structlogx.audit.store import Query, Store
from structlogx.jsonsafe import dumps
from structlogx.records import AuditEntry

__all__ = [
    "CSV_COLUMNS",
    "FORMATS",
    "FORMULA_PREFIXES",
    "PAGE_SIZE",
    "iter_entries",
    "script_json",
    "write",
    "write_csv",
    "write_html",
    "write_jsonl",
]

PAGE_SIZE: Final = 1000
"""How many entries :func:`iter_entries` asks the store for at a time."""

CSV_COLUMNS: Final = (
    "id",
    "timestamp",
    "action",
    "display",
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
)
"""The columns of :func:`write_csv`, in order: the entry's fields plus ``display``."""

FORMULA_PREFIXES: Final = ("=", "+", "-", "@", "\t", "\r")
"""Leading characters that make a spreadsheet read a CSV cell as a formula."""


def iter_entries(
    store: Store,
    *,
    page_size: int = PAGE_SIZE,
    limit: int | None = None,
    after: int | None = None,
    **filters: Any,
) -> Iterator[AuditEntry]:
    """Yield the matching entries of *store*, newest first, one page of queries at a time.

    Each page is one ``store.query(..., limit=page_size, after=<last id>)``, so memory stays
    bounded by the page size whatever the size of the trail.

    Args:
        store: any :class:`~structlogx.audit.Store`.
        page_size: entries per query.
        limit: stop after this many entries (``None``: all that match).
        after: start below this entry id (a cursor from an earlier export).
        filters: the other keyword arguments of :meth:`Query.build
            <structlogx.audit.store.Query.build>` (``object``, ``action``, ``actor``, ``scope``,
            ``since``, ``until``, ``visible``, ...).

    Raises:
        TypeError, ValueError: an invalid filter, at once rather than on the first ``next()``.
    """
    if not isinstance(page_size, int) or page_size < 1:
        raise ValueError(f"page_size must be a positive int, not {page_size!r}")
    if limit is not None and (not isinstance(limit, int) or limit < 0):
        raise ValueError(f"limit must be a non-negative int or None, not {limit!r}")
    Query.build(after=after, **filters)  # validate now: a generator would only fail later
    return _pages(store, page_size, limit, after, filters)


def _pages(
    store: Store, page_size: int, limit: int | None, after: int | None, filters: dict[str, Any]
) -> Iterator[AuditEntry]:
    remaining = limit
    while remaining is None or remaining > 0:
        size = page_size if remaining is None else min(page_size, remaining)
        page = store.query(limit=size, after=after, **filters)
        yield from page
        if len(page) < size or page[-1].id is None:
            return
        after = page[-1].id
        if remaining is not None:
            remaining -= len(page)


# -- JSON lines -----------------------------------------------------------------------------


def write_jsonl(entries: Iterable[AuditEntry], stream: TextIO) -> int:
    """Write one JSON object per line (:meth:`AuditEntry.to_dict`); return how many.

    The lines are what a ``jsonl://`` store holds, so an export can be read back with
    :func:`structlogx.audit.jsonl.entry_from_dict` or opened as a store.
    """
    count = 0
    for entry in entries:
        stream.write(dumps(entry.to_dict()) + "\n")
        count += 1
    return count


# -- CSV ------------------------------------------------------------------------------------


def _guard(text: str) -> str:
    # A cell that starts with ' gets one more, so that removing one leading ' from every cell
    # that has one gives the exact value back (see write_csv).
    if text.startswith(FORMULA_PREFIXES) or text.startswith("'"):
        return "'" + text
    return text


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return dumps(value)
    if isinstance(value, _dt.datetime):
        return value.isoformat()
    return _guard(value if isinstance(value, str) else str(value))


def write_csv(entries: Iterable[AuditEntry], stream: TextIO) -> int:
    """Write a header row and one row per entry (columns: :data:`CSV_COLUMNS`); return how many.

    ``data`` and ``context`` are compact JSON text; booleans are ``true``/``false``; a missing
    value is an empty cell; ``display`` is the entry's human text
    (:meth:`~structlogx.records.AuditEntry.display`).

    Spreadsheets run a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
    return as a formula (CSV injection), so such a cell is written with a leading ``'``; a
    cell that already starts with ``'`` gets one more. To get the exact values back, remove
    one leading ``'`` from every text cell that has one.

    Open *stream* with ``newline=""`` (as :mod:`csv` asks), so that line breaks inside values
    survive.
    """
    writer = csv.writer(stream)
    writer.writerow(CSV_COLUMNS)
    count = 0
    for entry in entries:
        values = entry.to_dict()
        writer.writerow(
            [
                _cell(entry.display()) if column == "display" else _cell(values[column])
                for column in CSV_COLUMNS
            ]
        )
        count += 1
    return count


# -- HTML -----------------------------------------------------------------------------------

_SCRIPT_SAFE: Final = {
    ord("<"): "\\u003c",
    ord(">"): "\\u003e",
    ord("&"): "\\u0026",
    0x2028: "\\u2028",
    0x2029: "\\u2029",
}


def script_json(value: object) -> str:
    """Return *value* as JSON that is safe inside an HTML ``<script>`` element.

    ``<``, ``>`` and ``&`` become ``\\u003c``, ``\\u003e`` and ``\\u0026`` (they only occur
    inside JSON strings, where the escapes mean the same), so no value can close the element
    (``</script>``) or open a comment; U+2028 and U+2029 are escaped for older JavaScript.
    """
    return dumps(value).translate(_SCRIPT_SAFE)


def _time_text(value: _dt.datetime) -> str:
    if value.tzinfo is not None and value.utcoffset():
        value = value.astimezone(_dt.timezone.utc)
    return value.strftime("%Y-%m-%d %H:%M:%S")


def _who(entry: AuditEntry) -> str:
    return entry.actor_text or entry.actor_id or ""


def _what(entry: AuditEntry) -> str:
    if entry.object_text:
        return entry.object_text
    if entry.object_type or entry.object_id:
        return f"{entry.object_type or '?'}:{entry.object_id or '?'}"
    return ""


_STYLE: Final = """
:root { color-scheme: light dark; --line: #8884; --accent: #2a6fdb; }
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; }
h1 { font-size: 1.4rem; margin: 0 0 .75rem; }
#filter { width: min(32rem, 100%); padding: .35rem .5rem; font: inherit; }
#status { margin: .5rem 0; opacity: .75; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: .3rem .6rem;
  border-bottom: 1px solid var(--line); }
th { cursor: pointer; user-select: none; white-space: nowrap; position: sticky; top: 0;
  background: Canvas; }
th[aria-sort=ascending]::after { content: " \\25B2"; }
th[aria-sort=descending]::after { content: " \\25BC"; }
tbody tr { cursor: pointer; }
tbody tr:hover, tbody tr:focus, tbody tr.selected { background: #2a6fdb22; outline: none; }
td.time { white-space: nowrap; font-variant-numeric: tabular-nums; }
code, pre { font: 12px/1.4 ui-monospace, monospace; }
#details { position: fixed; top: 0; right: 0; bottom: 0; width: min(40rem, 90vw);
  overflow: auto; background: Canvas; border-left: 1px solid var(--line);
  box-shadow: -4px 0 12px #0003; padding: 1rem 1.25rem; }
#details h2 { font-size: 1.1rem; margin: 0 2rem .75rem 0; }
#details dl { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; }
#details dt { font-weight: 600; }
#details dd { margin: 0; overflow-wrap: anywhere; }
#details pre { margin: 0; white-space: pre-wrap; overflow-wrap: anywhere; }
#close { position: absolute; top: .75rem; right: 1rem; font: inherit; cursor: pointer; }
"""

# Plain ES2015; builds the details with textContent only, so no value is ever parsed as HTML.
_SCRIPT: Final = """
"use strict";
(function () {
  const table = document.getElementById("entries");
  const body = table.tBodies[0];
  const rows = Array.from(body.rows);
  const filter = document.getElementById("filter");
  const status = document.getElementById("status");
  const details = document.getElementById("details");
  const haystacks = rows.map(function (row) {
    return (row.textContent + " " + JSON.stringify(ENTRIES[+row.dataset.i])).toLowerCase();
  });
  function count() {
    const shown = rows.filter(function (row) { return !row.hidden; }).length;
    status.textContent = shown === rows.length
      ? rows.length + (rows.length === 1 ? " entry" : " entries")
      : shown + " of " + rows.length + " entries match";
  }
  filter.addEventListener("input", function () {
    const words = filter.value.toLowerCase().split(/\\s+/).filter(Boolean);
    rows.forEach(function (row, i) {
      row.hidden = !words.every(function (word) { return haystacks[i].includes(word); });
    });
    count();
  });
  Array.from(table.tHead.rows[0].cells).forEach(function (th, column) {
    th.tabIndex = 0;
    function sort() {
      const descending = th.getAttribute("aria-sort") === "ascending";
      Array.from(th.parentNode.cells).forEach(function (c) { c.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", descending ? "descending" : "ascending");
      const key = function (row) {
        const cell = row.cells[column];
        return cell.dataset.sort !== undefined ? cell.dataset.sort : cell.textContent;
      };
      const sorted = rows.slice().sort(function (a, b) {
        const order = key(a).localeCompare(key(b), undefined, {numeric: true});
        return descending ? -order : order;
      });
      sorted.forEach(function (row) { body.appendChild(row); });
    }
    th.addEventListener("click", sort);
    th.addEventListener("keydown", function (event) {
      if (event.key === "Enter" || event.key === " ") { event.preventDefault(); sort(); }
    });
  });
  function show(row) {
    const entry = ENTRIES[+row.dataset.i];
    rows.forEach(function (r) { r.classList.remove("selected"); });
    row.classList.add("selected");
    const title = document.createElement("h2");
    title.textContent = row.cells[2].textContent;
    const list = document.createElement("dl");
    Object.keys(entry).forEach(function (name) {
      const term = document.createElement("dt");
      term.textContent = name;
      const value = document.createElement("dd");
      const item = entry[name];
      if (item !== null && typeof item === "object") {
        const pre = document.createElement("pre");
        pre.textContent = JSON.stringify(item, null, 2);
        value.appendChild(pre);
      } else {
        value.textContent = item === null ? "\\u2014" : String(item);
      }
      list.append(term, value);
    });
    const close = document.createElement("button");
    close.id = "close";
    close.type = "button";
    close.textContent = "Close";
    close.addEventListener("click", hide);
    details.replaceChildren(close, title, list);
    details.hidden = false;
  }
  function hide() {
    details.hidden = true;
    rows.forEach(function (r) { r.classList.remove("selected"); });
  }
  body.addEventListener("click", function (event) {
    const row = event.target.closest("tr");
    if (row) { show(row); }
  });
  body.addEventListener("keydown", function (event) {
    const row = event.target.closest("tr");
    if (row && event.key === "Enter") { show(row); }
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { hide(); }
  });
  count();
})();
"""

_HEAD: Final = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; \
style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<meta name="generator" content="structlogx {version}">
<title>{title}</title>
<style>{style}</style>
</head>
<body>
<h1>{title}</h1>
<p>Exported {now} UTC. Click a column header to sort, a row for its details.</p>
<input id="filter" type="search" placeholder="Filter: words that every shown entry contains" \
aria-label="Filter entries" autocomplete="off">
<p id="status" role="status"></p>
<table id="entries">
<thead><tr><th scope="col">Time (UTC)</th><th scope="col">Actor</th><th scope="col">What \
happened</th><th scope="col">Action</th><th scope="col">Object</th></tr></thead>
<tbody>
"""


def write_html(
    entries: Iterable[AuditEntry],
    stream: TextIO,
    *,
    title: str = "Audit trail",
    spool_max_bytes: int = 8 * 1024 * 1024,
) -> int:
    """Write one self-contained HTML page that shows *entries*; return how many.

    The page needs no network (inline CSS and a little vanilla JavaScript, and a
    Content-Security-Policy that forbids loading anything): a table of time, actor, display
    text, action and object that sorts by a click on a column header, a filter box that hides
    the rows not containing every word typed, and a panel with all the fields of an entry
    (``data`` and ``context`` as indented JSON) on a click on its row.

    Every value is escaped with :func:`html.escape`; the entries' dicts
    (:meth:`~structlogx.records.AuditEntry.to_dict`) are embedded for the script as a JSON
    array escaped by :func:`script_json`, so ``</script>`` in a value stays text. The page has
    exactly one ``<script>`` element.

    Rows are written as entries arrive; their JSON waits in a temporary file (in memory up to
    *spool_max_bytes*) until the table is complete, so memory stays bounded. Browsers grow
    slow beyond some ten thousand rows: filter the export for bigger trails.

    Args:
        title: the page's title and heading.
        spool_max_bytes: JSON kept in memory before the temporary file moves to disk.
    """
    from structlogx import __version__

    now = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M")
    escaped_title = html.escape(title)
    stream.write(
        _HEAD.format(version=html.escape(__version__), title=escaped_title, style=_STYLE, now=now)
    )
    escape: Callable[[str], str] = html.escape
    count = 0
    with tempfile.SpooledTemporaryFile(  # surrogatepass: a lone surrogate comes back as it was
        max_size=spool_max_bytes, mode="w+", encoding="utf-8", errors="surrogatepass"
    ) as spool:
        for entry in entries:
            values = entry.to_dict()
            spool.write(("," if count else "") + script_json(values) + "\n")
            stamp = entry.timestamp
            stream.write(
                f'<tr data-i="{count}" tabindex="0">'
                f'<td class="time" data-sort="{escape(stamp.isoformat())}">'
                f"{escape(_time_text(stamp))}</td>"
                f"<td>{escape(_who(entry))}</td>"
                f"<td>{escape(entry.display())}</td>"
                f"<td><code>{escape(entry.action)}</code></td>"
                f"<td>{escape(_what(entry))}</td></tr>\n"
            )
            count += 1
        stream.write('</tbody>\n</table>\n<aside id="details" hidden></aside>\n')
        stream.write("<script>\nconst ENTRIES = [\n")
        spool.seek(0)
        shutil.copyfileobj(spool, stream)
    stream.write("];\n" + _SCRIPT + "</script>\n</body>\n</html>\n")
    return count


# -- one entry point ------------------------------------------------------------------------

FORMATS: Final[dict[str, Callable[..., int]]] = {
    "jsonl": write_jsonl,
    "csv": write_csv,
    "html": write_html,
}
"""The export formats by name, each to its writer."""


def write(entries: Iterable[AuditEntry], stream: TextIO, format: str, **options: Any) -> int:
    """Write *entries* to *stream* in *format* (a key of :data:`FORMATS`); return how many.

    Raises:
        ValueError: an unknown format.
    """
    writer = FORMATS.get(format)
    if writer is None:
        raise ValueError(f"unknown export format {format!r}: use one of {', '.join(FORMATS)}")
    return writer(entries, stream, **options)
