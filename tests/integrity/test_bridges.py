"""Identity bridges (integrity.screening.bridges): kin-side mentions joined by the resolver."""

from __future__ import annotations

import pandas as pd
from stdnum.cn import ric

from integrity.identity.mentions import prepare
from integrity.screening.bridges import BRIDGE_FLOOR, bridges_among


def idn(region: str, year: int, seq: int) -> str:
    body = f"{region}{year}0101{seq:03d}"
    return body + ric.calc_check_digit(body + "0")


def _people(numbered: int) -> pd.DataFrame:
    rows = [{"key": "reg:1", "name": "刘洋", "id_number": None, "id_valid": False}]
    for i in range(numbered):
        number = idn("440307", 1970 + i, i + 1)
        rows.append({"key": f"id:{number}", "name": "刘洋", "id_number": number, "id_valid": True})
    return prepare(pd.DataFrame(rows)).set_index("key")


def test_a_bare_mention_bridges_to_its_numbered_namesake_and_two_numbers_never() -> None:
    empty = pd.DataFrame(columns=["link_id", "src", "dst", "conf"])
    freq = pd.Series({"刘洋": 1e-6})
    one = bridges_among(_people(1), 1e-3, freq, empty)
    assert len(one) == 1 and one["conf"].iloc[0] >= BRIDGE_FLOOR
    assert set(one["src"]) | set(one["dst"]) == {"reg:1", *_people(1).index[1:]}
    # two numbered people are never bridged: their numbers decide
    two = bridges_among(_people(2).iloc[1:], 1e-3, freq, empty)
    assert two is empty
    assert bridges_among(_people(0), 1e-3, freq, empty) is empty
