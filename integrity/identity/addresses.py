"""The company's registered county as evidence of who is who.

A family business is often registered where the family comes from. The county (区/县) of a
supplier's registered address is compared with the region codes of the official's family's ID
numbers (their first six digits: the county where each household was first registered,
:mod:`~integrity.identity.family`). Where a declared relative without an ID number shares a
name with a holder of the supplier who has no number either, a company registered in one of
the family's counties makes the link likelier, a company registered in none of them less
likely.

How much it says is measured on the data itself, never assumed (:func:`with_addresses`):
among the relatives whose ID numbers are found among a supplier's holders, how often is that
supplier registered in a county where the rest of the family is registered, against how often
a supplier drawn from the data is. Where the data show no such pattern (the districts the
demo's generator draws register every supplier in one district at random) it weighs nothing.

It is weighed only where the holder's own ID number cannot be (a holder without a valid number,
or with one a pre-award check's request gave): a number's own region code says more about the
person than the company's address, and the two are not independent. A supplier's address
is read from the stored supplier table, never from a check's request, so that no request can
learn, county by county, where a relative's family is registered. The county is the
administrative code of the address's county as ``cpca`` parses it; an address that names a
county without its city (和平区 is in 沈阳 and in 天津) gives none, nor one naming only a city.
The codes never appear in a reason.

Two limits of the parse: cpca's dictionary (0.5.5) predates some districts (深圳's 龙华, 坪山
and 光明 are read as the city alone, so give none), and a company's county is today's while an
ID number keeps the code of its issue (a family from the old 宝安, 440306, whose company is
registered in today's 龙华 never matches). Both only lose evidence where the measured share
already counts the misses.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from integrity.identity.family import (
    COUNTY,
    REGION_DIGITS,
    SEPARATOR,
    FamilyPlaces,
    both_ways,
    codes_of,
    estimated_share,
    finite,
    in_county,
    is_yes,
    places_of,
    region_lists,
    relative_lift,
)
from integrity.identity.mentions import filled

SAME_LABEL = "企业注册地所在区县为其家人户籍地之一（按各地企业多少调整）"
OTHER_LABEL = "企业注册地所在区县不是其家人的户籍地"


def counties(addresses: pd.Series) -> pd.Series:
    """The county code of each address (``cpca``), missing where the address names no county
    or a county without its city or province (a county name alone may be another city's)."""
    text = addresses.astype(object).where(addresses.notna())
    # only the head of an address names its county: parsed once per distinct head (a city's
    # 100,000 addresses have a few hundred)
    heads = text.map(lambda v: _head(v) if isinstance(v, str) else None)
    distinct = [h for h in pd.unique(heads.dropna()) if h]
    if not distinct:
        return pd.Series(pd.NA, index=addresses.index, dtype=object)
    import cpca  # noqa: PLC0415 - a dictionary of places, loaded on first use (0.1 s)

    parsed = cpca.transform(distinct)
    found: dict[str, Any] = {}
    for raw, prov, city, county, code in zip(
        distinct, parsed["省"], parsed["市"], parsed["区"], parsed["adcode"], strict=True
    ):
        found[raw] = _county(raw, prov, city, county, code)
    out = heads.map(lambda h: found.get(h) if isinstance(h, str) else None)
    return out.astype(object).where(out.notna())


# an address's head: up to its first 区, 县 or 旗 (not the 区 of a 自治区; an autonomous
# county's 自治县 or banner's 自治旗 ends its county) within its first characters, else its
# first characters (a county-level 市 such as 普宁市)
HEAD = re.compile(r"^\s*(.{0,24}?(?:(?<!自治)区|[县旗]))")
HEAD_CHARACTERS = 16
# prefecture-level cities without counties: the city's own code is where their people's ID
# numbers are issued (东莞, 中山, 儋州, 嘉峪关)
CITIES_WITHOUT_COUNTIES = frozenset({"441900", "442000", "460400", "620200"})


def _head(address: str) -> str:
    found = HEAD.match(address)
    return found.group(1) if found else address.strip()[:HEAD_CHARACTERS]


def _county(raw: str, prov: Any, city: Any, county: Any, code: Any) -> str | None:
    """``code`` where it is a county's (or a city's without counties) and the address itself
    names the county's city (or, for a municipality, its name) before the county: a county
    cpca placed by its name alone is a guess."""
    if not (isinstance(code, str) and len(code) == REGION_DIGITS):
        return None
    place = city if isinstance(city, str) and city != "市辖区" else prov
    if not isinstance(place, str):
        return None
    stem = place.removesuffix("市").removesuffix("省")
    if code in CITIES_WITHOUT_COUNTIES:
        return code if stem and stem in raw else None
    if not isinstance(county, str) or code.endswith("00"):
        return None
    # the county named where the address names it (after the city: 通化市通化县)
    at = raw.rfind(county)
    return code if stem and at > 0 and stem in raw[:at] else None


def org_counties(suppliers: pd.DataFrame) -> pd.Series:
    """Each organisation's county (index ``org_key``): its rows' one county, missing where
    they give none or disagree."""
    if "address" not in suppliers or "org_key" not in suppliers:
        return pd.Series(dtype=object)
    rows = pd.DataFrame(
        {"org_key": suppliers["org_key"].to_numpy(), "county": counties(suppliers["address"])}
    ).dropna()
    if rows.empty:
        return pd.Series(dtype=object)
    one = rows.groupby("org_key", sort=False)["county"].nunique() == 1
    first = rows.drop_duplicates("org_key").set_index("org_key")["county"]
    return first[one.reindex(first.index).to_numpy()]


def with_addresses(
    places: FamilyPlaces,
    ids: pd.DataFrame,
    holders: pd.DataFrame,
    suppliers: pd.DataFrame | None,
    kin: pd.DataFrame,
    people: pd.DataFrame,
) -> FamilyPlaces:
    """``places`` with what the companies' counties say here (:func:`measured`).

    ``ids``: the officials' relatives (themselves included) with a valid ID number
    (official, relative, id_number: Screening.kin_ids); ``holders``: the role holders
    (org_key, id_number, id_valid); ``suppliers``: the keyed supplier table (org_key,
    address); ``kin`` and ``people`` as :func:`~integrity.identity.family.places_of`. The
    addresses are parsed only where some relative with a number holds a role in a supplier
    with an address."""
    if suppliers is None or "address" not in suppliers or ids.empty or holders.empty:
        return places
    valid = filled(holders["id_valid"], False).astype(bool).to_numpy()
    held = holders.loc[valid, ["org_key", "id_number"]].astype({"id_number": str})
    held = held[held["id_number"].isin(set(ids["id_number"].astype(str)))]
    with_address = set(suppliers.loc[suppliers["address"].notna(), "org_key"])
    if not held["org_key"].isin(with_address).any():
        return places
    county = org_counties(suppliers)
    share, n = measured(ids, held, county)
    if share == 0.0:
        return replace(places, address_relatives=n)
    ided = _ided(ids)
    of_official = codes_of(ided, county.to_numpy(dtype=object), column="fam_addr_u")
    merged = places.of_official.combine_first(of_official)
    out = replace(
        places,
        of_official=merged,
        address_share=share,
        address_relatives=n,
        county_of_org=county,
    )
    return replace(out, lift_of=relative_lift(out, kin, people))


def places_with_firms(
    ids: pd.DataFrame,
    kin: pd.DataFrame,
    people: pd.DataFrame,
    holders: pd.DataFrame,
    suppliers: pd.DataFrame | None,
) -> FamilyPlaces:
    """A screening's family places (:func:`~integrity.identity.family.places_of`) with what
    its companies' counties say (:func:`with_addresses`)."""
    places = places_of(ids, kin, people)
    return with_addresses(places, ids, holders, suppliers, kin, people)


def with_county(holders: pd.DataFrame, places: FamilyPlaces) -> pd.DataFrame:
    """Holder rows (``org_key``) with their company's county where the counties are weighed
    here; unchanged where they are not."""
    if places.address_share == 0.0 or holders.empty:
        return holders
    return holders.assign(**{COUNTY: holders["org_key"].map(places.county_of_org)})


def _ided(ids: pd.DataFrame) -> pd.DataFrame:
    """(official, relative, code): each family member with a valid ID number, once."""
    out = pd.DataFrame(
        {
            "official": ids["official"].to_numpy(),
            "relative": ids["relative"].to_numpy(),
            "code": ids["id_number"].astype(str).str.slice(0, REGION_DIGITS).to_numpy(),
        }
    )
    return out.drop_duplicates(["official", "relative"]).reset_index(drop=True)


def measured(ids: pd.DataFrame, held: pd.DataFrame, county: pd.Series) -> tuple[float, int]:
    """(share, relatives measured): the chance that a relative's company is registered in a
    county of the rest of the family by descent rather than by chance, shrunk towards none as
    the family's places are (:func:`~integrity.identity.family.estimated_share`).

    Measured on each (official, relative, company) where the relative (not the official)
    holds a role, by ID number, in a company whose county is known and the rest of the family
    has a member with a code: a hit is the company's county among the rest's codes, its
    chance the share of the data's companies registered in one of them."""
    if ids.empty or county.empty:
        return 0.0, 0
    number = pd.DataFrame(
        {
            "official": ids["official"].to_numpy(),
            "relative": ids["relative"].to_numpy(),
            "id_number": ids["id_number"].astype(str).to_numpy(),
        }
    ).drop_duplicates(["official", "relative"])
    held = held.assign(county=held["org_key"].map(county)).dropna(subset=["county"])
    rows = number.merge(held[["id_number", "org_key", "county"]], on="id_number")
    rows = rows[rows["relative"] != rows["official"]]
    rows = rows.drop_duplicates(["official", "relative", "org_key"])
    if rows.empty:
        return 0.0, 0
    # only the families of the relatives measured (a city's 400 of its 30,000)
    ided = _ided(ids[ids["official"].isin(pd.unique(rows["official"]))])
    shares = county.value_counts(normalize=True)
    count = ided.groupby(["official", "code"], sort=False).size().rename("n").reset_index()
    count["u"] = count["code"].map(shares).fillna(0.0).to_numpy(dtype=float)
    fam_u = count.groupby("official", sort=False)["u"].sum()
    members = ided.groupby("official", sort=False).size()
    own = ided.set_index(["official", "relative"])["code"]
    rows["own"] = own.reindex(pd.MultiIndex.from_frame(rows[["official", "relative"]])).to_numpy()
    n_of = count.set_index(["official", "code"])["n"]
    own_n = n_of.reindex(pd.MultiIndex.from_frame(rows[["official", "own"]])).to_numpy()
    at = n_of.reindex(pd.MultiIndex.from_frame(rows[["official", "county"]])).fillna(0)
    at_n = at.to_numpy(dtype=float)
    # the rest of the family: the relative's own code left out where no one else carries it
    alone = own_n == 1
    hit = np.where(rows["county"].to_numpy() == rows["own"].to_numpy(), ~alone, at_n > 0)
    own_u = rows["own"].map(shares).fillna(0.0).to_numpy(dtype=float)
    rest_u = fam_u.reindex(pd.Index(rows["official"])).to_numpy() - np.where(alone, own_u, 0.0)
    others = members.reindex(pd.Index(rows["official"])).to_numpy() > 1
    return estimated_share(hit[others], np.clip(rest_u[others], 0.0, 1.0))


def address_evidence(a: pd.DataFrame, b: pd.DataFrame) -> list[tuple[np.ndarray, str, np.ndarray]]:
    """(which pairs, reason, log-odds) of the companies' counties, pairs (a[i], b[i]), both
    ways: a kin row without a valid number whose family's counties are weighed, against a
    holder whose company's county is known and whose own number's region cannot be weighed."""

    def where(p: pd.DataFrame, q: pd.DataFrame) -> tuple[np.ndarray, np.ndarray] | None:
        if "fam_addr_same" not in p or COUNTY not in q:
            return None
        fam = p["fam_regions"].to_numpy(dtype=object)
        yes = p["fam_addr_same"].to_numpy(dtype=float)
        mine = filled(p["id_valid"], False).astype(bool).to_numpy()
        at = np.flatnonzero(pd.notna(fam) & np.isfinite(yes) & ~mine & in_county(q))
        counties = q[COUNTY].to_numpy(dtype=object)[at]
        pairs = zip(counties, region_lists(fam[at]), strict=True)
        return at, np.array([str(c) in f for c, f in pairs], dtype=bool)

    return both_ways(a, b, where, ("fam_addr_same", SAME_LABEL), ("fam_addr_other", OTHER_LABEL))


def address_reasons(x: dict[str, Any], y: dict[str, Any]) -> list[tuple[str, float]]:
    """The county reason of one pair of records, as :func:`address_evidence` gives it."""
    out: list[tuple[str, float]] = []
    for p, q in ((x, y), (y, x)):
        fam, yes = p.get("fam_regions"), p.get("fam_addr_same")
        where = q.get(COUNTY)
        if not (isinstance(fam, str) and isinstance(where, str) and finite(yes)):
            continue
        if is_yes(p.get("id_valid")) or (
            is_yes(q.get("id_valid")) and not is_yes(q.get("fam_blind"))
        ):
            continue
        if where in fam.split(SEPARATOR):
            out.append((SAME_LABEL, float(yes)))
        else:
            out.append((OTHER_LABEL, float(p["fam_addr_other"])))
    return out
