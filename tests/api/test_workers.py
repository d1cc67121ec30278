"""`integrity serve --workers N`: the workers are forked from a parent that holds the check
index, so every worker answers from that one index (``source: shared``) as soon as it starts;
a newer screening reaches every worker; a worker that dies is replaced; SIGTERM stops all."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from api.workers import SHARED

ROOT = Path(__file__).resolve().parents[2]
INTEGRITY = Path(sys.executable).parent / "integrity"
CONFLICT = {  # the README's check: a conflict in the demo district
    "supplier": {"name": "深圳市润泽睿智体育用品有限公司"},
    "project": {"category": "货物类", "amount_wan": 20, "community": "象角塘社区"},
    "panel": [{"staff_id": "BT0234"}, {"name": "黎志斌"}],
}


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _children(pid: int) -> list[int]:
    found = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in found.read_text().split()] if found.exists() else []


def _until(what: Any, timeout: float = 120.0, step: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            got = what()
        except httpx.HTTPError:
            got = None
        if got:
            return got
        time.sleep(step)
    raise AssertionError(f"not within {timeout} s")


class Served:
    def __init__(self, var: Path) -> None:
        self.var = var
        self.port = _port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = os.environ | {"INTEGRITY_INDEX_POLL_SECONDS": "0.5", "PYTHONPATH": str(ROOT)}
        command = [str(INTEGRITY), "serve", "--workers", "2", "--data-dir", str(var)]
        command += ["--port", str(self.port), "--log-level", "warning"]
        self.proc = subprocess.Popen(
            command,
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        _until(lambda: httpx.get(f"{self.url}/health", timeout=5).status_code == 200)

    def token(self) -> str:
        return (self.var / "admin-token").read_text().strip()

    def index_everywhere(self) -> set[tuple[str, str]]:
        """(screening, source) of the index that 20 health calls in a row report."""
        seen = set()
        for _ in range(20):
            index = httpx.get(f"{self.url}/health", timeout=5).json()["check_index"]
            seen.add(None if index is None else (index["screening_id"], index["source"]))
        return seen  # type: ignore[return-value]

    def stop(self) -> tuple[int, str]:
        self.proc.send_signal(signal.SIGTERM)
        _, err = self.proc.communicate(timeout=60)
        return self.proc.returncode, err


def test_workers_share_one_index_through_screenings_deaths_and_restarts(tmp_path: Path) -> None:
    """One server's life, in order (the steps depend on each other: one test, not four
    that a parallel run could split)."""
    served = Served(tmp_path / "var")
    try:
        _a_screening_reaches_every_worker_as_one_shared_index(served)
        _a_dead_worker_is_forked_again_with_the_index(served)
        _sigterm_stops_every_worker(served)
        # a new parent reads the kept file once and forks its workers on it
        again = Served(served.var)
        try:
            index = _until(lambda: served_index(again), 60)
            assert index[1] == SHARED
        finally:
            code, err = again.stop()
        assert code == 0, err[-2000:]
    finally:
        if served.proc.poll() is None:
            served.proc.kill()
            served.proc.wait()


def _a_screening_reaches_every_worker_as_one_shared_index(served: Served) -> None:
    assert served.index_everywhere() == {None}  # nothing screened yet
    workers = _children(served.proc.pid)
    assert len(workers) == 2
    headers = {"Authorization": f"Bearer {served.token()}"}
    started = httpx.post(f"{served.url}/demo", headers=headers, timeout=60).json()
    screening = started["screening"]["id"]
    # the worker that ran it answers from it at once; the parent then forks a new
    # generation on that screening's kept index and stops the old one
    assert _until(lambda: served.index_everywhere() == {(screening, SHARED)}, 180)
    after = _children(served.proc.pid)
    assert len(after) == 2 and not set(after) & set(workers)
    answers = [
        httpx.post(f"{served.url}/check", json=CONFLICT, headers=headers, timeout=30).json()
        for _ in range(6)
    ]
    assert {a["verdict"] for a in answers} == {"conflict"}
    assert {a["screening_id"] for a in answers} == {screening}


def _a_dead_worker_is_forked_again_with_the_index(served: Served) -> None:
    before = _children(served.proc.pid)
    os.kill(before[0], signal.SIGKILL)
    # wait for the replacement, not only for the dead one to be reaped: between the two the
    # parent has one child, which a busy machine lets a poll see
    after = _until(
        lambda: (c := _children(served.proc.pid)) and before[0] not in c and len(c) == 2 and c,
        30,
    )
    assert len(after) == 2
    assert served_index(served) is not None
    assert served_index(served)[1] == SHARED  # type: ignore[index]


def _sigterm_stops_every_worker(served: Served) -> None:
    workers = _children(served.proc.pid)
    code, err = served.stop()
    assert code == 0, err[-2000:]
    for pid in workers:
        assert not Path(f"/proc/{pid}").exists()


def served_index(server: Served) -> tuple[str, str] | None:
    seen = server.index_everywhere()
    return next(iter(seen)) if len(seen) == 1 and None not in seen else None


def test_a_taken_port_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        done = subprocess.run(
            [
                str(INTEGRITY),
                "serve",
                "--workers",
                "2",
                "--data-dir",
                str(tmp_path / "var"),
                "--port",
                str(port),
            ],
            env=os.environ | {"PYTHONPATH": str(ROOT)},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert done.returncode == 2
    assert f"无法监听 127.0.0.1:{port}" in done.stderr
    assert "Traceback" not in done.stderr
