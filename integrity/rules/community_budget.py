"""community_budget: what a community, a street or the district spends in a year against what
the programme allocates it, and (沈阳) the projects a community must run for its star level."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pandas as pd
from pydantic import Field

from integrity.findings import EvidenceStep, Finding
from integrity.policy import ProgrammeSettings, Provision
from integrity.programme import (
    NO_YEAR,
    GroupFinding,
    ledger,
    place,
    records,
    row_step,
    wan,
    year_text,
)
from integrity.rules.registry import ScanContext, rule

MAX_PER_COMMUNITY = "community_budget.max_per_community"
AVERAGE = "community_budget.average_per_community"
DISTRICT_MAX = "community_budget.district_total_max"
STAR = {
    5: "community_budget.star_five",
    4: "community_budget.star_four",
    3: "community_budget.star_three",
}
REQUIRED = "community_budget.required_basic"
OPTIONAL = {
    5: "community_budget.optional_min_five_star",
    4: "community_budget.optional_min_four_star",
    3: "community_budget.optional_min_three_star",
}
STAR_NAMES = {5: "五星级", 4: "四星级", 3: "三星级"}
SPEND = ("projects.community", "projects.amount")
STARRED = ("communities.star_level", "projects.community", "projects.name")


# 沈阳's three required basic projects, each recognised in a project's name
BASIC_PROJECTS = {
    "创建社区社工室": r"社工室|社会工作室|社工站",
    "孵化社区社会组织": r"孵化|社会组织培育|培育社会组织",
    "培育居民骨干": r"骨干|能人|达人",
}


class CommunityBudgetSettings(ProgrammeSettings):
    basic_projects: dict[str, str] = Field(default_factory=lambda: dict(BASIC_PROJECTS))


@rule(
    "community_budget",
    title="社区资金与项目数",
    settings=CommunityBudgetSettings,
    needs=("projects",),
    screening=False,
    checks={
        MAX_PER_COMMUNITY: SPEND,
        AVERAGE: ("projects.street", "projects.amount", "projects.community|communities"),
        DISTRICT_MAX: ("projects.amount",),
        **dict.fromkeys(STAR.values(), (*STARRED, "projects.amount")),
        REQUIRED: STARRED,
        **dict.fromkeys(OPTIONAL.values(), STARRED),
    },
    programme=True,
)
def community_budget(ctx: ScanContext, settings: CommunityBudgetSettings) -> Iterator[Finding]:
    """社区、街道或全区某年度的项目资金超过规定的额度，或社区未按星级开展规定的项目。

    罗湖：每个社区每年封顶200万元；龙岗：街道资金按平均每个社区200万元测算（有街道配额表时按
    配额）；海沧：全区每年不超过3000万元、每个村居约80万元；沈阳：按社区星级拨付20万、10万、
    5万元，每个社区须开展三个基础类必选项目，并按星级选取不少于6个、4个、1个自选项目。
    社区信息表填有社区配额的，社区当年的资金超过其配额也列出。有“财政资金”列时按财政资金
    计算，否则按项目金额，并在说明中写明。
    """
    projects = ledger(ctx.dataset)
    projects = projects[projects["amount"].notna()]
    funded = "funded_amount" in projects.columns and bool(projects["funded_amount"].notna().any())
    money = projects["funded_amount"].fillna(projects["amount"]) if funded else projects["amount"]
    projects = projects.assign(_money=money.astype(float))
    basis = "财政资金（无财政资金的项目按项目金额）" if funded else "项目金额"
    yield from _per_community_max(ctx, settings, projects, basis)
    yield from _average(ctx, settings, projects, basis)
    yield from _community_quota(ctx, settings, projects, basis)
    yield from _district(ctx, settings, projects, basis)
    yield from _stars(ctx, settings, projects, basis)


def _spend_finding(
    ctx: ScanContext,
    provision: Provision,
    scope: dict[str, Any],
    rows: pd.DataFrame,
    spent: float,
    limit: float,
    what: str,
    basis: str,
    severity: Any = "medium",
    extra: list[EvidenceStep] | None = None,
) -> Finding:
    return GroupFinding(
        rule="community_budget",
        provision=provision,
        severity=severity,
        explanation=f"{what}{basis}合计{wan(spent)}，超过{wan(limit)}的额度。",
        scope=scope,
        figures={"spent": spent, "limit": limit, "over": spent - limit, "basis": basis},
        figure_text=f"{basis}合计{wan(spent)}，额度{wan(limit)}，超出{wan(spent - limit)}",
        rows=rows,
        extra_steps=extra or [],
    ).build(ctx.profile)


def _per_community_max(
    ctx: ScanContext, settings: ProgrammeSettings, projects: pd.DataFrame, basis: str
) -> Iterator[Finding]:
    provision, limit = settings.provision(MAX_PER_COMMUNITY), settings.value(MAX_PER_COMMUNITY)
    if provision is None or limit is None:
        return
    frame = projects[projects["community"].notna()]
    for (street, community, year), rows in frame.groupby(
        [frame["street"].fillna(""), "community", "_year"], sort=True
    ):
        spent = float(rows["_money"].sum())
        if spent > limit:
            yield _spend_finding(
                ctx,
                provision,
                {"street": street, "community": community, "year": year},
                rows,
                spent,
                limit,
                f"{place(street, community)}{year_text(year)}",
                basis,
            )


def _communities(ctx: ScanContext) -> pd.DataFrame | None:
    return ctx.dataset.table("communities") if ctx.dataset.has("communities") else None


def _average(
    ctx: ScanContext, settings: ProgrammeSettings, projects: pd.DataFrame, basis: str
) -> Iterator[Finding]:
    provision, average = settings.provision(AVERAGE), settings.value(AVERAGE)
    if provision is None or average is None:
        return
    listed = _communities(ctx)
    quotas = ctx.dataset.table("street_quotas") if ctx.dataset.has("street_quotas") else None
    if quotas is not None and "year" not in quotas.columns:
        quotas = quotas.assign(year=None)  # a row without a year stands for every year
    frame = projects[projects["street"].notna()]
    for (street, year), rows in frame.groupby(["street", "_year"], sort=True):
        spent = float(rows["_money"].sum())
        quota = None
        if quotas is not None:
            match = quotas[
                (quotas["street"] == street) & (quotas["year"].isna() | (quotas["year"] == year))
            ]
            # the year's own row before a row for every year
            match = match.assign(_any=match["year"].isna()).sort_values("_any", kind="stable")
            quota = records(match)[0] if len(match) else None
        if quota is not None:
            limit = float(quota["quota"])
            extra = [row_step("street_quotas", quota, f"街道配额：{street}总配额{wan(limit)}")]
            what = f"{street}{year_text(year)}（按街道总配额）"
        else:
            if listed is not None and (listed["street"] == street).any():
                names = set(listed.loc[listed["street"] == street, "community"])
                source = "社区信息表"
            else:
                names = set(rows["community"].dropna())
                source = "台账中出现的社区"
            if not names:
                continue
            limit = average * len(names)
            extra = []
            what = f"{street}{year_text(year)}（{source}{len(names)}个社区 × 平均{wan(average)}）"
        if spent > limit:
            yield _spend_finding(
                ctx,
                provision,
                {"street": street, "year": year},
                rows,
                spent,
                limit,
                what,
                basis,
                severity="medium" if quota is not None else "low",
                extra=extra,
            )


def _community_quota(
    ctx: ScanContext, settings: ProgrammeSettings, projects: pd.DataFrame, basis: str
) -> Iterator[Finding]:
    """A community's own allocation (社区信息.配额) as the street's quota is split: its
    spending in the year over it, under the clause that sets the allocations."""
    provision = settings.provision(AVERAGE)
    listed = _communities(ctx)
    if provision is None or listed is None or "quota" not in listed.columns:
        return
    for c in records(listed[listed["quota"].notna()]):
        for year, rows in projects[projects["community"] == c["community"]].groupby("_year"):
            if pd.notna(c.get("year")) and int(c["year"]) != year:
                continue
            mine = rows[rows["street"].isna() | (rows["street"] == c["street"])]
            spent, limit = float(mine["_money"].sum()), float(c["quota"])
            if spent <= limit:
                continue
            step = row_step("communities", c, f"社区信息：{c['community']} 配额{wan(limit)}")
            yield _spend_finding(
                ctx,
                provision,
                {"street": c["street"], "community": c["community"], "year": year}
                | {"check": "community_quota"},
                mine,
                spent,
                limit,
                f"{place(c['street'], c['community'])}{year_text(year)}（按社区配额）",
                basis,
                extra=[step],
            )


def _district(
    ctx: ScanContext, settings: ProgrammeSettings, projects: pd.DataFrame, basis: str
) -> Iterator[Finding]:
    provision, limit = settings.provision(DISTRICT_MAX), settings.value(DISTRICT_MAX)
    if provision is None or limit is None:
        return
    for year, rows in projects.groupby("_year", sort=True):
        spent = float(rows["_money"].sum())
        if spent > limit:
            yield _spend_finding(
                ctx, provision, {"year": year}, rows, spent, limit, f"全区{year_text(year)}", basis
            )


def _stars(
    ctx: ScanContext, settings: CommunityBudgetSettings, projects: pd.DataFrame, basis: str
) -> Iterator[Finding]:
    listed = _communities(ctx)
    if listed is None or "star_level" not in listed.columns:
        return
    years: list[int | str] = sorted({y for y in projects["_year"] if isinstance(y, int)})
    if (projects["_year"] == NO_YEAR).any():
        years.append(NO_YEAR)
    for c in records(listed[listed["star_level"].notna()]):
        star = int(c["star_level"])
        # the year the row names, else each year the community has projects in
        named: list[int | str] | None = [int(c["year"])] if pd.notna(c.get("year")) else None
        own = projects.loc[projects["community"] == c["community"], "_year"]
        for year in named or [y for y in years if (own == y).any()]:
            mine = projects[
                (projects["community"] == c["community"])
                & (projects["street"].isna() | (projects["street"] == c["street"]))
                & (projects["_year"] == year)
            ]
            scope = {"street": c["street"], "community": c["community"], "year": year}
            star_name = STAR_NAMES.get(star, f"{star}星级")
            where = f"{place(c['street'], c['community'])}（{star_name}）{year_text(year)}"
            step = row_step("communities", c, f"社区信息：{c['community']} 星级{star}")
            key = STAR.get(star)
            provision = settings.provision(key) if key else None
            limit = settings.value(key) if key else None
            spent = float(mine["_money"].sum())
            if provision is not None and limit is not None and spent > limit:
                yield _spend_finding(
                    ctx, provision, scope, mine, spent, limit, where, basis, extra=[step]
                )
            yield from _required(ctx, settings, mine, scope, where, step, star)


def _required(
    ctx: ScanContext,
    settings: CommunityBudgetSettings,
    mine: pd.DataFrame,
    scope: dict[str, Any],
    where: str,
    step: EvidenceStep,
    star: int,
) -> Iterator[Finding]:
    names = [str(n) for n in mine["name"].dropna()]
    basic = {label: re.compile(p) for label, p in settings.basic_projects.items()}
    present = {label for label, rx in basic.items() if any(rx.search(n) for n in names)}
    required = settings.provision(REQUIRED)
    if required is not None and len(present) < len(basic):
        missing = [label for label in basic if label not in present]
        yield GroupFinding(
            rule="community_budget",
            provision=required,
            severity="medium",
            explanation=f"{where}未见基础类必选项目：{'、'.join(missing)}。",
            scope=scope | {"check": "required_basic"},
            figures={"missing": missing, "present": sorted(present)},
            figure_text=(
                f"按项目名称识别：已有{'、'.join(sorted(present)) or '无'}；"
                f"缺少{'、'.join(missing)}"
            ),
            rows=mine,
            extra_steps=[step],
        ).build(ctx.profile)
    key = OPTIONAL.get(star)
    optional = settings.provision(key) if key else None
    minimum = settings.value(key) if key else None
    if optional is None or minimum is None:
        return
    n = sum(1 for n in names if not any(rx.search(n) for rx in basic.values()))
    if n < minimum:
        yield GroupFinding(
            rule="community_budget",
            provision=optional,
            severity="low",
            explanation=f"{where}自选项目{n}个，少于规定的{int(minimum)}个。",
            scope=scope | {"check": "optional_min"},
            figures={"optional_projects": n, "min": minimum},
            figure_text=f"自选项目（基础类以外）{n}个，下限{int(minimum)}个",
            rows=mine,
            extra_steps=[step],
        ).build(ctx.profile)
