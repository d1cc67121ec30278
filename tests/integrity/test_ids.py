import random
import warnings

import numpy as np
import pandas as pd
import pytest
from stdnum.cn import ric, uscc

from integrity.identity.ids import (
    normalise_ric,
    normalise_uscc,
    ric_15_to_18,
    ric_gender,
    ric_normalise,
    uscc_normalise,
)
from integrity.identity.mentions import filled

VALID = "440307199001011232"  # check digit computed by stdnum below


def with_check(body17: str) -> str:
    return body17 + ric.calc_check_digit(body17 + "0")


@pytest.mark.parametrize(
    ("written", "expected", "problem"),
    [
        (with_check("44030719900101123"), with_check("44030719900101123"), None),
        (with_check("44030719800202001").lower(), with_check("44030719800202001"), None),
        ("４４０３０７１９９００１０１１２３２", VALID, None),  # full-width digits
        (" 4403 0719 9001 0112 32 ", VALID, None),  # spaces typed in
        ("440307900101123", with_check("44030719900101123"), None),  # legacy 15 digits
        ("440307199001011233", "440307199001011233", "checksum"),
        (with_check("44030719901301123"), with_check("44030719901301123"), "birth_date"),
        (with_check("99030719900101123"), with_check("99030719900101123"), "region"),
        ("4403071990010112", "4403071990010112", "format"),
        ("44030719900101123A", "44030719900101123A", "format"),
    ],
)
def test_resident_id_numbers(written: str, expected: str, problem: str | None) -> None:
    assert with_check("44030719900101123") == VALID
    assert ric_normalise(written) == (expected, problem)


def test_15_digit_conversion_matches_stdnum_check_digit() -> None:
    converted = ric_15_to_18("440307900101123")
    assert converted.startswith("44030719900101123")
    assert converted[-1] == ric.calc_check_digit(converted)
    # stdnum's validate() rejects it only for its place check: 龙岗区 (440307) was created in
    # 1993, after this holder's birth, which real numbers issued later do not care about
    with pytest.raises(ric.InvalidComponent):
        ric.validate(converted)
    assert ric_normalise(converted) == (converted, None)


def test_batch_agrees_with_stdnum_on_random_numbers() -> None:
    rng = random.Random(7)
    numbers = []
    for _ in range(2000):
        body = f"44{rng.randint(0, 9999):04d}{rng.randint(1940, 2010)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randint(0, 999):03d}"
        check = ric.calc_check_digit(body + "0")
        if rng.random() < 0.3:
            check = rng.choice("0123456789X")
        numbers.append(body + check)
    out = normalise_ric(pd.Series(numbers))
    # stdnum's validate also checks the county code against birth dates; compare the checksum
    assert out["valid"].tolist() == [n[-1] == ric.calc_check_digit(n) for n in numbers]


def test_batch_keeps_missing_as_missing() -> None:
    out = normalise_ric(pd.Series([None, "", VALID]))
    assert out["valid"].tolist() == [False, False, True]
    assert out["problem"].isna().tolist() == [True, True, True]


def test_gender_from_number() -> None:
    assert ric_gender(VALID) == "男"  # 17th digit 3 is odd


def make_uscc(body17: str) -> str:
    return body17 + uscc.calc_check_digit(body17 + "0")


@pytest.mark.parametrize(
    ("written", "problem"),
    [
        (make_uscc("91440300MA5DC6QX4"), None),
        (make_uscc("91440300MA5DC6QX4").lower(), None),
        ("９１４４０３００ＭＡ５ＤＣ６ＱＸ４" + uscc.calc_check_digit("91440300MA5DC6QX40"), None),
        (
            "91440300MA5DC6QX4"
            + ("0" if uscc.calc_check_digit("91440300MA5DC6QX40") != "0" else "1"),
            "checksum",
        ),
        ("91440300MA5DC6QX", "format"),
        ("91440300MA5DC6QXIO", "format"),  # I and O are not in the alphabet
    ],
)
def test_uscc(written: str, problem: str | None) -> None:
    assert uscc_normalise(written)[1] == problem


def test_uscc_batch_agrees_with_stdnum() -> None:
    rng = random.Random(3)
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    codes = []
    for _ in range(1000):
        body = "".join(rng.choice("0123456789") for _ in range(8))
        body += "".join(rng.choice(alphabet) for _ in range(9))
        codes.append(body + rng.choice(alphabet))
    out = normalise_uscc(pd.Series(codes))
    assert out["valid"].tolist() == [uscc.is_valid(c) for c in codes]


def test_bulk_path_agrees_with_the_scalar_definition() -> None:
    rng = random.Random(11)
    numbers = []
    for _ in range(3000):
        region = rng.choice(["44", "11", "99", "00", "81"])
        body = f"{region}{rng.randint(0, 9999):04d}{rng.randint(1870, 2030)}{rng.randint(0, 13):02d}{rng.randint(0, 32):02d}{rng.randint(0, 999):03d}"
        check = (
            ric.calc_check_digit(body + "0") if rng.random() < 0.7 else rng.choice("0123456789X")
        )
        number = body + check
        fullwidth = "".join(chr(ord(c) + 0xFEE0) for c in number)
        numbers.append(
            rng.choice([number, number.lower(), " " + number, number[:6] + number[8:17], fullwidth])
        )
    out = normalise_ric(pd.Series(numbers))
    expected = [ric_normalise(n) for n in numbers]
    assert out["value"].tolist() == [e[0] for e in expected]
    assert out["problem"].tolist() == [e[1] for e in expected]


def test_uscc_bulk_path_agrees_with_the_scalar_definition() -> None:
    rng = random.Random(5)
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXYIOZSV"
    codes = ["".join(rng.choice(alphabet) for _ in range(18)) for _ in range(2000)]
    codes += [make_uscc("91440300MA5DC6QX4"), make_uscc("91440300MA5DC6QX4").lower()]
    codes += ["".join(chr(ord(c) + 0xFEE0) for c in make_uscc("91440300MA5DC6QX4"))]
    out = normalise_uscc(pd.Series(codes))
    assert out["problem"].tolist() == [uscc_normalise(c)[1] for c in codes]


@pytest.mark.parametrize(
    "column",
    [
        pd.Series([True, None, np.nan, pd.NA, np.True_, False, 1, 0, 2, "是"], dtype=object),
        pd.Series([True, False]),
        pd.Series([1.0, np.nan, 0.0]),
        pd.Series([True, None, False], dtype="boolean"),
        pd.Series([], dtype=object),
    ],
)
def test_a_flag_filled_reads_a_missing_one_as_no_and_the_rest_as_before(column: pd.Series) -> None:
    """As ``fillna(False).astype(bool)`` read them, whatever the dtype, and without the
    FutureWarning pandas gives for an object column's fillna."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        before = column.fillna(False).astype(bool).to_numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)
        got = filled(column, False).astype(bool).to_numpy()
    assert got.dtype == bool and got.tolist() == before.tolist()
