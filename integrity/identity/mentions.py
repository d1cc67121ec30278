"""Person mentions made comparable: names normalised, pinyin, birth date and sex (from a
valid ID number where given), and how common each name is (the u of a name match).

The resolver (:mod:`.scoring`) and the blocking (:mod:`.blocking`) read mentions as these
functions prepare them; the screening's tables prepare theirs once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from integrity.identity.ids import ric_gender
from integrity.identity.names import (
    COMMON_FULL_NAMES,
    TRANSLITERATED_NAME_SHARE,
    person_name,
    person_names,
    pinyin_key,
    split_surname,
    surname_share,
)

MENTION_COLUMNS = ["name", "id_number", "id_valid", "birth_date", "gender", "phone"]


def _by_value(series: pd.Series, fn: Callable[[str], Any]) -> pd.Series:
    """``fn`` applied once per distinct value (names repeat: 张伟 is computed once)."""
    values = series.dropna().unique()
    return series.map({v: fn(str(v)) for v in values})


def pinyin_of(names: pd.Series) -> pd.Series:
    """Pinyin keys of normalised names (pypinyin costs about 0.1 ms a name: computed only
    where a homophone could matter, once per distinct name)."""
    return _by_value(names, pinyin_key)


def prepare(mentions: pd.DataFrame, *, with_pinyin: bool = True) -> pd.DataFrame:
    """Normalised name, pinyin, birth date and sex (from a valid ID number where given).
    Columns already prepared (a frame that went through here) are kept as they are; without
    ``with_pinyin`` the pinyin is left for :func:`score` to compute on the pairs it sees."""
    m = mentions.copy()
    for col in MENTION_COLUMNS:
        if col not in m:
            m[col] = False if col == "id_valid" else None
    if not {"name_nfkc", "name_norm"} <= set(m.columns):
        values = m["name"].dropna().unique()
        written, comparable = person_names([str(v) for v in values])
        m["name_nfkc"] = m["name"].map(dict(zip(values, written, strict=True)))
        m["name_norm"] = m["name"].map(dict(zip(values, comparable, strict=True)))
    if with_pinyin and "pinyin" not in m:
        m["pinyin"] = pinyin_of(m["name_norm"])
    if not {"birth", "sex"} <= set(m.columns):
        valid = m["id_valid"].fillna(False).astype(bool)
        ids = m["id_number"].where(valid)
        birth = pd.to_datetime(m["birth_date"], errors="coerce")
        # the ID number's birth date where the row gives none (or none that parses)
        gap = birth.isna() & ids.notna()
        if gap.any():
            born = pd.to_datetime(ids[gap].str.slice(6, 14), format="%Y%m%d", errors="coerce")
            birth = birth.fillna(born)
        m["birth"] = birth
        m["sex"] = filled(m["gender"], sex_from_ids(ids))
    return m


def filled(values: pd.Series, fill: Any) -> pd.Series:
    """``values.fillna(fill)`` with the result's type inferred explicitly (an object column
    left all NaN becomes float, as pandas 2 does silently and pandas 3 will not)."""
    with pd.option_context("future.no_silent_downcasting", True):
        return values.fillna(fill).infer_objects()


def sex_from_ids(ids: pd.Series) -> pd.Series:
    """男 or 女 from the 17th digit of 18-character ID numbers (ids.ric_gender, vectorised:
    every number here is a distinct value)."""
    values = ids.to_numpy(dtype=object)
    full = np.array([isinstance(v, str) and len(v) == 18 for v in values], dtype=bool)
    # as the per-value map gave it: NaN where there is no number, None where it tells nothing
    sex = np.full(len(ids), None, dtype=object)
    sex[pd.isna(values)] = np.nan
    if full.any():
        points = np.array(values[full].tolist(), dtype="<U18").view(np.uint32).reshape(-1, 18)
        digit = points[:, 16].astype(np.int64) - ord("0")
        ok = (digit >= 0) & (digit <= 9)
        at = np.flatnonzero(full)
        sex[at[ok & (digit % 2 == 1)]] = "男"
        sex[at[ok & (digit % 2 == 0)]] = "女"
        for i in at[~ok]:  # another digit than 0-9 (a full-width one): as ric_gender says
            sex[i] = ric_gender(values[i])
    return pd.Series(sex, index=ids.index)


@dataclass(frozen=True)
class NameCounts:
    """Names counted outside the frames :func:`name_frequencies` is given (a registry's
    people, counted where the registry is held): how many there are, and how many carry
    each given name."""

    given: pd.Series
    total: int


def name_frequencies(
    *frames: pd.DataFrame, column: str = "name_norm", more: NameCounts | None = None
) -> pd.Series:
    """How common each normalised name is: the u probability of an exact name match.

    A small district's data cannot tell a rare name from a common one by counting full names
    (王芳 and 张军海 may each appear once), so the share is composed: the surname's national
    share (names.SURNAME_SHARE) times the given name's share among the mentions (given names
    recur across surnames, so even a small dataset counts them), floored at one mention.
    ``column`` other than ``name_norm`` (e.g. pinyin) gives the plain share of the mentions.
    ``more``: names counted elsewhere, which the given names' shares include."""
    names = pd.concat([f[column] for f in frames], ignore_index=True).dropna()
    if column != "name_norm":
        counts = names.value_counts()
        return counts / counts.sum()
    # one pass over the distinct names (in order of appearance): the surname's national share
    # times the given name's share among the mentions (as NameShares counts it), floored for
    # the commonest full names
    codes, distinct = pd.factorize(names)
    parts = [split_surname(name) for name in distinct]
    per_name = np.bincount(codes, minlength=len(distinct))
    given_count = pd.Series(per_name, index=[given for _, given in parts]).groupby(level=0).sum()
    total = len(names)
    if more is not None:
        given_count = given_count.add(more.given, fill_value=0)
        total += more.total
    total = max(total, 1)
    given_share = (given_count / total).to_dict()
    unseen = 1 / total
    u = np.empty(len(distinct), dtype=float)
    for i, ((surname, given), name) in enumerate(zip(parts, distinct, strict=True)):
        u[i] = name_share(surname, given, name, float(given_share.get(given, unseen)))
    return pd.Series(u, index=np.asarray(distinct, dtype=object), dtype=float)


@dataclass(frozen=True)
class NameShares:
    """The given-name shares behind :func:`name_frequencies`, kept to estimate how common a
    name the data has never seen is (a name a reviewer types into the pre-award check)."""

    given: pd.Series
    total: int

    @classmethod
    def of(cls, names: pd.Series, more: NameCounts | None = None) -> NameShares:
        names = names.dropna()
        counts = _by_value(names, lambda n: split_surname(n)[1]).value_counts()
        total = len(names)
        if more is not None:
            counts = counts.add(more.given, fill_value=0)
            total += more.total
        total = max(total, 1)
        return cls(counts / total, total)

    def u(self, name: str) -> float:
        surname, given = split_surname(name)
        return name_share(surname, given, name, float(self.given.get(given, 1 / self.total)))


def name_share(surname: str, given: str, name: str, given_share: float) -> float:
    """How common a full name is: the surname's national share times the given name's share
    among the mentions, floored for the commonest full names; a transliterated name (no
    surname) by its own share among the mentions, floored at TRANSLITERATED_NAME_SHARE: a rare
    first character times an almost unique rest would make a namesake look decisive."""
    if not surname:
        return max(given_share, TRANSLITERATED_NAME_SHARE)
    return max(surname_share(surname) * given_share, COMMON_FULL_NAMES.get(name, 0.0))


def normalised(name: Any) -> str | None:
    return None if name is None or pd.isna(name) else person_name(str(name))
