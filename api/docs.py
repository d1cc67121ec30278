"""The API's documentation pages, served with the package's own assets (no CDN: the service
runs on intranets), with the bearer scheme's Authorize button and Chinese summaries."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = Path(str(resources.files("fastapi_offline") / "static"))
# every operation's one-line summary, in the language of the people who call it
SUMMARIES = {
    ("POST", "/datasets"): "上传数据集（CSV、zip 或工作簿；全部无误才保存）",
    ("GET", "/datasets"): "数据集列表",
    ("GET", "/datasets/{dataset_id}"): "一个数据集",
    ("POST", "/screenings"): "开始筛查（按政策配置名称）",
    ("GET", "/screenings"): "筛查列表",
    ("GET", "/screenings/{screening_id}"): "筛查进度与运行记录",
    ("DELETE", "/screenings/{screening_id}"): "取消筛查",
    ("POST", "/demo"): "载入演示数据并开始筛查",
    ("GET", "/findings"): "风险发现列表（可筛选、查找）",
    ("GET", "/findings/{finding_id}"): "一条发现及其证据",
    ("POST", "/findings/{finding_id}/status"): "处理一条发现（须填理由）",
    ("GET", "/findings/{finding_id}/history"): "一条发现的处理记录",
    ("GET", "/exports/referrals.xlsx"): "导出问题线索移送清单",
    ("GET", "/exports/off-catalogue.xlsx"): "导出第十六条报备清单",
    ("POST", "/check"): "签约前核查：供应商、项目与评审人员",
    ("GET", "/graph/neighbourhood"): "关系图：某人或某单位周边",
    ("GET", "/graph/path"): "关系图：两者之间的关系路径",
    ("POST", "/tokens"): "签发令牌",
    ("GET", "/tokens"): "令牌列表",
    ("DELETE", "/tokens/{token_id}"): "吊销令牌",
    ("GET", "/audit"): "审计日志",
    ("GET", "/me"): "当前令牌",
    ("GET", "/health"): "服务状态",
    ("GET", "/policies"): "政策配置列表",
    ("POST", "/policies"): "添加政策配置（管理员）",
}


def install_docs(app: FastAPI) -> None:
    """/docs (Swagger UI) and /redoc from local assets; the summaries set on every operation
    of the OpenAPI document."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        schema = generate()  # made once and kept by FastAPI; summarised in place, once
        for path, operations in schema.get("paths", {}).items():
            for method, operation in operations.items():
                said = SUMMARIES.get((method.upper(), path))
                if said:
                    operation["summary"] = said
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
    app.mount("/static/docs", StaticFiles(directory=ASSETS), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def swagger() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title=f"{app.title} · 接口文档",
            swagger_js_url="/static/docs/swagger-ui-bundle.js",
            swagger_css_url="/static/docs/swagger-ui.css",
            swagger_favicon_url="/static/docs/favicon.png",
            swagger_ui_parameters={"persistAuthorization": True, "docExpansion": "list"},
        )

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url="/openapi.json",
            title=f"{app.title} · 接口文档",
            redoc_js_url="/static/docs/redoc.standalone.js",
            redoc_favicon_url="/static/docs/favicon.png",
            with_google_fonts=False,
        )
