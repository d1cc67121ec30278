"""Documents people act on, made from what the service stored: a screening's audit report
(报告.pdf or 报告.html, the same template as `integrity report`) and a referral letter per
referred finding (问题线索移送函, .docx). Masked for every role but admin; every call audited."""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import Query, Response
from fastapi.routing import APIRouter
from sqlmodel import col, select

from api.deps import AuditDep, PrincipalDep, SessionDep, roles
from api.models import FindingRecord, ScreeningFinding, ScreeningRecord
from api.problems import Problem, problem_responses
from integrity.documents.referral import referral_docx
from integrity.documents.report import ScanOutput, render_html, render_pdf
from integrity.findings import finding_from_dict
from integrity.masking import mask

router = APIRouter(tags=["documents"], responses=problem_responses(401, 403, 404, 422))

PDF, HTML = "application/pdf", "text/html; charset=utf-8"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _attachment(name: str, kind: str) -> dict[str, str]:
    return {
        "Content-Disposition": f"attachment; filename=report.{kind}; filename*=UTF-8''{quote(name)}"
    }


@router.get(
    "/screenings/{screening_id}/report",
    summary="审计报告（PDF 或 HTML）",
    dependencies=[roles("admin", "auditor")],
    response_class=Response,
    responses={200: {"content": {PDF: {}, "text/html": {}}}, **problem_responses(409)},
)
def screening_report(
    screening_id: str,
    session: SessionDep,
    principal: PrincipalDep,
    audit: AuditDep,
    format: Annotated[Literal["pdf", "html"], Query()] = "pdf",
) -> Response:
    """The audit report of a finished screening: cover (profile, dataset SHA-256, dates,
    version), tables and charts by street, rule and severity, the programme provisions and
    their status, and each high-severity finding with its path picture and evidence rows."""
    record = session.get(ScreeningRecord, screening_id)
    if record is None:
        audit({"screening_id": screening_id, "report": format}, 404)
        raise Problem(404, f"筛查不存在 / no screening {screening_id}")
    if record.status != "done" or record.run is None:
        raise Problem(409, f"筛查尚未完成 / the screening is {record.status}")
    rows = session.exec(
        select(FindingRecord)
        .join(ScreeningFinding, col(ScreeningFinding.finding_id) == col(FindingRecord.finding_id))
        .where(ScreeningFinding.screening_id == screening_id)
        .order_by(col(FindingRecord.finding_id))
    ).all()
    masked = not principal.is_admin
    data = [mask(r.data) if masked else r.data for r in rows]
    run = mask(record.run) if masked else record.run
    scan = ScanOutput(folder=None, run=run, findings=[finding_from_dict(d) for d in data])
    audit({"screening_id": screening_id, "report": format, "findings": len(rows)})
    html = render_html(scan)
    if format == "html":
        return Response(html, media_type=HTML)
    return Response(render_pdf(html), media_type=PDF, headers=_attachment("报告.pdf", "pdf"))


@router.get(
    "/findings/{finding_id}/referral.docx",
    summary="问题线索移送函（Word）",
    dependencies=[roles("admin", "auditor", "commission")],
    response_class=Response,
    responses={200: {"content": {DOCX: {}}}, **problem_responses(409)},
)
def referral_letter(
    finding_id: str,
    session: SessionDep,
    principal: PrincipalDep,
    audit: AuditDep,
    addressee: Annotated[str, Query(max_length=100)] = "区纪委监委",
) -> Response:
    """The referral letter of a referred finding (status `referred`): addressee, the finding,
    its clause, the evidence table, the path picture, how sure each identity link is."""
    record = session.get(FindingRecord, finding_id)
    visible = record is not None and (
        not principal.scoped or (record.street or "") in principal.streets
    )
    if record is None or not visible:
        audit({"finding_id": finding_id, "referral": True}, 404)
        raise Problem(404, f"发现不存在 / no finding {finding_id}")
    if record.status != "referred":
        raise Problem(409, "该发现尚未移送 / the finding has not been referred (status referred)")
    data = mask(record.data) if not principal.is_admin else record.data
    audit({"finding_id": finding_id, "referral": True})
    body = referral_docx(finding_from_dict(data), addressee=addressee)
    return Response(body, media_type=DOCX, headers=_attachment("问题线索移送函.docx", "docx"))
