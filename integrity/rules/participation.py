"""participation: residents consulted and heard as the programme requires (南山 500 households a
community a year; 沈阳 30% of households, a re-vote on objections by a fifth; 龙岗 no project
without residents' views)."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd

from integrity.findings import Finding
from integrity.policy import ProgrammeSettings
from integrity.programme import (
    GroupFinding,
    ledger,
    place,
    project_label,
    records,
    row_step,
    rows_of,
    share,
    with_years,
    year_text,
)
from integrity.rules.registry import ScanContext, rule

HOUSEHOLDS_MIN = "participation.households_min"
SHARE_MIN = "participation.household_share_min"
OBJECTION_SHARE = "participation.objection_share"
OBJECTION_DAYS = "participation.objection_days"
CONSULTED = "participation.consulted"
OBJECTIONS = ("projects.objections", "projects.households_consulted")


@rule(
    "participation",
    title="居民参与不足",
    settings=ProgrammeSettings,
    needs=("projects",),
    screening=False,
    checks={
        HOUSEHOLDS_MIN: ("projects.community", "projects.households_consulted"),
        SHARE_MIN: (
            "projects.community",
            "projects.households_consulted",
            "communities.households",
        ),
        OBJECTION_SHARE: OBJECTIONS,
        OBJECTION_DAYS: OBJECTIONS,
        CONSULTED: ("projects.households_consulted",),
    },
    programme=True,
)
def participation(ctx: ScanContext, settings: ProgrammeSettings) -> Iterator[Finding]:
    """居民参与不符合规定：社区全年征求意见的户数不足（南山：每个社区每年不少于500户）；
    项目征求意见的户数低于社区户数的规定比例（沈阳：30%）；公示期内异议户数达到征求意见户数的
    五分之一而其后未见重新议事（沈阳）；项目没有征求任何居民意见（龙岗）。

    社区全年户数按各项目征求意见户数相加计算：同一户可能对多个项目提出意见，相加之数只会
    多于实际户数，低于下限即可确认不足。
    """
    projects = ledger(ctx.dataset)
    if "households_consulted" not in projects.columns:
        return
    yield from _households(ctx, settings, projects)
    yield from _share(ctx, settings, projects)
    yield from _objections(ctx, settings, projects)
    yield from _consulted(ctx, settings, projects)


def _households(
    ctx: ScanContext, settings: ProgrammeSettings, projects: pd.DataFrame
) -> Iterator[Finding]:
    provision, minimum = settings.provision(HOUSEHOLDS_MIN), settings.value(HOUSEHOLDS_MIN)
    if provision is None or minimum is None:
        return
    frame = with_years(projects[projects["community"].notna()])
    for (street, community, year), rows in frame.groupby(
        [frame["street"].fillna(""), "community", "_year"], sort=True
    ):
        if rows["households_consulted"].isna().all():
            continue
        total = int(rows["households_consulted"].fillna(0).sum())
        if total >= minimum:
            continue
        yield GroupFinding(
            rule="participation",
            provision=provision,
            severity="medium",
            explanation=(
                f"{place(street, community)}{year_text(year)}各项目征求意见户数合计{total}户"
                f"（同一户可能重复计算，实际只会更少），少于规定的{int(minimum)}户。"
            ),
            scope={"street": street, "community": community, "year": year},
            figures={"households": total, "min": minimum},
            figure_text=f"征求意见户数合计{total}户（上限估计），下限{int(minimum)}户",
            rows=rows,
        ).build(ctx.profile)


def _share(
    ctx: ScanContext, settings: ProgrammeSettings, projects: pd.DataFrame
) -> Iterator[Finding]:
    provision, minimum = settings.provision(SHARE_MIN), settings.value(SHARE_MIN)
    if provision is None or minimum is None or not ctx.dataset.has("communities"):
        return
    listed = ctx.dataset.table("communities")
    if "households" not in listed.columns:
        return
    size = {(r["street"], r["community"]): r for r in records(listed[listed["households"].notna()])}
    by_name = {c: r for (_, c), r in size.items()}
    for r in records(projects[projects["households_consulted"].notna()]):
        c = size.get((r.get("street"), r.get("community"))) or by_name.get(r.get("community"))
        if c is None or not c["households"]:
            continue
        asked, households = int(r["households_consulted"]), int(c["households"])
        if asked >= minimum * households:
            continue
        yield GroupFinding(
            rule="participation",
            provision=provision,
            severity="medium",
            explanation=(
                f"{project_label(r)}征求意见{asked}户，占社区{households}户的"
                f"{share(asked, households)}，低于规定的{minimum:.0%}。"
            ),
            scope={"project": r["project_id"]},
            figures={"consulted": asked, "households": households, "min": minimum},
            figure_text=(
                f"征求意见 {asked}/{households} 户 = {share(asked, households)}"
                f"（下限{minimum:.0%}）"
            ),
            rows=rows_of(projects, r),
            extra_steps=[row_step("communities", c, f"社区信息：{c['community']} {households}户")],
        ).build(ctx.profile)


def _objections(
    ctx: ScanContext, settings: ProgrammeSettings, projects: pd.DataFrame
) -> Iterator[Finding]:
    provision, limit = settings.provision(OBJECTION_SHARE), settings.value(OBJECTION_SHARE)
    if provision is None or limit is None or "objections" not in projects.columns:
        return
    days = settings.provision(OBJECTION_DAYS)
    rows = projects[projects["objections"].notna() & (projects["households_consulted"] > 0)]
    for r in records(rows):
        objected, asked = int(r["objections"]), int(r["households_consulted"])
        if objected < limit * asked:
            continue
        start, council = r.get("publicity_start"), r.get("council_date")
        if pd.notna(start) and pd.notna(council) and council > start:
            continue  # the council met again after the publicity opened: a re-vote
        yield GroupFinding(
            rule="participation",
            provision=provision,
            also=[days] if days is not None else [],
            severity="medium",
            explanation=(
                f"{project_label(r)}公示期间{objected}户提出异议，达到征求意见{asked}户的"
                f"{share(objected, asked)}（规定五分之一以上应重新表决），台账未见公示开始后"
                "重新召开议事会议的日期。"
            ),
            scope={"project": r["project_id"]},
            figures={"objections": objected, "consulted": asked, "threshold": limit},
            figure_text=(
                f"异议 {objected}/{asked} 户 = {share(objected, asked)}"
                f"（达到{limit:.0%}须重新表决）"
            ),
            rows=rows_of(projects, r),
        ).build(ctx.profile)


def _consulted(
    ctx: ScanContext, settings: ProgrammeSettings, projects: pd.DataFrame
) -> Iterator[Finding]:
    provision = settings.provision(CONSULTED)
    if provision is None:
        return
    none = projects[projects["households_consulted"].eq(0).fillna(False).astype(bool)]
    for r in records(none):
        yield GroupFinding(
            rule="participation",
            provision=provision,
            severity="medium",
            explanation=(f"{project_label(r)}征求意见户数为0，未经征集群众意见即申报。"),
            scope={"project": r["project_id"]},
            figures={"consulted": 0},
            figure_text="征求意见户数 0",
            rows=rows_of(none, r),
        ).build(ctx.profile)
