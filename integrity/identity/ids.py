"""Resident ID numbers (公民身份号码) and unified social credit codes (统一社会信用代码).

The arithmetic is python-stdnum's for one number. The batch path checks each distinct value
once, and the distinct values already in clean form (nearly all of them) in bulk with numpy;
the tests hold the bulk path to the scalar one and to stdnum.

A number whose check digit fails is kept as written but is not an identity key: the loader
marks it ``*_valid = False`` and lists it as a warning.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import date

import numpy as np
import pandas as pd
from stdnum.cn import ric

# first two digits of the address code: provinces, plus 81/82/83 for the residence permits of
# Hong Kong, Macao and Taiwan residents. stdnum's own place check requires the county code to
# have existed at the birth date, which rejects real numbers issued after a county was created
# (龙岗区 440307 dates from 1993, its residents born earlier carry it), so it is not used.
PROVINCES = frozenset(
    {11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46}
    | {50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83}
)
_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_ALPHABET = frozenset(_USCC_CHARS)
_USCC_VALUE = {c: i for i, c in enumerate(_USCC_CHARS)}
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_USCC_LOOKUP = np.zeros(256, dtype=np.int64)
for _c, _v in _USCC_VALUE.items():
    _USCC_LOOKUP[ord(_c)] = _v
_RIC_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
_RIC_CHECK = np.frombuffer(b"10X98765432", dtype=np.uint8)
_STRIP = re.compile(r"[\s\-_.·]")
_TODAY = date.today()


def clean_code(value: str) -> str:
    """Full-width to ASCII, separators and spaces removed, upper case."""
    if value.isascii() and value.isalnum():
        return value.upper()
    return _STRIP.sub("", unicodedata.normalize("NFKC", value)).upper()


def ric_15_to_18(number: str) -> str:
    """A legacy 15-digit number as the 18-digit number it became (born 19xx)."""
    body = number[:6] + "19" + number[6:]
    return body + ric.calc_check_digit(body + "0")


def ric_normalise(raw: str) -> tuple[str, str | None]:
    """(normalised number, problem) for one ID number as written; problem None if valid.

    Problems: ``format`` (not 15 or 18 digits), ``checksum``, ``birth_date``, ``region``.
    """
    number = clean_code(raw)
    if len(number) == 15 and number.isdigit():
        number = ric_15_to_18(number)
    if len(number) != 18 or not number[:17].isdigit() or number[17] not in "0123456789X":
        return number, "format"
    if number[17] != ric.calc_check_digit(number):
        return number, "checksum"
    try:  # stdnum's get_birth_date re-cleans the number first: ten times slower in bulk
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return number, "birth_date"
    if born > _TODAY or born.year < 1880:
        return number, "birth_date"
    if int(number[:2]) not in PROVINCES:
        return number, "region"
    return number, None


def uscc_normalise(raw: str) -> tuple[str, str | None]:
    """(normalised code, problem) for one USCC as written; problem None if valid."""
    code = clean_code(raw)
    if len(code) != 18 or not code[:8].isdigit() or not set(code) <= USCC_ALPHABET:
        return code, "format"
    # GB 32100-2015 MOD 31, as stdnum.cn.uscc.calc_check_digit (which re-cleans its input and
    # is ten times slower in bulk; the tests check the two agree)
    total = sum(_USCC_VALUE[c] * w for c, w in zip(code, _USCC_WEIGHTS, strict=False))
    return code, None if _USCC_CHARS[(31 - total) % 31] == code[17] else "checksum"


def _matrix(codes: np.ndarray) -> np.ndarray:
    """18-character ASCII codes as an (n, 18) array of byte values."""
    return np.frombuffer("".join(codes.tolist()).encode("ascii"), dtype=np.uint8).reshape(-1, 18)


def _ric_fast(codes: np.ndarray) -> np.ndarray:
    """Problems of already clean 18-character numbers, all at once (same checks as
    :func:`ric_normalise`, which the tests hold it to)."""
    m = _matrix(codes)
    digits = m[:, :17].astype(np.int64) - ord("0")
    check = _RIC_CHECK[(digits @ _RIC_WEIGHTS) % 11]
    year = digits[:, 6:10] @ np.array([1000, 100, 10, 1])
    month = digits[:, 10:12] @ np.array([10, 1])
    day = digits[:, 12:14] @ np.array([10, 1])
    born = pd.to_datetime(
        pd.DataFrame({"year": year, "month": month, "day": day}), errors="coerce"
    ).to_numpy()
    born_ok = ~pd.isna(born) & (year >= 1880) & (born <= np.datetime64(_TODAY))
    region_ok = np.isin(digits[:, 0] * 10 + digits[:, 1], list(PROVINCES))
    problems = np.full(len(codes), None, dtype=object)
    problems[~region_ok] = "region"
    problems[~born_ok] = "birth_date"
    problems[check != m[:, 17]] = "checksum"  # the first failing check wins, as in ric_normalise
    return problems


def _uscc_fast(codes: np.ndarray) -> np.ndarray:
    vals = _USCC_LOOKUP[_matrix(codes)]
    check = (31 - (vals[:, :17] @ np.array(_USCC_WEIGHTS)) % 31) % 31
    problems = np.full(len(codes), None, dtype=object)
    problems[check != vals[:, 17]] = "checksum"
    return problems


def _normalise_column(
    values: pd.Series,
    check: Callable[[str], tuple[str, str | None]],
    fast: tuple[str, Callable[[np.ndarray], np.ndarray]],
) -> pd.DataFrame:
    """Each distinct value checked once: the clean ones in bulk, the rest one by one."""
    text = values.astype("string")
    present = (text.notna() & (text.str.len() > 0)).to_numpy(dtype=bool)
    codes, uniques = pd.factorize(text[present])
    distinct = uniques.to_numpy(dtype=object)
    clean_pattern, bulk = fast
    is_clean = pd.Series(distinct, dtype="string").str.fullmatch(clean_pattern).to_numpy(bool)
    normalised = distinct.copy()
    problems = np.full(len(distinct), None, dtype=object)
    if is_clean.any():
        problems[is_clean] = bulk(distinct[is_clean])
    for i in np.flatnonzero(~is_clean):
        normalised[i], problems[i] = check(distinct[i])
    normalised = np.concatenate([normalised, np.array([None], dtype=object)])
    problems = np.concatenate([problems, np.array([None], dtype=object)])
    index = np.full(len(values), len(distinct), dtype=np.int64)
    index[present] = codes
    out = pd.DataFrame({"value": normalised[index], "problem": problems[index]}, index=values.index)
    out["valid"] = present & out["problem"].isna().to_numpy()
    return out


def normalise_ric(values: pd.Series) -> pd.DataFrame:
    """Clean, convert 15->18 and check a column of ID numbers.

    Returns a frame on the same index: ``value`` (normalised, or cleaned if it cannot be),
    ``problem`` (None or a code of :func:`ric_normalise`) and ``valid``. A missing number is
    missing, not valid, and has no problem.
    """
    return _normalise_column(values, ric_normalise, (r"[0-9]{17}[0-9X]", _ric_fast))


def normalise_uscc(values: pd.Series) -> pd.DataFrame:
    """Clean and check a column of USCCs; same shape of result as :func:`normalise_ric`."""
    return _normalise_column(
        values, uscc_normalise, (r"[0-9]{8}[0-9A-HJ-NP-RT-UW-Y]{10}", _uscc_fast)
    )


def ric_birth_date(number: str) -> date | None:
    """Birth date from a valid 18-digit number."""
    try:
        return ric.get_birth_date(number)
    except ric.ValidationError:
        return None


def ric_gender(number: str) -> str | None:
    """男 or 女 from the 17th digit of an 18-digit number."""
    if len(number) != 18 or not number[16].isdigit():
        return None
    return "男" if int(number[16]) % 2 else "女"
