"""Which pairs of mentions are worth comparing: blocking keys and viability.

The resolver never compares all pairs. Two mentions are a candidate pair only if they share
a blocking key — the valid ID number, the normalised name, its pinyin, the name with one
character left out, the phone — and, at each name level, only if a match there could reach
the caller's floor at all: the name's weight (how rare it is in the data) plus the most the
other attributes could add (agreeing sex, the same birth date where ID numbers cannot
decide, the same phone). A 王芳 across a whole roster never can, so it costs nothing; a
欧阳子萱 is joined.

The same arithmetic serves every door: the batch's roster-wide candidate pairs
(:func:`candidate_pairs`), the pairs met in one context (:func:`context_pairs`: a project's
panel and the winner's holders), the identity bridges of the kin side, organisation
relations and the pre-award check's index (:func:`need_bits`, :func:`level_bits`,
:func:`headroom`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from integrity.identity import calibration
from integrity.identity.calibration import ROSTER
from integrity.identity.family import below, family_headroom
from integrity.identity.mentions import name_frequencies, pinyin_of
from integrity.identity.scoring import Weights


def deletions(name: str) -> list[str]:
    """The name with each character left out: two names one substitution apart share one.
    Two-character names are left out: 王· would block every 王 with every other."""
    if len(name) < 3:
        return []
    return [name[:i] + "\u2063" + name[i + 1 :] for i in range(len(name))]


def _codes(lkey: pd.Series, rkey: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Both sides' keys as int64 codes of one factorisation; -1 where there is no key."""
    codes, _ = pd.factorize(
        np.concatenate([lkey.to_numpy(dtype=object), rkey.to_numpy(dtype=object)])
    )
    codes = codes.astype(np.int64)
    return codes[: len(lkey)], codes[len(lkey) :]


def deletion_codes(*sides: pd.Series) -> list[pd.Series]:
    """The one-deletion forms of :func:`deletions` for each side's names, as integer codes
    shared by the sides (equal codes, equal forms), indexed by the name's row (a row per
    form). Computed on the names' code points as a matrix: no string per form."""
    values = [side.to_numpy(dtype=object) for side in sides]
    present = [np.array([isinstance(v, str) for v in vals], dtype=bool) for vals in values]
    codes, distinct = pd.factorize(
        np.concatenate([vals[ok] for vals, ok in zip(values, present, strict=True)])
    )
    names = np.asarray(distinct, dtype=str)
    width = max(names.dtype.itemsize // 4, 1)
    points = names.view(np.uint32).reshape(len(names), width) if len(names) else None
    length = np.char.str_len(names) if len(names) else np.zeros(0, dtype=int)
    owners: list[np.ndarray] = []
    forms: list[np.ndarray] = []
    for i in range(width if points is not None else 0):
        who = np.flatnonzero((length >= 3) & (length > i))
        form = points[who].copy()  # type: ignore[index]
        form[:, i] = 0x2063  # the character left out, as in deletions()
        owners.append(who)
        forms.append(form)
    owner = np.concatenate(owners) if owners else np.zeros(0, dtype=np.int64)
    matrix = np.concatenate(forms) if forms else np.zeros((0, width), dtype=np.uint32)
    rows = np.ascontiguousarray(matrix).view(np.dtype((np.void, 4 * width))).ravel()
    _, form_code = np.unique(rows, return_inverse=True)
    # each distinct name's forms, contiguous
    order = np.argsort(owner, kind="stable")
    owner, form_code = owner[order], form_code.reshape(-1)[order]
    start = np.searchsorted(owner, np.arange(len(names) + 1))
    out: list[pd.Series] = []
    offset = 0
    for side, ok in zip(sides, present, strict=True):
        name_of_row = codes[offset : offset + int(ok.sum())]
        offset += int(ok.sum())
        labels = side.index[ok]
        counts = start[name_of_row + 1] - start[name_of_row]
        first = np.repeat(start[name_of_row], counts)
        within = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        out.append(
            pd.Series(form_code[first + within], index=labels.repeat(counts), dtype=np.int64)
        )
    return out


BLOCK_BITS = {"edit": 1, "id": 2, "name": 4, "phone": 8, "pinyin": 16}
# a name the frequencies do not count, where a row's headroom is measured: as rare as this,
# the most it could weigh, so that no pair is pruned for a name the counts missed
UNCOUNTED_SHARE = 1e-9


def candidate_pairs(
    left: pd.DataFrame,
    right: pd.DataFrame,
    *,
    max_block: int = 2000,
    prior: float | None = None,
    floor: float = 0.5,
    frequencies: pd.Series | None = None,
    weights: Weights | None = None,
) -> pd.DataFrame:
    """Pairs (left index, right index) sharing a blocking key: ID number, normalised name,
    pinyin, a one-deletion form of the name, or a phone. A join per key, no all-pairs loop.

    With ``prior`` (and ``frequencies``), only pairs that could reach ``floor`` are made, as
    Splink's blocking rules would have it but derived from the weights: at each name level, a
    left row whose name alone (with agreeing sex) could reach it is joined on the key; one
    that would also need the same birth date is joined on (key, birth date); one that could
    not reach it even so is not joined at that level (a pair it would need a phone for is
    joined by the phone block). 张伟 across a city then costs nothing; 欧阳子萱 is joined."""
    blocks: list[pd.DataFrame] = []

    def join(
        lkey: pd.Series,
        rkey: pd.Series,
        why: str,
        cap: int | None = None,
        lday: pd.Series | None = None,
        rday: pd.Series | None = None,
    ) -> None:
        """Pairs sharing the key (and the birth day, when ``lday``/``rday`` are given: an
        integer day number folded into the key's integer code, not a formatted date)."""
        # the two sides' keys as integer codes of one factorisation (-1: none): the joins
        # are on int64; keys coded already (by_level, deletion forms) are used as they are
        if lkey.dtype.kind == "i" and rkey.dtype.kind == "i":
            lc, rc = lkey.to_numpy(dtype=np.int64), rkey.to_numpy(dtype=np.int64)
        else:
            lc, rc = _codes(lkey, rkey)
        lok, rok = lc >= 0, rc >= 0
        if lday is not None and rday is not None:
            ld, rd = lday.to_numpy(dtype=float), rday.to_numpy(dtype=float)
            lok &= ~np.isnan(ld)
            rok &= ~np.isnan(rd)
            # days since 1970, offset to stay positive (years 1860 to 2840), fit in 20 bits
            lc = (lc << 20) + np.where(lok, ld, 0).astype(np.int64) + 40_000
            rc = (rc << 20) + np.where(rok, rd, 0).astype(np.int64) + 40_000
        lk = pd.DataFrame({"key": lc[lok], "l": lkey.index[lok]})
        rk = pd.DataFrame({"key": rc[rok], "r": rkey.index[rok]})
        rk = rk[rk["key"].isin(lk["key"])]
        if cap is not None:  # a fuzzy key shared by thousands says nothing: skip it
            lk = lk[lk.groupby("key")["l"].transform("size") <= cap]
            rk = rk[rk.groupby("key")["r"].transform("size") <= cap]
        pairs = lk.merge(rk, on="key")[["l", "r"]]
        blocks.append(pairs.assign(bit=np.int8(BLOCK_BITS[why])))

    def days(frame: pd.DataFrame) -> pd.Series:
        born = pd.to_datetime(frame["birth"])
        as_days = born.to_numpy(dtype="datetime64[D]").astype("int64").astype(float)
        return pd.Series(np.where(born.notna(), as_days, np.nan), index=frame.index)

    lbirth, rbirth = days(left), days(right)

    def by_level(lkey: pd.Series, rkey: pd.Series, why: str, cap: int | None = None) -> None:
        if prior is None:
            join(lkey, rkey, why, cap)
            return
        alone, with_birth = _name_viability(
            left, lkey.index, why, prior, floor, frequencies, weights
        )
        if lkey.dtype.kind != "i":  # both joins of the level on one factorisation
            lc, rc = _codes(lkey, rkey)
            lkey, rkey = pd.Series(lc, index=lkey.index), pd.Series(rc, index=rkey.index)
        join(lkey[alone], rkey, why, cap)
        lk = lkey[with_birth]
        join(lk, rkey, why, cap, lbirth.reindex(lk.index), rbirth.reindex(rkey.index))

    lvalid = left["id_valid"].fillna(False).astype(bool)
    rvalid = right["id_valid"].fillna(False).astype(bool)
    join(left["id_number"].where(lvalid), right["id_number"].where(rvalid), "id")
    by_level(left["name_norm"], right["name_norm"], "name")
    by_level(left["pinyin"], right["pinyin"], "pinyin", cap=max_block)
    ldel, rdel = deletion_codes(left["name_norm"], right["name_norm"])
    by_level(ldel, rdel, "edit", cap=max_block)
    if "phone" in left and "phone" in right:
        join(left["phone"], right["phone"], "phone")
    pairs = pd.concat(blocks, ignore_index=True).drop_duplicates()
    # which keys brought each pair together, as bits: a groupby sum, not string joins
    flags = pairs.groupby(["l", "r"], sort=True)["bit"].sum().reset_index()
    names = {bits: ",".join(k for k, b in BLOCK_BITS.items() if bits & b) for bits in range(32)}
    flags["block"] = flags["bit"].map(names)
    return flags.drop(columns="bit")


def need_bits(prior: float, floor: float, context: str = ROSTER) -> float:
    """The log-odds (bits) a pair's features must add to the prior to reach ``floor`` as
    ``context``'s calibration maps state it (the least posterior either map, names alike or
    written differently, lifts to ``floor``)."""
    raw = min(max(calibration.raw_floor(context, floor), 1e-12), 1 - 1e-12)
    return math.log2(raw / (1 - raw)) - math.log2(prior / (1 - prior))


# a lift is rounded up to this many bits before the need is lowered for it (never less: a
# pair is never pruned for the rounding), so that few distinct needs are computed
LIFT_STEP = 0.01


def lowered_need(prior: float, floor: float, context: str, lift: np.ndarray) -> float | np.ndarray:
    """:func:`need_bits` of each row whose stated confidence the family's places could lift
    by ``lift`` bits after the map (:mod:`~integrity.identity.family`): such a row reaches
    ``floor`` where the map states ``floor`` less that lift. The plain need where none can."""
    base = need_bits(prior, floor, context)
    lift = np.ceil(np.asarray(lift, dtype=float) / LIFT_STEP) * LIFT_STEP
    if not np.any(lift > 0):
        return base
    out = np.full(len(lift), base)
    for value in np.unique(lift[lift > 0]).tolist():
        out[lift == value] = need_bits(prior, below(floor, value), context)
    return out


def level_bits(w: Weights | None = None) -> dict[str, float]:
    """What agreeing at each name level adds before the name's commonness is counted: the
    level's m, less what a looser level gives away by the number of names it admits (the
    pinyin and one-substitution levels join homophones and slips, not only the same name).
    The levels are named as the blocks (``name``, ``pinyin``, ``edit``)."""
    w = w or Weights()
    return {
        "name": math.log2(w.name_exact_m),
        "pinyin": math.log2(w.name_pinyin_m) - w.name_pinyin_density_bits,
        "edit": math.log2(w.name_edit_m) - w.name_edit_density_bits,
    }


def gender_bits(w: Weights | None = None) -> float:
    """What the same sex adds (every pair the resolver keeps agrees on it or is silent)."""
    w = w or Weights()
    return math.log2(w.gender_same_m / 0.5)


def birth_bits(w: Weights | None = None) -> float:
    """What the same birth date adds."""
    w = w or Weights()
    return math.log2(w.birth_same_m / w.birth_same_u)


def phone_bits(w: Weights | None = None) -> float:
    """What the same phone number adds."""
    w = w or Weights()
    return math.log2(w.phone_same_m / w.phone_same_u)


def rarity_bits(names: pd.Series, freq: pd.Series, unseen: float) -> np.ndarray:
    """-log2 of each name's share of the population (``unseen`` for a name not counted)."""
    u = names.map(freq).fillna(unseen).to_numpy(dtype=float)
    bits: np.ndarray = -np.log2(u)
    return bits


def _name_viability(
    left: pd.DataFrame,
    index: pd.Index,
    level: str,
    prior: float,
    floor: float,
    frequencies: pd.Series | None,
    weights: Weights | None,
) -> tuple[np.ndarray, np.ndarray]:
    """For left rows (``index``, repeated for deletion keys): can the name at ``level`` reach
    ``floor`` alone (with agreeing sex), or only with the same birth date too?"""
    w = weights or Weights()
    need = need_bits(prior, floor)
    names = left["name_norm"].reindex(index)
    freq = frequencies if frequencies is not None else name_frequencies(left)
    bits = level_bits(w)[level] + rarity_bits(names, freq, 1 / max(len(left), 1)) + gender_bits(w)
    alone = bits >= need
    birth = left["birth"].reindex(index).notna().to_numpy()
    with_birth = ~alone & birth & (bits + birth_bits(w) >= need)
    return alone, with_birth


def in_index(values: Any, index: pd.Index) -> np.ndarray:
    """Which ``values`` are in the unique ``index``, looked up in the index's own hash table
    (built once and kept with it). ``isin`` would hash the whole index again on every call:
    50 ms for the million keys of a city's kin graph, in a check that has a few holders."""
    found: np.ndarray = index.get_indexer(pd.Index(values)) >= 0
    return found


def context_join(
    lp: pd.DataFrame, rp: pd.DataFrame, on: list[str], lk: pd.Series, rk: pd.Series
) -> pd.DataFrame:
    """(l, r) pairs sharing the context and the blocking value."""
    lf = lp[on].join(lk.rename("b").dropna(), how="inner").reset_index(names="l")
    rf = rp[on].join(rk.rename("b").dropna(), how="inner").reset_index(names="r")
    return lf.merge(rf, on=[*on, "b"])[["l", "r"]]


def context_pairs(
    lp: pd.DataFrame,
    rp: pd.DataFrame,
    on: list[str],
    freq: pd.Series,
    need: float,
    other: pd.DataFrame | None = None,
    lowered: Callable[[np.ndarray], float | np.ndarray] | None = None,
) -> pd.DataFrame:
    """Pairs (l, r) of prepared mentions that share the context columns ``on`` and a
    blocking key — the person key, the normalised name, its pinyin, a one-deletion form —
    where, at a name level, both rows could reach ``need`` bits there (:func:`viable`).
    ``other``: what the left rows' viability is tested against, where ``rp`` is part of it.
    ``lowered``: each row's need given what the family's places could lift it by
    (:func:`lowered_need` with the prior, floor and context), else ``need`` for all."""
    blocks = [context_join(lp, rp, on, lp["key"], rp["key"])]
    against = rp if other is None else other
    lneed = need if lowered is None else lowered(family_headroom(lp, against))
    rneed = need if lowered is None else lowered(family_headroom(rp, lp))
    lvs = viable_levels(lp, freq, lneed, against)
    rvs = viable_levels(rp, freq, rneed, lp)
    for level in ("name", "pinyin", "edit"):
        lv, rv = lvs[level], rvs[level]
        if level == "edit":
            lk = lp.loc[lv, "name_norm"].map(deletions).explode().dropna()
            rk = rp.loc[rv, "name_norm"].map(deletions).explode().dropna()
        elif level == "pinyin":
            lk, rk = pinyin_of(lp.loc[lv, "name_norm"]), pinyin_of(rp.loc[rv, "name_norm"])
        else:
            lk, rk = lp.loc[lv, "name_norm"], rp.loc[rv, "name_norm"]
        blocks.append(context_join(lp, rp, on, lk, rk))
    return pd.concat(blocks, ignore_index=True).drop_duplicates().reset_index(drop=True)


def viable(
    m: pd.DataFrame,
    freq: pd.Series,
    level: str,
    need: float | np.ndarray,
    other: pd.DataFrame | None = None,
) -> pd.Series:
    """Rows whose best possible score at a name ``level`` reaches ``need`` bits: the name's
    weight at that level plus everything the row's other attributes could add against some
    row of ``other`` (a birth date counts only where the ID numbers cannot decide, a phone
    only where the other side has phones)."""
    return pd.Series(headroom(m, freq, other) + level_bits()[level] >= need, index=m.index)


def viable_levels(
    m: pd.DataFrame, freq: pd.Series, need: float | np.ndarray, other: pd.DataFrame | None = None
) -> dict[str, pd.Series]:
    """:func:`viable` at every name level, the rows' names looked up once."""
    head = headroom(m, freq, other)
    return {
        level: pd.Series(head + bits >= need, index=m.index) for level, bits in level_bits().items()
    }


def headroom(m: pd.DataFrame, freq: pd.Series, other: pd.DataFrame | None) -> np.ndarray:
    """Each row's bits apart from the name level's m: -log2 of the name's frequency plus
    what the row's other attributes could add against some row of ``other``."""
    other = m if other is None else other
    has_birth = m["birth"].notna().to_numpy()
    no_id = ~m["id_valid"].fillna(False).astype(bool).to_numpy()
    other_birth = other["birth"].notna()
    other_birth_no_id = bool((other_birth & ~other["id_valid"].fillna(False).astype(bool)).any())
    birth_can = has_birth & ((no_id & bool(other_birth.any())) | other_birth_no_id)
    phone_can = m["phone"].notna().to_numpy() & bool(other["phone"].notna().any())
    bonus = np.full(len(m), gender_bits())
    bonus += np.where(birth_can, birth_bits(), 0.0)
    bonus += np.where(phone_can, phone_bits(), 0.0)
    return np.asarray(bonus + rarity_bits(m["name_norm"], freq, UNCOUNTED_SHARE), dtype=float)
