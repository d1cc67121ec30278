"""Lists a screening hands to the bodies that act on them, one sheet per street.

- 第十六条报备清单 (off_catalogue): every service project outside the catalogue, one row per
  project, grouped by street, for the 街道纪工委 and the 区专责领导小组办公室;
- 回避提示表 (related_supplier): who must step aside from decisions about which supplier.

Each is written as xlsx (a sheet per street, Chinese headers) and csv beside the findings.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from integrity.documents.cells import csv_row
from integrity.documents.words import confidence_word
from integrity.documents.workbook import Column, Sheet, write_workbook
from integrity.findings import Finding

Row = dict[str, Any]


@dataclass(frozen=True)
class Report:
    rule: str
    stem: str  # file name without suffix
    title: str
    columns: tuple[Column, ...]
    row: Callable[[Finding], Row]
    printed: int | None = None  # the first columns a printed page holds


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
        "official": f.details.get("official", ""),
        "position": f.details.get("position", ""),
        "relation": f.details.get("relation", ""),
        "relative": f.details.get("relative", ""),
        "organisation": f.details.get("organisation", ""),
        "supplier": "; ".join(f.suppliers),
        "roles": "、".join(f.details.get("roles", [])),
        "path": f.details.get("path", ""),
        "confidence": float(f.confidence),
        "confidence_word": confidence_word(float(f.confidence)),
        "status": "线索待核" if f.is_lead else "回避提示",
        "finding_id": f.finding_id,
    }


REPORTS = (
    Report(
        "off_catalogue",
        "第十六条报备清单",
        "项目库以外的服务类项目报备清单",
        (
            Column("community", "社区", 12, wrap=True),
            Column("project_id", "项目编号", 16, wrap=True),
            Column("project", "项目名称", 20, wrap=True),
            Column("supplier_name", "承接单位", 22, wrap=True),
            Column("award_date", "签约日期", 11),
            Column("amount_wan", "金额（万元）", 9, number_format="0.00"),
            Column("reason", "情况说明", 46, wrap=True),
            # on screen, not printed: the sheet is the street's, the clause in its title
            Column("street", "街道", 12),
            Column("supplier", "统一社会信用代码", 21),
            Column("citation", "依据", 24, wrap=True),
            Column("finding_id", "发现编号", 26),
        ),
        _off_catalogue,
        printed=7,
    ),
    Report(
        "related_supplier",
        "回避提示表",
        "供应商关联回避提示表",
        (
            Column("staff_id", "人员编号", 9),
            Column("official", "姓名", 8),
            Column("position", "单位及职务", 18, wrap=True),
            Column("relation", "关系类别", 10, wrap=True),
            Column("relative", "亲属（或本人）", 9, wrap=True),
            Column("organisation", "单位", 20, wrap=True),
            Column("roles", "任职", 10, wrap=True),
            Column("path", "关系路径", 30, wrap=True),
            Column("confidence_word", "把握", 9, wrap=True),
            Column("status", "性质", 8),
            # on screen, not printed
            Column("street", "街道", 12),
            Column("supplier", "统一社会信用代码或名称", 21),
            Column("confidence", "身份关联可信度", 9, number_format="0%"),
            Column("finding_id", "发现编号", 26),
        ),
        _related,
        printed=10,
    ),
)


def report_rows(report: Report, findings: list[Finding]) -> list[Row]:
    rows = [report.row(f) for f in findings if f.rule == report.rule]
    rows.sort(key=lambda r: (r["street"], str(r.get("community", "")), r["finding_id"]))
    return rows


def write_street_workbook(
    target: Path | BinaryIO,
    title: str,
    columns: Sequence[Column],
    rows: list[Row],
    printed: int | None = None,
) -> None:
    """One sheet per street (rows carry ``street``), titled and printed with the street's
    name, through the one workbook writer (integrity.documents.workbook)."""
    by_street: dict[str, list[Row]] = {}
    for r in rows:
        by_street.setdefault(r["street"], []).append(r)
    sheets = [
        Sheet(street, columns, mine, title=f"{title}（{street}）", print_columns=printed)
        for street, mine in (by_street or {"（无）": []}).items()
    ]
    write_workbook(target, sheets)


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
            writer.writerow(csv_row(c.header for c in report.columns))
            writer.writerows(csv_row(r[c.key] for c in report.columns) for r in rows)
        write_street_workbook(
            folder / xlsx_name, report.title, report.columns, rows, report.printed
        )
        written += [xlsx_name, csv_name]
    return written
