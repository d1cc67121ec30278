"""The inspection sample of 第二十五条: at least the rate, every community, weighted by risk.

The district's special inspection (专项抽查) must cover at least 20% of the projects a year
and every community. The sample is drawn in two passes, both reproducible from the seed:

1. one project from each community (so that every community is covered), chosen with
   probability proportional to its risk;
2. the rest, up to the rate, drawn from all remaining projects with probability proportional
   to risk (weighted sampling without replacement, Efraimidis–Spirakis keys).

A project's risk is 1 plus the weight of the findings that name it (high 4, medium 2, low 1,
a lead counted at half), so a project without findings can still be drawn, and the reason each
project was drawn is written beside it.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from integrity.documents.workbook import Column, Sheet, write_workbook
from integrity.findings import Finding

WEIGHT = {"high": 4.0, "medium": 2.0, "low": 1.0}


@dataclass(frozen=True)
class Sample:
    rows: list[dict[str, Any]]
    population: int
    rate: float
    seed: int
    communities: int
    # where it was drawn from: dataset SHA-256, profile, tool version, when
    provenance: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "provenance": self.provenance,
            "rate": self.rate,
            "seed": self.seed,
            "population": self.population,
            "drawn": len(self.rows),
            "communities_covered": self.communities,
            "projects": self.rows,
        }


def risk_of(projects: pd.DataFrame, findings: list[Finding]) -> pd.DataFrame:
    """Risk weight and the findings naming each project."""
    weight: dict[str, float] = {}
    named: dict[str, list[str]] = {}
    for f in findings:
        w = WEIGHT[f.severity] * (0.5 if f.is_lead else 1.0)
        for pid in f.project_ids:
            weight[pid] = weight.get(pid, 0.0) + w
            named.setdefault(pid, []).append(f"{f.rule}:{f.finding_id}")
    ids = projects["project_id"].astype(str)
    return projects.assign(
        _risk=1.0 + ids.map(weight).fillna(0.0),
        _findings=ids.map(lambda p: named.get(p, [])),
    )


def draw(projects: pd.DataFrame, findings: list[Finding], *, rate: float, seed: int) -> Sample:
    if not 0 < rate <= 1:
        raise ValueError(f"抽查比例须在0到1之间 / rate must be in (0, 1]: {rate}")
    frame = risk_of(projects.reset_index(drop=True), findings)
    rng = np.random.default_rng(seed)
    # Efraimidis–Spirakis: the k largest u ** (1 / w) are a weighted sample without replacement
    keys = rng.random(len(frame)) ** (1.0 / frame["_risk"].to_numpy(dtype=float))
    frame = frame.assign(_key=keys)
    place = frame.get("community", pd.Series(None, index=frame.index)).fillna(
        frame.get("street", pd.Series("（未注明）", index=frame.index)).fillna("（未注明）")
    )
    frame = frame.assign(_place=place)
    chosen: dict[int, str] = {}
    for _, group in frame.groupby("_place", sort=True):
        top = group.sort_values("_key", ascending=False).index[0]
        chosen[int(top)] = "覆盖社区：本社区按风险加权抽取一个"
    need = max(math.ceil(rate * len(frame)), len(chosen))
    rest = frame.drop(index=list(chosen)).sort_values("_key", ascending=False)
    for i in rest.index[: max(0, need - len(chosen))]:
        chosen[int(i)] = "按风险加权抽取"
    rows = []
    for order, i in enumerate(
        sorted(chosen, key=lambda i: (str(frame.at[i, "_place"]), str(frame.at[i, "project_id"]))),
        1,
    ):
        r: dict[str, Any] = {str(k): v for k, v in frame.loc[i].to_dict().items()}
        reason = chosen[i]
        if r["_findings"]:
            reason += f"；涉及{len(r['_findings'])}条发现"
        rows.append(
            {
                "order": order,
                "street": None if pd.isna(r.get("street")) else str(r.get("street")),
                "community": None if pd.isna(r.get("community")) else str(r.get("community")),
                "project_id": str(r["project_id"]),
                "name": str(r["name"]),
                "category": str(r["category"]),
                "amount_wan": round(float(r["amount"]) / 10_000, 2),
                "risk": round(float(r["_risk"]), 2),
                "findings": list(r["_findings"]),
                "reason": reason,
            }
        )
    return Sample(rows, len(frame), rate, seed, int(frame["_place"].nunique()))


SAMPLE_COLUMNS = (
    Column("order", "序号", 6),
    Column("street", "街道", 12),
    Column("community", "社区", 14),
    Column("project_id", "项目编号", 18),
    Column("name", "项目名称", 28, wrap=True),
    Column("category", "类别", 8),
    Column("amount_wan", "金额（万元）", 11, number_format="0.00"),
    Column("risk", "风险权重", 9, number_format="0.0"),
    Column("findings", "相关发现", 28, wrap=True),
    Column("reason", "抽取理由", 40, wrap=True),
)


def _write_xlsx(sample: Sample, path: Path) -> None:
    """One sheet through the one workbook writer: the sample's provenance as its title."""
    rows = [r | {"findings": "\n".join(r["findings"])} for r in sample.rows]
    title = (
        f"专项抽查样本：{sample.population}个项目中抽取{len(sample.rows)}个"
        f"（比例不低于{sample.rate:.0%}，覆盖{sample.communities}个社区，随机种子{sample.seed}）"
    )
    p = sample.provenance
    notes = (
        [
            f"数据集 SHA-256：{p.get('dataset_sha256', '')}；政策配置：{p.get('policy', '')}；"
            f"工具版本：integrity {p.get('version', '')}；抽取时间：{p.get('drawn_at', '')}"
        ]
        if p
        else []
    )
    write_workbook(path, [Sheet("抽查样本", SAMPLE_COLUMNS, rows, title=title, notes=notes)])


def write_sample(sample: Sample, out_dir: Path) -> list[Path]:
    """sample.json and sample.xlsx, written together or not at all."""
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        (staging / "sample.json").write_text(
            json.dumps(sample.to_dict(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        _write_xlsx(sample, staging / "sample.xlsx")
        out_dir.mkdir(parents=True, exist_ok=True)
        written = []
        for name in ("sample.json", "sample.xlsx"):
            os.replace(staging / name, out_dir / name)
            written.append(out_dir / name)
        return written
    finally:
        shutil.rmtree(staging, ignore_errors=True)
