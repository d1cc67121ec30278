"""Who is who, measured: this resolver against exact match, naive rapidfuzz and Splink.

    .venv/bin/python bench/bench_resolve.py --left 30000 --right 100000
    .venv/bin/python bench/bench_resolve.py --left 300000 --right 1000000 --no-naive

Generates two rosters: the officials-and-kin side (``left``) and the supplier side
(``right``); a fifth of the right-side records are people of the left side written again with
the demo district's noise (traditional script 5%, homophone typo 4%, a stray space 3%, the ID
number missing on one side for 40% of them; with --birth-missing 0.2 the birth date goes too
for a fifth of those, leaving a name alone), the
rest are other people, drawn from the same Zipf-like name pool, so namesakes abound (and 2% of
them copy a left-side name exactly with another ID number: the decoys). Each method's links
(confidence >= 0.5) are scored against the truth: precision, recall, F1, wall time, peak RSS.

  exact    same name string (what a spreadsheet lookup does)
  naive    rapidfuzz ratio >= 90 on every pair (small sizes only)
  resolver integrity.identity (blocking, scoring, priors): Fellegi-Sunter, name commonness, prior
           estimated from the ID-confirmed pairs
  splink   Splink 5 on DuckDB (pip install -e '.[bench]'), link_only, as its documentation
           builds a model: one comparison per attribute with ordered levels -- ID number;
           name (exact name with term frequencies, else the same pinyin with term
           frequencies, else Jaro-Winkler >= 0.92, >= 0.8); birth date
           (DateOfBirthComparison); sex; phone -- blocking on name, pinyin, ID, birth date
           with sex, phone; lambda from the ID rule, u by random sampling, m by EM blocked on
           the name (which trains the ID, birth date, sex and phone levels), then on the birth
           date (which trains the name's levels)
With --curve each scoring method (resolver, splink) is also run, untimed, down to a confidence
of 0.05, and its precision and recall are printed at several thresholds: one method's recall at
the precision the other reaches, not only at 0.5.
Each method runs in a fresh process so that peak memory is its own; the records' plain
DataFrames (each method's usual input) are built before the clock, the names' normalisation
and pinyin inside it, for the resolver and Splink alike. With --repeat N each method runs N
times (fresh processes each time) and the table gives the median time.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import multiprocessing as mp
import random
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from peak import peak_mib

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"  # noqa: E501
GIVEN = "伟强磊军勇杰涛明超刚平辉鹏华飞鑫波斌宇浩芳娜敏静丽艳娟霞秀英慧莉燕玲红梅琳婷雪颖洁志建国文俊晓海峰亮东春雷林子欣怡思雨嘉佳博涵宁婉晨阳凯瑶瑞翔旭欢乐诗琪梓萱若彤铭轩昊天"  # noqa: E501
HOMOPHONE = {
    "伟": "玮",
    "强": "蔷",
    "静": "婧",
    "丽": "莉",
    "华": "骅",
    "明": "铭",
    "杰": "洁",
    "涛": "韬",
    "芳": "方",
    "敏": "民",
}


# Shenzhen's district codes: the region part of the generated ID numbers
REGIONS = ("440303", "440304", "440305", "440306", "440307", "440308", "440309", "440310")
_USED: set[str] = set()  # ID numbers already given: a resident ID number is one person's


# --pool wide: given names from a pool several times larger (namesakes rarer)
GIVEN_WIDE = GIVEN + (
    "安柏楚丹德恩尔福广国汉和弘鸿辉家坚锦谨靖钧楷康朗礼立良鸣沐南朋琦启谦庆荣森尚胜舒泰"
    "添维熙贤祥新信星兴雄轩言彦毅逸永友宇元远允泽哲振正之致智忠舟卓爱蓓碧灿朵芬菲芙桂"
    "荷虹蕙佳娇锦菊兰岚蕾丽莲玲露曼梅蒙妙娜妮宁沛琴青蓉如茹珊素桃甜薇文娴湘欣馨秀萱雅"
    "妍艳燕瑶怡莹颖咏优雨玉媛月韵芸珍真芷"
)
COMPOUND = ("欧阳", "司马", "诸葛", "上官", "司徒", "东方", "皇甫", "尉迟")
# --pool mixed: names written with a middle dot (Uyghur and other transliterated names: a
# person's name, then the father's), drawn from a short list as they are in life, and their
# usual transliteration variants as the noise; compound surnames
DOTTED = (
    "吐尔逊", "喀迪尔", "阿不都", "买买提", "艾力", "热合曼", "古丽", "阿依古丽", "帕提古丽",
    "努尔", "阿力木", "依明", "玉素甫", "克里木", "热依拉", "米娜瓦尔", "迪丽拜尔", "艾尼瓦尔",
    "阿布拉", "吾买尔", "牙生", "托合提", "沙吾提", "巴图", "其其格", "乌兰", "哈斯",
)  # fmt: skip
DOTTED_VARIANTS = {"买买提": "麦麦提", "阿不都": "阿布都", "玉素甫": "玉苏甫", "吾买尔": "乌买尔"}


def _name(rng: random.Random, pool: str) -> str:
    if pool == "mixed":
        roll = rng.random()
        if roll < 0.08:
            return rng.choice(DOTTED) + "·" + rng.choice(DOTTED)
        if roll < 0.11:
            return rng.choice(COMPOUND) + rng.choice(GIVEN) + rng.choice(GIVEN)
    surname = SURNAMES[min(int(rng.paretovariate(1.2)) - 1, len(SURNAMES) - 1)]
    chars = GIVEN_WIDE if pool == "wide" else GIVEN
    return surname + rng.choice(chars) + (rng.choice(chars) if rng.random() < 0.75 else "")


def person(rng: random.Random, pid: int, pool: str = "common") -> dict[str, Any]:
    from stdnum.cn import ric  # noqa: PLC0415

    name = _name(rng, pool)
    male = rng.random() < 0.5
    y, m, d = rng.randint(1950, 2005), rng.randint(1, 12), rng.randint(1, 28)
    while True:  # random numbers collide (a birthday paradox): draw again, as no two people
        # share a number
        seq = rng.randint(0, 99) * 10 + rng.choice([1, 3, 5, 7, 9] if male else [0, 2, 4, 6, 8])
        body = f"{rng.choice(REGIONS)}{y}{m:02d}{d:02d}{seq:03d}"
        if body not in _USED:
            _USED.add(body)
            break
    phone = f"13{rng.randint(0, 999_999_999):09d}" if rng.random() < 0.3 else None
    return {
        "pid": pid,
        "name": name,
        "id_number": body + ric.calc_check_digit(body + "0"),
        "birth_date": f"{y}-{m:02d}-{d:02d}",
        "gender": "男" if male else "女",
        "phone": phone,
    }


def noisy(rng: random.Random, rec: dict[str, Any], t2s: Any) -> dict[str, Any]:
    r = dict(rec)
    roll = rng.random()
    if "·" in r["name"]:  # a transliterated name: another spelling, or another dot
        if roll < 0.09:
            r["name"] = "·".join(DOTTED_VARIANTS.get(p, p) for p in r["name"].split("·"))
        elif roll < 0.12:
            r["name"] = r["name"].replace("·", rng.choice(("•", "・", ".")))
        return r
    if roll < 0.05:
        r["name"] = t2s.convert(r["name"])
    elif roll < 0.09:
        r["name"] = r["name"][0] + "".join(HOMOPHONE.get(c, c) for c in r["name"][1:])
    elif roll < 0.12:
        r["name"] = r["name"][0] + " " + r["name"][1:]
    return r


def make(
    n_left: int, n_right: int, seed: int = 5, birth_missing: float = 0.0, pool: str = "common"
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    import opencc  # noqa: PLC0415

    s2t = opencc.OpenCC("s2t")
    rng = random.Random(seed)
    left = [person(rng, i, pool) for i in range(n_left)]
    right = []
    for j in range(n_right):
        if rng.random() < 0.2:  # a left-side person written again
            r = noisy(rng, rng.choice(left), s2t)
            if rng.random() < 0.4:  # the ID number missing on one side
                side = left if rng.random() < 0.5 else None
                if side is None:
                    r["id_number"] = None
                    if rng.random() < birth_missing:
                        r["birth_date"] = None
                else:
                    r = dict(r)
                    r["_drop_left_id"] = True
        elif rng.random() < 0.02:  # a namesake decoy: a left name, another person
            r = person(rng, n_left + j, pool)
            r["name"] = rng.choice(left)["name"]
        else:
            r = person(rng, n_left + j, pool)
        right.append(r)
    drop = {r["pid"] for r in right if r.pop("_drop_left_id", False)}
    for rec in left:
        if rec["pid"] in drop:
            rec["id_number"] = None
            if rng.random() < birth_missing:
                rec["birth_date"] = None
    return left, right


def truth_pairs(left: list[dict[str, Any]], right: list[dict[str, Any]]) -> set[tuple[int, int]]:
    by_pid: dict[int, list[int]] = {}
    for i, r in enumerate(left):
        by_pid.setdefault(r["pid"], []).append(i)
    return {(i, j) for j, r in enumerate(right) for i in by_pid.get(r["pid"], [])}


# --------------------------------------------------------------------------- methods


Records = list[dict[str, Any]]


def run_exact(left: Records, right: Records, frames: Any) -> set[tuple[int, int]]:
    by_name: dict[str, list[int]] = {}
    for i, r in enumerate(left):
        by_name.setdefault(r["name"], []).append(i)
    return {(i, j) for j, r in enumerate(right) for i in by_name.get(r["name"], [])}


def run_naive(left: Records, right: Records, frames: Any) -> set[tuple[int, int]]:
    import numpy as np  # noqa: PLC0415
    from rapidfuzz import fuzz, process  # noqa: PLC0415

    names_l = [r["name"].replace(" ", "") for r in left]
    names_r = [r["name"].replace(" ", "") for r in right]
    out: set[tuple[int, int]] = set()
    for start in range(0, len(names_l), 2000):
        block = process.cdist(
            names_l[start : start + 2000], names_r, scorer=fuzz.ratio, score_cutoff=90, workers=-1
        )
        for i, j in zip(*np.nonzero(block), strict=True):
            out.add((start + int(i), int(j)))
    return out


def _frame(records: list[dict[str, Any]]) -> Any:
    import pandas as pd  # noqa: PLC0415

    f = pd.DataFrame(records).drop(columns=["pid"])
    f["id_valid"] = f["id_number"].notna()
    return f


def run_resolver(
    left: Records, right: Records, frames: Any, floor: float = 0.5
) -> dict[tuple[int, int], float]:
    from integrity.identity.blocking import candidate_pairs  # noqa: PLC0415
    from integrity.identity.mentions import name_frequencies, prepare  # noqa: PLC0415
    from integrity.identity.priors import estimated_prior  # noqa: PLC0415
    from integrity.identity.scoring import score  # noqa: PLC0415

    # one context for the whole roster (the prior's grouping column), set before prepare copies
    lf, rf = prepare(frames[0].assign(_c=1)), prepare(frames[1].assign(_c=1))
    prior = estimated_prior(lf, rf, ["_c"], guess=1e-6)
    freq = name_frequencies(lf, rf)
    # blocking that skips what cannot reach 0.5 (a shared 张伟 without a birth date), reasons
    # only for the links kept
    pairs = candidate_pairs(lf, rf, prior=prior, floor=floor, frequencies=freq)
    scored = score(lf, rf, pairs, prior=prior, frequencies=freq, reasons_from=0.5)
    hit = scored[scored["confidence"] >= floor]
    return dict(
        zip(
            zip(hit["l"].astype(int), hit["r"].astype(int), strict=True),
            hit["confidence"].astype(float),
            strict=True,
        )
    )


def run_splink(
    left: Records, right: Records, frames: Any, floor: float = 0.5
) -> dict[tuple[int, int], float]:
    import logging  # noqa: PLC0415

    import duckdb  # noqa: PLC0415
    import splink.comparison_level_library as cll  # noqa: PLC0415
    import splink.comparison_library as cl  # noqa: PLC0415
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on  # noqa: PLC0415

    from integrity.identity.names import person_name, pinyin_key  # noqa: PLC0415

    logging.getLogger("splink").setLevel(logging.ERROR)

    def frame(base: Any, offset: int) -> Any:
        f = base.copy()
        f["unique_id"] = range(offset, offset + len(f))
        f["name_norm"] = f["name"].map(lambda v: person_name(str(v)))
        f["pinyin"] = f["name_norm"].map(pinyin_key)
        # an ID number that fails its check is no ID number
        f["id_number"] = f["id_number"].where(f["id_valid"].fillna(False).astype(bool))
        return f.drop(columns=["id_valid"])

    lf, rf = frame(frames[0], 0), frame(frames[1], len(left))
    # the name is one comparison with ordered levels (an exact name, else the same pinyin, else
    # close spellings): the pinyin as a comparison of its own counted a shared name twice (the
    # configuration of the third session: 0.49 precise)
    name = cl.CustomComparison(
        output_column_name="name",
        comparison_levels=[
            cll.NullLevel("name_norm"),
            cll.ExactMatchLevel("name_norm").configure(tf_adjustment_column="name_norm"),
            cll.ExactMatchLevel("pinyin").configure(tf_adjustment_column="pinyin"),
            cll.JaroWinklerLevel("name_norm", 0.92),
            cll.JaroWinklerLevel("name_norm", 0.8),
            cll.ElseLevel(),
        ],
    )
    settings = SettingsCreator(
        link_type="link_only",
        comparisons=[
            cl.ExactMatch("id_number"),
            name,
            cl.DateOfBirthComparison("birth_date", input_is_string=True),
            cl.ExactMatch("gender"),
            cl.ExactMatch("phone"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("name_norm"),
            block_on("pinyin"),
            block_on("id_number"),
            block_on("birth_date", "gender"),
            block_on("phone"),
        ],
    )
    # DuckDB spills to disk when memory runs short: into a scratch folder, not the checkout
    con = duckdb.connect()
    con.execute(f"SET temp_directory = '{tempfile.mkdtemp(prefix='splink-')}'")
    db = DuckDBAPI(con)
    linker = Linker([db.register(lf), db.register(rf)], settings, log_level=40)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("id_number")], recall=0.6
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=5e6)
    # m of the ID, birth date, sex and phone from pairs the name brings together (namesakes and
    # one person alike), then m of the name from pairs the birth date brings together. EM
    # blocked on the birth date, then on the ID (the third session's) left the birth date's
    # levels other than "exact" untrained (no pair sharing an ID differs in it): a birth date
    # that differs weighed nothing
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("name_norm"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("birth_date"))
    pred = linker.inference.predict(threshold_match_probability=floor).as_pandas_dataframe()
    n = len(left)
    return {
        (int(a), int(b) - n): float(p)
        for a, b, p in zip(
            pred["unique_id_l"], pred["unique_id_r"], pred["match_probability"], strict=True
        )
    }


IMPORTS = {
    "resolver": (
        "integrity.identity.blocking",
        "integrity.identity.scoring",
        "integrity.identity.priors",
    ),
    "splink": ("splink", "splink.comparison_library", "duckdb", "integrity.identity.names"),
    "naive": ("rapidfuzz",),
}
METHODS: dict[str, Any] = {
    "exact": run_exact,
    "naive": run_naive,
    "resolver": run_resolver,
    "splink": run_splink,
}
# the methods that state a confidence (a curve can be read from them)
SCORING: dict[str, Any] = {"resolver": run_resolver, "splink": run_splink}


# the address space a method may take (GiB): Splink at 300k x 1M would otherwise take the
# machine (24 GiB, no swap) down with it; over the limit a method fails with MemoryError
MEMORY_LIMIT_GIB = 20


# the thresholds a curve reports, and how low its untimed run scores
CURVE = (0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9)
CURVE_FLOOR = 0.05


def _scores(got: set[tuple[int, int]], truth: set[tuple[int, int]], wall: float) -> dict[str, Any]:
    tp = len(got & truth)
    precision = tp / len(got) if got else 0.0
    recall = tp / len(truth) if truth else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "links": len(got),
        "true_links": len(truth),
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "seconds": round(wall, 2),
    }


def _child(
    method: str,
    n_left: int,
    n_right: int,
    birth_missing: float,
    pool: str,
    queue: Any,
    curve: bool = False,
) -> None:
    limit = MEMORY_LIMIT_GIB * 1024**3
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    left, right = make(n_left, n_right, birth_missing=birth_missing, pool=pool)
    truth = truth_pairs(left, right)
    # libraries are imported before the clock starts, for every method alike
    for module in IMPORTS.get(method, ()):
        importlib.import_module(module)
    # the records as a plain DataFrame, each method's usual input, also before the clock
    frames = (_frame(left), _frame(right)) if method in ("resolver", "splink") else None
    # the generated records are the harness's, not the method's: frozen out of the cyclic
    # collector's sight, as for every method (else each full collection during a method
    # walks 130,000 record dicts it never made)
    gc.collect()
    gc.freeze()
    t0 = time.perf_counter()
    try:
        found = METHODS[method](left, right, frames)
    except Exception as exc:
        queue.put({"method": method, "error": repr(exc)[:300]})
        return
    wall = time.perf_counter() - t0
    peak = peak_mib()  # own peak: ru_maxrss would carry the harness RSS over the exec
    got = {pair for pair in found if not isinstance(found, dict) or found[pair] >= 0.5}
    out = {"method": method, **_scores(got, truth, wall), "peak_mib": round(peak)}
    if curve and method in SCORING:
        # untimed: the same method scored down to CURVE_FLOOR, read at each threshold
        conf = SCORING[method](left, right, frames, floor=CURVE_FLOOR)
        out["curve"] = {
            t: _scores({p for p, c in conf.items() if c >= t}, truth, 0.0) for t in CURVE
        }
    queue.put(out)


def _print_curves(done: dict[str, dict[str, Any]]) -> None:
    """Each scoring method's precision and recall by threshold, and each one's recall at the
    precision the other reaches at 0.5 (the best recall among the thresholds at which it is
    at least as precise)."""
    curves = {m: r["curve"] for m, r in done.items() if "curve" in r}
    if not curves:
        return
    print("\nprecision / recall by threshold (untimed runs down to 0.05)")
    print(f"{'threshold':<10}" + "".join(f"{m:>22}" for m in curves))
    for t in CURVE:
        cells = "".join(
            f"{c[t]['precision']:>12.4f} /{c[t]['recall']:>7.4f}" for c in curves.values()
        )
        print(f"{t:<10}{cells}")
    for m, c in curves.items():
        for other, r in done.items():
            if other == m or "curve" not in r:
                continue
            at = [v["recall"] for v in c.values() if v["precision"] >= r["precision"]]
            said = f"recall {max(at):.4f} where" if at else "at no threshold"
            print(f"{m}: {said} at least as precise as {other} at 0.5 ({r['precision']:.4f})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--left", type=int, default=30_000)
    parser.add_argument("--right", type=int, default=100_000)
    parser.add_argument("--no-naive", action="store_true")
    parser.add_argument(
        "--birth-missing",
        type=float,
        default=0.0,
        help="share of the records without an ID number that also lack a birth date "
        "(0: the issue's noise; 0.2: a harsher roster where a name alone often remains)",
    )
    parser.add_argument(
        "--pool",
        default="common",
        choices=["common", "wide", "mixed"],
        help="names: common (the default), wide (larger given-name pool), mixed (8%% written "
        "with a middle dot and their transliteration variants, 3%% compound surnames)",
    )
    parser.add_argument("--methods", default="exact,naive,resolver,splink")
    parser.add_argument(
        "--curve",
        action="store_true",
        help="also score resolver and Splink down to 0.05 (untimed) and print precision and "
        "recall at several thresholds",
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs of each method (fresh processes): the median"
    )
    args = parser.parse_args()
    methods = [m for m in args.methods.split(",") if not (args.no_naive and m == "naive")]
    ctx = mp.get_context("spawn")
    rows = []
    for method in methods:
        runs = []
        for _ in range(args.repeat):
            queue = ctx.Queue()
            proc = ctx.Process(
                target=_child,
                args=(
                    method,
                    args.left,
                    args.right,
                    args.birth_missing,
                    args.pool,
                    queue,
                    args.curve,
                ),
            )
            proc.start()
            proc.join()
            runs.append(queue.get() if not queue.empty() else {"method": method, "error": "died"})
            shown = {k: v for k, v in runs[-1].items() if k != "curve"}
            print(json.dumps(shown, ensure_ascii=False), flush=True)
            if "error" in runs[-1]:
                break
        row = dict(runs[-1])
        if "error" not in row:
            # the median of the repeats (the same links each time), and every time seen
            times = sorted(r["seconds"] for r in runs)
            row["seconds"] = times[len(times) // 2]
            row["all_seconds"] = [r["seconds"] for r in runs]
            row["peak_mib"] = max(r["peak_mib"] for r in runs)
        rows.append(row)
    print(
        f"\n{args.left:,} left x {args.right:,} right, names {args.pool}, birth date also "
        f"missing for {args.birth_missing:.0%} of the records without an ID (generation and "
        "the records' DataFrames not counted)"
    )
    print(f"{'method':<10}{'precision':>10}{'recall':>8}{'F1':>8}{'seconds':>9}{'peak MiB':>10}")
    for r in rows:
        if "error" in r:
            print(f"{r['method']:<10} error: {r['error']}")
            continue
        print(
            f"{r['method']:<10}{r['precision']:>10.4f}{r['recall']:>8.4f}{r['f1']:>8.4f}"
            f"{r['seconds']:>9.2f}{r['peak_mib']:>10,}"
            + (
                f"  (runs: {', '.join(f'{t:.2f}' for t in r['all_seconds'])})"
                if args.repeat > 1
                else ""
            )
        )
    done = {r["method"]: r for r in rows if "error" not in r}
    _print_curves(done)
    if "resolver" in done and "splink" in done:
        ratio = done["splink"]["seconds"] / max(done["resolver"]["seconds"], 1e-9)
        print(
            f"resolver {ratio:.1f}x faster than Splink, F1 {done['resolver']['f1']:.4f} "
            f"against {done['splink']['f1']:.4f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
