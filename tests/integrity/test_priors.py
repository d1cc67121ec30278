"""The share of candidate pairs that are one person, measured on the pairs with ID numbers on
both sides, counted in people (integrity.identity.priors.estimated_prior)."""

from __future__ import annotations

import pandas as pd
import pytest

from integrity.identity.priors import estimated_prior, smoothed_prior

A, B, C, D = "440303198001011234", "440303198202022345", "44030319850303345X", "440303199004044567"


def side(rows: list[tuple[str, str]]) -> pd.DataFrame:
    return pd.DataFrame([{"project_id": p, "id_number": i, "id_valid": True} for p, i in rows])


def test_a_person_in_three_roles_is_one_candidate() -> None:
    # panel of P1: A (in three roles) and B; suppliers' people of P1: A and C
    left = side([("P1", A), ("P1", A), ("P1", A), ("P1", B)])
    right = side([("P1", A), ("P1", C)])
    # 2 people × 2 people = 4 candidate pairs, one of them the same person
    assert estimated_prior(left, right, ["project_id"], guess=0.01, weight=0) == pytest.approx(
        1 / 4
    )


def test_contexts_are_counted_apart_and_smoothed_towards_the_guess() -> None:
    left = side([("P1", A), ("P2", B), ("P2", D)])
    right = side([("P1", C), ("P2", B), ("P3", A)])
    # P1: 1 × 1 pairs, no match; P2: 2 × 1 pairs, one match; P3 has no left side
    assert estimated_prior(left, right, ["project_id"], guess=0.01, weight=0) == pytest.approx(
        1 / 3
    )
    assert estimated_prior(left, right, ["project_id"], guess=0.01) == pytest.approx(
        smoothed_prior(1, 3, 0.01)
    )


def test_without_numbers_on_one_side_the_guess_stands() -> None:
    left = side([("P1", A)])
    right = side([("P1", A)]).assign(id_valid=False)
    assert estimated_prior(left, right, ["project_id"], guess=0.02) == 0.02
