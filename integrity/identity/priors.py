"""The priors the resolver starts from: how likely two mentions met in one context are one
person before any feature is compared.

A name match means little across a city and much inside one project's panel; the prior says
which. The constants are the guesses (a project's panel, a whole roster); the functions
measure the share from the data where it can be measured (on the pairs that carry valid ID
numbers on both sides, as Splink estimates its match probability from deterministic rules),
smoothed towards the guess. The stages return the priors they used; run.json and the stored
screening keep them.
"""

from __future__ import annotations

import pandas as pd

# The prior that a relative of someone who decided on an award and a role holder of the
# awarded supplier are one person, before any feature is compared: if about 2% of awards
# involve a decision-maker's relative, and a panel of about five with about twenty known
# relatives each gives about a hundred such pairs per award, one pair in 5,000. A name match
# then decides only for a name rarer than about 1 in 5,000 people (张军海, not 张伟 or 王芳).
# Across the city the prior comes from the data (population_prior).
CONTEXT_PRIOR = 2e-4


# Across a whole roster (or a street's winners), each official's relatives meet thousands of
# registered role holders drawn from the general population, and few of the pairs are one
# person: ten times lower again. A name match alone then decides only for a rare name.
ROSTER_PRIOR = CONTEXT_PRIOR / 10


def population_prior(mentions: pd.DataFrame) -> float:
    """The prior that two mentions sharing a blocking key are one person, from the data: one
    over the estimated number of distinct people (mentions per person measured on the rows
    that carry a valid ID number)."""
    with_id = mentions[mentions["id_valid"].fillna(False).astype(bool)]
    per_person = len(with_id) / with_id["id_number"].nunique() if len(with_id) else 1.0
    people = max(len(mentions) / max(per_person, 1.0), 2.0)
    return min(0.5, per_person / people)


def estimated_prior(
    left: pd.DataFrame, right: pd.DataFrame, on: list[str], guess: float, weight: float = 3.0
) -> float:
    """The share of (left, right) pairs in one context that are one person, measured where
    it can be: on the pairs whose both sides carry a valid ID number (as Splink estimates
    the match probability from deterministic rules), smoothed towards ``guess`` with the
    weight of ``weight`` matches. Ten thousand candidate pairs per true one in a city-wide
    roster, a few hundred in one project's panel: the data says which."""
    # one person once per context on each side (an official in three roles on one panel is
    # one candidate, not three): pairs and matches are both counted in distinct people
    lid = left.loc[left["id_valid"].astype(bool), [*on, "id_number"]].drop_duplicates()
    rid = right.loc[right["id_valid"].astype(bool), [*on, "id_number"]].drop_duplicates()
    if lid.empty or rid.empty:
        return guess
    ln = lid.groupby(on).size().rename("n_l")
    rn = rid.groupby(on).size().rename("n_r")
    both = pd.concat([ln, rn], axis=1, join="inner")
    pairs = float((both["n_l"] * both["n_r"]).sum())
    matches = len(lid.merge(rid, on=[*on, "id_number"]))
    return smoothed_prior(matches, pairs, guess, weight)


def smoothed_prior(matches: int, pairs: float, guess: float, weight: float = 3.0) -> float:
    """The share of pairs that are one person, smoothed towards ``guess`` with the weight of
    ``weight`` matches."""
    return float((matches + weight) / (pairs + weight / guess))
