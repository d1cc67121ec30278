"""Datasets on disk and findings in the database, each written all or nothing.

An upload is unpacked into a scratch folder, validated by the same loader the command line
uses, and only then moved into place (one rename) and recorded; a failed upload leaves
nothing behind. A screening's findings are upserted by their stable ids in one transaction
with the run record: a re-run on the same inputs updates them (keeping their triage status)
and never duplicates them.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import shutil
import uuid
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert, update
from sqlmodel import Session, select

from api.jsonable import plain
from api.models import DatasetRecord, FindingRecord, ScreeningFinding, ScreeningRecord, now
from api.problems import Problem, issue_entry
from integrity.errors import DatasetError, InputIssue
from integrity.findings import Finding
from integrity.load import Dataset, load_dataset

ACCEPTED = (".csv", ".xlsx", ".xlsm", ".zip")
TABLE_FILES = (".csv", ".xlsx", ".xlsm")


@dataclass(frozen=True)
class Upload:
    filename: str
    content: bytes


def _safe_name(name: str) -> str:
    base = Path(name.replace("\\", "/")).name.strip()
    if not base or base.startswith(".") or base in {"..", "."}:
        raise Problem(
            422,
            f"文件名无效 / invalid file name: {name!r}",
            errors=[_file_error(name, "文件名无效", "invalid file name")],
        )
    return base


def _file_error(file: str, zh: str, en: str, code: str = "upload") -> dict[str, Any]:
    return issue_entry(InputIssue("error", code, file, zh, en))


def _unpack(uploads: list[Upload], folder: Path, limit: int) -> None:
    """Write the uploaded files (a zip's members flattened) into ``folder``."""
    written: set[str] = set()

    def put(name: str, data: bytes) -> None:
        safe = _safe_name(name)
        if safe in written:
            raise Problem(
                422,
                f"文件重名 / two files named {safe}",
                errors=[
                    _file_error(safe, "上传中有两个同名文件", "two uploaded files share a name")
                ],
            )
        written.add(safe)
        (folder / safe).write_bytes(data)

    total = 0
    for up in uploads:
        suffix = Path(up.filename).suffix.lower()
        if suffix not in ACCEPTED:
            raise Problem(
                422,
                f"不支持的文件类型 / unsupported file type: {up.filename}",
                errors=[
                    _file_error(
                        up.filename,
                        f"只接受 {'、'.join(ACCEPTED)} 文件",
                        f"only {', '.join(ACCEPTED)} files are accepted",
                    )
                ],
            )
        if suffix != ".zip":
            total += len(up.content)
            put(up.filename, up.content)
            continue
        try:
            archive = zipfile.ZipFile(io.BytesIO(up.content))
        except zipfile.BadZipFile as exc:
            raise Problem(
                422,
                f"压缩包无法读取 / the zip cannot be read: {up.filename}",
                errors=[_file_error(up.filename, "压缩包无法读取", "the zip file cannot be read")],
            ) from exc
        with archive:
            for info in archive.infolist():
                if info.is_dir():
                    continue
                name = info.filename
                # zips made on Chinese Windows carry GBK names without the UTF-8 flag
                if not info.flag_bits & 0x800:
                    with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):
                        name = name.encode("cp437").decode("gbk")
                base = Path(name).name
                if base.startswith((".", "~$")) or "__MACOSX" in name:
                    continue
                if Path(base).suffix.lower() not in TABLE_FILES:
                    continue
                total += info.file_size
                if total > limit:
                    raise Problem(
                        413, f"解压后超过 {limit} 字节 / unpacked size over {limit} bytes"
                    )
                put(base, archive.read(info))
        if total > limit:
            raise Problem(413, f"上传超过 {limit} 字节 / upload over {limit} bytes")
    if not written:
        raise Problem(
            422,
            "没有可读取的数据文件 / no data file in the upload",
            errors=[_file_error("upload", "上传中没有 csv 或 xlsx 文件", "no csv or xlsx file")],
        )


def content_hash(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.iterdir()):
        digest.update(path.name.encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def validate(folder: Path) -> Dataset:
    try:
        return load_dataset(folder)
    except DatasetError as exc:
        errors = [issue_entry(i) for i in exc.issues if i.level == "error"]
        raise Problem(
            422,
            f"数据集有 {len(errors)} 处错误，未保存 / the dataset has {len(errors)} errors "
            "and was not saved",
            type_="urn:integrity:problem:invalid-dataset",
            errors=errors[:500],
            error_count=len(errors),
        ) from exc


def ingest(
    engine: Engine,
    datasets_dir: Path,
    uploads: list[Upload],
    *,
    name: str,
    actor: str,
    limit: int,
) -> tuple[DatasetRecord, bool]:
    """Store an upload as a dataset; (record, created). The same files again give the
    dataset already stored."""
    datasets_dir.mkdir(parents=True, exist_ok=True)
    scratch = datasets_dir / f".incoming-{uuid.uuid4().hex}"
    scratch.mkdir()
    try:
        _unpack(uploads, scratch, limit)
        sha = content_hash(scratch)
        with Session(engine) as session:
            found = session.exec(select(DatasetRecord).where(DatasetRecord.sha256 == sha)).first()
            if found is not None:
                return found, False
        dataset = validate(scratch)
        ds_id = f"ds-{sha[:12]}"
        final = datasets_dir / ds_id
        if final.exists():  # a folder left by a crash before its record was written
            shutil.rmtree(final)
        os.replace(scratch, final)
        record = DatasetRecord(
            id=ds_id,
            name=name or ", ".join(sorted(p.name for p in final.iterdir()))[:300],
            sha256=sha,
            path=final.name,
            files=[plain(s.to_dict()) for s in dataset.sources],
            rows=sum(s.rows for s in dataset.sources),
            warnings=dataset.warning_total,
            created_by=actor,
            created_at=now(),
        )
        try:
            with Session(engine) as session:
                session.add(record)
                session.commit()
                session.refresh(record)
        except Exception:
            shutil.rmtree(final, ignore_errors=True)
            raise
        return record, True
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


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
            values = {
                "finding_id": fid,
                "rule": f.rule,
                "severity": f.severity,
                "confidence": float(f.confidence),
                "street": f.street,
                "community": f.community,
                "policy": f.policy,
                "data": plain(f.to_dict()),
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
        if fresh:
            session.execute(insert(FindingRecord), fresh)
        if changed:
            session.execute(update(FindingRecord), changed)
        links = [{"screening_id": screening_id, "finding_id": fid} for fid in rows]
        if links:
            session.execute(insert(ScreeningFinding), links)
        record = session.get(ScreeningRecord, screening_id)
        if record is None:
            raise RuntimeError(f"screening {screening_id} vanished")
        record.status = "done"
        record.progress = "完成 / done"
        record.findings = len(rows)
        record.run = plain(run)
        record.finished_at = now()
        session.add(record)
        session.commit()
