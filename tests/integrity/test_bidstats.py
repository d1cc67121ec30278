"""The quoting screens' statistics (integrity.bidstats) against values worked by hand."""

from __future__ import annotations

import math

import pytest

from integrity import bidstats


def test_cv_is_population_sigma_over_mean() -> None:
    assert bidstats.cv([100, 100]) == 0.0
    # bids 90, 100, 110: σ = sqrt(200/3) = 8.165, mean 100
    assert bidstats.cv([90, 100, 110]) == pytest.approx(math.sqrt(200 / 3) / 100)
    assert bidstats.cv([100]) is None
    assert bidstats.cv([0, 0]) is None


def test_relative_distance_is_the_gap_over_the_losers_spread() -> None:
    # lowest 80, then 100 and 104: gap 20, σ of the losers (100, 104) = 2
    assert bidstats.relative_distance([104, 80, 100]) == pytest.approx(10.0)
    assert bidstats.relative_distance([80, 100]) is None  # three bids at least
    assert bidstats.relative_distance([80, 100, 100]) is None  # losers all equal: no spread


def test_skewness_and_kurtosis_by_the_moments() -> None:
    assert bidstats.skewness([1, 2, 3]) == pytest.approx(0.0)
    # 1, 1, 4: mean 2, deviations -1, -1, 2; m2 = 2, m3 = 2 -> 2 / 2**1.5
    assert bidstats.skewness([1, 1, 4]) == pytest.approx(2 / 2**1.5)
    assert bidstats.skewness([1, 2]) is None
    assert bidstats.skewness([5, 5, 5]) is None
    # 1, 2, 3, 4: m2 = 1.25, m4 = 2.5625 -> 2.5625 / 1.5625 - 3
    assert bidstats.kurtosis([1, 2, 3, 4]) == pytest.approx(2.5625 / 1.5625 - 3)
    assert bidstats.kurtosis([1, 2, 3]) is None
    assert bidstats.kurtosis([2, 2, 2, 2]) is None


def test_never_wins_is_the_product_of_fair_losses() -> None:
    assert bidstats.never_wins_chance([3, 3]) == pytest.approx(4 / 9)
    assert bidstats.never_wins_chance([2, 4]) == pytest.approx(0.5 * 0.75)
    assert bidstats.never_wins_chance([]) == 1.0
    assert bidstats.never_wins_chance([1]) == 0.0  # the only bidder always wins


def test_poisson_tail() -> None:
    assert bidstats.poisson_tail(0, 2.0) == 1.0
    assert bidstats.poisson_tail(1, 2.0) == pytest.approx(1 - math.exp(-2))
    assert bidstats.poisson_tail(3, 2.0) == pytest.approx(1 - math.exp(-2) * (1 + 2 + 2))
    assert bidstats.poisson_tail(2, 0.0) == 0.0


def test_together_chance_uses_the_joint_rate() -> None:
    # 100 tenders, three suppliers each in half of them: 12.5 expected together
    assert bidstats.together_chance(5, 100, [0.5, 0.5, 0.5]) == pytest.approx(
        bidstats.poisson_tail(5, 12.5)
    )
    assert bidstats.together_chance(5, 100, [0.1, 0.1, 0.1]) < 1e-5


def test_the_draw_tests_find_a_low_and_a_high_group() -> None:
    population = [float(i % 10) for i in range(200)]  # 0..9, twenty times each
    assert bidstats.mean_below_chance([0.0] * 8, population) < 0.001
    assert bidstats.mean_above_chance([0.0] * 8, population) > 0.999
    assert bidstats.mean_above_chance([9.0] * 8, population) < 0.001
    middle = bidstats.mean_below_chance([4.5] * 8, population)
    assert 0.3 < middle < 0.7
    # the normal approximation of a draw's mean: 8 of the 200, σ² = 8.25
    z = (2.0 - 4.5) / math.sqrt(8.25 / 8 * 192 / 199)
    assert bidstats.mean_below_chance([2.0] * 8, population) == pytest.approx(
        0.5 * math.erfc(-z / math.sqrt(2))
    )
    assert bidstats.mean_below_chance([1.0, 2.0], [3.0] * 9) == 1.0  # nothing varies
    assert bidstats.mean_below_chance([], population) == 1.0
    assert bidstats.mean_below_chance([1.0] * 5, [1.0] * 5) == 1.0  # nothing to draw from


def test_adjusted_is_bonferroni_capped_at_one() -> None:
    assert bidstats.adjusted(0.001, 20) == pytest.approx(0.02)
    assert bidstats.adjusted(0.1, 20) == 1.0
    assert bidstats.adjusted(0.01, 0) == pytest.approx(0.01)


def test_percentiles_are_mid_ranks() -> None:
    assert bidstats.percentiles([30.0, 10.0, 20.0]) == pytest.approx([1.0, 1 / 3, 2 / 3])
    assert bidstats.percentiles([5.0, 5.0, 1.0, 9.0]) == pytest.approx([0.625, 0.625, 0.25, 1.0])
    assert bidstats.percentiles([]) == []
