"""The company's registered county as evidence (integrity.identity.addresses): the county an
address names, the share measured on the data's relatives who hold roles, the reason it gives
a name link on both scoring paths, and what the blocking lets through for it."""

from __future__ import annotations

import random

import numpy as np
import pandas as pd
import pytest
from stdnum.cn import ric

from integrity.identity.addresses import (
    OTHER_LABEL,
    SAME_LABEL,
    counties,
    measured,
    org_counties,
    with_addresses,
    with_county,
)
from integrity.identity.family import (
    COUNTY,
    MAX_SHARE,
    SHRINK_RELATIVES,
    FamilyPlaces,
    address_lift,
    bits,
    family_headroom,
    places_of,
)
from integrity.identity.family import (
    OTHER_LABEL as CODE_OTHER,
)
from integrity.identity.family import (
    SAME_LABEL as CODE_SAME,
)
from integrity.identity.mentions import prepare
from integrity.identity.scoring import score
from tests.integrity.conftest import identity_words

# county codes with the addresses cpca reads them from
PLACES = {
    "440307": "深圳市龙岗区",
    "440306": "深圳市宝安区",
    "440304": "深圳市福田区",
    "440303": "深圳市罗湖区",
    "210102": "辽宁省沈阳市和平区",
    "210103": "沈阳市沈河区",
    "350205": "厦门市海沧区",
    "430521": "湖南省邵阳市邵东县",
    "445281": "广东省揭阳市普宁市",
    "110108": "北京市海淀区",
    "650103": "新疆维吾尔自治区乌鲁木齐市沙依巴克区",  # the 区 of 自治区 is not the county's
}
# more addresses and the county each names: autonomous counties and banners, counties named
# after their city, cities without counties
MORE = {
    "广西壮族自治区百色市隆林各族自治县新州镇": "451031",
    "内蒙古自治区呼伦贝尔市鄂温克族自治旗巴彦托海镇": "150724",
    "云南省红河哈尼族彝族自治州屏边苗族自治县玉屏镇": "532523",
    "吉林省通化市通化县快大茂镇": "220521",
    "湖南省长沙市长沙县星沙街道": "430121",
    "辽宁省朝阳市朝阳县": "211321",
    "广东省东莞市南城街道": "441900",
    "东莞长安镇": "441900",
    "中山市石岐区": "442000",
}


def idn(region: str, year: int, seq: int) -> str:
    body = f"{region}{year}0101{seq:03d}"
    return body + ric.calc_check_digit(body + "0")


@pytest.mark.parametrize(("code", "prefix"), list(PLACES.items()))
def test_an_address_naming_its_city_gives_its_countys_code(code: str, prefix: str) -> None:
    got = counties(pd.Series([f"{prefix}某某路18号2栋301室"]))
    assert got.tolist() == [code]


@pytest.mark.parametrize(("address", "code"), list(MORE.items()))
def test_autonomous_counties_counties_named_after_their_city_and_cities_without_counties(
    address: str, code: str
) -> None:
    assert counties(pd.Series([address])).tolist() == [code]


@pytest.mark.parametrize(
    "address",
    [
        "和平区南京北街1号",  # 沈阳 or 天津: a county named without its city is a guess
        "朝阳区建国路88号",  # 北京 or 长春
        "深圳市南山科技园",  # a city without its county
        "某某工业园A栋",  # no place at all
        "深圳市龙华区民治街道",  # a district cpca 0.5.5 does not know: the city alone
        "",
        "   ",
    ],
)
def test_an_address_that_does_not_say_its_county_gives_none(address: str) -> None:
    assert counties(pd.Series([address])).isna().all()


def test_missing_addresses_and_repeats() -> None:
    got = counties(pd.Series([None, "深圳市龙岗区布吉街道1号", np.nan, "深圳市龙岗区布吉街道1号"]))
    assert got.isna().tolist() == [True, False, True, False]
    assert got.dropna().tolist() == ["440307", "440307"]
    assert counties(pd.Series([None, None])).isna().all()


def test_an_organisation_of_two_counties_has_none() -> None:
    suppliers = pd.DataFrame(
        {
            "org_key": ["a", "a", "b", "b", "c", "d"],
            "address": [
                "深圳市龙岗区一路1号",
                "深圳市龙岗区二路2号",
                "深圳市龙岗区一路1号",
                "厦门市海沧区一路1号",
                None,
                "深圳市福田区三路3号",
            ],
        }
    )
    assert org_counties(suppliers).to_dict() == {"a": "440307", "d": "440304"}
    assert org_counties(suppliers.drop(columns="address")).empty


def _district(n: int, local: float, seed: int) -> dict[str, pd.DataFrame | pd.Series]:
    """``n`` officials, each with five relatives carrying the official's code with chance
    0.7; one relative of each family holds a role, by ID number, in a company registered in a
    county of the rest of the family with chance ``local``, else one drawn as the data's
    other companies are."""
    rng = random.Random(seed)
    codes = list(PLACES)
    ids, held, county = [], [], {}
    seq = 0
    for o in range(n):
        home = rng.choice(codes)
        family = [home] + [home if rng.random() < 0.7 else rng.choice(codes) for _ in range(5)]
        members = [f"o{o}"] + [f"o{o}r{r}" for r in range(5)]
        for key, code in zip(members, family, strict=True):
            seq += 1
            ids.append((f"o{o}", key, idn(code, 1940 + seq // 1000, seq % 1000)))
        holder = ids[-1]
        rest = family[:-1]
        county[f"firm{o}"] = rng.choice(rest) if rng.random() < local else rng.choice(codes)
        held.append((f"firm{o}", holder[2]))
    for f in range(20 * n):
        county[f"other{f}"] = rng.choice(codes)
    return {
        "ids": pd.DataFrame(ids, columns=["official", "relative", "id_number"]),
        "held": pd.DataFrame(held, columns=["org_key", "id_number"]),
        "county": pd.Series(county),
    }


@pytest.mark.parametrize("local", [0.3, 0.6, 0.9])
def test_the_share_measured_is_the_share_of_local_firms(local: float) -> None:
    d = _district(600, local, seed=int(local * 10))
    share, n = measured(d["ids"], d["held"], d["county"])  # type: ignore[arg-type]
    assert n == 600
    assert abs(share - local) < 0.08


def test_firms_registered_at_random_give_no_evidence() -> None:
    d = _district(600, 0.0, seed=5)
    share, n = measured(d["ids"], d["held"], d["county"])  # type: ignore[arg-type]
    assert n == 600 and share < 0.06  # chance: about 0.025 either way at this size


def test_the_share_is_as_written_for_one_family() -> None:
    ids = pd.DataFrame(
        [
            ("o", "o", idn("440307", 1960, 1)),
            ("o", "a", idn("440307", 1985, 2)),
            ("o", "b", idn("430521", 1988, 3)),
        ],
        columns=["official", "relative", "id_number"],
    )
    county = pd.Series({"f1": "440307", "f2": "430521", "x1": "440306", "x2": "440307"})
    # a holds a role in a firm in 440307 (the official's code too: a hit); b in one in 430521,
    # b's own code alone (the rest of the family is 440307 only: no hit)
    held = pd.DataFrame(
        {"org_key": ["f1", "f2"], "id_number": [idn("440307", 1985, 2), idn("430521", 1988, 3)]}
    )
    share, n = measured(ids, held, county)
    # a's code is the official's too, so a's rest is the whole family {440307, 430521}
    # (u = 2/4 + 1/4): a hit; b's code is b's alone, so b's rest is {440307} (u = 2/4): no
    # hit. One hit where chance gives 1.25: nothing
    expected = (1 - 1.25) / (2 - 1.25 + SHRINK_RELATIVES)
    assert n == 2 and expected < 0 and share == 0.0
    held2 = pd.DataFrame({"org_key": ["f1"], "id_number": [idn("440307", 1985, 2)]})
    share2, n2 = measured(ids, held2, county)
    assert n2 == 1 and share2 == round((1 - 0.75) / (1 - 0.75 + SHRINK_RELATIVES), 4)
    # the official's own firm is not measured; a relative in no family of coded members either
    own = pd.DataFrame({"org_key": ["f1"], "id_number": [idn("440307", 1960, 1)]})
    assert measured(ids, own, county) == (0.0, 0)
    assert measured(ids.iloc[:0], held, county) == (0.0, 0)


def _kin_and_holders(county: str | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A declared relative without a number, from a family registered in 440307 and 430521,
    and three holders of the same name: without a number at a company in ``county``; with a
    number; with a number the request gave."""
    kin = prepare(pd.DataFrame([{"name": "王丽", "id_number": None, "id_valid": False}]))
    kin["fam_regions"] = ["430521|440307"]
    kin["fam_same"] = [np.nan]  # the family's places weigh nothing here; the counties do
    kin["fam_other"] = [np.nan]
    kin["fam_addr_same"] = [1.7]
    kin["fam_addr_other"] = [-0.9]
    number = idn("440306", 1975, 2)
    holders = prepare(
        pd.DataFrame(
            [
                {"name": "王丽", "id_number": None, "id_valid": False, "fam_blind": False},
                {"name": "王丽", "id_number": number, "id_valid": True, "fam_blind": False},
                {"name": "王丽", "id_number": number, "id_valid": True, "fam_blind": True},
            ]
        )
    )
    holders[COUNTY] = [county, county, county]
    return kin, holders


@pytest.mark.parametrize(
    ("county", "label", "value"), [("440307", SAME_LABEL, 1.7), ("440306", OTHER_LABEL, -0.9)]
)
def test_the_companys_county_among_the_familys_or_not_is_a_reason(
    county: str, label: str, value: float
) -> None:
    kin, holders = _kin_and_holders(county)
    pairs = pd.DataFrame({"l": [0, 0, 0], "r": [0, 1, 2]})
    freq = pd.Series({"王丽": 1e-4})
    scored = {
        small: score(kin, holders, pairs, prior=1e-3, frequencies=freq, small=small)
        for small in (0, 10**9)
    }
    vec, rec = scored[0], scored[10**9]
    for out in (vec, rec):
        labels = [dict(why) for why in out["reasons"]]
        assert labels[0][label] == value  # no number: the company's county
        assert not {SAME_LABEL, OTHER_LABEL} & set(labels[1])  # a number: its own region
        assert labels[2][label] == value  # a number the request gave: never weighed
        assert not {CODE_SAME, CODE_OTHER} & set(labels[0])
    assert vec["confidence"].tolist() == rec["confidence"].tolist()
    assert vec["log_odds"].tolist() == rec["log_odds"].tolist()
    assert vec["reasons"].tolist() == rec["reasons"].tolist()
    bare = kin.drop(columns=["fam_addr_same", "fam_addr_other"])
    without = score(bare, holders, pairs, prior=1e-3, frequencies=freq, small=0)
    assert vec.loc[0, "log_odds"] - without.loc[0, "log_odds"] == pytest.approx(value, abs=0.02)
    # whichever side the relative is on
    swapped = score(holders, kin, pairs.rename(columns={"l": "r", "r": "l"}), prior=1e-3,
                    frequencies=freq, small=0)  # fmt: skip
    assert swapped["log_odds"].tolist() == vec["log_odds"].tolist()


def test_no_county_reason_without_a_county_or_for_a_relative_with_a_number() -> None:
    kin, holders = _kin_and_holders(None)
    pairs = pd.DataFrame({"l": [0], "r": [0]})
    for small in (0, 10**9):
        out = score(
            kin, holders, pairs, prior=1e-3, frequencies=pd.Series(dtype=float), small=small
        )
        assert not {SAME_LABEL, OTHER_LABEL} & {label for label, _ in out.loc[0, "reasons"]}
    kin, holders = _kin_and_holders("440307")
    kin.loc[0, ["id_number", "id_valid"]] = [idn("440307", 1975, 8), True]
    for small in (0, 10**9):
        out = score(
            kin, holders, pairs, prior=1e-3, frequencies=pd.Series(dtype=float), small=small
        )
        assert not {SAME_LABEL, OTHER_LABEL} & {label for label, _ in out.loc[0, "reasons"]}


def test_the_blocking_counts_what_the_county_could_add() -> None:
    kin, holders = _kin_and_holders("440307")
    assert address_lift(kin).tolist() == [1.7]
    # against holders who can only be weighed by number (no county), nothing from counties
    assert family_headroom(kin, holders.iloc[[1]]).tolist() == [0.0]
    assert family_headroom(kin, holders.iloc[[0]]).tolist() == [1.7]
    assert family_headroom(kin, holders).tolist() == [1.7]
    # the holders' side: the best lift of a relative a holder with a county could meet
    assert family_headroom(holders, kin).tolist() == [1.7, 0.0, 1.7]


def test_the_reason_in_plain_words_names_no_code() -> None:
    kin, holders = _kin_and_holders("440307")
    out = score(kin, holders, pd.DataFrame({"l": [0], "r": [0]}), prior=1e-3,
                frequencies=pd.Series({"王丽": 1e-4}))  # fmt: skip
    said = identity_words(out, "王丽")
    assert "企业注册地所在区县为其家人户籍地之一" in said
    assert "440307" not in said and "430521" not in said


def _screening_inputs(local: float) -> dict[str, pd.DataFrame]:
    """A screening's inputs as with_addresses reads them: 300 families whose relative with
    a number holds a role in a company in the rest of the family's county with chance
    ``local``, a relative without a number in each family, and 3,000 other companies."""
    d = _district(300, local, seed=11)
    ids = d["ids"]
    county = d["county"]
    assert isinstance(ids, pd.DataFrame) and isinstance(county, pd.Series)
    suppliers = pd.DataFrame(
        {"org_key": county.index, "address": [f"{PLACES[c]}某路1号" for c in county]}
    )
    held = d["held"]
    assert isinstance(held, pd.DataFrame)
    holders = held.assign(id_valid=True)
    bare = pd.DataFrame({"official": ids["official"].unique()})
    bare["relative"] = bare["official"] + "x"
    kin = pd.concat([ids[["official", "relative"]], bare], ignore_index=True)
    people = pd.DataFrame(
        {
            "id_valid": [True] * len(ids) + [False] * len(bare),
            "id_number": list(ids["id_number"]) + [None] * len(bare),
        },
        index=pd.Index(kin["relative"]),
    )
    return {"ids": ids.set_index("official", drop=False), "holders": holders,
            "suppliers": suppliers, "kin": kin, "people": people}  # fmt: skip


def test_a_screening_weighs_the_counties_only_where_its_data_shows_local_firms() -> None:
    local = _screening_inputs(0.8)
    places = places_of(local["ids"], local["kin"], local["people"])
    out = with_addresses(places, local["ids"], local["holders"], local["suppliers"],
                         local["kin"], local["people"])  # fmt: skip
    assert out.address_relatives == 300 and out.address_share > 0.6
    assert out.county_of_org["firm0"] in PLACES
    # each official's family: its codes and the share of companies registered in them
    cols = out.columns(pd.Series(["o0", "o1"]))
    assert cols["fam_regions"].notna().all()
    u = out.of_official.loc[["o0", "o1"], "fam_addr_u"].to_numpy()
    same, other = bits(out.address_share, u)
    assert cols["fam_addr_same"].tolist() == pytest.approx(same.tolist())
    assert cols["fam_addr_other"].tolist() == pytest.approx(other.tolist())
    # the relatives without a number may be lifted; those with one never
    assert out.lift_of.index.str.endswith("x").all() and len(out.lift_of) == 300
    holders = pd.DataFrame({"org_key": ["firm0", "other0", "nowhere"]})
    assert with_county(holders, out)[COUNTY].tolist()[:2] == [
        out.county_of_org["firm0"],
        out.county_of_org["other0"],
    ]
    random_firms = _screening_inputs(0.0)
    none = with_addresses(places, random_firms["ids"], random_firms["holders"],
                          random_firms["suppliers"], random_firms["kin"],
                          random_firms["people"])  # fmt: skip
    assert none.address_share == 0.0 and none.address_relatives == 300
    assert "fam_addr_same" not in none.columns(pd.Series(["o0"]))
    assert COUNTY not in with_county(holders, none)


def test_no_addresses_no_parsing() -> None:
    d = _screening_inputs(0.8)
    places = FamilyPlaces(0.0, 0, pd.DataFrame({"fam_regions": [], "fam_u": []}))
    no_address = d["suppliers"].drop(columns="address")
    for suppliers in (None, no_address, d["suppliers"].assign(address=None)):
        out = with_addresses(places, d["ids"], d["holders"], suppliers, d["kin"], d["people"])
        assert out is places


def test_one_pair_is_weighed_by_the_holders_number_or_the_companys_county_never_both() -> None:
    kin, holders = _kin_and_holders("440307")
    kin["fam_same"], kin["fam_other"] = [2.5], [-1.8]  # the family's places weigh here too
    holders["id_number"] = [None, idn("440307", 1975, 2), idn("440307", 1975, 2)]
    pairs = pd.DataFrame({"l": [0, 0, 0], "r": [0, 1, 2]})
    freq = pd.Series({"王丽": 1e-4})
    for small in (0, 10**9):
        out = score(kin, holders, pairs, prior=1e-3, frequencies=freq, small=small)
        labels = [set(dict(why)) for why in out["reasons"]]
        county = {SAME_LABEL, OTHER_LABEL}
        code = {CODE_SAME, CODE_OTHER}
        assert labels[0] & county and not labels[0] & code  # no number: the county
        assert labels[1] & code and not labels[1] & county  # a number: its own region
        assert labels[2] & county and not labels[2] & code  # the request's number: the county


def test_the_viability_test_sees_the_holders_counties() -> None:
    from integrity.screening.registry import as_other  # noqa: PLC0415

    kin, holders = _kin_and_holders("440307")
    other = as_other(holders, None)
    assert other[COUNTY].tolist() == ["440307"] * 3
    assert family_headroom(kin, other).tolist() == family_headroom(kin, holders).tolist() == [1.7]
    assert COUNTY not in as_other(holders.drop(columns=COUNTY), None)


def _reference(ids: pd.DataFrame, held: pd.DataFrame, county: pd.Series) -> tuple[float, int]:
    """measured(), written with loops: each relative (not the official) found by number among
    a company's holders, where the company's county is known and the rest of the family has
    a member with a code: a hit when the county is among the rest's codes."""
    shares = county.value_counts(normalize=True).to_dict()
    family: dict[str, dict[str, str]] = {}
    for official, relative, number in ids[["official", "relative", "id_number"]].itertuples(
        index=False
    ):
        family.setdefault(official, {}).setdefault(relative, str(number)[:6])
    number_of = {
        (o, r): str(n)
        for o, r, n in ids[["official", "relative", "id_number"]].itertuples(index=False)
    }
    hits, us, seen = [], [], set()
    for (official, relative), number in number_of.items():
        if relative == official or len(family[official]) < 2:
            continue
        rest = [c for k, c in family[official].items() if k != relative]
        for org in held.loc[held["id_number"].astype(str) == number, "org_key"]:
            if org not in county.index or (official, relative, org) in seen:
                continue
            seen.add((official, relative, org))
            hits.append(county[org] in rest)
            us.append(min(sum(shares.get(c, 0.0) for c in set(rest)), 1.0))
    n = len(hits)
    if not n:
        return 0.0, 0
    share = (sum(hits) - sum(us)) / (n - sum(us) + SHRINK_RELATIVES)
    return round(min(max(share, 0.0), MAX_SHARE), 4), n


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_share_is_the_references_on_mixed_families(seed: int) -> None:
    rng = random.Random(seed)
    codes = [*PLACES, "999901"]  # a code no company carries
    ids, held, county = [], [], {}
    for o in range(40):
        size = rng.choice([1, 2, 3, 6])  # a family of one coded member measures nothing
        home = rng.choice(codes)
        bare_official = rng.random() < 0.2  # an official without a number of his own
        for r in range(size):
            if r == 0 and bare_official:
                continue
            key = f"o{o}" if r == 0 else f"o{o}r{r}"
            code = home if rng.random() < 0.6 else rng.choice(codes)
            number = idn(code, 1950 + o, r)
            ids.append((f"o{o}", key, number))
            if rng.random() < 0.5:  # holds a role in one or two companies
                for f in range(rng.choice([1, 2])):
                    firm = f"f{o}-{r}-{f}"
                    county[firm] = code if rng.random() < 0.7 else rng.choice(list(PLACES))
                    held.append((firm, number))
    for x in range(200):
        county[f"x{x}"] = rng.choice(list(PLACES))
    frame = pd.DataFrame(ids, columns=["official", "relative", "id_number"])
    held_frame = pd.DataFrame(held, columns=["org_key", "id_number"])
    got = measured(frame, held_frame, pd.Series(county))
    assert got == _reference(frame, held_frame, pd.Series(county))
    assert got[1] > 10 and got[0] > 0


def test_a_screenings_places_with_its_firms() -> None:
    from integrity.identity.addresses import places_with_firms  # noqa: PLC0415

    d = _screening_inputs(0.8)
    out = places_with_firms(d["ids"], d["kin"], d["people"], d["holders"], d["suppliers"])
    assert out.address_share > 0.6 and out.address_relatives == 300
    # the family's places are measured as places_of measures them
    alone = places_of(d["ids"], d["kin"], d["people"])
    assert (out.share, out.relatives) == (alone.share, alone.relatives)


def test_the_lift_of_each_bare_relative_is_the_countys() -> None:
    d = _screening_inputs(0.8)
    none = FamilyPlaces(0.0, 0, pd.DataFrame({"fam_regions": [], "fam_u": []}))
    out = with_addresses(none, d["ids"], d["holders"], d["suppliers"], d["kin"], d["people"])
    assert len(out.lift_of) == 300  # each family's relative without a number
    cols = out.columns(pd.Series([k.removesuffix("x") for k in out.lift_of.index]))
    assert out.lift_of.to_numpy() == pytest.approx(cols["fam_addr_same"].to_numpy())
    # holders whose validity is missing are not numbers
    unknown = d["holders"].assign(id_valid=None)
    assert with_addresses(none, d["ids"], unknown, d["suppliers"], d["kin"], d["people"]) is none
    assert with_addresses(none, d["ids"], d["holders"].iloc[:0], d["suppliers"], d["kin"],
                          d["people"]) is none  # fmt: skip


def test_the_reason_on_the_record_path_with_the_relative_on_the_right() -> None:
    kin, holders = _kin_and_holders("440307")
    pairs = pd.DataFrame({"l": [0, 1, 2], "r": [0, 0, 0]})
    freq = pd.Series({"王丽": 1e-4})
    for small in (0, 10**9):
        out = score(holders, kin, pairs, prior=1e-3, frequencies=freq, small=small)
        labels = [dict(why) for why in out["reasons"]]
        assert labels[0][SAME_LABEL] == 1.7 and labels[2][SAME_LABEL] == 1.7
        assert SAME_LABEL not in labels[1]
