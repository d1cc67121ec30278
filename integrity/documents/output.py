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
from collections.abc import Sequence
from pathlib import Path
from typing import Any, BinaryIO

from integrity import __version__
from integrity.documents.cells import csv_row
from integrity.documents.partitions import FOLDER, write_by_street
from integrity.documents.reports import REPORTS, write_reports
from integrity.documents.words import (
    SEVERITIES,
    confidence_word,
    plain_evidence,
    plain_step,
    relation_path,
    rule_title,
    where,
)
from integrity.documents.workbook import Column, Sheet, write_workbook
from integrity.findings import Finding, finding_from_dict
from integrity.forked import Forked, can_fork
from integrity.identity.family import described
from integrity.load.dataset import Dataset
from integrity.load.readers import files_hash
from integrity.masking import could_hold_id, mask
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


def dataset_sha256(ds: Dataset) -> str:
    """The SHA-256 of the files the dataset was read from (names and contents)."""
    files = {s.file.split("#", 1)[0]: s.sha256 for s in ds.sources}
    return files_hash(files.items())


def learnt_priors(result: ScanResult) -> dict[str, float]:
    """The priors the rules measured (none when no rule read the screening)."""
    ctx = result.context
    if ctx is None or "screening" not in vars(ctx):
        return {}
    return {k: float(v) for k, v in sorted(ctx.screening.priors.items())}


def learnt_namesake_rate(result: ScanResult) -> float | None:
    """How crowded the data's names are (Tables.namesake_rate: the calibration map a name
    link was stated with), where a rule read the screening."""
    ctx = result.context
    if ctx is None or "screening" not in vars(ctx):
        return None
    return float(ctx.screening.namesake_rate)


def learnt_family_places(result: ScanResult) -> dict[str, Any] | None:
    """How far relatives share their family's region codes here (family.FamilyPlaces), where
    a rule weighed a name link with it."""
    ctx = result.context
    if ctx is None or "screening" not in vars(ctx) or "family_places" not in vars(ctx.screening):
        return None
    return described(ctx.screening.family_places)


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
        # how crowded the names are: the identity calibration's map was chosen by it
        "namesake_rate": learnt_namesake_rate(result),
        # how far relatives share the family's birthplaces: a name link's region evidence
        "family_places": learnt_family_places(result),
        "tool": "integrity",
        "version": __version__,
        "started_at": result.started_at,
        "duration_seconds": round(duration, 3),
        "stages_seconds": result.stages,
        "dataset": ds.root,
        # the files screened (file name and content), one hash: what a report and a sample cite
        "dataset_sha256": dataset_sha256(ds),
        "lenient": result.lenient,
        "engine": result.engine,
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


def _json_line(item: dict[str, Any]) -> str:
    return json.dumps(item, ensure_ascii=False, default=str)


def _write_json_lines(path: Path, lines: list[str]) -> None:
    """A JSON array with one item per line (:func:`_json_line`): json's C encoder runs only
    without ``indent``, and one line per finding still reads and diffs well."""
    path.write_text("[\n" + ",\n".join(lines) + "\n]\n", encoding="utf-8")


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    # utf-8 with BOM: Excel on a Chinese Windows opens it without garbling; cells through
    # csv_row, so that a title or a name starting with "=" is not run as a formula
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(csv_row(FIELDS))
        writer.writerows(csv_row(row[name] for name in FIELDS) for row in rows)


# findings.xlsx, for people: Chinese headers and values, the path, the evidence in words. The
# first columns print on A4 landscape; the rest are for the screen (filters, the full text)
FINDING_COLUMNS = (
    Column("finding_id", "发现编号", 16, wrap=True),
    Column("rule", "规则", 12, wrap=True),
    Column("severity", "严重程度", 6),
    Column("confidence_word", "把握", 9, wrap=True),
    Column("street", "街道", 9, wrap=True),
    Column("community", "社区", 10, wrap=True),
    Column("project_ids", "涉及项目", 15, wrap=True),
    Column("explanation", "说明", 42, wrap=True),
    Column("path", "关系路径", 22, wrap=True),
    Column("citation", "依据", 18, wrap=True),
    Column("confidence", "可信度", 8, number_format="0%"),
    Column("status", "性质", 10),
    Column("staff_ids", "涉及人员", 12, wrap=True),
    Column("suppliers", "涉及供应商", 22, wrap=True),
    Column("evidence", "证据（逐条注明来源）", 70, wrap=True),
    Column("policy", "政策配置", 15),
)
PRINTED = 10  # the columns a printed page holds
EVIDENCE_COLUMNS = (
    Column("finding_id", "发现编号", 16, wrap=True),
    Column("n", "序号", 5),
    Column("text", "证据", 80, wrap=True),
    Column("source", "来源", 30, wrap=True),
)
# what each column of findings.xlsx shows, and the field of findings.json it comes from
COLUMN_NOTES = {
    "finding_id": ("finding_id", "编号：同样的输入和政策得到同样的编号"),
    "rule": ("rule", "规则名称（findings.json 中为规则编码）"),
    "severity": ("severity", "严重程度：高、中、低"),
    "confidence_word": ("confidence", "身份关联的把握，用文字表述"),
    "street": ("street", "街道"),
    "community": ("community", "社区"),
    "project_ids": ("project_ids", "涉及的项目编号"),
    "explanation": ("explanation", "说明：可以照读的一句话"),
    "path": ("details.path", "关系路径：人、亲属关系和任职，逐环列出"),
    "citation": ("citation", "依据的条款"),
    "confidence": ("confidence", "身份关联可信度（百分比）；低于50%为线索待核"),
    "status": ("status", "风险提示，或线索待核（身份尚须核实）"),
    "staff_ids": ("staff_ids", "涉及的公职人员编号"),
    "suppliers": ("suppliers", "涉及的供应商：统一社会信用代码，无则名称"),
    "evidence": ("evidence", "证据：逐条注明来源文件与行号（“证据明细”页逐行列出，便于打印）"),
    "policy": ("policy", "政策配置"),
    "triage": ("", "处理状态（服务端）"),
    "triage_reason": ("", "最近一次处理意见（服务端）"),
}


def human_row(finding: Finding) -> dict[str, Any]:
    """A finding as findings.xlsx shows it (the exports of the service too)."""
    return {
        "finding_id": finding.finding_id,
        "rule": rule_title(finding.rule),
        "severity": SEVERITIES.get(finding.severity, finding.severity),
        "confidence": float(finding.confidence),
        "confidence_word": confidence_word(float(finding.confidence)),
        "status": finding.status,
        "street": finding.street or "",
        "community": finding.community or "",
        "project_ids": "、".join(finding.project_ids),
        "staff_ids": "、".join(finding.staff_ids),
        "suppliers": "、".join(finding.suppliers),
        "explanation": finding.explanation,
        "path": relation_path(finding),
        "citation": finding.citation,
        "evidence": plain_evidence(finding),
        "policy": finding.policy,
        # the steps one by one, for the 证据明细 sheet (masked with the row)
        "_steps": [[plain_step(e), where(e.to_dict()["source"])] for e in finding.evidence],
    }


NOTE_COLUMNS = (
    Column("header", "列", 20),
    Column("field", "findings.json 字段", 18),
    Column("meaning", "说明", 70, wrap=True),
)


def evidence_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The evidence of human_row's rows, a row per step (a printed page holds them)."""
    return [
        {"finding_id": row["finding_id"], "n": n, "text": text, "source": source}
        for row in rows
        for n, (text, source) in enumerate(row.get("_steps") or [], 1)
    ]


def write_findings_xlsx(
    target: Path | BinaryIO, rows: list[dict[str, Any]], extra: Sequence[Column] = ()
) -> None:
    """The findings (human_row's rows, masked by the caller where it must) as a workbook
    through the one workbook writer: the findings (their first columns print on A4), the
    evidence a row per step, and what each column holds."""
    columns = (*FINDING_COLUMNS, *extra)
    notes = [
        {
            "header": c.header,
            "field": COLUMN_NOTES.get(c.key, ("", ""))[0],
            "meaning": COLUMN_NOTES.get(c.key, ("", c.header))[1],
        }
        for c in columns
    ]
    write_workbook(
        target,
        [
            Sheet("发现清单", columns, rows, title="廉洁风险筛查发现清单", print_columns=PRINTED),
            Sheet("证据明细", EVIDENCE_COLUMNS, evidence_rows(rows), title="各项发现的证据"),
            Sheet("字段说明", NOTE_COLUMNS, notes, title="各列的含义"),
        ],
    )


def write_outputs(
    result: ScanResult,
    out_dir: str | Path,
    started: float,
    *,
    jobs: int = 1,
    by_street: str | None = None,
    show_ids: bool = False,
) -> dict[str, Any]:
    """Write the four files into ``out_dir``; returns the run record written as run.json.
    Resident ID numbers are masked in every file (:func:`integrity.masking.mask`) unless
    ``show_ids`` (an admin's run: the command line's ``--show-id-numbers``).
    ``jobs`` 2 (the command line: see :mod:`integrity.forked`): findings.xlsx, the slowest,
    is written in a forked child while this process writes the others. ``by_street``
    (``jsonl`` or ``parquet``): the findings also partitioned by street
    (:mod:`integrity.documents.partitions`), replacing an earlier run's."""
    out = Path(out_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    workbook: Forked[None] | None = None
    findings, lines = as_written(result.findings, show_ids=show_ids)
    try:
        if jobs >= 2 and can_fork():
            workbook = Forked("integrity-workbook", _findings_xlsx, findings, staging)
        else:
            _findings_xlsx(findings, staging)
        rows = [flat_row(f) for f in findings]
        _write_json_lines(staging / "findings.json", lines)
        _write_csv(staging / "findings.csv", rows)
        extra = write_reports(findings, staging)
        partitioned = (
            write_by_street(findings, rows, staging / FOLDER, by_street) if by_street else None
        )
        if workbook is not None:
            workbook.result()
        result.stages["write"] = round(time.perf_counter() - t0, 4)
        record = run_record(result, time.perf_counter() - started)
        record["reports"] = extra
        if partitioned is not None:
            record["by_street"] = partitioned
        record["id_numbers"] = "shown" if show_ids else "masked"
        if not show_ids:
            record = mask(record)
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
        # the same for the partitions: an earlier run's beside these findings would mislead
        shutil.rmtree(out / FOLDER, ignore_errors=True)
        if partitioned is not None:
            os.replace(staging / FOLDER, out / FOLDER)
    finally:
        if workbook is not None:  # failed here: the child's work is moot
            workbook.close()
        shutil.rmtree(staging, ignore_errors=True)
    return record


def as_written(
    findings: list[Finding], *, show_ids: bool = False
) -> tuple[list[Finding], list[str]]:
    """The findings as the files show them, masked unless ``show_ids``, and each one's line
    of findings.json. Each is serialised once: one whose text could hold no resident ID number
    (:func:`integrity.masking.could_hold_id`: no fifteen digits in a row, nothing NFKC turns
    into a digit, no percent-encoding; on a city's findings 95% of them) is kept as it is, the
    others read back masked; walking every string of every finding took seconds."""
    out, lines = [], []
    for finding in findings:
        item = finding.to_dict()
        shown, line = finding, _json_line(item)
        if not show_ids and could_hold_id(line):
            shown = finding_from_dict(mask(item))
            line = _json_line(shown.to_dict())
        out.append(shown)
        lines.append(line)
    return out, lines


def _findings_xlsx(findings: list[Finding], staging: Path) -> None:
    write_findings_xlsx(staging / "findings.xlsx", [human_row(f) for f in findings])
