"""Birth years as evidence of who is who: the years a row's kin imply, and an office only an
adult may hold.

A row without a birth date of its own still has years it can have been born in: those its kin
rows imply (a son declared by a father born in 1973, screening.tables.implied_births:
``born_lo``/``born_hi``), and, for a holder of an adult's office, every year up to the one
that made him or her an adult by the data's last date (``adult_by``). Only a conflict counts
(scoring._others): a range that fits says little.

A company's directors, supervisors and senior managers must have full civil capacity (公司法
第一百七十八条: 无民事行为能力或者限制民事行为能力的人 may not hold them), and its legal
representative is one of its directors or managers (第十条); a person in charge (负责人) of a
branch or an organisation is an adult too. A holder of such an office without a birth date of
his or her own was therefore born some eighteen years before the data's last date at the
latest (:func:`adult_floor`). Where the other side of a name link was born after that year —
an official's declared son of eight named as a company's legal representative — the two are
all but certainly different people: a true match shows it only when a birth date was typed
wrong.

Shareholders (股东) may be minors (a share inherited), and a contact person may be anyone: their
rows carry no floor. A person holding several roles in one organisation is one person, so
the floor of one adult office holds for all of his or her rows there. The data's last date is
the latest date of its projects (the ledger's own dates, never the clock), with
:data:`GRACE_YEARS` for a registry extracted after it and for years counted from a birth year.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

# the offices whose holder must be an adult (roles as integrity.load.schema normalises them)
ADULT_ROLES = frozenset({"法定代表人", "负责人", "董事", "监事", "经理", "财务负责人"})
ADULT_AGE = 18
# years allowed beyond the data's last date: a registry extracted later than the ledger's
# last entry, a birthday later in the year than the date
GRACE_YEARS = 2
# a holder row's column: the latest birth year its office allows (missing where none)
ADULT_BY = "adult_by"
LABEL = "按出生年份在登记任职时未成年（该职务须由成年人担任）"


def adult_floor(last_year: float | None) -> float | None:
    """The latest birth year of an adult in the data whose last date falls in ``last_year``
    (None where the data has no date)."""
    if last_year is None or not np.isfinite(last_year):
        return None
    return float(last_year - ADULT_AGE + GRACE_YEARS)


def last_year(projects: pd.DataFrame | None) -> float | None:
    """The year of the latest date among the projects' date columns (None without one)."""
    if projects is None or projects.empty:
        return None
    years = [
        pd.to_datetime(projects[c], errors="coerce").max()
        for c in projects.columns
        if pd.api.types.is_datetime64_any_dtype(projects[c])
    ]
    known = [y.year for y in years if pd.notna(y)]
    return float(max(known)) if known else None


def with_adult_floor(holders: pd.DataFrame, born_by: float | None) -> pd.DataFrame:
    """``holders`` with :data:`ADULT_BY`: ``born_by`` for each row whose person (key) holds
    an adult office in the row's organisation and has no birth date; missing elsewhere."""
    out = holders.copy(deep=False)  # a column added, none changed: the rows are shared
    if born_by is None or holders.empty:
        out[ADULT_BY] = np.nan
        return out
    office = out["role"].astype(str).isin(ADULT_ROLES)
    person = [out["org_key"], out["key"]]
    adult = office.groupby(person, sort=False, dropna=False).transform("any").to_numpy(dtype=bool)
    unborn = out["birth"].isna().to_numpy() if "birth" in out else np.ones(len(out), bool)
    out[ADULT_BY] = np.where(adult & unborn, born_by, np.nan)
    return out


def minors(lo: np.ndarray, adult_by: np.ndarray) -> np.ndarray:
    """Pairs where one side was born (at the earliest, ``lo``) after the other side's office
    allows (``adult_by``); NaN on either side compares false."""
    with np.errstate(invalid="ignore"):
        out: np.ndarray = lo > adult_by
    return out


def years(m: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(earliest, latest) birth year of each row: its own birth date's year, else the range
    its kin rows imply (``born_lo``/``born_hi``), else NaN (NaN compares false: no
    conflict)."""
    year = pd.to_datetime(m["birth"], errors="coerce").dt.year.to_numpy(dtype=float)
    lo = m["born_lo"].to_numpy(dtype=float) if "born_lo" in m else np.full(len(m), np.nan)
    hi = m["born_hi"].to_numpy(dtype=float) if "born_hi" in m else np.full(len(m), np.nan)
    known = ~np.isnan(year)
    return np.where(known, year, lo), np.where(known, year, hi)


def adult_by(m: pd.DataFrame) -> np.ndarray:
    """Each row's latest birth year its office allows (:data:`ADULT_BY`), else NaN."""
    return m[ADULT_BY].to_numpy(dtype=float) if ADULT_BY in m else np.full(len(m), np.nan)


def year_of(value: Any) -> float:
    """A year cell as float, NaN where missing."""
    return math.nan if _missing(value) else float(value)


def years_of(x: dict[str, Any]) -> tuple[float, float]:
    """:func:`years` of one row (a record, as the small-pairs scoring holds it)."""
    birth: Any = x.get("birth")
    if not _missing(birth):
        year = float(pd.Timestamp(birth).year)
        return year, year
    return year_of(x.get("born_lo")), year_of(x.get("born_hi"))


def _missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False
