"""The documentation's examples run as tests: every page opts in, every skipped block says so.

Which pages run
    :data:`RUN` lists the pages whose ```python blocks run, each with its mode:

    ``"script"``
        each block is a standalone script: it runs in a fresh namespace (a module named
        ``__main__``) and a fresh temporary directory, with logging, ``structlogx.conf.settings``
        and the display registry reset before it, as ``python example.py`` would see them.
    ``"session"``
        the page is one story (the tutorial): its blocks run in order in ONE shared namespace
        and ONE temporary directory, the logging setup of one block staying in force for the
        next, as if typed into one interpreter. Its ```console blocks run too: each
        ``$ structlogx ...`` line calls :func:`structlogx.cli.main` in-process and must print
        the lines that follow it.

    ``docs/audit.md`` and ``docs/notifications.md`` are run by ``test_audit_docs.py`` and
    ``test_notification_docs.py`` (:data:`ELSEWHERE`). A page with ```python blocks that is in
    neither list fails :func:`test_every_page_with_examples_is_covered`: pages opt in, explicitly.

Which blocks are skipped
    An HTML comment on the line right before the fence (MyST passes it to the HTML as a
    comment, which no browser shows):

    ``<!-- not run: reason -->``
        an illustrative block: a Django settings fragment, a ``LOGGING`` fragment that needs a
        project, a block that needs the network or a server.
    ``<!-- python >= 3.12 -->`` (also ``<``, ``!=``)
        the block runs only on the Python versions named (it is skipped on the others).

What is compared
    When a ```text (or ```json) block follows a python block, with only blank lines between,
    the block's standard output must be that text once both are normalised: timestamps, the
    file names in tracebacks and the ``~~^^`` lines Python 3.11+ adds under traceback lines
    change from run to run or version to version (:func:`normalise`).

Everything runs in-process (fast); after each block (script) or page (session), the handlers
added by the example are flushed and closed, loggers get their level, handlers, filters and
propagation back, and the settings and display texts are restored, so nothing leaks into
later tests.
"""

from __future__ import annotations

import contextlib
import io
import logging
import re
import shlex
import sys
import types
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from structlogx import cli, display
from structlogx.audit import store as audit_store
from structlogx.conf import settings

DOCS = Path(__file__).resolve().parent.parent / "docs"

RUN: dict[str, str] = {
    "index.md": "script",
    "tutorial.md": "session",
    "quickstart.md": "script",
    "records.md": "script",
    "formatters.md": "script",
    "context.md": "script",
    "filters.md": "script",
    "settings.md": "script",
    "configuring.md": "script",
    "admin-email.md": "script",
    "mail.md": "script",
    "error-reports.md": "script",
    "web.md": "script",
    "django.md": "script",
    "production.md": "script",
}
ELSEWHERE = {"audit.md", "notifications.md"}

FENCE = re.compile(r"^```(\w+)[^\n]*\n(.*?)^```[ \t]*$", re.S | re.M)
MARKER = re.compile(r"<!--\s*(.*?)\s*-->\s*\n$")
NOT_RUN = re.compile(r"not run\b")
VERSION = re.compile(r"python\s*(>=|<|!=)\s*(\d+)\.(\d+)$")


@dataclass
class Block:
    """One fenced block of a page."""

    lang: str
    code: str
    line: int  # 1-based line of the opening fence
    marker: str  # the HTML comment on the line before the fence, or ""
    expected: str | None = None  # the ```text/```json block that follows a python block


def blocks(page: str) -> list[Block]:
    """Return the ```python and ```console blocks of *page*, each with its expected output."""
    text = (DOCS / page).read_text(encoding="utf-8")
    found: list[Block] = []
    matches = list(FENCE.finditer(text))
    for index, match in enumerate(matches):
        lang = match.group(1)
        if lang not in ("python", "console"):
            continue
        before = text[: match.start()]
        marker = MARKER.search(before)
        block = Block(
            lang, match.group(2), before.count("\n") + 1, marker.group(1) if marker else ""
        )
        if lang == "python" and index + 1 < len(matches):
            following = matches[index + 1]
            between = text[match.end() : following.start()]
            if following.group(1) in ("text", "json") and not between.strip():
                block.expected = following.group(2)
        found.append(block)
    return found


TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:\d\d)?")
NUMBERS = re.compile(r'("(?:[\w.]*pid|process|[\w.]*thread\.id|Timestamp)":)"?\d+"?')
APP_PATH = re.compile(r'/[^"\s]*/app\.py')
TRACEBACK_FILE = re.compile(r'File \\?"[^"\\]*\\?"')
CARETS_ESCAPED = re.compile(r"\\n *[~^]+ *(?=\\n)")
CARETS = re.compile(r"^ *[~^]+ *\n", re.M)
MAIL_FILE = re.compile(r"\d{8}-\d{6}-\d{6}-[0-9a-f]{32}\.eml")


def normalise(text: str) -> str:
    """Blank out what changes between runs: times, process and thread ids, file paths, the
    caret lines of Python 3.11+ tracebacks."""
    text = TIMESTAMP.sub("<time>", text)
    text = MAIL_FILE.sub("<mail>.eml", text)
    text = NUMBERS.sub(r"\1<n>", text)
    text = APP_PATH.sub("app.py", text)
    text = TRACEBACK_FILE.sub('File "<file>"', text)
    text = CARETS_ESCAPED.sub("", text)
    text = CARETS.sub("", text)
    return text.rstrip("\n") + "\n"


@contextlib.contextmanager
def restored_logging() -> Iterator[None]:
    """Undo what an example does to logging, settings, display texts and the default store."""
    manager = logging.Logger.manager
    root = logging.getLogger()
    saved_root = (root.level, list(root.handlers), list(root.filters))
    saved_loggers = {
        name: (
            logger.level,
            list(logger.handlers),
            list(logger.filters),
            logger.propagate,
            logger.disabled,
        )
        for name, logger in manager.loggerDict.items()
        if isinstance(logger, logging.Logger)
    }
    saved_handlers = set(logging._handlerList)  # type: ignore[attr-defined]
    saved_disable = manager.disable
    saved_layers, saved_source = settings._state.layers, settings._state.source_get
    saved_texts = dict(display.default_registry._texts)
    saved_store = list(audit_store._default)
    try:
        yield
    finally:
        for ref in list(logging._handlerList):  # type: ignore[attr-defined]
            handler = ref()
            if handler is None or ref in saved_handlers:
                continue
            with contextlib.suppress(Exception):
                handler.flush()
            with contextlib.suppress(Exception):
                handler.close()
        root.setLevel(saved_root[0])
        root.handlers[:], root.filters[:] = saved_root[1], saved_root[2]
        for name, logger in list(manager.loggerDict.items()):
            if not isinstance(logger, logging.Logger):
                continue
            level, handlers, filters, propagate, disabled = saved_loggers.get(
                name, (logging.NOTSET, [], [], True, False)
            )
            logger.setLevel(level)
            logger.handlers[:], logger.filters[:] = handlers, filters
            logger.propagate, logger.disabled = propagate, disabled
        logging.disable(saved_disable)
        with settings._state.lock:
            settings._state.layers = saved_layers
        settings._state.source_get = saved_source
        with display.default_registry._lock:
            display.default_registry._texts = saved_texts
        with audit_store._default_lock:
            audit_store._default[:] = saved_store


def run_python(
    block: Block, namespace: dict[str, object], page: str, out: io.StringIO, session: bool
) -> str:
    """Run one python block in *namespace*; return what it printed."""
    start = out.tell()
    # A file, so that tracebacks show the source; ``app.py`` as in the docs' output, except
    # in a session, where a function of one block may raise in a later one.
    name = f"{Path(page).stem}-line{block.line}.py" if session else "app.py"
    filename = str(Path.cwd() / name)
    Path(filename).write_text(block.code, encoding="utf-8")  # tracebacks show the source
    with contextlib.redirect_stdout(out):
        try:
            exec(compile(block.code, filename, "exec"), namespace)
        except SystemExit as exc:
            if exc.code not in (None, 0):
                raise AssertionError(f"{page}:{block.line}: exit {exc.code}") from exc
        except Exception as exc:
            raise AssertionError(f"{page}:{block.line}: the block raised {exc!r}") from exc
        finally:
            sys.stdout.flush()
    return out.getvalue()[start:]


def run_console(block: Block, page: str) -> None:
    """Run each ``$ structlogx ...`` line of a console block; check the lines after it."""
    commands: list[tuple[str, list[str]]] = []
    for line in block.code.splitlines():
        if line.startswith("$ "):
            commands.append((line[2:], []))
        elif commands:
            commands[-1][1].append(line)
    for command, expected in commands:
        argv = shlex.split(command)
        if argv[0] != "structlogx":
            continue  # pip install and the like: shown, not run
        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            status = cli.main(argv[1:])
        where = f"{page}:{block.line}: $ {command}"
        assert normalise(out.getvalue()) == normalise("\n".join(expected)), where
        assert status in (0, 1), f"{where}: exit status {status}"


def check_block(
    block: Block, namespace: dict[str, object], page: str, out: io.StringIO, session: bool
) -> None:
    if block.lang == "console":
        run_console(block, page)
        return
    printed = run_python(block, namespace, page, out, session)
    if block.expected is not None:
        where = f"{page}:{block.line}: the output differs from the text block after it"
        assert normalise(printed) == normalise(block.expected), where


def runnable(block: Block, mode: str) -> bool:
    if NOT_RUN.match(block.marker):
        return False
    if block.lang == "console":
        return mode == "session"
    version = VERSION.match(block.marker)
    if version is None:
        return True
    running, wanted = sys.version_info[:2], (int(version[2]), int(version[3]))
    return {">=": running >= wanted, "<": running < wanted, "!=": running != wanted}[version[1]]


def pages_with_examples() -> list[str]:
    return sorted(path.name for path in DOCS.glob("*.md") if "```python" in path.read_text("utf-8"))


def test_every_page_with_examples_is_covered() -> None:
    missing = [page for page in pages_with_examples() if page not in {*RUN, *ELSEWHERE}]
    assert missing == [], "add these pages to RUN (or ELSEWHERE)"
    assert not set(RUN) & ELSEWHERE


@pytest.mark.parametrize("page", sorted(RUN))
def test_page_examples_run_as_shown(
    page: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert (DOCS / page).exists(), f"docs/{page} is listed in RUN but does not exist"
    mode = RUN[page]
    todo = [block for block in blocks(page) if runnable(block, mode)]
    if not todo:
        pytest.skip(f"{page}: every block is marked not run")
    for name in ("STRUCTLOGX_AUDIT_STORE", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)
    out = io.StringIO()
    if mode == "session":
        module = types.ModuleType("__main__")
        monkeypatch.setitem(sys.modules, "__main__", module)
        monkeypatch.chdir(tmp_path)
        with restored_logging():
            for block in todo:
                check_block(block, module.__dict__, page, out, session=True)
        return
    for block in todo:
        directory = tmp_path / f"line{block.line}"
        directory.mkdir()
        monkeypatch.chdir(directory)
        module = types.ModuleType("__main__")
        monkeypatch.setitem(sys.modules, "__main__", module)
        with restored_logging():
            check_block(block, module.__dict__, page, out, session=False)
