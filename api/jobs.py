"""Screenings as background jobs: a bounded queue, cancellation, and every change of state a
conditional UPDATE, so that a cancellation, a worker claiming the job, the job finishing and
a restart's recovery can never overwrite one another.

States: ``queued`` → ``running`` → ``done`` | ``failed``; ``queued`` → ``cancelled``;
``running`` → ``cancelling`` → ``cancelled`` (at the job's next stage; nothing of it stored).
Each job names its owner (host and process): a restarted process recovers only the jobs of
owners that are gone, never those another live worker is running.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from api.jsonable import plain
from api.models import DatasetRecord, ScreeningRecord, now
from api.problems import issue_entry
from api.profiles import Profiles, UnknownProfile
from api.settings import Settings
from api.store import Cancelled, store_findings
from integrity.documents.output import run_record
from integrity.errors import DatasetError, PolicyError
from integrity.masking import mask_text
from integrity.scan import ScanResult, run_scan

PENDING = ("queued", "running", "cancelling")
log = logging.getLogger("integrity.api")
Finished = Callable[[str, ScanResult, str], tuple[dict[str, Any], Callable[[], None]]]


def owner() -> str:
    """This process as a job's owner (host and pid): read at each call, as the workers of
    `integrity serve --workers N` are forked from one parent after import."""
    return f"{socket.gethostname()}:{os.getpid()}"


class QueueFull(Exception):  # noqa: N818 - a state, not an error of the code
    """Too many screenings waiting; ``pending`` counts them."""

    def __init__(self, pending: int) -> None:
        super().__init__(pending)
        self.pending = pending


def _owner_gone(owner: str | None) -> bool:
    """Is the process that owns a job gone? Unknown for another host's process: no."""
    if not owner:
        return True  # a job of an older version, which recorded no owner
    host, _, pid = owner.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    if int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _text(value: str, limit: int) -> str:
    """A text stored for other readers: masked, then cut (a cut number would escape the
    mask)."""
    return mask_text(value)[:limit]


class Jobs:
    """The service's screenings: queued in the database, run in a small thread pool."""

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        profiles: Profiles,
        finished: Finished,
    ) -> None:
        """``finished(screening_id, result, dataset_id)``: what to prepare when a scan is
        complete (the check index), before its findings are stored; returns what to add to
        the run record and what to do once they are stored (publish the index)."""
        self.engine = engine
        self.settings = settings
        self.profiles = profiles
        self.finished = finished
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self._queue_lock = threading.Lock()
        self.futures: dict[str, Future[None]] = {}

    @property
    def pool(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(
                    max_workers=self.settings.workers, thread_name_prefix="screen"
                )
            return self._pool

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)

    # ------------------------------------------------------------------ transitions
    def _move(self, screening_id: str, sources: tuple[str, ...], **values: Any) -> bool:
        """Move a job from one of ``sources`` to new values in one conditional UPDATE;
        False when it was in none of them (another transition came first)."""
        stmt = (
            update(ScreeningRecord)
            .where(
                col(ScreeningRecord.id) == screening_id,
                col(ScreeningRecord.status).in_(sources),
            )
            .values(**values)
        )
        with self.engine.begin() as conn:
            return bool(conn.execute(stmt).rowcount)

    def recover(self) -> list[str]:
        """Jobs whose owner is gone (a crash, a restart) are ended: a running one failed, a
        cancelling one cancelled, a queued one failed (its queue died with its process).
        Their findings were never half-written (stored in one transaction at the end).
        Called when a server starts, never by the command line."""
        with Session(self.engine) as session:
            pending = session.exec(
                select(ScreeningRecord).where(col(ScreeningRecord.status).in_(PENDING))
            ).all()
            stale = [(r.id, r.status) for r in pending if _owner_gone(r.owner)]
        ended = []
        for sid, status in stale:
            if status == "cancelling":
                done = self._move(
                    sid, ("cancelling",), status="cancelled", finished_at=now(), progress="已取消"
                )
            else:
                done = self._move(
                    sid,
                    (status,),
                    status="failed",
                    finished_at=now(),
                    progress="失败 / failed",
                    error={"detail": "服务重启，筛查中断 / interrupted by a restart"},
                )
            if done:
                ended.append(sid)
        return ended

    # ------------------------------------------------------------------ queue
    def start(
        self, dataset: DatasetRecord, policy: str, rules: list[str] | None, actor: str
    ) -> tuple[ScreeningRecord, bool]:
        """Queue a screening; (record, created). The same dataset, profile and rules already
        waiting or running give that screening back instead of a second one; past the
        queue's bound (``settings.workers + settings.queue_limit`` pending in the database,
        so across worker processes, give or take a race between them) :class:`QueueFull`."""
        with self._queue_lock, Session(self.engine) as session:
            pending = session.exec(
                select(ScreeningRecord).where(col(ScreeningRecord.status).in_(PENDING))
            ).all()
            for other in pending:
                if (other.dataset_id, other.policy, other.rules) == (dataset.id, policy, rules):
                    return other, False
            if len(pending) >= self.settings.workers + self.settings.queue_limit:
                raise QueueFull(len(pending))
            record = ScreeningRecord(
                id=f"sc-{uuid.uuid4().hex[:12]}",
                dataset_id=dataset.id,
                policy=policy,
                rules=rules,
                status="queued",
                progress="排队中 / queued",
                owner=owner(),
                created_by=actor,
                created_at=now(),
            )
            session.add(record)
            session.commit()
            session.refresh(record)
        future = self.pool.submit(self._run, record.id)
        self.futures[record.id] = future
        sid = record.id

        def forget(_done: Future[None]) -> None:
            self.futures.pop(sid, None)

        future.add_done_callback(forget)
        return record, True

    def cancel(self, screening_id: str) -> tuple[ScreeningRecord | None, bool]:
        """Stop a screening: a queued one is cancelled at once, a running one is asked to
        stop (``cancelling``) and stops at its next stage, storing nothing. (record, whether
        this call stopped it): (None, False) when there is no such screening; one that has
        ended (or is already stopping) is returned unchanged."""
        stopped = self._move(
            screening_id,
            ("queued",),
            status="cancelled",
            progress="已取消 / cancelled",
            finished_at=now(),
        )
        if stopped:
            future = self.futures.get(screening_id)
            if future is not None:
                future.cancel()
        else:
            stopped = self._move(
                screening_id, ("running",), status="cancelling", progress="正在取消 / cancelling"
            )
        with Session(self.engine) as session:
            return session.get(ScreeningRecord, screening_id), stopped

    # ------------------------------------------------------------------ the run
    def _status(self, screening_id: str) -> str | None:
        with Session(self.engine) as session:
            record = session.get(ScreeningRecord, screening_id)
            return record.status if record else None

    def _step(self, screening_id: str, step: str) -> None:
        """A screening's progress, and the point where a cancellation takes effect."""
        if not self._move(screening_id, ("running",), progress=_text(step, 200)):
            raise Cancelled

    def _run(self, screening_id: str) -> None:
        with Session(self.engine) as session:
            record = session.get(ScreeningRecord, screening_id)
            dataset = session.get(DatasetRecord, record.dataset_id) if record else None
        claimed = self._move(
            screening_id,
            ("queued",),
            status="running",
            started_at=now(),
            progress="开始 / started",
            owner=owner(),
        )
        if record is None or dataset is None or not claimed:
            return  # cancelled while it waited
        began = time.perf_counter()
        try:
            result: ScanResult = run_scan(
                self.settings.datasets_dir / dataset.path,
                policy=self.profiles.source(record.policy),
                rules=record.rules,
                progress=lambda step: self._step(screening_id, step),
            )
            self._step(screening_id, "建立核查索引 / building the check index")
            extra, publish = self.finished(screening_id, result, dataset.id)
            run = run_record(result, time.perf_counter() - began) | extra
            self._step(screening_id, "保存发现 / storing findings")
            # stores and marks done only if still running: a cancellation meanwhile wins
            store_findings(self.engine, screening_id, result.findings, run)
            publish()
        except Cancelled:
            self._move(
                screening_id,
                ("running", "cancelling"),
                status="cancelled",
                finished_at=now(),
                progress="已取消 / cancelled",
            )
        except DatasetError as exc:
            errors = [issue_entry(i) for i in exc.issues if i.level == "error"]
            self._fail(
                screening_id,
                {
                    "detail": "数据集无法筛查 / dataset cannot be screened",
                    "errors": plain(errors[:200]),
                },
            )
        except (PolicyError, UnknownProfile) as exc:
            detail = _text(f"政策配置不可用 / policy profile unusable: {exc}", 2000)
            self._fail(screening_id, {"detail": detail})
        except Exception as exc:
            # logged whole (the log is masked, api.logs); stored masked, then cut
            log.exception("screening %s failed", screening_id)
            trace = traceback.format_exc()
            self._fail(
                screening_id,
                {"detail": _text(repr(exc), 500), "trace": mask_text(trace)[-2000:]},
            )

    def _fail(self, screening_id: str, error: dict[str, Any]) -> None:
        if not self._move(
            screening_id,
            ("running",),
            status="failed",
            error=error,
            finished_at=now(),
            progress="失败 / failed",
        ):
            self._move(
                screening_id,
                ("cancelling",),
                status="cancelled",
                finished_at=now(),
                progress="已取消 / cancelled",
            )
