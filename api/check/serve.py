"""One pre-award check as the service answers it, for the API and the reviewer's page alike:
the index to answer from, the caller's rate, the answer, its audit entry."""

from __future__ import annotations

from api.check.answer import answer
from api.check.models import CheckIn, CheckOut
from api.deps import Audit
from api.problems import Problem
from api.security import Principal
from api.service import Service


async def run_check(
    service: Service, principal: Principal, audit: Audit, body: CheckIn
) -> CheckOut:
    """The check of ``body``; a problem (503 before any screening, 429 past the caller's
    rate) otherwise. Audited either way, the entry's commit awaited (api.auditlog: a
    database locked by a screening storing its findings holds up this request, not the
    event loop)."""
    index = service.index
    request = body.model_dump(mode="json")
    subject = {
        "supplier": {k: v for k, v in request["supplier"].items() if v},
        "panel": request["panel"],
        "quoting": [q.get("name") or q.get("uscc") for q in request["quoting_suppliers"]],
        "project": {k: v for k, v in request["project"].items() if v is not None},
    }
    wait = service.check_rate.wait(principal.token_id or principal.name)
    if wait:
        await audit.wait(subject | {"denied": "rate"}, 429)
        raise Problem(
            429,
            f"核查过于频繁，请{wait:.0f}秒后再试 / too many checks; try again in {wait:.0f} s",
            headers={"Retry-After": str(max(1, round(wait)))},
        )
    if index is None:
        await audit.wait(subject, 503)
        detail = "尚无已完成的筛查，无法核查 / no finished screening to check against"
        if service.index_error:
            detail += " (index error logged)"
        raise Problem(503, detail)
    # a few milliseconds of CPU: answered on the event loop (a worker thread would add a
    # thread hop and contend for the GIL without running any faster)
    result = answer(index, body)
    await audit.wait(subject | {"verdict": result.verdict, "screening_id": index.screening_id})
    return result
