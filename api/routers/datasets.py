"""Datasets (upload all-or-nothing) and screenings (background jobs with progress, bounded,
cancellable)."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Response, UploadFile, status
from sqlalchemy import func
from sqlmodel import Session, col, select

from api.deps import AuditDep, PrincipalDep, ServiceDep, SessionDep, roles
from api.jobs import QueueFull
from api.models import DatasetRecord, FindingRecord, ScreeningFinding, ScreeningRecord
from api.problems import Problem, problem_responses
from api.profiles import UnknownProfile
from api.routing import (
    CANCEL_SCREENING,
    GET_DATASET,
    GET_SCREENING,
    MaskedRoute,
    links,
)
from api.schemas import DatasetOut, DemoOut, ScreeningIn, ScreeningOut
from api.security import Principal
from api.service import Service
from api.store import Limits, Upload, ingest
from integrity.errors import PolicyError
from integrity.scan import select_rules

router = APIRouter(
    tags=["datasets and screenings"],
    route_class=MaskedRoute,
    responses=problem_responses(400, 401, 403, 413, 422),
)
WRITERS = roles("admin", "auditor")
READERS = roles("admin", "auditor", "commission")


def _dataset_out(record: DatasetRecord, created: bool = False) -> DatasetOut:
    return DatasetOut.model_validate(record.model_dump() | {"created": created})


def _screening_out(record: ScreeningRecord) -> ScreeningOut:
    provisions = (record.run or {}).get("provisions") or []
    return ScreeningOut.model_validate(record.model_dump() | {"provisions": provisions})


def _ingest(
    service: Service, uploads: list[Upload], name: str, principal: Principal, audit: AuditDep
) -> tuple[DatasetRecord, bool]:
    """Store an upload, audited whatever its outcome."""
    files = [u.filename for u in uploads]
    try:
        record, created = ingest(
            service.engine,
            service.settings.datasets_dir,
            uploads,
            name=name,
            actor=principal.name,
            limits=Limits.of(service.settings.max_upload_bytes),
            validate=service.validator,
        )
    except Problem as exc:
        audit({"upload": files, "error_count": exc.extra.get("error_count")}, exc.status)
        raise
    except Exception:
        audit({"upload": files}, 500)  # a defect of ours: still, who sent what
        raise
    audit({"upload": files, "dataset_id": record.id, "created": created}, 201 if created else 200)
    return record, created


@router.post(
    "/datasets",
    response_model=DatasetOut,
    status_code=status.HTTP_201_CREATED,
    dependencies=[WRITERS],
    responses=problem_responses(401, 403, 413, 422, 503)
    | {
        200: {"description": "the same files were uploaded before"},
        201: {"description": "stored", "links": links({GET_DATASET: "$response.body#/id"})},
    },
)
def upload_dataset(
    service: ServiceDep,
    principal: PrincipalDep,
    audit: AuditDep,
    response: Response,
    files: Annotated[
        list[UploadFile],
        File(description="CSV files, one zip, or one xlsx workbook", min_length=1),
    ],
    name: Annotated[str, Form(max_length=300)] = "",
) -> DatasetOut:
    """Upload a dataset: CSV files (one per table), a zip of them, or one workbook with a
    sheet per table. Validated as `integrity validate` does; stored only if valid.

    Runs in a worker thread (a plain `def`), unpacking and hashing there and validating in a
    child process: a large upload never holds up the other requests."""
    uploads = [Upload(f.filename or "upload", f.file) for f in files]
    record, created = _ingest(service, uploads, name, principal, audit)
    if not created:
        response.status_code = status.HTTP_200_OK
    return _dataset_out(record, created)


@router.get("/datasets", response_model=list[DatasetOut], dependencies=[WRITERS])
def list_datasets(session: SessionDep) -> list[DatasetOut]:
    rows = session.exec(select(DatasetRecord).order_by(col(DatasetRecord.created_at).desc()))
    return [_dataset_out(r) for r in rows.all()]


@router.get(
    "/datasets/{dataset_id}",
    operation_id=GET_DATASET,
    response_model=DatasetOut,
    dependencies=[WRITERS],
    responses=problem_responses(404),
)
def get_dataset(dataset_id: str, session: SessionDep) -> DatasetOut:
    record = session.get(DatasetRecord, dataset_id)
    if record is None:
        raise Problem(404, f"数据集不存在 / no dataset {dataset_id}")
    return _dataset_out(record)


def _start(
    service: Service,
    dataset: DatasetRecord,
    policy: str,
    rules: list[str] | None,
    principal: Principal,
    response: Response,
) -> ScreeningRecord:
    try:
        record, created = service.start_screening(dataset, policy, rules, principal.name)
    except QueueFull as exc:
        raise Problem(
            429,
            f"已有 {exc.pending} 个筛查在排队或运行，请稍后再试 / {exc.pending} screenings are "
            "waiting or running; try again later",
            headers={"Retry-After": "60"},
        ) from exc
    response.headers["Location"] = f"/screenings/{record.id}"
    if not created:
        response.status_code = status.HTTP_200_OK
    return record


@router.post(
    "/screenings",
    response_model=ScreeningOut,
    status_code=status.HTTP_202_ACCEPTED,
    dependencies=[WRITERS],
    responses=problem_responses(404, 429)
    | {
        200: {"description": "the same screening is already waiting or running"},
        202: {
            "description": "queued",
            "links": links(
                {GET_SCREENING: "$response.body#/id", CANCEL_SCREENING: "$response.body#/id"}
            ),
        },
    },
)
def start_screening(
    body: ScreeningIn,
    service: ServiceDep,
    principal: PrincipalDep,
    session: SessionDep,
    audit: AuditDep,
    response: Response,
) -> ScreeningOut:
    """Start a screening of a dataset under a policy profile named in `GET /policies`; poll
    its status. At most `workers + queue_limit` screenings wait or run at once (429 past
    that); the same screening asked again is answered with the one already waiting."""
    dataset = session.get(DatasetRecord, body.dataset_id)
    if dataset is None:
        raise Problem(404, f"数据集不存在 / no dataset {body.dataset_id}")
    try:
        service.profiles.get(body.policy)
        rules = select_rules(body.rules) if body.rules else None
    except UnknownProfile as exc:
        raise Problem(
            422,
            f"未知的政策配置「{exc.name}」/ unknown policy profile {exc.name!r}; 可用 / "
            f"available: {', '.join(exc.available)}",
        ) from exc
    except PolicyError as exc:
        raise Problem(422, str(exc)) from exc
    record = _start(service, dataset, body.policy, rules, principal, response)
    audit({"dataset_id": dataset.id, "policy": body.policy, "screening_id": record.id})
    return _screening_out(record)


def _for(record: ScreeningRecord, principal: Principal, session: Session) -> ScreeningOut:
    """A commission sees a screening's status and its own streets' finding count only: the
    run record's counts and warnings speak of every street."""
    out = _screening_out(record)
    if not principal.scoped:
        return out
    own = session.exec(
        select(func.count())
        .select_from(ScreeningFinding)
        .join(FindingRecord, col(FindingRecord.finding_id) == col(ScreeningFinding.finding_id))
        .where(
            ScreeningFinding.screening_id == record.id,
            col(FindingRecord.street).in_(principal.streets),
        )
    ).one()
    return out.model_copy(update={"run": None, "error": None, "findings": int(own)})


@router.get("/screenings", response_model=list[ScreeningOut], dependencies=[READERS])
def list_screenings(
    session: SessionDep,
    principal: PrincipalDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[ScreeningOut]:
    rows = session.exec(
        select(ScreeningRecord).order_by(col(ScreeningRecord.created_at).desc()).limit(limit)
    )
    return [_for(r, principal, session).model_copy(update={"run": None}) for r in rows.all()]


@router.get(
    "/screenings/{screening_id}",
    operation_id=GET_SCREENING,
    response_model=ScreeningOut,
    dependencies=[READERS],
    responses=problem_responses(404),
)
def get_screening(screening_id: str, session: SessionDep, principal: PrincipalDep) -> ScreeningOut:
    """Status and progress; when done, the run record (counts by rule, stage times)."""
    record = session.get(ScreeningRecord, screening_id)
    if record is None:
        raise Problem(404, f"筛查不存在 / no screening {screening_id}")
    return _for(record, principal, session)


@router.delete(
    "/screenings/{screening_id}",
    operation_id=CANCEL_SCREENING,
    response_model=ScreeningOut,
    status_code=status.HTTP_202_ACCEPTED,
    dependencies=[WRITERS],
    responses=problem_responses(404, 409),
)
def cancel_screening(screening_id: str, service: ServiceDep, audit: AuditDep) -> ScreeningOut:
    """Cancel a screening: a queued one at once (`cancelled`), a running one at its next
    stage (`cancelling`, then `cancelled`; nothing of it is stored). One that has ended or
    is already stopping: 409."""
    record, stopped = service.cancel_screening(screening_id)
    if record is None:
        audit({"screening_id": screening_id}, 404)
        raise Problem(404, f"筛查不存在 / no screening {screening_id}")
    if not stopped:
        audit({"screening_id": screening_id, "status": record.status}, 409)
        raise Problem(
            409,
            f"筛查已结束（{record.status}），不能取消 / the screening has ended ({record.status})",
        )
    audit({"screening_id": screening_id, "status": record.status}, 202)
    return _screening_out(record)


@router.post(
    "/demo",
    response_model=DemoOut,
    status_code=status.HTTP_202_ACCEPTED,
    dependencies=[WRITERS],
    responses=problem_responses(404, 429)
    | {
        200: {"description": "its screening is already waiting or running"},
        202: {
            "description": "the demo dataset stored and its screening queued",
            "links": links(
                {
                    GET_SCREENING: "$response.body#/screening/id",
                    GET_DATASET: "$response.body#/dataset/id",
                }
            ),
        },
    },
)
def load_demo(
    service: ServiceDep, principal: PrincipalDep, audit: AuditDep, response: Response
) -> DemoOut:
    """Load the bundled demo district and start its screening (one call; while that
    screening waits or runs, the same one is answered)."""
    record, created, screening = demo(service, principal, audit, response)
    return DemoOut(dataset=_dataset_out(record, created), screening=_screening_out(screening))


DEMO_NAME = "演示数据：龙岗区（虚构） / demo district"


def demo(
    service: Service, principal: Principal, audit: AuditDep, response: Response
) -> tuple[DatasetRecord, bool, ScreeningRecord]:
    """The bundled demo district stored and its screening started (the API's and the
    auditor's page's door alike)."""
    folder = service.settings.demo_dir
    if not folder.is_dir():
        raise Problem(404, "演示数据不存在 / the demo data is not installed")
    paths = [
        p
        for p in sorted(folder.iterdir())
        if p.is_file() and p.suffix.lower() in (".csv", ".xlsx", ".xlsm")
    ]
    with contextlib.ExitStack() as stack:
        uploads = [Upload(p.name, stack.enter_context(Path(p).open("rb"))) for p in paths]
        record, created = _ingest(service, uploads, DEMO_NAME, principal, audit)
    screening = _start(service, record, service.settings.demo_policy, None, principal, response)
    return record, created, screening
