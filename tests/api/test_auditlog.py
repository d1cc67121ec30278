"""The audit writer: every entry committed before its caller goes on, entries that arrive
together in one transaction, one bad entry failing alone, nothing lost at close; a request
waiting for its entry holds up its event loop for a moment at most."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, select

from api import auditlog
from api.auditlog import AuditWriter, committed
from api.db import make_engine, migrate
from api.models import AuditEntry, now


def _row(i: int, **extra: Any) -> dict[str, Any]:
    return {
        "at": now(),
        "token_id": None,
        "actor": f"reviewer {i}",
        "role": "reviewer",
        "method": "POST",
        "path": "/check",
        "subject": {"supplier": {"name": f"公司{i}"}},
        "outcome": 200,
    } | extra


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    migrate(engine)
    yield engine
    engine.dispose()


def _count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(AuditEntry)).scalar_one())


def test_each_entry_is_committed_when_write_returns(engine: Engine) -> None:
    writer = AuditWriter(engine)
    for i in range(3):
        writer.write(_row(i))
        assert _count(engine) == i + 1
    writer.close()


def test_concurrent_entries_share_transactions(engine: Engine) -> None:
    commits = []
    event.listen(engine, "commit", lambda conn: commits.append(1))
    writer = AuditWriter(engine)
    gate = threading.Barrier(40)

    def one(i: int) -> None:
        gate.wait()
        writer.write(_row(i))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    writer.close()
    assert _count(engine) == 40
    assert len(commits) < 40  # grouped: fewer transactions than entries


def test_a_bad_entry_fails_alone(engine: Engine) -> None:
    writer = AuditWriter(engine)
    good = [writer.append(_row(i)) for i in range(5)]
    bad = writer.append(_row(99, actor=None))  # NOT NULL: refused by either database
    more = [writer.append(_row(i)) for i in range(5, 10)]
    for f in good + more:
        assert f.result(timeout=30) is None
    with pytest.raises(Exception):  # noqa: B017 - the driver's own error
        bad.result(timeout=30)
    writer.close()
    assert _count(engine) == 10


def test_close_writes_what_is_queued_and_a_later_entry_starts_a_new_writer(engine: Engine) -> None:
    writer = AuditWriter(engine)
    pending = [writer.append(_row(i)) for i in range(20)]
    writer.close()
    assert all(f.done() and f.exception() is None for f in pending)
    assert _count(engine) == 20
    writer.write(_row(21))
    writer.close()
    assert _count(engine) == 21


def test_one_connection_for_many_transactions(engine: Engine) -> None:
    """The writer keeps its connection: a pool checkout per transaction (and PostgreSQL's
    liveness ping with it) cost more than the insert."""
    checkouts = []
    event.listen(engine, "checkout", lambda *_: checkouts.append(1))
    writer = AuditWriter(engine)
    for i in range(5):
        writer.write(_row(i))  # one transaction each: write waits for its commit
    writer.close()
    assert len(checkouts) == 1
    assert _count(engine) == 5


def test_a_lost_connection_loses_no_entry(engine: Engine) -> None:
    """The connection gone under the writer (a database restarted, a network cut): the
    transaction fails, the connection is dropped, and the entries are written on a new one."""
    writer = AuditWriter(engine)
    writer.write(_row(0))
    first = writer._conn
    assert first is not None
    # the driver's connection closed under the writer, as a dead server leaves it
    dbapi = first.connection.dbapi_connection
    assert dbapi is not None
    dbapi.close()
    pending = [writer.append(_row(i)) for i in range(1, 6)]
    assert all(f.result(timeout=30) is None for f in pending)
    assert writer._conn is not None and writer._conn is not first  # a new one
    writer.close()
    assert writer._conn is None  # closed with the writer
    assert _count(engine) == 6


def test_the_writer_says_whether_an_entry_will_be_committed_soon(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Soon: nothing else handed over and not yet settled (a failed entry is settled too, or
    the writer would look busy for ever after), and the last transaction was quick (a
    database a network away is not waited for on the loop). "Quick" made long here, and a
    slow commit longer still: a loaded machine's commit is not what is tested."""
    monkeypatch.setattr(auditlog, "SOON_SECONDS", 0.3)
    writer = AuditWriter(engine)
    gate = threading.Event()
    commit = writer._commit

    def gated(batch: list[Any]) -> None:
        assert gate.wait(30)
        commit(batch)

    writer._commit = gated  # type: ignore[method-assign]
    first, soon = writer.submit(_row(0))
    assert soon
    second, soon = writer.submit(_row(1))
    assert not soon  # the first is not committed yet
    gate.set()
    assert first.result(timeout=30) is None and second.result(timeout=30) is None
    bad, soon = writer.submit(_row(9, actor=None))
    assert soon
    with pytest.raises(Exception):  # noqa: B017 - the driver's own error
        bad.result(timeout=30)
    last, soon = writer.submit(_row(2))
    assert soon
    assert last.result(timeout=30) is None

    def slow(_conn: Any) -> None:
        time.sleep(1.5 * auditlog.SOON_SECONDS)

    event.listen(engine, "commit", slow)
    writer.write(_row(3))
    slowed, soon = writer.submit(_row(4))
    assert not soon  # the last commit was slow
    assert slowed.result(timeout=30) is None
    event.remove(engine, "commit", slow)
    writer.write(_row(5))
    _, soon = writer.submit(_row(6))
    assert soon
    writer.close()
    assert _count(engine) == 7


def test_an_entry_committed_soon_is_waited_for_without_giving_up_the_loop(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Committed before the request goes on, and the loop not handed to what is queued
    behind it meanwhile (the time allowed made long: the order is what is tested here)."""
    monkeypatch.setattr(auditlog, "QUICK_COMMIT_SECONDS", 30.0)
    monkeypatch.setattr(auditlog, "SOON_SECONDS", 30.0)
    writer = AuditWriter(engine)
    writer.write(_row(0))

    async def one() -> tuple[list[int], int]:
        ran: list[int] = []
        asyncio.get_running_loop().call_soon(ran.append, 1)  # queued behind the request
        await committed(*writer.submit(_row(1)))
        return list(ran), _count(engine)  # as it stood when the request went on

    assert asyncio.run(one()) == ([], 2)
    writer.close()


def test_a_locked_database_holds_up_the_request_not_the_loop(tmp_path: Path) -> None:
    """SQLite's write lock held elsewhere (a screening storing its findings): the request
    waits for its entry, the loop serves the others meanwhile."""
    engine = make_engine(f"sqlite:///{tmp_path / 'audit.db'}")
    migrate(engine)
    writer = AuditWriter(engine)
    writer.write(_row(0))
    locker = sqlite3.connect(tmp_path / "audit.db", isolation_level=None)
    locker.execute("BEGIN IMMEDIATE")

    async def one() -> tuple[float, float]:
        gaps: list[float] = []

        async def tick() -> None:
            last = time.perf_counter()
            while True:
                await asyncio.sleep(0.005)
                gaps.append(time.perf_counter() - last)
                last = time.perf_counter()

        ticker = asyncio.create_task(tick())
        await asyncio.sleep(0.02)
        asyncio.get_running_loop().call_later(1.0, locker.execute, "COMMIT")
        began = time.perf_counter()
        await committed(*writer.submit(_row(1)))
        waited = time.perf_counter() - began
        ticker.cancel()
        return waited, max(gaps)

    waited, gap = asyncio.run(one())
    locker.close()
    writer.close()
    assert waited >= 0.9  # committed only once the lock was released
    assert gap < 0.5  # the loop was held up for a moment at most, not for the lock
    assert _count(engine) == 2
    engine.dispose()
