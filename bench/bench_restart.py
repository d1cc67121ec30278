"""A restart to a ready pre-award check index, at city scale: from the index file the
screening kept (api.check.snapshot), from the stored dataset and the priors the screening's
run record kept (the rules not run again; what a restart does without that file), against
the old way (the whole screening run again), each in a fresh process as a restarted worker
would.

    .venv/bin/python bench/bench_restart.py [--scale 1.0]

1. Generates bench_scan.py's city-scale district, uploads it to a fresh service (SQLite in a
   temporary data folder) and screens it once (the stored state a restart starts from).
2. In a fresh process: ``Service(...).load_latest_index()`` — the service's restart — timed
   until the index is ready, with the process's peak memory: once with the kept file
   (``snapshot``), once without it (``rebuild``).
3. In a fresh process: the baseline, ``run_scan`` of the same dataset and profile then the
   index built from it (what every restart did before).
The target (issue 15): ready in 15 s or less.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

CHILD = r"""
import json, sys, time
sys.path.insert(0, {root!r})
began = time.perf_counter()
from api.settings import Settings
from api.service import Service
service = Service(Settings(data_dir={data!r}, token_secret="bench"))
mode = {mode!r}
if mode in ("snapshot", "rebuild"):
    if mode == "rebuild":  # as if the file were missing (written where nothing reads it)
        from pathlib import Path
        service.snapshot_dir = Path({data!r}) / "bench-elsewhere"
    service.load_latest_index()
    index, error = service.index, service.index_error
    assert service.index_source == {{"snapshot": "snapshot", "rebuild": "rebuilt"}}[mode]
else:
    from sqlmodel import Session, select
    from api.check.index import CheckIndex
    from api.models import DatasetRecord, ScreeningRecord
    from integrity.scan import run_scan
    with Session(service.engine) as s:
        latest = s.exec(select(ScreeningRecord).where(ScreeningRecord.status == "done")).first()
        dataset = s.get(DatasetRecord, latest.dataset_id)
    result = run_scan(service.settings.datasets_dir / dataset.path, policy=latest.policy)
    index, error = CheckIndex(result, screening_id=latest.id, dataset_id=dataset.id), None
print(json.dumps({{
    "seconds": round(time.perf_counter() - began, 1),
    "index_build_seconds": getattr(index, "build_seconds", None) if mode != "snapshot" else 0,
    "error": error,
    # VmHWM: this process's own peak (ru_maxrss would carry the parent's over the exec)
    "peak_mib": round(int(next(l.split()[1] for l in open("/proc/self/status")
                               if l.startswith("VmHWM"))) / 1024),
}}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument(
        "--keep",
        type=Path,
        help="screen into this folder and leave it (DIR/var: the service's data)",
    )
    args = parser.parse_args()
    from bench_scan import make_district  # noqa: PLC0415 - the bench's own generator
    from sqlmodel import Session  # noqa: PLC0415

    from api.app import create_app  # noqa: PLC0415 - after sys.path is set
    from api.models import ScreeningRecord  # noqa: PLC0415
    from api.settings import Settings  # noqa: PLC0415
    from api.store import Limits, Upload, ingest  # noqa: PLC0415

    with tempfile.TemporaryDirectory() as scratch:
        tmp = args.keep or Path(scratch)
        city = Path(tmp) / "city"
        city.mkdir(parents=True)
        make_district(city, args.scale)
        data = Path(tmp) / "var"
        settings = Settings(data_dir=data, token_secret="bench", workers=1)
        service = create_app(settings, load_index=False).state.service
        handles = [p.open("rb") for p in sorted(city.glob("*.csv"))]
        record, _ = ingest(
            service.engine,
            settings.datasets_dir,
            [Upload(Path(h.name).name, h) for h in handles],
            name="city",
            actor="bench",
            limits=Limits.of(2**34),
        )
        for h in handles:
            h.close()
        t0 = time.perf_counter()
        screening, _ = service.start_screening(record, "longgang-2023", None, "bench")
        service.futures[screening.id].result()
        print(f"screened once in {time.perf_counter() - t0:.1f} s (the state a restart finds)")
        kept = sorted((data / "check-index").glob("*.pickle"))
        with Session(service.engine) as session:
            run = session.get(ScreeningRecord, screening.id).run  # type: ignore[union-attr]
        print(
            "index kept:",
            [f"{k.name} {k.stat().st_size / 2**20:.0f} MiB" for k in kept],
            "in",
            (run or {}).get("check_index_kept_seconds", "?"),
            "s",
        )
        service.close()
        del service
        print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs")
        for mode in ("snapshot", "rebuild", "baseline"):
            code = CHILD.format(root=str(ROOT), data=str(data), mode=mode)
            out = subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, check=True
            )
            figures = json.loads(out.stdout.strip().splitlines()[-1])
            said = {
                "snapshot": "restart (the kept index file)",
                "rebuild": "restart (stored state, no rules)",
                "baseline": "baseline (the screening again)",
            }
            print(f"{said[mode]:36} {json.dumps(figures)}")


if __name__ == "__main__":
    main()
