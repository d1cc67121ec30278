"""Loading at scale: 100,000 projects and 1,000,000 supplier_people rows.

    make bench-load            # or: .venv/bin/python bench/bench_load.py [--projects N --people N]

Writes the two tables as CSV (projects in GBK with Chinese headers and a 万元 column, people in
UTF-8 with BOM, ID numbers with the same noise as the demo), then times, in one run:
  baseline  pandas.read_csv of both files as plain strings (what any loader must at least pay)
  loader    load_dataset (integrity.load.dataset): detection, headers, typing, ID and USCC checks
  -j2       the same with the files read in two processes (the scan's --jobs 2)
and prints wall time, the ratio to the baseline, and peak memory of each step (each step runs
in a fresh process, so the peaks do not mask each other).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import platform
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from peak import peak_mib
from stdnum.cn import ric, uscc

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕"
)
GIVEN = "伟强磊军勇杰涛明超刚平辉鹏华飞鑫波斌宇浩芳娜敏静丽艳娟霞秀英慧莉燕玲红梅琳婷雪颖洁"
ROLES = ["法定代表人", "股东", "股东", "监事", "经理", "执行董事", "联系人", "财务负责人"]


def make_dataset(root: Path, n_projects: int, n_people: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    (root / "staff.csv").write_text("人员编号,姓名\nS1,王小明\n", encoding="utf-8")
    n_suppliers = max(1, n_people // 4)
    usccs = []
    for _ in range(n_suppliers):
        body = "91440307" + "".join(rng.choice(ALPHABET) for _ in range(9))
        usccs.append(body + uscc.calc_check_digit(body + "0"))
    lines = [
        "项目编号,项目名称,项目类别,项目金额(万元),街道,社区,签约日期,承接单位,统一社会信用代码"
    ]
    cats = ["工程类", "服务类", "货物类", "工程", "实物类"]
    for i in range(n_projects):
        day = rng.randint(1, 28)
        date = rng.choice(
            [f"2024-03-{day:02d}", f"2024/3/{day}", f"2024年3月{day}日", str(45352 + day)]
        )
        k = rng.randrange(n_suppliers)
        lines.append(
            f"P{i:07d},社区项目{i},{rng.choice(cats)},{rng.uniform(1, 99):.2f},街道{i % 11},"
            f"社区{i % 97},{date},供应商{k},{usccs[k]}"
        )
    (root / "projects.csv").write_bytes(("\n".join(lines) + "\n").encode("gbk"))
    lines = ["单位名称,统一社会信用代码,姓名,身份证号,职务,持股比例"]
    for _ in range(n_people):
        k = rng.randrange(n_suppliers)
        birth = f"{rng.randint(1950, 2000)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
        body = f"4403{rng.randint(0, 99):02d}{birth}{rng.randint(0, 999):03d}"
        number = body + ric.calc_check_digit(body + "0")
        r = rng.random()
        if r < 0.4:
            number = ""  # missing on the supplier side
        elif r < 0.42:
            number = number[:6] + number[8:17]  # legacy 15 digits
        elif r < 0.43:
            number = number[:-1] + ("0" if number[-1] != "0" else "1")  # check digit slip
        name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice([1, 2])))
        share = f"{rng.randint(1, 100)}%" if rng.random() < 0.3 else ""
        lines.append(f"供应商{k},{usccs[k]},{name},{number},{rng.choice(ROLES)},{share}")
    (root / "supplier_people.csv").write_bytes(("\n".join(lines) + "\n").encode("utf-8-sig"))


def _baseline(root: str, queue: mp.Queue) -> None:  # type: ignore[type-arg]
    import pandas as pd  # noqa: PLC0415 - imported in the measured process, counted in its peak

    t = time.perf_counter()
    a = pd.read_csv(
        Path(root) / "projects.csv", dtype=str, encoding="gb18030", keep_default_na=False
    )
    b = pd.read_csv(
        Path(root) / "supplier_people.csv", dtype=str, encoding="utf-8-sig", keep_default_na=False
    )
    queue.put(
        (
            time.perf_counter() - t,
            len(a) + len(b),
            peak_mib() * 1024,  # KiB, as the table below expects
        )
    )


def _loader(root: str, queue: mp.Queue, jobs: int = 1) -> None:  # type: ignore[type-arg]
    from integrity.load.dataset import load_dataset  # noqa: PLC0415 - as above

    t = time.perf_counter()
    ds = load_dataset(root, jobs=jobs)
    rows = len(ds.table("projects")) + len(ds.table("supplier_people"))
    queue.put(
        (
            time.perf_counter() - t,
            rows,
            peak_mib() * 1024,  # KiB, as the table below expects
            ds.warning_total,
        )
    )


def _loader_split(root: str, queue: mp.Queue) -> None:  # type: ignore[type-arg]
    """The loader with the files read in two processes (the scan's ``--jobs 2``); the peak
    is this process's, not its forked child's."""
    _loader(root, queue, jobs=2)


def measure(target, root: Path) -> tuple:  # type: ignore[no-untyped-def, type-arg]
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=target, args=(str(root), queue))
    proc.start()
    result = queue.get()
    proc.join()
    return result


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--projects", type=int, default=100_000)
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        t = time.perf_counter()
        make_dataset(root, args.projects, args.people)
        gen = time.perf_counter() - t
        size = sum(p.stat().st_size for p in root.iterdir()) / 2**20
        base_s, base_rows, base_rss = measure(_baseline, root)
        load_s, load_rows, load_rss, warnings = measure(_loader, root)
        split_s, split_rows, split_rss, _ = measure(_loader_split, root)
    cpu = subprocess.run(["nproc"], check=True, capture_output=True, text=True).stdout.strip()
    print(f"machine: {platform.machine()}, {cpu} cores, Python {platform.python_version()}")
    print(
        f"input: {args.projects:,} projects + {args.people:,} supplier_people rows, "
        f"{size:.0f} MiB of CSV (generated in {gen:.1f} s)"
    )
    print(f"{'step':<10}{'rows':>12}{'wall s':>10}{'x baseline':>12}{'peak RSS MiB':>14}")
    print(f"{'baseline':<10}{base_rows:>12,}{base_s:>10.2f}{1:>12.2f}{base_rss / 1024:>14.0f}")
    print(
        f"{'loader':<10}{load_rows:>12,}{load_s:>10.2f}{load_s / base_s:>12.2f}"
        f"{load_rss / 1024:>14.0f}"
    )
    print(
        f"{'loader -j2':<10}{split_rows:>12,}{split_s:>10.2f}{split_s / base_s:>12.2f}"
        f"{split_rss / 1024:>14.0f}"
    )
    print(f"loader warnings (check-digit slips kept as written): {warnings:,}")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "projects": args.projects,
                    "people": args.people,
                    "baseline_s": base_s,
                    "loader_s": load_s,
                    "loader_two_processes_s": split_s,
                    "ratio": load_s / base_s,
                    "baseline_rss_mib": base_rss / 1024,
                    "loader_rss_mib": load_rss / 1024,
                    "warnings": warnings,
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
