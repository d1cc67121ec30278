"""Errors as RFC 9457 problem details (application/problem+json), in Chinese and English.

A bad upload answers 422 with ``errors``: one entry per problem, naming the file, row and
column as the command line does (integrity.errors.InputIssue).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException

from integrity.errors import InputIssue
from integrity.masking import mask

PROBLEM = "application/problem+json"
log = logging.getLogger("integrity.api")
TITLES = {
    400: "请求有误 / Bad request",
    401: "未认证 / Not authenticated",
    403: "无权访问 / Forbidden",
    404: "不存在 / Not found",
    405: "方法不允许 / Method not allowed",
    409: "状态冲突 / Conflict",
    413: "上传过大 / Upload too large",
    422: "输入无效 / Invalid input",
    429: "请求过多 / Too many requests",
    500: "服务内部错误 / Internal error",
    503: "暂不可用 / Not ready",
}
DESCRIPTIONS = {
    400: "the request cannot be read",
    401: "no token, or a token that is invalid or revoked",
    403: "the caller's role or streets do not allow it (logged)",
    404: "no such resource",
    409: "the resource's state does not allow it, or a name matches several entities",
    413: "the body (or an upload once unpacked) is over its limit",
    422: "invalid parameters or body; for uploads, one entry per problem naming file, row "
    "and column",
    429: "too many screenings waiting; try again later",
    503: "not ready: no finished screening to answer from yet, or a worker process died",
}


class ProblemOut(BaseModel):
    """RFC 9457 problem details, as every error of the service is answered."""

    model_config = ConfigDict(extra="allow")

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    instance: str
    errors: list[dict[str, Any]] | None = None


PROBLEM_SCHEMA = ProblemOut.model_json_schema()


def problem_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` declaring ``codes`` as problem details (by default the
    codes every authenticated route can answer)."""
    return {
        code: {
            "description": DESCRIPTIONS.get(code, TITLES.get(code, "error")),
            "content": {PROBLEM: {"schema": PROBLEM_SCHEMA}},
        }
        for code in codes or (401, 403, 404, 413, 422)
    }


class Problem(Exception):  # noqa: N818 - it is the RFC's name
    """Raise to answer with problem details."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        type_: str = "about:blank",
        title: str | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.type = type_
        self.title = title or TITLES.get(status, "错误 / Error")
        self.headers = headers or {}
        self.extra = extra


def problem_response(
    status: int,
    detail: str,
    *,
    instance: str,
    type_: str = "about:blank",
    title: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": type_,
        "title": title or TITLES.get(status, "错误 / Error"),
        "status": status,
        "detail": detail,
        "instance": instance,
        **extra,
    }
    # an error names what was asked (an entity, a cell's value): ID numbers masked for every
    # caller, as problems are answered before the caller's role is known
    body = mask(body)
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def issue_entry(issue: InputIssue) -> dict[str, Any]:
    entry = issue.to_dict()
    entry["where_zh"] = issue.location_zh()
    entry["where_en"] = issue.location_en()
    return entry


def _allowed(request: Request) -> list[str]:
    """Every method some route of the app answers on the request's path."""
    methods: set[str] = set()
    for route in request.app.routes:
        regex = getattr(route, "path_regex", None)
        if regex is not None and regex.match(request.url.path):
            methods.update(getattr(route, "methods", None) or ())
    return sorted(methods)


def install(app: FastAPI) -> None:
    async def on_problem(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, Problem)
        headers = dict(exc.headers)
        if exc.status == 401:
            headers["WWW-Authenticate"] = "Bearer"
        return problem_response(
            exc.status,
            exc.detail,
            instance=request.url.path,
            type_=exc.type,
            title=exc.title,
            headers=headers,
            **exc.extra,
        )

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            # Starlette names the methods of the first route on the path only
            headers["Allow"] = ", ".join(_allowed(request))
        return problem_response(
            exc.status_code,
            str(exc.detail),
            instance=request.url.path,
            headers=headers,
        )

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = [
            {
                "where": ".".join(str(p) for p in e.get("loc", ())),
                "message": str(e.get("msg", "")),
            }
            for e in exc.errors()
        ]
        return problem_response(
            422,
            "请求参数无效 / the request's parameters are invalid",
            instance=request.url.path,
            errors=errors,
        )

    async def on_error(request: Request, exc: Exception) -> JSONResponse:
        # a defect of ours: logged with its traceback (masked, api.logs), answered as a
        # problem naming nothing of the request
        log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return problem_response(
            500,
            "服务内部错误，已记录 / an internal error; it has been logged",
            instance=request.url.path,
        )

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(Exception, on_error)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(RequestValidationError, on_validation)
