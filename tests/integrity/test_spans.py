"""Rows grouped by a value as one order and a table of spans (integrity.screening.spans)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from integrity.screening.spans import group_spans, positions


def test_groups_in_first_appearance_each_in_its_rows_order() -> None:
    values = ["乙", "甲", "乙", "丙", "甲", "乙"]
    order, spans = group_spans(values)
    assert list(spans) == ["乙", "甲", "丙"]
    assert {v: [int(i) for i in order[a:b]] for v, (a, b) in spans.items()} == {
        "乙": [0, 2, 5],
        "甲": [1, 4],
        "丙": [3],
    }


def test_sorted_groups_come_in_the_values_order() -> None:
    order, spans = group_spans(["b", "a", "c", "a"], sort=True)
    assert list(spans) == ["a", "b", "c"]
    assert [int(i) for i in order] == [1, 3, 0, 2]


def test_empty_and_missing() -> None:
    order, spans = group_spans([])
    assert len(order) == 0 and spans == {}
    with pytest.raises(ValueError, match="missing"):
        group_spans(["a", None])


def test_positions_of_a_grouped_column_and_refusal_of_another() -> None:
    assert positions(pd.Series(["x", "x", "y", "z", "z"])) == {
        "x": (0, 2),
        "y": (2, 3),
        "z": (3, 5),
    }
    with pytest.raises(ValueError, match="not grouped"):
        positions(pd.Series(["x", "y", "x"]))
    assert positions(pd.Series(np.array([], dtype=object))) == {}


def test_positions_keep_missing_keys_as_a_group_of_their_own() -> None:
    """A holder without an organisation key sorts last; the check's index must still build."""
    spans = positions(pd.Series(["a", "a", "b", None, None], dtype=object))
    assert spans["a"] == (0, 2) and spans["b"] == (2, 3)
    assert sorted(v for k, v in spans.items() if k not in ("a", "b")) == [(3, 5)]
