"""The family's birthplace as evidence of who is who.

The first six digits of a resident ID number are the region code: the county where the
person's household was first registered, most often where he or she was born. Parents,
brothers and sisters, often cousins and in-laws too, carry the codes of the places the family
comes from. So where a declared relative has no ID number and a supplier's legal
representative of the same (or a similar) name has one, the representative's region code
says something: the same code as a member of the official's family makes the link likelier,
a code no family member carries makes it less likely.

How much it says is measured on the data itself, never assumed: among the relatives whose
ID numbers are given, how often does one carry a code some other member of the same family
carries, against how often a person drawn from the data's whole population would
(:func:`family_places`). Where families do not share places, or too few relatives carry
numbers to tell, the evidence weighs nothing. The codes themselves never appear in a reason:
a reason says only "the same as the family's" or "none of the family's".

The evidence is weighed after the calibration map (:func:`with_family`): the map corrects
what the name comparison overstates or understates, the family's places are a likelihood ratio
measured on the data and multiply the odds the map states, so the map never amplifies them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, TypeGuard

import numpy as np
import pandas as pd

from integrity.identity.calibration import NAME_ONLY_MAX, NAME_ONLY_MIN
from integrity.identity.mentions import filled

REGION_DIGITS = 6  # the region code: province, prefecture, county
# the relatives with ID numbers a family's sharing is weighed as before the data speaks: with
# fewer, the share measured is pulled towards none (no evidence)
SHRINK_RELATIVES = 20.0
MAX_SHARE = 0.95  # a measured share above this is read as this: a code never decides
SAME_LABEL = "身份证号所示户籍地与其家人之一相同（按各地人数多少调整）"
OTHER_LABEL = "身份证号所示户籍地与其家人均不同"
# the columns a kin row carries for this evidence (its family's codes, '|'-joined, and the
# log-odds of the holder's code being among them or not), and the column that marks a number
# whose region must not be weighed (one a pre-award check's request gave: weighing it would
# answer, code by code, where a relative's family is registered)
FAMILY_COLUMNS = ("fam_regions", "fam_same", "fam_other", "fam_blind")
# the same for the companies' counties (identity.addresses): a kin row's log-odds of a
# company registered in one of the family's counties or not, and a holder row's county
COUNTY = "addr_region"
ADDRESS_COLUMNS = ("fam_addr_same", "fam_addr_other", COUNTY)
SEPARATOR = "|"


@dataclass(frozen=True)
class FamilyPlaces:
    """What a screening learnt about its families' places.

    ``share``: the chance that a relative carries one of the family's codes by descent rather
    than by chance (0: families do not share places here); ``relatives``: how many relatives
    with ID numbers it was measured on; ``of_official``: per official (index) the family's
    codes (``fam_regions``), the share of the data's people born in one of them (``fam_u``)
    and, where the companies' counties are weighed (:mod:`~integrity.identity.addresses`),
    the share of the data's companies registered in one of them (``fam_addr_u``);
    ``address_share`` and ``address_relatives``: the same measure for the companies of
    relatives who hold roles; ``county_of_org``: each organisation's county, where weighed."""

    share: float
    relatives: int
    of_official: pd.DataFrame
    # per relative (person key), the most the places could lift a link of his or hers
    lift_of: pd.Series = field(default_factory=lambda: pd.Series(dtype=float))
    address_share: float = 0.0
    address_relatives: int = 0
    county_of_org: pd.Series = field(default_factory=lambda: pd.Series(dtype=object))

    def columns(self, officials: pd.Series) -> pd.DataFrame:
        """:data:`FAMILY_COLUMNS` (and, where the companies' counties are weighed, the
        address bits) for kin rows of these ``officials`` (positionally)."""
        fam = self.of_official.reindex(pd.Index(officials))
        regions = fam["fam_regions"].notna().to_numpy()
        u = fam["fam_u"].to_numpy(dtype=float)
        same, other = bits(self.share, u)
        known = regions & (self.share > 0) & np.isfinite(u)
        out = {
            "fam_same": np.where(known, same, np.nan),
            "fam_other": np.where(known, other, np.nan),
        }
        shown = known
        if self.address_share > 0 and "fam_addr_u" in fam:
            au = fam["fam_addr_u"].to_numpy(dtype=float)
            addr = regions & np.isfinite(au)
            a_same, a_other = bits(self.address_share, au)
            out["fam_addr_same"] = np.where(addr, a_same, np.nan)
            out["fam_addr_other"] = np.where(addr, a_other, np.nan)
            shown = known | addr
        return pd.DataFrame(
            {"fam_regions": fam["fam_regions"].where(shown).to_numpy(dtype=object), **out}
        )


def with_family(stated: float, bits: float) -> float:
    """The confidence ``stated`` (the calibration map's) with the family's places' ``bits``
    added to its log-odds (:func:`with_family_all` for one pair)."""
    return float(with_family_all(np.array([stated]), np.array([bits]))[0])


def with_family_all(stated: np.ndarray, bits: np.ndarray) -> np.ndarray:
    """Each confidence ``stated`` with its ``bits`` added to its log-odds, never certain either
    way (as the map states a name link); unchanged where they add nothing."""
    p = np.clip(stated, 1e-9, 1 - 1e-9)
    lifted = 1 / (1 + np.exp2(-(np.log2(p / (1 - p)) + bits)))
    out: np.ndarray = np.where(bits == 0.0, stated, np.clip(lifted, NAME_ONLY_MIN, NAME_ONLY_MAX))
    return out


def below(floor: float, lift: float) -> float:
    """The confidence the map must state for a pair the family's places could lift by
    ``lift`` bits to reach ``floor``."""
    return 1 / (1 + (1 / floor - 1) * math.exp2(lift))


def bits(share: float, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Log-odds of a holder's code among the family's (``u``: the share of the population
    born in one of them) and not: a relative carries a family code with chance
    ``share + (1 - share) * u``, anyone else with chance ``u``."""
    m = share + (1 - share) * u
    with np.errstate(divide="ignore", invalid="ignore"):
        same = np.log2(m / u)
        other = np.log2((1 - m) / (1 - u))
    return same, other


def region_of(ids: pd.Series, valid: pd.Series) -> pd.Series:
    """The region code of each valid ID number, else missing."""
    codes = ids.astype(object).where(filled(valid, False).astype(bool).to_numpy())
    return codes.str.slice(0, REGION_DIGITS)


def family_places(kin: pd.DataFrame, codes: pd.Series, population: pd.Series) -> FamilyPlaces:
    """The families' codes and how far relatives share them.

    ``kin``: rows (official, relative), the official's own row included; ``codes``: each
    person key's region code (missing without a valid ID number); ``population``: the region
    code of every distinct valid ID number in the data (whose shares say how many people any
    code has). The share is measured on each relative with a code against the codes of the
    rest of the family: hits beyond what the population's shares expect, over the relatives
    measured, pulled towards none by :data:`SHRINK_RELATIVES`."""
    rows = kin[["official", "relative"]].drop_duplicates()
    code = codes.reindex(pd.Index(rows["relative"])).to_numpy(dtype=object)
    has = pd.notna(code)
    ided = pd.DataFrame({"official": rows["official"].to_numpy()[has], "code": code[has]})
    ided["relative"] = rows["relative"].to_numpy()[has]
    return _measured(ided, population)


def _measured(ided: pd.DataFrame, population: pd.Series) -> FamilyPlaces:
    """:func:`family_places` from the family members with a code: rows (official,
    relative, code), one per member."""
    if ided.empty:
        return _none()
    count = _counted(ided, population)
    per = count.groupby("official", sort=False)["u"].sum()
    # each relative (not the official) against the rest of the family's codes
    rel = ided[ided["relative"] != ided["official"]].merge(count, on=["official", "code"])
    rest_u = per.reindex(pd.Index(rel["official"])).to_numpy() - np.where(
        rel["n"].to_numpy() == 1, rel["u"].to_numpy(), 0.0
    )
    others = (
        ided.groupby("official", sort=False)["relative"].size().reindex(pd.Index(rel["official"]))
    ).to_numpy()
    measured = others > 1  # the family has someone else with a code
    hit = (rel["n"].to_numpy() > 1)[measured]
    share, n = estimated_share(hit, np.clip(rest_u[measured], 0.0, 1.0))
    if share == 0.0:  # the places weigh nothing here: no family's codes are kept
        return FamilyPlaces(0.0, n, _none().of_official)
    return FamilyPlaces(share, n, _per_official(count, len(population), "fam_u"))


def _counted(ided: pd.DataFrame, population: Any) -> pd.DataFrame:
    """(official, code, n, u): how many of each family's members carry each code, and the
    share of ``population`` (codes, one per person or company) that is that code."""
    shares = pd.Series(population).value_counts(normalize=True)
    count = ided.groupby(["official", "code"], sort=False).size().rename("n").reset_index()
    count["u"] = count["code"].map(shares).fillna(0.0).to_numpy(dtype=float)
    return count


def _per_official(count: pd.DataFrame, population: int, column: str) -> pd.DataFrame:
    """Each family's codes, '|'-joined in order (``fam_regions``), and the share of the
    population that is one of them (``column``), kept within (0, 1)."""
    per = count.groupby("official", sort=False)["u"].sum().rename(column).to_frame()
    ordered = count.sort_values(["official", "code"], kind="stable")
    per["fam_regions"] = ordered.groupby("official", sort=False)["code"].agg(SEPARATOR.join)
    per[column] = per[column].clip(lower=1 / max(population, 1), upper=1 - 1e-6)
    return per[["fam_regions", column]]


def codes_of(ided: pd.DataFrame, population: Any, column: str) -> pd.DataFrame:
    """:func:`_per_official` of the family members ``ided`` (official, relative, code)
    against ``population``."""
    return _per_official(_counted(ided, population), len(population), column)


def estimated_share(hit: np.ndarray, u: np.ndarray) -> tuple[float, int]:
    """(share, n): from ``n`` members measured, each a hit or not with chance ``u`` by
    chance alone, the share of members who hit by descent. E[hits] = share * n + (1 - share)
    * sum(u), solved for the share and shrunk towards 0 by :data:`SHRINK_RELATIVES`."""
    n = len(hit)
    if not n:
        return 0.0, 0
    share = (float(np.sum(hit)) - float(np.sum(u))) / (n - float(np.sum(u)) + SHRINK_RELATIVES)
    return round(min(max(share, 0.0), MAX_SHARE), 4), n


def places_of(ids: pd.DataFrame, kin: pd.DataFrame, people: pd.DataFrame) -> FamilyPlaces:
    """:func:`family_places` of a screening: ``ids`` its officials' relatives (themselves
    included) with a valid ID number (official, relative, id_number: Screening.kin_ids),
    ``kin`` its kin rows, ``people`` the kin side's people (by key). The population whose
    codes are counted is every distinct valid ID number among those people: the same
    wherever the role holders are held (a registry elsewhere, on Spark)."""
    valid = filled(people["id_valid"], False).astype(bool).to_numpy()
    numbers = people["id_number"][valid].astype(str).drop_duplicates()
    ided = ids[["official", "relative"]].assign(
        code=ids["id_number"].astype(str).str.slice(0, REGION_DIGITS).to_numpy()
    )
    places = _measured(
        ided.drop_duplicates(["official", "relative"]).reset_index(drop=True),
        numbers.str.slice(0, REGION_DIGITS),
    )
    if places.share == 0.0:
        return places
    return replace(places, lift_of=relative_lift(places, kin, people))


def relative_lift(places: FamilyPlaces, kin: pd.DataFrame, people: pd.DataFrame) -> pd.Series:
    """The most the family's places could lift a link of each relative (person key) without
    a valid ID number of its own, over the families it belongs to (:func:`lift` of its kin
    rows): for the blocking of people rather than kin rows."""
    rows = kin[["official", "relative"]].drop_duplicates()
    cols = places.columns(rows["official"])
    cols["id_valid"] = people["id_valid"].reindex(pd.Index(rows["relative"])).to_numpy()
    by_row = pd.Series(
        np.maximum(lift(cols), address_lift(cols)), index=rows["relative"].to_numpy()
    )
    return by_row[by_row > 0].groupby(level=0).max()  # the others: none


def _none() -> FamilyPlaces:
    empty = pd.DataFrame({"fam_regions": pd.Series(dtype=object), "fam_u": pd.Series(dtype=float)})
    return FamilyPlaces(0.0, 0, empty)


def finite(value: Any) -> TypeGuard[float]:
    """A number of bits that is given (a float, not NaN nor infinite)."""
    return isinstance(value, float) and math.isfinite(value)


def _applies(fam: Any, same: Any, fam_id_valid: Any, id_valid: Any, blind: Any) -> bool:
    """The family's codes are known and weighed (not only the companies' counties), the
    relative has no valid number, the other side a weighable one."""
    return isinstance(fam, str) and finite(same) and not fam_id_valid and id_valid and not blind


def family_reasons(x: dict[str, Any], y: dict[str, Any]) -> list[tuple[str, float]]:
    """The family-place reason of one pair of records (as :func:`family_evidence` gives it
    for many): where one side is a relative without a valid ID number whose family's codes
    are known and the other carries a valid number."""
    out: list[tuple[str, float]] = []
    for a, b in ((x, y), (y, x)):
        fam = a.get("fam_regions")
        if not _applies(
            fam,
            a.get("fam_same"),
            is_yes(a.get("id_valid")),
            is_yes(b.get("id_valid")),
            is_yes(b.get("fam_blind")),
        ):
            continue
        code = str(b.get("id_number"))[:REGION_DIGITS]
        if code in str(fam).split(SEPARATOR):
            out.append((SAME_LABEL, float(a["fam_same"])))
        else:
            out.append((OTHER_LABEL, float(a["fam_other"])))
    return out


def is_yes(value: Any) -> bool:
    """A yes/no cell as a bool, a missing one (None, NaN, pd.NA) as no."""
    if value is None:
        return False
    try:
        if bool(pd.isna(value)):
            return False
    except (TypeError, ValueError):  # a list or array: not a flag
        return False
    return bool(value)


def weighable(m: pd.DataFrame) -> np.ndarray:
    """Rows whose valid ID number's region may be weighed against a family's (not one a
    request gave: ``fam_blind``)."""
    valid = filled(m["id_valid"], False).astype(bool).to_numpy()
    if "fam_blind" in m:
        valid = valid & ~filled(m["fam_blind"], False).astype(bool).to_numpy()
    return valid


def family_evidence(a: pd.DataFrame, b: pd.DataFrame) -> list[tuple[np.ndarray, str, np.ndarray]]:
    """(which pairs, reason, log-odds) of the family's places, pairs (a[i], b[i]), both ways."""

    def where(p: pd.DataFrame, q: pd.DataFrame) -> tuple[np.ndarray, np.ndarray] | None:
        if "fam_regions" not in p:
            return None
        fam = p["fam_regions"].to_numpy(dtype=object)
        mine = filled(p["id_valid"], False).astype(bool).to_numpy()
        known = np.isfinite(p["fam_same"].to_numpy(dtype=float))  # not only the counties
        at = np.flatnonzero(pd.notna(fam) & known & ~mine & weighable(q))
        ids = q["id_number"].to_numpy(dtype=object)[at]
        pairs = zip(ids, region_lists(fam[at]), strict=True)
        return at, np.array([str(i)[:REGION_DIGITS] in f for i, f in pairs], dtype=bool)

    return both_ways(a, b, where, ("fam_same", SAME_LABEL), ("fam_other", OTHER_LABEL))


def both_ways(
    a: pd.DataFrame,
    b: pd.DataFrame,
    where: Callable[[pd.DataFrame, pd.DataFrame], tuple[np.ndarray, np.ndarray] | None],
    same: tuple[str, str],
    other: tuple[str, str],
) -> list[tuple[np.ndarray, str, np.ndarray]]:
    """(which pairs, reason, log-odds) of a family evidence, pairs (a[i], b[i]), with the
    relative on either side: ``where(p, q)`` gives the pairs it applies to (positions) and
    whether q's place is among p's family's, or None; ``same`` and ``other``: the column
    of p holding the bits of each outcome, and its reason."""
    n = len(a)
    hit, miss = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    hit_bits, miss_bits = np.zeros(n), np.zeros(n)
    for p, q in ((a, b), (b, a)):
        found = where(p, q)
        if found is None or not len(found[0]):
            continue
        at, inside = found
        hit[at[inside]] = True
        miss[at[~inside]] = True
        hit_bits[at] += np.where(inside, p[same[0]].to_numpy(dtype=float)[at], 0.0)
        miss_bits[at] += np.where(inside, 0.0, p[other[0]].to_numpy(dtype=float)[at])
    return [(hit, same[1], hit_bits), (miss, other[1], miss_bits)]


def _lift(m: pd.DataFrame, column: str) -> np.ndarray:
    """The positive bits of ``column`` of each row of ``m`` without a valid number, else 0."""
    if column not in m:
        return np.zeros(len(m))
    bits_same = m[column].to_numpy(dtype=float)
    no_id = ~filled(m["id_valid"], False).astype(bool).to_numpy()
    out: np.ndarray = np.where(no_id & np.isfinite(bits_same) & (bits_same > 0), bits_same, 0.0)
    return out


def lift(m: pd.DataFrame) -> np.ndarray:
    """The most the family's places could add to each row of ``m`` against a holder with a
    valid ID number: the same-code bits of a row without a valid number of its own, else 0."""
    return _lift(m, "fam_same")


def address_lift(m: pd.DataFrame) -> np.ndarray:
    """The most the companies' counties could add to each row of ``m`` (identity.addresses)
    against a holder whose company's county is known: the same-county bits of a row without
    a valid ID number of its own, else 0."""
    return _lift(m, "fam_addr_same")


def in_county(m: pd.DataFrame) -> np.ndarray:
    """Holder rows whose company's county may be weighed: known, and the row's own ID number
    not weighable (whose region says more, :func:`weighable`)."""
    if COUNTY not in m:
        return np.zeros(len(m), dtype=bool)
    out: np.ndarray = m[COUNTY].notna().to_numpy() & ~weighable(m)
    return out


def family_headroom(m: pd.DataFrame, other: pd.DataFrame) -> np.ndarray:
    """The most the family's places (and the companies' counties) could add to each row of
    ``m`` against some row of ``other`` (the blocking's viability must not prune a pair this
    evidence lifts). A pair is weighed by one of the two (a holder's own number, else its
    company's county), so a row's headroom is the larger."""
    out = np.zeros(len(m))
    if bool(weighable(other).any()):
        out += lift(m)
    if bool(in_county(other).any()):
        out = np.maximum(out, address_lift(m))
    if "fam_same" in other:
        best = float(lift(other).max(initial=0.0))
        out += np.where(weighable(m), best, 0.0)
    if "fam_addr_same" in other:
        best = float(address_lift(other).max(initial=0.0))
        out += np.where(in_county(m), best, 0.0)
    return out


def described(places: FamilyPlaces) -> dict[str, Any]:
    """The learnt numbers as run.json keeps them."""
    return {
        "share": places.share,
        "relatives": places.relatives,
        "address_share": places.address_share,
        "address_relatives": places.address_relatives,
    }


def region_lists(fam: np.ndarray) -> list[frozenset[str]]:
    """Each family's codes ('|'-joined) as a set, split once per distinct family."""
    split: dict[str, frozenset[str]] = {}
    return [split.setdefault(f, frozenset(f.split(SEPARATOR))) for f in (str(v) for v in fam)]
