"""The exported HTML trail in a real browser: headless Chromium sorts, filters, shows details,
and shows markup from entries as text.

No driver library: the test exports a page with :func:`~structlogx.audit.export.write_html`,
writes a copy with a small test script appended (and an ``alert`` trap at the top), lets
``chromium --headless --dump-dom`` load the copy from a file, and reads the JSON the test
script left in ``<pre id="test-result">`` out of the dumped DOM.

Without Chromium the test skips; under ``CI=true`` it fails instead, since ``.ci/run``
installs Debian's ``chromium``.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import html
import io
import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from structlogx.audit.export import write_html
from structlogx.records import AuditEntry

pytestmark = pytest.mark.browser

T0 = dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.timezone.utc)
ACTION = "browsertest.order.paid"  # no display text registered: display() is the message
SCRIPT_XSS = "<script>alert(1)</script>"
IMG_XSS = "<img src=x onerror=alert(2)>"
TIMEOUT = 60  # seconds for Chromium; it takes one or two

# Runs first (inserted right after the CSP meta): records alert() calls and CSP violations, so a
# value that became markup and ran, or tried to load something, shows up in the result.
TRAP = """
window.__alerts = [];
window.__violations = [];
window.alert = function (message) { window.__alerts.push(String(message)); };
document.addEventListener("securitypolicyviolation", function (event) {
  window.__violations.push(event.violatedDirective + " " + event.blockedURI);
});
"""

# Runs last (appended before </body>, after the page's own script), once the DOM is ready.
PROBE = """
document.addEventListener("DOMContentLoaded", function () {
  const result = {};
  try {
    const table = document.getElementById("entries");
    const body = table.tBodies[0];
    const headers = Array.from(table.tHead.rows[0].cells);
    const filter = document.getElementById("filter");
    const details = document.getElementById("details");
    const column = function (index) {
      return Array.from(body.rows).map(function (row) { return row.cells[index].textContent; });
    };
    const visible = function () {
      return Array.from(body.rows).filter(function (row) { return !row.hidden; }).length;
    };
    const type = function (text) {
      filter.value = text;
      filter.dispatchEvent(new Event("input", {bubbles: true}));
      return {visible: visible(), status: document.getElementById("status").textContent};
    };
    result.headers = headers.map(function (th) { return th.textContent; });
    result.initial = column(4);
    result.status = document.getElementById("status").textContent;

    headers[4].click();
    result.objectAscending = column(4);
    result.objectAscendingSort = headers[4].getAttribute("aria-sort");
    headers[4].click();
    result.objectDescending = column(4);
    result.objectDescendingSort = headers[4].getAttribute("aria-sort");
    headers[0].click();
    result.timeAscending = column(0);
    result.actorAfterTimeSort = column(1);
    result.timeSortCleared = headers[4].getAttribute("aria-sort");

    result.filters = {
      "alice": type("alice"),
      "ALICE order": type("ALICE order"),
      "alert(1)": type("alert(1)"),
      "no-such-word": type("no-such-word"),
      "": type(""),
    };
    type("alert(1)");
    result.filteredObjects = Array.from(body.rows)
      .filter(function (row) { return !row.hidden; })
      .map(function (row) { return row.cells[4].textContent; });
    type("");

    result.displayTexts = column(2);
    const scriptRow = Array.from(body.rows).find(function (row) {
      return row.cells[4].textContent === "Order 10";
    });
    result.detailsHiddenBefore = details.hidden;
    scriptRow.cells[2].click();
    result.detailsHidden = details.hidden;
    result.detailsTitle = details.querySelector("h2").textContent;
    result.detailsText = details.textContent;
    result.detailsPre = Array.from(details.querySelectorAll("pre")).map(function (pre) {
      return pre.textContent;
    });
    result.selected = Array.from(body.querySelectorAll("tr.selected")).length;
    result.markupInTable = table.querySelectorAll("script, img, iframe, object, svg").length;
    result.markupInDetails = details.querySelectorAll("script, img, iframe, object, svg").length;
    result.scripts = document.querySelectorAll("script").length;
    result.images = document.querySelectorAll("img").length;
    result.onerror = document.querySelectorAll("[onerror]").length;
    document.dispatchEvent(new KeyboardEvent("keydown", {key: "Escape", bubbles: true}));
    result.detailsHiddenAfterEscape = details.hidden;
    result.resources = performance.getEntriesByType("resource").map(function (r) {
      return r.name;
    });
  } catch (error) {
    result.error = String(error && error.stack || error);
  }
  result.alerts = window.__alerts;
  result.violations = window.__violations;
  const pre = document.createElement("pre");
  pre.id = "test-result";
  pre.textContent = JSON.stringify(result);
  document.body.appendChild(pre);
});
"""


def find_chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    message = "Chromium not found (chromium, chromium-browser or google-chrome on PATH)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true: the browser test must run, but {message}; .ci/run installs it")
    pytest.skip(f"{message}: apt-get install chromium")


def entries() -> list[AuditEntry]:
    """Four entries, written in an order that is neither sorted by object nor by time."""

    def make(minute: int, actor: str, number: int, message: str, **data: Any) -> AuditEntry:
        return AuditEntry(
            timestamp=T0 + dt.timedelta(minutes=minute),
            action=ACTION,
            logger="shop",
            message=message,
            actor_type="shop.User",
            actor_id=actor,
            actor_text=f"{actor}@example.com",
            object_type="shop.Order",
            object_id=str(number),
            object_text=f"Order {number}",
            data={"amount": f"{number}.50", **data},
            context={"request_id": f"r-{number}"},
            id=number,
        )

    return [
        make(3, "carol", 10, "Order 10 paid", note=SCRIPT_XSS),
        make(1, "alice", 2, IMG_XSS),
        make(4, "bob", 1, "Order 1 refunded"),
        make(2, "alice", 3, "Order 3 paid"),
    ]


def script_hash(source: str) -> str:
    digest = hashlib.sha256(source.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def allow_scripts(page: str, sources: list[str]) -> str:
    """Return *page* with its CSP extended, if needed, so that the inline *sources* may run.

    A ``script-src`` with ``'unsafe-inline'`` and no hash or nonce already allows them (adding
    a hash would switch ``'unsafe-inline'`` off and block the page's own script); a stricter
    policy gets their hashes.
    """
    meta = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">', page)
    assert meta, "the page has no Content-Security-Policy meta tag"
    policy = html.unescape(meta.group(1))
    directives = [part.strip() for part in policy.split(";") if part.strip()]
    assert any(d.startswith("default-src 'none'") for d in directives), policy
    script_src = [d for d in directives if d.split()[0] == "script-src"]
    assert script_src, policy
    sources_now = script_src[0].split()[1:]
    if "'unsafe-inline'" in sources_now and not any(
        s.startswith(("'sha", "'nonce-")) for s in sources_now
    ):
        return page
    extended = [
        " ".join([d, *map(script_hash, sources)]) if d is script_src[0] else d for d in directives
    ]
    return page.replace(meta.group(1), html.escape("; ".join(extended)), 1)


def test_exported_page_sorts_filters_and_shows_markup_as_text(tmp_path: Path) -> None:
    chromium = find_chromium()
    stream = io.StringIO()
    assert write_html(entries(), stream, title="Browser <test>") == 4
    page = stream.getvalue()

    # Nothing to fetch: no URL in a src/href/action attribute, and one inline script only.
    assert not re.search(r"""\b(?:src|href|action)\s*=\s*["']?\s*(?:https?:)?//""", page, re.I)
    assert not re.search(r"\bhttps?://", page), "the exported page mentions a URL"
    assert page.count("<script") == 1

    copy = allow_scripts(page, [TRAP, PROBE])
    meta_end = copy.index(">", copy.index('<meta http-equiv="Content-Security-Policy"')) + 1
    copy = copy[:meta_end] + f"\n<script>{TRAP}</script>" + copy[meta_end:]
    assert copy.count("</body>") == 1
    copy = copy.replace("</body>", f"<script>{PROBE}</script>\n</body>")
    target = tmp_path / "trail.html"
    target.write_text(copy, encoding="utf-8")

    command = [
        chromium,
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-default-apps",
        "--disable-extensions",
        "--disable-sync",
        "--no-default-browser-check",
        "--no-first-run",
        "--no-pings",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--virtual-time-budget=5000",
        "--dump-dom",
        target.as_uri(),
    ]
    started = time.monotonic()
    try:
        done = subprocess.run(
            command,
            check=False,  # the result below says more than an exit status
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as error:
        pytest.fail(f"Chromium did not finish within {TIMEOUT} s: {error.stderr!r}")
    elapsed = time.monotonic() - started
    found = re.search(r'<pre id="test-result">(.*?)</pre>', done.stdout, re.S)
    assert found, (
        f"no test result in the dumped DOM (exit {done.returncode}, {elapsed:.1f} s)\n"
        f"stderr: {done.stderr[-3000:]}\nstdout: {done.stdout[-3000:]}"
    )
    result = json.loads(html.unescape(found.group(1)))
    assert "error" not in result, result["error"]

    # Nothing ran, nothing was loaded or blocked.
    assert result["alerts"] == []
    assert result["violations"] == []
    assert result["resources"] == []

    # The table as written, and its status line.
    assert result["headers"] == ["Time (UTC)", "Actor", "What happened", "Action", "Object"]
    assert result["initial"] == ["Order 10", "Order 2", "Order 1", "Order 3"]
    assert result["status"] == "4 entries"

    # Sorting: a click sorts ascending (numbers inside text in numeric order), a second click
    # descending; another column's header takes over and sorts by the time stamp.
    assert result["objectAscending"] == ["Order 1", "Order 2", "Order 3", "Order 10"]
    assert result["objectAscendingSort"] == "ascending"
    assert result["objectDescending"] == ["Order 10", "Order 3", "Order 2", "Order 1"]
    assert result["objectDescendingSort"] == "descending"
    assert result["timeAscending"] == [
        "2026-05-01 12:01:00",
        "2026-05-01 12:02:00",
        "2026-05-01 12:03:00",
        "2026-05-01 12:04:00",
    ]
    assert result["actorAfterTimeSort"] == [
        "alice@example.com",
        "alice@example.com",
        "carol@example.com",
        "bob@example.com",
    ]
    assert result["timeSortCleared"] is None

    # Filtering: every word, case-insensitively, in the row's text or the entry's fields.
    assert result["filters"] == {
        "alice": {"visible": 2, "status": "2 of 4 entries match"},
        "ALICE order": {"visible": 2, "status": "2 of 4 entries match"},
        "alert(1)": {"visible": 1, "status": "1 of 4 entries match"},
        "no-such-word": {"visible": 0, "status": "0 of 4 entries match"},
        "": {"visible": 4, "status": "4 entries"},
    }
    assert result["filteredObjects"] == ["Order 10"]

    # Markup in entries is text: the message's <img> in the table, the data's <script> in the
    # details panel; no such element exists anywhere but the page's script and the test's two.
    assert IMG_XSS in result["displayTexts"]
    assert result["detailsHiddenBefore"] is True
    assert result["detailsHidden"] is False
    assert result["detailsTitle"] == "Order 10 paid"
    assert result["selected"] == 1
    assert SCRIPT_XSS in result["detailsText"]
    data = [json.loads(text) for text in result["detailsPre"] if '"note"' in text]
    assert data == [{"amount": "10.50", "note": SCRIPT_XSS}]
    assert result["markupInTable"] == 0
    assert result["markupInDetails"] == 0
    assert result["scripts"] == 3
    assert result["images"] == 0
    assert result["onerror"] == 0
    assert result["detailsHiddenAfterEscape"] is True

    # The dumped DOM holds the markup escaped, never as elements.
    dom_body = done.stdout.split("<body>", 1)[-1]
    assert "<img" not in dom_body
    assert html.escape(IMG_XSS, quote=False) in dom_body
