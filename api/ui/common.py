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
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from api.deps import Audit, ServiceDep
from api.masking import mask
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

HERE = Path(__file__).resolve().parent
TEMPLATES = Jinja2Templates(directory=str(HERE / "templates"))
TEMPLATES.env.globals.update(
    verdicts=VERDICTS,
    severities=SEVERITIES,
    statuses=STATUSES,
    categories=CATEGORIES,
    steps=STEPS,
    confidence_words=confidence_words,
    rule_title=rule_title,
    where=where,
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


def sessions(service: Service) -> Sessions:
    found: Sessions | None = getattr(service, "_ui_sessions", None)
    if found is None:
        found = Sessions(service.tokens, service.tokens.secret)
        service._ui_sessions = found  # type: ignore[attr-defined]
    return found


async def current(request: Request, service: ServiceDep) -> Session:
    """The signed-in caller (or a redirect to the sign-in page)."""
    session = sessions(service).of(request)
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


def to_login(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/ui/login?next={_quote(target)}", status_code=303)


def _quote(value: str) -> str:
    from urllib.parse import quote  # noqa: PLC0415

    return quote(value, safe="")
