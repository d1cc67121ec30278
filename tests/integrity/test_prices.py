"""Price patterns weighed against chance (integrity.prices): the model's arithmetic, the
ledger's resolution, what "exactly" means, and which patterns are asserted or left as leads."""

from __future__ import annotations

from typing import Any

import pytest

from integrity import prices
from integrity.findings import LEAD_THRESHOLD


def quotes(winner: float, *losers: float) -> list[dict[str, Any]]:
    return [{"amount": winner, "selected": True}] + [
        {"amount": a, "selected": False} for a in losers
    ]


def find(rows: list[dict[str, Any]]) -> prices.PricePattern | None:
    return prices.find(rows, ratio_step=0.05, spread=0.25, max_step=100.0, prior=0.001)


@pytest.mark.parametrize(
    ("amounts", "step"),
    [
        ([100_000, 105_000, 110_000], 100.0),  # round amounts: no coarser than the ledger's 100
        ([213_000, 226_500], 100.0),
        ([213_050, 226_500], 10.0),
        ([213_457, 226_500], 1.0),
        ([0.5 * 3, 20], 1.0),  # never finer than one yuan
    ],
)
def test_grid_step_is_the_finest_power_of_ten_the_amounts_need(
    amounts: list[float], step: float
) -> None:
    assert prices.grid_step(amounts, 100.0) == step


def test_grid_points_counts_both_ends() -> None:
    assert prices.grid_points(27_500, 34_375, 100) == 69  # 27,500 ... 34,300
    assert prices.grid_points(100, 100, 100) == 1
    assert prices.grid_points(100, 300, 100) == 3


def test_identical_chance_is_the_birthday_problem() -> None:
    assert prices.identical_chance(2, 10) == pytest.approx(0.1)
    assert prices.identical_chance(3, 10) == pytest.approx(1 - 0.9 * 0.8)
    assert prices.identical_chance(1, 10) == 0.0
    assert prices.identical_chance(12, 10) == 1.0  # more quotes than amounts


def test_steps_chance_draws_distinct_steps() -> None:
    assert prices.steps_chance(2, 5, 100) == pytest.approx(5 / 100 * 4 / 100)
    assert prices.steps_chance(3, 2, 100) == 0.0  # three losers cannot take two steps
    assert prices.steps_chance(1, 5, 100) == pytest.approx(0.05)


def test_posterior_is_bayes_with_the_stated_prior() -> None:
    assert prices.posterior(1.0, 0.001) == pytest.approx(0.001)  # chance explains all
    assert prices.posterior(0.001, 0.001) == pytest.approx(0.001 / (0.001 + 0.999 * 0.001))
    assert prices.posterior(0.0, 0.001) == 1.0


def test_identical_losing_quotes_on_a_small_project_are_a_lead() -> None:
    """2.75万 with two losing quotes of 2.99万: 3 quotes on 69 amounts of 100 yuan collide by
    chance about 4 times in a hundred, so the pattern is left as a lead."""
    found = find(quotes(27_500, 29_900, 29_900))
    assert found is not None and found.said == "2家报价金额完全相同，均为2.99万元"
    assert found.chance == pytest.approx(1 - (1 - 1 / 69) * (1 - 2 / 69))
    assert found.confidence < LEAD_THRESHOLD
    assert "4.3%" in found.words() and "精确到100元" in found.words()


def test_exact_steps_on_a_large_project_are_asserted() -> None:
    found = find(quotes(150_000, 157_500, 165_000))
    assert found is not None and found.said == "落选报价分别恰为中选报价的1.05倍、1.10倍"
    # 376 amounts from 150,000 to 187,500; five of them at exact steps (1.05 ... 1.25)
    assert found.chance == pytest.approx(5 / 376 * 4 / 376)
    assert found.confidence >= LEAD_THRESHOLD


@pytest.mark.parametrize(
    ("losers", "exact"),
    [
        # 1.05 × 682,700 = 716,835 and 1.10 × 682,700 = 750,970
        ((716_800, 751_000), True),  # what a ledger to the hundred yuan writes for them
        ((716_900, 751_000), False),  # 65 yuan off on a grid of 100
        ((717_000, 751_000), False),  # 1.0502: not "exactly" 1.05
        ((716_840, 750_970), True),  # amounts to ten yuan: 5 off is half a step
        ((716_850, 750_970), False),  # 15 off on a grid of 10
    ],
)
def test_exactly_means_within_half_a_grid_step(losers: tuple[float, float], exact: bool) -> None:
    assert (find(quotes(682_700, *losers)) is not None) is exact


def test_no_pattern_without_a_single_winner_or_two_losers() -> None:
    assert find(quotes(100_000, 105_000)) is None  # one losing quote: no pattern of steps
    two_winners = quotes(100_000, 105_000, 110_000)
    two_winners[1]["selected"] = True
    assert find(two_winners) is None
    assert find([{"amount": 100_000, "selected": True}]) is None
    assert find(quotes(100_000, 105_000, 126_000)) is None  # 1.26: not a step
    assert find(quotes(100_000, 110_000, 110_000 * 1.0)) is not None  # equal: identical
    assert find(quotes(100_000, 105_000, 105_000 + 100)) is None  # the same step twice, nearly


@pytest.mark.parametrize(
    ("p", "said"),
    [(0.877, "88%"), (0.1, "10%"), (0.0531, "5.3%"), (0.001, "0.1%"), (0.00014, "0.014%"),
     (2.6e-8, "不到0.0001%")],
)  # fmt: skip
def test_percent_in_words(p: float, said: str) -> None:
    assert prices.percent(p) == said
