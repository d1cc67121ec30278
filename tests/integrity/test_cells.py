"""No formula injection: text that starts like a formula stays text in every CSV and XLSX.

A project title such as ``=HYPERLINK("http://x","点击")`` used to become a live formula in the
workbooks (XlsxWriter's ``write``) and in the CSVs (Excel evaluates ``= + - @``, TAB, CR).
"""

from __future__ import annotations

import csv
import io
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from openpyxl import load_workbook
from openpyxl.cell.cell import Cell, MergedCell
from typer.testing import CliRunner

from integrity.cli import app
from integrity.documents.cells import (
    CELL_LIMIT,
    CUT_NOTE,
    FORMULA_PREFIXES,
    csv_cell,
    csv_row,
    is_risky,
    new_workbook,
)
from integrity.documents.output import FIELDS, FINDING_COLUMNS, _write_csv, flat_row, human_row
from integrity.documents.output import write_findings_xlsx as _write_xlsx
from integrity.documents.reports import REPORTS, report_rows, write_reports, write_street_workbook
from integrity.findings import EvidenceStep, Finding, SourceRef
from integrity.sample import Sample, write_sample
from tests.conftest import FIXTURES

runner = CliRunner(env={"COLUMNS": "200"})

HYPERLINK = '=HYPERLINK("http://x","点击")'
# every prefix a spreadsheet may evaluate, as the payloads of the tests below
DANGEROUS = [
    HYPERLINK,
    "+1+1",
    "@SUM(A1)",
    "-2+3",
    "\t=1+1",
    "\r=1+1",
    "＝1+1",
    "＋1+1",
    "－2+3",
    "＠SUM(A1)",
]
SAFE_TEXT = ["张三", "1.5", "a-b", "深圳市-龙岗区", "http://example.com", " =1", "", "'=1"]


# ------------------------------------------------------------------------- the cell values


@pytest.mark.parametrize("value", DANGEROUS)
def test_csv_cell_quotes_every_dangerous_prefix(value: str) -> None:
    assert is_risky(value)
    assert csv_cell(value) == "'" + value


@pytest.mark.parametrize("value", SAFE_TEXT)
def test_csv_cell_leaves_safe_text_alone(value: str) -> None:
    assert not is_risky(value)
    assert csv_cell(value) == value


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1.5, 1.5),
        (-3, -3),
        (-0.25, -0.25),
        (0, 0),
        (Decimal("-1.5"), Decimal("-1.5")),
        (np.float64(-2.5), -2.5),
        (np.int64(-7), -7),
        (True, True),
        (None, ""),
    ],
)
def test_csv_cell_keeps_numbers_booleans_and_empties(value: Any, expected: Any) -> None:
    out = csv_cell(value)
    assert out == expected and type(out) is type(value if value is not None else "")


def test_csv_cell_neutralises_other_types_by_their_text() -> None:
    class Odd:
        def __str__(self) -> str:
            return "=1+1"

    assert csv_cell(Odd()) == "'=1+1"


def test_the_prefixes_are_owasps_and_their_full_width_forms() -> None:
    assert set("=+-@\t\r＝＋－＠") == FORMULA_PREFIXES


def test_csv_row_round_trips_through_the_csv_module() -> None:
    buf = io.StringIO()
    csv.writer(buf).writerow(csv_row([HYPERLINK, "张三", -2, 1.5, None, "a,b"]))
    assert next(csv.reader(io.StringIO(buf.getvalue()))) == [
        "'" + HYPERLINK,
        "张三",
        "-2",
        "1.5",
        "",
        "a,b",
    ]


def _excel_text(value: Any) -> Any:
    """XlsxWriter stores a CR as ``_x000D_`` (Excel reads it back as CR; openpyxl does not)."""
    return value.replace("_x000D_", "\r") if isinstance(value, str) else value


def _assert_text_cell(cell: Cell | MergedCell, text: str) -> None:
    assert cell.data_type != "f", (cell.coordinate, cell.value)
    assert cell.data_type in ("s", "inlineStr"), (cell.coordinate, cell.data_type)
    assert _excel_text(cell.value) == text, (cell.coordinate, cell.value)
    assert cell.quotePrefix, (cell.coordinate, text)


@pytest.mark.parametrize("constant_memory", [False, True])
def test_workbook_cells_text_numbers_and_formats(tmp_path: Path, constant_memory: bool) -> None:
    path = tmp_path / "t.xlsx"
    wb = new_workbook(path, constant_memory=constant_memory)
    try:
        bold = wb.add_format({"bold": True})
        ws = wb.add_worksheet("s")
        wb.write_row(ws, 0, 0, DANGEROUS)
        wb.write_row(ws, 1, 0, DANGEROUS, bold)
        wb.write_row(ws, 2, 0, [*SAFE_TEXT, 1.5, -3, np.int64(-7), True, None])
        wb.write_cell(ws, 3, 0, "http://example.com/a", bold)
        assert wb.quoted(bold) is wb.quoted(bold)  # one sibling per format
    finally:
        wb.close()
    sheet = load_workbook(path).active
    assert sheet is not None
    for c, text in enumerate(DANGEROUS, 1):
        _assert_text_cell(sheet.cell(1, c), text)
        _assert_text_cell(sheet.cell(2, c), text)
        assert not sheet.cell(1, c).font.b and sheet.cell(2, c).font.b  # the format is kept
    safe = [sheet.cell(3, c) for c in range(1, len(SAFE_TEXT) + 6)]
    # "" is not written; strings stay strings ("1.5" is not turned into a number)
    assert [c.value for c in safe] == [*(v or None for v in SAFE_TEXT), 1.5, -3, -7, True, None]
    assert [c.data_type for c in safe if isinstance(c.value, str)] == ["s"] * 7
    assert [c.data_type for c in safe[len(SAFE_TEXT) : len(SAFE_TEXT) + 4]] == ["n", "n", "n", "b"]
    assert not any(c.quotePrefix for c in safe)
    link = sheet.cell(4, 1)
    assert link.value == "http://example.com/a" and link.hyperlink is None and link.font.b


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def test_a_text_longer_than_a_cell_is_cut_with_a_note_not_silently(tmp_path: Path) -> None:
    path = tmp_path / "long.xlsx"
    step = "项目P0001 社区路面修缮 12.34万元；"
    texts = [
        step * (CELL_LIMIT // len(step) + 5),  # over the limit
        "𠀀" * (CELL_LIMIT // 2 + 10),  # over it in UTF-16 units, not in characters
        "=" + "甲" * (CELL_LIMIT - 1),  # exactly full: whole; risky: still quoted
        step * 10,
    ]
    wb = new_workbook(path, constant_memory=True)
    try:
        ws = wb.add_worksheet("s")
        for r, text in enumerate(texts):
            wb.write_cell(ws, r, 0, text)
    finally:
        wb.close()
    sheet = load_workbook(path).active
    assert sheet is not None
    cut, astral, full, short = (sheet.cell(r + 1, 1).value for r in range(len(texts)))
    for value, text in ((cut, texts[0]), (astral, texts[1])):
        assert isinstance(value, str) and value.endswith(CUT_NOTE)
        assert CELL_LIMIT - 2 <= _utf16(value) <= CELL_LIMIT
        assert text.startswith(value.removesuffix(CUT_NOTE))
    assert full == texts[2] and sheet.cell(3, 1).quotePrefix
    assert short == texts[3]


def test_a_format_from_elsewhere_is_refused_for_risky_text(tmp_path: Path) -> None:
    other = new_workbook(tmp_path / "other.xlsx")
    wb = new_workbook(tmp_path / "t.xlsx")
    try:
        ws = wb.add_worksheet("s")
        with pytest.raises(ValueError, match="add_format"):
            wb.write_cell(ws, 0, 0, "=1+1", other.add_format({"bold": True}))
    finally:
        wb.close()
        other.close()


# ------------------------------------------------------------------------- the writers

SUPPLIERS = ["+1+1", "@SUM(A1)", "-2+3", "\tcmd", "\r=1+1"]


def _finding(n: int, *, rule: str = "off_catalogue") -> Finding:
    supplier = SUPPLIERS[n % len(SUPPLIERS)]
    return Finding(
        finding_id=f"{rule}-{n:04d}",
        rule=rule,
        severity="medium",
        confidence=0.9,
        project_ids=[f"=P{n}"],
        staff_ids=["@S1"],
        suppliers=[supplier],
        citation="-第十六条",
        explanation=HYPERLINK,
        evidence=[EvidenceStep("project", "项目", SourceRef("projects.csv", n + 2))],
        street="坂田街道",
        community="+社区",
        details={
            "project_name": HYPERLINK,
            "supplier_name": supplier,
            "award_date": "2024-05-06",
            "amount": -20000.0,
            "relation": "=本人",
            "relative": "@张三",
            "organisation": "-单位",
            "roles": ["+股东"],
            "path": "\t路径",
        },
    )


FINDINGS = [_finding(n) for n in range(len(SUPPLIERS))] + [
    _finding(n, rule="related_supplier") for n in range(len(SUPPLIERS))
]


def _csv_rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.reader(fh))


def _check_xlsx_rows(rows: list[tuple[Cell | MergedCell, ...]], expected: list[list[Any]]) -> None:
    assert len(rows) == len(expected)
    for cells, values in zip(rows, expected, strict=True):
        for cell, value in zip(cells, values, strict=False):
            if isinstance(value, str) and is_risky(value):
                _assert_text_cell(cell, value)
            elif value in (None, ""):
                assert cell.value is None
            else:
                assert cell.value == value and cell.data_type != "f" and not cell.quotePrefix


def _check_csv_rows(rows: list[list[str]], expected: list[list[Any]]) -> None:
    assert len(rows) == len(expected)
    for cells, values in zip(rows, expected, strict=True):
        for cell, value in zip(cells, values, strict=True):
            if isinstance(value, str) and is_risky(value):
                assert cell == "'" + value
            else:
                assert not cell.startswith("'")
                assert cell == ("" if value is None else str(value))


def test_findings_csv_and_xlsx_hold_text_not_formulas(tmp_path: Path) -> None:
    rows = [flat_row(f) for f in FINDINGS]
    _write_csv(tmp_path / "findings.csv", rows)
    people = [human_row(f) for f in FINDINGS]
    _write_xlsx(tmp_path / "findings.xlsx", people)
    expected = [[r[k] for k in FIELDS] for r in rows]
    assert {r["suppliers"] for r in rows} == set(SUPPLIERS)

    lines = _csv_rows(tmp_path / "findings.csv")
    assert lines[0] == FIELDS
    _check_csv_rows(lines[1:], expected)
    assert lines[1][FIELDS.index("explanation")] == "'" + HYPERLINK

    sheet = load_workbook(tmp_path / "findings.xlsx")["发现清单"]
    keys = [c.key for c in FINDING_COLUMNS]
    _check_xlsx_rows(list(sheet.iter_rows(min_row=3)), [[r[k] for k in keys] for r in people])
    cell = sheet.cell(3, keys.index("explanation") + 1)
    assert cell.value == HYPERLINK and cell.hyperlink is None and cell.alignment.wrap_text


def test_street_lists_csv_and_xlsx_hold_text_not_formulas(tmp_path: Path) -> None:
    written = write_reports(FINDINGS, tmp_path)
    assert sorted(written) == sorted(
        f"{r.stem}{suffix}" for r in REPORTS for suffix in (".csv", ".xlsx")
    )
    for report in REPORTS:
        rows = report_rows(report, FINDINGS)
        expected = [[r[c.key] for c in report.columns] for r in rows]
        lines = _csv_rows(tmp_path / f"{report.stem}.csv")
        assert lines[0] == [c.header for c in report.columns]
        _check_csv_rows(lines[1:], expected)
        sheet = load_workbook(tmp_path / f"{report.stem}.xlsx")["坂田街道"]
        _check_xlsx_rows(list(sheet.iter_rows(min_row=3)), expected)
    off = report_rows(REPORTS[0], FINDINGS)[0]
    assert off["project"] == HYPERLINK and off["amount_wan"] == -2.0


def test_street_workbook_to_a_stream_as_the_service_exports_it() -> None:
    report = REPORTS[0]
    rows = report_rows(report, FINDINGS)
    buffer = io.BytesIO()
    write_street_workbook(buffer, report.title, report.columns, rows)
    buffer.seek(0)
    sheet = load_workbook(buffer)["坂田街道"]
    assert sheet.cell(1, 1).value == report.title + "（坂田街道）"
    _check_xlsx_rows(
        list(sheet.iter_rows(min_row=3)), [[r[c.key] for c in report.columns] for r in rows]
    )
    amount = sheet.cell(3, [c.key for c in report.columns].index("amount_wan") + 1)
    assert amount.value == -2 and amount.data_type == "n"


def test_sample_workbook_holds_text_not_formulas(tmp_path: Path) -> None:
    rows = [
        {
            "order": n,
            "street": "坂田街道",
            "community": None if n == 1 else "-社区",
            "project_id": f"@P{n}",
            "name": name,
            "category": "服务类",
            "amount_wan": -1.5,
            "risk": 1.0,
            "findings": [] if n == 1 else ["=over_cap:x"],
            "reason": "\t抽取",
        }
        for n, name in enumerate(DANGEROUS, 1)
    ]
    write_sample(Sample(rows, 10, 0.2, 7, 1), tmp_path / "sample")
    wb = load_workbook(tmp_path / "sample" / "sample.xlsx")
    assert wb.sheetnames == ["抽查样本"]
    sheet = wb["抽查样本"]
    assert str(sheet.cell(1, 1).value).startswith("专项抽查样本：10个项目中抽取10个")
    assert sheet.cell(1, 1).font.b and sheet.cell(2, 1).font.b
    expected = [
        [("\n".join(r[k]) if k == "findings" else r[k]) for k in rows[0]]  # type: ignore[arg-type]
        for r in rows
    ]
    _check_xlsx_rows(list(sheet.iter_rows(min_row=3)), expected)
    empty = sheet.cell(3, 3)  # an empty cell keeps the column's style (its printed border)
    assert empty.value is None and empty.alignment.vertical == "top" and empty.border.left.style
    assert sheet.cell(3, 7).value == -1.5 and sheet.cell(3, 7).data_type == "n"


def test_a_scan_and_a_sample_of_a_poisoned_ledger(tmp_path: Path) -> None:
    """End to end: titles, supplier names and communities read from the input ledger."""
    root = tmp_path / "case"
    shutil.copytree(FIXTURES / "cases" / "off_catalogue", root)
    projects = root / "projects.csv"
    with projects.open(encoding="utf-8-sig", newline="") as fh:
        table = list(csv.reader(fh))
    header = table[0]
    name, supplier, community = (header.index(h) for h in ("项目名称", "承接单位", "社区"))
    poison = {"C2": (HYPERLINK, "+1+1", "@SUM(A1)"), "C5": ("-2+3", "\t深圳市阳光", "－社区")}
    for row in table[1:]:
        if row[0] in poison:
            row[name], row[supplier], row[community] = poison[row[0]]
    with projects.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(table)

    out = tmp_path / "out"
    result = runner.invoke(app, ["scan", str(root), "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    lines = _csv_rows(out / "第十六条报备清单.csv")
    by_id = {line[1]: line for line in lines[1:]}
    assert by_id["C2"][0:4] == ["'@SUM(A1)", "C2", "'" + HYPERLINK, "'+1+1"]
    assert by_id["C5"][2] == "'-2+3"
    sheet = load_workbook(out / "第十六条报备清单.xlsx")["坂田街道"]
    cells = {row[1].value: row for row in sheet.iter_rows(min_row=3)}
    _assert_text_cell(cells["C2"][0], "@SUM(A1)")
    _assert_text_cell(cells["C2"][2], HYPERLINK)
    _assert_text_cell(cells["C2"][3], "+1+1")
    _assert_text_cell(cells["C5"][2], "-2+3")
    findings = _csv_rows(out / "findings.csv")
    communities = {line[FIELDS.index("community")] for line in findings[1:]}
    assert "'@SUM(A1)" in communities
    fsheet = load_workbook(out / "findings.xlsx")["发现清单"]
    col = [c.key for c in FINDING_COLUMNS].index("community")
    poisoned = [row[col] for row in fsheet.iter_rows(min_row=3) if row[col].value == "@SUM(A1)"]
    assert poisoned and all(c.quotePrefix and c.data_type != "f" for c in poisoned)

    sample = tmp_path / "sample"
    result = runner.invoke(
        app, ["sample", str(root), "--rate", "1", "--seed", "1", "--out", str(sample)]
    )
    assert result.exit_code == 0, result.output
    ssheet = load_workbook(sample / "sample.xlsx")["抽查样本"]
    names = {row[3].value: row[4] for row in ssheet.iter_rows(min_row=3)}
    _assert_text_cell(names["C2"], HYPERLINK)
    _assert_text_cell(names["C5"], "-2+3")
