"""The thresholds stated as rules, at, just under and just over their value, and the date
windows on their first and last day: a mutant that moves a `<=` to `<` fails here."""

from __future__ import annotations

import pandas as pd
import pytest

from integrity.identity.keys import person_keys
from integrity.load.dataset import load_dataset
from integrity.policy import available_profiles, load_profile
from integrity.scan import run_rules
from tests.conftest import STAFF_HEADER, STAFF_ROWS, WriteCsv

SUPPLIER = ("深圳市龙岗区春晖社会工作服务中心", "52440307AAAAAAAA6X")
PROJECT_HEADER = ["项目编号", "项目名称", "项目类别", "金额", "街道", "社区", "签约日期", "承接单位",
                  "统一社会信用代码"]  # fmt: skip


@pytest.mark.parametrize(
    ("award", "flagged"),
    [
        ("2022-12-31", True),  # the day before the entry
        ("2023-01-01", False),  # its first day
        ("2024-06-30", False),  # its last day
        ("2024-07-01", True),  # the day after
    ],
)
def test_the_catalogue_window_on_its_first_and_last_day(
    write_csv: WriteCsv, award: str, flagged: bool
) -> None:
    write_csv("staff.csv", STAFF_HEADER, STAFF_ROWS)
    write_csv(
        "catalogue.csv",
        ["层级", "项目名称", "承接单位", "统一社会信用代码", "入库日期", "出库日期"],
        [["区级", "长者助餐服务", *SUPPLIER, "2023-01-01", "2024-06-30"]],
    )
    root = write_csv(
        "projects.csv",
        PROJECT_HEADER,
        [["C1", "长者助餐", "服务类", 200000, "坂田街道", "坂田社区", award, *SUPPLIER]],
    )
    findings, _ = run_rules(load_dataset(root), load_profile("longgang-2023"), ["off_catalogue"])
    assert bool(findings) is flagged


def _split(write_csv: WriteCsv, amounts: list[float], days: list[str]) -> list[dict[str, object]]:
    write_csv("staff.csv", STAFF_HEADER, STAFF_ROWS)
    rows = [
        [f"S{i}", f"翠竹社区路面修缮{n}期", "工程类", a, "翠竹街道", "翠竹社区", d,
         "深圳市恒信市政工程有限公司", "91440300MA5F8KXK0N"]
        for i, (n, a, d) in enumerate(zip("一二三", amounts, days, strict=False), 1)
    ]  # fmt: skip
    root = write_csv(
        "projects.csv",
        PROJECT_HEADER,
        rows,
    )
    findings, _ = run_rules(load_dataset(root), load_profile("longgang-2023"), ["split_bid"])
    return [f.to_dict() for f in findings]


def test_a_piece_at_the_cap_is_a_piece_and_a_total_at_the_cap_is_no_split(
    write_csv: WriteCsv,
) -> None:
    cap = 1_000_000
    (at_cap,) = _split(write_csv, [cap, 10_000], ["2024-03-01", "2024-03-05"])
    assert at_cap["project_ids"] == ["S1", "S2"]  # the piece of exactly the cap counts
    assert _split(write_csv, [600_000, 400_000], ["2024-03-01", "2024-03-05"]) == []  # = cap
    (over,) = _split(write_csv, [600_000, 400_000.01], ["2024-03-01", "2024-03-05"])
    assert over["details"]["total"] == 1_000_000.01
    assert _split(write_csv, [cap + 0.01, 10_000], ["2024-03-01", "2024-03-05"]) == []  # over_cap's


def test_close_days_on_its_last_day(write_csv: WriteCsv) -> None:
    # 90 days apart: close (high with a piece near the cap); 91: not close (medium)
    (close,) = _split(write_csv, [950_000, 100_000], ["2024-03-01", "2024-05-30"])
    assert close["details"]["span_days"] == 90 and close["severity"] == "high"
    (far,) = _split(write_csv, [950_000, 100_000], ["2024-03-01", "2024-05-31"])
    assert far["details"]["span_days"] == 91 and far["severity"] == "medium"


def test_an_invalid_id_number_is_never_an_identity_key() -> None:
    frame = pd.DataFrame(
        {
            "id_number": ["110101199003078515", "110101199003078516", None],
            "id_number_valid": [True, False, False],
            "name": ["王伟", "王伟", "李娜"],
        }
    )
    keys = person_keys(frame, "id_number", "name").tolist()
    assert keys[0] == "id:110101199003078515"
    assert keys[1] is not None and not keys[1].startswith("id:")  # the name, never the number
    assert keys[2] is not None and keys[2].startswith("name:")


CAPS = [
    (policy, category, cap)
    for policy in available_profiles()
    if "over_cap" in load_profile(policy).rules
    for category, cap in load_profile(policy).rules["over_cap"].caps.items()
]


@pytest.mark.parametrize(("policy", "category", "cap"), CAPS, ids=str)
def test_every_cap_of_every_profile_at_under_and_over(
    write_csv: WriteCsv, policy: str, category: str, cap: float
) -> None:
    """不超过: a project of exactly the cap is within it; one yuan more is over."""
    write_csv("staff.csv", STAFF_HEADER, STAFF_ROWS)
    amounts = {"UNDER": cap - 1, "AT": cap, "OVER": cap + 1}
    root = write_csv(
        "projects.csv",
        PROJECT_HEADER,
        [
            [pid, f"测试项目{pid}", category, amount, "龙城街道", "爱联社区", "2024-05-01", *SUPPLIER]
            for pid, amount in amounts.items()
        ],
    )  # fmt: skip
    findings, _ = run_rules(load_dataset(root), load_profile(policy), ["over_cap"])
    assert [f.project_ids for f in findings] == [["OVER"]]
