"""The pre-award check: one contractor, one project, one panel, minutes before an award."""

from __future__ import annotations

from fastapi import APIRouter, Response

from api.check.models import CheckIn, CheckOut
from api.check.serve import run_check
from api.deps import AuditDep, PrincipalDep, ServiceDep, roles
from api.problems import problem_responses
from api.routing import MaskedRoute

router = APIRouter(
    tags=["pre-award check"],
    route_class=MaskedRoute,
    responses=problem_responses(400, 401, 403, 413, 422),
)


@router.post(
    "/check",
    summary="签约前核查：供应商、项目与评审人员",
    response_model=CheckOut,
    dependencies=[roles("admin", "reviewer", "auditor")],
    responses=problem_responses(429, 503),
)
async def check(
    body: CheckIn, service: ServiceDep, audit: AuditDep, principal: PrincipalDep
) -> Response:
    """Before an award: judged by the same rules as the batch screening (avoidance with the
    kinship path and how sure each identity link is, the catalogue on the award date, the
    cap, a split with the supplier's or a related supplier's earlier awards in the place,
    related or patterned quotes, the nominators), answered from the latest finished
    screening's in-memory index.

    `verdict`: `conflict` (a panel member must step aside), `unknown` (the supplier or a
    panel member cannot be told apart: pick one of the candidates and check again),
    `caution` (something to check first), `clear` (every rule that applies found nothing);
    `summary` says it in one sentence, `rules` says what each rule checked or why it could
    not, `assessments` are the findings, as the batch writes them."""
    result = await run_check(service, principal, audit, body)
    # serialised by the model itself: FastAPI's generic path (validate the model it was given
    # again, encode it field by field) costs the check a few milliseconds more
    return Response(result.model_dump_json(), media_type="application/json")
