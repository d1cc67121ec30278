"""Tokens (admin) and the audit log (admin, auditor)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, status
from sqlmodel import col, select

from api.deps import PrincipalDep, ServiceDep, SessionDep, roles
from api.models import ApiToken, AuditEntry
from api.problems import Problem, problem_responses
from api.routing import REVOKE_TOKEN, MaskedRoute, links
from api.schemas import AuditOut, TokenIn, TokenOut
from api.service import UnknownStreet

MAX_ID = 2**31 - 1  # the database's integer keys (PostgreSQL's integer)
router = APIRouter(
    tags=["access and audit"],
    route_class=MaskedRoute,
    responses=problem_responses(400, 401, 403, 413, 422),
)


def _token_out(record: ApiToken, token: str | None = None) -> TokenOut:
    return TokenOut.model_validate(record.model_dump() | {"token": token})


@router.post(
    "/tokens",
    response_model=TokenOut,
    status_code=status.HTTP_201_CREATED,
    dependencies=[roles("admin")],
    responses={
        201: {"description": "issued", "links": links({REVOKE_TOKEN: "$response.body#/id"})}
    },
)
def issue_token(body: TokenIn, service: ServiceDep, principal: PrincipalDep) -> TokenOut:
    """Issue a token; it is shown once here and stored only as a keyed hash. A commission's
    streets must be streets a stored dataset names. Written to the audit log."""
    try:
        token, record = service.issue_token(body.name, body.role, body.streets, principal)
    except UnknownStreet as exc:
        known = "、".join(exc.known) or "（尚无数据集）"
        raise Problem(
            422,
            f"没有数据集包含街道「{'、'.join(exc.streets)}」/ no dataset names "
            f"{', '.join(exc.streets)}; 已知街道 / known streets: {known}",
            known_streets=exc.known,
        ) from exc
    except ValueError as exc:
        raise Problem(422, str(exc)) from exc
    return _token_out(record, token)


@router.get("/tokens", response_model=list[TokenOut], dependencies=[roles("admin")])
def list_tokens(session: SessionDep) -> list[TokenOut]:
    return [_token_out(r) for r in session.exec(select(ApiToken).order_by(col(ApiToken.id)))]


@router.delete(
    "/tokens/{token_id}",
    operation_id=REVOKE_TOKEN,
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=[roles("admin")],
    responses=problem_responses(404),
)
def revoke_token(
    token_id: Annotated[int, Path(ge=1, le=MAX_ID)], service: ServiceDep, principal: PrincipalDep
) -> None:
    """Revoke a token: refused at once by every worker of the service. Audited."""
    if not service.revoke_token(token_id, principal):
        raise Problem(404, f"令牌不存在 / no token {token_id}")


@router.get("/audit", response_model=list[AuditOut], dependencies=[roles("admin", "auditor")])
def audit_log(
    session: SessionDep,
    actor: str | None = None,
    path: str | None = None,
    after_id: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[AuditOut]:
    """The audit log, oldest first from ``after_id``: who asked what, when, and the answer
    (ID numbers in what was asked masked for every reader but admin)."""
    stmt = select(AuditEntry).where(col(AuditEntry.id) > after_id)
    if actor is not None:
        stmt = stmt.where(AuditEntry.actor == actor)
    if path is not None:
        stmt = stmt.where(col(AuditEntry.path).startswith(path, autoescape=True))
    rows = session.exec(stmt.order_by(col(AuditEntry.id)).limit(limit)).all()
    return [AuditOut.model_validate(r.model_dump()) for r in rows]


@router.get("/me", response_model=TokenOut | None)
def whoami(principal: PrincipalDep, session: SessionDep) -> TokenOut | None:
    """The caller's own token record (role and streets)."""
    if principal.token_id is None:
        return None
    record = session.get(ApiToken, principal.token_id)
    return _token_out(record) if record else None
