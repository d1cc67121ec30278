# ruff: noqa: E501, PLR0912 - a data generator: long literal rows read better unwrapped
"""The full scan at city scale: load, resolve, kinship, every rule, write.

    make bench-scan            # or: .venv/bin/python bench/bench_scan.py [--scale 1.0]

Generates a district of 30,000 staff (with 300,000 registry kin links and 120,000 declared
relatives), 100,000 suppliers with 400,000 supplier_people rows, 20,000 projects with their
quotes and participants and a 3,000-entry catalogue, with 300 planted conflicts (a decision
maker's relative, same ID number, is the winner's legal representative). Then, in one run:
  baseline  pandas.read_csv of every file as plain strings (the floor any scan pays)
  scan      `integrity scan` (a fresh process) with --jobs 1 and --jobs 2 (the rules split over
            two processes): wall time, peak memory of the process tree, run.json's stages
and prints the ratios, how many of the planted conflicts the avoidance rule found, and
whether the two runs' findings are byte-identical.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from stdnum.cn import ric, uscc

ROOT = Path(__file__).resolve().parent.parent
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕"
    "丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严"
)
GIVEN = (
    "伟强磊军勇杰涛明超刚平辉鹏华飞鑫波斌宇浩芳娜敏静丽艳娟霞秀英慧莉燕玲红梅琳婷雪颖洁"
    "志建国文俊晓海峰亮东春雷林子欣怡思雨嘉佳博涵宁婉晨阳凯瑶瑞翔旭"
)
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
DECISION = ["筛选", "评议", "审核", "评审", "审定", "采购经办", "验收"]
CATEGORIES = [("工程类", 1_000_000), ("服务类", 500_000), ("货物类", 500_000)]
TRADE = list(
    "阳光众诚鼎盛福缘汇邻启航金桥睿智春晖新锐同心和美乐活暖心长青博雅嘉禾安泰百川立信宏达华泰康宁"
    "润泽永安聚力明德筑梦悦享深港南粤大鹏龙腾鹏程瑞丰恒信凯达合众天成惠民卓越"
)
INDUSTRY = ["市政工程", "装饰工程", "园林绿化", "水电安装工程", "文化传播", "家政服务",
            "养老服务", "教育咨询", "体育发展", "物业管理", "应急物资", "办公设备"]  # fmt: skip
PLACES = ["", "A区", "北片区", "花园小区", "老村", "工业区", "新村", "中心公园", "学校周边", "东门"]
SUBJECTS = {
    "工程类": ["路面修缮", "排水管网改造", "外墙安全隐患整治", "消防通道整治", "路灯照明改造",
              "健身广场翻新", "雨污分流改造", "楼道扶手加装", "防水补漏工程", "绿化景观提升",
              "休闲步道建设", "停车场划线", "无障碍坡道建设", "垃圾分类亭建设", "围墙修缮"],
    "服务类": ["长者助餐服务", "四点半课堂", "家庭教育讲座", "反诈宣传活动", "心理健康关爱服务",
              "舞蹈队培训", "亲子阅读推广", "法律咨询进社区", "志愿者培训", "独居长者关爱服务",
              "暑期儿童托管", "社区电影放映", "婚姻家庭辅导", "长者智能手机课堂", "邻里节活动"],
    "货物类": ["文体器材采购", "消防器材更新采购", "应急物资采购", "长者活动室设备采购",
              "党群服务中心桌椅采购", "便民工具箱采购", "图书室图书采购", "健身器材采购"],
}  # fmt: skip


class Gen:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.ids: set[str] = set()
        self.n_code = 0

    def name(self) -> str:
        r = self.rng
        given = r.choice(GIVEN) + (r.choice(GIVEN) if r.random() < 0.7 else "")
        return r.choice(SURNAMES[:20] if r.random() < 0.6 else SURNAMES) + given

    def id_number(self, year: int, male: bool) -> str:
        r = self.rng
        while True:
            seq = r.randint(0, 99) * 10 + r.choice([1, 3, 5, 7, 9] if male else [0, 2, 4, 6, 8])
            body = f"440307{year}{r.randint(1, 12):02d}{r.randint(1, 28):02d}{seq:03d}"
            number = body + ric.calc_check_digit(body + "0")
            if number not in self.ids:
                self.ids.add(number)
                return number

    def uscc(self) -> str:
        self.n_code += 1
        body = "91440307" + "".join(self.rng.choice(ALPHABET) for _ in range(9))
        return body + uscc.calc_check_digit(body)

    def person(self, year: int, male: bool, p_id: float) -> tuple[str, str]:
        number = self.id_number(year, male)
        return self.name(), number if self.rng.random() < p_id else ""


def write(path: Path, header: list[str], rows: list[list[object]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)


def make_district(root: Path, scale: float, seed: int = 7) -> set[tuple[str, str]]:  # noqa: PLR0915
    g = Gen(seed)
    r = g.rng
    n_staff, n_sup, n_proj = int(30_000 * scale), int(100_000 * scale), int(20_000 * scale)
    # a city: 60 streets of 10 communities, each community with about 33 projects a year
    streets = [f"第{i}街道" for i in range(1, 61)]
    staff, rel, links = [], [], []
    kin_of: dict[str, list[tuple[str, str]]] = {}
    for i in range(n_staff):
        male = r.random() < 0.5
        year = r.randint(1966, 1998)
        name, number = g.person(year, male, 0.9)
        sid = f"S{i:06d}"
        street = r.choice(streets)
        staff.append(
            [sid, name, number, "男" if male else "女", street, f"{street}{r.randint(1, 10)}社区"]
        )
        family: list[tuple[str, str, str, str]] = []  # (term from official, name, id, key)
        sp_name, sp_id = g.person(year + r.randint(-3, 3), not male, 0.85)
        family.append(("妻子" if male else "丈夫", sp_name, sp_id, "spouse"))
        for term, m, y in (("父亲", True, year - 28), ("母亲", False, year - 26)):
            n_, i_ = g.person(y, m, 0.8)
            family.append((term, n_, i_, term))
        for _ in range(r.choice([1, 1, 2])):
            m = r.random() < 0.5
            n_, i_ = g.person(year + 27, m, 0.8)
            family.append(("儿子" if m else "女儿", n_, i_, "child"))
        for _ in range(r.choice([0, 1, 2])):
            m = r.random() < 0.5
            n_, i_ = g.person(year + r.randint(-6, 6), m, 0.8)
            family.append((r.choice(["哥哥", "弟弟"] if m else ["姐姐", "妹妹"]), n_, i_, "sib"))
        for term in ("岳父" if male else "公公", "岳母" if male else "婆婆"):
            n_, i_ = g.person(year - 27, term in ("岳父", "公公"), 0.7)
            family.append((term, n_, i_, "in-law"))
        n_, i_ = g.person(year + r.randint(-6, 6), r.random() < 0.5, 0.7)
        family.append(("内弟" if male else "小叔子", n_, i_, "in-law"))
        kin_of[sid] = [(f[1], f[2]) for f in family]
        for term, n_, i_, _ in family:
            links.append([name, number, n_, i_, term, "户籍"])
            if r.random() < 0.45:
                rel.append([sid, n_, term, i_])
    # registries also hold links among the relatives: the spouse's siblings' families...
    while len(links) < int(300_000 * scale):
        a, b = g.person(1960, True, 0.8), g.person(1985, False, 0.8)
        links.append([a[0], a[1], b[0], b[1], "女儿", "户籍"])
    suppliers, people = [], []
    codes = []
    for _ in range(n_sup):
        code = g.uscc()
        codes.append(code)
        rep = g.person(r.randint(1960, 1995), r.random() < 0.6, 0.7)
        suppliers.append(
            [
                f"深圳市{''.join(r.sample(TRADE, 3))}{r.choice(INDUSTRY)}有限公司",
                code,
                rep[0],
                rep[1],
                rep[0],
                f"1{r.randint(3, 9)}{r.randint(0, 999_999_999):09d}",
                f"深圳市龙岗区某路{r.randint(1, 999)}号{r.choice('ABCDEFG')}栋{r.randint(1, 3000)}室",
            ]
        )
        people.append([suppliers[-1][0], code, rep[0], rep[1], "法定代表人", ""])
        for role, share in (("股东", "60%"), ("股东", "40%"), ("监事", "")):
            p = g.person(r.randint(1960, 1995), r.random() < 0.5, 0.7)
            people.append([suppliers[-1][0], code, p[0], p[1], role, share])
    # planted conflicts: a decision maker's relative (same ID) is the winner's legal rep
    planted: dict[int, tuple[str, int]] = {}
    for k in range(int(300 * scale)):
        sid = f"S{r.randrange(n_staff):06d}"
        with_id = [(n_, i_) for n_, i_ in kin_of[sid] if i_]
        if not with_id:
            continue
        n_, i_ = r.choice(with_id)
        j = k * 97 % n_sup
        suppliers[j][2], suppliers[j][3], suppliers[j][4] = n_, i_, n_
        planted[k] = (sid, j)
    projects, quotes, parts = [], [], []
    for k in range(n_proj):
        cat, cap = r.choice(CATEGORIES)
        street = r.choice(streets)
        community = f"{street}{r.randint(1, 10)}社区"
        j = planted[k][1] if k in planted else r.randrange(n_sup)
        amount = round(r.uniform(0.05, 0.98) * cap, -2)
        pid = f"P{k:06d}"
        date = f"2024-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}"
        projects.append(
            [pid, f"{community}{r.choice(PLACES)}{r.choice(SUBJECTS[cat])}", cat, amount, street, community,
             r.randint(3, 30), date, suppliers[j][0], codes[j]]
        )  # fmt: skip
        quotes.append([pid, suppliers[j][0], codes[j], amount, "是"])
        for o in r.sample(range(n_sup), 2):
            quotes.append(
                [pid, suppliers[o][0], codes[o], round(amount * r.uniform(1.03, 1.2), -2), "否"]
            )
        panel = [planted[k][0]] if k in planted else []
        panel += [f"S{r.randrange(n_staff):06d}" for _ in range(4 - len(panel))]
        for s in panel:
            parts.append([pid, s, "", r.choice(DECISION), "否"])
        for _ in range(2):
            parts.append([pid, "", g.name(), "点选", ""])
    catalogue = [
        ["区级", f"服务项目{c}", suppliers[c][0], codes[c], "2023-01-01", ""]
        for c in r.sample(range(n_sup), int(3_000 * scale))
    ]
    write(root / "staff.csv", ["人员编号", "姓名", "身份证号", "性别", "街道", "社区"], staff)
    write(root / "relatives.csv", ["人员编号", "亲属姓名", "关系", "亲属身份证号"], rel)
    write(root / "family_links.csv", ["姓名", "身份证号", "亲属姓名", "亲属身份证号", "关系", "来源"], links)  # fmt: skip
    write(root / "suppliers.csv", ["单位名称", "统一社会信用代码", "法定代表人", "法定代表人身份证号", "负责人", "联系电话", "注册地址"], suppliers)  # fmt: skip
    write(root / "supplier_people.csv", ["单位名称", "统一社会信用代码", "姓名", "身份证号", "职务", "持股比例"], people)  # fmt: skip
    write(root / "projects.csv", ["项目编号", "项目名称", "项目类别", "金额", "街道", "社区", "点选人数", "签约日期", "承接单位", "统一社会信用代码"], projects)  # fmt: skip
    write(root / "quotes.csv", ["项目编号", "报价单位", "统一社会信用代码", "报价金额", "是否中选"], quotes)  # fmt: skip
    write(root / "participants.csv", ["项目编号", "人员编号", "姓名", "角色", "是否回避"], parts)
    write(root / "catalogue.csv", ["层级", "项目名称", "承接单位", "统一社会信用代码", "入库日期", "出库日期"], catalogue)  # fmt: skip
    return {(f"P{k:06d}", sid) for k, (sid, _) in planted.items() if k < n_proj}


def baseline(root: Path) -> float:
    import pandas as pd  # noqa: PLC0415 - only the baseline needs it in this process

    t0 = time.perf_counter()
    for f in sorted(root.glob("*.csv")):
        pd.read_csv(f, dtype=str, keep_default_na=False)
    return time.perf_counter() - t0


class TreeMemory:
    """Samples the memory of a process and its descendants (a split scan forks one) from
    /proc: the peak of the summed RSS (pages two processes share counted twice: an upper
    bound) and of the summed PSS (shared pages divided among their sharers: what the
    machine gives the scan)."""

    def __init__(self, pid: int, every: float = 0.25) -> None:
        self.pid, self.every = pid, every
        self.rss = self.pss = 0.0  # MiB
        self.processes = 1
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _tree(self) -> list[int]:
        parent: dict[int, int] = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parent[int(stat.parent.name)] = int(fields[1])
        tree, frontier = [self.pid], [self.pid]
        while frontier:
            frontier = [c for c, pp in parent.items() if pp in frontier]
            tree += frontier
        return tree

    @staticmethod
    def _kib(pid: int, field: str) -> float:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith(field + ":"):
                    return float(line.split()[1])
        except OSError:
            pass
        return 0.0

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            tree = self._tree()
            self.processes = max(self.processes, len(tree))
            self.rss = max(self.rss, sum(self._kib(p, "Rss") for p in tree) / 1024)
            self.pss = max(self.pss, sum(self._kib(p, "Pss") for p in tree) / 1024)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def scan(root: Path, out: Path, jobs: int) -> tuple[float, TreeMemory, int, str]:
    t1 = time.perf_counter()
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "integrity"),
            "scan",
            str(root),
            "--out",
            str(out),
            "--quiet",
            "--jobs",
            str(jobs),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    memory = TreeMemory(proc.pid)
    stdout, stderr = proc.communicate()
    wall = time.perf_counter() - t1
    memory.stop()
    return wall, memory, proc.returncode, (stdout[-3000:] + stderr[-3000:])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--keep", type=Path, help="write the district here and keep it")
    parser.add_argument(
        "--jobs",
        default="1,2",
        help="scan with each of these --jobs in turn (default 1,2: the split run and its serial baseline)",
    )
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, scale {args.scale}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        root = args.keep or Path(tmp) / "city"
        root.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        planted = make_district(root, args.scale)
        print(f"generated in {time.perf_counter() - t0:.1f} s: {len(planted)} planted conflicts")
        for f in sorted(root.glob("*.csv")):
            with f.open(encoding="utf-8") as fh:
                print(f"  {f.name:<22}{sum(1 for _ in fh) - 1:>10,} rows")
        base = baseline(root)
        print(f"baseline read_csv of every file: {base:.1f} s")
        outputs: dict[int, bytes] = {}
        for jobs in [int(j) for j in args.jobs.split(",")]:
            out = Path(tmp) / f"out{jobs}"
            wall, memory, code, output = scan(root, out, jobs)
            if code != 0:
                print(output)
                return 1
            run = json.loads((out / "run.json").read_text(encoding="utf-8"))
            raw = (out / "findings.json").read_bytes()
            outputs[jobs] = raw
            findings = json.loads(raw)
            print(
                f"integrity scan --jobs {jobs}: {wall:.1f} s wall ({wall / base:.1f}x baseline), "
                f"{memory.processes} process(es), peak PSS {memory.pss:,.0f} MiB "
                f"(summed RSS {memory.rss:,.0f} MiB)"
            )
            print("  stages (run.json):", json.dumps(run["stages_seconds"]))
            print("  rules:", {x["rule"]: x["seconds"] for x in run["rules"]})
            by_rule: dict[str, int] = {}
            for f in findings:
                by_rule[f["rule"]] = by_rule.get(f["rule"], 0) + 1
            print("  findings by rule:", by_rule)
            hits = {
                (f["project_ids"][0], f["staff_ids"][0])
                for f in findings
                if f["rule"] == "avoidance" and f["confidence"] >= 0.5
            }
            print(
                f"  avoidance: {len(hits)} assertions; {len(hits & planted)} of the {len(planted)}"
                " planted conflicts among them"
            )
        if len(set(outputs.values())) > 1:
            print("findings.json DIFFERS between", sorted(outputs))
            return 1
        if len(outputs) > 1:
            print("findings.json byte-identical for --jobs", ",".join(map(str, sorted(outputs))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
