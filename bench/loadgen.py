"""A light open-loop HTTP/1.1 load generator on asyncio streams, for bench_check.py.

httpx builds, parses and validates every request and response in Python: on this 2-core
machine the client then takes most of a core from the service it measures. This sends
requests prepared as bytes over keep-alive connections and reads each response by its
Content-Length, a few tens of microseconds of client time each.

Open loop: the requests are scheduled at Poisson arrival times (``rate`` a second) whatever
the answers; each is sent on an idle connection (a new one where none is idle, up to
MAX_CONNECTIONS; then the next to come free, the wait counted), so a slow answer cannot hold
back the requests due behind it (no coordinated omission); a connection the server resets is
counted under status -1. A request's latency counts from the moment the client starts it;
how late that was against its schedule (the event loop's timer, or a client starved of CPU)
is reported apart as the send lag.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from typing import Any

# the most connections the client opens (an overloaded server gets a queue, not a flood)
MAX_CONNECTIONS = 200


def prepared(
    host: str, method: str, path: str, token: str, bodies: list[dict[str, Any]]
) -> list[bytes]:
    """Each body as a complete request (GET requests carry none)."""
    out = []
    for body in bodies:
        data = b"" if method == "GET" else json.dumps(body, ensure_ascii=False).encode()
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n"
        )
        out.append(head.encode() + data)
    return out


async def _answer(reader: asyncio.StreamReader) -> tuple[int, float | None]:
    """(status, the Server-Timing duration in ms) of one response, its body read."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length, timing = 0, None
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "server-timing" and "dur=" in value:
            timing = float(value.split("dur=")[1])
    if length:
        await reader.readexactly(length)
    return status, timing


async def open_loop(  # noqa: PLR0915 - one loop, its connections and its figures
    host: str, port: int, requests: list[bytes], rate: float, seed: int = 3
) -> dict[str, Any]:
    """Send every request once at ``rate`` a second (Poisson); latencies and statuses."""
    rng = random.Random(seed)
    opened = 0
    latencies: list[float] = []
    server: list[float] = []
    statuses: dict[int, int] = {}
    lags: list[float] = []

    free = asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]]()
    live = 0

    async def one(request: bytes, due: float) -> None:
        nonlocal opened, live
        start = time.perf_counter()
        lags.append(start - due)
        # an idle connection, a new one up to MAX_CONNECTIONS, else the next to come free
        # (the wait counts in the latency: the request was due)
        if not free.empty() or live >= MAX_CONNECTIONS:
            reader, writer = await free.get()
        else:
            live += 1
            opened += 1
            try:
                reader, writer = await asyncio.open_connection(host, port)
            except OSError:
                live -= 1
                statuses[-1] = statuses.get(-1, 0) + 1  # refused: counted, not timed
                return
        try:
            writer.write(request)
            status, timing = await _answer(reader)
        except (OSError, asyncio.IncompleteReadError):  # reset by an overloaded server
            live -= 1
            writer.close()
            statuses[-1] = statuses.get(-1, 0) + 1
            return
        latencies.append(time.perf_counter() - start)
        statuses[status] = statuses.get(status, 0) + 1
        if timing is not None:
            server.append(timing)
        free.put_nowait((reader, writer))

    # warm: a connection per expected concurrent request, and the server's first answers
    for request in requests[:20]:
        await one(request, time.perf_counter())
    latencies.clear()
    lags.clear()
    server.clear()
    statuses.clear()
    began = time.perf_counter()
    due = began
    tasks = []
    for request in requests:
        due += rng.expovariate(rate)
        wait = due - time.perf_counter()
        if wait > 0:
            await asyncio.sleep(wait)
        tasks.append(asyncio.create_task(one(request, due)))
    await asyncio.gather(*tasks)
    wall = time.perf_counter() - began
    while not free.empty():
        free.get_nowait()[1].close()
    lags.sort()
    n = len(latencies)
    return summary("open-light", latencies, [ms / 1000 for ms in server], statuses, wall) | {
        "connections": opened,
        "retried": 0,
        "send_lag_p50_ms": round(lags[n // 2] * 1000, 2),
        "send_lag_p99_ms": round(lags[min(n - 1, int(n * 0.99))] * 1000, 2),
    }


def summary(
    mode: str,
    latencies: list[float],
    server: list[float],
    statuses: dict[int, int],
    wall: float,
) -> dict[str, Any]:
    """A loop's figures: rate, the client's latency percentiles and the service's own
    (Server-Timing), from seconds."""
    latencies, server = sorted(latencies), sorted(server)
    n, m = len(latencies), max(len(server), 1)
    return {
        "mode": mode,
        "requests": n,
        "statuses": statuses,
        "wall_s": round(wall, 2),
        "per_s": round(n / wall, 1),
        "p50_ms": round(latencies[n // 2] * 1000, 2),
        "p90_ms": round(latencies[int(n * 0.9)] * 1000, 2),
        "p99_ms": round(latencies[min(n - 1, int(n * 0.99))] * 1000, 2),
        "max_ms": round(latencies[-1] * 1000, 2),
        "server_p50_ms": round(server[m // 2] * 1000, 2) if server else None,
        "server_p99_ms": round(server[min(m - 1, int(m * 0.99))] * 1000, 2) if server else None,
    }
