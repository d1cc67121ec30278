"""Calibration of identity links: the confidence given against how often such links are one person.

    .venv/bin/python bench/calibration.py                      # measure on the measuring seeds
    .venv/bin/python bench/calibration.py --fit                # fit on other seeds, then measure
    .venv/bin/python bench/calibration.py --fit --write        # ... and write the fitted map

Only links decided by names (and birth dates, sex, phones) are measured: a pair whose two
sides carry valid resident ID numbers is decided by them (1 or 0) and is left out. Two sources
of pairs whose truth is known:

- panel: districts the demo's generator draws from a seed (name pools ``demo`` and ``wide``,
  drawn with the population's namesakes; ``demo-unique`` and ``wide-unique`` drawn as the
  demo is, each name once). The role holders' ID numbers (and what they give: birth date,
  sex, the number-based key) are hidden; the panels' officials and relatives are matched to
  the holders of the awarded suppliers by name as avoidance does (the prior the rule measured
  on the real numbers); each scored pair is compared with the hidden numbers. The generator's
  designed namesake decoys (the official's brother 某建国 and an unrelated 某建国 at the
  winner, told apart in the data by their ID numbers) are left out: with the numbers hidden
  they are one name by design.
- roster: two rosters bench_resolve's generator draws (pools ``common``, ``wide`` and
  ``mixed``: names written with a middle dot and their transliteration variants, compound
  surnames), the whole roster as context, a fifth of the records without an ID number without
  a birth date either; every candidate pair the blocking makes down to 0.01 is scored.

For each source and pool: the reliability table (per tenth of confidence: pairs, mean
confidence given, share that are one person) and the expected calibration error, ECE =
sum over bins of n_b / N * |given_b - share_b|. ``--fit`` fits an isotonic map (scikit-learn,
the ``bench`` extra) from the resolver's own posterior to the share on the fitting seeds, one
map per level of namesake rate (the district's own, ``Tables.namesake_rate``: the pools drawn
once together, each pool drawn with namesakes on its own, :func:`fit_levels`), and measures
the maps on the measuring seeds, each district stated at its own rate, never the same
districts; ``--write`` stores the knots in ``integrity/identity/calibration.json``, which the
resolver then applies to every link it judges by names.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "fixtures"))
sys.path.insert(0, str(ROOT / "bench"))

from generate_demo import generate  # noqa: E402

from integrity.identity import calibration  # noqa: E402
from integrity.identity.priors import CONTEXT_PRIOR, ROSTER_PRIOR  # noqa: E402
from integrity.load.dataset import load_dataset  # noqa: E402
from integrity.policy import load_profile  # noqa: E402
from integrity.rules import ScanContext  # noqa: E402
from integrity.rules.related_supplier import roster  # noqa: E402
from integrity.screening.decisions import decisions  # noqa: E402

ROLES = ("法定代表人", "负责人", "股东", "董事", "监事", "经理")
STEPS = ("筛选", "评议", "审核", "评审", "审定", "采购经办", "验收")
BINS = np.r_[np.linspace(0.0, 0.9, 10), 1.0001]  # the last tenth holds 1.0
# the roster's sizes: large enough for namesakes to abound, small enough for forty seeds
ROSTER_SIZE = [10_000, 30_000]  # --roster-size changes it (a cache is per size)
ROSTER_BIRTH_MISSING = 0.2
# the least confidence measured (a lead starts at 0.1)
FLOOR = 0.01
ASSERTED = 0.5  # a finding's link is asserted from here (线索待核 below)
BOOTSTRAP = 400  # draws for the ECE's interval and its chance level


# a district pool drawn without namesakes (``demo-unique``: the generator draws a name again
# when it is taken, as the demo and the quality bench do); ``demo``, ``wide``: with the
# population's namesakes
UNIQUE = "unique"


# the calibration map each source's links are stated with
CONTEXT = {"panel": calibration.PANEL, "staff": calibration.KIN, "roster": calibration.ROSTER}
# the contexts a map is fitted for. The roster's posterior is measured, not mapped: it is
# calibrated already at 30k x 100k (ECE 0.005-0.007) and a map fitted at 10k x 30k, where the
# prior's smoothing towards its guess weighs more, made it worse there (0.029-0.033; precision
# at 0.5 0.98 -> 0.87): a map of the posterior alone does not carry across roster sizes
FITTED = (calibration.PANEL, calibration.KIN)


@contextmanager
def uncalibrated() -> Iterator[None]:
    """The resolver's own posterior, without the fitted map (what the map is fitted on)."""
    saved = calibration.current
    calibration.current = lambda context=calibration.ROSTER, variant=False: calibration.IDENTITY  # type: ignore[assignment]
    try:
        yield
    finally:
        calibration.current = saved  # type: ignore[assignment]


def district_pairs(dataset: Path, context: str, hide: str = "holders") -> pd.DataFrame:
    """The links a district's rules judge, with the holders' ID numbers hidden: ``panel``,
    each project's decision-makers and their relatives against the awarded supplier's holders
    (avoidance); ``staff``, every official and relative against every supplier's holders
    (related_supplier's roster, its prior). ``hide="kin"``: instead, half the relatives'
    numbers hidden (:func:`kin_pairs`), the holders' kept."""
    if hide == "kin":
        return kin_pairs(dataset, context)
    ctx = ScanContext(dataset=load_dataset(dataset), profile=load_profile("longgang-2023"))
    scr = ctx.screening
    _ = scr.name_commonness  # counted with the real holders
    h = scr.holders
    left, orgs, on, guess = _left(ctx, context)
    right = orgs.drop_duplicates().merge(h[h["role"].isin(ROLES)], on="org_key")
    prior = scr._kin_prior(left, right, on, guess)
    hidden = h.copy()
    had = hidden["id_valid"].to_numpy().copy()
    hidden["true_id"] = hidden["id_number"].where(hidden["id_valid"])
    for col in ("id_number", "birth", "sex", "birth_date", "gender"):
        if col in hidden:
            hidden.loc[had, col] = None
    hidden.loc[had, "id_valid"] = False
    hidden.loc[had, "key"] = (
        "hidden:" + hidden.loc[had, "org_key"].astype(str) + "|" + hidden.loc[had, "name_norm"]
    )
    scr.__dict__["holders"] = hidden
    scr._kin_prior = lambda *a, **k: prior  # type: ignore[method-assign]
    hits = scr.kin_in_roles(
        left, orgs, on=on, roles=ROLES, prior=prior, floor=FLOOR, context=CONTEXT[context]
    )
    if hits.empty:
        return pd.DataFrame(columns=["raw", "same", "decoy", "rate", "kind"])
    hits = hits[hits["h_true_id"].notna()]
    people = scr.people
    rel_id = people["id_number"].where(people["id_valid"].astype(bool)).reindex(hits["relative"])
    # the rate is the kin side's: the holders' hidden numbers are not in it
    return _measured(
        hits.assign(rel_id=rel_id.to_numpy()), "h_true_id", scr.namesake_rate, scr.shared_names
    )


def _measured(
    hits: pd.DataFrame, holder_id: str, rate: float, shared: frozenset[str]
) -> pd.DataFrame:
    """The links whose two numbers are known (``rel_id``, ``holder_id``) as the bench measures
    them: the stated confidence, one person or not, a designed decoy, the district's rate,
    and the pair's kind (calibration.pair_kinds: which map the product states it by)."""
    hits = hits[hits["rel_id"].notna() & hits[holder_id].notna()]
    hits = hits.drop_duplicates(subset=["relative", holder_id, "match_conf"])
    same = (hits["rel_id"] == hits[holder_id]).to_numpy()
    decoy = hits["h_name"].str.endswith("建国").to_numpy() & ~same
    kind = calibration.pair_kinds(hits["name_norm"], hits["h_name_norm"], shared)
    return pd.DataFrame(
        {
            "raw": hits["match_conf"].to_numpy(float), "same": same, "decoy": decoy,
            "rate": rate, "kind": kind,
        }
    )  # fmt: skip


def _left(ctx: ScanContext, context: str) -> tuple[pd.DataFrame, pd.DataFrame, list[str], float]:
    """(left rows, organisations, context columns, prior's guess) of a district's source."""
    scr = ctx.screening
    if context == "panel":
        left = decisions(ctx, STEPS)
        return left, left[["project_id", "org_key"]], ["project_id"], CONTEXT_PRIOR
    staff = scr.keyed["staff"]
    left = staff[["staff_id", "person_key", "name"]].assign(_all=1)
    return left, roster(ctx).assign(_all=1), ["_all"], ROSTER_PRIOR


def kin_pairs(dataset: Path, context: str) -> pd.DataFrame:
    """:func:`district_pairs` the other way round, as declarations most often come: every
    second relative (not the officials) without an ID number (nor the birth date and sex it
    gives), the holders with theirs, so that the holder's region code can be weighed against
    the family's (:mod:`integrity.identity.family`, measured on the relatives left with
    numbers). The kinship and the namesake rate are the full data's; the pairs measured are
    the hidden relatives' against holders with numbers."""
    import integrity.screening.kin as kin_module  # noqa: PLC0415

    ctx = ScanContext(dataset=load_dataset(dataset), profile=load_profile("longgang-2023"))
    scr = ctx.screening
    _ = scr.name_commonness, scr.namesake_rate, scr.shared_names, scr.kin_all
    left, orgs, on, guess = _left(ctx, context)
    h = scr.holders
    right = orgs.drop_duplicates().merge(h[h["role"].isin(ROLES)], on="org_key")
    prior = scr._kin_prior(left, right, on, guess)
    people = scr.people
    staff_keys = set(scr.keyed["staff"]["person_key"])
    every_second = pd.util.hash_pandas_object(people.index.to_series(), index=False) % 2 == 0
    hide = (
        people["id_valid"].astype(bool)
        & every_second.to_numpy()
        & ~people.index.isin(list(staff_keys))
    )
    true_id = people["id_number"].where(hide)
    hidden = people.copy()
    for col in ("id_number", "birth", "sex", "birth_date", "gender"):
        hidden[col] = hidden[col].astype(object)
        hidden.loc[hide, col] = None
    hidden.loc[hide, "id_valid"] = False
    scr.__dict__["people"] = hidden
    scr._kin_prior = lambda *a, **k: prior  # type: ignore[method-assign]
    attributes = kin_module._with_attributes

    def renamed(s: object, rows: pd.DataFrame) -> pd.DataFrame:
        out = attributes(s, rows)  # type: ignore[arg-type]
        gone = out["relative"].isin(true_id.dropna().index)
        out.loc[gone, "key"] = "hidden:" + out.loc[gone, "relative"].astype(str)
        return out

    kin_module._with_attributes = renamed  # type: ignore[assignment]
    try:
        hits = scr.kin_in_roles(
            left, orgs, on=on, roles=ROLES, prior=prior, floor=FLOOR, context=CONTEXT[context]
        )
    finally:
        kin_module._with_attributes = attributes  # type: ignore[assignment]
    if hits.empty:
        return pd.DataFrame(columns=["raw", "same", "decoy", "rate", "kind"])
    hits = hits.assign(rel_id=true_id.reindex(hits["relative"]).to_numpy())
    valid = hits["h_id_valid"].astype(bool)
    hits = hits.assign(h_known=hits["h_id_number"].where(valid))
    return _measured(hits, "h_known", scr.namesake_rate, scr.shared_names)


def roster_pairs(seed: int, pool: str) -> pd.DataFrame:
    import bench_resolve  # noqa: PLC0415
    from bench_resolve import _frame, make  # noqa: PLC0415

    from integrity.identity.blocking import candidate_pairs  # noqa: PLC0415
    from integrity.identity.mentions import name_frequencies, prepare  # noqa: PLC0415
    from integrity.identity.priors import estimated_prior  # noqa: PLC0415
    from integrity.identity.scoring import score  # noqa: PLC0415

    bench_resolve._USED.clear()  # each seed's roster its own, whatever ran before
    left, right = make(
        ROSTER_SIZE[0], ROSTER_SIZE[1], seed=seed, birth_missing=ROSTER_BIRTH_MISSING, pool=pool
    )
    lf, rf = prepare(_frame(left).assign(_c=1)), prepare(_frame(right).assign(_c=1))
    prior = estimated_prior(lf, rf, ["_c"], guess=1e-6)
    freq = name_frequencies(lf, rf)
    pairs = candidate_pairs(lf, rf, prior=prior, floor=FLOOR, frequencies=freq)
    scored = score(lf, rf, pairs, prior=prior, frequencies=freq, reasons_from=2.0)
    li, ri = scored["l"].to_numpy(int), scored["r"].to_numpy(int)
    by_id = lf["id_valid"].to_numpy(bool)[li] & rf["id_valid"].to_numpy(bool)[ri]
    lpid = np.array([r["pid"] for r in left])[li]
    rpid = np.array([r["pid"] for r in right])[ri]
    raw = scored["confidence"].to_numpy(float)
    keep = ~by_id & (raw >= FLOOR)
    return pd.DataFrame(
        {
            "raw": raw[keep],
            "same": (lpid == rpid)[keep],
            "decoy": False,
            "rate": np.nan,
            "kind": calibration.ALIKE,  # the roster has one map
        }
    )


def collect(source: str, pool: str, seeds: list[int], cache: Path | None) -> pd.DataFrame:
    frames = []
    for seed in seeds:
        kept = cache / f"{source}-{pool}-{seed}.csv" if cache else None
        if kept is not None and kept.exists():
            cached = pd.read_csv(kept)
            if "kind" in cached:  # a cache from before the kind was kept is drawn again
                frames.append(cached)
                continue
        if source in ("panel", "staff"):
            drawn_pool, _, hide = pool.partition("+")
            names, _, drawn = drawn_pool.partition("-")
            with tempfile.TemporaryDirectory() as tmp:
                generate(Path(tmp), seed, names, namesakes=drawn != UNIQUE)
                pairs = district_pairs(Path(tmp) / "longgang", source, hide or "holders")
        else:
            pairs = roster_pairs(seed, pool)
        frames.append(pairs.assign(seed=seed))
        if kept is not None:
            frames[-1].to_csv(kept, index=False)
        print(f"  {source}/{pool} seed {seed}: {len(pairs)} pairs", file=sys.stderr, flush=True)
    out = pd.concat(frames, ignore_index=True)
    return out[~out["decoy"].astype(bool)]


def reliability(given: np.ndarray, same: np.ndarray) -> tuple[pd.DataFrame, float]:
    """Per tenth of confidence: pairs, mean given, share one person; and the ECE."""
    band = pd.cut(given, BINS, right=False, include_lowest=True)
    t = (
        pd.DataFrame({"band": band, "given": given, "same": same.astype(float)})
        .groupby("band", observed=True)
        .agg(pairs=("same", "size"), given=("given", "mean"), one_person=("same", "mean"))
    )
    n = t["pairs"].sum()
    ece = float((t["pairs"] / n * (t["given"] - t["one_person"]).abs()).sum()) if n else 0.0
    return t, ece


def _ece(given: np.ndarray, same: np.ndarray) -> float:
    """:func:`reliability`'s ECE alone, in arrays (for the bootstrap's many draws), of
    confidences in [0, 1]."""
    if not len(given):
        return 0.0
    if np.any(~((given >= 0.0) & (given <= 1.0))):
        raise ValueError("a confidence outside [0, 1]")
    band = np.digitize(given, BINS) - 1
    gap = np.bincount(band, given, len(BINS)) - np.bincount(band, same.astype(float), len(BINS))
    return float(np.abs(gap).sum() / len(given))


def _unique(pool: str) -> bool:
    """A pool drawn once (``demo-unique``, ``wide-unique+kin``)."""
    return pool.partition("+")[0].endswith(f"-{UNIQUE}")


def ece_spread(
    pairs: pd.DataFrame, stated: np.ndarray, draws: int = BOOTSTRAP, seed: int = 0
) -> tuple[float, float]:
    """The 5th and 95th percentiles of the ECE with the districts drawn again with replacement
    (a district's pairs go together: they share its people and its rate). A spread, not a
    confidence interval: the ECE is biased upwards on few pairs and a draw with repeated
    districts more so (on a calibrated map the measured ECE often falls below it)."""
    rng = np.random.default_rng(seed)
    seeds = pairs["seed"].to_numpy()
    same = pairs["same"].to_numpy()
    rows = [np.flatnonzero(seeds == d) for d in np.unique(seeds)]
    if not rows:
        return 0.0, 0.0
    eces = []
    for _ in range(draws):
        at = np.concatenate([rows[i] for i in rng.integers(0, len(rows), len(rows))])
        eces.append(_ece(stated[at], same[at]))
    return float(np.quantile(eces, 0.05)), float(np.quantile(eces, 0.95))


def chance_ece(stated: np.ndarray, draws: int = BOOTSTRAP, seed: int = 0) -> tuple[float, float]:
    """The ECE a perfectly calibrated statement of as many pairs at these confidences shows by
    chance alone (each pair one person with the chance stated, the pairs independent): its
    mean and 95th percentile. A measured ECE above the 95th percentile is not chance."""
    rng = np.random.default_rng(seed)
    eces = [_ece(stated, rng.random(len(stated)) < stated) for _ in range(draws)]
    return float(np.mean(eces)), float(np.quantile(eces, 0.95))


def fit(
    raw: np.ndarray, same: np.ndarray, weight: np.ndarray, method: str
) -> calibration.Calibration:
    """isotonic: a step function, as free as the data; logistic (Platt): one slope and one
    shift of the posterior's log-odds, two numbers, tabulated at 201 points."""
    if method == "isotonic":
        from sklearn.isotonic import IsotonicRegression  # noqa: PLC0415

        iso = IsotonicRegression(y_min=0.0, y_max=1.0, increasing=True, out_of_bounds="clip")
        iso.fit(raw, same.astype(float), sample_weight=weight)
        return calibration.Calibration.from_knots(iso.X_thresholds_, iso.y_thresholds_)
    from sklearn.linear_model import LogisticRegression  # noqa: PLC0415

    def logit(p: np.ndarray) -> np.ndarray:
        q = np.clip(p, 1e-6, 1 - 1e-6)
        return np.log(q / (1 - q))

    platt = LogisticRegression(C=1e6)
    platt.fit(logit(raw)[:, None], same.astype(int), sample_weight=weight)
    grid = np.r_[0.0, np.logspace(-6, 0, 100)[:-1], 1 - np.logspace(-1, -6, 100), 1.0]
    grid = np.unique(np.clip(grid, 0.0, 1.0))
    return calibration.Calibration.from_knots(grid, platt.predict_proba(logit(grid)[:, None])[:, 1])


def stated_at(maps: dict[str, calibration.Levels], context: str, pairs: pd.DataFrame) -> np.ndarray:
    """Each pair stated by ``context``'s map of its kind (calibration.pair_kinds: names alike
    and not shared, or else the map of all pairs where the context has one) at its own
    district's namesake rate."""
    out = np.empty(len(pairs))
    rates = pairs["rate"].to_numpy(float)
    raw = pairs["raw"].to_numpy(float)
    alike = _alike(pairs)
    variant = maps.get(calibration.variant_of(context), maps[context])
    for rate in np.unique(rates):
        at = rates == rate if not np.isnan(rate) else np.isnan(rates)
        r = None if np.isnan(rate) else float(rate)
        out[at] = np.where(alike[at], maps[context].at(r)(raw[at]), variant.at(r)(raw[at]))
    return out


def fit_levels(
    parts: dict[str, pd.DataFrame], method: str, weigh: str, alike_only: bool = False
) -> calibration.Levels:
    """One map per level of namesake rate: the pools drawn without namesakes together (their
    rates differ by the generator's few designed namesakes only), each pool drawn with them
    on its own; each level fitted on its pools (each pool weighing alike with ``weigh`` =
    pools), at its districts' median rate, the levels in order of rate. ``alike_only``: fitted
    on the pairs the map of names alike states only (calibration.ALIKE), the levels' rates
    those of all the pairs."""
    groups: dict[str, list[str]] = {}
    for pool in parts:
        drawn = pool.partition("+")[0]  # a pool's two ways of hiding numbers fit together
        groups.setdefault(UNIQUE if _unique(pool) else drawn, []).append(pool)
    rates, fitted = [], []
    for group in groups.values():
        every = pd.concat([parts[p] for p in group], ignore_index=True)
        own = {p: parts[p][_alike(parts[p])] if alike_only else parts[p] for p in group}
        both = pd.concat(
            [own[p].assign(w=1 / max(len(own[p]), 1) if weigh == "pools" else 1.0) for p in group],
            ignore_index=True,
        )
        fitted.append(
            fit(both["raw"].to_numpy(), both["same"].to_numpy(), both["w"].to_numpy(), method)
        )
        rates.append(float(every.drop_duplicates(["seed", "rate"])["rate"].median()))
        print(f"  level {rates[-1]:.3g}: {'+'.join(group)}, {len(both)} pairs")
    order = np.argsort(rates)
    maps = [fitted[i] for i in order]
    # a name match weighs no less where names crowd less: each level states at least what
    # the more crowded level above it states (a running maximum from the most crowded down)
    for i in range(len(maps) - 2, -1, -1):
        maps[i] = at_least(maps[i], maps[i + 1])
    return calibration.Levels(tuple(rates[i] for i in order), tuple(maps))


def _alike(pairs: pd.DataFrame) -> np.ndarray:
    """Which pairs the map of names alike states (calibration.ALIKE)."""
    return (pairs["kind"] == calibration.ALIKE).to_numpy()


def at_least(m: calibration.Calibration, floor: calibration.Calibration) -> calibration.Calibration:
    """``m`` raised to ``floor`` wherever ``floor`` states more (both monotone: so is this)."""
    knots, mine, least = calibration.on_common_knots(m, floor)
    return calibration.Calibration.from_knots(knots, np.maximum(mine, least))


def at_most(
    m: calibration.Calibration, ceiling: calibration.Calibration
) -> calibration.Calibration:
    """``m`` lowered to ``ceiling`` wherever ``ceiling`` states less (both monotone: so is this)."""
    knots, mine, most = calibration.on_common_knots(m, ceiling)
    return calibration.Calibration.from_knots(knots, np.minimum(mine, most))


def seeds_of(text: str) -> list[int]:
    out: list[int] = []
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        out.extend(range(int(lo), int(hi or lo) + 1))
    return out


def committed_maps() -> dict[str, calibration.Levels]:
    """The maps calibration.json holds, each context's variant map where it has one."""
    maps = {c: calibration.levels(c) for c in calibration.CONTEXTS}
    maps |= {
        calibration.variant_of(c): calibration.levels(c, variant=True)
        for c in calibration.CONTEXTS
        if calibration.has_variant(c)
    }
    return maps


def fitted_maps(
    train: dict[tuple[str, str], pd.DataFrame], args: argparse.Namespace
) -> dict[str, calibration.Levels]:
    """The committed maps with each fitted context's refitted on ``train``: one map of all its
    pairs, or (``--variant``) one of the pairs whose names are written alike, the map of all
    pairs kept for those written differently."""
    maps = committed_maps()
    for context in FITTED:
        parts = {pool: f for (source, pool), f in train.items() if CONTEXT[source] == context}
        if not parts:
            continue
        maps.pop(calibration.variant_of(context), None)
        if args.variant:
            maps[context] = fit_levels(parts, args.method, args.weigh, alike_only=True)
            # too few pairs written differently are one person to fit a map on (5 of 385
            # in seeds 1-80, none above a posterior of 0.41): they keep the map of all pairs
            every = fit_levels(parts, args.method, args.weigh)
            # a name written differently never weighs more than one written alike
            alike = maps[context]
            maps[calibration.variant_of(context)] = calibration.Levels(
                every.rates,
                tuple(
                    at_most(m, alike.at(r)) for r, m in zip(every.rates, every.maps, strict=True)
                ),
            )
        else:
            maps[context] = fit_levels(parts, args.method, args.weigh)
        print(f"{context}: fitted on seeds {args.fit_seeds}, levels at namesake rates "
              f"{[float(f'{v:.3g}') for v in maps[context].rates]}")  # fmt: skip
    return maps


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="101-120", help="measuring seeds (a-b, or a,b,c)")
    parser.add_argument("--fit-seeds", default="1-40", help="fitting seeds, with --fit")
    parser.add_argument(
        "--fit-seeds-unique",
        help="fitting seeds of the pools drawn once (default: --fit-seeds); their districts "
        "give a few pairs each, so their level may be fitted on more of them",
    )
    parser.add_argument("--fit", action="store_true")
    parser.add_argument("--method", default="isotonic", choices=["isotonic", "logistic"])
    parser.add_argument(
        "--weigh", default="pools", choices=["pools", "pairs"],
        help="pools: each name pool weighs alike; pairs: each pair does",
    )  # fmt: skip
    parser.add_argument("--write", action="store_true", help="with --fit: store the knots")
    parser.add_argument(
        "--variant",
        action="store_true",
        help="with --fit: the map fitted on the pairs whose names are written alike, the map of "
        "all pairs kept for those written differently",
    )
    parser.add_argument("--cache", type=Path, help="keep each district's pairs here (CSV)")
    parser.add_argument("--sources", default="panel/demo,panel/wide,panel/demo-unique,"
                        "panel/wide-unique,staff/demo,staff/wide,staff/demo-unique,"
                        "staff/wide-unique,roster/common,roster/wide,roster/mixed")  # fmt: skip
    parser.add_argument("--roster-size", default="10000x30000", help="LEFTxRIGHT records")
    args = parser.parse_args()
    ROSTER_SIZE[:] = [int(v) for v in args.roster_size.split("x")]
    measure, fitting = seeds_of(args.seeds), seeds_of(args.fit_seeds)
    fitting_unique = seeds_of(args.fit_seeds_unique) if args.fit_seeds_unique else fitting
    if args.fit and set(measure) & (set(fitting) | set(fitting_unique)):
        parser.error("the fitting and measuring seeds must be different districts")
    kinds = [tuple(s.split("/", 1)) for s in args.sources.split(",")]
    with uncalibrated():
        if args.cache:
            args.cache.mkdir(parents=True, exist_ok=True)
        held = {k: collect(*k, measure, args.cache) for k in kinds}
        train = (
            {
                k: collect(*k, fitting_unique if _unique(k[1]) else fitting, args.cache)
                for k in kinds
            }
            if args.fit
            else {}
        )
    maps = fitted_maps(train, args) if args.fit else committed_maps()
    report: dict[str, dict[str, float]] = {}
    for (source, pool), pairs in held.items():
        raw, same = pairs["raw"].to_numpy(), pairs["same"].to_numpy()
        print(f"\n{source}/{pool}, seeds {args.seeds}: {len(pairs)} pairs")
        t0, e0 = reliability(raw, same)
        stated = stated_at(maps, CONTEXT[source], pairs)
        t1, e1 = reliability(stated, same)
        print("the resolver's posterior:")
        print(t0.round(3).to_string())
        print(f"ECE {e0:.4f}")
        print("stated (the map applied):")
        print(t1.round(3).to_string())
        print(f"ECE {e1:.4f}")
        low, high = ece_spread(pairs, stated)
        chance, chance_high = chance_ece(stated)
        print(
            f"stated ECE with the districts drawn again: 5th-95th percentile {low:.4f}-{high:.4f}; "
            f"a calibrated statement of these pairs shows {chance:.4f} by chance "
            f"(95th percentile {chance_high:.4f})"
        )
        for label, given in (("posterior", raw), ("stated", stated)):
            at = given >= ASSERTED
            print(
                f"{label} >= {ASSERTED}: {int(at.sum())} links, precision "
                f"{same[at].mean() if at.any() else float('nan'):.3f}, recall "
                f"{at[same].mean() if same.any() else float('nan'):.3f} (of the true pairs scored)"
            )
        report[f"{source}/{pool}"] = {
            "pairs": len(pairs), "ece_raw": e0, "ece_stated": e1,
            "ece_low": low, "ece_high": high, "ece_chance": chance,
            "ece_chance_95": chance_high,
        }  # fmt: skip
    print(json.dumps(report, ensure_ascii=False))
    if args.fit and args.write:
        calibration.write(
            maps,
            fitted_on=f"bench/calibration.py --fit --method {args.method}: {args.sources}; "
            f"seeds {args.fit_seeds}"
            + (f", drawn once {args.fit_seeds_unique}" if args.fit_seeds_unique else "")
            + " (districts with and without namesakes: one map per level of namesake rate; "
            + ("each name pool" if args.weigh == "pools" else "each pair")
            + " weighed alike"
            + (
                "; the map of names written alike fitted on them, names written differently "
                "stated by the map of all pairs"
                if args.variant
                else ""
            )
            + f"); measured on seeds {args.seeds}",
        )
        print(f"wrote {calibration.CALIBRATION_FILE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
