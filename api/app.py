"""The FastAPI application: ``create_app()`` wires settings, storage and the routers.

integrity serve                       # SQLite under ./var, an admin token in var/admin-token
INTEGRITY_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test integrity serve
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import problems
from api.check.index import CheckIndex
from api.docs import install_docs
from api.limits import MULTIPART_OVERHEAD, BodyLimit
from api.logs import install_log_masking
from api.routers import admin, check, datasets, documents, findings, graph
from api.routers import service as service_router
from api.service import Service
from api.settings import Settings
from api.ui.install import install_pages
from integrity import __version__

log = logging.getLogger("integrity.api")


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


def create_app(
    settings: Settings | None = None,
    *,
    load_index: bool = True,
    shared_index: tuple[CheckIndex | None, str | None] | None = None,
) -> FastAPI:
    """The service. ``load_index``: rebuild the pre-award check's index from the latest
    finished screening in the background at start-up (the check answers 503 until then).
    ``shared_index``: (index, source) a parent process loaded before forking this worker
    (:mod:`api.workers`): answered from as it is, the parent taking up newer screenings."""
    service = Service(settings or Settings())
    if shared_index is not None:
        service.adopt_index(*shared_index)
    # screenings of a process that is gone (a crash, a restart) are ended; never those of
    # another live worker, and never by the command line (which builds no app)
    for ended in service.jobs.recover():
        log.warning("screening %s ended: its process is gone", ended)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        install_log_masking()  # again: a server may configure its handlers after the app
        stop = threading.Event()
        if load_index:
            threading.Thread(target=service.follow_latest, args=(stop,), daemon=True).start()
        yield
        stop.set()
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
        docs_url=None,  # served by api.docs from local assets
        redoc_url=None,
    )
    app.state.service = service
    settings = service.settings

    def body_limit(method: str, path: str) -> int:
        if method == "POST" and path == "/datasets":
            return settings.max_upload_bytes + MULTIPART_OVERHEAD
        return settings.max_body_bytes

    app.add_middleware(BodyLimit, limit_for=body_limit)
    app.add_middleware(ServerTiming)
    problems.install(app)
    install_log_masking()
    for module in (datasets, findings, documents, check, graph, admin, service_router):
        app.include_router(module.router)
    install_docs(app)
    install_pages(app)
    return app
