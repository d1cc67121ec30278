"""The audit writer: every entry committed before its caller goes on, entries that arrive
together in one transaction, one bad entry failing alone, nothing lost at close."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, select

from api.auditlog import AuditWriter
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
