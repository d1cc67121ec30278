"""Price patterns in one set of quotes, weighed against chance.

Two patterns in the quotes behind one award are read as signs that one hand wrote them
(招标投标法实施条例第四十条（四）“投标报价呈规律性差异”): two quotes of exactly the same amount,
and every losing quote at an exact step above the winner (1.05×, 1.10×, ...). Either also
happens by chance: a ledger keeps amounts to the hundred yuan (万元 with two decimals), so on a
small project there are only a few dozen amounts a losing quote can take, and two independent
quotes collide now and then. Each pattern is therefore given the probability that independent
quotes show it, at the ledger's resolution, and the finding's confidence is the probability that
the quotes were coordinated given the pattern — Bayes' rule with a stated prior share of
coordinated quote sets (``prior``) and the pattern taken as certain under coordination (which
favours coordination). A pattern with a small chance probability is asserted; one that chance
explains well is a lead (线索待核), never an assertion.

The model of independent quotes, stated so a reader can check it: the winner's amount ``W`` is
fixed; every quote lies on the grid of the ledger's resolution ``s`` (the finest power of ten,
at most ``max_step`` yuan, that all the set's amounts are multiples of) and, for losing quotes,
evenly within ``spread`` above the winner (or up to the highest quote, if that is higher).
"Exactly k steps above" means the amount a ledger at that resolution would write for
``W × (1 + k·ratio_step)``: within half a grid step of it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from integrity.findings import yuan_wan
from integrity.screening.evidence import text


@dataclass(frozen=True)
class PricePattern:
    """A pattern found in one set of quotes and how likely chance alone makes it."""

    said: str  # the pattern in words, for the explanation
    chance: float  # probability that independent quotes show it
    confidence: float  # probability of coordination given the pattern (the stated prior)
    grid_step: float  # the resolution the amounts were read at (yuan)

    def words(self) -> str:
        """The chance and the confidence in plain words, for the explanation."""
        return (
            f"若各家独立报价、金额精确到{self.grid_step:,.0f}元，出现此规律的概率"
            f"{about(self.chance)}，串通报价的把握{about(self.confidence)}"
        )


def percent(p: float) -> str:
    """0.00014 -> '0.014%', 0.0531 -> '5.3%', 0.877 -> '88%', 2e-8 -> '不到0.0001%'."""
    if p >= 0.1:
        return f"{p:.0%}"
    if p >= 0.001:
        return f"{p * 100:.1f}%"
    if p >= 1e-6:
        return f"{p * 100:.2g}%"
    return "不到0.0001%"


def about(p: float) -> str:
    """'约为5.3%', or '不到0.0001%' for a chance too small to round."""
    said = percent(p)
    return said if said.startswith("不到") else f"约为{said}"


def grid_step(amounts: list[float], max_step: float) -> float:
    """The ledger's resolution for these amounts: the largest power of ten, at most
    ``max_step``, that every amount is a whole multiple of (1 yuan at the finest)."""
    step = max_step
    while step > 1 and any(abs(a / step - round(a / step)) > 1e-6 for a in amounts):
        step /= 10
    return max(step, 1.0)


def grid_points(low: float, high: float, step: float) -> int:
    """How many amounts on the grid lie in [low, high]."""
    return max(1, math.floor(high / step) - math.ceil(low / step) + 1)


def posterior(chance: float, prior: float) -> float:
    """P(coordinated | pattern) with P(pattern | coordinated) = 1 and the given prior."""
    return prior / (prior + (1.0 - prior) * chance)


def identical_chance(n: int, points: int) -> float:
    """Probability that some two of ``n`` independent quotes, each evenly on ``points`` grid
    amounts, are equal (the birthday problem)."""
    p_distinct = 1.0
    for i in range(1, n):
        p_distinct *= max(0.0, 1.0 - i / points)
    return 1.0 - p_distinct


def steps_chance(losers: int, hits: int, points: int) -> float:
    """Probability that each of ``losers`` independent losing quotes, evenly on ``points``
    grid amounts, falls on a different one of the ``hits`` amounts at an exact step."""
    p = 1.0
    for i in range(losers):
        p *= max(0.0, hits - i) / points
    return p


def find(
    rows: list[dict[Any, Any]],
    ratio_step: float,
    spread: float,
    max_step: float,
    prior: float,
) -> PricePattern | None:
    """Identical quotes, or every losing quote at an exact step above the winner, with the
    probability that independent quotes show it; None when the quotes show neither."""
    quoted = [r for r in rows if text(r.get("amount"))]
    amounts = [float(r["amount"]) for r in quoted]
    if len(amounts) < 2 or min(amounts) <= 0:
        return None
    step = grid_step(amounts, max_step)
    winners = [float(r["amount"]) for r in quoted if r.get("selected") is True]
    base = winners[0] if len(winners) == 1 else min(amounts)
    top = max(*amounts, base * (1 + spread))
    points = grid_points(min(amounts), top, step)

    seen = sorted({a for a in amounts if amounts.count(a) > 1})
    if seen:
        chance = identical_chance(len(amounts), points)
        said = f"{sum(amounts.count(a) for a in seen)}家报价金额完全相同，均为{yuan_wan(seen[0])}"
        return PricePattern(said, chance, posterior(chance, prior), step)

    losers = [float(r["amount"]) for r in quoted if r.get("selected") is not True]
    if len(winners) != 1 or len(losers) < 2:
        return None
    multiples = [round((a / base - 1) / ratio_step) for a in losers]
    exact = all(
        k >= 1 and abs(a - base * (1 + k * ratio_step)) <= step / 2
        for a, k in zip(losers, multiples, strict=True)
    )
    if not exact or len(set(multiples)) != len(multiples):
        return None
    hits = sum(
        1
        for k in range(1, math.floor((top / base - 1) / ratio_step + 1e-9) + 1)
        if base * (1 + k * ratio_step) <= top
    )
    chance = steps_chance(len(losers), hits, points)
    said = "落选报价分别恰为中选报价的" + "、".join(
        f"{1 + k * ratio_step:.2f}倍" for k in sorted(multiples)
    )
    return PricePattern(said, chance, posterior(chance, prior), step)
