"""The workbooks as a clerk opens and prints them: Chinese headers and values, widths from the
content, wrapping, a filter and a frozen header, A4 landscape fitted to the page width with the
header repeated on every page, and the evidence in words (openpyxl reads them back)."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet
from typer.testing import CliRunner

from integrity.cli import app
from integrity.documents.output import FINDING_COLUMNS, PRINTED
from integrity.documents.workbook import Column, display_width, widths
from tests.conftest import DEMO

runner = CliRunner(env={"COLUMNS": "200"})


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("demo") / "out"
    result = runner.invoke(app, ["scan", str(DEMO), "--out", str(folder), "--quiet"])
    assert result.exit_code == 0, result.output
    return folder


def assert_printable(ws: Worksheet, header_row: int) -> None:
    assert ws.page_setup.orientation == "landscape"
    assert ws.page_setup.paperSize == 9  # A4
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.page_setup.fitToHeight == 0  # as many pages down as it takes
    assert ws.page_setup.fitToWidth in (None, 1)  # one page wide (1 is the default)
    assert ws.print_title_rows == f"$1:${header_row}"  # the header on every page
    assert ws.freeze_panes == f"A{header_row + 1}"
    assert ws.auto_filter.ref and ws.auto_filter.ref.startswith(f"A{header_row}:")
    assert "&P" in ws.oddFooter.center.text and "&N" in ws.oddFooter.center.text


def test_findings_workbook_is_chinese_and_prints_on_a4(out: Path) -> None:
    wb = load_workbook(out / "findings.xlsx")
    assert wb.sheetnames == ["发现清单", "证据明细", "字段说明"]
    ws = wb["发现清单"]
    assert ws["A1"].value == "廉洁风险筛查发现清单"
    headers = [c.value for c in ws[2]]
    assert headers == [c.header for c in FINDING_COLUMNS]
    assert_printable(ws, 2)
    # the printed columns fit an A4 width at a readable scale: at most ~175 character widths
    printed = sum(ws.column_dimensions[chr(65 + i)].width for i in range(PRINTED))
    assert printed <= 175, printed
    assert f":${chr(64 + PRINTED)}$" in ws.print_area  # the detail columns are for the screen
    rows = {r[0].value: r for r in ws.iter_rows(min_row=3)}
    avoidance = next(r for fid, r in rows.items() if fid.startswith("avoidance-a3baeb"))
    by = dict(zip(headers, avoidance, strict=True))
    assert by["规则"].value == "应当回避而未回避" and by["严重程度"].value == "高"
    assert by["可信度"].value == pytest.approx(0.9776) and by["可信度"].number_format == "0%"
    assert by["把握"].value == "很可能"  # a name-only link: never 确定
    assert by["关系路径"].value == "张波龙 —堂弟→ 张军海 —负责人→ 深圳市润泽睿智体育用品有限公司"
    assert by["说明"].alignment.wrap_text
    # the evidence in words: no resolver arithmetic, the sureness said plainly
    evidence = by["证据（逐条注明来源）"].value
    assert "基础比例" not in evidence and "e-0" not in evidence and "校准" not in evidence
    assert "判断为同一人的把握约98%" in evidence and "两人同名的机会约百万分之1.3" in evidence
    # the evidence sheet: a row per step with its source
    steps = [
        r
        for r in wb["证据明细"].iter_rows(min_row=3, values_only=True)
        if r[0] == by["发现编号"].value
    ]
    assert [s[1] for s in steps] == list(range(1, len(steps) + 1))
    assert any(s[3] == "family_links.csv 第4216行" for s in steps)
    assert_printable(wb["证据明细"], 2)
    # a row is as high as its wrapped text needs
    assert ws.row_dimensions[avoidance[0].row].height > 15


def test_recusal_notice_names_the_official_and_prints(out: Path) -> None:
    wb = load_workbook(out / "回避提示表.xlsx")
    ws = wb["坂田街道"]
    assert ws["A1"].value == "供应商关联回避提示表（坂田街道）"
    headers = [c.value for c in ws[2]]
    row = dict(zip(headers, next(ws.iter_rows(min_row=3, values_only=True)), strict=True))
    assert row["姓名"] == "张波龙" and "工程师" in row["单位及职务"]
    assert row["关系路径"].startswith("张波龙 —堂弟→ 张军海")
    assert_printable(ws, 2)
    assert ws.oddHeader.center.text == "供应商关联回避提示表（坂田街道）"


def test_widths_follow_the_content() -> None:
    assert display_width("张波龙") == 6.0 and display_width("ab\n张") == 2.2
    columns = [Column("a", "名称", 40), Column("b", "说明", 30, wrap=True)]
    rows = [{"a": "深圳市润泽睿智体育用品有限公司", "b": "很长的说明" * 20}]
    a, b = widths(columns, rows)
    assert a == 32.0  # 15 characters of two widths, and the padding
    assert b == 30  # capped: the text wraps
    assert widths(columns, []) == [6.0, 6.0]  # the header's, at least the minimum


def _reference_width(text: str) -> float:
    """The definition: a wide or full-width character 2, any other 1.1, the longest line."""
    import unicodedata  # noqa: PLC0415

    return max(
        sum(2.0 if unicodedata.east_asian_width(c) in "WF" else 1.1 for c in line)
        for line in text.split("\n")
    )


def test_display_width_is_the_definitions_on_random_text() -> None:
    import random  # noqa: PLC0415

    r = random.Random(7)
    pools = [
        (0x20, 0x7F),
        (0x3000, 0x9FFF),
        (0xFF00, 0xFFEF),
        (0x1F300, 0x1F6FF),
        (0x20000, 0x2A000),
    ]
    for _ in range(2000):
        text = "".join(
            "\n" if r.random() < 0.05 else chr(r.randrange(*r.choice(pools)))
            for _ in range(r.randrange(0, 80))
        )
        assert abs(display_width(text) - _reference_width(text)) < 1e-9, repr(text)


def test_the_widest_cell_fits_its_column_in_one_line() -> None:
    """The column's width comes from its widest cell: that cell is one line, not two (a
    rounding error once made it two)."""
    from integrity.documents.workbook import row_height  # noqa: PLC0415

    column = Column("x", "列", 60, wrap=True)
    for text in ("张波龙" * 4 + "abc" * 3, "甲乙丙丁戊" * 2 + "x", "ab" * 7):
        sizes = widths([column], [{"x": text}])
        assert row_height([column], sizes, {"x": text}) == row_height([column], sizes, {"x": "a"})
        assert abs(sizes[0] - min(max(_reference_width(text) + 2.0, 6.0), 60)) < 1e-9
