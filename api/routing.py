"""The one place every JSON answer passes through on its way out: resident ID numbers masked
for every caller but admin.

Routers are built with ``APIRouter(route_class=MaskedRoute)``. The caller is known once the
token is checked (``request.state.principal``, set by :func:`api.deps.get_principal`);
answers to no one in particular (``/health``) are masked too. Problem details are masked for
everyone in :mod:`api.problems`; workbooks are masked row by row before they are written
(:func:`api.security.present`), as their bytes are zipped XML.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute
from starlette.responses import StreamingResponse

from integrity.masking import could_hold_id, mask

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


def masked(response: Response, request: Request) -> Response:
    """The response as the caller may see it: every string of the JSON value masked (the
    value, not its bytes: an escape such as ``\\n`` before a number, or a number written in
    full-width digits, would hide it from a pattern run over the serialised text)."""
    principal = getattr(request.state, "principal", None)
    if principal is not None and principal.is_admin:
        return response
    if isinstance(response, StreamingResponse):
        return response  # written masked by its producer (the exports)
    body = bytes(response.body)
    if not body or not (response.media_type or "").endswith("json"):
        return response
    if not could_hold_id(body.decode("utf-8", errors="replace")):
        return response  # most answers: no number to mask, no parse and walk
    value = json.loads(body)
    hidden = mask(value)
    if hidden != value:
        data = json.dumps(hidden, ensure_ascii=False, separators=(",", ":")).encode()
        response.body = data
        response.headers["content-length"] = str(len(data))
    return response


class MaskedRoute(APIRoute):
    def get_route_handler(self) -> Handler:
        inner = super().get_route_handler()

        async def handler(request: Request) -> Response:
            return masked(await inner(request), request)

        return handler


# operations other answers link to (OpenAPI links: a client, or schemathesis' stateful tests,
# follows them with the ids an answer carries)
GET_DATASET = "get_dataset"
GET_SCREENING = "get_screening"
CANCEL_SCREENING = "cancel_screening"
GET_FINDING = "get_finding"
FINDING_HISTORY = "finding_history"
CHANGE_STATUS = "change_finding_status"
REVOKE_TOKEN = "revoke_token"
# the path parameter each of them takes
PARAMETER = {
    GET_DATASET: "dataset_id",
    GET_SCREENING: "screening_id",
    CANCEL_SCREENING: "screening_id",
    GET_FINDING: "finding_id",
    FINDING_HISTORY: "finding_id",
    CHANGE_STATUS: "finding_id",
    REVOKE_TOKEN: "token_id",
}


def links(targets: dict[str, str]) -> dict[str, Any]:
    """OpenAPI ``links`` of a response: ``{operation id: runtime expression}`` for each
    operation whose path parameter the answer supplies."""
    return {
        op: {"operationId": op, "parameters": {PARAMETER[op]: expression}}
        for op, expression in targets.items()
    }
