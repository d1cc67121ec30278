"""The audit log's writer: one thread, one connection, many entries per transaction.

Every request that names a person or a supplier is audited, and its answer goes out only
once the entry is committed. Written by each request's own thread, fifty concurrent
pre-award checks meant fifty threads contending for SQLite's write lock and the pool
opening (and configuring) a connection for each beyond its size: a third of a busy worker's
time. Here a request hands its entry to the writer and waits for the commit of the
transaction that holds it (group commit): entries that arrive while one transaction is
being written go together into the next. The promise is unchanged — committed before the
answer — at the cost of one transaction per batch instead of one per request. A request on
an event loop whose entry will be committed at once waits for it on the loop, a few
milliseconds at most (:func:`committed`), rather than behind every request that came
meanwhile.

One writer per process, started at the first entry (so a worker forked from a parent that
never wrote has its own). The writer keeps one connection for its life rather than taking
one from the pool per transaction (a checkout, and on PostgreSQL the pool's liveness ping,
cost more than the insert: 300 against 110 µs a transaction on SQLite); a transaction that
fails drops that connection, and the entries are retried one by one on a new one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import queue
import threading
import time
from concurrent.futures import Future
from typing import Any

from sqlalchemy import Connection, Engine, insert

from api.models import AuditEntry

log = logging.getLogger("integrity.api")

# the most entries one transaction takes
BATCH = 500
# the longest a request holds up its event loop for its own entry's commit (see committed)
QUICK_COMMIT_SECONDS = 0.005
# ... and only where the writer's last transaction took less than this: a database a
# network away, whose commit takes longer, is awaited (it would hold up the loop each time)
SOON_SECONDS = 0.001
_STOP = object()


class AuditWriter:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._conn: Connection | None = None  # the writer thread's, see _connection
        self._conn_pid = 0
        self._insert = insert(AuditEntry)
        self._pending = 0  # entries handed over and not yet settled (committed or failed)
        self._last_seconds = 0.0  # how long the last transaction took

    def append(self, row: dict[str, Any]) -> Future[None]:
        """Queue one entry (AuditEntry's columns); the future is done once it is committed
        (or carries the error that kept it from being)."""
        return self.submit(row)[0]

    def submit(self, row: dict[str, Any]) -> tuple[Future[None], bool]:
        """:meth:`append`, and whether its commit is a fraction of a millisecond away: the
        writer has nothing else to write, and its last transaction took less than
        SOON_SECONDS."""
        done: Future[None] = Future()
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="audit", daemon=True)
                self._thread.start()
            soon = self._pending == 0 and self._last_seconds < SOON_SECONDS
            self._pending += 1
            self._queue.put((row, done))
        return done, soon

    def _settled(self, count: int, seconds: float) -> None:
        with self._lock:
            self._pending -= count
            self._last_seconds = seconds

    def write(self, row: dict[str, Any]) -> None:
        """Append one entry and wait for its commit."""
        self.append(row).result()

    def close(self) -> None:
        """Write what is queued, then stop the thread."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None and thread.is_alive():
            self._queue.put(_STOP)
            thread.join(timeout=30)

    def _run(self) -> None:
        try:
            self._serve()
        finally:
            self._drop()

    def _serve(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            batch = [item]
            stop = False
            while len(batch) < BATCH:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is _STOP:
                    stop = True
                    break
                batch.append(more)
            self._commit(batch)
            if stop:
                return

    def _connection(self) -> Connection:
        """The writer thread's own connection, opened when first needed — and in a worker
        forked from a process that wrote, opened anew: the parent's copy is left untouched
        (closing it here would end the parent's session on PostgreSQL)."""
        if self._conn is not None and self._conn_pid != os.getpid():
            self._conn = None
        if self._conn is None:
            self._conn = self.engine.connect()
            self._conn_pid = os.getpid()
        return self._conn

    def _drop(self, broken: bool = False) -> None:
        """Close the connection (at the end, or ``broken`` after a failed transaction: the
        next transaction opens a new one). A forked worker's copy of its parent's is only
        forgotten."""
        conn, self._conn = self._conn, None
        if conn is None or self._conn_pid != os.getpid():
            return
        try:
            if broken:
                conn.invalidate()
            conn.close()
        except Exception:  # a connection already broken: nothing left to close
            log.debug("closing the audit writer's connection failed", exc_info=True)

    def _commit(self, batch: list[tuple[dict[str, Any], Future[None]]]) -> None:
        began = time.perf_counter()
        try:
            conn = self._connection()
            began = time.perf_counter()  # the transaction's time, not the connection's
            with conn.begin():
                conn.execute(self._insert, [row for row, _ in batch])
        except Exception as exc:
            self._drop(broken=True)
            if len(batch) > 1:  # one entry's fault must not fail the others: one by one
                for one in batch:
                    self._commit([one])
                return
            # the waiting request learns its entry was not written
            log.exception("an audit entry could not be written")
            self._settled(1, time.perf_counter() - began)
            batch[0][1].set_exception(exc)
            return
        self._settled(len(batch), time.perf_counter() - began)
        for _, done in batch:
            done.set_result(None)


async def committed(done: Future[None], soon: bool) -> None:
    """Until the entry behind ``done`` is committed (:meth:`AuditWriter.submit`'s future and
    flag), for a request on an event loop; raises what kept it from being.

    An entry committed ``soon`` is waited for on the loop itself, up to QUICK_COMMIT_SECONDS:
    awaited, the request would go back to the end of the loop's queue, behind every request
    that came meanwhile (the audit wait was half of a pre-award check's p99 in the service at
    200 checks a second). A writer with others queued is awaited (their entries go together
    into one transaction), as is a database whose last commit was slower (one a network
    away), and an entry the database does not take that fast after all (SQLite's write lock
    held by a screening storing its findings): the loop is held up QUICK_COMMIT_SECONDS at
    most, never for the database."""
    if soon:
        with contextlib.suppress(TimeoutError):
            done.result(timeout=QUICK_COMMIT_SECONDS)
            return
    await asyncio.wrap_future(done)
