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
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, func, select

from api.auditlog import AuditWriter
from api.check import snapshot
from api.check.index import CheckIndex
from api.db import make_engine, migrate
from api.files import private_dir, private_file, sqlite_path, sweep_scratch, tighten_tree
from api.jobs import PENDING, Jobs
from api.jsonable import plain
from api.limits import RateLimit
from api.models import ApiToken, DatasetRecord, ScreeningRecord, now
from api.profiles import Profiles
from api.security import Principal, TokenStore
from api.settings import Settings
from api.ui.session import Sessions
from api.validation import Validator
from integrity.scan import ScanResult, run_scan, screening_for_check

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
            # the database's folder made if missing; tightened only inside the data folder
            # (a database in a shared folder must not change that folder's mode)
            if db_file.parent.resolve().is_relative_to(settings.data_dir.resolve()):
                private_dir(db_file.parent)
            else:
                db_file.parent.mkdir(parents=True, exist_ok=True)
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
        # the check index kept on disk (api.check.snapshot), signed under the same secret
        self.snapshot_key = snapshot.signing_key(secret)
        self.snapshot_dir = settings.data_dir / "check-index"
        for name in snapshot.sweep(self.snapshot_dir):
            log.warning("removed the scratch file of an interrupted index write: %s", name)
        # where the current index came from: "screening", "snapshot" or "rebuilt"
        self.index_source: str | None = None
        self.profiles = Profiles(settings.data_dir / "policies")
        # uploads are validated in a child process (api.validation): never stalling requests
        self.validator = Validator(
            memory=settings.validate_memory_bytes, seconds=settings.validate_seconds
        )
        self.index: CheckIndex | None = None
        self.index_error: str | None = None
        self._lock = threading.Lock()
        self._loading = threading.Lock()  # one index load at a time (start-up, refresh)
        self.jobs = Jobs(self.engine, settings, self.profiles, self._screened)
        self.audit_log = AuditWriter(self.engine)
        self.check_rate = RateLimit(settings.check_rate_per_minute)
        # the pages' signed sessions, under the service's secret
        self.sessions = Sessions(self.tokens, secret)

    # ------------------------------------------------------------------ start-up
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

    def _latest_done(self) -> tuple[ScreeningRecord, DatasetRecord] | None:
        with Session(self.engine) as session:
            latest = session.exec(
                select(ScreeningRecord)
                .where(ScreeningRecord.status == "done")
                .order_by(col(ScreeningRecord.finished_at).desc())
            ).first()
            if latest is None:
                return None
            dataset = session.get(DatasetRecord, latest.dataset_id)
        return None if dataset is None else (latest, dataset)

    def refresh_index(self) -> bool:
        """Take up the latest finished screening's index if it is not the one in use (a
        screening another worker ran: that worker kept its index, read here rather than
        built again). True if the index changed."""
        found = self._latest_done()
        current = self.index
        if found is None or (current is not None and current.screening_id == found[0].id):
            return False
        if not self._loading.acquire(blocking=False):
            return False  # a start-up load or an earlier refresh is under way
        try:
            self.load_latest_index()
        finally:
            self._loading.release()
        return self.index is not current

    def follow_latest(self, stop: threading.Event) -> None:
        """At start-up, the latest screening's index; then, every ``index_poll_seconds``,
        a newer one finished by another worker (a thread, until ``stop``)."""
        with self._loading:
            self.load_latest_index()
        interval = self.settings.index_poll_seconds
        while interval > 0 and not stop.wait(interval):
            try:
                self.refresh_index()
            except Exception:  # a database hiccup: try again at the next tick
                log.exception("looking for a newer screening failed")

    def load_latest_index(self) -> None:
        """Rebuild the check index from the latest finished screening (after a restart):
        from the index file it kept (api.check.snapshot) or else from its dataset and the
        priors its run record kept, without running the rules again (a screening stored
        before the priors were recorded is run again)."""
        found = self._latest_done()
        if found is None:
            return
        latest, dataset = found
        if self.index is not None and self.index.screening_id == latest.id:
            return  # already this screening's (a worker given its parent's index)
        folder = self.settings.datasets_dir / dataset.path
        priors = (latest.run or {}).get("priors")
        try:
            kept = snapshot.load(self.snapshot_dir, latest.id, self.snapshot_key)
        except Exception:  # an unreadable file is built again, never fatal
            log.exception("check index file could not be read: built again")
            kept = None
        if isinstance(kept, CheckIndex) and kept.dataset_id == dataset.id:
            self._swap_index(kept, "snapshot")
            return
        try:
            policy = self.profiles.source(latest.policy)
            result = (
                screening_for_check(folder, policy=policy, priors=priors)
                if isinstance(priors, dict)
                else run_scan(folder, policy=policy, rules=latest.rules)
            )
            index = CheckIndex(result, screening_id=latest.id, dataset_id=dataset.id)
        except Exception as exc:  # reported on /check, the service still serves the rest
            self.index_error = repr(exc)
            log.exception("check index could not be rebuilt")
            return
        self._keep(index)
        self._swap_index(index, "rebuilt")

    def _keep(self, index: CheckIndex) -> float | None:
        """Write the index for the next start (seconds taken; None if it could not be)."""
        began = time.perf_counter()
        try:
            snapshot.save(index, self.snapshot_dir, self.snapshot_key)
        except Exception:  # a full disk costs the next start time, not this screening
            log.exception("check index could not be written for the next start")
            return None
        return round(time.perf_counter() - began, 3)

    def _swap_index(self, index: CheckIndex, source: str) -> None:
        with self._lock:
            self.index = index
            self.index_error = None
            self.index_source = source
            index.warm_lookups()  # before workers are forked from here (they share them)
            # the index is millions of long-lived objects (path tuples among them): out of the
            # collector's way, or a full collection now and then stalls a check for a second.
            # Unfreezing first lets the previous index be collected.
            gc.unfreeze()
            gc.collect()
            gc.freeze()

    def adopt_index(self, index: CheckIndex | None, source: str | None) -> None:
        """Answer from an index loaded before this process was forked (api.workers): its
        objects stay where the parent froze them, out of the collector's reach, so that no
        collection writes to the pages this worker shares with the others."""
        with self._lock:
            self.index = index
            self.index_source = source

    def latest_screening_id(self) -> str | None:
        """The latest finished screening's id (None before any)."""
        found = self._latest_done()
        return None if found is None else found[0].id

    def screenings_pending(self) -> int:
        """Screenings queued, running or being cancelled, by any worker."""
        with Session(self.engine) as session:
            return session.exec(
                select(func.count()).where(col(ScreeningRecord.status).in_(PENDING))
            ).one()

    def close(self) -> None:
        """Stop taking screenings (the app's shutdown); a later one starts a new pool."""
        self.jobs.close()
        self.audit_log.close()
        self.validator.close()
        self.engine.dispose()

    # ------------------------------------------------------------------ screenings
    @property
    def futures(self) -> dict[str, Future[None]]:
        return self.jobs.futures

    def start_screening(
        self, dataset: DatasetRecord, policy: str, rules: list[str] | None, actor: str
    ) -> tuple[ScreeningRecord, bool]:
        return self.jobs.start(dataset, policy, rules, actor)

    def cancel_screening(self, screening_id: str) -> tuple[ScreeningRecord | None, bool]:
        return self.jobs.cancel(screening_id)

    def _screened(
        self, screening_id: str, result: ScanResult, dataset_id: str
    ) -> tuple[dict[str, Any], Callable[[], None]]:
        """A finished scan's check index, built before its findings are stored and put to
        use once they are."""
        index = CheckIndex(result, screening_id=screening_id, dataset_id=dataset_id)
        kept = self._keep(index)
        timings = {"check_index_seconds": index.build_seconds, "check_index_kept_seconds": kept}
        return timings, lambda: self._swap_index(index, "screening")

    # ------------------------------------------------------------------ tokens
    def known_streets(self) -> list[str]:
        """The streets the stored datasets name (a dataset stored before they were recorded
        is read once to learn them)."""
        with Session(self.engine) as session:
            records = session.exec(select(DatasetRecord)).all()
            for record in records:
                if record.streets is None:
                    folder = self.settings.datasets_dir / record.path
                    try:
                        record.streets = self.validator(folder).streets
                    except Exception:  # a folder gone or unreadable: no streets from it
                        log.exception("streets of dataset %s could not be read", record.id)
                        record.streets = []
                    session.add(record)
            session.commit()
            lists = [r.streets for r in records]
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
        Committed before the answer goes out (api.auditlog: one writer, entries that arrive
        together committed together)."""
        self.audit_entry(principal, method, path, subject, outcome)[0].result()

    def audit_entry(
        self,
        principal: Principal | None,
        method: str,
        path: str,
        subject: dict[str, Any],
        outcome: int,
    ) -> tuple[Future[None], bool]:
        """:meth:`audit` without the wait: the future is done once the entry is committed
        (an async request awaits it without holding a thread), and whether it will be
        committed at once (:meth:`api.auditlog.AuditWriter.submit`)."""
        # AuditEntry's columns as a plain row: building the table model to dump it again
        # cost a pre-award check 0.15 ms
        row = {
            "at": now(),
            "token_id": principal.token_id if principal else None,
            "actor": principal.name if principal else "（未认证）",
            "role": principal.role if principal else "",
            "method": method,
            "path": path[:500],
            "subject": plain({k: v for k, v in subject.items() if v not in (None, "", [], {})}),
            "outcome": outcome,
        }
        return self.audit_log.submit(row)
