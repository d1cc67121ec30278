"""The family's birthplace as evidence (integrity.identity.family): the share measured on the
data's own relatives, the reason it gives a name link, and the two scoring paths alike."""

from __future__ import annotations

import math
import random

import numpy as np
import pandas as pd
import pytest
from stdnum.cn import ric

from integrity.identity.blocking import lowered_need, need_bits
from integrity.identity.calibration import PANEL
from integrity.identity.family import (
    OTHER_LABEL,
    SAME_LABEL,
    _flag,
    below,
    bits,
    family_headroom,
    family_places,
    with_family,
)
from integrity.identity.mentions import prepare
from integrity.identity.scoring import score

CODES = [f"{p}{c:02d}" for p in ("4403", "4452", "4415", "4305", "3607") for c in range(1, 21)]


def idn(region: str, year: int, seq: int) -> str:
    body = f"{region}{year}0101{seq:03d}"
    return body + ric.calc_check_digit(body + "0")


def families(n: int, shared: float, seed: int) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """``n`` officials with five relatives each, every relative carrying the official's code
    with chance ``shared``, else one drawn from :data:`CODES`; plus a population of strangers."""
    rng = random.Random(seed)
    kin, codes = [], {}
    for o in range(n):
        home = rng.choice(CODES)
        codes[f"o{o}"] = home
        kin.append((f"o{o}", f"o{o}"))
        for r in range(5):
            key = f"o{o}r{r}"
            codes[key] = home if rng.random() < shared else rng.choice(CODES)
            kin.append((f"o{o}", key))
    strangers = pd.Series([rng.choice(CODES) for _ in range(20 * n)])
    population = pd.concat([pd.Series(codes), strangers], ignore_index=True)
    frame = pd.DataFrame(kin, columns=["official", "relative"])
    return frame, pd.Series(codes), population


@pytest.mark.parametrize("shared", [0.3, 0.6, 0.9])
def test_the_share_measured_is_the_share_families_have(shared: float) -> None:
    kin, codes, population = families(400, shared, seed=int(shared * 10))
    places = family_places(kin, codes, population)
    # the share is of relatives carrying a family code beyond chance (pulled slightly to 0)
    assert abs(places.share - shared) < 0.08
    assert places.relatives == 2000


def test_families_that_share_no_place_give_no_evidence() -> None:
    kin, codes, population = families(400, 0.0, seed=3)
    places = family_places(kin, codes, population)
    assert places.share < 0.02
    cols = places.columns(kin["official"])
    same, other = cols["fam_same"].dropna(), cols["fam_other"].dropna()
    assert (same.abs() < 0.1).all() and (other.abs() < 0.05).all()


def test_too_few_relatives_with_numbers_weigh_little_and_none_weigh_nothing() -> None:
    kin, codes, population = families(3, 1.0, seed=4)
    few = family_places(kin, codes, population)
    assert 0 < few.share < 0.5  # 15 relatives all sharing: pulled halfway to none
    none = family_places(kin, pd.Series(dtype=object), population)
    assert none.share == 0.0 and none.relatives == 0
    assert none.columns(kin["official"])["fam_regions"].isna().all()


def test_the_bits_are_the_likelihood_ratio() -> None:
    same, other = bits(0.6, np.array([0.05]))
    m = 0.6 + 0.4 * 0.05
    assert same[0] == pytest.approx(math.log2(m / 0.05))
    assert other[0] == pytest.approx(math.log2((1 - m) / 0.95))
    zero_same, zero_other = bits(0.0, np.array([0.05]))
    assert zero_same[0] == pytest.approx(0.0) and zero_other[0] == pytest.approx(0.0)


def _pair_frames(holder_region: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A declared relative without an ID number (her family's codes known) and a legal
    representative of the same name with one, among a few others."""
    people = prepare(
        pd.DataFrame(
            [
                {"name": "王丽", "id_number": None, "id_valid": False, "gender": "女"},
                {"name": "陈桂秀", "id_number": None, "id_valid": False, "gender": "女"},
            ]
        )
    )
    people["fam_regions"] = ["440307|445281", None]
    people["fam_same"] = [2.5, np.nan]
    people["fam_other"] = [-1.8, np.nan]
    holders = prepare(
        pd.DataFrame(
            [
                {"name": "王丽", "id_number": idn(holder_region, 1975, 2), "id_valid": True},
                {"name": "陈桂秀", "id_number": idn("440303", 1960, 4), "id_valid": True},
            ]
        )
    )
    return people, holders


@pytest.mark.parametrize(
    ("region", "label", "value"), [("445281", SAME_LABEL, 2.5), ("360732", OTHER_LABEL, -1.8)]
)
def test_the_holders_code_among_the_familys_or_not_is_a_reason(
    region: str, label: str, value: float
) -> None:
    people, holders = _pair_frames(region)
    pairs = pd.DataFrame({"l": [0, 1], "r": [0, 1]})
    freq = pd.Series({"王丽": 1e-3, "陈桂秀": 1e-5})
    scored = {
        small: score(people, holders, pairs, prior=1e-3, frequencies=freq, small=small)
        for small in (0, 10**9)
    }
    for out in scored.values():
        reasons = dict(out.loc[0, "reasons"])
        assert reasons[label] == value
        # the other pair: no family codes known, no such reason
        assert not {SAME_LABEL, OTHER_LABEL} & set(dict(out.loc[1, "reasons"]))
    vec, rec = scored[0], scored[10**9]
    assert vec["confidence"].tolist() == rec["confidence"].tolist()
    assert vec["log_odds"].tolist() == rec["log_odds"].tolist()
    assert vec["reasons"].tolist() == rec["reasons"].tolist()
    # the reason moves the link by its bits against the same pair without the family
    bare = people.drop(columns=["fam_regions", "fam_same", "fam_other"])
    without = score(bare, holders, pairs, prior=1e-3, frequencies=freq, small=0)
    assert vec.loc[0, "log_odds"] - without.loc[0, "log_odds"] == pytest.approx(value, abs=0.02)


def test_no_evidence_where_the_relative_has_a_number_or_the_holder_none() -> None:
    people, holders = _pair_frames("445281")
    people.loc[0, ["id_number", "id_valid"]] = [idn("445281", 1975, 8), True]
    holders.loc[1, ["id_number", "id_valid"]] = [None, False]
    pairs = pd.DataFrame({"l": [0, 1], "r": [0, 1]})
    out = score(people, holders, pairs, prior=1e-3, frequencies=pd.Series(dtype=float), small=0)
    for why in out["reasons"]:
        assert not {SAME_LABEL, OTHER_LABEL} & {label for label, _ in why}


def test_the_blocking_counts_what_the_family_could_add() -> None:
    people, holders = _pair_frames("445281")
    lift = family_headroom(people, holders)
    assert lift.tolist() == [2.5, 0.0]
    # the holders' side: at most the best lift of a relative it could meet
    assert family_headroom(holders, people).tolist() == [2.5, 2.5]
    # the need of a row the places could lift is what the map must state for the lift to
    # reach the floor: lower, never higher, and the plain need where nothing lifts
    base = need_bits(1e-3, 0.5, PANEL)
    lowered = lowered_need(1e-3, 0.5, PANEL, lift)
    assert isinstance(lowered, np.ndarray)
    assert lowered[1] == base and lowered[0] < base
    assert lowered[0] == need_bits(1e-3, below(0.5, 2.5), PANEL)
    assert lowered_need(1e-3, 0.5, PANEL, np.zeros(2)) == base


def test_the_places_weigh_after_the_map() -> None:
    # the odds the map states, times the places' likelihood ratio; never certain
    assert with_family(0.5, 2.0) == pytest.approx(0.8)
    assert with_family(0.8, -2.0) == pytest.approx(0.5)
    assert with_family(0.3, 0.0) == 0.3
    assert with_family(0.99, 5.0) <= 0.99
    assert below(0.5, 2.0) == pytest.approx(0.2)


def test_the_reason_in_plain_words_names_no_code() -> None:
    from integrity.documents.words import plain_text  # noqa: PLC0415

    people, holders = _pair_frames("445281")
    pairs = pd.DataFrame({"l": [0], "r": [0]})
    out = score(people, holders, pairs, prior=1e-3, frequencies=pd.Series({"王丽": 1e-3}))
    step = {
        "kind": "identity",
        "text": "身份比对：王丽 与登记的 王丽 疑似同一人",
        "data": {"confidence": float(out.loc[0, "confidence"]), "reasons": out.loc[0, "reasons"]},
    }
    said = plain_text(step)
    assert "身份证号所示户籍地与其家人之一相同" in said
    # the region codes are part of ID numbers: never written out
    assert "445281" not in said and "440307" not in str(out.loc[0, "reasons"])


def test_a_number_a_request_gave_is_never_weighed_against_the_family() -> None:
    """A pre-award check's request may name a person with a made-up valid number: weighing
    its region would answer, code by code, where the relative's family is registered."""
    people, holders = _pair_frames("445281")
    holders["fam_blind"] = [True, False]
    pairs = pd.DataFrame({"l": [0, 1], "r": [0, 1]})
    freq = pd.Series({"王丽": 1e-3, "陈桂秀": 1e-5})
    for small in (0, 10**9):
        out = score(people, holders, pairs, prior=1e-3, frequencies=freq, small=small)
        assert not {SAME_LABEL, OTHER_LABEL} & {label for label, _ in out.loc[0, "reasons"]}
    assert family_headroom(people, holders.iloc[[0]]).tolist() == [0.0, 0.0]
    assert _flag(pd.NA) is False and _flag(np.nan) is False and _flag(True) is True
