"""The pre-award check: one contractor, one project, one panel, minutes before an award."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import AuditDep, ServiceDep, roles
from api.jsonable import plain
from api.problems import Problem, problem_responses
from api.routing import MaskedRoute
from api.schemas import CheckIn

router = APIRouter(
    tags=["pre-award check"],
    route_class=MaskedRoute,
    responses=problem_responses(400, 401, 403, 413, 422),
)


@router.post(
    "/check",
    dependencies=[roles("admin", "reviewer", "auditor")],
    responses=problem_responses(503),
)
async def check(body: CheckIn, service: ServiceDep, audit: AuditDep) -> JSONResponse:
    """Before an award: does any panel member have to step aside (with the kinship path and
    how sure each identity link is), is the supplier in the catalogue on that date, would
    this award make a split with the supplier's (or a related supplier's) recent awards in
    the community, are the other quoting suppliers related to it. Answered from the latest
    finished screening's in-memory index.

    ``verdict``: ``conflict`` (a panel member must step aside), ``caution`` (something to
    check first: a lead below confidence 0.5, off-catalogue, over the cap, split risk,
    related quotes) or ``clear``."""
    index = service.index
    request = body.model_dump(mode="json")
    subject = {
        "supplier": {k: v for k, v in request["supplier"].items() if v},
        "panel": request["panel"],
        "quoting": [q.get("name") or q.get("uscc") for q in request["quoting_suppliers"]],
        "project": {k: v for k, v in request["project"].items() if v is not None},
    }
    if index is None:
        audit(subject, 503)
        detail = "尚无已完成的筛查，无法核查 / no finished screening to check against"
        if service.index_error:
            detail += f" ({service.index_error[:200]})"
        raise Problem(503, detail)
    # a few milliseconds of CPU: answered on the event loop (a worker thread would add a
    # thread hop and contend for the GIL without running any faster)
    answer = plain(index.check(request))
    audit(subject | {"verdict": answer["verdict"], "screening_id": index.screening_id})
    return JSONResponse(answer)
