"""works_share: a street's works (工程类) funds below the programme's share of its funds."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal

import pandas as pd

from integrity.findings import Finding
from integrity.policy import ProgrammeSettings
from integrity.programme import (
    GroupFinding,
    plain,
    records,
    row_step,
    share,
    wan,
    with_years,
    year_text,
)
from integrity.rules.registry import ScanContext, rule

MIN_RATIO = "works_share.min_ratio"


class WorksShareSettings(ProgrammeSettings):
    # the share is of the street's quota where a street_quotas row gives it (the clause's
    # 总配额), else of what the street spent; "spending" always uses the spending
    basis: Literal["quota_else_spending", "spending"] = "quota_else_spending"


def _quotas(ctx: ScanContext) -> dict[tuple[str, Any], dict[str, Any]]:
    """street_quotas rows by (street, year); a row without a year stands for every year."""
    if not ctx.dataset.has("street_quotas"):
        return {}
    out: dict[tuple[str, Any], dict[str, Any]] = {}
    for r in records(ctx.dataset.table("street_quotas")):
        if isinstance(r.get("street"), str) and pd.notna(r.get("quota")):
            year = int(r["year"]) if pd.notna(r.get("year")) else None
            out[(r["street"], year)] = r
    return out


@rule(
    "works_share",
    title="工程类资金占比不足",
    settings=WorksShareSettings,
    needs=("projects",),
    screening=False,
    checks={MIN_RATIO: ("projects.street", "projects.category", "projects.amount")},
    programme=True,
)
def works_share(ctx: ScanContext, settings: WorksShareSettings) -> Iterator[Finding]:
    """某街道某年度工程类项目的总资金低于规定比例（龙岗：不低于街道总配额的55%）。

    有街道配额表（街道配额）时按该街道该年度的总配额计算占比，否则按该街道当年全部项目金额
    计算，并在说明中写明依据。列出该街道当年的全部项目，供逐行核对。
    """
    provision = settings.provision(MIN_RATIO)
    threshold = settings.value(MIN_RATIO)
    if provision is None or threshold is None:
        return
    projects = with_years(ctx.dataset.table("projects"))
    projects = projects[projects["street"].notna() & projects["amount"].notna()]
    quotas = _quotas(ctx) if settings.basis == "quota_else_spending" else {}
    for (street, key), rows in projects.groupby(["street", "_year"], sort=True):
        year = plain(key)
        works = float(rows.loc[rows["category"] == "工程类", "amount"].sum())
        spent = float(rows["amount"].sum())
        quota_row = quotas.get((str(street), year if isinstance(year, int) else None)) or (
            quotas.get((str(street), None))
        )
        if quota_row is not None:
            base, basis = float(quota_row["quota"]), "街道总配额"
        else:
            base = spent
            basis = "街道当年项目总金额（" + (
                "街道配额表中无该街道该年度）" if quotas else "未提供街道配额表）"
            )
        if base <= 0 or works / base >= threshold:
            continue
        extra = []
        if quota_row is not None:
            extra.append(
                row_step(
                    "street_quotas",
                    quota_row,
                    f"街道配额：{street} {year_text(year)}总配额{wan(base)}",
                )
            )
        figures = {
            "works_amount": works,
            "base_amount": base,
            "basis": "quota" if quota_row is not None else "spending",
            "share": round(works / base, 4),
            "threshold": threshold,
            "spent_amount": spent,
        }
        yield GroupFinding(
            rule="works_share",
            provision=provision,
            severity="medium",
            explanation=(
                f"{street}{year_text(year)}工程类项目资金{wan(works)}，占{basis}{wan(base)}的"
                f"{share(works, base)}，低于规定的{threshold:.0%}。"
            ),
            scope={"street": street, "year": year},
            figures=figures,
            figure_text=(
                f"工程类资金{wan(works)} ÷ {basis}{wan(base)} = {share(works, base)}"
                f"（下限{threshold:.0%}）"
            ),
            rows=rows,
            extra_steps=extra,
        ).build(ctx.profile)
