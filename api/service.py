"""The running service: database, tokens, the screening jobs and the check index.

One :class:`Service` lives in ``app.state.service``. Screenings run in a small thread pool
(each is CPU-bound pandas work); when one finishes, its findings are stored and its
:class:`~api.check.index.CheckIndex` replaces the previous one, so the pre-award check always
answers from the latest finished screening.
"""

from __future__ import annotations

import gc
import hashlib
import hmac
import logging
import os
import secrets
import threading
import time
import traceback
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from sqlalchemy import insert, update
from sqlmodel import Session, col, select

from api.check.index import CheckIndex
from api.db import make_engine, migrate
from api.files import private_dir, private_file, sqlite_path, sweep_scratch, tighten_tree
from api.jsonable import plain
from api.models import ApiToken, AuditEntry, DatasetRecord, ScreeningRecord, now
from api.problems import issue_entry
from api.profiles import Profiles, UnknownProfile
from api.security import Principal, TokenStore
from api.settings import Settings
from api.store import store_findings
from api.validation import Validator
from integrity.errors import DatasetError, PolicyError
from integrity.output import run_record
from integrity.scan import ScanResult, run_scan

log = logging.getLogger("integrity.api")


def _secret_file(path: Path) -> str:
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(value + "\n")
    return value


PENDING = ("queued", "running", "cancelling")


class QueueFull(Exception):  # noqa: N818 - a state, not an error of the code
    """Too many screenings waiting; ``pending`` counts them."""

    def __init__(self, pending: int) -> None:
        super().__init__(pending)
        self.pending = pending


class Cancelled(Exception):  # noqa: N818
    """Raised inside a running screening when it has been asked to stop."""


class UnknownStreet(ValueError):  # noqa: N818 - a refusal, named for what was asked
    """A commission token for a street no dataset names."""

    def __init__(self, streets: list[str], known: list[str]) -> None:
        super().__init__(", ".join(streets))
        self.streets = streets
        self.known = known


class Service:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        private_dir(settings.data_dir)
        db_file = sqlite_path(settings.url)
        if db_file is not None:
            private_dir(db_file.parent)
            private_file(db_file)  # SQLite gives its -wal and -shm files the same mode
        tighten_tree(settings.data_dir)  # what an earlier version wrote under umask 022
        private_dir(settings.datasets_dir)
        for name in sweep_scratch(settings.datasets_dir):
            log.warning("removed the scratch folder of an interrupted upload: %s", name)
        self.engine = make_engine(settings.url)
        migrate(self.engine)
        secret = settings.token_secret or _secret_file(settings.data_dir / "token-secret")
        self.tokens = TokenStore(self.engine, secret, stamp=settings.data_dir / "tokens.stamp")
        # graph node refs are keyed under the service's secret: a ref reveals nothing of
        # the node it names (a person's node id may hold an ID number)
        self.ref_key = hmac.new(secret.encode(), b"graph-node-ref", hashlib.sha256).digest()
        self.profiles = Profiles(settings.data_dir / "policies")
        # uploads are validated in a child process (api.validation): never stalling requests
        self.validator = Validator()
        self._pool: ThreadPoolExecutor | None = None
        self.index: CheckIndex | None = None
        self.index_error: str | None = None
        self._lock = threading.Lock()
        self._queue_lock = threading.Lock()
        self.futures: dict[str, Future[None]] = {}
        self._recover()

    # ------------------------------------------------------------------ start-up
    def _recover(self) -> None:
        """Screenings cut off by a restart are marked failed (their findings were never
        half-written: they are stored in one transaction at the end)."""
        with Session(self.engine) as session:
            stale = session.exec(
                select(ScreeningRecord).where(col(ScreeningRecord.status).in_(PENDING))
            ).all()
            for record in stale:
                if record.status == "cancelling":
                    record.status = "cancelled"
                else:
                    record.status = "failed"
                    record.error = {"detail": "服务重启，筛查中断 / interrupted by a restart"}
                record.finished_at = now()
                session.add(record)
            session.commit()

    def bootstrap_admin(self) -> Path | None:
        """On first start (no admin token at all), issue one and keep it in
        ``<data_dir>/admin-token`` (mode 0600) for the operator to read."""
        if self.tokens.any_admin():
            return None
        token, _ = self.tokens.issue("初始管理员 / first admin", "admin")
        path = self.settings.data_dir / "admin-token"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(token + "\n")
        return path

    def load_latest_index(self) -> None:
        """Rebuild the check index from the latest finished screening (after a restart)."""
        with Session(self.engine) as session:
            latest = session.exec(
                select(ScreeningRecord)
                .where(ScreeningRecord.status == "done")
                .order_by(col(ScreeningRecord.finished_at).desc())
            ).first()
            if latest is None:
                return
            dataset = session.get(DatasetRecord, latest.dataset_id)
        if dataset is None:
            return
        try:
            result = run_scan(
                self.settings.datasets_dir / dataset.path,
                policy=self.profiles.source(latest.policy),
                rules=latest.rules,
            )
            self._swap_index(CheckIndex(result, screening_id=latest.id, dataset_id=dataset.id))
        except Exception as exc:  # reported on /check, the service still serves the rest
            self.index_error = repr(exc)
            log.exception("check index could not be rebuilt")

    def _swap_index(self, index: CheckIndex) -> None:
        with self._lock:
            self.index = index
            self.index_error = None
            # the index is millions of long-lived objects (path tuples among them): out of the
            # collector's way, or a full collection now and then stalls a check for a second.
            # Unfreezing first lets the previous index be collected.
            gc.unfreeze()
            gc.collect()
            gc.freeze()

    @property
    def pool(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(
                    max_workers=self.settings.workers, thread_name_prefix="screen"
                )
            return self._pool

    def close(self) -> None:
        """Stop taking screenings (the app's shutdown); a later one starts a new pool."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
        self.validator.close()
        self.engine.dispose()

    # ------------------------------------------------------------------ screenings
    def start_screening(
        self, dataset: DatasetRecord, policy: str, rules: list[str] | None, actor: str
    ) -> tuple[ScreeningRecord, bool]:
        """Queue a screening; (record, created). The same dataset, profile and rules already
        waiting or running give that screening back instead of a second one; past the
        queue's bound (``settings.workers + settings.queue_limit`` pending in the database,
        so across worker processes) :class:`QueueFull` is raised."""
        with self._queue_lock, Session(self.engine) as session:
            pending = session.exec(
                select(ScreeningRecord).where(col(ScreeningRecord.status).in_(PENDING))
            ).all()
            for other in pending:
                if (other.dataset_id, other.policy, other.rules) == (dataset.id, policy, rules):
                    return other, False
            if len(pending) >= self.settings.workers + self.settings.queue_limit:
                raise QueueFull(len(pending))
            record = self._queue(dataset, policy, rules, actor, session)
        future = self.pool.submit(self._run, record.id)
        self.futures[record.id] = future
        sid = record.id

        def forget(_done: Future[None]) -> None:
            self.futures.pop(sid, None)

        future.add_done_callback(forget)
        return record, True

    def _queue(
        self,
        dataset: DatasetRecord,
        policy: str,
        rules: list[str] | None,
        actor: str,
        session: Session,
    ) -> ScreeningRecord:
        record = ScreeningRecord(
            id=f"sc-{uuid.uuid4().hex[:12]}",
            dataset_id=dataset.id,
            policy=policy,
            rules=rules,
            status="queued",
            progress="排队中 / queued",
            created_by=actor,
            created_at=now(),
        )
        session.add(record)
        session.commit()
        session.refresh(record)
        return record

    def cancel_screening(self, screening_id: str) -> tuple[ScreeningRecord | None, bool]:
        """Stop a screening: a queued one is cancelled at once, a running one is asked to
        stop (``cancelling``) and stops at its next stage, storing nothing. (record, whether
        this call stopped it): (None, False) when there is no such screening; one that has
        ended (or is already stopping) is returned unchanged."""
        with Session(self.engine) as session:
            record = session.get(ScreeningRecord, screening_id)
            if record is None:
                return None, False
            if record.status == "queued":
                record.status = "cancelled"
                record.progress = "已取消 / cancelled"
                record.finished_at = now()
            elif record.status == "running":
                record.status = "cancelling"
                record.progress = "正在取消 / cancelling"
            else:
                return record, False
            session.add(record)
            session.commit()
            session.refresh(record)
        future = self.futures.get(screening_id)
        if future is not None and record.status == "cancelled":
            future.cancel()
        return record, True

    def _claim(self, screening_id: str) -> bool:
        """queued -> running in one conditional UPDATE: a cancellation that came first wins."""
        stmt = (
            update(ScreeningRecord)
            .where(col(ScreeningRecord.id) == screening_id, col(ScreeningRecord.status) == "queued")
            .values(status="running", started_at=now(), progress="开始 / started")
        )
        with self.engine.begin() as conn:
            return bool(conn.execute(stmt).rowcount)

    def _status(self, screening_id: str) -> str | None:
        with Session(self.engine) as session:
            record = session.get(ScreeningRecord, screening_id)
            return record.status if record else None

    def _step(self, screening_id: str, step: str) -> None:
        """A screening's progress, and the point where a cancellation takes effect."""
        if self._status(screening_id) == "cancelling":
            raise Cancelled
        self._update(screening_id, progress=step[:200])

    def _update(self, screening_id: str, **values: Any) -> None:
        with Session(self.engine) as session:
            record = session.get(ScreeningRecord, screening_id)
            if record is None:
                return
            for k, v in values.items():
                setattr(record, k, v)
            session.add(record)
            session.commit()

    def _run(self, screening_id: str) -> None:
        with Session(self.engine) as session:
            record = session.get(ScreeningRecord, screening_id)
            dataset = session.get(DatasetRecord, record.dataset_id) if record else None
        if record is None or dataset is None or not self._claim(screening_id):
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
            index = CheckIndex(result, screening_id=screening_id, dataset_id=dataset.id)
            run = run_record(result, time.perf_counter() - began)
            run["check_index_seconds"] = index.build_seconds
            self._step(screening_id, "保存发现 / storing findings")
            store_findings(self.engine, screening_id, result.findings, run)
            self._swap_index(index)
        except Cancelled:
            self._update(
                screening_id,
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
            self._fail(screening_id, {"detail": f"政策配置不可用 / policy profile unusable: {exc}"})
        except Exception as exc:
            log.exception("screening %s failed", screening_id)
            self._fail(
                screening_id,
                {"detail": repr(exc)[:500], "trace": traceback.format_exc()[-2000:]},
            )

    def _fail(self, screening_id: str, error: dict[str, Any]) -> None:
        self._update(
            screening_id,
            status="failed",
            error=error,
            finished_at=now(),
            progress="失败 / failed",
        )

    # ------------------------------------------------------------------ tokens
    def known_streets(self) -> list[str]:
        """The streets the stored datasets name."""
        with Session(self.engine) as session:
            lists = session.exec(select(DatasetRecord.streets)).all()
        return sorted({s for streets in lists for s in (streets or [])})

    def issue_token(
        self, name: str, role: str, streets: list[str] | None, actor: Principal | None
    ) -> tuple[str, ApiToken]:
        """A token for ``name``; a commission's streets must be streets some dataset names
        (a typo would give a token that sees nothing and says so nowhere). Audited."""
        streets = [s.strip() for s in (streets or []) if s.strip()]
        if role == "commission":
            known = self.known_streets()
            unknown = [s for s in streets if s not in known]
            if unknown:
                raise UnknownStreet(unknown, known)
        token, record = self.tokens.issue(name, role, streets)
        self.audit(
            actor,
            "POST",
            "/tokens",
            {"token_id": record.id, "name": name, "role": role, "streets": record.streets},
            201,
        )
        return token, record

    def revoke_token(self, token_id: int, actor: Principal | None) -> bool:
        done = self.tokens.revoke(token_id)
        self.audit(
            actor, "DELETE", f"/tokens/{token_id}", {"token_id": token_id}, 204 if done else 404
        )
        return done

    # ------------------------------------------------------------------ audit
    def audit(
        self,
        principal: Principal | None,
        method: str,
        path: str,
        subject: dict[str, Any],
        outcome: int,
    ) -> None:
        """Append who asked what: a query about a contractor can itself tip off a suspect.
        One INSERT, committed before the answer goes out (a plain insert: the ORM's unit of
        work cost a pre-award check four times as much, 0.28 against 0.07 ms on SQLite)."""
        entry = AuditEntry(
            at=now(),
            token_id=principal.token_id if principal else None,
            actor=principal.name if principal else "（未认证）",
            role=principal.role if principal else "",
            method=method,
            path=path[:500],
            subject=plain({k: v for k, v in subject.items() if v not in (None, "", [], {})}),
            outcome=outcome,
        )
        row = entry.model_dump(exclude={"id"})
        with self.engine.begin() as conn:
            conn.execute(insert(AuditEntry).values(**row))
