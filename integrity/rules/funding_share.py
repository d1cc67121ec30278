"""funding_share: how a project's or a street's money is made up (海沧 三（一）): the
government's share of works and goods, the overhead inside services, and social support."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd

from integrity.findings import Finding
from integrity.policy import ProgrammeSettings
from integrity.programme import (
    GroupFinding,
    project_label,
    records,
    rows_of,
    share,
    wan,
    with_years,
    year_text,
)
from integrity.rules.registry import ScanContext, rule

GOVERNMENT_MAX = "funding_share.government_share_max"
OVERHEAD_MAX = "funding_share.overhead_max"
SOCIAL_MIN = "funding_share.social_projects_min"
BASE = ("projects.category", "projects.amount")


@rule(
    "funding_share",
    title="资金构成不合规",
    settings=ProgrammeSettings,
    needs=("projects",),
    screening=False,
    checks={
        GOVERNMENT_MAX: (*BASE, "projects.funded_amount"),
        OVERHEAD_MAX: (*BASE, "projects.overhead_amount"),
        SOCIAL_MIN: ("projects.street", "projects.social_funds"),
    },
    programme=True,
)
def funding_share(ctx: ScanContext, settings: ProgrammeSettings) -> Iterator[Finding]:
    """项目资金构成不符合规定（海沧）：工程类、货物类项目财政资金占比高于60%；服务类项目的
    管理或服务经费超过预算的10%；街道某年度有社会力量参与（社会资金大于零）的项目不足总数的
    1/3，或一个也没有。

    前两项逐个项目判断，第三项按街道和年度判断；台账缺少所需的列时该项不作判断，运行记录写明
    缺少的列。
    """
    projects = ctx.dataset.table("projects")
    yield from _government(ctx, settings, projects)
    yield from _overhead(ctx, settings, projects)
    yield from _social(ctx, settings, projects)


def _per_project(
    ctx: ScanContext,
    settings: ProgrammeSettings,
    projects: pd.DataFrame,
    key: str,
    column: str,
    categories: tuple[str, ...],
    label: str,
) -> Iterator[Finding]:
    provision, limit = settings.provision(key), settings.value(key)
    if provision is None or limit is None or column not in projects.columns:
        return
    rows = projects[
        projects["category"].isin(categories) & projects[column].notna() & (projects["amount"] > 0)
    ]
    over = rows[rows[column] > limit * rows["amount"]]
    for r in records(over):
        part, whole = float(r[column]), float(r["amount"])
        yield GroupFinding(
            rule="funding_share",
            provision=provision,
            severity="medium",
            explanation=(
                f"{project_label(r, category=True)}{label}{wan(part)}，占项目金额{wan(whole)}的"
                f"{share(part, whole)}，超过规定的{limit:.0%}。"
            ),
            scope={"project": r["project_id"]},
            figures={"part": part, "amount": whole, "share": round(part / whole, 4), "max": limit},
            figure_text=(
                f"{label}{wan(part)} ÷ 项目金额{wan(whole)} = {share(part, whole)}"
                f"（上限{limit:.0%}）"
            ),
            rows=rows_of(over, r),
        ).build(ctx.profile)


def _government(
    ctx: ScanContext, settings: ProgrammeSettings, projects: pd.DataFrame
) -> Iterator[Finding]:
    yield from _per_project(
        ctx, settings, projects, GOVERNMENT_MAX, "funded_amount", ("工程类", "货物类"), "财政资金"
    )


def _overhead(
    ctx: ScanContext, settings: ProgrammeSettings, projects: pd.DataFrame
) -> Iterator[Finding]:
    yield from _per_project(
        ctx, settings, projects, OVERHEAD_MAX, "overhead_amount", ("服务类",), "管理或服务经费"
    )


def _social(
    ctx: ScanContext, settings: ProgrammeSettings, projects: pd.DataFrame
) -> Iterator[Finding]:
    provision, minimum = settings.provision(SOCIAL_MIN), settings.value(SOCIAL_MIN)
    if provision is None or minimum is None or "social_funds" not in projects.columns:
        return
    frame = with_years(projects[projects["street"].notna()])
    for (street, year), rows in frame.groupby(["street", "_year"], sort=True):
        if rows["social_funds"].isna().all():
            ctx.note(
                "funding_share",
                f"{street}{year_text(year)}的项目均未填写社会资金（空白不等于零），"
                "未判断社会力量参与比例。",
            )
            continue
        n_all = len(rows)
        n = int((rows["social_funds"].fillna(0) > 0).sum())
        if n >= 1 and n >= minimum * n_all:
            continue
        yield GroupFinding(
            rule="funding_share",
            provision=provision,
            severity="low",
            explanation=(
                f"{street}{year_text(year)}有社会力量参与（社会资金大于零）的项目{n}个，占全部{n_all}个"
                f"项目的{share(n, n_all)}，"
                + ("一个也没有。" if n == 0 else f"低于规定的{minimum:.1%}。")
            ),
            scope={"street": street, "year": year},
            figures={
                "social_projects": n,
                "projects": n_all,
                "share": round(n / n_all, 4),
                "min": minimum,
            },
            figure_text=(
                f"社会力量参与项目 {n}/{n_all} 个 = {share(n, n_all)}"
                f"（下限{minimum:.1%}，且至少1个）"
            ),
            rows=rows,
        ).build(ctx.profile)
