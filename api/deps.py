"""Request dependencies: the service, the caller, and the audit trail."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from api.auditlog import committed
from api.problems import Problem
from api.security import Principal, authenticate, require_role, token_hint
from api.service import Service

# the dependencies below are cheap (a cached token, an attribute): declared async they run on
# the event loop, where a sync dependency would cost a thread hop each; what writes to the
# database (the audit of a refusal) goes to a worker thread, as a locked database (a
# screening storing its findings) must never hold up the loop


async def get_service(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


ServiceDep = Annotated[Service, Depends(get_service)]


def get_session(service: ServiceDep) -> Iterator[Session]:
    with Session(service.engine) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


# declares the scheme in the OpenAPI document (the docs' Authorize button, schemathesis'
# auth); the header itself is read below, as a refused one is audited by its first characters
BEARER = HTTPBearer(
    auto_error=False,
    scheme_name="token",
    description="API 令牌（itg_…）/ an API token: Authorization: Bearer itg_…",
)


async def get_principal(
    service: ServiceDep,
    request: Request,
    _scheme: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)],
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Principal:
    """The caller, remembered on the request for the masking of the answer
    (:mod:`api.routing`). A refused token is written to the audit log: who tries tokens
    against the service is itself worth knowing."""
    try:
        principal = authenticate(service.tokens, authorization)
    except Problem as exc:
        client = request.client.host if request.client else None
        await run_in_threadpool(
            service.audit,
            None,
            request.method,
            request.url.path,
            {"client": client, "token": token_hint(authorization), "denied": "token"},
            exc.status,
        )
        raise
    request.state.principal = principal
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def roles(*allowed: str) -> Any:
    """A dependency admitting only ``allowed`` roles (403 problem otherwise)."""

    async def check(principal: PrincipalDep, request: Request, service: ServiceDep) -> Principal:
        try:
            require_role(principal, *allowed)
        except Problem:
            await run_in_threadpool(
                service.audit, principal, request.method, request.url.path, {"denied": "role"}, 403
            )
            raise
        return principal

    return Depends(check)


class Audit:
    """Write one audit entry for a request naming people or suppliers, with its outcome,
    also when the request is refused."""

    def __init__(self, service: Service, principal: Principal, request: Request) -> None:
        self.service = service
        self.principal = principal
        self.request = request

    def __call__(self, subject: dict[str, Any], outcome: int = 200) -> None:
        self.service.audit(
            self.principal, self.request.method, self.request.url.path, subject, outcome
        )

    async def wait(self, subject: dict[str, Any], outcome: int = 200) -> None:
        """The entry's commit, waited for on the event loop (no thread held while it is
        written; :func:`api.auditlog.committed`)."""
        await committed(
            *self.service.audit_entry(
                self.principal, self.request.method, self.request.url.path, subject, outcome
            )
        )

    def deny(self, subject: dict[str, Any], detail: str) -> Problem:
        self(subject | {"denied": detail}, 403)
        return Problem(403, detail)


async def get_audit(service: ServiceDep, principal: PrincipalDep, request: Request) -> Audit:
    return Audit(service, principal, request)


AuditDep = Annotated[Audit, Depends(get_audit)]
