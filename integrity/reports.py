"""Lists a screening hands to the bodies that act on them, one sheet per street.

- 第十六条报备清单 (off_catalogue): every service project outside the catalogue, one row per
  project, grouped by street, for the 街道纪工委 and the 区专责领导小组办公室;
- 回避提示表 (related_supplier): who must step aside from decisions about which supplier.

Each is written as xlsx (a sheet per street, Chinese headers) and csv beside the findings.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from integrity.cells import csv_row, new_workbook
from integrity.findings import Finding

Row = dict[str, Any]


@dataclass(frozen=True)
class Report:
    rule: str
    stem: str  # file name without suffix
    title: str
    columns: dict[str, str]  # key -> Chinese header
    row: Callable[[Finding], Row]


def _off_catalogue(f: Finding) -> Row:
    return {
        "street": f.street or "（未注明街道）",
        "community": f.community or "",
        "project_id": f.project_ids[0],
        "project": f.details.get("project_name", ""),
        "supplier_name": f.details.get("supplier_name", ""),
        "supplier": "; ".join(f.suppliers),
        "award_date": f.details.get("award_date") or "",
        "amount_wan": round(float(f.details["amount"]) / 10_000, 2)
        if f.details.get("amount") is not None
        else "",
        "reason": f.explanation,
        "citation": f.citation,
        "finding_id": f.finding_id,
    }


def _related(f: Finding) -> Row:
    return {
        "street": f.street or "（未注明街道）",
        "staff_id": "; ".join(f.staff_ids),
        "relation": f.details.get("relation", ""),
        "relative": f.details.get("relative", ""),
        "organisation": f.details.get("organisation", ""),
        "supplier": "; ".join(f.suppliers),
        "roles": "、".join(f.details.get("roles", [])),
        "path": f.details.get("path", ""),
        "confidence": f.confidence,
        "status": "线索待核" if f.is_lead else "回避提示",
        "finding_id": f.finding_id,
    }


REPORTS = (
    Report(
        "off_catalogue",
        "第十六条报备清单",
        "项目库以外的服务类项目报备清单",
        {
            "street": "街道",
            "community": "社区",
            "project_id": "项目编号",
            "project": "项目名称",
            "supplier_name": "承接单位",
            "supplier": "统一社会信用代码",
            "award_date": "签约日期",
            "amount_wan": "金额（万元）",
            "reason": "情况说明",
            "citation": "依据",
            "finding_id": "发现编号",
        },
        _off_catalogue,
    ),
    Report(
        "related_supplier",
        "回避提示表",
        "供应商关联回避提示表",
        {
            "street": "街道",
            "staff_id": "人员编号",
            "relation": "关系类别",
            "relative": "亲属（或本人）",
            "organisation": "单位",
            "supplier": "统一社会信用代码或名称",
            "roles": "任职",
            "path": "关系路径",
            "confidence": "身份关联置信度",
            "status": "性质",
            "finding_id": "发现编号",
        },
        _related,
    ),
)


def report_rows(report: Report, findings: list[Finding]) -> list[Row]:
    rows = [report.row(f) for f in findings if f.rule == report.rule]
    rows.sort(key=lambda r: (r["street"], str(r.get("community", "")), r["finding_id"]))
    return rows


def write_street_workbook(
    target: Path | BinaryIO, title: str, columns: dict[str, str], rows: list[Row]
) -> None:
    """One sheet per street (rows carry ``street``), a title line, Chinese headers, written
    to a path or a binary stream (XlsxWriter: a city's thousands of rows in a fraction of
    openpyxl's time). Cells go through integrity.cells: the rows carry titles, names and
    triage reasons that must stay text, never formulas or links."""
    wb = new_workbook(target, constant_memory=isinstance(target, Path))
    try:
        bold = wb.add_format({"bold": True})
        wrap = wb.add_format({"text_wrap": True, "valign": "top"})
        by_street: dict[str, list[Row]] = {}
        for r in rows:
            by_street.setdefault(r["street"], []).append(r)
        used: set[str] = set()
        for street in by_street or {"（无）": []}:
            ws = wb.add_worksheet(_sheet_name(street, used))
            ws.freeze_panes(2, 0)
            wb.write_cell(ws, 0, 0, title + f"（{street}）", bold)
            wb.write_row(ws, 1, 0, columns.values(), bold)
            for i, r in enumerate(by_street.get(street, []), 2):
                wb.write_row(ws, i, 0, (r[key] for key in columns), wrap)
    finally:
        wb.close()


def write_reports(findings: list[Finding], folder: Path) -> list[str]:
    """Write each report that has rows; returns the file names written."""
    written: list[str] = []
    for report in REPORTS:
        rows = report_rows(report, findings)
        if not rows:
            continue
        csv_name, xlsx_name = f"{report.stem}.csv", f"{report.stem}.xlsx"
        with (folder / csv_name).open("w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(csv_row(report.columns.values()))
            writer.writerows(csv_row(r[k] for k in report.columns) for r in rows)
        write_street_workbook(folder / xlsx_name, report.title, report.columns, rows)
        written += [xlsx_name, csv_name]
    return written


def _sheet_name(street: str, used: set[str]) -> str:
    """A worksheet name Excel takes for a street: without []:*?/\\, not starting or ending
    with an apostrophe, at most 31 characters, and unlike the names taken before (Excel
    compares them ignoring case): 「A/B街道」 and 「AB街道」 get 「AB街道」 and 「AB街道(2)」."""
    bad = set("[]:*?/\\")
    base = "".join(ch for ch in street if ch not in bad).strip("'").strip()[:31] or "未注明街道"
    name, n = base, 1
    while name.casefold() in used:
        n += 1
        suffix = f"({n})"
        name = base[: 31 - len(suffix)] + suffix
    used.add(name.casefold())
    return name
