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
    MAX_SHARE,
    OTHER_LABEL,
    SAME_LABEL,
    SEPARATOR,
    SHRINK_RELATIVES,
    below,
    bits,
    family_headroom,
    family_places,
    is_yes,
    places_of,
    with_family,
)
from integrity.identity.mentions import prepare
from integrity.identity.scoring import score
from tests.integrity.conftest import identity_words

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
    people, holders = _pair_frames("445281")
    pairs = pd.DataFrame({"l": [0], "r": [0]})
    out = score(people, holders, pairs, prior=1e-3, frequencies=pd.Series({"王丽": 1e-3}))
    said = identity_words(out, "王丽")
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
    assert is_yes(pd.NA) is False and is_yes(np.nan) is False and is_yes(True) is True


def _reference(
    rows: list[tuple[str, str]], codes: dict[str, str], population: list[str]
) -> tuple[float, int, dict[str, float], dict[str, str]]:
    """The share, the relatives measured, each family's u and codes, written plainly: each
    relative with a code, in a family with at least one other coded member, hits when another
    member carries its code; u is the population's share of the other members' codes."""
    share_of = {c: k / len(population) for c, k in pd.Series(population).value_counts().items()}
    members: dict[str, dict[str, str]] = {}
    for official, relative in dict.fromkeys(rows):
        if relative in codes:
            members.setdefault(official, {})[relative] = codes[relative]
    hits, n, sum_u = 0, 0, 0.0
    for official, fam in members.items():
        if len(fam) < 2:
            continue
        for relative, code in fam.items():
            if relative == official:
                continue
            rest = {c for r, c in fam.items() if r != relative}
            sum_u += min(1.0, sum(share_of.get(c, 0.0) for c in rest))
            hits += code in rest
            n += 1
    share = (hits - sum_u) / (n - sum_u + SHRINK_RELATIVES) if n else 0.0
    share = round(min(max(share, 0.0), MAX_SHARE), 4)
    fam_u = {
        o: min(
            max(sum(share_of.get(c, 0.0) for c in set(f.values())), 1 / len(population)), 1 - 1e-6
        )
        for o, f in members.items()
    }
    regions = {o: SEPARATOR.join(sorted(set(f.values()))) for o, f in members.items()}
    return share, n, fam_u, regions


def test_the_share_is_measured_as_written_family_by_family() -> None:
    """Against a plain reference on families of every shape: an official with no code, a
    family of one coded member (not measured), a code no one in the population carries (its
    u floored at one person), a family carrying every code (u capped), kin rows repeated."""
    rng = random.Random(11)
    population = ["A"] * 10 + ["B"] * 5 + ["C"] * 2 + ["D"] + ["E"] * 82
    rows: list[tuple[str, str]] = []
    codes: dict[str, str] = {}
    for f in range(60):
        o = f"o{f}"
        rows.append((o, o))
        if f % 7 != 3:  # some officials carry no number
            codes[o] = rng.choice("AABBCD")
        for r in range(rng.choice([0, 1, 2, 3, 4])):
            key = f"{o}r{r}"
            rows.append((o, key))
            if rng.random() < 0.85:
                home = codes.get(o, "B")
                codes[key] = home if rng.random() < 0.6 else rng.choice(["A", "C", "D", "E"])
        rows.append((o, f"{o}r0"))  # a kin row met twice (two paths)
    rows += [("z", "z"), ("z", "zr")]  # a place no one in the population comes from
    codes |= {"z": "ZZ", "zr": "ZZ"}
    every = sorted(set(population))
    rows += [("all", "all")] + [("all", f"all{c}") for c in every]
    codes |= {"all": "A"} | {f"all{c}": c for c in every}
    kin = pd.DataFrame(rows, columns=["official", "relative"])
    places = family_places(kin, pd.Series(codes), pd.Series(population))
    share, n, fam_u, regions = _reference(rows, codes, population)
    assert share > 0.1
    assert (places.share, places.relatives) == (share, n)
    got = places.of_official
    assert set(got.index) == set(fam_u)
    for official, u in fam_u.items():
        assert got.loc[official, "fam_u"] == pytest.approx(u)
        assert got.loc[official, "fam_regions"] == regions[official]
    assert got.loc["z", "fam_u"] == pytest.approx(1 / len(population))
    assert got.loc["all", "fam_u"] == pytest.approx(1 - 1e-6)
    # the kin rows' columns: the bits of each family's u at the share; none for a stranger
    cols = places.columns(pd.Series(["o0", "z", "nobody"]))
    same, other = bits(share, np.array([fam_u["o0"], fam_u["z"]]))
    assert cols["fam_same"][:2].tolist() == pytest.approx(same.tolist())
    assert cols["fam_other"][:2].tolist() == pytest.approx(other.tolist())
    assert cols["fam_regions"].tolist()[:2] == [regions["o0"], "ZZ"]
    assert cols.loc[2].isna().all()


def test_a_screenings_places_come_from_its_relatives_with_numbers() -> None:
    """places_of: the codes of the numbers the prior lists (official, relative, number), the
    population every distinct valid number of the kin side's people; the lift of each
    relative without a number of its own is its family's same-code bits, the most over its
    families; none for a relative with a number."""
    kin_rows, codes, _ = families(300, 0.8, seed=5)
    numbers = {k: idn(c, 1950 + i // 1000, i % 1000) for i, (k, c) in enumerate(codes.items())}
    ids = pd.DataFrame(
        {
            "official": kin_rows["official"],
            "relative": kin_rows["relative"],
            "id_number": kin_rows["relative"].map(numbers),
        }
    )
    bare = {"o0r1", "o1r2"}  # two relatives without numbers of their own
    ids = ids[~ids["relative"].isin(bare)]
    people = pd.DataFrame(
        {
            "id_number": [None if k in bare else v for k, v in numbers.items()],
            "id_valid": [k not in bare for k in numbers],
        },
        index=list(numbers),
    )
    kin = pd.concat([kin_rows, pd.DataFrame({"official": ["o1"], "relative": ["o0r1"]})])
    places = places_of(ids, kin, people)
    want = family_places(
        kin_rows[~kin_rows["relative"].isin(bare)],
        pd.Series({k: v[:6] for k, v in numbers.items()}),
        people["id_number"][people["id_valid"]].str.slice(0, 6),
    )
    assert (places.share, places.relatives) == (want.share, want.relatives)
    assert places.share > 0.5
    assert set(places.lift_of.index) == bare
    same = places.columns(pd.Series(["o0", "o1", "o1"]))["fam_same"].tolist()
    assert places.lift_of["o1r2"] == pytest.approx(same[1])
    assert places.lift_of["o0r1"] == pytest.approx(max(same[0], same[1]))  # o0's and o1's
    # a screening whose families share nothing keeps no codes and lifts nothing
    apart = [idn(str(110000 + i), 1970, 1) for i in range(len(ids))]  # no two alike
    none = places_of(ids.assign(id_number=apart), kin, people)
    assert none.share == 0.0 and none.lift_of.empty and none.of_official.empty


@pytest.mark.parametrize("small", [0, 10**9])
def test_the_reason_whichever_side_the_relative_is_on_and_only_without_a_number(
    small: int,
) -> None:
    """The holder on the left and the relative on the right give the same reason, on both
    scoring paths; a relative whose number's validity is unknown (NaN) has none of its own;
    one with a valid number gets no family reason; a holder with an unknown flag for the
    request's numbers (fam_blind NaN: not a request's) is weighed."""
    people, holders = _pair_frames("445281")
    people["id_valid"] = [np.nan, np.nan]
    holders["fam_blind"] = [np.nan, np.nan]
    pairs = pd.DataFrame({"l": [0, 1], "r": [0, 1]})
    freq = pd.Series({"王丽": 1e-3, "陈桂秀": 1e-5})
    left = score(people, holders, pairs, prior=1e-3, frequencies=freq, small=small)
    right = score(holders, people, pairs, prior=1e-3, frequencies=freq, small=small)
    for out in (left, right):
        assert dict(out.loc[0, "reasons"])[SAME_LABEL] == 2.5
    assert left["log_odds"].tolist() == pytest.approx(right["log_odds"].tolist())
    people["id_valid"] = pd.Series([True, np.nan], dtype=object)  # a flag column as read
    people.loc[0, "id_number"] = idn("440303", 1975, 8)
    for a, b in ((people, holders), (holders, people)):
        out = score(a, b, pairs, prior=1e-3, frequencies=freq, small=small)
        assert not {SAME_LABEL, OTHER_LABEL} & {label for label, _ in out.loc[0, "reasons"]}
    assert is_yes(None) is False and is_yes([1, 2]) is False and is_yes(0) is False


def test_the_headroom_is_each_sides_lift() -> None:
    """A relative without a number can be lifted by its same-code bits (however few) against
    any weighable holder; a holder with a number by the best lift of the relatives it could
    meet; a relative with a number, or a side with nothing to lift, adds nothing."""
    people, holders = _pair_frames("445281")
    people["fam_same"] = [0.4, np.nan]  # less than a bit still lifts
    people["id_valid"] = [False, np.nan]
    assert family_headroom(people, holders).tolist() == [0.4, 0.0]
    assert family_headroom(holders, people).tolist() == [0.4, 0.4]
    # the other side carries family columns but none it could lift: nothing more
    numbered = people.assign(id_valid=True, id_number=[idn("440303", 1970, 1)] * 2)
    assert family_headroom(holders, numbered).tolist() == [0.0, 0.0]
    # a frame holding a relative without a number and one with: each row its own lift (the
    # first) or the best lift it could meet (the second)
    mixed = pd.concat([people.iloc[[0]], numbered.iloc[[0]]], ignore_index=True)
    assert family_headroom(mixed, mixed).tolist() == [0.4, 0.4]


def test_a_family_of_one_coded_member_measures_nothing() -> None:
    """Officials whose relatives carry no number, and relatives whose official carries none:
    no one to compare with, so no relative is measured and the share is none; a screening
    whose families share nothing says how many relatives it looked at."""
    kin = pd.DataFrame({"official": ["a", "a", "b", "b"], "relative": ["a", "ar", "b", "br"]})
    codes = pd.Series({"a": "440303", "br": "445281"})
    places = family_places(kin, codes, pd.Series(["440303", "445281", "360732"]))
    assert (places.share, places.relatives) == (0.0, 0)
    assert places.of_official.empty
    apart = family_places(
        kin, pd.Series({"a": "440303", "ar": "445281", "b": "360732", "br": "110101"}),
        pd.Series(["440303", "445281", "360732", "110101"] * 5),
    )  # fmt: skip
    assert (apart.share, apart.relatives) == (0.0, 2)
