"""An office only an adult holds as evidence (integrity.identity.ages): the floor each holder of
such an office carries, the ledger's last year it is counted from, and the reason a link to a
relative born after it gets, on both scoring paths."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from integrity.identity.ages import (
    ADULT_BY,
    ADULT_ROLES,
    GRACE_YEARS,
    LABEL,
    adult_floor,
    last_year,
    with_adult_floor,
    years_of,
)
from integrity.identity.mentions import prepare
from integrity.identity.scoring import BIRTH_RANGE_LABEL, Weights, score
from integrity.scan import run_scan
from integrity.screening.tables import build_holders
from tests.conftest import DEMO
from tests.integrity.conftest import identity_words

BITS = math.log2(Weights().minor_office_m / Weights().minor_office_u)


def test_the_floor_is_the_ledgers_last_year_less_an_adults_age() -> None:
    projects = pd.DataFrame(
        {
            "project_id": ["a", "b"],
            "approved_date": pd.to_datetime(["2023-03-01", None]),
            "acceptance_date": pd.to_datetime(["2024-11-30", "2022-01-01"]),
            "name": ["x", "y"],
        }
    )
    assert last_year(projects) == 2024.0
    assert adult_floor(2024.0) == 2024 - 18 + GRACE_YEARS
    assert last_year(projects.drop(columns=["approved_date", "acceptance_date"])) is None
    assert last_year(None) is None and last_year(projects.iloc[:0]) is None
    assert adult_floor(None) is None and adult_floor(math.nan) is None


def _holders() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "org_key": ["o1", "o1", "o1", "o2", "o2", "o3"],
            "key": ["p", "p", "q", "p", "r", "s"],
            "role": ["股东", "法定代表人", "股东", "股东", "监事", "联系人"],
            "birth": [None, None, None, None, pd.Timestamp("1990-01-01"), None],
        }
    )


def test_a_person_holding_an_adults_office_carries_the_floor_in_every_row_there() -> None:
    out = with_adult_floor(_holders(), 2008.0)
    # p is o1's legal representative (and shareholder): both rows; p is only a shareholder
    # of o2 (a minor may inherit a share); q a shareholder; r has a birth date of its own;
    # a contact person may be anyone
    assert out[ADULT_BY].tolist()[:2] == [2008.0, 2008.0]
    assert np.isnan(out[ADULT_BY].to_numpy()[2:]).all()
    assert np.isnan(with_adult_floor(_holders(), None)[ADULT_BY].to_numpy()).all()
    # rows without a birth column: every office holder's floor
    unborn = with_adult_floor(_holders().drop(columns="birth"), 2008.0)[ADULT_BY].tolist()
    assert unborn[:2] == [2008.0, 2008.0] and unborn[4] == 2008.0 and np.isnan(unborn[5])
    assert {"法定代表人", "负责人", "董事", "监事", "经理", "财务负责人"} == ADULT_ROLES


def test_the_holders_of_a_dataset_carry_the_floor() -> None:
    keyed = {
        "supplier_people": pd.DataFrame(
            {
                "org_key": ["o", "o"],
                "supplier_name": ["某公司", "某公司"],
                "person_key": ["n:王浩健", "n:李四"],
                "name": ["王浩健", "李四"],
                "id_number": [None, None],
                "id_number_valid": [False, False],
                "role": ["法定代表人", "股东"],
                "_file": ["f", "f"],
                "_row": [2, 3],
            }
        )
    }
    h = build_holders(keyed, 2008.0).set_index("name")
    assert h.loc["王浩健", ADULT_BY] == 2008.0 and np.isnan(h.loc["李四", ADULT_BY])
    assert np.isnan(build_holders(keyed)[ADULT_BY].to_numpy()).all()


def _pair(kin_birth: str | None, **kin: object) -> tuple[pd.DataFrame, pd.DataFrame]:
    left = prepare(pd.DataFrame([{"name": "王浩健", "id_number": None, "id_valid": False, **kin}]))
    left["birth"] = pd.to_datetime([kin_birth])
    right = prepare(
        pd.DataFrame(
            [{"name": "王浩健", "id_number": None, "id_valid": False, "role": "法定代表人"}]
        )
    )
    right[ADULT_BY] = [2008.0]
    return left, right


@pytest.mark.parametrize(("born", "minor"), [("2017-10-09", True), ("2009-01-01", True),
                                             ("2008-12-31", False), ("1980-05-01", False)])  # fmt: skip
def test_a_relative_born_after_the_floor_is_not_the_office_holder(born: str, minor: bool) -> None:
    left, right = _pair(born)
    pairs = pd.DataFrame({"l": [0], "r": [0]})
    freq = pd.Series({"王浩健": 1e-5})
    vec = score(left, right, pairs, prior=1e-3, frequencies=freq, small=0)
    rec = score(left, right, pairs, prior=1e-3, frequencies=freq, small=10**9)
    assert vec["reasons"].tolist() == rec["reasons"].tolist()
    assert vec["confidence"].tolist() == rec["confidence"].tolist()
    reasons = dict(vec.loc[0, "reasons"])
    assert (LABEL in reasons) == minor
    if minor:
        assert reasons[LABEL] == pytest.approx(BITS, abs=0.01)
        # whichever side the holder is on
        swapped = score(right, left, pairs, prior=1e-3, frequencies=freq, small=0)
        assert swapped["log_odds"].tolist() == vec["log_odds"].tolist()
        without = score(left, right.drop(columns=ADULT_BY), pairs, prior=1e-3, frequencies=freq)
        assert vec.loc[0, "log_odds"] - without.loc[0, "log_odds"] == pytest.approx(BITS, abs=0.02)
        assert vec.loc[0, "confidence"] < without.loc[0, "confidence"]


def test_kin_implied_years_count_and_a_kin_conflict_is_not_counted_twice() -> None:
    # no birth date, but born 2012-2016 by the kin rows: after the floor
    left, right = _pair(None, born_lo=2012.0, born_hi=2016.0)
    pairs = pd.DataFrame({"l": [0], "r": [0]})
    for small in (0, 10**9):
        out = score(left, right, pairs, prior=1e-3, frequencies=pd.Series(dtype=float), small=small)
        assert LABEL in dict(out.loc[0, "reasons"])
    # the holder's own kin rows place him before 1990: the kin conflict, once
    right["born_lo"], right["born_hi"] = 1950.0, 1990.0
    for small in (0, 10**9):
        out = score(left, right, pairs, prior=1e-3, frequencies=pd.Series(dtype=float), small=small)
        labels = dict(out.loc[0, "reasons"])
        assert BIRTH_RANGE_LABEL in labels and LABEL not in labels
    # both birth dates known: the dates are compared, not the floor
    left, right = _pair("2017-10-09")
    right["birth"] = pd.to_datetime(["2017-10-09"])
    out = score(left, right, pairs, prior=1e-3, frequencies=pd.Series(dtype=float))
    assert LABEL not in dict(out.loc[0, "reasons"])


def test_years_of_a_record() -> None:
    assert years_of({"birth": pd.Timestamp("2017-10-09")}) == (2017.0, 2017.0)
    lo, hi = years_of({"birth": None, "born_lo": 1990.0, "born_hi": np.nan})
    assert lo == 1990.0 and math.isnan(hi)
    assert all(math.isnan(v) for v in years_of({}))


def test_the_demos_floor_and_its_reason_in_plain_words() -> None:
    result = run_scan(DEMO, policy="longgang-2023", rules=["over_cap"])
    assert result.context is not None
    scr = result.context.screening
    # the demo's ledger ends with acceptances in 2025
    assert last_year(scr.keyed["projects"]) == 2025.0
    assert scr.adult_born_by == 2025 - 18 + GRACE_YEARS
    held = scr.holders
    offices = held["role"].isin(ADULT_ROLES) & held["birth"].isna()
    assert (held.loc[offices, ADULT_BY] == scr.adult_born_by).all()
    assert held.loc[~held["birth"].isna(), ADULT_BY].isna().all()
    left, right = _pair("2017-10-09")
    out = score(left, right, pd.DataFrame({"l": [0], "r": [0]}), prior=1e-3,
                frequencies=pd.Series({"王浩健": 1e-5}))  # fmt: skip
    assert "任职时未成年" in identity_words(out, "王浩健")
