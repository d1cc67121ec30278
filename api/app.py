"""The FastAPI application: ``create_app()`` wires settings, storage and the routers.

integrity serve                       # SQLite under ./var, an admin token in var/admin-token
INTEGRITY_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test integrity serve
"""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import problems
from api.routers import admin, check, datasets, findings, graph
from api.service import Service
from api.settings import Settings
from integrity import __version__
from integrity.policy import available_profiles, load_profile


class ServerTiming:
    """Pure ASGI middleware: each response says how long the service spent on it
    (``Server-Timing: app;dur=<ms>``), so a client can tell the service's time from the
    network's and its own."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        began = time.perf_counter()

        async def timed(message: Message) -> None:
            if message["type"] == "http.response.start":
                spent = (time.perf_counter() - began) * 1000
                headers = list(message.get("headers", []))
                headers.append((b"server-timing", f"app;dur={spent:.2f}".encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, timed)


def create_app(settings: Settings | None = None, *, load_index: bool = True) -> FastAPI:
    """The service. ``load_index``: rebuild the pre-award check's index from the latest
    finished screening in the background at start-up (the check answers 503 until then)."""
    service = Service(settings or Settings())

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if load_index:
            threading.Thread(target=service.load_latest_index, daemon=True).start()
        yield
        service.close()

    app = FastAPI(
        title="民生微实事廉洁风险筛查 / integrity screening",
        version=__version__,
        description=(
            "Screens community micro-project data for avoidance violations, off-catalogue "
            "suppliers, split bids and collusive quotes; triage and referral lists for the "
            "discipline commissions; a pre-award check for reviewers. Every call but /health "
            "needs `Authorization: Bearer <token>`."
        ),
        lifespan=lifespan,
    )
    app.state.service = service
    app.add_middleware(ServerTiming)
    problems.install(app)
    for module in (datasets, findings, check, graph, admin):
        app.include_router(module.router)

    @app.get("/health", tags=["service"])
    def health() -> dict[str, object]:
        """Liveness, and whether the check index is ready (no token needed)."""
        index = service.index
        return {
            "status": "ok",
            "version": __version__,
            "check_index": None
            if index is None
            else {"screening_id": index.screening_id, "policy": index.profile.name},
        }

    @app.get("/policies", tags=["service"])
    def policies() -> list[dict[str, str]]:
        """The policy profiles a screening can run under."""
        profiles = [load_profile(name) for name in available_profiles()]
        return [{"name": p.name, "label": p.label} for p in profiles]

    return app
