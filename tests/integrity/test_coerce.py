import datetime as dt

import pandas as pd
import pytest

from integrity.load.coerce import column_text, to_amount, to_bool, to_category, to_date, to_percent


def one(fn, value, *args):  # type: ignore[no-untyped-def]
    result = fn(column_text(pd.Series([value], dtype=object)), *args)
    return result.values.iloc[0], bool(result.bad.iloc[0])


@pytest.mark.parametrize(
    "written",
    [
        "2024-03-05",
        "2024/3/5",
        "2024年3月5日",
        "2024.3.5",
        "20240305",
        "45356",
        45356,
        45356.0,
        "２０２４－０３－０５",
        "2024-03-05 00:00:00",
        dt.datetime(2024, 3, 5, 14, 30),
        dt.date(2024, 3, 5),
    ],
)
def test_dates_in_every_listed_form(written: object) -> None:
    value, bad = one(to_date, written)
    assert not bad
    assert value == pd.Timestamp("2024-03-05")


@pytest.mark.parametrize("written", ["2024-13-01", "2024-02-30", "下周一", "2024", "99999"])
def test_unreadable_dates_are_flagged(written: str) -> None:
    value, bad = one(to_date, written)
    assert bad and pd.isna(value)


def test_empty_date_is_missing_not_bad() -> None:
    value, bad = one(to_date, "")
    assert not bad and pd.isna(value)


@pytest.mark.parametrize(
    ("written", "scale", "expected"),
    [
        ("500000", 1.0, 500_000.0),
        ("1,234.50", 1.0, 1234.5),
        ("¥300元", 1.0, 300.0),
        ("62", 10_000.0, 620_000.0),  # a 万元 column
        ("49.99", 10_000.0, 499_900.0),
        ("12万", 1.0, 120_000.0),  # a 万 written in the cell of a yuan column
        ("３００", 1.0, 300.0),
    ],
)
def test_amounts(written: str, scale: float, expected: float) -> None:
    value, bad = one(to_amount, written, scale)
    assert not bad and value == expected


@pytest.mark.parametrize("written", ["十万", "abc", "-5", "1.2.3"])
def test_bad_amounts(written: str) -> None:
    _, bad = one(to_amount, written, 1.0)
    assert bad


@pytest.mark.parametrize(
    ("written", "expected"),
    [("是", True), ("否", False), ("1", True), ("FALSE", False), ("已回避", True)],
)
def test_booleans(written: str, expected: bool) -> None:
    assert one(to_bool, written) == (expected, False)


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("工程", "工程类"),
        ("服务类", "服务类"),
        ("实物类", "货物类"),
        ("货物", "货物类"),
        (" 服务 ", "服务类"),
    ],
)
def test_categories(written: str, expected: str) -> None:
    assert one(to_category, written) == (expected, False)


def test_unknown_category_is_bad() -> None:
    assert one(to_category, "其他类")[1]


@pytest.mark.parametrize(
    ("written", "expected", "bad"), [("35%", 35.0, False), ("35", 35.0, False), ("120", None, True)]
)
def test_share_ratio(written: str, expected: float | None, bad: bool) -> None:
    value, is_bad = one(to_percent, written)
    assert is_bad == bad
    assert pd.isna(value) if expected is None else value == expected
