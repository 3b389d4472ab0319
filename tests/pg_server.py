"""A real, throwaway PostgreSQL server for tests: ``initdb`` into a temporary directory.

``tests/conftest.py`` registers this module with ``pytest_plugins``, so every test module can
request the fixtures by name:

- ``postgres_server`` (session): the running server (:class:`PostgresServer`): its DSN, the
  directory of its binaries (for ``pg_dump``), ``create_database()``;
- ``postgres_dsn`` (session): the DSN of a database created for the session;
- ``pg_store_url`` (function): the URL of a fresh, empty schema for one test (the
  session database's, as the connection's ``search_path``).

The server is found on ``PATH`` or under ``/usr/lib/postgresql/*/bin`` (the newest); without
it the tests that ask for it skip with a message naming PostgreSQL (under ``CI=true``,
``tests/conftest.py`` turns that skip into a failure, and ``.ci/run`` installs the server).

PostgreSQL refuses to run as root: when the tests run as root, ``initdb`` and ``pg_ctl`` run
as the ``postgres`` system user (``runuser -u postgres --``, or ``su``), which owns the
temporary directory. The server listens on 127.0.0.1 on a free port, keeps its socket inside
the temporary directory, trusts local connections, and keeps the default durability settings
(``fsync`` on: the durability tests mean it). It is stopped (``pg_ctl stop -m fast``) and its
directory removed when the session ends.
"""

from __future__ import annotations

import contextlib
import dataclasses
import glob
import itertools
import os
import shlex
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator

import pytest

__all__ = [
    "PostgresServer",
    "find_bindir",
    "pg_store_url",
    "postgres_dsn",
    "postgres_server",
    "running_postgres_server",
]

HOST = "127.0.0.1"
SUPERUSER = "postgres"
RUN_AS = "postgres"  # the system user the server runs as when the tests run as root
_NAMES = itertools.count(1)


def find_bindir() -> str | None:
    """Return the directory holding ``initdb``, ``pg_ctl`` and ``postgres``, or ``None``."""
    candidates = []
    initdb = shutil.which("initdb")
    if initdb is not None:
        candidates.append(os.path.dirname(os.path.realpath(initdb)))
    versions = glob.glob("/usr/lib/postgresql/*/bin")
    versions.sort(key=lambda path: _version_key(path.split("/")[-2]), reverse=True)
    candidates += versions
    for directory in candidates:
        if all(os.access(os.path.join(directory, name), os.X_OK) for name in _NEEDED):
            return directory
    return None


_NEEDED = ("initdb", "pg_ctl", "postgres")


def _version_key(text: str) -> tuple[int, ...]:
    return tuple(int(part) if part.isdigit() else 0 for part in text.split("."))


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@dataclasses.dataclass
class PostgresServer:
    """One running throwaway server."""

    bindir: str
    directory: str
    port: int
    run_as: str | None  # the system user it runs as, when the tests run as root

    @property
    def datadir(self) -> str:
        return os.path.join(self.directory, "data")

    @property
    def logfile(self) -> str:
        return os.path.join(self.directory, "server.log")

    def dsn(self, database: str = "postgres") -> str:
        """Return the ``postgresql://`` URL of *database* on this server."""
        return f"postgresql://{SUPERUSER}@{HOST}:{self.port}/{database}"

    def tool(self, name: str) -> str:
        """Return the path of a client program (``pg_dump``, ``psql``) of this server."""
        path = os.path.join(self.bindir, name)
        return path if os.access(path, os.X_OK) else (shutil.which(name) or path)

    def command(self, *args: str) -> list[str]:
        """Return *args* as a command line run as the server's user."""
        if self.run_as is None:
            return list(args)
        if shutil.which("runuser"):
            return ["runuser", "-u", self.run_as, "--", *args]
        return ["su", self.run_as, "-s", "/bin/sh", "-c", shlex.join(args)]

    def run(self, *args: str, timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
        """Run a server program as the server's user; raise with its output if it fails."""
        result = subprocess.run(
            self.command(*args),
            cwd=self.directory,  # as root, the cwd may be one the server's user cannot enter
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"{shlex.join(args)} failed ({result.returncode}):\n{result.stdout}{result.stderr}"
                + self.log_tail()
            )
        return result

    def log_tail(self) -> str:
        try:
            with open(self.logfile, encoding="utf-8", errors="replace") as stream:
                return "\n--- server log:\n" + stream.read()[-4000:]
        except OSError:
            return ""

    def start(self) -> None:
        options = f"-c listen_addresses={HOST} -p {self.port} -k {self.directory}"
        self.run(
            os.path.join(self.bindir, "pg_ctl"),
            "start",
            "-w",
            "-t",
            "60",
            "-D",
            self.datadir,
            "-l",
            self.logfile,
            "-o",
            options,
        )

    def stop(self) -> None:
        self.run(
            os.path.join(self.bindir, "pg_ctl"), "stop", "-w", "-m", "fast", "-D", self.datadir
        )

    def execute(self, sql: str, database: str = "postgres", dsn: str | None = None) -> None:
        """Run one statement outside a transaction (``CREATE DATABASE`` needs that)."""
        import psycopg

        with psycopg.connect(dsn or self.dsn(database), autocommit=True) as connection:
            connection.execute(sql.encode("utf-8"))

    def create_schema(self, dsn: str, prefix: str = "t") -> str:
        """Create an empty schema in the database at *dsn*; return a DSN that uses it."""
        name = f"{prefix}_{os.getpid()}_{next(_NAMES)}_{uuid.uuid4().hex[:6]}"
        self.execute(f'CREATE SCHEMA "{name}"', dsn=dsn)
        return f"{dsn}?options=-csearch_path%3D{name}"

    def create_database(self, prefix: str = "t") -> str:
        """Create an empty database and return its DSN."""
        name = f"{prefix}_{os.getpid()}_{next(_NAMES)}_{uuid.uuid4().hex[:6]}"
        self.execute(f'CREATE DATABASE "{name}" TEMPLATE structlogx_template')
        return self.dsn(name)


def _psycopg_or_skip() -> None:
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.skip("psycopg is not installed: the PostgreSQL tests need structlogx[postgres]")


@contextlib.contextmanager
def running_postgres_server() -> Iterator[PostgresServer]:
    """Start a throwaway server (see the module docs), yield it, stop and remove it."""
    bindir = find_bindir()
    if bindir is None:
        pytest.skip(
            "PostgreSQL server binaries not found (initdb, pg_ctl, postgres on PATH or under "
            "/usr/lib/postgresql/*/bin): install the postgresql package to run these tests"
        )
    _psycopg_or_skip()
    run_as = None
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        try:
            import pwd

            account = pwd.getpwnam(RUN_AS)
        except KeyError:
            pytest.skip(f"PostgreSQL refuses to run as root and there is no {RUN_AS!r} user")
        run_as = RUN_AS
    base = tempfile.gettempdir()
    if run_as is not None and not _traversable(base):
        base = "/tmp"  # the server's user must reach its directory
    directory = tempfile.mkdtemp(prefix="structlogx-pg-", dir=base)
    if run_as is not None:
        os.chown(directory, account.pw_uid, account.pw_gid)
    os.chmod(directory, 0o755)
    server = PostgresServer(bindir, directory, _free_port(), run_as)
    started = False
    try:
        server.run(
            os.path.join(bindir, "initdb"),
            "-D",
            server.datadir,
            "-U",
            SUPERUSER,
            "--auth=trust",
            "--encoding=UTF8",
            "--no-locale",
            "--no-sync",  # initdb's own files; the server keeps fsync on
        )
        for attempt in range(3):  # the free port may be taken before the server binds it
            try:
                server.start()
                break
            except RuntimeError:
                if attempt == 2:
                    raise
                server.port = _free_port()
        started = True
        _create_template(server)
        yield server
    finally:
        if started:
            with contextlib.suppress(Exception):
                server.stop()
        shutil.rmtree(directory, ignore_errors=True)


def _create_template(server: PostgresServer) -> None:
    """Create the template of the test databases: ICU collation where the server has it.

    A collation other than "C" is what production databases usually have; the store must not
    depend on bytewise ordering of text (its action prefix ranges use ``COLLATE "C"``).
    """
    try:
        server.execute(
            "CREATE DATABASE structlogx_template TEMPLATE template0 ENCODING 'UTF8' "
            "LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C'"
        )
    except Exception:  # no ICU, or a server before 15
        server.execute("CREATE DATABASE structlogx_template TEMPLATE template0 ENCODING 'UTF8'")


def _traversable(path: str) -> bool:
    path = os.path.abspath(path)
    while True:
        if not os.stat(path).st_mode & 0o001:
            return False
        parent = os.path.dirname(path)
        if parent == path:
            return True
        path = parent


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """The session's throwaway PostgreSQL server (skips when there is none)."""
    with running_postgres_server() as server:
        yield server


@pytest.fixture(scope="session")
def postgres_dsn(postgres_server: PostgresServer) -> str:
    """The DSN of a database created for the session."""
    return postgres_server.create_database("session")


@pytest.fixture
def pg_store_url(postgres_server: PostgresServer, postgres_dsn: str) -> str:
    """The ``postgresql://`` URL of a fresh, empty schema for one test.

    A schema of the session's database, made the connection's ``search_path`` through the
    URL's ``options`` (a schema costs milliseconds, a database a quarter of a second).
    """
    return postgres_server.create_schema(postgres_dsn)
