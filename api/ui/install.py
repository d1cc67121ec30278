"""Mounting the pages on the service's app: their routers, their static files, the
redirect to sign in."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from api.ui.common import HERE, NotSignedIn, to_login
from api.ui.pages_check import router as check_pages
from api.ui.pages_findings import router as findings_pages
from api.ui.pages_screenings import router as screenings_pages


def install_pages(app: FastAPI) -> None:
    app.mount("/ui/static", StaticFiles(directory=HERE / "static"), name="ui-static")
    for router in (check_pages, findings_pages, screenings_pages):
        app.include_router(router)

    async def sign_in_first(request: Request, _exc: Exception) -> Response:
        return to_login(request)

    app.add_exception_handler(NotSignedIn, sign_in_first)

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/ui", status_code=303)
