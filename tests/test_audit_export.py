"""Tests for structlogx.audit.export: paging through a store, and the JSON-lines, CSV and HTML
writers (escaping, the CSV formula guard, the embedded JSON)."""

from __future__ import annotations

import csv
import datetime as dt
import html.parser
import io
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from structlogx.audit import Store, open_store
from structlogx.audit.export import (
    CSV_COLUMNS,
    FORMATS,
    PAGE_SIZE,
    iter_entries,
    script_json,
    write,
    write_csv,
    write_html,
    write_jsonl,
)
from structlogx.audit.jsonl import entry_from_dict
from structlogx.records import AuditEntry

T0 = dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.timezone.utc)
ACTION = "exporttest.order.paid"  # no display text registered: display() is the message
XSS = "<script>alert(1)</script>"


def entry(number: int = 1, **fields: Any) -> AuditEntry:
    values: dict[str, Any] = {
        "timestamp": T0 + dt.timedelta(minutes=number),
        "action": ACTION,
        "logger": "shop",
        "message": f"Order {number} paid",
        "actor_type": "shop.User",
        "actor_id": "7",
        "actor_text": "alice@example.com",
        "object_type": "shop.Order",
        "object_id": str(number),
        "object_text": f"Order {number}",
        "data": {"amount": "12.50", "n": number},
        "context": {"request_id": f"r-{number}"},
        "id": number,
    }
    values.update(fields)
    return AuditEntry(**values)


def filled(count: int, **fields: Any) -> Store:
    store = open_store("memory://")  # an empty name: a fresh store
    store.append([entry(number, id=None, **fields) for number in range(1, count + 1)])
    return store


class CountingStore:
    """A store wrapper that records each query's keyword arguments."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.url = store.url
        self.calls: list[dict[str, Any]] = []

    def append(self, entries: Any) -> list[int]:
        return self.store.append(entries)

    def get(self, entry_id: int) -> AuditEntry | None:
        return self.store.get(entry_id)

    def query(self, **filters: Any) -> list[AuditEntry]:
        self.calls.append(filters)
        return self.store.query(**filters)

    def count(self, **filters: Any) -> int:
        return self.store.count(**filters)

    def close(self) -> None:
        self.store.close()


# -- iter_entries ---------------------------------------------------------------------------


def test_iter_entries_pages_by_keyset_newest_first() -> None:
    store = CountingStore(filled(2500))

    ids = [found.id for found in iter_entries(store)]

    assert ids == list(range(2500, 0, -1))
    assert [call["after"] for call in store.calls] == [None, 1501, 501]
    assert {call["limit"] for call in store.calls} == {PAGE_SIZE}


def test_iter_entries_stops_without_an_extra_query_on_a_short_page() -> None:
    store = CountingStore(filled(5))

    assert len(list(iter_entries(store, page_size=2))) == 5
    assert [call["after"] for call in store.calls] == [None, 4, 2]


def test_iter_entries_limit_after_and_filters() -> None:
    store = filled(30)
    store.append([entry(99, id=None, action="exporttest.order.refunded", visible=False)])

    assert [found.id for found in iter_entries(store, page_size=4, limit=6)] == list(
        range(30, 24, -1)
    )
    assert [found.id for found in iter_entries(store, after=3)] == [2, 1]
    assert list(iter_entries(store, action="exporttest.order.refunded")) == []
    hidden = list(iter_entries(store, action="exporttest.order.*", visible=False))
    assert [found.id for found in hidden] == [31]
    assert len(list(iter_entries(store, visible=None))) == 31
    assert list(iter_entries(store, limit=0)) == []


def test_iter_entries_on_sqlite_holds_one_page_at_a_time(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'audit.sqlite3'}")
    try:
        store.append([entry(number, id=None) for number in range(1, 2101)])
        counting = CountingStore(store)
        iterator = iter_entries(counting, page_size=1000)
        first = next(iterator)
        assert first.id == 2100
        assert len(counting.calls) == 1  # lazily: the next page only when needed
        assert sum(1 for _ in iterator) == 2099
        assert len(counting.calls) == 3
    finally:
        store.close()


@pytest.mark.parametrize(
    ("filters", "error"),
    [
        ({"action": "Shop.*"}, ValueError),
        ({"since": "yesterday"}, TypeError),
        ({"page_size": 0}, ValueError),
        ({"limit": -1}, ValueError),
    ],
)
def test_iter_entries_rejects_bad_filters_at_once(
    filters: dict[str, Any], error: type[Exception]
) -> None:
    store = CountingStore(filled(1))

    with pytest.raises(error):
        iter_entries(store, **filters)  # no next(): the call itself raises
    assert store.calls == []


# -- JSON lines -----------------------------------------------------------------------------


def test_write_jsonl_one_entry_per_line_that_reads_back() -> None:
    entries = [entry(1), entry(2, data={"note": "line\nbreak", "text": "ünï"})]
    stream = io.StringIO()

    assert write_jsonl(entries, stream) == 2

    lines = stream.getvalue().split("\n")
    assert lines[-1] == ""
    assert [json.loads(line) for line in lines[:-1]] == [item.to_dict() for item in entries]
    assert [entry_from_dict(json.loads(line)) for line in lines[:-1]] == entries


def test_write_jsonl_streams_from_a_generator() -> None:
    def produce() -> Iterator[AuditEntry]:
        for number in range(3):
            yield entry(number)

    stream = io.StringIO()
    assert write_jsonl(produce(), stream) == 3
    assert write_jsonl([], io.StringIO()) == 0


# -- CSV ------------------------------------------------------------------------------------


def read_csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def unguard(cell: str) -> str:
    """Undo the formula guard as write_csv documents: remove one leading quote."""
    return cell[1:] if cell.startswith("'") else cell


def test_write_csv_header_and_columns() -> None:
    stream = io.StringIO(newline="")
    assert write_csv([entry(1, scope=None, visible=False)], stream) == 1

    header, row = read_csv(stream.getvalue())
    assert tuple(header) == CSV_COLUMNS
    cells = dict(zip(header, row, strict=True))
    assert cells["id"] == "1"
    assert cells["timestamp"] == "2026-05-01T12:01:00+00:00"
    assert cells["display"] == "Order 1 paid"
    assert cells["scope"] == ""
    assert cells["prev_hash"] == ""
    assert cells["visible"] == "false"
    assert cells["shredded"] == "false"
    assert json.loads(cells["data"]) == {"amount": "12.50", "n": 1}
    assert json.loads(cells["context"]) == {"request_id": "r-1"}


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\r=1", "'\r=1"),
        ("'quoted", "''quoted"),
        ("plain = fine", "plain = fine"),
        ("", ""),
    ],
)
def test_write_csv_guards_formula_cells(value: str, written: str) -> None:
    stream = io.StringIO(newline="")
    write_csv([entry(1, message=value, actor_text=value)], stream)

    _, row = read_csv(stream.getvalue())
    cells = dict(zip(CSV_COLUMNS, row, strict=True))
    assert cells["message"] == written
    assert cells["actor_text"] == written
    assert cells["display"] == (written or ACTION)  # an empty message shows the action


TEXT = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cs",),
        # csv.reader before Python 3.11 stops at a NUL character
        blacklist_characters="\x00" if sys.version_info < (3, 11) else "",
    ),
    max_size=40,
)


@settings(deadline=None, max_examples=200)
@given(message=TEXT, actor=TEXT, subject=TEXT, values=st.lists(TEXT, max_size=4))
def test_csv_round_trips_any_text(
    message: str, actor: str, subject: str, values: list[str]
) -> None:
    data = {f"k{index}": value for index, value in enumerate(values)} | {"v": message}
    original = entry(1, message=message, actor_text=actor, object_text=subject, data=data)
    stream = io.StringIO(newline="")
    write_csv([original], stream)

    header, row = read_csv(stream.getvalue())
    cells = {name: unguard(cell) for name, cell in zip(header, row, strict=True)}
    assert cells["message"] == message
    assert cells["actor_text"] == actor
    assert cells["object_text"] == subject
    assert json.loads(cells["data"]) == data
    for cell in row:
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))


# -- HTML -----------------------------------------------------------------------------------


class Page(html.parser.HTMLParser):
    """Collect the table cells and the script of an exported page, as a browser reads them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[list[str]] = []
        self.scripts: list[str] = []
        self.title = ""
        self._where: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr" and any(name == "data-i" for name, _ in attrs):
            self.rows.append([])
        elif tag == "td" and self.rows:
            self.rows[-1].append("")
            self._where = "td"
        elif tag in ("script", "title"):
            self._where = tag
            if tag == "script":
                self.scripts.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "script", "title"):
            self._where = None

    def handle_data(self, data: str) -> None:
        if self._where == "td":
            self.rows[-1][-1] += data
        elif self._where == "script":
            self.scripts[-1] += data
        elif self._where == "title":
            self.title += data


def embedded(page: str) -> Any:
    """Return the JSON array the page embeds for its script."""
    start = page.index("const ENTRIES = [\n") + len("const ENTRIES = ")
    end = page.index("\n];\n", start)  # JSON text holds no raw line break
    return json.loads(page[start:end] + "\n]")


def export_html(entries: list[AuditEntry], **options: Any) -> str:
    stream = io.StringIO()
    assert write_html(entries, stream, **options) == len(entries)
    return stream.getvalue()


def test_html_acceptance_script_in_data_appears_only_escaped() -> None:
    hostile = entry(1, message=XSS, actor_text=XSS, object_text=XSS, data={"comment": XSS})

    page = export_html([hostile], title=XSS)

    assert XSS not in page
    assert page.lower().count("<script") == 1
    assert page.lower().count("</script") == 1
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # the table cells and the title
    assert "\\u003cscript\\u003ealert(1)\\u003c/script\\u003e" in page  # the embedded JSON
    assert embedded(page) == [hostile.to_dict()]
    parsed = Page()
    parsed.feed(page)
    assert parsed.title == XSS
    assert parsed.rows == [["2026-05-01 12:01:00", XSS, XSS, ACTION, XSS]]
    assert len(parsed.scripts) == 1


def test_html_page_is_self_contained() -> None:
    page = export_html([entry(1), entry(2)])

    assert page.startswith("<!DOCTYPE html>")
    assert page.rstrip().endswith("</html>")
    for needle in ("http://", "https://", "//cdn", " src=", "<link", "@import", "url("):
        assert needle not in page
    assert "Content-Security-Policy" in page
    assert page.count("<tr data-i=") == 2
    assert page.count("<style>") == 1


def test_html_rows_show_time_actor_display_action_object() -> None:
    entries = [entry(1), entry(2, actor_text=None, object_text=None), entry(3, actor_id=None)]
    entries[2].actor_text = None

    parsed = Page()
    parsed.feed(export_html(entries))

    assert parsed.rows == [
        ["2026-05-01 12:01:00", "alice@example.com", "Order 1 paid", ACTION, "Order 1"],
        ["2026-05-01 12:02:00", "7", "Order 2 paid", ACTION, "shop.Order:2"],  # the ids
        ["2026-05-01 12:03:00", "", "Order 3 paid", ACTION, "Order 3"],
    ]


def test_html_with_no_entries_and_a_spilled_spool() -> None:
    assert embedded(export_html([])) == []
    many = [entry(number, data={"blob": "x" * 200}) for number in range(1, 60)]
    page = export_html(many, spool_max_bytes=1024)  # the JSON moves to a file on disk
    assert embedded(page) == [item.to_dict() for item in many]


HOSTILE = st.one_of(
    TEXT,
    st.sampled_from(["</script>", "<SCRIPT>", "<!--", "]]>", "\u2028", "</ScRiPt >", "&lt;"]),
    st.lists(st.sampled_from(["<", ">", "&", "/", "script", "'", '"', "\\", "\u2029"])).map(
        "".join
    ),
)


@settings(deadline=None, max_examples=200)
@given(message=HOSTILE, actor=HOSTILE, values=st.lists(HOSTILE, max_size=4))
def test_html_escapes_any_text(message: str, actor: str, values: list[str]) -> None:
    data = {f"k{index}": value for index, value in enumerate(values)}
    entries = [entry(1, message=message, actor_text=actor, data=data), entry(2)]

    page = export_html(entries)

    assert page.lower().count("<script") == 1
    assert embedded(page) == [item.to_dict() for item in entries]
    script = page[page.index("<script>") + len("<script>") : page.rindex("</script>")]
    assert "<" not in script.split("];\n", 1)[0]  # the JSON part has no raw angle bracket


def test_script_json_escapes_what_could_end_a_script() -> None:
    text = script_json({"a": "</script><!-- & \u2028\u2029"})

    assert text == ('{"a":"\\u003c/script\\u003e\\u003c!-- \\u0026 \\u2028\\u2029"}')
    assert json.loads(text) == {"a": "</script><!-- & \u2028\u2029"}


@pytest.mark.skipif(shutil.which("node") is None, reason="no node to check the page's JavaScript")
def test_html_script_is_valid_javascript(tmp_path: Path) -> None:
    page = export_html([entry(1, message=XSS)])
    script = tmp_path / "page.js"
    script.write_text(page[page.index("<script>") + 8 : page.rindex("</script>")], "utf-8")

    result = subprocess.run(
        ["node", "--check", str(script)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


# -- write ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_write_dispatches_by_format(name: str) -> None:
    stream = io.StringIO(newline="")
    assert write([entry(1)], stream, name) == 1
    assert stream.getvalue()


def test_write_rejects_an_unknown_format() -> None:
    with pytest.raises(ValueError, match="unknown export format 'xml': use one of jsonl, csv"):
        write([], io.StringIO(), "xml")


def test_formula_guard_leaves_json_and_numbers_alone() -> None:
    stream = io.StringIO(newline="")
    write_csv([entry(1, data={"x": "=1+1"})], stream)
    _, row = read_csv(stream.getvalue())
    cells = dict(zip(CSV_COLUMNS, row, strict=True))
    assert json.loads(cells["data"]) == {"x": "=1+1"}
    assert re.fullmatch(r"\d+", cells["id"])


def test_html_keeps_a_lone_surrogate_through_the_spool_file() -> None:
    odd = entry(1, actor_text="bad \udc80", data={"k": "\udcff"})
    padding = [entry(number, data={"blob": "x" * 300}) for number in range(2, 9)]
    page = export_html([odd, *padding], spool_max_bytes=256)  # the spool moves to disk

    assert embedded(page)[0] == odd.to_dict()
