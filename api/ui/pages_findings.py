"""The commission's pages: its streets' findings, filtered and counted; one finding with its
picture, evidence rows and history; triage with a reason; the two lists to export.

Every action calls the API's own function (the same street scope, the same refusals, the same
audit entries) with the signed-in caller."""

from __future__ import annotations

from collections import Counter
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session as Db

from api.deps import ServiceDep
from api.models import TRANSITIONS
from api.problems import Problem
from api.routers import findings as api_findings
from api.schemas import StatusIn
from api.ui.common import SessionDep, audit_for, posted, refused, render
from api.ui.paths import path_of, svg

router = APIRouter(prefix="/ui", include_in_schema=False)
PAGE_SIZE = 100


@router.get("/findings", response_class=HTMLResponse)
def findings_page(
    request: Request,
    service: ServiceDep,
    session: SessionDep,
    rule: Annotated[str, Query(max_length=40)] = "",
    severity: Annotated[str, Query(pattern="^(|high|medium|low)$")] = "",
    status: Annotated[str, Query(pattern="^(|new|confirmed|dismissed|referred)$")] = "",
    community: Annotated[str, Query(max_length=100)] = "",
    min_confidence: Annotated[str, Query(max_length=5)] = "",
    q: Annotated[str, Query(max_length=100)] = "",
    offset: Annotated[int, Query(ge=0, le=10**6)] = 0,
) -> Response:
    audit = audit_for(service, session, request)
    denied = refused(request, session, "findings", audit)
    if denied is not None:
        return denied
    floor = float(min_confidence) if min_confidence.replace(".", "", 1).isdigit() else None
    with Db(service.engine) as db:
        page = api_findings.list_findings(
            session=db,
            principal=session.principal,
            audit=audit,
            street=None,
            community=community or None,
            rule=rule or None,
            severity=severity or None,
            status=status or None,
            min_confidence=floor if floor is not None and floor <= 1 else None,
            max_confidence=None,
            screening_id=None,
            q=q or None,
            offset=offset,
            limit=PAGE_SIZE,
        )
        every = api_findings.list_findings(
            session=db,
            principal=session.principal,
            audit=audit,
            street=None,
            community=None,
            rule=None,
            severity=None,
            status=None,
            min_confidence=None,
            max_confidence=None,
            screening_id=None,
            q=None,
            offset=0,
            limit=500,
        )
    counts: dict[str, Counter[str]] = {
        "rule": Counter(i.rule for i in every.items),
        "severity": Counter(i.severity for i in every.items),
        "status": Counter(i.status for i in every.items),
    }
    return render(
        request,
        "findings.html",
        session.principal,
        csrf=session.csrf,
        page=page.model_dump(mode="json"),
        counts={k: dict(v) for k, v in counts.items()},
        total=every.total,
        communities=sorted({i.community for i in every.items if i.community}),
        filters={
            "rule": rule,
            "severity": severity,
            "status": status,
            "community": community,
            "min_confidence": min_confidence,
            "q": q,
        },
        offset=offset,
        size=PAGE_SIZE,
    )


@router.get("/findings/{finding_id}", response_class=HTMLResponse)
def finding_page(
    finding_id: str, request: Request, service: ServiceDep, session: SessionDep, error: str = ""
) -> Response:
    audit = audit_for(service, session, request)
    denied = refused(request, session, "findings", audit)
    if denied is not None:
        return denied
    try:
        with Db(service.engine) as db:
            found = api_findings.get_finding(finding_id, db, session.principal, audit)
            events = api_findings.history(finding_id, db, session.principal, audit)
    except Problem as exc:
        return render(
            request,
            "refused.html",
            session.principal,
            status_code=exc.status,
            csrf=session.csrf,
            message=exc.detail,
        )
    data = found.model_dump(mode="json")
    picture = path_of(data["finding"])
    return render(
        request,
        "finding.html",
        session.principal,
        csrf=session.csrf,
        item=data,
        picture=svg(picture, data["finding"].get("details", {}).get("path", "关系路径"))
        if picture
        else "",
        events=[e.model_dump(mode="json") for e in events],
        moves=TRANSITIONS.get(found.status, ()) if session.principal.role != "auditor" else (),
        error=error,
    )


@router.post("/findings/{finding_id}/status")
def triage(
    finding_id: str,
    request: Request,
    service: ServiceDep,
    session: SessionDep,
    status: Annotated[str, Form(max_length=20)],
    reason: Annotated[str, Form(max_length=4000)],
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Triage from the page: the API's own move (scope, transitions, reason, history)."""
    audit, refusal = posted(request, service, session, csrf, None)
    if refusal is not None:
        return refusal
    error = ""
    try:
        body = StatusIn.model_validate({"status": status, "reason": reason})
        with Db(service.engine) as db:
            api_findings.change_status(finding_id, body, db, session.principal, audit)
    except Problem as exc:
        error = exc.detail
    except ValueError:
        error = "须选择处理结果并填写理由（至少两个字）"
    target = f"/ui/findings/{finding_id}" + (f"?error={_q(error)}" if error else "")
    return RedirectResponse(target, status_code=303)


@router.get("/exports/{which}.xlsx")
def export(which: str, request: Request, service: ServiceDep, session: SessionDep) -> Response:
    """The referral list or the 第十六条 list, as the API exports them, for this caller."""
    audit = audit_for(service, session, request)
    denied = refused(request, session, "findings", audit)
    if denied is not None:
        return denied
    with Db(service.engine) as db:
        if which == "referrals":
            return api_findings.export_referrals(db, session.principal, audit, None, "referred")
        if which == "off-catalogue":
            return api_findings.export_off_catalogue(db, session.principal, audit, None)
    return Response(status_code=404)


def _q(text: str) -> str:
    return quote(text, safe="")
