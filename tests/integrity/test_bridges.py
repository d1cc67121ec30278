"""Identity bridges (integrity.screening.bridges): a mention without an ID number is at most one
of the people whom valid numbers tell apart."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from stdnum.cn import ric

from integrity.identity.mentions import prepare
from integrity.screening.bridges import BRIDGE_FLOOR, ONE_OF_LABEL, bridges_among, one_of


def idn(region: str, year: int, seq: int) -> str:
    body = f"{region}{year}0101{seq:03d}"
    return body + ric.calc_check_digit(body + "0")


def _scored(confidences: list[float], numbered: list[int]) -> pd.DataFrame:
    """Pairs of the bare mention 0 with mentions 1.. (those in ``numbered`` with a number)."""
    n = len(confidences)
    return pd.DataFrame(
        {
            "l": [0] * n,
            "r": list(range(1, n + 1)),
            "confidence": confidences,
            "reasons": [[("姓名相同", 12.0)] for _ in range(n)],
        }
    )


def _ids(n: int, numbered: list[int], same: bool = False) -> tuple[np.ndarray, np.ndarray]:
    valid = np.array([i in numbered for i in range(n + 1)])
    numbers = np.array(
        [idn("440307", 1970, 1 if same else i) if i in numbered else None for i in range(n + 1)],
        dtype=object,
    )
    return valid, numbers


def test_a_bare_mention_is_at_most_one_of_three_namesakes_told_apart() -> None:
    scored = _scored([0.7888] * 3, [1, 2, 3])
    out = one_of(scored, *_ids(3, [1, 2, 3]))
    odds = 0.7888 / (1 - 0.7888)
    assert out["confidence"].tolist() == [round(odds / (1 + 3 * odds), 4)] * 3
    assert all(c < BRIDGE_FLOOR for c in out["confidence"])
    for why in out["reasons"]:
        label, bits = why[-1]
        assert label == ONE_OF_LABEL
        before = math.log2(odds)
        after = math.log2(0.3057 / (1 - 0.3057))
        assert bits == pytest.approx(after - before, abs=0.01)
    # the input is left as it was
    assert scored["confidence"].tolist() == [0.7888] * 3


def test_the_likelier_namesake_keeps_most_of_it() -> None:
    out = one_of(_scored([0.999, 0.2], [1, 2]), *_ids(2, [1, 2]))
    assert out["confidence"].iloc[0] > 0.99 and out["confidence"].iloc[1] < 0.01


@pytest.mark.parametrize(
    ("numbered", "same"),
    [
        ([1], False),  # one numbered person: nothing to share
        ([], False),  # bare mentions: several may be one person
        ([1, 2], True),  # one person met through two keys (the same number)
    ],
)
def test_what_is_left_as_it_is(numbered: list[int], same: bool) -> None:
    scored = _scored([0.8, 0.8], numbered)
    out = one_of(scored, *_ids(2, numbered, same))
    assert out["confidence"].tolist() == [0.8, 0.8]
    assert all(ONE_OF_LABEL not in dict(why) for why in out["reasons"])


def _people(numbered: int) -> pd.DataFrame:
    rows = [{"key": "reg:1", "name": "刘洋", "id_number": None, "id_valid": False}]
    for i in range(numbered):
        number = idn("440307", 1970 + i, i + 1)
        rows.append({"key": f"id:{number}", "name": "刘洋", "id_number": number, "id_valid": True})
    return prepare(pd.DataFrame(rows)).set_index("key")


def test_a_screenings_bridges_to_one_namesake_and_to_three() -> None:
    empty = pd.DataFrame(columns=["link_id", "src", "dst", "conf"])
    freq = pd.Series({"刘洋": 1e-6})
    one = bridges_among(_people(1), 1e-3, freq, empty)
    assert len(one) == 1 and one["conf"].iloc[0] >= BRIDGE_FLOOR
    assert ONE_OF_LABEL not in dict(one["reasons"].iloc[0])
    three = bridges_among(_people(3), 1e-3, freq, empty)
    assert three.empty
    assert bridges_among(_people(0).iloc[:1], 1e-3, freq, empty) is empty
