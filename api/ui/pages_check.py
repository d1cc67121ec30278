"""Signing in and out, and the reviewer's page: the pre-award check as a form and its result,
at a URL that can be shared (``/ui/check?supplier=…&community=…&category=…&amount_wan=…&
date=…&panel=…&panel=…``)."""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import ValidationError
from rapidfuzz import fuzz, process
from sqlmodel import Session as Db

from api.check.models import CheckIn
from api.check.serve import run_check
from api.deps import ServiceDep
from api.models import DatasetRecord
from api.problems import Problem
from api.routers.datasets import DEMO_NAME
from api.ui.common import (
    PAGES,
    SessionDep,
    audit_for,
    refused,
    render,
    same_origin,
)
from api.ui.paths import path_of, svg
from api.ui.session import Sessions
from integrity.identity.names import org_name

router = APIRouter(prefix="/ui", include_in_schema=False)
USCC = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")
STAFF_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@router.get("", response_class=HTMLResponse)
def home(request: Request, session: SessionDep) -> Response:
    first = next(p for p, roles in PAGES.items() if session.principal.role in roles)
    return RedirectResponse(f"/ui/{first}", status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/ui") -> HTMLResponse:
    return render(request, "login.html", None, next=_local(next), error="")


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    service: ServiceDep,
    token: Annotated[str, Form(max_length=200)],
    next: Annotated[str, Form(max_length=2000)] = "/ui",
) -> Response:
    target = _local(next)
    if not same_origin(request):
        return render(request, "login.html", None, 403, next=target, error="请从本系统页面登录")
    response = RedirectResponse(target, status_code=303)
    principal = service.sessions.start(token, request, response)
    if principal is None:
        client = request.client.host if request.client else None
        service.audit(None, "POST", "/ui/login", {"client": client, "denied": "token"}, 401)
        return render(request, "login.html", None, 401, next=target, error="令牌无效或已吊销")
    service.audit(principal, "POST", "/ui/login", {"signed_in": principal.role}, 303)
    return response


@router.post("/logout")
def logout(
    request: Request, session: SessionDep, csrf: Annotated[str, Form(max_length=100)] = ""
) -> Response:
    if not (same_origin(request) and Sessions.csrf_ok(session, csrf)):
        return Response("表单已过期，请返回重试 / the form has expired", status_code=403)
    response = RedirectResponse("/ui/login", status_code=303)
    Sessions.end(response)
    return response


def _local(target: str) -> str:
    """Only a path of this site (no open redirect)."""
    return target if target.startswith("/ui") and "//" not in target else "/ui"


def _body(
    supplier: str, community: str, category: str, amount_wan: str, date: str, title: str,
    project_id: str, step: str, panel: list[str],
) -> dict[str, Any]:  # fmt: skip
    supplier = supplier.strip()
    party: dict[str, Any] = (
        {"uscc": supplier.upper()} if USCC.match(supplier.upper()) else {"name": supplier}
    )
    project: dict[str, Any] = {
        "community": community.strip() or None,
        "category": category.strip() or None,
        "amount_wan": float(amount_wan) if amount_wan.strip() else None,
        "date": date.strip() or None,
        "title": title.strip() or None,
        "project_id": project_id.strip() or None,
    }
    members = []
    for given in (p.strip() for p in panel):
        if not given:
            continue
        key = "staff_id" if STAFF_ID.match(given) else "name"
        members.append({key: given, "step": step or "评审"})
    return {
        "supplier": party,
        "project": {k: v for k, v in project.items() if v is not None},
        "panel": members,
    }


@router.get("/check", response_class=HTMLResponse)
async def check_page(
    request: Request,
    service: ServiceDep,
    session: SessionDep,
    supplier: Annotated[str, Query(max_length=200)] = "",
    community: Annotated[str, Query(max_length=100)] = "",
    category: Annotated[str, Query(max_length=20)] = "",
    amount_wan: Annotated[str, Query(max_length=20)] = "",
    date: Annotated[str, Query(max_length=20)] = "",
    title: Annotated[str, Query(max_length=300)] = "",
    project_id: Annotated[str, Query(max_length=64)] = "",
    step: Annotated[str, Query(max_length=10)] = "评审",
    panel: Annotated[list[str] | None, Query(max_length=100)] = None,
) -> Response:
    """The form, and with a supplier given, the check's result below it."""
    audit = audit_for(service, session, request)
    denied = refused(request, session, "check", audit)
    if denied is not None:
        return denied
    members = [p for p in (panel or []) if p.strip()] or [""]
    form = {
        "supplier": supplier, "community": community, "category": category,
        "amount_wan": amount_wan, "date": date, "title": title, "project_id": project_id,
        "step": step, "panel": members,
    }  # fmt: skip
    values: dict[str, Any] = {
        "form": form,
        "csrf": session.csrf,
        "result": None,
        "error": "",
        "example": _example(service),
    }
    if supplier.strip():
        try:
            body = CheckIn.model_validate(
                _body(
                    supplier,
                    community,
                    category,
                    amount_wan,
                    date,
                    title,
                    project_id,
                    step,
                    members,
                )
            )
            result = await run_check(service, session.principal, audit, body)
            values["result"] = result.model_dump(mode="json")
            values["pictures"] = {
                a.finding_id: svg(p, f"{a.details.get('path', '关系路径')}")
                for a in result.assessments
                if (p := path_of(a.model_dump(mode="json"))) is not None
            }
            values["pick"] = _picks(request, result.model_dump(mode="json"))
        except (ValidationError, ValueError) as exc:
            values["error"] = "输入有误：" + _said(exc)
        except Problem as exc:
            values["error"] = exc.detail
    return render(request, "check.html", session.principal, **values)


# the README's demo check, offered as a link when the index screens the bundled demo
EXAMPLE = [
    ("supplier", "深圳市润泽睿智体育用品有限公司"),
    ("community", "象角塘社区"),
    ("category", "货物类"),
    ("amount_wan", "20"),
    ("date", "2024-06-01"),
    ("panel", "BT0234"),
    ("panel", "黎志斌"),
]


def _example(service: Any) -> str:
    index = service.index
    if index is None:
        return ""
    with Db(service.engine) as db:
        dataset = db.get(DatasetRecord, index.dataset_id)
    if dataset is None or dataset.name != DEMO_NAME:
        return ""
    return "/ui/check?" + urlencode(EXAMPLE)


def _said(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "；".join(str(e.get("msg", "")) for e in exc.errors())
    return str(exc)


def _picks(request: Request, result: dict[str, Any]) -> dict[str, str]:
    """For each candidate, the same check's URL with the candidate picked."""
    params = list(request.query_params.multi_items())
    out: dict[str, str] = {}
    for c in result["supplier"]["candidates"]:
        changed = [(k, c["id"] if k == "supplier" else v) for k, v in params]
        out[f"supplier:{c['id']}"] = "/ui/check?" + urlencode(changed)
    for m in result["panel"]:
        for c in m["candidates"]:
            changed = [(k, c["id"] if k == "panel" and v == m["given"] else v) for k, v in params]
            out[f"panel:{m['given']}:{c['id']}"] = "/ui/check?" + urlencode(changed)
    return out


@router.get("/suggest")
async def suggest(
    request: Request,
    service: ServiceDep,
    session: SessionDep,
    q: Annotated[str, Query(min_length=1, max_length=100)],
    what: Annotated[str, Query(pattern="^(supplier|community)$")] = "supplier",
) -> JSONResponse:
    """Names as one types: suppliers (name and USCC) or communities of the screened data."""
    if session.principal.role not in PAGES["check"]:
        return JSONResponse([], status_code=403)
    index = service.index
    if index is None:
        return JSONResponse([])
    if what == "community":
        projects = index.scr.keyed.get("projects")
        names = [] if projects is None else sorted(set(projects["community"].dropna().astype(str)))
        found = [n for n in names if q in n][:12]
        return JSONResponse([{"value": n, "label": n} for n in found])
    audit = audit_for(service, session, request)
    await run_in_threadpool(audit, {"suggest": q})
    matches = process.extract(
        org_name(q), index.org_cores, scorer=fuzz.partial_ratio, limit=12, score_cutoff=60
    )
    out = []
    for core, _, _ in matches:
        for key in sorted(index.orgs_by_core[core])[:2]:
            code = key[5:] if key.startswith("uscc:") else ""
            name = index.org_names.get(key, core)
            out.append({"value": code or name, "label": f"{name} {code}".strip()})
    return JSONResponse(out[:12])
