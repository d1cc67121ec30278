"""Request bodies bounded before they are read: a body larger than its route allows is
refused (413) from its ``Content-Length`` before a byte is parsed, and a body without one is
counted as it arrives and refused at the limit — so a multipart parser never spools an
unbounded upload to disk."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.problems import problem_response
from integrity.masking import mask_text

MULTIPART_OVERHEAD = 1 << 20  # the form's boundaries and headers around the files


class BodyLimit:
    """Pure ASGI middleware; ``limit_for(method, path)`` gives a route's largest body."""

    def __init__(self, app: ASGIApp, limit_for: Callable[[str, str], int]) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["method"], scope["path"])
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None:
            try:
                size = int(declared)
            except ValueError:
                size = -1
            if size < 0 or size > limit:
                response = problem_response(
                    413 if size > limit else 400,
                    f"请求体超过 {limit} 字节 / the request body is over {limit} bytes"
                    if size > limit
                    else "Content-Length 无效 / invalid Content-Length",
                    instance=mask_text(scope["path"]),
                )
                await response(scope, receive, send)
                return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    # raised inside the route's body parsing: answered by the problem handler
                    raise HTTPException(
                        413, f"请求体超过 {limit} 字节 / the request body is over {limit} bytes"
                    )
            return message

        await self.app(scope, counted, send)


class RateLimit:
    """At most ``per_minute`` requests a minute for each caller (a sliding window, in this
    process). The pre-award check answers whether a named person with a given ID number
    holds a role: unbounded, it would let a caller test guesses at a number."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._seen: dict[object, deque[float]] = {}
        self._lock = threading.Lock()

    def wait(self, caller: object) -> float:
        """0 when the caller may go on (the request is counted), else the seconds to wait."""
        now = time.monotonic()
        with self._lock:
            seen = self._seen.setdefault(caller, deque())
            while seen and now - seen[0] >= 60:
                seen.popleft()
            if len(seen) >= self.per_minute:
                return 60 - (now - seen[0])
            seen.append(now)
            if len(self._seen) > 10_000:  # callers long gone
                self._seen = {k: v for k, v in self._seen.items() if v and now - v[-1] < 60}
            return 0.0
