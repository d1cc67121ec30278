"""The audit log's writer: one thread, one connection, many entries per transaction.

Every request that names a person or a supplier is audited, and its answer goes out only
once the entry is committed. Written by each request's own thread, fifty concurrent
pre-award checks meant fifty threads contending for SQLite's write lock and the pool
opening (and configuring) a connection for each beyond its size: a third of a busy worker's
time. Here a request hands its entry to the writer and waits for the commit of the
transaction that holds it (group commit): entries that arrive while one transaction is
being written go together into the next. The promise is unchanged — committed before the
answer — at the cost of one transaction per batch instead of one per request.

One writer per process, started at the first entry (so a worker forked from a parent that
never wrote has its own).
"""

from __future__ import annotations

import logging
import queue
import threading
from concurrent.futures import Future
from typing import Any

from sqlalchemy import Engine, insert

from api.models import AuditEntry

log = logging.getLogger("integrity.api")

# the most entries one transaction takes
BATCH = 500
_STOP = object()


class AuditWriter:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def append(self, row: dict[str, Any]) -> Future[None]:
        """Queue one entry (AuditEntry's columns); the future is done once it is committed
        (or carries the error that kept it from being)."""
        done: Future[None] = Future()
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="audit", daemon=True)
                self._thread.start()
            self._queue.put((row, done))
        return done

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

    def _commit(self, batch: list[tuple[dict[str, Any], Future[None]]]) -> None:
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(AuditEntry), [row for row, _ in batch])
        except Exception as exc:
            if len(batch) > 1:  # one entry's fault must not fail the others: one by one
                for one in batch:
                    self._commit([one])
                return
            # the waiting request learns its entry was not written
            log.exception("an audit entry could not be written")
            batch[0][1].set_exception(exc)
            return
        for _, done in batch:
            done.set_result(None)
