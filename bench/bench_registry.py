"""The registry at scale: the default engine against Spark in local mode (``--registry``).

A district (the demo's by default) with a person-role registry of ``--rows`` generated rows
(fixtures/generate_registry.py, made by Spark) beside its own 企业关联人员 rows, in one CSV
file: the default engine reads it as the dataset's supplier_people table, Spark as the
registry. Each engine runs ``integrity scan`` in a process of its own; the benchmark samples
the memory of the whole process tree (the JVM and Python workers included) every half
second, stops a run that passes ``--memory-gib`` or ``--timeout``, and compares the findings
where both finish.

    .venv/bin/python bench/bench_registry.py --rows 1000000
    .venv/bin/python bench/bench_registry.py --rows 10000000 --engines spark
    .venv/bin/python bench/bench_registry.py --rows 50000000 --engines spark --district /tmp/city

(``--district``: any dataset folder, such as bench_scan.py's city kept with ``--keep``.)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from peak import descendants, rss_now_mib  # noqa: E402

from integrity.load.readers import decode_bytes  # noqa: E402

PEOPLE_FILES = ("企业关联人员.csv", "supplier_people.csv")  # the demo's name, bench_scan's city's
PYTHON = sys.executable


def tree_rss_gib(pid: int) -> float:
    """The resident memory of ``pid`` and all its descendants now, in GiB."""
    return sum(rss_now_mib(p) for p in [pid, *descendants(pid)]) / 1024


def run(cmd: list[str], timeout: float, memory_gib: float, log: Path) -> dict[str, object]:
    """Run ``cmd``; its wall time, peak tree memory, and how it ended."""
    began = time.perf_counter()
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        peak, ended = 0.0, "ok"
        while proc.poll() is None:
            peak = max(peak, tree_rss_gib(proc.pid))
            elapsed = time.perf_counter() - began
            if peak > memory_gib or elapsed > timeout:
                ended = f"stopped: over {memory_gib} GiB" if peak > memory_gib else "timeout"
                os.killpg(proc.pid, 9)
                proc.wait()
                break
            time.sleep(0.5)
        if ended == "ok" and proc.returncode != 0:
            ended = f"failed (exit {proc.returncode})"
    return {
        "seconds": round(time.perf_counter() - began, 1),
        "peak_gib": round(peak, 2),
        "ended": ended,
    }


def build(work: Path, district: Path, rows: int, seed: int, names: str) -> tuple[Path, Path, Path]:
    """The full dataset (for the default engine), the dataset without its person-role table
    and the registry folder (for Spark): one CSV of the district's and the generated rows."""
    gen = work / "generated"
    if not (gen / "generated" / "_SUCCESS").exists():
        subprocess.run(
            [
                PYTHON,
                "-m",
                "fixtures.generate_registry",
                str(gen),
                "--rows",
                str(rows),
                "--seed",
                str(seed),
                "--format",
                "csv",
                *(["--names-from", str(district)] if names == "district" else []),
            ],
            cwd=ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    people = next(district / n for n in PEOPLE_FILES if (district / n).exists())
    full, data, registry = work / "full", work / "data", work / "registry"
    for d in (full, data, registry):
        if d.exists():
            shutil.rmtree(d)
        d.mkdir(parents=True)
    for f in district.iterdir():
        if f.is_file() and f.name != people.name:
            shutil.copy(f, full / f.name)
            shutil.copy(f, data / f.name)
    own = decode_bytes(people.read_bytes(), people.name).text
    with (registry / people.name).open("w", encoding="utf-8", newline="") as out:
        out.write(own if own.endswith("\n") else own + "\n")
        for part in sorted((gen / "generated").glob("part-*.csv")):
            with part.open(encoding="utf-8") as src:
                next(src, None)  # each part's header
                shutil.copyfileobj(src, out)
    os.link(registry / people.name, full / people.name)
    return full, data, registry


def findings(out: Path) -> dict[str, float]:
    items = json.loads((out / "findings.json").read_text(encoding="utf-8"))
    return {f["finding_id"]: f["confidence"] for f in items}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--engines", default="pandas,spark")
    parser.add_argument("--district", type=Path, default=ROOT / "fixtures" / "demo" / "longgang")
    parser.add_argument("--work", type=Path, default=None)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--names",
        choices=["district", "pools"],
        default="district",
        help="the generated persons' names: the district's own (as often as they occur there: "
        "a representative registry) or the demo's pools (session 14's runs)",
    )
    parser.add_argument("--timeout", type=float, default=3 * 3600)
    parser.add_argument("--memory-gib", type=float, default=20.0)
    args = parser.parse_args()
    work = args.work or Path(f"/tmp/bench_registry_{args.rows}_{args.names}")
    work.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    full, data, registry = build(work, args.district, args.rows, args.seed, args.names)
    size = sum(f.stat().st_size for f in registry.iterdir()) / 2**30
    print(
        f"registry: {args.rows:,} generated rows + the district's, {size:.2f} GiB CSV "
        f"(built in {time.perf_counter() - began:.0f} s)",
        flush=True,
    )
    cli = str(Path(PYTHON).with_name("integrity"))
    results: dict[str, dict[str, object]] = {}
    for engine in args.engines.split(","):
        out = work / f"out_{engine}"
        cmd = [cli, "scan", str(full if engine == "pandas" else data), "--out", str(out), "--quiet"]
        if engine == "spark":
            cmd += ["--engine", "spark", "--registry", str(registry)]
        results[engine] = run(cmd, args.timeout, args.memory_gib, work / f"{engine}.log")
        if results[engine]["ended"] == "ok":
            results[engine]["findings"] = len(findings(out))
            record = json.loads((out / "run.json").read_text(encoding="utf-8"))
            results[engine]["stages"] = record.get("stages_seconds") or record.get("stages")
        print(engine, json.dumps(results[engine], ensure_ascii=False), flush=True)
    done = [e for e in results if results[e]["ended"] == "ok"]
    if len(done) == 2:
        a, b = (findings(work / f"out_{e}") for e in done)
        same = a == b
        print(
            f"findings identical, id for id and confidence for confidence: {same} "
            f"({len(a)} and {len(b)})"
        )
        if not same:
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
