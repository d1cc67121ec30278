"""Datasets on disk and findings in the database, each written all or nothing.

An upload is unpacked into a scratch folder, validated by the same loader the command line
uses, and only then moved into place (one rename) and recorded; a failed upload leaves
nothing behind. A screening's findings are upserted by their stable ids in one transaction
with the run record: a re-run on the same inputs updates them (keeping their triage status)
and never duplicates them.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from api.files import FILE_MODE, new_scratch, private_dir
from api.jsonable import plain
from api.models import (
    DatasetRecord,
    FindingEvent,
    FindingRecord,
    ScreeningFinding,
    ScreeningRecord,
    now,
)
from api.search import search_text
from api.uploads import Limits, Upload, unpack
from api.validation import UPLOAD_NAME, DatasetSummary, validate_here
from integrity.findings import PERSON_CHAIN_RULES, Finding, finding_from_dict, person_chain
from integrity.load.readers import content_hash

__all__ = ["UPLOAD_NAME", "Cancelled", "Limits", "Upload", "ingest", "store_findings"]


class Cancelled(Exception):  # noqa: N818 - a state, not an error of the code
    """A screening asked to stop (or already ended) when its findings were to be stored."""


def ingest(
    engine: Engine,
    datasets_dir: Path,
    uploads: list[Upload],
    *,
    name: str,
    actor: str,
    limits: Limits,
    validate: Callable[[Path], DatasetSummary] = validate_here,
) -> tuple[DatasetRecord, bool]:
    """Store an upload as a dataset; (record, created). The same files again give the
    dataset already stored. Blocking work (unpacking, hashing, validating): never called on
    the event loop."""
    private_dir(datasets_dir)
    scratch = new_scratch(datasets_dir)
    try:
        unpack(uploads, scratch, limits)
        sha = content_hash(scratch)
        found = _stored(engine, sha)
        if found is not None:
            return found, False
        # one upload of these files at a time, in every worker: a second one waits, then
        # finds the first's record (two at once used to remove each other's folder)
        with dataset_lock(datasets_dir, sha):
            found = _stored(engine, sha)
            if found is not None:
                return found, False
            summary = validate(scratch)
            ds_id = f"ds-{sha[:12]}"
            final = datasets_dir / ds_id
            if final.exists():  # left by a crash before its record was written: no record
                shutil.rmtree(final)  # names it, and no one else may write it (the lock)
            os.replace(scratch, final)
            record = DatasetRecord(
                id=ds_id,
                name=name or ", ".join(sorted(p.name for p in final.iterdir()))[:300],
                sha256=sha,
                path=final.name,
                files=summary.files,
                rows=summary.rows,
                warnings=summary.warnings,
                streets=summary.streets,
                created_by=actor,
                created_at=now(),
            )
            try:
                with Session(engine) as session:
                    session.add(record)
                    session.commit()
                    session.refresh(record)
            except IntegrityError:
                # stored meanwhile by a process that does not take the lock (an older
                # version): its record names the folder, which is left as it is
                stored = _stored(engine, sha)
                if stored is None:
                    raise
                return stored, False
            except Exception:
                shutil.rmtree(final, ignore_errors=True)
                raise
            return record, True
    finally:
        shutil.rmtree(scratch, ignore_errors=True)  # our own scratch folder, only


def _stored(engine: Engine, sha: str) -> DatasetRecord | None:
    with Session(engine) as session:
        return session.exec(select(DatasetRecord).where(DatasetRecord.sha256 == sha)).first()


@contextlib.contextmanager
def dataset_lock(datasets_dir: Path, sha: str) -> Iterator[None]:
    """An exclusive lock on one content hash: a thread lock in this process, a file lock
    (flock) across the service's workers."""
    with _LOCKS_GUARD:
        lock = _LOCKS.setdefault(sha, threading.Lock())
    folder = private_dir(datasets_dir.with_name("locks"))
    with lock:
        fd = os.open(folder / sha[:32], os.O_RDWR | os.O_CREAT, FILE_MODE)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


REMEMBERED = "筛查（沿用此前的排除决定）"


def remembered_dismissals(
    session: Session, rows: dict[str, Finding], fresh: list[dict[str, Any]], stamp: Any
) -> list[FindingEvent]:
    """A new finding resting on a person chain a commission already dismissed (a namesake:
    "not the same person") comes in dismissed, with an event citing that decision, instead
    of the same lead again (integrity.findings.person_chain)."""
    chains = {v["finding_id"]: person_chain(rows[v["finding_id"]]) for v in fresh}
    if not any(chains.values()):
        return []
    dismissed = session.exec(
        select(FindingRecord).where(
            col(FindingRecord.status) == "dismissed",
            col(FindingRecord.rule).in_(PERSON_CHAIN_RULES),
        )
    ).all()
    chain_of = {r.finding_id: person_chain(finding_from_dict(r.data)) for r in dismissed}
    wanted = [fid for fid, chain in chain_of.items() if chain is not None]
    # each dismissed finding's latest reason, in one query (events in order: the last wins)
    reasons: dict[str, str] = {}
    for chunk in _chunks(wanted):
        for event in session.exec(
            select(FindingEvent)
            .where(col(FindingEvent.finding_id).in_(chunk))
            .order_by(col(FindingEvent.id))
        ).all():
            reasons[event.finding_id] = event.reason
    decided = {str(chain_of[fid]): (fid, reasons.get(fid, "")) for fid in wanted}
    events = []
    for values in fresh:
        earlier = decided.get(chains[values["finding_id"]] or "")
        if earlier is None:
            continue
        values["status"] = "dismissed"
        events.append(
            FindingEvent(
                finding_id=values["finding_id"],
                from_status="new",
                to_status="dismissed",
                reason=f"沿用对 {earlier[0]} 的排除决定：{earlier[1]}",
                actor=REMEMBERED,
                actor_role="system",
                at=stamp,
            )
        )
    return events


def _chunks(items: list[str], size: int = 500) -> Iterable[list[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def store_findings(
    engine: Engine, screening_id: str, findings: list[Finding], run: dict[str, Any]
) -> None:
    """Upsert the findings and link them to the screening, mark it done: one transaction."""
    stamp = now()
    rows = {f.finding_id: f for f in findings}
    with Session(engine) as session:
        existing: set[str] = set()
        for chunk in _chunks(list(rows)):
            existing.update(
                session.exec(
                    select(FindingRecord.finding_id).where(
                        FindingRecord.finding_id.in_(chunk)  # type: ignore[attr-defined]
                    )
                ).all()
            )
        fresh: list[dict[str, Any]] = []
        changed: list[dict[str, Any]] = []
        for fid, f in rows.items():
            data = plain(f.to_dict())
            values = {
                "finding_id": fid,
                "rule": f.rule,
                "severity": f.severity,
                "confidence": float(f.confidence),
                "street": f.street,
                "community": f.community,
                "policy": f.policy,
                "data": data,
                "search_text": search_text(data),
                "last_screening_id": screening_id,
                "updated_at": stamp,
            }
            if fid in existing:
                changed.append(values)
            else:
                fresh.append(
                    values
                    | {"status": "new", "first_screening_id": screening_id, "first_seen": stamp}
                )
        events = remembered_dismissals(session, rows, fresh, stamp)
        if fresh:
            session.execute(insert(FindingRecord), fresh)
        if events:
            session.add_all(events)
            session.flush()
        if changed:
            session.execute(update(FindingRecord), changed)
        links = [{"screening_id": screening_id, "finding_id": fid} for fid in rows]
        if links:
            session.execute(insert(ScreeningFinding), links)
        marked = session.execute(
            update(ScreeningRecord)
            .where(
                col(ScreeningRecord.id) == screening_id,
                col(ScreeningRecord.status) == "running",
            )
            .values(
                status="done",
                progress="完成 / done",
                findings=len(rows),
                run=plain(run),
                finished_at=now(),
            )
        )
        if not getattr(
            marked, "rowcount", 0
        ):  # cancelled (or ended) meanwhile: nothing of it is stored
            session.rollback()
            raise Cancelled
        session.commit()
