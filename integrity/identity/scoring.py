"""Who is who: candidate pairs of person mentions by blocking, scored with reasons.

A mention is one row naming a person (an official, a declared relative, a registry entry, a
supplier's legal representative...). The resolver decides which mentions are the same person:

- a valid resident ID number decides: the same number is the same person, two different
  valid numbers are two people whatever the names;
- without numbers, candidates come from blocking keys (the normalised name, its pinyin, the
  name with one character left out, the phone), never from all pairs, and are scored as in
  Fellegi–Sunter: each feature adds log-odds, the name's weight adjusted for how common the
  name is in the data itself (a match on 张伟 is weak, on 欧阳子萱 strong);
- the prior odds come from the caller: across a city a shared name means little, inside one
  project (the reviewer's declared brother and the winner's legal representative) far more.

Every scored pair carries its confidence in [0, 1] and the reasons (feature, log-odds) that
make it up, so a finding can say why it believes a link. The confidence stated is the
posterior through the calibration map of the context the caller names (:mod:`.calibration`:
a project's panel, an official's kin across the roster, roster linkage), so that it is the
share of such links that are one person; ``log_odds`` keeps the posterior's own.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from integrity.identity import calibration
from integrity.identity.addresses import address_evidence, address_reasons
from integrity.identity.ages import ADULT_BY, adult_by, minors, year_of, years, years_of
from integrity.identity.ages import LABEL as MINOR_LABEL
from integrity.identity.calibration import ROSTER
from integrity.identity.family import (
    ADDRESS_COLUMNS,
    FAMILY_COLUMNS,
    family_evidence,
    family_reasons,
    with_family,
    with_family_all,
)
from integrity.identity.mentions import filled, name_frequencies, pinyin_of
from integrity.identity.names import (
    pinyin_key,
    split_surname,
)


@dataclass(frozen=True)
class Weights:
    """m and u probabilities of each comparison level (m: among true matches, u: among
    non-matches); the name's u comes from the data's own name frequencies."""

    name_exact_m: float = 0.88
    # equal only after traditional -> simplified: the same name in the other script, less a
    # bit for the characters OpenCC merges (於 and 于 are two surnames)
    name_trad_penalty_bits: float = 1.0
    name_pinyin_m: float = 0.04  # homophone: same pinyin, other characters
    # a pinyin key is shared by several times more people than the name (li qian ying: 李倩英,
    # 李倩颖, 李茜莹...): its u is the name's u times 2**this
    name_pinyin_density_bits: float = 3.0
    name_surname_homophone_bits: float = 6.0
    # one character typed wrong, not a homophone: typos are rare, and one-character
    # neighbours (王帅强, 王强强, 王志强...) far more common than namesakes, above all inside a
    # family, where siblings share the surname and often the generation character (上官霞雪,
    # 上官霞瑶): u times 2**this
    name_edit_m: float = 0.03
    name_edit_density_bits: float = 9.0
    name_different_m: float = 0.005  # a true match whose names differ outright
    birth_same_m: float = 0.97
    birth_same_u: float = 1 / 20_000
    birth_diff_m: float = 0.01  # a typed-in birth date differs for about 1 in 100 true matches
    gender_same_m: float = 0.995
    gender_diff_m: float = 0.005
    phone_same_m: float = 0.6
    phone_same_u: float = 1e-6
    phone_diff_m: float = 0.4
    # a birth year outside the range a kin row implies (a declared son born before his
    # father): a typo or a wrong link for a true match, for about half of all other pairs
    birth_range_conflict_m: float = 0.02
    birth_range_conflict_u: float = 0.5
    # one side born after the other side's office allows an adult to be (identity.ages): a
    # birth date typed wrong for a true match; for other pairs, how often a relative is a
    # minor (children and grandchildren among the kin rows)
    minor_office_m: float = 0.02
    minor_office_u: float = 0.2


Evidence = list[tuple[np.ndarray, str, np.ndarray]]  # (which pairs, reason, log-odds)
# up to this many pairs are scored one by one as records (score's small-pairs path: the same
# numbers without the fixed cost of the vectorised path's pandas operations)
SMALL_PAIRS = 32


def _names(
    a: pd.DataFrame,
    b: pd.DataFrame,
    w: Weights,
    freq: pd.Series,
    pinyin_freq: pd.Series,
    floor: float,
) -> Evidence:
    exact = a["name_nfkc"].to_numpy() == b["name_nfkc"].to_numpy()
    an = a["name_norm"].fillna("").astype(str).to_numpy()
    bn = b["name_norm"].fillna("").astype(str).to_numpy()
    trad = ~exact & (an == bn) & (an != "")
    pinyin = ~exact & ~trad & (a["pinyin"].to_numpy() == b["pinyin"].to_numpy())
    # surnames once per distinct name
    sa, sb = _surnames(an), _surnames(bn)
    other_surname = sa != sb
    # a different surname is a different family name, not a typo (homophones and the other
    # script are caught above); one edit, computed in C on the pairs left
    edit = np.zeros(len(a), dtype=bool)
    rest = np.flatnonzero(~exact & ~trad & ~pinyin & ~other_surname)
    if len(rest):
        dist = process.cpdist(list(an[rest]), list(bn[rest]), scorer=Levenshtein.distance)
        edit[rest] = np.asarray(dist) == 1
    other = ~(exact | trad | pinyin | edit)
    # term-frequency adjustment (as Splink): u of a name is how common it is (name_frequencies)
    name_u = a["name_norm"].map(freq).fillna(floor).to_numpy(dtype=float)
    exact_bits = np.log2(w.name_exact_m / name_u)
    pinyin_bits = np.log2(w.name_pinyin_m / name_u) - w.name_pinyin_density_bits
    # homophone surnames (王/汪, 韦/魏, 张/章) are mostly different families, not typos
    pinyin_bits = pinyin_bits - np.where(other_surname, w.name_surname_homophone_bits, 0.0)
    edit_bits = np.log2(w.name_edit_m / name_u) - w.name_edit_density_bits
    del pinyin_freq
    return [
        (exact, "姓名相同（按姓名常见程度调整）", exact_bits),
        (trad, "姓名繁简转换后相同", exact_bits - w.name_trad_penalty_bits),
        (pinyin, "姓名同音（拼音相同）", pinyin_bits),
        (edit, "姓名相差一字", edit_bits),
        (other, "姓名不同", np.full(len(a), math.log2(w.name_different_m))),
    ]


def _surnames(names: np.ndarray) -> np.ndarray:
    distinct = {n: split_surname(n)[0] if n else "" for n in set(names.tolist())}
    return np.array([distinct[n] for n in names.tolist()], dtype=object)


def _agreement(a: pd.DataFrame, b: pd.DataFrame, column: str) -> tuple[np.ndarray, np.ndarray]:
    """(both given and equal, both given and different) for one column."""
    x, y = a[column].reset_index(drop=True), b[column].reset_index(drop=True)
    both = (x.notna() & y.notna()).to_numpy(dtype=bool)
    try:
        equal = (x == y).to_numpy(dtype=bool, na_value=False)
    except (TypeError, ValueError):  # mixed kinds the frames could not compare at once
        equal = np.fromiter((bool(p == q) for p, q in zip(x, y, strict=True)), bool, len(x))
    same = both & equal
    return same, both & ~same


BIRTH_RANGE_LABEL = "出生年份与亲属关系推算的年份不符"


def BIRTH_RANGE_BITS(w: Weights) -> float:  # noqa: N802
    return math.log2(w.birth_range_conflict_m / w.birth_range_conflict_u)


def _others(a: pd.DataFrame, b: pd.DataFrame, w: Weights) -> Evidence:
    n = len(a)

    def bits(value: float) -> np.ndarray:
        return np.full(n, value)

    same_birth, diff_birth = _agreement(a, b, "birth")
    same_sex, diff_sex = _agreement(a, b, "sex")
    same_phone, _ = _agreement(a, b, "phone")
    (alo, ahi), (blo, bhi) = years(a), years(b)
    # where a birth date is missing on one side, the years its kin rows allow: only a
    # conflict counts (a range that fits says little)
    apart = ~(same_birth | diff_birth) & ((alo > bhi) | (blo > ahi))
    # else one side born after the other's office allows an adult to be
    minor = ~(same_birth | diff_birth) & ~apart
    minor &= minors(alo, adult_by(b)) | minors(blo, adult_by(a))
    return [
        (same_birth, "出生日期相同", bits(math.log2(w.birth_same_m / w.birth_same_u))),
        (diff_birth, "出生日期不同", bits(math.log2(w.birth_diff_m / (1 - w.birth_same_u)))),
        (apart, BIRTH_RANGE_LABEL, bits(BIRTH_RANGE_BITS(w))),
        (minor, MINOR_LABEL, bits(math.log2(w.minor_office_m / w.minor_office_u))),
        (same_sex, "性别相同", bits(math.log2(w.gender_same_m / 0.5))),
        (diff_sex, "性别不同", bits(math.log2(w.gender_diff_m / 0.5))),
        (same_phone, "电话相同", bits(math.log2(w.phone_same_m / w.phone_same_u))),
    ]


# the columns of a mention the scoring compares
SCORED_COLUMNS = (
    "name_nfkc", "name_norm", "pinyin", "birth", "sex", "phone", "id_valid", "id_number",
    "born_lo", "born_hi", ADULT_BY, *FAMILY_COLUMNS, *ADDRESS_COLUMNS,
)  # fmt: skip


def _summed(evidence: Evidence, total: np.ndarray) -> np.ndarray:
    """``total`` (each pair's log-odds so far) with ``evidence``'s added, in its order."""
    for mask, _label, bits in evidence:
        total += np.where(mask, bits, 0.0)
    return total


def _said(reasons: list[Reasons], evidence: Evidence, wanted: np.ndarray) -> None:
    """``evidence``'s reasons appended to the ``wanted`` pairs' lists, in its order."""
    for mask, label, bits in evidence:
        at = np.flatnonzero(mask & wanted)
        for i, v in zip(at.tolist(), bits[at].tolist(), strict=True):
            reasons[i].append((label, round(v, 2)))  # type: ignore[union-attr]


def score(
    left: pd.DataFrame,
    right: pd.DataFrame,
    pairs: pd.DataFrame,
    *,
    prior: float,
    weights: Weights | None = None,
    frequencies: pd.Series | None = None,
    reasons_from: float = 0.0,
    small: int = SMALL_PAIRS,
    context: str = ROSTER,
    shared: frozenset[str] = frozenset(),
) -> pd.DataFrame:
    """Confidence and reasons for each candidate pair, vectorised over the pairs.

    Up to ``small`` pairs (a pre-award check, two organisations' holders) are scored one by
    one in plain Python with the same weights — the same numbers, without the fixed cost of
    some seventy pandas operations; a test holds the two paths to each other.

    ``reasons_from``: the reasons (a Python list per pair) are written only for pairs at or
    above this confidence (a batch of millions of pairs keeps only those it reports).

    ``prior``: the probability that a candidate pair is the same person before any feature
    is compared, which the caller sets from context (population-wide or within a project).
    ``context``: whose calibration map states the confidence (:mod:`.calibration`);
    ``shared``: the names the data's numbered people share (:func:`.calibration.shared_names`),
    whose exact matches that context's map of all pairs states.
    """
    w = weights or Weights()
    freq = frequencies if frequencies is not None else name_frequencies(left, right)
    pinyin_freq = pd.Series(dtype=float)
    floor = 1 / max(len(left) + len(right), 1)
    # only the compared columns: the callers' frames carry paths, sources and more
    cols = list(SCORED_COLUMNS)
    if len(pairs) <= small:
        return _score_small(
            _rows(left, pairs["l"], cols), _rows(right, pairs["r"], cols),
            pairs, prior, w, freq, floor, reasons_from, context, shared,
        )  # fmt: skip
    a = left[[c for c in cols if c in left]].loc[pairs["l"]].reset_index(drop=True)
    b = right[[c for c in cols if c in right]].loc[pairs["r"]].reset_index(drop=True)
    for side in (a, b):
        if "pinyin" not in side:
            side["pinyin"] = pinyin_of(side["name_norm"])
    n = len(pairs)
    evidence = _names(a, b, w, freq, pinyin_freq, floor) + _others(a, b, w)
    # the family's places and its companies' counties, weighed after the map
    # (family.with_family)
    family = family_evidence(a, b) + address_evidence(a, b)
    total = _summed(evidence, np.full(n, math.log2(prior / (1 - prior))))
    prior_bits = round(math.log2(prior / (1 - prior)), 2)
    after = _summed(family, np.zeros(n))
    # resident ID numbers decide when both are valid
    both_ids = (
        filled(a["id_valid"], False).astype(bool).to_numpy()
        & filled(b["id_valid"], False).astype(bool).to_numpy()
    )
    a_ids = a["id_number"].astype(object).fillna("").astype(str).to_numpy()
    b_ids = b["id_number"].astype(object).fillna("").astype(str).to_numpy()
    same_id = both_ids & (a_ids == b_ids)
    diff_id = both_ids & ~same_id
    posterior = 1 / (1 + np.exp2(-total))
    kinds = calibration.pair_kinds(a["name_norm"], b["name_norm"], shared)
    mapped = calibration.stated(context, posterior, kinds)
    stated = with_family_all(mapped, after)
    confidence = np.where(same_id, 1.0, np.where(diff_id, 0.0, stated))
    # the base rate comes first: a reader sees what the name had to overcome
    head = (f"先验：此情形下两条记录为同一人的基础比例约{prior:.1e}", prior_bits)
    reasons: list[list[tuple[str, float]] | None] = [None] * n
    wanted = (stated >= reasons_from) & ~both_ids
    for i in np.flatnonzero(wanted).tolist():
        reasons[i] = [head]
    _said(reasons, evidence, wanted)
    for i in np.flatnonzero(wanted).tolist():
        why = calibration.reason(float(posterior[i]), float(mapped[i]), context, kind=str(kinds[i]))
        if why is not None:
            reasons[i].append(why)  # type: ignore[union-attr]
    _said(reasons, family, wanted)
    for i in np.flatnonzero(same_id).tolist():
        reasons[i] = [("身份证号相同", math.inf)]
    for i in np.flatnonzero(diff_id).tolist():
        reasons[i] = [("身份证号不同，为不同的人", -math.inf)]
    out = pairs.reset_index(drop=True).copy()
    out["confidence"] = np.round(confidence, 4)
    out["log_odds"] = np.round(total + after, 2)
    out["reasons"] = pd.Series(reasons, dtype=object)
    return out


def _given(value: Any) -> bool:
    if value is None:
        return False
    try:
        return not bool(pd.isna(value))
    except (TypeError, ValueError):
        return True


def _rows(frame: pd.DataFrame, labels: pd.Series, cols: list[str]) -> list[dict[str, Any]]:
    """The rows ``labels`` of ``frame`` as dicts of the compared columns (pinyin computed
    where the frame has none), without DataFrame.to_dict's per-call cost."""
    return rows_at(frame, frame.index.get_indexer(pd.Index(labels)), cols)


def rows_at(frame: pd.DataFrame, at: np.ndarray, cols: Sequence[str]) -> list[dict[str, Any]]:
    """The rows at positions ``at`` of ``frame`` as :func:`_rows` gives them, each column
    taken at those positions only (a column of a large frame is not converted whole)."""
    out: list[dict[str, Any]] = [{} for _ in at]
    for c in cols:
        if c in frame:
            values = frame[c].array[at].to_numpy()
        elif c == "pinyin":
            names = frame["name_norm"].array[at].to_numpy()
            values = np.array([pinyin_key(n) if isinstance(n, str) else None for n in names])
        else:
            values = np.full(len(at), None, dtype=object)
        for row, v in zip(out, values, strict=True):
            row[c] = v
    return out


def _name_reason(
    x: dict[Any, Any], y: dict[Any, Any], w: Weights, freq: Frequencies, floor: float
) -> tuple[str, float]:
    """The name comparison of one pair, as ``_names`` makes it for many."""
    an = x["name_norm"] if isinstance(x["name_norm"], str) else ""
    bn = y["name_norm"] if isinstance(y["name_norm"], str) else ""
    u = freq.get(x["name_norm"]) if isinstance(x["name_norm"], str) else None
    u = floor if u is None or not _given(u) else float(u)
    exact_bits = float(np.log2(w.name_exact_m / u))
    sa = split_surname(an)[0] if an else ""
    sb = split_surname(bn)[0] if bn else ""
    if x["name_nfkc"] == y["name_nfkc"]:
        return ("姓名相同（按姓名常见程度调整）", exact_bits)
    if an == bn and an != "":
        return ("姓名繁简转换后相同", exact_bits - w.name_trad_penalty_bits)
    if x["pinyin"] == y["pinyin"]:
        bits = float(np.log2(w.name_pinyin_m / u)) - w.name_pinyin_density_bits
        return ("姓名同音（拼音相同）", bits - (w.name_surname_homophone_bits if sa != sb else 0.0))
    if sa == sb and Levenshtein.distance(an, bn) == 1:
        return ("姓名相差一字", float(np.log2(w.name_edit_m / u)) - w.name_edit_density_bits)
    return ("姓名不同", math.log2(w.name_different_m))


Reasons = list[tuple[str, float]] | None
# each normalised name's share of the population: a Series, or a dict for a few names
Frequencies = pd.Series | Mapping[Any, Any]


def _score_small(
    ra: list[dict[str, Any]],
    rb: list[dict[str, Any]],
    pairs: pd.DataFrame,
    prior: float,
    w: Weights,
    freq: pd.Series,
    floor: float,
    reasons_from: float,
    context: str,
    shared: frozenset[str],
) -> pd.DataFrame:
    """:func:`score` for a few pairs, one at a time: the same features, weights, order of
    reasons and floating-point operations as the vectorised path."""
    confidence, log_odds, reasons = score_records(
        ra, rb, prior, w, freq, floor, reasons_from, context=context, shared=shared
    )
    out = pairs.reset_index(drop=True).copy()
    out["confidence"] = np.round(np.array(confidence, dtype=float), 4)
    out["log_odds"] = np.round(np.array(log_odds, dtype=float), 2)
    out["reasons"] = pd.Series(reasons, dtype=object)
    return out


def score_records(
    ra: list[dict[str, Any]],
    rb: list[dict[str, Any]],
    prior: float,
    w: Weights,
    freq: Frequencies,
    floor: float,
    reasons_from: float,
    *,
    context: str = ROSTER,
    shared: frozenset[str] = frozenset(),
) -> tuple[list[float], list[float], list[Reasons]]:
    """(confidence, log-odds, reasons) of the pairs (ra[i], rb[i]): records of
    :data:`SCORED_COLUMNS`, ``freq`` each normalised name's share of the population,
    ``floor`` the share of a name not counted — :func:`score`'s arithmetic, pair by pair."""
    mapping = calibration.current(context)
    mapping_variant = calibration.current(context, variant=True)
    prior_bits = math.log2(prior / (1 - prior))
    head = (f"先验：此情形下两条记录为同一人的基础比例约{prior:.1e}", round(prior_bits, 2))
    others = (
        ("birth", "出生日期相同", math.log2(w.birth_same_m / w.birth_same_u)),
        ("birth", "出生日期不同", math.log2(w.birth_diff_m / (1 - w.birth_same_u))),
        ("range", BIRTH_RANGE_LABEL, BIRTH_RANGE_BITS(w)),
        ("minor", MINOR_LABEL, math.log2(w.minor_office_m / w.minor_office_u)),
        ("sex", "性别相同", math.log2(w.gender_same_m / 0.5)),
        ("sex", "性别不同", math.log2(w.gender_diff_m / 0.5)),
        ("phone", "电话相同", math.log2(w.phone_same_m / w.phone_same_u)),
    )
    confidence: list[float] = []
    log_odds: list[float] = []
    reasons: list[list[tuple[str, float]] | None] = []
    for x, y in zip(ra, rb, strict=True):
        found = [_name_reason(x, y, w, freq, floor)]
        for column, label, bits in others:
            if column in ("range", "minor"):
                # as _others: the kin-implied years, where a birth date is missing, else
                # the years an adult's office allows
                if not (_given(x.get("birth")) and _given(y.get("birth"))):
                    (xlo, xhi), (ylo, yhi) = years_of(x), years_of(y)
                    apart = xlo > yhi or ylo > xhi
                    if column == "range" and apart:
                        found.append((label, bits))
                    by_x, by_y = year_of(x.get(ADULT_BY)), year_of(y.get(ADULT_BY))
                    if column == "minor" and not apart and (xlo > by_y or ylo > by_x):
                        found.append((label, bits))
                continue
            p, q = x.get(column), y.get(column)
            if not (_given(p) and _given(q)):
                continue
            if (p == q) == label.endswith("相同"):
                found.append((label, bits))
        total = prior_bits
        for _, bits in found:
            total += bits
        posterior = float(1 / (1 + np.exp2(-total)))
        kind = calibration.pair_kind(x.get("name_norm"), y.get("name_norm"), shared)
        mapped = (mapping if kind == calibration.ALIKE else mapping_variant).one(posterior)
        # the family's places, weighed after the map as in score()
        family = family_reasons(x, y) + address_reasons(x, y)
        after = sum(bits for _, bits in family)
        conf = with_family(mapped, after)
        why: list[tuple[str, float]] | None = None
        if conf >= reasons_from:
            why = [head, *((label, round(float(v), 2)) for label, v in found)]
            by_map = calibration.reason(posterior, mapped, context, kind=kind)
            if by_map is not None:
                why.append(by_map)
            why += [(label, round(float(v), 2)) for label, v in family]
        decided = _by_ids(x, y)
        if decided is not None:
            conf, why = decided
        confidence.append(conf)
        log_odds.append(total + after)
        reasons.append(why)
    return confidence, log_odds, reasons


def _by_ids(x: dict[str, Any], y: dict[str, Any]) -> tuple[float, Reasons] | None:
    """1 or 0 with its reason where both records carry a valid ID number; else None."""
    if not (_given(x.get("id_valid")) and _given(y.get("id_valid"))):
        return None
    if not (x["id_valid"] and y["id_valid"]):
        return None
    xi = str(x["id_number"]) if _given(x.get("id_number")) else ""
    yi = str(y["id_number"]) if _given(y.get("id_number")) else ""
    if xi == yi:
        return 1.0, [("身份证号相同", math.inf)]
    return 0.0, [("身份证号不同，为不同的人", -math.inf)]


def score_in_context(
    lp: pd.DataFrame,
    rp: pd.DataFrame,
    pairs: pd.DataFrame,
    *,
    prior: float,
    frequencies: pd.Series,
    reasons_from: float = 0.0,
    context: str = ROSTER,
    shared: frozenset[str] = frozenset(),
) -> pd.DataFrame:
    """The resolver's score of candidate pairs (l, r) of prepared mentions, where the same
    ``id:`` key on both sides is the same valid ID number: 1.0, whatever the names.
    ``reasons_from``, ``context``, ``shared``: as in :func:`score` (pairs below
    ``reasons_from`` keep no reasons)."""
    scored = score(
        lp, rp, pairs, prior=prior, frequencies=frequencies, reasons_from=reasons_from,
        context=context, shared=shared,
    )  # fmt: skip
    same_key = lp["key"].to_numpy()[scored["l"]] == rp["key"].to_numpy()[scored["r"]]
    by_id = same_key & np.array(
        [str(k).startswith("id:") for k in lp["key"].to_numpy()[scored["l"]]], dtype=bool
    )
    if by_id.any():
        scored.loc[by_id, "confidence"] = 1.0
        scored.loc[by_id, "reasons"] = pd.Series(
            [[("身份证号相同", math.inf)]] * int(by_id.sum()),
            dtype=object,
            index=scored.index[by_id],
        )
    return scored


def score_records_in_context(
    ra: list[dict[str, Any]],
    rb: list[dict[str, Any]],
    keys: list[tuple[str, str]],
    *,
    prior: float,
    frequencies: Frequencies,
    floor: float,
    context: str = ROSTER,
    shared: frozenset[str] = frozenset(),
) -> tuple[list[float], list[Reasons]]:
    """:func:`score_in_context` for a few pairs given as records (a pre-award check's): the
    confidence rounded as there, and the same ``id:`` key on both sides (``keys``: the pair's
    person keys) the same valid ID number, 1.0 whatever the names."""
    confidence, _, reasons = _records_in_context(
        ra, rb, keys, prior, frequencies, floor, context, shared
    )
    return confidence, reasons


def _records_in_context(
    ra: list[dict[str, Any]],
    rb: list[dict[str, Any]],
    keys: list[tuple[Any, Any]],
    prior: float,
    frequencies: Frequencies,
    floor: float,
    context: str,
    shared: frozenset[str],
) -> tuple[list[float], list[float], list[Reasons]]:
    """(confidence, log-odds, reasons) of :func:`score_records`, each rounded as
    :func:`score` rounds them, and a pair of the same ``id:`` key decided by the number."""
    found, log_odds, reasons = score_records(
        ra, rb, prior, Weights(), frequencies, floor, 0.0, context=context, shared=shared
    )
    confidence = np.round(np.array(found, dtype=float), 4).tolist()
    for i, (a, b) in enumerate(keys):
        if a == b and str(a).startswith("id:"):
            confidence[i], reasons[i] = 1.0, [("身份证号相同", math.inf)]
    return confidence, np.round(np.array(log_odds, dtype=float), 2).tolist(), reasons


# what prepare() gives a frame of mentions: where both frames hold these already,
# score_at_in_context reads them as they are, as score_in_context would after prepare()
PREPARED_COLUMNS = ("name_nfkc", "name_norm", "birth", "sex", "id_valid", "id_number", "phone")


def score_at_in_context(
    left: pd.DataFrame,
    right: pd.DataFrame,
    at_left: np.ndarray,
    at_right: np.ndarray,
    keys: list[tuple[Any, Any]],
    *,
    prior: float,
    frequencies: Frequencies,
    context: str = ROSTER,
    shared: frozenset[str] = frozenset(),
) -> pd.DataFrame | None:
    """:func:`score_in_context` of the mentions at positions ``at_left[i]`` of ``left`` and
    ``at_right[i]`` of ``right``, prepared frames (:data:`PREPARED_COLUMNS`) given whole:
    the same frame (l, r, confidence, log_odds, reasons) as for the two frames of those rows,
    prepared and scored pair by pair, without copying them (for a few pairs the copies, their
    index and the small-pairs path's frames cost milliseconds). ``keys``: each pair's person
    keys. None where a frame is not prepared (score those through score_in_context)."""
    if not all(c in frame for frame in (left, right) for c in PREPARED_COLUMNS):
        return None
    n = len(keys)
    confidence, log_odds, reasons = _records_in_context(
        rows_at(left, at_left, SCORED_COLUMNS),
        rows_at(right, at_right, SCORED_COLUMNS),
        keys,
        prior,
        frequencies,
        # the share of a name not counted, as score() takes it for two frames of n rows
        1 / max(2 * n, 1),
        context,
        shared,
    )
    return pd.DataFrame(
        {
            "l": np.arange(n),
            "r": np.arange(n),
            "confidence": np.array(confidence, dtype=float),
            "log_odds": np.array(log_odds, dtype=float),
            "reasons": pd.Series(reasons, dtype=object),
        }
    )
