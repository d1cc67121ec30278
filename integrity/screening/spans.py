"""Rows grouped by a value without a frame per group: the order that puts equal values
together and each value's (start, stop) in it. The catalogue's entries by name, the people's
keys by name and the kin rows by official are looked up this way: tens of thousands of small
groups sliced when asked for, and kept on disk as one array and one table of spans, where a
frame or an array per group would be slow to build, to pickle and to read back."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def group_spans(
    values: Any, *, sort: bool = False, missing: bool = False
) -> tuple[np.ndarray, dict[Any, tuple[int, int]]]:
    """``values`` grouped: the positions that put equal values together, each group's rows in
    their order (a stable sort), and each value's (start, stop) among those positions. The
    groups come in the order the values first appear, or, ``sort``, in the values' order.
    A missing value is refused, or, ``missing``, grouped as one more value."""
    codes, uniques = pd.factorize(
        np.asarray(values, dtype=object), sort=sort, use_na_sentinel=not missing
    )
    if len(codes) and codes.min() < 0:
        raise ValueError("group_spans: missing values cannot be grouped")
    order = np.argsort(codes, kind="stable")
    sizes = np.bincount(codes, minlength=len(uniques))
    stops = np.cumsum(sizes)
    starts = stops - sizes
    return order, {u: (int(a), int(b)) for u, a, b in zip(uniques, starts, stops, strict=True)}


def positions(keys: pd.Series) -> dict[Any, tuple[int, int]]:
    """For a column sorted by its values (equal values together, missing ones too), each
    value's (start, stop) row positions: a group's rows by slicing, without a groupby or a
    mask over the frame."""
    order, spans = group_spans(keys.to_numpy(), missing=True)
    if not np.array_equal(order, np.arange(len(order))):
        raise ValueError("positions: the column is not grouped by its values")
    return spans
