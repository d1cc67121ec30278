"""The pre-award check at city scale, over HTTP, against re-running the batch path.

    make bench-check        # or: .venv/bin/python bench/bench_check.py [--scale 1.0]

1. Generates the city-scale district of bench_scan.py (30,000 staff, 300,000 registry kin
   links, 100,000 suppliers with 400,000 supplier_people rows, 20,000 projects).
2. Uploads it to a fresh service (SQLite, in this process) and runs its screening: the batch
   path, timed; the check index is built at its end (run.json: check_index_seconds).
3. Serves the app with uvicorn (one process, as `integrity serve`; with ``--workers N`` as
   `integrity serve --workers N`: N workers forked from a parent that reads the screening's
   kept index once, sharing it) and drives it from a separate client process (httpx,
   asyncio) on the same machine with 2,000 checks: a supplier from the registry,
   a panel of five officials of the project's street, a project (category, amount,
   community, date, title); 5% are the planted conflicts (the screening's avoidance
   findings), 20% name two other quoting suppliers.
   - open loop: 50 clients, Poisson arrivals at ``--rate`` checks a second in all (200, the
     issue's target): the latency a reviewer sees, p50 and p99;
   - closed loop: 50 clients sending back to back: the most the service answers per second
     and the latency at that saturation;
   - floor, floor-closed: the same two loops on GET /health, a request that does nothing:
     what HTTP and the client cost by themselves on this machine (the client shares its two
     cores with the service);
   - open-light, floor-light: the open loops again from a light client (loadgen.py: requests
     prepared as bytes, latency from each request's scheduled time), and, where wrk is
     installed, the closed loops from wrk (C): httpx takes most of a core from the service.
4. Prints the ratio: the batch path's seconds over the check's p50, and the memory the loaded
   index holds (RSS after the screening minus RSS before it; the index's frames).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from loadgen import summary  # noqa: E402 - bench/ on the path first
from peak import descendants, peak_mib, pss_mib, rss_now_mib  # noqa: E402

CLIENTS = 50
MODES = ("floor", "open", "closed", "floor-closed", "floor-light", "open-light")


def rss_mib() -> float:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


# --------------------------------------------------------------------------- the client


async def _drive(
    url: str, token: str, bodies: list[dict[str, Any]], mode: str, rate: float
) -> dict[str, Any]:
    import httpx  # noqa: PLC0415

    headers = {"Authorization": f"Bearer {token}"}
    latencies: list[float] = []
    server: list[float] = []
    statuses: dict[int, int] = {}
    retried: list[float] = []
    limits = httpx.Limits(max_connections=60, max_keepalive_connections=60)
    async with httpx.AsyncClient(base_url=url, headers=headers, limits=limits, timeout=60) as c:
        for body in bodies[:20]:  # warm the connections and the server
            await c.post("/check", json=body)
        queue = list(enumerate(bodies))
        rng = random.Random(3)

        async def send(body: dict[str, Any]) -> httpx.Response:
            if mode.startswith("floor"):  # the transport alone: a request that does nothing
                return await c.get("/health")
            return await c.post("/check", json=body)

        async def one(body: dict[str, Any]) -> None:
            t0 = time.perf_counter()
            try:
                r = await send(body)
            except httpx.TransportError:
                # a keep-alive connection the server closed (uvicorn: after 5 s idle, which
                # an open-loop client's pause sometimes exceeds) as the request went out: sent
                # again, as any HTTP client does, the time counted and the retry reported
                retried.append(time.perf_counter() - t0)
                r = await send(body)
            latencies.append(time.perf_counter() - t0)
            statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
            timing = r.headers.get("server-timing", "")
            if "dur=" in timing:
                server.append(float(timing.split("dur=")[1]) / 1000)

        async def client(k: int) -> None:
            while queue:
                _, body = queue.pop()
                if mode in ("open", "floor"):  # Poisson arrivals, ``rate`` a second in all
                    await asyncio.sleep(rng.expovariate(rate / CLIENTS))
                await one(body)

        began = time.perf_counter()
        await asyncio.gather(*(client(k) for k in range(CLIENTS)))
        wall = time.perf_counter() - began
    return summary(mode, latencies, server, statuses, wall) | {"retried": len(retried)}


def client_main(args: argparse.Namespace) -> int:
    bodies = json.loads(Path(args.bodies).read_text(encoding="utf-8"))
    if args.mode.endswith("-light"):  # the open loop from the light client (loadgen.py)
        from loadgen import open_loop, prepared  # noqa: PLC0415

        host, port = args.url.split("//")[1].split(":")
        health = args.mode.startswith("floor")
        requests = prepared(
            f"{host}:{port}", "GET" if health else "POST", "/health" if health else "/check",
            args.token, bodies,
        )  # fmt: skip
        result = asyncio.run(open_loop(host, int(port), requests, args.rate))
        result["mode"] = args.mode
        print(json.dumps(result))
        return 0
    result = asyncio.run(_drive(args.url, args.token, bodies, args.mode, args.rate))
    print(json.dumps(result))
    return 0


# --------------------------------------------------------------------------- wrk

WRK_SECONDS = 15
WRK_SCRIPT = """
local bodies = {}
for line in io.lines(%(bodies)s) do bodies[#bodies + 1] = line end
local i = 0
local headers = {["Content-Type"] = "application/json", ["Authorization"] = %(auth)s}
request = function()
  i = i %% #bodies + 1
  if %(health)s then return wrk.format("GET", "/health", headers) end
  return wrk.format("POST", "/check", headers, bodies[i])
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT %%d %%d %%d %%d %%d %%d\\n", summary.requests,
    summary.duration, summary.errors.status, latency:percentile(50),
    latency:percentile(90), latency:percentile(99)))
end
"""


def _wrk(
    url: str, token: str, bodies: list[dict[str, Any]], path: str, tmp: Path
) -> dict[str, Any]:
    """A closed loop from wrk (C, one thread, 50 connections): the client takes a few per
    cent of a core where httpx takes most of one, so the service has the machine."""
    lines = tmp / "bodies.jsonl"
    lines.write_text(
        "\n".join(json.dumps(b, ensure_ascii=False) for b in bodies) + "\n", encoding="utf-8"
    )
    script = tmp / "check.lua"
    script.write_text(
        WRK_SCRIPT
        % {
            "bodies": json.dumps(str(lines)),
            "auth": json.dumps(f"Bearer {token}"),
            "health": "true" if path == "/health" else "false",
        },
        encoding="utf-8",
    )
    out = subprocess.run(
        ["wrk", "-t1", "-c50", f"-d{WRK_SECONDS}s", "-s", str(script), url],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    line = next(x for x in out.splitlines() if x.startswith("RESULT "))
    n, micros, errors, p50, p90, p99 = (int(v) for v in line.split()[1:])
    return {
        "path": path,
        "requests": n,
        "seconds": round(micros / 1e6, 2),
        "per_s": round(n / (micros / 1e6), 1),
        "errors": errors,
        "p50_ms": round(p50 / 1000, 2),
        "p90_ms": round(p90 / 1000, 2),
        "p99_ms": round(p99 / 1000, 2),
    }


# --------------------------------------------------------------------------- the server


def _wait_ready(url: str, workers: int) -> None:
    """Until /health shows a check index on many calls in a row (every worker ready)."""
    import httpx  # noqa: PLC0415

    ready = 0
    while ready < 20 * workers:
        try:
            body = httpx.get(f"{url}/health", timeout=5).json()
            ready = ready + 1 if body.get("check_index") else 0
        except httpx.HTTPError:
            ready = 0
        time.sleep(0.05 if ready else 2)


def _requests(service: Any, n: int, seed: int = 11) -> list[dict[str, Any]]:
    from sqlmodel import Session, select  # noqa: PLC0415

    from api.models import FindingRecord  # noqa: PLC0415

    index = service.index
    rng = random.Random(seed)
    t = index.scr.keyed
    projects = t["projects"].dropna(subset=["org_key"]).reset_index(drop=True)
    staff_by_street: dict[str, list[str]] = {}
    for sid, r in index.staff.items():
        staff_by_street.setdefault(str(r.get("street")), []).append(sid)
    usccs = [k[5:] for k in index.holder_pos if str(k).startswith("uscc:")]
    with Session(service.engine) as session:
        planted = [
            r.data
            for r in session.exec(
                select(FindingRecord).where(
                    FindingRecord.rule == "avoidance", FindingRecord.confidence >= 0.5
                )
            ).all()
        ]
    bodies = []
    for i in range(n):
        p = projects.iloc[rng.randrange(len(projects))]
        street = str(p["street"])
        panel = rng.sample(staff_by_street[street], min(5, len(staff_by_street[street])))
        supplier = rng.choice(usccs)
        if planted and i % 20 == 0:  # 5%: a planted conflict
            f = planted[rng.randrange(len(planted))]
            supplier, panel = f["suppliers"][0], [*f["staff_ids"], *panel[:4]]
        body: dict[str, Any] = {
            "supplier": {"uscc": supplier},
            "project": {
                "category": str(p["category"]),
                "amount": float(p["amount"]),
                "community": str(p["community"]),
                "street": street,
                "date": str(p["award_date"].date()),
                "title": str(p["name"]),
            },
            "panel": [{"staff_id": s} for s in panel],
        }
        if i % 5 == 1:  # 20%: two other suppliers quoted
            body["quoting_suppliers"] = [{"uscc": rng.choice(usccs)} for _ in range(2)]
        bodies.append(body)
    return bodies


def main() -> int:  # noqa: PLR0912, PLR0915 - one benchmark, read top to bottom
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="serve with `integrity serve --workers N` (each worker rebuilds the index) "
        "instead of uvicorn in this process",
    )
    parser.add_argument(
        "--rate",
        type=float,
        default=200.0,
        help="the open loop's arrivals per second, all clients together (the issue's 200)",
    )
    parser.add_argument(
        "--keep",
        type=Path,
        help="work in this folder and keep it: the screened city's data dir (var/), the "
        "request bodies, wrk's script and the token, to serve and load it again by hand",
    )
    parser.add_argument("--client", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--token", help=argparse.SUPPRESS)
    parser.add_argument("--bodies", help=argparse.SUPPRESS)
    parser.add_argument("--mode", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        return client_main(args)

    import uvicorn  # noqa: PLC0415
    from bench_scan import make_district  # noqa: PLC0415

    from api.app import create_app  # noqa: PLC0415
    from api.check.answer import answer  # noqa: PLC0415
    from api.check.models import CheckIn  # noqa: PLC0415
    from api.settings import Settings  # noqa: PLC0415
    from api.store import Limits, Upload, ingest  # noqa: PLC0415

    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
    with nullcontext(str(args.keep)) if args.keep else tempfile.TemporaryDirectory() as tmp:
        city = Path(tmp) / "city"
        city.mkdir(exist_ok=True)
        t0 = time.perf_counter()
        planted = make_district(city, args.scale)
        print(f"generated in {time.perf_counter() - t0:.1f} s ({len(planted)} planted conflicts)")
        settings = Settings(
            data_dir=Path(tmp) / "var",
            token_secret="bench",
            workers=1,
            check_rate_per_minute=10**9,  # one reviewer token sends every check
        )
        app = create_app(settings, load_index=False)
        service = app.state.service
        token, _ = service.tokens.issue("bench reviewer", "reviewer")
        if args.keep:
            (args.keep / "token.txt").write_text(token, encoding="utf-8")
        handles = [p.open("rb") for p in sorted(city.glob("*.csv"))]
        uploads = [Upload(Path(h.name).name, h) for h in handles]
        t1 = time.perf_counter()
        record, _ = ingest(
            service.engine,
            settings.datasets_dir,
            uploads,
            name="city",
            actor="bench",
            limits=Limits.of(2**34),
        )
        for h in handles:
            h.close()
        del uploads
        print(f"upload (validate and store): {time.perf_counter() - t1:.1f} s")
        gc.collect()
        before = rss_mib()
        t2 = time.perf_counter()
        screening, _ = service.start_screening(record, "longgang-2023", None, "bench")
        service.futures[screening.id].result()
        batch = time.perf_counter() - t2
        from sqlmodel import Session  # noqa: PLC0415

        from api.models import ScreeningRecord  # noqa: PLC0415

        with Session(service.engine) as session:
            done = session.get(ScreeningRecord, screening.id)
            assert done is not None and done.status == "done", done and done.error
            run = done.run or {}
        gc.collect()
        after = rss_mib()
        index = service.index
        frames = (
            sum(int(f.memory_usage(deep=True).sum()) for f in (index.kin, index.holders)) / 2**20
        )
        print(
            f"batch path (screening: load, resolve, kinship, every rule, store, index): "
            f"{batch:.1f} s; stages {json.dumps(run.get('stages_seconds'))}; "
            f"check index built in {run.get('check_index_seconds')} s"
        )
        print(
            f"memory: RSS {before:,.0f} MiB before the screening, {after:,.0f} MiB after "
            f"(+{after - before:,.0f} MiB held: the index and the screening it keeps); "
            f"the index's kin and holder frames {frames:,.0f} MiB ({len(index.kin):,} kin rows, "
            f"{len(index.holders):,} holders)"
        )
        bodies = _requests(service, args.requests)
        # in-process, no HTTP: the check itself
        inproc = []
        for body in bodies[:500]:
            c0 = time.perf_counter()
            answer(index, CheckIn.model_validate(body))
            inproc.append(time.perf_counter() - c0)
        inproc.sort()
        print(
            f"check in-process (500, no HTTP): p50 {inproc[250] * 1000:.2f} ms, "
            f"p99 {inproc[495] * 1000:.2f} ms, max {inproc[-1] * 1000:.2f} ms"
        )
        bodies_file = Path(tmp) / "bodies.json"
        bodies_file.write_text(json.dumps(bodies, ensure_ascii=False), encoding="utf-8")
        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=args.port, log_level="warning")
        )
        thread = threading.Thread(target=server.run, daemon=True)
        workers = None
        if args.workers > 1:
            service.index = None  # the workers build their own
            gc.unfreeze()
            gc.collect()
            service.close()
            env = os.environ | {
                "INTEGRITY_TOKEN_SECRET": "bench",
                "INTEGRITY_CHECK_RATE_PER_MINUTE": str(10**9),
            }
            command = [str(Path(sys.executable).parent / "integrity"), "serve", "--data-dir",
                       str(settings.data_dir), "--port", str(args.port), "--workers",
                       str(args.workers), "--log-level", "warning"]  # fmt: skip
            workers = subprocess.Popen(
                command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            began = time.perf_counter()
            _wait_ready(f"http://127.0.0.1:{args.port}", args.workers)
            print(f"{args.workers} workers ready (one index, read once by their parent "
                  f"and shared) in {time.perf_counter() - began:.1f} s")  # fmt: skip
        else:
            thread.start()
            while not server.started:
                time.sleep(0.05)
        results = []
        worker_peaks: list[float] = []
        shared: list[tuple[int, float, float]] = []
        wrk_results: list[dict[str, Any]] = []
        try:
            for mode in MODES:
                url = f"http://127.0.0.1:{args.port}"
                command = [sys.executable, __file__, "--client", "--url", url, "--token", token,
                           "--bodies", str(bodies_file), "--mode", mode,
                           "--rate", str(args.rate)]  # fmt: skip
                env = os.environ | {"PYTHONPATH": str(ROOT)}
                proc = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
                if proc.returncode != 0:
                    print(proc.stderr[-3000:])
                    return 1
                results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
            if shutil.which("wrk"):  # the closed loops again from a client written in C
                for path in ("/health", "/check"):
                    wrk_results.append(
                        _wrk(f"http://127.0.0.1:{args.port}", token, bodies, path, Path(tmp))
                    )
            else:
                print("wrk not installed (apt-get install wrk): the C client's loops skipped")
        finally:  # a failed client run must not leave the workers holding the port
            server.should_exit = True
            if workers is not None:
                # each worker's own peak (VmHWM), read before they stop: RUSAGE_CHILDREN's
                # ru_maxrss would carry this large process's RSS over their exec
                worker_peaks = [peak_mib(pid) for pid in descendants(workers.pid)]
                shared = [
                    (pid, rss_now_mib(pid), pss_mib(pid))
                    for pid in [workers.pid, *descendants(workers.pid)]
                ]
                workers.terminate()
                workers.wait(timeout=30)
            else:
                thread.join(timeout=10)
        peak = peak_mib()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    for r in results:
        print(
            f"HTTP {r['mode']:<12} 50 clients: {r['requests']} requests in {r['wall_s']} s "
            f"({r['per_s']}/s), p50 {r['p50_ms']} ms, p90 {r['p90_ms']} ms, "
            f"p99 {r['p99_ms']} ms, max {r['max_ms']} ms, statuses {r['statuses']}, "
            f"resent after a closed connection {r['retried']}; "
            + (
                f"sent late by p50 {r['send_lag_p50_ms']} / p99 {r['send_lag_p99_ms']} ms; "
                if "send_lag_p50_ms" in r
                else ""
            )
            + f"in the "
            f"service (Server-Timing) p50 {r['server_p50_ms']} ms, p99 {r['server_p99_ms']} ms"
        )
    for r in wrk_results:
        print(
            f"wrk closed loop {r['path']:<8} 50 connections, one client thread: "
            f"{r['requests']} requests in {r['seconds']} s ({r['per_s']}/s), "
            f"p50 {r['p50_ms']} ms, p90 {r['p90_ms']} ms, p99 {r['p99_ms']} ms, "
            f"non-2xx {r['errors']}"
        )
    p50 = results[1]["p50_ms"] / 1000
    print(f"batch path / check p50 (open loop): {batch / p50:,.0f}x")
    if args.workers > 1:
        print(
            f"peak RSS of the worker processes: {', '.join(f'{p:,.0f}' for p in worker_peaks)} "
            f"MiB (this process: {peak:,.0f})"
        )
        print(
            "after the runs, the parent then each worker, RSS / PSS MiB (PSS counts a shared "
            "page once across them): "
            + "; ".join(f"{pid}: {r:,.0f} / {p:,.0f}" for pid, r, p in shared)
            + f"; PSS in all {sum(p for _, _, p in shared):,.0f} MiB"
        )
    else:
        print(f"peak RSS of the server process: {peak:,.0f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
