"""A large upload against the service's other requests: does a 200 MB dataset being
received, unpacked, hashed and validated hold up `/health` and the pre-award check?

    .venv/bin/python bench/bench_upload.py [--mb 200] [--seconds 15]

1. Starts `integrity serve` (one uvicorn process, as a user would) on a fresh data folder and
   screens the bundled demo so that `/check` answers from an index.
2. Writes a valid dataset of about ``--mb`` megabytes: the demo's officials and a suppliers
   table of as many generated rows as it takes (a CSV in UTF-8).
3. Baseline: a client polls `GET /health` and `POST /check` (the README's demo check) every
   50 ms for ``--seconds`` with nothing else running.
4. Load: the same polling while another client uploads the dataset (`POST /datasets`,
   multipart, streamed from the file), until the upload is answered.
5. Prints p50 / p99 / max of each request's latency (client side) in both phases, how long
   the upload took and what it answered. The target (issue 14): under 100 ms throughout.

The client runs in this process and shares the machine's two cores with the service.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import signal
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "fixtures" / "demo" / "longgang"
CHECK = {
    "supplier": {"name": "深圳市润泽睿智体育用品有限公司"},
    "project": {
        "category": "货物类",
        "amount_wan": 20,
        "community": "象角塘社区",
        "date": "2024-06-01",
    },
    "panel": [{"staff_id": "BT0234"}, {"name": "黎志斌"}],
}


def write_dataset(folder: Path, megabytes: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    staff = folder / "公职人员.csv"
    shutil.copy(DEMO / "公职人员.csv", staff)
    suppliers = folder / "供应商.csv"
    target = megabytes * 1024 * 1024
    streets = ["坂田街道", "布吉街道", "横岗街道", "龙城街道", "龙岗街道"]
    with suppliers.open("w", encoding="utf-8", newline="\n") as fh:
        fh.write("单位名称,统一社会信用代码,法定代表人,负责人,联系电话,注册地址,邮箱\n")
        i = 0
        while fh.tell() < target:
            lines = []
            for j in range(i, i + 10_000):
                lines.append(
                    f"深圳市测试{j:08d}号商贸有限公司,,王{j % 997}明,李{j % 991}华,"
                    f"138{j % 100_000_000:08d},深圳市龙岗区{streets[j % 5]}测试路{j}号,"
                    f"s{j}@example.cn\n"
                )
            fh.write("".join(lines))
            i += 10_000
    return [staff, suppliers]


def serve(data: Path, port: int) -> subprocess.Popen[bytes]:
    # one token polls the check all the while: its rate limit lifted
    env = os.environ | {
        "INTEGRITY_DATA_DIR": str(data),
        "INTEGRITY_CHECK_RATE_PER_MINUTE": "1000000000",
    }
    cmd = [
        str(ROOT / ".venv" / "bin" / "integrity"),
        "serve",
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    return subprocess.Popen(cmd, env=env, cwd=data.parent, start_new_session=True)


def wait_up(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("the service stopped")
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit("the service did not start")


Sample = tuple[float, float, float]  # seconds since the phase began, client ms, service ms


def poll(
    url: str, token: str, stop: threading.Event, seconds: float | None
) -> dict[str, list[Sample]]:
    out: dict[str, list[Sample]] = {"health": [], "check": []}
    headers = {"Authorization": f"Bearer {token}"}
    began = time.perf_counter()

    def timed(kind: str, send: Any) -> None:
        t0 = time.perf_counter()
        r = send()
        assert r.status_code == 200, r.text[:300]
        app = float(r.headers.get("server-timing", "app;dur=0").split("dur=")[1])
        out[kind].append((t0 - began, (time.perf_counter() - t0) * 1000, app))

    with httpx.Client(base_url=url, timeout=60, headers=headers) as c:
        while not stop.is_set() and (seconds is None or time.perf_counter() - began < seconds):
            timed("health", lambda: c.get("/health"))
            timed("check", lambda: c.post("/check", json=CHECK))
            time.sleep(0.05)
    return out


def summary(samples: list[Sample]) -> str:
    ordered = sorted(s[1] for s in samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"{statistics.median(ordered):7.1f} {p99:7.1f} {ordered[-1]:7.1f}  (n={len(ordered)})"


def screen_demo(url: str, headers: dict[str, str]) -> None:
    """Screen the demo, so that /check answers from an index."""
    demo = httpx.post(f"{url}/demo", headers=headers, timeout=120).json()
    sid = demo["screening"]["id"]
    while httpx.get(f"{url}/screenings/{sid}", headers=headers).json()["status"] != "done":
        time.sleep(0.5)
    while httpx.get(f"{url}/health").json()["check_index"] is None:
        time.sleep(0.2)


def upload_while_polling(
    url: str, token: str, files: list[Path]
) -> tuple[dict[str, Any], dict[str, list[Sample]]]:
    """Upload ``files`` in a thread while this one polls; (the upload's outcome, samples)."""
    stop = threading.Event()
    result: dict[str, Any] = {}

    def upload() -> None:
        t0 = time.perf_counter()
        handles = [p.open("rb") for p in files]
        try:
            r = httpx.post(
                f"{url}/datasets",
                headers={"Authorization": f"Bearer {token}"},
                files=[
                    ("files", (p.name, h, "text/csv")) for p, h in zip(files, handles, strict=True)
                ],
                timeout=1800,
            )
        finally:
            for h in handles:
                h.close()
        result.update(status=r.status_code, body=r.text[:300], seconds=time.perf_counter() - t0)
        stop.set()

    worker = threading.Thread(target=upload)
    worker.start()
    loaded = poll(url, token, stop, None)
    worker.join()
    return result, loaded


def report(
    result: dict[str, Any], baseline: dict[str, list[Sample]], loaded: dict[str, list[Sample]]
) -> None:
    print(f"upload answered {result['status']} in {result['seconds']:.1f} s")
    if result["status"] >= 300:
        print(result["body"])
    print(f"{'request (ms, client side)':32} {'p50':>7} {'p99':>7} {'max':>7}")
    for phase, data in (("idle", baseline), ("during the upload", loaded)):
        for kind in ("health", "check"):
            print(f"{kind + ', ' + phase:32} {summary(data[kind])}")
    slow = sorted(loaded["health"] + loaded["check"], key=lambda s: -s[1])[:5]
    print("slowest during the upload (s after it began, client ms, of which in the service):")
    for at, client, app in slow:
        print(f"  {at:6.2f} s  {client:6.1f} ms  {app:6.1f} ms")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--mb", type=int, default=200)
    ap.add_argument("--seconds", type=float, default=15)
    ap.add_argument("--port", type=int, default=8765)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-upload-"))
    url = f"http://127.0.0.1:{args.port}"
    proc = serve(work / "var", args.port)
    try:
        wait_up(url, proc)
        token = (work / "var" / "admin-token").read_text().strip()
        screen_demo(url, {"Authorization": f"Bearer {token}"})
        files = write_dataset(work / "upload", args.mb)
        size = sum(p.stat().st_size for p in files)
        print(
            f"machine: {platform.machine()}, {os.cpu_count()} CPUs; upload {size / 2**20:.0f} MiB"
        )
        baseline = poll(url, token, threading.Event(), args.seconds)
        result, loaded = upload_while_polling(url, token, files)
        report(result, baseline, loaded)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
