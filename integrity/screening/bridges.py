"""Identity bridges: kin-side mentions believed to be one person without a shared ID number.

A declared wife 吴丽 without a number and the registry's 吴丽 with one, an official and the
registry's bare namesake who appears as someone's father: the resolver scores each pair of
kin-side keys that share a name or a phone (never two valid numbers: they decide), and a pair
at :data:`BRIDGE_FLOOR` or above joins the two keys in the kin graph (graph.expand), its
confidence multiplying along every path that crosses it.

**One of several.** Each pair is scored on its own, but a mention without a number can be at
most one of the people whom valid numbers tell apart: where a bare 刘洋 of the registry meets
three officials named 刘洋, each with his own number and nothing else to tell them apart, the
three pairs at 0.79 each cannot all be true (:func:`one_of`). Their confidences are restated as
the hypotheses they are — this person, that one, or none of them: each pair's odds over one
plus the sum of all the odds (three at 0.79 become three at 0.31) — with a reason saying so,
and pairs that fall below the floor are not followed.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from graph.expand import SAME
from integrity.identity.blocking import context_join, need_bits, viable
from integrity.identity.calibration import NAME_ONLY_MIN
from integrity.identity.scoring import score

BRIDGE_FLOOR = 0.5  # identity links below this confidence are not followed at all
ONE_OF_LABEL = "同名者中另有身份证号不同的人，至多是其中一人（按各自可能性分摊）"


def bridges_among(
    people: pd.DataFrame, prior: float, freq: pd.Series, empty: pd.DataFrame
) -> pd.DataFrame:
    """Identity links between kin-side keys (``people``: one row per person key, prepared)
    without a shared valid ID number, as kin link rows; ``empty`` (the kin links' frame with no
    rows) where there are none. ``prior``: the population's; ``freq``: name commonness."""
    p = people.reset_index()
    if len(p) < 2:
        return empty
    need = need_bits(prior, BRIDGE_FLOOR)
    # a key with a valid ID number meets only keys without one: two numbers decide
    one = p.assign(_all=1)
    blocks = [context_join(one, one, ["_all"], p["phone"], p["phone"])]
    # the same name (in either script) or the same phone; homophones and slips are left to
    # the contexts where they can weigh something (one project's panel)
    named = viable(p, freq, "name", need)
    keys = p.loc[named, "name_norm"]
    blocks.append(context_join(one, one, ["_all"], keys, keys))
    pairs = pd.concat(blocks, ignore_index=True).drop_duplicates()
    pairs = pairs[pairs["l"] < pairs["r"]]
    both_ids = p["id_valid"].to_numpy()
    pairs = pairs[~(both_ids[pairs["l"].to_numpy()] & both_ids[pairs["r"].to_numpy()])]
    if pairs.empty:
        return empty
    scored = score(p, p, pairs.reset_index(drop=True), prior=prior, frequencies=freq)
    scored = one_of(scored, p["id_valid"].to_numpy(dtype=bool), p["id_number"].to_numpy())
    scored = scored[scored["confidence"] >= BRIDGE_FLOOR]
    keys = p["key"].to_numpy()
    return pd.DataFrame(
        {
            "link_id": [
                f"same:{a}|{b}" for a, b in zip(keys[scored["l"]], keys[scored["r"]], strict=True)
            ],
            "src": keys[scored["l"]],
            "dst": keys[scored["r"]],
            "code": SAME,
            "src_sex": None,
            "dst_sex": None,
            "term": "疑似同一人",
            "file": "resolver",
            "row": None,
            "table": "identity",
            "conf": scored["confidence"].to_numpy(),
            "reasons": scored["reasons"].to_numpy(),
        }
    )


def one_of(scored: pd.DataFrame, id_valid: np.ndarray, numbers: np.ndarray) -> pd.DataFrame:
    """``scored`` (pairs ``l``, ``r`` of positions, ``confidence``, ``reasons``) with the
    pairs of each mention without a valid number and two or more people of different valid
    numbers restated as exclusive: each pair's odds over one plus the sum of the odds of that
    mention's pairs with numbered people, its reason added. Pairs of two bare mentions are
    left as they are (both may be one person)."""
    lv, rv = id_valid[scored["l"].to_numpy()], id_valid[scored["r"].to_numpy()]
    mixed = lv ^ rv
    if mixed.sum() < 2:
        return scored
    bare = np.where(lv, scored["r"].to_numpy(), scored["l"].to_numpy())
    numbered = np.where(lv, scored["l"].to_numpy(), scored["r"].to_numpy())
    at = np.flatnonzero(mixed)
    conf = scored["confidence"].to_numpy(dtype=float)
    p = np.clip(conf[at], NAME_ONLY_MIN, 1 - NAME_ONLY_MIN)
    frame = pd.DataFrame({"bare": bare[at], "number": numbers[numbered[at]], "odds": p / (1 - p)})
    # one hypothesis per numbered person (a person met through two keys counts once)
    per = frame.groupby(["bare", "number"], sort=False)["odds"].max().groupby(level=0)
    people, total = per.size(), per.sum()
    many = frame["bare"].map(people).to_numpy() > 1
    if not many.any():
        return scored
    odds = frame["odds"].to_numpy()
    shared = odds / (1 + frame["bare"].map(total).to_numpy())
    out = scored.copy()
    changed = at[many]
    out.loc[out.index[changed], "confidence"] = np.round(shared[many], 4)
    reasons = out["reasons"].to_numpy(dtype=object).copy()
    for i, before, after in zip(changed, p[many], shared[many], strict=True):
        delta = math.log2(after / (1 - after)) - math.log2(before / (1 - before))
        if isinstance(reasons[i], list):
            reasons[i] = [*reasons[i], (ONE_OF_LABEL, round(delta, 2))]
    out["reasons"] = reasons
    return out
