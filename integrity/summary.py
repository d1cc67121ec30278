"""What a screening run prints: the consoles (wrapped only on a terminal), the summary tables
of a run, and the JSON summary `--json` writes for scripts."""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from integrity.scan import ScanResult


def _console(stderr: bool) -> Console:
    """Made per call: the terminal width (COLUMNS) is read when the command runs; output
    that is not a terminal (a file, a pipe) is not wrapped at 80 columns."""
    stream = sys.stderr if stderr else sys.stdout
    if stream.isatty() or "COLUMNS" in os.environ:
        return Console(stderr=stderr)
    return Console(stderr=stderr, width=10_000, soft_wrap=True)


def out_console() -> Console:
    return _console(stderr=False)


def err_console() -> Console:
    return _console(stderr=True)


def print_json(data: Any) -> None:
    """A summary object on stdout, for scripts (--json)."""
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


def scan_summary(record: dict[str, Any], out: Path, *, provisions: bool = True) -> dict[str, Any]:
    """What `scan --json` prints: where the files are, the counts, the rules and provisions
    not run or not checked (the rest is in run.json; ``provisions``: not for a roster
    screening, which checks none by design)."""
    summary = {
        "out": str(out),
        "files": ["findings.json", "findings.csv", "findings.xlsx", "run.json", *record["reports"]],
        "policy": record["policy"]["name"],
        "dataset_sha256": record["dataset_sha256"],
        "counts": record["counts"],
        "rules_not_run": [
            {"rule": r["rule"], "reason": r["reason"]}
            for r in record["rules"]
            if r["status"] != "run"
        ],
        "provisions_not_checked": [
            {"key": p["key"], "clause": p["clause"], "reason": p["reason"]}
            for p in record["provisions"]
            if p["status"] == "not_checked"
        ],
        "warnings": record["warnings_total"],
        "seconds": record["duration_seconds"],
    }
    if not provisions:
        del summary["provisions_not_checked"]
    return summary


def print_provisions(result: ScanResult, console: Console) -> None:
    """The provisions' counts, then a table of those not checked and why."""
    if not result.provisions:
        return
    count = Counter(p.status for p in result.provisions)
    console.print(
        f"[bold]政策条款[/bold]　共{len(result.provisions)}项：已检查{count['checked']}项，"
        f"未检查{count['not_checked']}项，不适用{count['not_applicable']}项"
    )
    unchecked = [p for p in result.provisions if p.status == "not_checked"]
    if not unchecked:
        return
    console.print("[bold]未检查的政策条款及原因[/bold]")
    for p in unchecked:
        console.print(f"  · {p.clause}　{p.topic}（{p.key}）", markup=False, soft_wrap=True)
        console.print(f"      {p.reason}", markup=False, soft_wrap=True, style="dim")


def print_summary(
    result: ScanResult,
    out_dir: Path,
    console: Console,
    reports: list[str] | None = None,
    *,
    provisions: bool = True,
) -> None:
    """The run in tables: findings by rule and severity, by street; data gaps; the rules not
    run; the programme's provisions and whether each was checked (``provisions``: not for a
    roster screening, which checks none of them by design)."""
    findings = result.findings
    profile = result.profile
    console.print(f"\n[bold]筛查完成[/bold]　政策：{profile.label}（{profile.name}）")
    by_rule = Table(title="按规则与严重程度", show_lines=False)
    for col in ("规则", "编码", "高", "中", "低", "合计", "线索"):
        # names are never cut short: a commission reads them in an 80-column terminal
        by_rule.add_column(
            col,
            justify="left" if col in ("规则", "编码") else "right",
            no_wrap=col in ("规则", "编码"),
            min_width={"规则": 16, "编码": 19, "线索": 4}.get(col),
        )
    for run in result.rule_runs:
        if run.status != "run":
            continue
        mine = [f for f in findings if f.rule == run.rule]
        sev = Counter(f.severity for f in mine)
        by_rule.add_row(
            run.title,
            run.rule,
            str(sev["high"]),
            str(sev["medium"]),
            str(sev["low"]),
            str(len(mine)),
            str(sum(f.is_lead for f in mine)),
        )
    sev_all = Counter(f.severity for f in findings)
    by_rule.add_row(
        "合计",
        "",
        str(sev_all["high"]),
        str(sev_all["medium"]),
        str(sev_all["low"]),
        str(len(findings)),
        str(sum(f.is_lead for f in findings)),
        style="bold",
    )
    console.print(by_rule)
    if findings:
        console.print(_by_street(result))
    noted = [r for r in result.rule_runs if r.notes]
    if noted:
        console.print("[bold]数据缺口（不作为违规）[/bold]")
        for r in noted:
            for message in r.notes:
                console.print(f"  · {r.title}（{r.rule}）：{message}", markup=False)
    na = result.profile.rules_not_applicable
    for title, runs in (
        ("未运行的规则", [r for r in result.rule_runs if r.status != "run" and r.rule not in na]),
        ("本政策不适用的规则", [r for r in result.rule_runs if r.rule in na]),
    ):
        if runs:
            console.print(f"[bold]{title}[/bold]")
        for r in runs:
            line = f"  · {r.title}（{r.rule}）：{r.reason}"
            console.print(line, markup=False, soft_wrap=True)
    if provisions:
        print_provisions(result, console)
    ds = result.dataset
    warnings = ds.warning_total
    skipped = sum(ds.skipped_rows.values())
    rows = sum(s.rows for s in ds.sources)
    console.print(
        f"读取 {len(ds.sources)} 张表共 {rows} 行；警告 {warnings} 条"
        + (f"；跳过有错误的行 {skipped} 行" if skipped else "")
        + "（详见 run.json）"
    )
    names = ["findings.json", "findings.csv", "findings.xlsx", "run.json", *(reports or [])]
    console.print(f"结果已写入 {out_dir}/：{'、'.join(names)}")


def _by_street(result: ScanResult) -> Table:
    """The findings by street and severity."""
    by_street = Table(title="按街道")
    for col in ("街道", "高", "中", "低", "合计"):
        by_street.add_column(col, justify="left" if col == "街道" else "right")
    streets = sorted({f.street or "（未注明街道）" for f in result.findings})
    for street in streets:
        mine = [f for f in result.findings if (f.street or "（未注明街道）") == street]
        sev = Counter(f.severity for f in mine)
        by_street.add_row(
            street, str(sev["high"]), str(sev["medium"]), str(sev["low"]), str(len(mine))
        )
    return by_street
