"""Screens of quoting behaviour across many awards, each with the chance it arises unprompted.

The statistics the collusion-screening literature computes from the bids of one tender, and
the tests that tell a group of tenders (a supplier's, a fixed set of suppliers', a street's or a
community's) from the rest of the ledger. None of them proves collusion: they pick out where to
look, with the probability that independent, fair competition shows as much.

- Coefficient of variation ``CV = σ / μ`` of a tender's bids: cover bids written by one hand
  sit close together, so collusive tenders have a low CV (Huber & Imhof 2019, "Machine learning
  with screens for detecting bid-rigging cartels", Int. J. Ind. Organ. 65; Imhof, Karagök &
  Rutz 2018, "Screening for bid rigging — does it work?", J. Compet. Law Econ. 14(2)).
- Relative distance ``RD = (b₂ − b₁) / σ_losers``: the gap between the lowest and second lowest
  bid over the spread of the losing bids; a winner set apart from a tight cluster of cover bids
  gives a large RD (Imhof 2017, "Simple statistical screens to detect bid rigging", Université
  de Fribourg working paper 484).
- Skewness and kurtosis of a tender's bids (Huber & Imhof 2019): shown, not tested — a
  三家比价 has three bids, too few for either to say much.
- Repeat losers: a supplier that quotes again and again and never wins is the cover bidder of
  the literature (OECD 2009, "Guidelines for fighting bid rigging in public procurement": "some
  bidders that always bid but never win"); chance is a fair draw among each tender's bidders.
- A fixed set of bidders that meets again and again, taking turns to win (OECD 2009: "bid
  rotation"); chance is each supplier joining tenders independently at its own rate.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np


def cv(bids: Sequence[float]) -> float | None:
    """Coefficient of variation of one tender's bids (population σ ÷ mean)."""
    if len(bids) < 2:
        return None
    a = np.asarray(bids, dtype=float)
    return float(a.std() / a.mean()) if a.mean() > 0 else None


def relative_distance(bids: Sequence[float]) -> float | None:
    """(second lowest − lowest) ÷ σ of the losing bids; None with fewer than three bids or
    losing bids all equal."""
    if len(bids) < 3:
        return None
    a = np.sort(np.asarray(bids, dtype=float))
    spread = float(a[1:].std())
    return float((a[1] - a[0]) / spread) if spread > 0 else None


def skewness(bids: Sequence[float]) -> float | None:
    """Sample skewness (the moment estimator); None with fewer than three bids or no spread."""
    a = np.asarray(bids, dtype=float)
    if len(a) < 3 or a.std() == 0:
        return None
    return float(((a - a.mean()) ** 3).mean() / a.std() ** 3)


def kurtosis(bids: Sequence[float]) -> float | None:
    """Sample excess kurtosis (the moment estimator); None with fewer than four bids."""
    a = np.asarray(bids, dtype=float)
    if len(a) < 4 or a.std() == 0:
        return None
    return float(((a - a.mean()) ** 4).mean() / a.std() ** 4 - 3.0)


def never_wins_chance(bidders: Sequence[int]) -> float:
    """Probability that a supplier loses every one of these tenders (each with this many
    bidders) when each tender is a fair draw among its bidders."""
    return math.prod(1.0 - 1.0 / n for n in bidders if n > 0)


def poisson_tail(observed: int, expected: float) -> float:
    """P(X ≥ observed) for X ~ Poisson(expected)."""
    if observed <= 0:
        return 1.0
    term = math.exp(-expected)
    below = term
    for k in range(1, observed):
        term *= expected / k
        below += term
    return max(0.0, 1.0 - below)


def together_chance(observed: int, tenders: int, rates: Sequence[float]) -> float:
    """Probability that a given set of suppliers bids together in at least ``observed`` of
    ``tenders`` tenders when each joins a tender independently at its own rate."""
    return poisson_tail(observed, tenders * math.prod(rates))


def mean_below_chance(group: Sequence[float], population: Sequence[float]) -> float:
    """How often a same-sized draw from ``population`` (without replacement) has a mean at or
    below the group's: the normal approximation to the draw's mean, with the finite-population
    correction — on ranks, the large-sample Wilcoxon rank-sum test (Mann & Whitney 1947)."""
    return _draw_tail(group, population, lower=True)


def mean_above_chance(group: Sequence[float], population: Sequence[float]) -> float:
    """The same for a mean at or above the group's."""
    return _draw_tail(group, population, lower=False)


def _draw_tail(group: Sequence[float], population: Sequence[float], lower: bool) -> float:
    g, n = len(group), len(population)
    if g == 0 or n <= g:
        return 1.0
    pop = np.asarray(population, float)
    sigma2 = float(pop.var())
    if sigma2 == 0:
        return 1.0
    spread = math.sqrt(sigma2 / g * (n - g) / (n - 1))
    z = (float(np.mean(group)) - float(pop.mean())) / spread
    return 0.5 * math.erfc((z if not lower else -z) / math.sqrt(2))


def percentiles(values: Sequence[float]) -> list[float]:
    """Each value's mid-rank share in the list (0-1]: the group tests compare ranks, not raw
    values, so that one tender with a near-zero spread (RD of 50 or more) cannot carry a
    group's mean alone."""
    if not values:
        return []
    order = np.argsort(np.asarray(values, float), kind="stable")
    a = np.asarray(values, float)[order]
    ranks = np.empty(len(a))
    i = 0
    while i < len(a):
        j = i
        while j + 1 < len(a) and a[j + 1] == a[i]:
            j += 1
        ranks[i : j + 1] = (i + j) / 2 + 1
        i = j + 1
    out = np.empty(len(a))
    out[order] = ranks / len(a)
    return [float(x) for x in out]


def adjusted(p: float, tests: int) -> float:
    """Bonferroni: the chance that at least one of ``tests`` such tests shows as much."""
    return min(1.0, p * max(tests, 1))
