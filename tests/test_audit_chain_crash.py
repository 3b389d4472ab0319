"""SIGKILL of several concurrent writers: every acknowledged entry survives, the chain verifies."""

from __future__ import annotations

import os
import random
import selectors
import signal
import time
from pathlib import Path

import pytest
from audit_helpers import integrity_check, spawn, sqlite_url

from structlogx.audit import open_store

pytestmark = [
    pytest.mark.skipif(not hasattr(os, "fork"), reason="POSIX only: SIGKILL"),
    pytest.mark.slow,
]

WRITER = """
url, name, strength = sys.argv[1], sys.argv[2], sys.argv[3]
handler, logger = audit_logger(url, strength=strength)
k = 0
while True:
    logger.info("w", extra={"action": "test.crash.write", "data": {"w": name, "k": k}})
    print(k, flush=True)  # acknowledged: emit returned, so the entry is committed
    k += 1
"""

ROUNDS = 20
WRITERS = 4


def test_killing_four_writers_at_random_moments_loses_nothing_acknowledged(
    tmp_path: Path,
) -> None:
    path = tmp_path / "audit.sqlite3"
    url = sqlite_url(path)
    open_store(url).close()
    acknowledged: set[tuple[str, int]] = set()
    rng = random.Random(20261201)
    for round_ in range(ROUNDS):
        strength = "crash" if round_ % 2 else "fsync"
        children = [spawn(WRITER, url, f"r{round_}w{n}", strength) for n in range(WRITERS)]
        selector = selectors.DefaultSelector()
        for n, child in enumerate(children):
            assert child.stdout is not None
            os.set_blocking(child.stdout.fileno(), False)
            selector.register(child.stdout, selectors.EVENT_READ, n)
        buffers = [""] * WRITERS
        deadline = time.monotonic() + rng.uniform(0.25, 0.5)  # interpreter start, then writes
        while time.monotonic() < deadline:
            for key, _ in selector.select(timeout=0.05):
                chunk = key.fileobj.read()  # type: ignore[union-attr]
                buffers[key.data] += chunk or ""
        for child in children:
            child.send_signal(signal.SIGKILL)
        for n, child in enumerate(children):
            rest, _ = child.communicate(timeout=10)
            buffers[n] += rest or ""
            assert child.returncode == -signal.SIGKILL, child.returncode
            complete = buffers[n].split("\n")[:-1]  # a last line without "\n" is not acked
            acknowledged.update((f"r{round_}w{n}", int(k)) for k in complete)
        selector.close()
        store = open_store(url)
        try:
            report = store.verify()
            assert report.ok, f"round {round_}: {report}"
            stored = {
                (entry.data["w"], entry.data["k"])
                for entry in store.query(limit=None, action="test.crash.write")
            }
        finally:
            store.close()
        missing = acknowledged - stored
        assert not missing, f"round {round_}: acknowledged but lost: {sorted(missing)[:5]}"
    assert integrity_check(path) == "ok"
    assert len(acknowledged) > ROUNDS * WRITERS  # the writers did write
