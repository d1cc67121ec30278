"""Turning cells into typed values, one whole column at a time.

Each coercer takes the column's cells as text (missing = NA) and returns the typed column and
a mask of the cells that were filled but could not be read; the loader turns that mask into
errors that name the row and column.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from graph import kinship
from integrity.load.schema import canonical_category

EXCEL_EPOCH = pd.Timestamp("1899-12-30")
# serials from 1900-01-01 to 2099-12-31; a bare number outside this is no date (before
# 1900-03-01 the days are one off Excel's, which counts a 1900-02-29 that never was)
_SERIAL_MIN = (pd.Timestamp("1900-01-01") - EXCEL_EPOCH).days
_SERIAL_MAX = (pd.Timestamp("2099-12-31") - EXCEL_EPOCH).days

_DATE_YMD = re.compile(
    r"^(?P<y>\d{4})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*日?"
    r"(?:[\sT]+\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"
)
_DATE_COMPACT = re.compile(r"^(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})$")
_SERIAL = re.compile(r"^\d{1,5}(?:\.\d+)?$")


@dataclass
class Coerced:
    values: pd.Series
    bad: pd.Series  # bool: filled but unreadable


def cell_text(value: Any) -> Any:
    """One cell as text; NA when empty. Excel numbers lose a trailing ``.0``."""
    if value is None or value is pd.NA or value is pd.NaT:
        return pd.NA
    if isinstance(value, float):
        if math.isnan(value):
            return pd.NA
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value).strip()
    return text if text else pd.NA


def column_text(raw: pd.Series) -> pd.Series:
    """A raw column as stripped strings with NA for empty cells."""
    if pd.api.types.infer_dtype(raw, skipna=False) == "string":
        text = raw.astype("string").str.strip()
    else:
        text = raw.map(cell_text).astype("string")
    return text.mask(text == "")


def nfkc(text: pd.Series) -> pd.Series:
    return text.str.normalize("NFKC")


def to_date(text: pd.Series) -> Coerced:
    s = nfkc(text).str.strip()
    parts = s.str.extract(_DATE_YMD)
    compact = s.str.extract(_DATE_COMPACT)
    parts = parts.fillna(compact)
    iso = parts["y"] + "-" + parts["m"].str.zfill(2) + "-" + parts["d"].str.zfill(2)
    stamp = pd.to_datetime(iso.astype(object), format="%Y-%m-%d", errors="coerce")
    is_serial = s.str.fullmatch(_SERIAL).fillna(False).astype(bool) & parts["y"].isna()
    serial = pd.to_numeric(s.where(is_serial), errors="coerce")
    # a bare 1900-2100 is a year someone typed, not a day in 1905
    plausible = (serial >= _SERIAL_MIN) & (serial <= _SERIAL_MAX) & ~serial.between(1900, 2100)
    serial = serial.where(plausible)
    from_serial = EXCEL_EPOCH + pd.to_timedelta(np.floor(serial), unit="D")
    stamp = stamp.fillna(from_serial)
    values = stamp.dt.normalize()
    return Coerced(values, text.notna() & values.isna())


_AMOUNT_NOISE = re.compile(r"[,，\s¥￥]|人民币|元$")


def to_amount(text: pd.Series, scale: float) -> Coerced:
    s = nfkc(text).str.replace(_AMOUNT_NOISE, "", regex=True)
    in_wan = s.str.endswith("万").fillna(False).astype(bool)
    s = s.str.removesuffix("万")
    number = pd.to_numeric(s, errors="coerce")
    factor = np.where(in_wan, 10_000.0, scale)
    values = (number * factor).round(2)
    bad = text.notna() & (values.isna() | (values < 0))
    return Coerced(values.where(~bad), bad)


def to_count(text: pd.Series) -> Coerced:
    number = pd.to_numeric(
        nfkc(text).str.replace(r"\s|人|个|户|年度|年", "", regex=True), errors="coerce"
    )
    ok = number.notna() & (number >= 0) & (number == np.floor(number))
    values = number.where(ok).astype("Int64")
    return Coerced(values, text.notna() & ~ok)


def to_percent(text: pd.Series) -> Coerced:
    s = nfkc(text).str.strip().str.removesuffix("%").str.strip()
    number = pd.to_numeric(s, errors="coerce")
    ok = number.notna() & (number >= 0) & (number <= 100)
    return Coerced(number.where(ok), text.notna() & ~ok)


_TRUE = {"是", "true", "t", "yes", "y", "1", "√", "✓", "已回避", "中选", "回避"}
_FALSE = {"否", "false", "f", "no", "n", "0", "×", "✗", "未回避", "未中选", "不回避"}


def to_bool(text: pd.Series) -> Coerced:
    key = nfkc(text).str.strip().str.lower()
    values = pd.Series(pd.NA, index=text.index, dtype="boolean")
    values[key.isin(_TRUE).fillna(False).astype(bool)] = True
    values[key.isin(_FALSE).fillna(False).astype(bool)] = False
    return Coerced(values, text.notna() & values.isna())


def to_category(text: pd.Series) -> Coerced:
    lookup = {v: canonical_category(v) for v in text.dropna().unique()}
    values = text.map(lookup, na_action="ignore").astype("string")
    return Coerced(values, text.notna() & values.isna())


_GENDER = {"男": "男", "女": "女", "男性": "男", "女性": "女", "m": "男", "f": "女"}
_GENDER |= {"male": "男", "female": "女"}


def to_gender(text: pd.Series) -> Coerced:
    key = nfkc(text).str.strip().str.lower()
    values = key.map(_GENDER, na_action="ignore").astype("string")
    return Coerced(values, text.notna() & values.isna())


def to_phone(text: pd.Series) -> Coerced:
    """Digits only, country prefix dropped; kept as written when no digits are left."""
    s = nfkc(text).str.replace(r"[\s\-()（）+]", "", regex=True)
    s = s.str.replace(r"^(?:0086|86)(?=1\d{10}$)", "", regex=True)
    ok = s.str.fullmatch(r"\d{5,20}").fillna(False).astype(bool)
    return Coerced(s.where(ok, text), text.notna() & ~ok)


def to_kin_term(text: pd.Series) -> Coerced:
    """A kin term as written (spaces removed); unknown terms are bad, never guessed."""
    key = text.str.replace(r"\s", "", regex=True)
    known = {t: kinship.is_known_term(t) for t in key.dropna().unique()}
    bad = key.map(known, na_action="ignore").eq(False).fillna(False).astype(bool)
    return Coerced(key, bad)


_STARS = {"五": 5, "四": 4, "三": 3, "二": 2, "一": 1}


def _star(cell: str) -> int | None:
    key = re.sub(r"\s|星级|星|社区|级", "", cell)
    if key and set(key) == {"★"}:
        return len(key)
    if key in _STARS:
        return _STARS[key]
    return int(key) if key.isdigit() and 1 <= int(key) <= 5 else None


def to_star(text: pd.Series) -> Coerced:
    """A community's star level as a number: 五星 / 五星级 / 5 / ★★★★★ -> 5."""
    key = nfkc(text)
    lookup = {v: _star(v) for v in key.dropna().unique()}
    values = key.map(lookup, na_action="ignore").astype("Int64")
    return Coerced(values, text.notna() & values.isna())


def to_text(text: pd.Series) -> Coerced:
    return Coerced(text, pd.Series(False, index=text.index))


SIMPLE_COERCERS: dict[str, Callable[[pd.Series], Coerced]] = {
    "date": to_date,
    "count": to_count,
    "percent": to_percent,
    "bool": to_bool,
    "category": to_category,
    "gender": to_gender,
    "phone": to_phone,
    "kin_term": to_kin_term,
    "star": to_star,
    "text": to_text,
    "name": to_text,
}
