"""A split across the year end, and 罗湖's 两年规划 (two pieces in consecutive years within
100万): the window on its last day and the day after, the plan at its ceiling and over it."""

from __future__ import annotations

import pandas as pd
import pytest

from integrity.load.dataset import load_dataset
from integrity.policy import load_profile
from integrity.rules.split_bid import SplitBidSettings, together, two_year_plan
from integrity.scan import run_rules
from tests.conftest import STAFF_HEADER, STAFF_ROWS, WriteCsv


def settings(**update: object) -> SplitBidSettings:
    base = load_profile("longgang-2023").settings("split_bid")
    assert isinstance(base, SplitBidSettings)
    return base.model_copy(update=update)


def piece(day: str, amount: float = 400_000) -> dict[str, object]:
    when = pd.Timestamp(day)
    return {"_when": when, "_year": when.year, "amount": amount, "project_category": "工程类"}


@pytest.mark.parametrize(
    ("first", "second", "days", "grouped"),
    [
        ("2024-03-01", "2024-12-30", 60, True),  # one year: always
        ("2023-12-01", "2024-01-30", 60, True),  # 60 days apart, across the year end
        ("2023-12-01", "2024-01-31", 60, False),  # 61 days
        ("2023-01-01", "2024-12-31", 730, True),  # 罗湖: any two consecutive years
        ("2022-12-31", "2024-01-01", 730, False),  # two years apart
    ],
)
def test_the_window(first: str, second: str, days: int, grouped: bool) -> None:
    window = settings(across_year_days=days)
    assert together(piece(first), piece(second), window) is grouped
    assert together(piece(second), piece(first), window) is grouped


def test_the_two_year_plan_at_its_ceiling_and_over_it() -> None:
    plan = settings(two_year_plan_max=1_000_000)
    pair = pd.DataFrame([piece("2023-05-10"), piece("2024-05-20")])
    assert two_year_plan(plan, pair, 1_000_000.0)
    assert not two_year_plan(plan, pair, 1_000_000.01)
    same_year = pd.DataFrame([piece("2024-01-10"), piece("2024-05-20")])
    assert not two_year_plan(plan, same_year, 900_000.0)
    three = pd.DataFrame([piece("2023-05-10"), piece("2023-09-10"), piece("2024-05-20")])
    assert not two_year_plan(plan, three, 900_000.0)
    assert not two_year_plan(settings(), pair, 900_000.0)  # only where a plan exists


def test_two_suppliers_without_a_supplier_table_are_not_related(write_csv: WriteCsv) -> None:
    """A ledger with no supplier tables: two suppliers of similar projects have no known role
    holders, so nothing relates them (and asking must not fail)."""
    write_csv("staff.csv", STAFF_HEADER, STAFF_ROWS)
    root = write_csv(
        "projects.csv",
        ["项目编号", "项目名称", "项目类别", "金额", "社区", "签约日期", "承接单位"],
        [
            [
                "S1",
                "翠竹社区长者助餐服务一期",
                "服务类",
                300000,
                "翠竹社区",
                "2024-03-01",
                "甲公司",
            ],
            [
                "S2",
                "翠竹社区长者助餐服务二期",
                "服务类",
                300000,
                "翠竹社区",
                "2024-04-01",
                "乙公司",
            ],
        ],
    )
    findings, runs = run_rules(load_dataset(root), load_profile("longgang-2023"), ["split_bid"])
    assert runs[0].status == "run" and findings == []


def test_a_chain_of_year_ends_is_not_one_job_over_three_years(write_csv: WriteCsv) -> None:
    """December, January, December, January: each pair across a year end is close, but the
    chain is no single job: no piece of it is joined beyond two years."""
    write_csv("staff.csv", STAFF_HEADER, STAFF_ROWS)
    days = ["2022-12-20", "2023-01-10", "2023-12-28", "2024-01-05"]
    root = write_csv(
        "projects.csv",
        ["项目编号", "项目名称", "项目类别", "金额", "社区", "签约日期", "承接单位", "统一社会信用代码"],
        [
            [f"Y{i}", "翠竹社区长者助餐服务", "服务类", 150000, "翠竹社区", d, "深圳市恒信社工服务中心", "91440300MA5F8KXK0N"]
            for i, d in enumerate(days, 1)
        ],
    )  # fmt: skip
    findings, _ = run_rules(load_dataset(root), load_profile("longgang-2023"), ["split_bid"])
    assert findings == []  # no two neighbours reach the 50万 cap: 2 × 15万


def test_the_two_year_plan_is_a_works_route() -> None:
    plan = settings(two_year_plan_max=1_000_000)
    services = pd.DataFrame([piece("2023-05-10"), piece("2024-05-20")]).assign(
        project_category="服务类"
    )
    works = services.assign(project_category="工程类")
    assert two_year_plan(plan, works, 900_000.0)
    assert not two_year_plan(plan, services, 900_000.0)
