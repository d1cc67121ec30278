"""lifecycle: a project accepted before it was awarded, or not accepted by the end of the year
it was awarded in."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pandas as pd

from integrity.findings import Finding
from integrity.policy import ProgrammeSettings
from integrity.programme import GroupFinding, project_label, records, rows_of
from integrity.rules.registry import ScanContext, rule

AFTER_AWARD = "lifecycle.accepted_after_award"
BY_YEAR_END = "lifecycle.accepted_by_year_end"


class LifecycleSettings(ProgrammeSettings):
    # the day the ledger is read as of: a year is over when this is past its 31 December
    # (default: the day of the run, written in the finding)
    as_of: dt.date | None = None


@rule(
    "lifecycle",
    title="验收异常",
    settings=LifecycleSettings,
    needs=("projects",),
    screening=False,
    checks={
        AFTER_AWARD: ("projects.award_date", "projects.acceptance_date"),
        BY_YEAR_END: ("projects.award_date", "projects.acceptance_date"),
    },
    programme=True,
)
def lifecycle(ctx: ScanContext, settings: LifecycleSettings) -> Iterator[Finding]:
    """项目验收日期早于签约日期（先验收后签约，台账或程序可能不实）；或项目签约的年度已经结束，
    却没有验收日期（未验收）或验收日期已跨入下一年度。

    年度是否结束按运行当日判断（政策配置可指定 as_of 日期）：年度未结束的项目不作判断。没有
    签约日期的项目不作判断。
    """
    projects = ctx.dataset.table("projects")
    if "award_date" not in projects.columns:
        return
    awarded = projects[projects["award_date"].notna()]
    accepted = (
        awarded["acceptance_date"]
        if "acceptance_date" in awarded.columns
        else pd.Series(pd.NaT, index=awarded.index)
    )
    before = settings.provision(AFTER_AWARD)
    if before is not None:
        early = awarded[accepted.notna() & (accepted < awarded["award_date"])]
        for r in records(early):
            award, accept = (
                pd.Timestamp(r["award_date"]).date(),
                pd.Timestamp(r["acceptance_date"]).date(),
            )
            yield GroupFinding(
                rule="lifecycle",
                provision=before,
                severity="medium",
                explanation=(
                    f"{project_label(r)}验收日期{accept}早于签约日期{award}，先验收后签约。"
                ),
                scope={"project": r["project_id"], "check": "accepted_before_award"},
                figures={"award_date": str(award), "acceptance_date": str(accept)},
                figure_text=f"签约日期{award}，验收日期{accept}",
                rows=rows_of(early, r),
            ).build(ctx.profile)
    year_end = settings.provision(BY_YEAR_END)
    if year_end is None:
        return
    as_of: dt.date = settings.as_of or dt.date.today()
    for r in records(awarded.assign(_accepted=accepted)):
        award = pd.Timestamp(r["award_date"]).date()
        end = dt.date(award.year, 12, 31)
        if as_of <= end:
            continue
        done = None if pd.isna(r["_accepted"]) else pd.Timestamp(r["_accepted"]).date()
        if done is not None and done <= end:
            continue
        where = project_label(r)
        if done is None:
            said = f"{award}签约，签约年度已结束，台账仍无验收日期，{award.year}年度内未验收。"
            severity, check = "medium", "never_accepted"
        else:
            said = f"{award}签约，{done}才验收，跨入下一年度。"
            severity, check = "low", "accepted_next_year"
        yield GroupFinding(
            rule="lifecycle",
            provision=year_end,
            severity=severity,  # type: ignore[arg-type]
            explanation=where + said,
            scope={"project": r["project_id"], "check": check},
            figures={"award_date": str(award), "acceptance_date": str(done) if done else None},
            figure_text=f"签约日期{award}，验收日期{done or '无'}，年度截止{end}",
            rows=rows_of(awarded, r),
        ).build(ctx.profile)
