"""The pre-award check: one contractor, one project, one panel, minutes before an award."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.concurrency import run_in_threadpool

from api.check.answer import answer
from api.check.models import CheckIn, CheckOut
from api.deps import AuditDep, PrincipalDep, ServiceDep, roles
from api.problems import Problem, problem_responses
from api.routing import MaskedRoute

router = APIRouter(
    tags=["pre-award check"],
    route_class=MaskedRoute,
    responses=problem_responses(400, 401, 403, 413, 422),
)


@router.post(
    "/check",
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
    index = service.index
    request = body.model_dump(mode="json")
    wait = service.check_rate.wait(principal.token_id or principal.name)
    if wait:
        await run_in_threadpool(audit, {"denied": "rate"}, 429)
        raise Problem(
            429,
            f"核查过于频繁，请{wait:.0f}秒后再试 / too many checks; try again in {wait:.0f} s",
            headers={"Retry-After": str(max(1, round(wait)))},
        )
    subject = {
        "supplier": {k: v for k, v in request["supplier"].items() if v},
        "panel": request["panel"],
        "quoting": [q.get("name") or q.get("uscc") for q in request["quoting_suppliers"]],
        "project": {k: v for k, v in request["project"].items() if v is not None},
    }
    if index is None:
        await run_in_threadpool(audit, subject, 503)
        detail = "尚无已完成的筛查，无法核查 / no finished screening to check against"
        if service.index_error:
            detail += f" ({service.index_error[:200]})"
        raise Problem(503, detail)
    # a few milliseconds of CPU: answered on the event loop (a worker thread would add a
    # thread hop and contend for the GIL without running any faster)
    result = answer(index, body)
    # committed before the answer goes out, in a worker thread: a database locked by a
    # screening storing its findings holds up this request, not the event loop
    await run_in_threadpool(
        audit, subject | {"verdict": result.verdict, "screening_id": index.screening_id}
    )
    # serialised by the model itself: FastAPI's generic path (validate the model it was given
    # again, encode it field by field) costs the check a few milliseconds more
    return Response(result.model_dump_json(), media_type="application/json")
