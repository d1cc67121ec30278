"""The audit bureau's page: upload a dataset, start a screening under a profile, watch it,
download what it found. The API's own functions do each step (limits, validation in a child
process, the bounded queue, the audit log)."""

from __future__ import annotations

import io
import json
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from sqlmodel import Session as Db
from sqlmodel import col, select

from api.deps import ServiceDep
from api.models import DatasetRecord, FindingRecord, ScreeningFinding, ScreeningRecord
from api.problems import Problem
from api.routers import datasets as api_datasets
from api.store import Upload
from api.ui.common import SessionDep, audit_for, posted, refused, render
from integrity.documents.output import human_row, write_findings_xlsx
from integrity.findings import finding_from_dict
from integrity.masking import mask

router = APIRouter(prefix="/ui", include_in_schema=False)


@router.get("/screenings", response_class=HTMLResponse)
def screenings_page(
    request: Request, service: ServiceDep, session: SessionDep, error: str = "", done: str = ""
) -> Response:
    audit = audit_for(service, session, request)
    denied = refused(request, session, "screenings", audit)
    if denied is not None:
        return denied
    with Db(service.engine) as db:
        datasets = db.exec(
            select(DatasetRecord).order_by(col(DatasetRecord.created_at).desc()).limit(50)
        ).all()
        runs = db.exec(
            select(ScreeningRecord).order_by(col(ScreeningRecord.created_at).desc()).limit(50)
        ).all()
    running = any(r.status in ("queued", "running", "cancelling") for r in runs)
    return render(
        request,
        "screenings.html",
        session.principal,
        csrf=session.csrf,
        datasets=[d.model_dump(mode="json") for d in datasets],
        runs=[r.model_dump(mode="json", exclude={"run"}) for r in runs],
        counts={r.id: (r.run or {}).get("counts", {}) for r in runs},
        provisions={r.id: (r.run or {}).get("provisions") or [] for r in runs},
        profiles=service.profiles.names(),
        default_policy=service.settings.demo_policy,
        running=running,
        error=error,
        done=done,
    )


def _back(error: str = "", done: str = "") -> RedirectResponse:
    from urllib.parse import urlencode  # noqa: PLC0415

    query = urlencode({k: v for k, v in (("error", error), ("done", done)) if v})
    return RedirectResponse("/ui/screenings" + (f"?{query}" if query else ""), status_code=303)


@router.post("/datasets")
def upload(
    request: Request,
    service: ServiceDep,
    session: SessionDep,
    files: Annotated[list[UploadFile], File()],
    name: Annotated[str, Form(max_length=300)] = "",
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    audit, refusal = posted(request, service, session, csrf, "screenings")
    if refusal is not None:
        return refusal
    uploads = [Upload(f.filename or "upload", f.file) for f in files if f.filename]
    try:
        record, created = api_datasets._ingest(service, uploads, name, session.principal, audit)
    except Problem as exc:
        detail = exc.detail
        errors = exc.extra.get("errors") or []
        if errors:
            detail += "：" + "；".join(
                str(e.get("where_zh", "")) + str(e.get("message_zh", "")) for e in errors[:5]
            )
        return _back(error=detail)
    said = "已上传" if created else "相同文件已上传过"
    return _back(done=f"{said}：{record.name}（{record.rows}行）")


@router.post("/demo")
def load_demo(
    request: Request,
    service: ServiceDep,
    session: SessionDep,
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """The bundled demo district, stored and screened: the quickest way to try the pages."""
    audit, refusal = posted(request, service, session, csrf, "screenings")
    if refusal is not None:
        return refusal
    try:
        _, _, record = api_datasets.demo(service, session.principal, audit, Response())
    except Problem as exc:
        return _back(error=exc.detail)
    return _back(done=f"已载入演示数据，筛查 {record.id} 进行中")


@router.post("/screenings")
def start(
    request: Request,
    service: ServiceDep,
    session: SessionDep,
    dataset_id: Annotated[str, Form(max_length=40)],
    policy: Annotated[str, Form(max_length=64)],
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    audit, refusal = posted(request, service, session, csrf, "screenings")
    if refusal is not None:
        return refusal
    with Db(service.engine) as db:
        dataset = db.get(DatasetRecord, dataset_id)
    if dataset is None or policy not in service.profiles.names():
        return _back(error="数据集或政策配置不存在")
    try:
        record = api_datasets._start(service, dataset, policy, None, session.principal, Response())
    except Problem as exc:
        return _back(error=exc.detail)
    audit({"dataset_id": dataset.id, "policy": policy, "screening_id": record.id})
    return _back(done=f"筛查 {record.id} 已开始")


@router.get("/screenings/{screening_id}/{what}")
async def download(
    screening_id: str, what: str, request: Request, service: ServiceDep, session: SessionDep
) -> Response:
    """A screening's findings (发现清单.xlsx) or its run record (run.json)."""
    audit = audit_for(service, session, request)
    if refused(request, session, "screenings", audit) is not None:
        return Response(status_code=403)
    with Db(service.engine) as db:
        record = db.get(ScreeningRecord, screening_id)
        if record is None or record.status != "done":
            return Response("筛查不存在或未完成", status_code=404)
        rows = db.exec(
            select(FindingRecord)
            .join(
                ScreeningFinding, col(ScreeningFinding.finding_id) == col(FindingRecord.finding_id)
            )
            .where(ScreeningFinding.screening_id == screening_id)
        ).all()
    await run_in_threadpool(audit, {"screening_id": screening_id, "download": what})
    masked = not session.principal.is_admin
    if what == "run.json":
        run = mask(record.run) if masked else record.run
        data = json.dumps(run, ensure_ascii=False, indent=2).encode()
        return Response(data, media_type="application/json", headers=_attachment("run.json"))
    if what == "findings.xlsx":
        flat = [human_row(finding_from_dict(r.data)) for r in rows]
        buffer = io.BytesIO()
        write_findings_xlsx(buffer, [mask(row) for row in flat] if masked else flat)
        buffer.seek(0)
        return StreamingResponse(
            buffer,
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers=_attachment("发现清单.xlsx"),
        )
    return Response(status_code=404)


def _attachment(name: str) -> dict[str, str]:
    from urllib.parse import quote  # noqa: PLC0415

    return {"Content-Disposition": f"attachment; filename=download; filename*=UTF-8''{quote(name)}"}
