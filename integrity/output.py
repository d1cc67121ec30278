"""Writing a screening's files: findings.json/.csv/.xlsx and run.json, all or nothing.

Every file is first written to a temporary folder beside the output folder; only when all are
complete are they moved in (one rename each), so a failed run leaves an earlier run's files as
they were.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any, BinaryIO

from integrity import __version__
from integrity.cells import csv_row, new_workbook
from integrity.findings import Finding
from integrity.reports import REPORTS, write_reports
from integrity.scan import ScanResult

FIELDS = [
    "finding_id",
    "rule",
    "severity",
    "confidence",
    "status",
    "project_ids",
    "staff_ids",
    "suppliers",
    "citation",
    "explanation",
    "evidence",
    "street",
    "community",
    "policy",
]
FIELD_LABELS = {
    "finding_id": "编号（同样输入得到同样编号）",
    "rule": "规则",
    "severity": "严重程度 high/medium/low",
    "confidence": "身份关联可信度 0–1（低于0.5为线索待核）",
    "status": "风险提示 / 线索待核",
    "project_ids": "涉及项目编号",
    "staff_ids": "涉及人员编号",
    "suppliers": "涉及供应商（统一社会信用代码，无则名称）",
    "citation": "依据条款",
    "explanation": "说明",
    "evidence": "证据路径（逐行注明来源文件与行号）",
    "street": "街道",
    "community": "社区",
    "policy": "政策配置",
}
OUTPUT_FILES = ("findings.json", "findings.csv", "findings.xlsx", "run.json")


def evidence_text(finding: Finding) -> str:
    lines = []
    for n, step in enumerate(finding.evidence, 1):
        where = ""
        if step.source is not None:
            where = f"（{step.source.file}" + (
                f" 第{step.source.row}行）" if step.source.row is not None else "）"
            )
        lines.append(f"{n}. {step.text}{where}")
    return "\n".join(lines)


def flat_row(finding: Finding) -> dict[str, Any]:
    d = finding.to_dict()
    row = {k: d.get(k) for k in FIELDS}
    for key in ("project_ids", "staff_ids", "suppliers"):
        row[key] = "; ".join(d[key])
    row["evidence"] = evidence_text(finding)
    return row


def learnt_priors(result: ScanResult) -> dict[str, float]:
    """The priors the rules measured (none when no rule read the screening)."""
    ctx = result.context
    if ctx is None or "screening" not in vars(ctx):
        return {}
    return {k: float(v) for k, v in sorted(ctx.screening.priors.items())}


def run_record(result: ScanResult, duration: float) -> dict[str, Any]:
    findings = result.findings
    by_rule = Counter(f.rule for f in findings)
    by_severity = Counter(f.severity for f in findings)
    by_street = Counter(f.street or "（未注明街道）" for f in findings)
    ds = result.dataset
    return {
        # the numbers the screening learnt from the data (each rule's measured prior): kept
        # with the run, so that a check index can be rebuilt without running the rules again
        "priors": learnt_priors(result),
        "tool": "integrity",
        "version": __version__,
        "started_at": result.started_at,
        "duration_seconds": round(duration, 3),
        "stages_seconds": result.stages,
        "dataset": ds.root,
        "lenient": result.lenient,
        "policy": {
            "name": result.profile.name,
            "label": result.profile.label,
            "document": result.profile.document.model_dump(mode="json"),
        },
        "inputs": [s.to_dict() for s in ds.sources],
        "ignored_files": ds.ignored_files,
        "rules": [
            {
                "rule": r.rule,
                "title": r.title,
                "status": r.status,
                "reason": r.reason,
                "findings": r.findings,
                "seconds": r.seconds,
                "notes": r.notes,
            }
            for r in result.rule_runs
        ],
        # every provision of the profile: checked by which rule, or why not
        "provisions": [p.to_dict() for p in result.provisions],
        "counts": {
            "findings": len(findings),
            "leads": sum(f.is_lead for f in findings),
            "by_rule": dict(sorted(by_rule.items())),
            "by_severity": {s: by_severity.get(s, 0) for s in ("high", "medium", "low")},
            "by_rule_severity": {
                rule: {
                    s: sum(1 for f in findings if f.rule == rule and f.severity == s)
                    for s in ("high", "medium", "low")
                }
                for rule in sorted(by_rule)
            },
            "by_street": dict(sorted(by_street.items())),
        },
        "warnings_total": ds.warning_total,
        "warnings": [i.to_dict() for i in ds.issues if i.level == "warning"],
        "skipped_rows": {
            "counts": ds.skipped_rows,
            "errors": [i.to_dict() for i in ds.issues if i.level == "error"],
        },
    }


def _write_json(path: Path, data: Any) -> None:
    path.write_text(
        json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n", encoding="utf-8"
    )


def _write_json_lines(path: Path, items: list[dict[str, Any]]) -> None:
    """A JSON array with one item per line: json's C encoder runs only without ``indent``,
    and one line per finding still reads and diffs well."""
    lines = (json.dumps(item, ensure_ascii=False, default=str) for item in items)
    path.write_text("[\n" + ",\n".join(lines) + "\n]\n", encoding="utf-8")


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    # utf-8 with BOM: Excel on a Chinese Windows opens it without garbling; cells through
    # csv_row, so that a title or a name starting with "=" is not run as a formula
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(csv_row(FIELDS))
        writer.writerows(csv_row(row[name] for name in FIELDS) for row in rows)


def write_findings_xlsx(target: Path | BinaryIO, rows: list[dict[str, Any]]) -> None:
    """The findings (flat_row's rows) as a workbook, to a file or a stream (XlsxWriter, rows
    streamed in constant memory: openpyxl's per-cell objects cost seconds on a city's
    findings), with a sheet explaining the fields; cells through integrity.cells, so that no
    text becomes a formula or a link."""
    wb = new_workbook(target, constant_memory=True)
    try:
        bold = wb.add_format({"bold": True})
        wrap = wb.add_format({"text_wrap": True, "valign": "top"})
        ws = wb.add_worksheet("findings")
        widths = {"explanation": 60, "evidence": 80, "citation": 30, "suppliers": 24}
        wrapped = {"explanation", "evidence", "citation"}
        for i, name in enumerate(FIELDS):
            ws.set_column(i, i, widths.get(name, 14), wrap if name in wrapped else None)
        ws.freeze_panes(1, 1)
        wb.write_row(ws, 0, 0, FIELDS, bold)
        for r, row in enumerate(rows, 1):
            for c, name in enumerate(FIELDS):
                wb.write_cell(ws, r, c, row[name], wrap if name in wrapped else None)
        notes = wb.add_worksheet("字段说明")
        notes.set_column(0, 0, 16)
        notes.set_column(1, 1, 50)
        wb.write_row(notes, 0, 0, ["字段", "说明"], bold)
        for r, name in enumerate(FIELDS, 1):
            wb.write_row(notes, r, 0, [name, FIELD_LABELS[name]])
    finally:
        wb.close()


def write_outputs(result: ScanResult, out_dir: str | Path, started: float) -> dict[str, Any]:
    """Write the four files into ``out_dir``; returns the run record written as run.json."""
    out = Path(out_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        rows = [flat_row(f) for f in result.findings]
        _write_json_lines(staging / "findings.json", [f.to_dict() for f in result.findings])
        _write_csv(staging / "findings.csv", rows)
        write_findings_xlsx(staging / "findings.xlsx", rows)
        extra = write_reports(result.findings, staging)
        result.stages["write"] = round(time.perf_counter() - t0, 4)
        record = run_record(result, time.perf_counter() - started)
        record["reports"] = extra
        _write_json(staging / "run.json", record)
        out.mkdir(parents=True, exist_ok=True)
        for name in (*OUTPUT_FILES, *extra):
            os.replace(staging / name, out / name)
        # a list an earlier run wrote but this one has no rows for would mislead: remove it
        for report in REPORTS:
            for suffix in (".xlsx", ".csv"):
                stale = out / f"{report.stem}{suffix}"
                if stale.name not in extra and stale.exists():
                    stale.unlink()
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return record
