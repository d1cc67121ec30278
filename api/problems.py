"""Errors as RFC 9457 problem details (application/problem+json), in Chinese and English.

A bad upload answers 422 with ``errors``: one entry per problem, naming the file, row and
column as the command line does (integrity.errors.InputIssue).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.masking import mask
from integrity.errors import InputIssue

PROBLEM = "application/problem+json"
TITLES = {
    400: "请求有误 / Bad request",
    401: "未认证 / Not authenticated",
    403: "无权访问 / Forbidden",
    404: "不存在 / Not found",
    405: "方法不允许 / Method not allowed",
    409: "状态冲突 / Conflict",
    413: "上传过大 / Upload too large",
    422: "输入无效 / Invalid input",
    503: "暂不可用 / Not ready",
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
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.type = type_
        self.title = title or TITLES.get(status, "错误 / Error")
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


def install(app: FastAPI) -> None:
    async def on_problem(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, Problem)
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
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
        return problem_response(
            exc.status_code,
            str(exc.detail),
            instance=request.url.path,
            headers=dict(exc.headers or {}),
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

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(RequestValidationError, on_validation)
