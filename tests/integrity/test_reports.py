"""The lists a screening hands on: the 第十六条 list and the recusal notices, by street."""

from __future__ import annotations

import json
from pathlib import Path

from openpyxl import load_workbook

from tests.conftest import FIXTURES
from tests.integrity.test_scan_cli import scan


def test_off_catalogue_list_has_one_row_per_project_by_street(tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, output = scan(str(FIXTURES / "cases" / "off_catalogue"), "--out", str(out))
    assert code == 0, output
    assert "第十六条报备清单.xlsx" in output
    wb = load_workbook(out / "第十六条报备清单.xlsx")
    assert wb.sheetnames == ["坂田街道"]
    rows = list(wb["坂田街道"].iter_rows(min_row=3, values_only=True))
    assert sorted(r[1] for r in rows) == ["C2", "C3", "C5", "C7", "C8", "C9"]
    header = next(wb["坂田街道"].iter_rows(min_row=2, max_row=2, values_only=True))
    assert header[:5] == ("社区", "项目编号", "项目名称", "承接单位", "签约日期")
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run["reports"] == ["第十六条报备清单.xlsx", "第十六条报备清单.csv"]


def test_recusal_notices_and_no_stale_list_from_an_earlier_run(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert scan(str(FIXTURES / "cases" / "off_catalogue"), "--out", str(out), "--quiet")[0] == 0
    assert (out / "第十六条报备清单.csv").exists()
    code, _ = scan(
        str(FIXTURES / "cases" / "related_supplier"),
        "--out",
        str(out),
        "--rules",
        "related_supplier",
        "--quiet",
    )
    assert code == 0
    assert not (out / "第十六条报备清单.csv").exists()
    lines = (out / "回避提示表.csv").read_text(encoding="utf-8-sig").splitlines()
    assert lines[0].startswith("人员编号,姓名,单位及职务,关系类别")
    assert {line.split(",")[0] for line in lines[1:]} == {"R1", "R2"}
