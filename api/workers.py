"""Several HTTP workers answering from one check index (``integrity serve --workers N``).

A city's check index is over a gigabyte of frames, and reading it takes a process about ten
seconds. uvicorn's own workers each start a fresh interpreter that reads (or builds) a copy
of its own: N workers, N copies, N waits. Here the parent process reads the latest
screening's index once, freezes its objects out of the cyclic collector, and forks the
workers onto one listening socket: they share the index's pages (copy-on-write: a page is
copied only where a worker writes to it, as reading an object's reference count does), and
a worker that dies is forked again from the same parent, ready at once.

When a newer screening finishes (in whichever worker ran it, which answers from it at once),
the parent reads that screening's index (the file the worker kept) and replaces the
workers: the new generation is forked first, then the old one stopped gracefully (requests
in flight are answered). It waits while any screening is queued or running, as stopping a
worker would end the screening it runs. Until then the other workers answer from the
previous screening's index, and ``GET /health`` says which.

The parent serves no request and holds no database connection across a fork.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import time
from types import FrameType

from api.app import create_app
from api.service import Service
from api.settings import Settings

log = logging.getLogger("integrity.api")

# the index source a forked worker reports (GET /health)
SHARED = "shared"
# how often the parent looks for workers that ended
REAP_SECONDS = 0.2
# how long a stopped worker may take to answer what it holds before it is killed
STOP_SECONDS = 30.0
# a worker that ends within this many seconds of its start is counted as failing to start;
# after STARTS_FAILED such ends in a row the parent gives up (a broken install, not a crash)
EARLY_SECONDS = 5.0
STARTS_FAILED = 5


def listen(host: str, port: int) -> socket.socket:
    """The socket every worker accepts on, bound before any is forked."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


class Workers:
    """The parent of ``count`` uvicorn workers sharing one check index."""

    def __init__(
        self, settings: Settings, *, host: str, port: int, count: int, log_level: str
    ) -> None:
        self.settings = settings
        self.host, self.port = host, port
        self.count = count
        self.log_level = log_level
        # the parent's own service: it reads the database and the kept index file
        self.service = Service(settings)
        self.started: dict[int, float] = {}  # worker pid -> when it was forked
        self.failed_starts = 0
        self.stopping = False
        self.sock: socket.socket | None = None

    # ------------------------------------------------------------------ the index
    @property
    def screening_id(self) -> str | None:
        index = self.service.index
        return None if index is None else index.screening_id

    def load(self) -> None:
        """The latest screening's index into this process (its kept file, or built from
        stored state), frozen out of the collector (Service._swap_index)."""
        self.service.load_latest_index()
        if self.service.index is not None:
            log.info(
                "check index of screening %s ready for the workers (%s)",
                self.screening_id,
                self.service.index_source,
            )

    def newer(self) -> bool:
        """Has a newer screening finished, with none queued or running now?"""
        latest = self.service.latest_screening_id()
        if latest is None or latest == self.screening_id:
            return False
        return self.service.screenings_pending() == 0

    # ------------------------------------------------------------------ workers
    def fork(self) -> int:
        """One worker, answering from the index this process holds."""
        assert self.sock is not None
        self.service.engine.dispose()  # no database connection shared across the fork
        pid = os.fork()
        if pid:
            self.started[pid] = time.monotonic()
            return pid
        code = 1
        try:
            import uvicorn  # noqa: PLC0415 - the parent never serves

            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            index = self.service.index
            app = create_app(
                self.settings,
                load_index=False,
                shared_index=(index, SHARED if index is not None else None),
            )
            config = uvicorn.Config(app, log_level=self.log_level)
            uvicorn.Server(config).run(sockets=[self.sock])
            code = 0
        except BaseException:
            log.exception("worker %d failed", os.getpid())
        finally:
            os._exit(code)

    def reap(self) -> None:
        """Workers that ended: each replaced (unless stopping), a failing start counted."""
        while self.started:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            began = self.started.pop(pid, None)
            if began is None or self.stopping:
                continue
            log.warning("worker %d ended (status %d): forked again", pid, status)
            self.failed_starts = (
                self.failed_starts + 1 if time.monotonic() - began < EARLY_SECONDS else 0
            )
            if self.failed_starts >= STARTS_FAILED:
                log.error("workers end as they start: stopping")
                self.stopping = True
                return
            self.fork()

    def stop(self, pids: list[int]) -> None:
        """SIGTERM (uvicorn answers what it holds, then exits), SIGKILL after STOP_SECONDS."""
        for pid in pids:
            self._signal(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_SECONDS
        waiting = set(pids)
        while waiting and time.monotonic() < deadline:
            for pid in list(waiting):
                try:
                    done, _ = os.waitpid(pid, os.WNOHANG)
                except ChildProcessError:
                    done = pid
                if done:
                    waiting.discard(pid)
                    self.started.pop(pid, None)
            time.sleep(0.05)
        for pid in waiting:
            log.warning("worker %d did not stop in %.0f s: killed", pid, STOP_SECONDS)
            self._signal(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            self.started.pop(pid, None)

    @staticmethod
    def _signal(pid: int, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)

    def roll(self) -> None:
        """A new generation on the newer screening's index, then the old one stopped."""
        old = list(self.started)
        self.load()
        for _ in range(self.count):
            self.fork()
        self.stop(old)

    # ------------------------------------------------------------------ the parent
    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        self.stopping = True

    def run(self) -> int:
        """Serve until SIGTERM or SIGINT; 0 on a clean stop."""
        self.sock = listen(self.host, self.port)
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        self.load()
        for _ in range(self.count):
            self.fork()
        poll = self.settings.index_poll_seconds
        next_poll = time.monotonic() + poll
        try:
            while not self.stopping:
                self.reap()
                if poll > 0 and time.monotonic() >= next_poll and not self.stopping:
                    try:
                        if self.newer():
                            self.roll()
                    except Exception:  # a database hiccup: try again at the next tick
                        log.exception("looking for a newer screening failed")
                    next_poll = time.monotonic() + poll
                time.sleep(REAP_SECONDS)
        finally:
            self.stop(list(self.started))
            self.sock.close()
            self.service.close()
        return 0 if self.failed_starts < STARTS_FAILED else 1
