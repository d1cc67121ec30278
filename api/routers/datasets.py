"""Datasets (upload all-or-nothing) and screenings (background jobs with progress)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Response, UploadFile, status
from sqlalchemy import func
from sqlmodel import Session, col, select

from api.deps import PrincipalDep, ServiceDep, SessionDep, roles
from api.models import DatasetRecord, FindingRecord, ScreeningFinding, ScreeningRecord
from api.problems import Problem
from api.schemas import DatasetOut, DemoOut, ScreeningIn, ScreeningOut
from api.security import Principal
from api.store import Upload, ingest
from integrity.errors import PolicyError
from integrity.policy import load_profile
from integrity.scan import select_rules

router = APIRouter(tags=["datasets and screenings"])
WRITERS = roles("admin", "auditor")
READERS = roles("admin", "auditor", "commission")


def _dataset_out(record: DatasetRecord, created: bool = False) -> DatasetOut:
    return DatasetOut.model_validate(record.model_dump() | {"created": created})


def _screening_out(record: ScreeningRecord) -> ScreeningOut:
    return ScreeningOut.model_validate(record.model_dump())


@router.post(
    "/datasets",
    response_model=DatasetOut,
    status_code=status.HTTP_201_CREATED,
    dependencies=[WRITERS],
    responses={
        200: {"description": "the same files were uploaded before"},
        422: {"description": "problem details naming file, row and column"},
    },
)
async def upload_dataset(
    service: ServiceDep,
    principal: PrincipalDep,
    response: Response,
    files: Annotated[
        list[UploadFile], File(description="CSV files, one zip, or one xlsx workbook")
    ],
    name: Annotated[str, Form(max_length=300)] = "",
) -> DatasetOut:
    """Upload a dataset: CSV files (one per table), a zip of them, or one workbook with a
    sheet per table. Validated as `integrity validate` does; stored only if valid."""
    uploads: list[Upload] = []
    size = 0
    for f in files:
        data = await f.read()
        size += len(data)
        if size > service.settings.max_upload_bytes:
            raise Problem(
                413, f"上传超过 {service.settings.max_upload_bytes} 字节 / upload too large"
            )
        uploads.append(Upload(f.filename or "upload", data))
    record, created = ingest(
        service.engine,
        service.settings.datasets_dir,
        uploads,
        name=name,
        actor=principal.name,
        limit=service.settings.max_upload_bytes,
    )
    if not created:
        response.status_code = status.HTTP_200_OK
    return _dataset_out(record, created)


@router.get("/datasets", response_model=list[DatasetOut], dependencies=[WRITERS])
def list_datasets(session: SessionDep) -> list[DatasetOut]:
    rows = session.exec(select(DatasetRecord).order_by(col(DatasetRecord.created_at).desc()))
    return [_dataset_out(r) for r in rows.all()]


@router.get("/datasets/{dataset_id}", response_model=DatasetOut, dependencies=[WRITERS])
def get_dataset(dataset_id: str, session: SessionDep) -> DatasetOut:
    record = session.get(DatasetRecord, dataset_id)
    if record is None:
        raise Problem(404, f"数据集不存在 / no dataset {dataset_id}")
    return _dataset_out(record)


@router.post(
    "/screenings",
    response_model=ScreeningOut,
    status_code=status.HTTP_202_ACCEPTED,
    dependencies=[WRITERS],
)
def start_screening(
    body: ScreeningIn,
    service: ServiceDep,
    principal: PrincipalDep,
    session: SessionDep,
    response: Response,
) -> ScreeningOut:
    """Start a screening of a dataset under a policy profile; poll its status."""
    dataset = session.get(DatasetRecord, body.dataset_id)
    if dataset is None:
        raise Problem(404, f"数据集不存在 / no dataset {body.dataset_id}")
    try:
        load_profile(body.policy)
        rules = select_rules(body.rules) if body.rules else None
    except PolicyError as exc:
        raise Problem(422, str(exc)) from exc
    record = service.start_screening(dataset, body.policy, rules, principal.name)
    response.headers["Location"] = f"/screenings/{record.id}"
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


@router.get("/screenings/{screening_id}", response_model=ScreeningOut, dependencies=[READERS])
def get_screening(screening_id: str, session: SessionDep, principal: PrincipalDep) -> ScreeningOut:
    """Status and progress; when done, the run record (counts by rule, stage times)."""
    record = session.get(ScreeningRecord, screening_id)
    if record is None:
        raise Problem(404, f"筛查不存在 / no screening {screening_id}")
    return _for(record, principal, session)


@router.post(
    "/demo",
    response_model=DemoOut,
    status_code=status.HTTP_202_ACCEPTED,
    dependencies=[WRITERS],
)
def load_demo(service: ServiceDep, principal: PrincipalDep) -> DemoOut:
    """Load the bundled demo district and start its screening (one call)."""
    folder = service.settings.demo_dir
    if not folder.is_dir():
        raise Problem(404, f"演示数据不存在 / demo data not found at {folder}")
    uploads = [
        Upload(p.name, p.read_bytes())
        for p in sorted(folder.iterdir())
        if p.is_file() and p.suffix.lower() in (".csv", ".xlsx", ".xlsm")
    ]
    record, created = ingest(
        service.engine,
        service.settings.datasets_dir,
        uploads,
        name="演示数据：龙岗区（虚构） / demo district",
        actor=principal.name,
        limit=service.settings.max_upload_bytes,
    )
    screening = service.start_screening(record, service.settings.demo_policy, None, principal.name)
    return DemoOut(dataset=_dataset_out(record, created), screening=_screening_out(screening))
