"""Identity bridges: kin-side mentions believed to be one person without a shared ID number.

A declared wife 吴丽 without a number and the registry's 吴丽 with one, an official and the
registry's bare namesake who appears as someone's father: the resolver scores each pair of
kin-side keys that share a name or a phone (never two valid numbers: they decide), and a pair
at :data:`BRIDGE_FLOOR` or above joins the two keys in the kin graph (graph.expand), its
confidence multiplying along every path that crosses it.

Each pair is scored on its own. A mention without a number can be at most one of the
people whom valid numbers tell apart, and restating such pairs as exclusive (a bare 刘洋 of
the registry meeting three officials named 刘洋 at 0.79 each: 0.31 each) was tried and not
kept: it removed false related_supplier assertions but created false undeclared_relation
ones, because a bridge is also how the registry's bare mention of the official himself (the
father his daughter's registry row names) is recognised as him; diluted, the official became
his own "spouse" (bench/README.md, "Twenty-second session").
"""

from __future__ import annotations

import pandas as pd

from graph.expand import SAME
from integrity.identity.blocking import context_join, need_bits, viable
from integrity.identity.scoring import score

BRIDGE_FLOOR = 0.5  # identity links below this confidence are not followed at all


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
