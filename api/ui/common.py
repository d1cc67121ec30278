"""What every page shares: the templates, the signed-in caller, the form guard, rendering
with the caller's masking.

Pages call the same functions as the API (the check, the findings' queries, triage, uploads),
with the signed-in caller in place of a bearer token: the same access rules and audit log.
What a page shows is masked as the API's answers are (every string of the values handed to
the template, for every role but admin)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlparse

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from api.deps import Audit, ServiceDep
from api.security import Principal
from api.service import Service
from api.ui.session import Session, Sessions
from api.ui.words import (
    CATEGORIES,
    SEVERITIES,
    STATUSES,
    STEPS,
    VERDICTS,
    confidence_words,
    rule_title,
    where,
)
from integrity import __version__
from integrity.documents.words import CERTAIN, plain_text
from integrity.masking import mask

HERE = Path(__file__).resolve().parent
TEMPLATES = Jinja2Templates(directory=str(HERE / "templates"))
TEMPLATES.env.globals.update(
    verdicts=VERDICTS,
    severities=SEVERITIES,
    statuses=STATUSES,
    categories=CATEGORIES,
    steps=STEPS,
    confidence_words=confidence_words,
    certain=CERTAIN,
    rule_title=rule_title,
    where=where,
    plain=plain_text,
    version=__version__,
)
# which pages each role sees in the menu and may open
PAGES = {
    "check": ("admin", "reviewer", "auditor"),
    "findings": ("admin", "auditor", "commission"),
    "screenings": ("admin", "auditor"),
}


class NotSignedIn(Exception):  # noqa: N818 - a state: the page sends the caller to sign in
    """The request has no valid session."""


async def current(request: Request, service: ServiceDep) -> Session:
    """The signed-in caller (or a redirect to the sign-in page)."""
    session = service.sessions.of(request)
    if session is None:
        raise NotSignedIn
    request.state.principal = session.principal
    return session


SessionDep = Annotated[Session, Depends(current)]


def audit_for(service: Service, session: Session, request: Request) -> Audit:
    return Audit(service, session.principal, request)


def same_origin(request: Request) -> bool:
    """A form posted from one of our pages (the Origin, or else the Referer, is this host):
    with the SameSite=Strict cookie and the form's CSRF field, the third guard."""
    origin = request.headers.get("origin") or request.headers.get("referer")
    if not origin:
        return False
    return urlparse(origin).netloc == request.url.netloc


def render(
    request: Request,
    template: str,
    principal: Principal | None,
    status_code: int = 200,
    **values: Any,
) -> HTMLResponse:
    """A page, its values masked for every role but admin."""
    shown = values if principal is not None and principal.is_admin else mask(values)
    menu = [page for page, allowed in PAGES.items() if principal and principal.role in allowed]
    return TEMPLATES.TemplateResponse(
        request,
        template,
        {"principal": principal, "menu": menu, **shown},
        status_code=status_code,
    )


def refused(request: Request, session: Session, page: str, audit: Audit) -> HTMLResponse | None:
    """The page's 403, audited, when the caller's role may not open it."""
    if session.principal.role in PAGES[page]:
        return None
    audit({"page": page, "denied": "role"}, 403)
    return render(
        request,
        "refused.html",
        session.principal,
        status_code=403,
        csrf=session.csrf,
        message=f"角色「{session.principal.role}」无权使用此页面",
    )


EXPIRED = "表单已过期，请返回刷新后重试 / the form has expired"


def posted(
    request: Request, service: Service, session: Session, csrf: str, page: str | None
) -> tuple[Audit, Response | None]:
    """A form posted to a page: (its audit, the refusal to answer instead, if any) — a form
    not from our pages or without this session's CSRF field (403), or a role that may not
    use ``page`` (403, audited)."""
    audit = audit_for(service, session, request)
    if not (same_origin(request) and Sessions.csrf_ok(session, csrf)):
        return audit, Response(EXPIRED, status_code=403)
    if page is not None and session.principal.role not in PAGES[page]:
        audit({"page": page, "denied": "role"}, 403)
        return audit, Response(status_code=403)
    return audit, None


def to_login(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/ui/login?next={_quote(target)}", status_code=303)


def _quote(value: str) -> str:
    from urllib.parse import quote  # noqa: PLC0415

    return quote(value, safe="")
