"""Loading real files: every input quirk of data-contract.md and every error and warning path."""

from __future__ import annotations

import codecs
import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook

from integrity.errors import DatasetError, InputIssue
from integrity.load.dataset import load_dataset
from integrity.load.schema import TABLES, normalise_header
from tests.conftest import STAFF_HEADER, STAFF_ROWS, WriteCsv, csv_bytes

PROJECT_HEADER = ["项目编号", "项目名称", "项目类别", "金额"]


def errors_of(path: Path, **kw: bool) -> list[InputIssue]:
    with pytest.raises(DatasetError) as info:
        load_dataset(path, **kw)
    return [i for i in info.value.issues if i.level == "error"]


def assert_names(issue: InputIssue, file: str, row: int | None, column: str | None) -> None:
    assert issue.file == file
    assert issue.row == row
    assert issue.column == column
    text = issue.render()
    assert file in text
    if row is not None:
        assert f"第{row}行" in text and f"row {row}" in text
    if column is not None:
        assert f"「{column}」列" in text and f"column {column}" in text


# --------------------------------------------------------------------------- encodings


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16"])
def test_csv_encodings_are_detected(write_csv: WriteCsv, encoding: str) -> None:
    root = write_csv(
        "staff.csv",
        ["人员编号", "姓名", "工作单位"],
        [["S1", "欧阳子萱", "龙岗区坂田街道办事处"], ["S2", "單 偉", "布吉街道"]],
        encoding,
    )
    ds = load_dataset(root)
    staff = ds.table("staff")
    assert staff["name"].tolist() == ["欧阳子萱", "單 偉"]
    assert staff["organisation"].tolist() == ["龙岗区坂田街道办事处", "布吉街道"]
    recorded = ds.sources[0].encoding
    assert recorded == {"gbk": "gb18030", "utf-16": "utf-16"}.get(encoding, encoding)


def test_utf16_tab_separated_export(tmp_path: Path) -> None:
    text = "人员编号\t姓名\nS1\t张三\n"
    (tmp_path / "staff.txt").write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    assert load_dataset(tmp_path).table("staff")["name"].tolist() == ["张三"]


# --------------------------------------------------------------------------- headers and units


def test_english_and_chinese_headers_and_extra_columns(write_csv: WriteCsv) -> None:
    write_csv(
        "staff.csv", ["staff_id", "name", "备注", "street"], [["S1", "李四", "新入职", "龙城街道"]]
    )
    root = write_csv(
        "项目台账.csv",
        ["项目编号", "项目名称", "类别", "项目金额(元)", "经办科室"],
        [["P1", "路灯改造", "工程", "88000", "城建办"]],
    )
    ds = load_dataset(root)
    staff, projects = ds.table("staff"), ds.table("projects")
    assert staff.loc[2, "备注"] == "新入职"  # unknown columns are kept as attributes
    assert projects.loc[2, "amount"] == 88_000
    assert projects.loc[2, "category"] == "工程类"
    assert projects.loc[2, "经办科室"] == "城建办"
    assert {s.table for s in ds.sources} == {"staff", "projects"}


def test_no_header_stands_for_two_columns_of_one_table() -> None:
    for table in TABLES.values():
        seen: dict[str, str] = {}
        for column in table.columns:
            for header in (column.name, *column.aliases):
                key = normalise_header(header)
                assert seen.setdefault(key, column.name) == column.name, (table.name, header)


def test_procurement_ledger_headers(write_csv: WriteCsv) -> None:
    # a ledger exported from a procurement system: 中标单位, 中标金额, 项目类型, 社会信用代码
    write_csv("staff.csv", ["工号", "姓名", "所属街道"], [["S1", "李四", "龙城街道"]])
    root = write_csv(
        "项目台账.csv",
        ["项目编号", "项目名称", "项目类型", "中标金额（万元）", "中标单位", "社会信用代码"],
        [["P1", "路灯改造", "工程类", "8.8", "深圳市某某照明工程有限公司", ""]],
    )
    ds = load_dataset(root)
    projects = ds.table("projects")
    assert projects.loc[2, "amount"] == 88_000
    assert projects.loc[2, "supplier_name"] == "深圳市某某照明工程有限公司"
    assert ds.table("staff").loc[2, "street"] == "龙城街道"


def test_wan_yuan_column_is_converted(write_csv: WriteCsv) -> None:
    write_csv("staff.csv", STAFF_HEADER, STAFF_ROWS)
    root = write_csv(
        "projects.csv",
        ["项目编号", "项目名称", "项目类别", "金额（万元）"],
        [["P1", "长者助餐", "服务类", "62"], ["P2", "应急物资", "货物类", "49.99"]],
    )
    amounts = load_dataset(root).table("projects")["amount"].tolist()
    assert amounts == [620_000.0, 499_900.0]


def test_fifteen_digit_ids_become_eighteen(write_csv: WriteCsv) -> None:
    root = write_csv(
        "staff.csv", ["人员编号", "姓名", "身份证号"], [["S1", "王五", "440307900101123"]]
    )
    staff = load_dataset(root).table("staff")
    assert staff.loc[2, "id_number"].startswith("44030719900101123")
    assert len(staff.loc[2, "id_number"]) == 18
    assert bool(staff.loc[2, "id_number_valid"])


def test_title_row_above_the_header_is_skipped(write_csv: WriteCsv) -> None:
    (write_csv("staff.csv", STAFF_HEADER, STAFF_ROWS) / "projects.csv").write_bytes(
        "2024年项目台账,,,\n".encode()
        + csv_bytes(PROJECT_HEADER, [["P1", "路灯", "工程类", "1000"]])
    )
    ds = load_dataset(write_csv("staff.csv", STAFF_HEADER, STAFF_ROWS))
    projects = ds.table("projects")
    assert projects["_row"].tolist() == [3]
    assert next(s for s in ds.sources if s.table == "projects").header_row == 2


# --------------------------------------------------------------------------- workbooks


def make_workbook(path: Path) -> Path:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "公职人员"
    ws.append(["人员编号", "姓名", "身份证号", "出生日期"])
    ws.append(["S1", "陈静", "440307900101123", dt.datetime(1990, 1, 1)])
    ws.append(["S2", "刘洋", None, 32874])  # an Excel date serial typed as a number
    ws2 = wb.create_sheet("项目台账")
    ws2.append(["龙岗区2024年项目台账"])
    ws2.append(["项目编号", "项目名称", "项目类别", "项目金额(万元)", "签约日期"])
    ws2.append(["P1", "长者助餐", "服务类", 62, 45356])
    ws2.append(["P2", "路面修缮", "工程类", 95.5, dt.datetime(2024, 3, 5)])
    ws2.append([None, None, None, None, None])  # Excel's trailing empty rows
    wb.create_sheet("说明").append(["本工作簿由某街道导出"])
    wb.save(path)
    return path


def test_one_workbook_with_chinese_sheet_names(tmp_path: Path) -> None:
    ds = load_dataset(make_workbook(tmp_path / "2024年台账.xlsx"))
    staff, projects = ds.table("staff"), ds.table("projects")
    assert staff["birth_date"].tolist() == [pd.Timestamp("1990-01-01"), pd.Timestamp("1990-01-01")]
    assert projects["amount"].tolist() == [620_000.0, 955_000.0]
    assert projects["award_date"].tolist() == [pd.Timestamp("2024-03-05")] * 2
    assert projects["_row"].tolist() == [3, 4]
    assert projects["_file"].iloc[0] == "2024年台账.xlsx#项目台账"
    assert staff.loc[2, "id_number"] == "440307199001011232"


def test_xlsx_table_file_in_a_folder(write_csv: WriteCsv, tmp_path: Path) -> None:
    write_csv("staff.csv", STAFF_HEADER, STAFF_ROWS)
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["层级", "项目名称", "承接单位", "入库日期", "出库日期"])
    ws.append(["区级", "长者助餐", "深圳市甲社工服务中心", 44927, None])
    wb.save(tmp_path / "catalogue.xlsx")
    catalogue = load_dataset(tmp_path).table("catalogue")
    assert catalogue.loc[2, "valid_from"] == pd.Timestamp("2023-01-01")
    assert pd.isna(catalogue.loc[2, "valid_to"])


# --------------------------------------------------------------------------- errors


def test_missing_required_column(write_csv: WriteCsv) -> None:
    write_csv("staff.csv", STAFF_HEADER, STAFF_ROWS)
    root = write_csv("projects.csv", ["项目编号", "项目名称", "金额"], [["P1", "路灯", "100"]])
    (issue,) = errors_of(root)
    assert issue.code == "missing_column"
    assert_names(issue, "projects.csv", 1, "项目类别")
    assert "category" in issue.message_en


def test_unknown_category(write_csv: WriteCsv) -> None:
    write_csv("staff.csv", STAFF_HEADER, STAFF_ROWS)
    root = write_csv(
        "projects.csv",
        PROJECT_HEADER,
        [["P1", "路灯", "工程类", "100"], ["P2", "培训", "咨询类", "100"]],
    )
    (issue,) = errors_of(root)
    assert issue.code == "bad_category"
    assert_names(issue, "projects.csv", 3, "项目类别")
    assert "咨询类" in issue.message_zh and "咨询类" in issue.message_en


def test_non_numeric_amount(write_csv: WriteCsv) -> None:
    write_csv("staff.csv", STAFF_HEADER, STAFF_ROWS)
    root = write_csv("projects.csv", PROJECT_HEADER, [["P1", "路灯", "工程类", "十万元"]])
    (issue,) = errors_of(root)
    assert issue.code == "bad_amount"
    assert_names(issue, "projects.csv", 2, "金额")


def test_unparseable_date(write_csv: WriteCsv) -> None:
    write_csv("staff.csv", STAFF_HEADER, STAFF_ROWS)
    root = write_csv(
        "projects.csv",
        [*PROJECT_HEADER, "签约日期"],
        [["P1", "路灯", "工程类", "100", "2024-02-30"]],
    )
    (issue,) = errors_of(root)
    assert issue.code == "bad_date"
    assert_names(issue, "projects.csv", 2, "签约日期")


def test_required_value_empty_and_duplicate_keys(write_csv: WriteCsv) -> None:
    root = write_csv(
        "staff.csv", STAFF_HEADER, [["S1", "甲", "龙城"], ["S1", "乙", "龙城"], ["S3", "", "龙城"]]
    )
    issues = errors_of(root)
    assert {(i.code, i.row) for i in issues} == {("duplicate_key", 3), ("required_empty", 4)}
    dup = next(i for i in issues if i.code == "duplicate_key")
    assert "第2行" in dup.message_zh


def test_bad_id_check_digit_is_a_warning_and_not_an_identity_key(write_csv: WriteCsv) -> None:
    root = write_csv(
        "staff.csv",
        ["人员编号", "姓名", "身份证号"],
        [["S1", "甲", "440307199001011233"], ["S2", "乙", "440307199001011232"]],
    )
    ds = load_dataset(root)
    staff = ds.table("staff")
    assert staff["id_number"].tolist() == ["440307199001011233", "440307199001011232"]
    assert staff["id_number_valid"].tolist() == [False, True]
    (warning,) = ds.warnings
    assert warning.code == "id_number_checksum"
    assert_names(warning, "staff.csv", 2, "身份证号")
    # the warning names the cell, not the number (a wrong check digit is still somebody's):
    # its value and both messages carry the masked form only
    shown = json.dumps(warning.to_dict(), ensure_ascii=False) + warning.render()
    assert "1990010112" not in shown
    assert warning.value == "4403**********1233"
    assert "4403**********1233" in warning.message_zh and warning.value in warning.message_en


def test_an_unreadable_id_number_is_masked_in_its_error(write_csv: WriteCsv) -> None:
    root = write_csv(
        "staff.csv",
        ["人员编号", "姓名", "身份证号"],
        [["S1", "甲", "44030719900101123"], ["S2", "乙", "4403071990"]],
    )
    shown = json.dumps([i.to_dict() for i in load_dataset(root).warnings], ensure_ascii=False)
    assert "0101123" not in shown and "40307199" not in shown
    assert "4403*********1123" in shown and "********90" in shown


def test_bad_uscc_check_digit_is_a_warning(write_csv: WriteCsv) -> None:
    write_csv("staff.csv", STAFF_HEADER, STAFF_ROWS)
    root = write_csv(
        "suppliers.csv", ["单位名称", "统一社会信用代码"], [["深圳市甲公司", "91440300MA5DC6QX40"]]
    )
    ds = load_dataset(root)
    assert not ds.table("suppliers")["uscc_valid"].iloc[0]
    (warning,) = ds.warnings
    assert warning.code == "uscc_checksum"
    assert_names(warning, "suppliers.csv", 2, "统一社会信用代码")


def test_lenient_skips_bad_rows_and_lists_them(write_csv: WriteCsv) -> None:
    write_csv("staff.csv", STAFF_HEADER, STAFF_ROWS)
    root = write_csv(
        "projects.csv",
        PROJECT_HEADER,
        [
            ["P1", "路灯", "工程类", "100"],
            ["P2", "培训", "咨询类", "100"],
            ["P3", "x", "服务类", "abc"],
        ],
    )
    ds = load_dataset(root, lenient=True)
    assert ds.table("projects")["project_id"].tolist() == ["P1"]
    assert ds.skipped_rows == {"projects": 2}
    assert {(i.code, i.row) for i in ds.issues if i.level == "error"} == {
        ("bad_category", 3),
        ("bad_amount", 4),
    }


def test_lenient_still_stops_on_a_missing_column(write_csv: WriteCsv) -> None:
    write_csv("staff.csv", STAFF_HEADER, STAFF_ROWS)
    root = write_csv("projects.csv", ["项目编号", "项目名称"], [["P1", "路灯"]])
    assert {i.code for i in errors_of(root, lenient=True)} == {"missing_column"}


def test_staff_table_is_required(write_csv: WriteCsv) -> None:
    root = write_csv("projects.csv", PROJECT_HEADER, [["P1", "路灯", "工程类", "100"]])
    (issue,) = errors_of(root)
    assert issue.code == "missing_table"


def test_one_table_from_two_files_is_an_error(write_csv: WriteCsv) -> None:
    write_csv("staff.csv", STAFF_HEADER, STAFF_ROWS)
    root = write_csv("公职人员.csv", STAFF_HEADER, STAFF_ROWS)
    assert {i.code for i in errors_of(root)} == {"duplicate_table"}


def test_unknown_files_are_ignored_and_listed(write_csv: WriteCsv) -> None:
    root = write_csv("staff.csv", STAFF_HEADER, STAFF_ROWS)
    (root / "说明.docx").write_bytes(b"x")
    (root / "other.csv").write_text("a,b\n1,2\n")
    assert load_dataset(root).ignored_files == ["other.csv", "说明.docx"]


def test_dangling_references_are_warnings(write_csv: WriteCsv) -> None:
    write_csv("staff.csv", STAFF_HEADER, STAFF_ROWS)
    root = write_csv("relatives.csv", ["人员编号", "亲属姓名", "关系"], [["S9", "某某", "配偶"]])
    ds = load_dataset(root)
    assert [(w.code, w.row) for w in ds.warnings] == [("unknown_staff_id", 2)]


def test_role_variants_are_normalised(write_csv: WriteCsv) -> None:
    write_csv("staff.csv", STAFF_HEADER, STAFF_ROWS)
    root = write_csv(
        "supplier_people.csv",
        ["单位名称", "姓名", "职务", "持股比例"],
        [
            ["甲公司", "张三", "执行董事", ""],
            ["甲公司", "李四", "法人", "60%"],
            ["甲公司", "王五", "顾问", ""],
        ],
    )
    ds = load_dataset(root)
    people = ds.table("supplier_people")
    assert people["role"].tolist() == ["董事", "法定代表人", "顾问"]
    assert people["share_ratio"].tolist()[1] == 60.0
    assert [w.code for w in ds.warnings] == ["unknown_role"]


def test_unknown_kin_term_is_an_error_naming_the_row(write_csv: WriteCsv) -> None:
    write_csv("staff.csv", STAFF_HEADER, STAFF_ROWS)
    root = write_csv(
        "relatives.csv",
        ["人员编号", "亲属姓名", "关系"],
        [["S1", "甲", "岳父"], ["S1", "乙", "老婆的 哥哥"], ["S1", "丙", "师父"]],
    )
    (issue,) = errors_of(root)
    assert issue.code == "bad_kin_term"
    assert_names(issue, "relatives.csv", 4, "关系")
    assert "师父" in issue.message_zh


# --------------------------------------------------------------------------- naming the dataset


def test_a_dataset_is_named_by_its_own_name_or_the_name_given(write_csv: WriteCsv) -> None:
    root = write_csv("projects.csv", PROJECT_HEADER, [["P1", "路灯", "工程类", "100"]])
    (issue,) = errors_of(root)
    assert (issue.code, issue.file) == ("missing_table", root.name)
    with pytest.raises(DatasetError) as info:
        load_dataset(root, display_name="上传的数据集")
    (issue,) = info.value.issues
    assert_names(issue, "上传的数据集", None, None)
    assert str(root) not in str(info.value)

    write_csv("staff.csv", STAFF_HEADER, STAFF_ROWS)
    assert load_dataset(root).root == root.name
    assert load_dataset(root, display_name="上传的数据集").root == "上传的数据集"
    assert load_dataset(make_workbook(root.parent / "台账.xlsx")).root == "台账.xlsx"

    missing = root / "没有这个文件夹"
    for display, expected in ((None, "没有这个文件夹"), ("上传的数据集", "上传的数据集")):
        with pytest.raises(DatasetError) as info:
            load_dataset(missing, display_name=display)
        assert [(i.code, i.file) for i in info.value.issues] == [("not_found", expected)]
