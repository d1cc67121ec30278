"""罗湖 拆开申报、合并实施: a declared package is reported as explained, not as a split."""

from __future__ import annotations

from integrity.load.dataset import load_dataset
from integrity.policy import load_profile
from integrity.scan import run_rules
from tests.conftest import STAFF_HEADER, STAFF_ROWS, WriteCsv

HEADER = ["项目编号", "项目名称", "项目类别", "金额", "街道", "社区", "签约日期", "承接单位", "统一社会信用代码", "合并实施批次"]  # fmt: skip


def rows(package: str | None) -> list[list[object]]:
    return [
        [f"L{i}", f"翠竹社区雨污分流改造第{n}包", "工程类", 480000, "翠竹街道", "翠竹社区",
         f"2024-05-{i + 10:02d}", "深圳市恒信市政工程有限公司", "91440300MA5F8KXK0N", package or ""]
        for i, n in ((1, "一"), (2, "二"), (3, "三"))
    ]  # fmt: skip


def run(write_csv: WriteCsv, package: str | None, policy: str) -> list[dict[str, object]]:
    write_csv("staff.csv", STAFF_HEADER, STAFF_ROWS)
    root = write_csv("projects.csv", HEADER, rows(package))
    findings, runs = run_rules(load_dataset(root), load_profile(policy), ["split_bid"])
    assert runs[0].status == "run", runs[0].reason
    return [f.to_dict() for f in findings]


def test_a_declared_package_is_explained_under_luohu(write_csv: WriteCsv) -> None:
    (finding,) = run(write_csv, "2024-翠竹-01", "luohu-2017")
    assert finding["severity"] == "low"
    assert finding["details"]["explained_declared_package"] is True
    assert "拆开申报、合并实施" in finding["explanation"]


def test_the_same_group_without_a_package_is_a_split(write_csv: WriteCsv) -> None:
    (finding,) = run(write_csv, None, "luohu-2017")
    assert finding["severity"] == "high"  # within 90 days, each at 96% of the 500,000 cap
    assert finding["details"]["explained_declared_package"] is False
    assert "化整为零" in finding["explanation"]


def test_other_programmes_do_not_accept_the_package_as_an_explanation(write_csv: WriteCsv) -> None:
    (finding,) = run(write_csv, "2024-翠竹-01", "nanshan-2020")
    assert finding["details"]["explained_declared_package"] is False
    assert finding["severity"] == "medium"  # within 90 days; 48% of the 1,000,000 cap each
