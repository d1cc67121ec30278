"""Findings: list and filter, one with its evidence path, triage with history, exports.

A commission sees only its streets: a filter on another street, or a finding of another
street, is refused (403) and logged; lists and their totals count only its own streets.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse
from sqlalchemy import case, func, update
from sqlmodel import Session, col, select

from api.deps import AuditDep, PrincipalDep, SessionDep, roles
from api.models import TRANSITIONS, FindingEvent, FindingRecord, ScreeningFinding, now
from api.problems import Problem, problem_responses
from api.routing import CHANGE_STATUS, FINDING_HISTORY, GET_FINDING, MaskedRoute, links
from api.schemas import EventOut, FindingOut, FindingPage, StatusIn
from api.search import ESCAPE, like_pattern
from api.security import Principal, present
from integrity.documents.output import FINDING_COLUMNS, PRINTED, human_row
from integrity.documents.reports import REPORTS, report_rows, write_street_workbook
from integrity.documents.words import TRIAGE
from integrity.documents.workbook import Column
from integrity.findings import finding_from_dict

router = APIRouter(
    tags=["findings"],
    route_class=MaskedRoute,
    responses=problem_responses(400, 401, 403, 413, 422),
)
READERS = roles("admin", "auditor", "commission")
TRIAGERS = roles("admin", "commission")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _out(record: FindingRecord) -> FindingOut:
    return FindingOut(
        finding_id=record.finding_id,
        rule=record.rule,
        severity=record.severity,
        confidence=record.confidence,
        street=record.street,
        community=record.community,
        policy=record.policy,
        status=record.status,
        first_seen=record.first_seen,
        updated_at=record.updated_at,
        last_screening_id=record.last_screening_id,
        finding=record.data,
    )


def _scope(stmt: Any, principal: Principal, audit: AuditDep, street: str | None) -> Any:
    if street is not None:
        if not principal.sees_street(street):
            raise audit.deny({"street": street}, f"无权查看街道「{street}」/ not your street")
        stmt = stmt.where(FindingRecord.street == street)
    if principal.scoped:
        stmt = stmt.where(col(FindingRecord.street).in_(principal.streets))
    return stmt


@router.get(
    "/findings",
    response_model=FindingPage,
    dependencies=[READERS],
    responses={
        200: {
            "description": "a page of findings",
            "links": links(
                {
                    GET_FINDING: "$response.body#/items/0/finding_id",
                    FINDING_HISTORY: "$response.body#/items/0/finding_id",
                    CHANGE_STATUS: "$response.body#/items/0/finding_id",
                }
            ),
        }
    },
)
def list_findings(
    session: SessionDep,
    principal: PrincipalDep,
    audit: AuditDep,
    street: str | None = None,
    community: str | None = None,
    rule: str | None = None,
    severity: Annotated[str | None, Query(pattern="^(high|medium|low)$")] = None,
    status: Annotated[str | None, Query(pattern="^(new|confirmed|dismissed|referred)$")] = None,
    min_confidence: Annotated[float | None, Query(ge=0, le=1)] = None,
    max_confidence: Annotated[float | None, Query(ge=0, le=1)] = None,
    screening_id: str | None = None,
    q: Annotated[
        str | None, Query(max_length=100, description="text in the finding: a name, USCC, id")
    ] = None,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> FindingPage:
    """Findings, most severe first, filtered; ``total`` counts only what the caller may see."""
    stmt = _scope(select(FindingRecord), principal, audit, street)
    if community is not None:
        stmt = stmt.where(FindingRecord.community == community)
    if rule is not None:
        stmt = stmt.where(FindingRecord.rule == rule)
    if severity is not None:
        stmt = stmt.where(FindingRecord.severity == severity)
    if status is not None:
        stmt = stmt.where(FindingRecord.status == status)
    if min_confidence is not None:
        stmt = stmt.where(FindingRecord.confidence >= min_confidence)
    if max_confidence is not None:
        stmt = stmt.where(FindingRecord.confidence <= max_confidence)
    if screening_id is not None:
        stmt = stmt.where(
            col(FindingRecord.finding_id).in_(
                select(ScreeningFinding.finding_id).where(
                    ScreeningFinding.screening_id == screening_id
                )
            )
        )
    if q:
        stmt = stmt.where(col(FindingRecord.search_text).like(like_pattern(q), escape=ESCAPE))
        audit({"q": q, "street": street, "rule": rule})
    total = session.exec(select(func.count()).select_from(stmt.subquery())).one()
    order = case(
        (col(FindingRecord.severity) == "high", 0),
        (col(FindingRecord.severity) == "medium", 1),
        else_=2,
    )
    rows = session.exec(
        stmt.order_by(order, col(FindingRecord.rule), col(FindingRecord.finding_id))
        .offset(offset)
        .limit(limit)
    ).all()
    return FindingPage(total=int(total), offset=offset, limit=limit, items=[_out(r) for r in rows])


def _get(session: Session, finding_id: str, principal: Principal, audit: AuditDep) -> FindingRecord:
    record = session.get(FindingRecord, finding_id)
    if record is None:
        audit({"finding_id": finding_id}, 404)
        raise Problem(404, f"发现不存在 / no finding {finding_id}")
    if not principal.sees_street(record.street):
        raise audit.deny(
            {"finding_id": finding_id}, "该发现不属于你的街道 / this finding is not in your streets"
        )
    return record


@router.get(
    "/findings/{finding_id}",
    operation_id=GET_FINDING,
    response_model=FindingOut,
    dependencies=[READERS],
    responses=problem_responses(404),
)
def get_finding(
    finding_id: str, session: SessionDep, principal: PrincipalDep, audit: AuditDep
) -> FindingOut:
    """One finding with its evidence path, row by row."""
    record = _get(session, finding_id, principal, audit)
    audit(
        {
            "finding_id": finding_id,
            "staff_ids": record.data.get("staff_ids"),
            "suppliers": record.data.get("suppliers"),
        }
    )
    return _out(record)


@router.post(
    "/findings/{finding_id}/status",
    operation_id=CHANGE_STATUS,
    response_model=FindingOut,
    dependencies=[TRIAGERS],
    responses=problem_responses(404, 409),
)
def change_status(
    finding_id: str,
    body: StatusIn,
    session: SessionDep,
    principal: PrincipalDep,
    audit: AuditDep,
) -> FindingOut:
    """Confirm, dismiss, refer (or reopen a dismissed finding), with a reason; every change
    is appended to the finding's history and never rewritten."""
    record = _get(session, finding_id, principal, audit)
    allowed = TRANSITIONS.get(record.status, ())
    if body.status not in allowed:
        raise Problem(
            409,
            f"不能从「{record.status}」改为「{body.status}」/ cannot go from {record.status} "
            f"to {body.status} (allowed: {', '.join(allowed) or 'none'})",
        )
    reason = body.reason.strip()
    if len(reason) < 2:
        raise Problem(422, "须填写理由 / a reason is required")
    event = FindingEvent(
        finding_id=finding_id,
        from_status=record.status,
        to_status=body.status,
        reason=reason,
        actor=principal.name,
        actor_role=principal.role,
        at=now(),
    )
    # moved only from the status it was read in: two triagers at once cannot both move it
    moved = session.execute(
        update(FindingRecord)
        .where(
            col(FindingRecord.finding_id) == finding_id,
            col(FindingRecord.status) == event.from_status,
        )
        .values(status=body.status, updated_at=event.at)
    )
    if not getattr(moved, "rowcount", 0):
        session.rollback()
        raise Problem(409, "该发现刚被他人处理，请刷新后再试 / changed meanwhile; reload it")
    session.add(event)
    session.commit()
    session.refresh(record)
    audit({"finding_id": finding_id, "status": body.status})
    return _out(record)


@router.get(
    "/findings/{finding_id}/history",
    operation_id=FINDING_HISTORY,
    response_model=list[EventOut],
    dependencies=[READERS],
    responses=problem_responses(404),
)
def history(
    finding_id: str, session: SessionDep, principal: PrincipalDep, audit: AuditDep
) -> list[EventOut]:
    _get(session, finding_id, principal, audit)
    rows = session.exec(
        select(FindingEvent)
        .where(FindingEvent.finding_id == finding_id)
        .order_by(col(FindingEvent.id))
    ).all()
    audit({"finding_id": finding_id, "history": len(rows)})
    return [EventOut.model_validate(r.model_dump()) for r in rows]


# --------------------------------------------------------------------------- exports

REFERRAL_COLUMNS = (
    *FINDING_COLUMNS,
    Column("triage", "处理状态", 10),
    Column("triage_reason", "最近处理意见", 40, wrap=True),
)


def _xlsx(
    title: str,
    columns: Sequence[Column],
    rows: list[dict[str, Any]],
    filename: str,
    printed: int | None = PRINTED,
) -> StreamingResponse:
    buffer = io.BytesIO()
    write_street_workbook(buffer, title, columns, rows, printed)
    buffer.seek(0)
    return StreamingResponse(
        buffer,
        media_type=XLSX,
        headers={
            "Content-Disposition": "attachment; filename=export.xlsx; "
            f"filename*=UTF-8''{_url(filename)}"
        },
    )


def _url(name: str) -> str:
    return quote(name)


def _records(
    session: Session, principal: Principal, audit: AuditDep, street: str | None, **where: Any
) -> list[FindingRecord]:
    stmt = _scope(select(FindingRecord), principal, audit, street)
    for key, value in where.items():
        if value is not None:
            stmt = stmt.where(getattr(FindingRecord, key) == value)
    return list(session.exec(stmt.order_by(col(FindingRecord.finding_id))).all())


@router.get(
    "/exports/referrals.xlsx",
    dependencies=[READERS],
    response_class=StreamingResponse,
    responses={200: {"content": {XLSX: {}}}},
)
def export_referrals(
    session: SessionDep,
    principal: PrincipalDep,
    audit: AuditDep,
    street: str | None = None,
    status: Annotated[str, Query(pattern="^(new|confirmed|dismissed|referred)$")] = "referred",
) -> StreamingResponse:
    """The referral list (移送清单): findings in ``status`` (referred by default), one sheet
    per street, Chinese headers, with the evidence path and the latest triage reason."""
    records = _records(session, principal, audit, street, status=status)
    last_reason: dict[str, str] = {}
    if records:
        events = session.exec(
            select(FindingEvent)
            .where(col(FindingEvent.finding_id).in_([r.finding_id for r in records]))
            .order_by(col(FindingEvent.id))
        ).all()
        last_reason = {e.finding_id: e.reason for e in events}
    rows = []
    for r in records:
        row = human_row(finding_from_dict(r.data))
        row["street"] = r.street or "（未注明街道）"
        row["triage"] = TRIAGE.get(r.status, r.status)
        row["triage_reason"] = last_reason.get(r.finding_id, "")
        rows.append(present(row, principal))  # the whole row: a reason may quote a number
    rows.sort(key=lambda x: (x["street"], x["finding_id"]))
    audit({"export": "referrals", "street": street, "status": status, "rows": len(rows)})
    title = "问题线索移送清单"
    return _xlsx(title, REFERRAL_COLUMNS, rows, f"{title}.xlsx")


@router.get(
    "/exports/off-catalogue.xlsx",
    dependencies=[READERS],
    response_class=StreamingResponse,
    responses={200: {"content": {XLSX: {}}}},
)
def export_off_catalogue(
    session: SessionDep, principal: PrincipalDep, audit: AuditDep, street: str | None = None
) -> StreamingResponse:
    """The 第十六条第（二）项 list: service projects outside the catalogue, one sheet per
    street, ready for the 街道纪工委 and the 区专责领导小组办公室."""
    report = next(r for r in REPORTS if r.rule == "off_catalogue")
    records = _records(session, principal, audit, street, rule="off_catalogue")
    findings = [finding_from_dict(r.data) for r in records]
    rows = [present(row, principal) for row in report_rows(report, findings)]
    audit({"export": "off_catalogue", "street": street, "rows": len(rows)})
    return _xlsx(report.title, report.columns, rows, f"{report.stem}.xlsx", report.printed)
