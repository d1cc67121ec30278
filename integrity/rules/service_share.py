"""service_share: a community's services (服务类) below the programme's share of its projects
or of its funds."""

from __future__ import annotations

from collections.abc import Iterator

from integrity.findings import Finding
from integrity.policy import ProgrammeSettings
from integrity.programme import GroupFinding, ledger, place, share, wan, year_text
from integrity.rules.registry import ScanContext, rule

PROJECTS_MIN = "service_share.project_share_min"
FUNDS_MIN = "service_share.fund_share_min"
COLUMNS = ("projects.community", "projects.category", "projects.amount")


@rule(
    "service_share",
    title="服务类占比不足",
    settings=ProgrammeSettings,
    needs=("projects",),
    screening=False,
    checks={PROJECTS_MIN: COLUMNS, FUNDS_MIN: COLUMNS},
    programme=True,
)
def service_share(ctx: ScanContext, settings: ProgrammeSettings) -> Iterator[Finding]:
    """某村居（社区）某年度服务类项目的个数或资金占比低于规定（海沧：均不低于40%）。

    按社区和年度分组，分别计算服务类项目个数占全部项目个数之比、服务类项目资金占全部项目
    资金之比；两项都低时合为一条，写明两个比例。
    """
    projects = ledger(ctx.dataset)
    projects = projects[projects["community"].notna() & projects["amount"].notna()]
    by_count, by_funds = settings.provision(PROJECTS_MIN), settings.provision(FUNDS_MIN)
    min_count, min_funds = settings.value(PROJECTS_MIN), settings.value(FUNDS_MIN)
    for (street, community, year), rows in projects.groupby(
        [projects["street"].fillna(""), "community", "_year"], sort=True
    ):
        services = rows[rows["category"] == "服务类"]
        n, n_all = len(services), len(rows)
        funds, funds_all = float(services["amount"].sum()), float(rows["amount"].sum())
        low = []
        if by_count is not None and min_count is not None and n < min_count * n_all:
            low.append(by_count)
        if by_funds is not None and min_funds is not None and funds < min_funds * funds_all:
            low.append(by_funds)
        if not low:
            continue
        where = place(street, community)
        said = []
        if by_count in low:
            said.append(f"服务类项目{n}个，占全部{n_all}个项目的{share(n, n_all)}")
        if by_funds in low:
            said.append(
                f"服务类资金{wan(funds)}，占全部项目资金{wan(funds_all)}的{share(funds, funds_all)}"
            )
        thresholds = "、".join(f"{p.topic}{float(p.value or 0):.0%}" for p in low)
        yield GroupFinding(
            rule="service_share",
            provision=low[0],
            also=low[1:],
            severity="low",
            explanation=f"{where}{year_text(year)}{'；'.join(said)}，低于规定（{thresholds}）。",
            scope={"street": street or None, "community": community, "year": year},
            figures={
                "service_projects": n,
                "projects": n_all,
                "project_share": round(n / n_all, 4) if n_all else None,
                "service_amount": funds,
                "amount": funds_all,
                "fund_share": round(funds / funds_all, 4) if funds_all else None,
                "project_share_min": min_count,
                "fund_share_min": min_funds,
            },
            figure_text=(
                f"服务类 {n}/{n_all} 个 = {share(n, n_all)}；"
                f"资金 {wan(funds)}/{wan(funds_all)} = {share(funds, funds_all)}"
            ),
            rows=rows,
        ).build(ctx.profile)
