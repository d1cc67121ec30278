"""The audit report of one screening: 报告.html and 报告.pdf from the same template.

A cover (district, profile, dataset SHA-256, dates, tool version), summary tables by street,
rule and severity with charts, the programme provisions and their status, the inspection
sample with its provenance, and each high-severity finding with its path picture and its
evidence row by row. The PDF is the HTML laid out on A4 by WeasyPrint, Chinese fonts embedded.
Written all or nothing, like the scan's own files.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from integrity import __version__
from integrity.documents import charts
from integrity.documents.paths import path_of
from integrity.documents.words import confidence_words, plain_step, rule_title, where
from integrity.findings import Finding, finding_from_dict
from integrity.provisions import STATUS_ZH

REPORT_FILES = ("报告.html", "报告.pdf")
# the high-severity findings drawn in full (a picture and the rows each); the rest, in a city's
# screening, are in findings.xlsx: a report is read, and made in seconds, not minutes
MAX_HIGH_SHOWN = 200


class ReportError(ValueError):
    """The folder is not a screening's output (no run.json / findings.json)."""


@dataclass
class ScanOutput:
    """What a scan wrote, read back: the run record and the findings."""

    folder: Path | None  # None: read from the service's store
    run: dict[str, Any]
    findings: list[Finding]
    sample: dict[str, Any] | None = None

    @classmethod
    def read(cls, folder: Path, sample: Path | None = None) -> ScanOutput:
        try:
            run = json.loads((folder / "run.json").read_text(encoding="utf-8"))
            raw = json.loads((folder / "findings.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ReportError(
                f"{folder} 不是筛查结果目录（需要 run.json 与 findings.json）/ "
                f"not a screening's output folder (run.json and findings.json): {exc}"
            ) from exc
        drawn = None
        if sample is not None:
            path = sample / "sample.json" if sample.is_dir() else sample
            try:
                drawn = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise ReportError(f"抽查样本无法读取 / the sample cannot be read: {exc}") from exc
            # a sample drawn from another dataset or under another profile is not this one's
            given = drawn.get("provenance") or {}
            ours = (run.get("dataset_sha256"), run.get("policy", {}).get("name"))
            theirs = (given.get("dataset_sha256"), given.get("policy"))
            if theirs != ours:
                raise ReportError(
                    "抽查样本不是从本次筛查的数据集与政策抽取的 / the sample was not drawn from "
                    f"this screening's dataset and profile: {theirs} against {ours}"
                )
        return cls(folder, run, [finding_from_dict(d) for d in raw], drawn)


def _severity_counts(findings: list[Finding]) -> dict[str, int]:
    c = Counter(f.severity for f in findings)
    return {"high": c["high"], "medium": c["medium"], "low": c["low"], "total": len(findings)}


def context(scan: ScanOutput, today: dt.date | None = None) -> dict[str, Any]:
    """Everything the template shows, computed once."""
    run, findings = scan.run, scan.findings
    policy = run.get("policy", {})
    streets = sorted({f.street or "（未注明街道）" for f in findings})
    rules = sorted(
        {f.rule for f in findings}, key=lambda r: (-sum(f.rule == r for f in findings), r)
    )
    by_street = [
        {
            "name": s,
            **_severity_counts([f for f in findings if (f.street or "（未注明街道）") == s]),
        }
        for s in streets
    ]
    by_rule = [
        {
            "title": rule_title(r),
            "citation": next(f.citation for f in findings if f.rule == r),
            **_severity_counts([f for f in findings if f.rule == r]),
        }
        for r in rules
    ]
    pairs = Counter((f.rule, f.street or "（未注明街道）") for f in findings)
    street_rule = [
        {"rule": rule_title(r), "cells": [pairs[(r, s)] for s in streets]} for r in rules
    ]
    provisions = [
        p
        | {
            "status_zh": STATUS_ZH.get(p["status"], p["status"]),
            "rule_title": rule_title(p["rule"]) if p.get("rule") else "",
        }
        for p in run.get("provisions", [])
    ]
    month = charts.by_month(findings)
    severe = [f for f in findings if f.severity == "high"]
    high = [_high(f) for f in severe[:MAX_HIGH_SHOWN]]
    label = str(policy.get("label", ""))
    return {
        "title": f"{label}廉洁风险筛查报告",
        "short_title": "廉洁风险筛查报告",
        "summary": (
            f"发现 {len(findings)} 条，其中高风险 {_severity_counts(findings)['high']} 条；"
            f"涉及 {len([s for s in streets if s != '（未注明街道）'])} 个街道。"
        ),
        "profile": policy,
        "dataset_name": Path(str(run.get("dataset", ""))).name,
        "dataset_sha256": run.get("dataset_sha256", "（未记录）"),
        "started_at": str(run.get("started_at", ""))[:19].replace("T", " "),
        "today": str(today or dt.date.today()),
        "version": __version__,
        "inputs": run.get("inputs", []),
        "rows_read": sum(int(i.get("rows", 0)) for i in run.get("inputs", [])),
        "counts": {
            "total": len(findings),
            "by_severity": _severity_counts(findings),
            "leads": sum(f.is_lead for f in findings),
        },
        "by_street": by_street,
        "by_rule": by_rule,
        "street_rule_columns": streets,
        "street_rule": street_rule,
        "charts": {
            "street": charts.to_svg(charts.by_street(findings)) if findings else "",
            "rule": charts.to_svg(charts.by_rule(findings)) if findings else "",
            "month": charts.to_svg(month) if month is not None else "",
        },
        "provisions": provisions,
        "provision_counts": Counter(p["status"] for p in provisions),
        "sample": scan.sample,
        "high": high,
        "high_total": len(severe),
    }


def _high(f: Finding) -> dict[str, Any]:
    path = path_of(f.to_dict())
    return {
        "finding_id": f.finding_id,
        "title": rule_title(f.rule),
        "where": "".join(x for x in (f.street, f.community) if x) or "（未注明街道）",
        "status": f.status,
        # how sure an identity link is: said only where the finding rests on one
        "confidence": confidence_words(float(f.confidence))
        if any(e.kind == "identity" for e in f.evidence)
        else "",
        "explanation": f.explanation,
        "citation": f.citation,
        "picture": charts.to_svg(charts.path_picture(path)) if path else "",
        "evidence": [
            {"text": plain_step(e), "source": where(e.to_dict()["source"])} for e in f.evidence
        ],
    }


def render_html(scan: ScanOutput, today: dt.date | None = None) -> str:
    """The report as HTML (its pictures drawn one document at a time: matplotlib's settings
    are process-wide)."""
    with charts.DRAWING:
        return _render_html(scan, today)


def _render_html(scan: ScanOutput, today: dt.date | None = None) -> str:
    env = Environment(
        loader=PackageLoader("integrity", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env.get_template("report.html").render(**context(scan, today))


def render_pdf(html: str) -> bytes:
    """The HTML laid out on A4 (WeasyPrint; fonts found by fontconfig, embedded)."""
    from weasyprint import HTML  # noqa: PLC0415 - slow to import; only the report needs it

    data: bytes = HTML(string=html).write_pdf()
    return data


def write_report(
    scan_dir: Path, out_dir: Path, *, sample: Path | None = None, today: dt.date | None = None
) -> list[Path]:
    """报告.html and 报告.pdf into ``out_dir``, both or neither."""
    scan = ScanOutput.read(scan_dir, sample)
    try:
        html = render_html(scan, today)
        pdf = render_pdf(html)
    except (charts.FontMissingError, OSError) as exc:
        raise ReportError(f"报告无法生成 / the report cannot be made: {exc}") from exc
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        (staging / REPORT_FILES[0]).write_text(html, encoding="utf-8")
        (staging / REPORT_FILES[1]).write_bytes(pdf)
        out_dir.mkdir(parents=True, exist_ok=True)
        for name in REPORT_FILES:
            os.replace(staging / name, out_dir / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return [out_dir / name for name in REPORT_FILES]
