"""timeline: a project's steps later or shorter than the programme allows (龙岗 第十五条 in
working days, 海沧 三（四） in months)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import pandas as pd

from integrity.findings import Finding
from integrity.load.schema import TABLES
from integrity.policy import ProgrammeSettings, Provision
from integrity.programme import GroupFinding, project_label, records, rows_of
from integrity.rules.registry import ScanContext, rule
from integrity.workdays import CALENDAR_NOTE, add_working_days, working_days


@dataclass(frozen=True)
class Step:
    """One provision: from one date column to another, within a time (``within``), or a
    period at least that long (``lasts``: a publicity)."""

    first: str
    second: str
    kind: str  # "within" | "lasts"
    categories: tuple[str, ...] = ()  # only these categories (empty: all)


STEPS: dict[str, Step] = {
    "timeline.council_after_screening": Step("screening_date", "council_date", "within"),
    "timeline.council_publicity": Step("publicity_start", "publicity_end", "lasts"),
    "timeline.leadership_meeting": Step("review_date", "approved_date", "within"),
    "timeline.decision_publicity": Step(
        "decision_publicity_start", "decision_publicity_end", "lasts"
    ),
    "timeline.filing": Step("approved_date", "filing_date", "within"),
    "timeline.service_start": Step("award_date", "start_date", "within", ("服务类",)),
    "timeline.works_finish": Step("award_date", "completion_date", "within", ("工程类",)),
}


def _label(column: str) -> str:
    return TABLES["projects"].column(column).aliases[0]


@rule(
    "timeline",
    title="程序期限超期",
    settings=ProgrammeSettings,
    needs=("projects",),
    screening=False,
    checks={key: (f"projects.{s.first}", f"projects.{s.second}") for key, s in STEPS.items()},
    programme=True,
)
def timeline(ctx: ScanContext, settings: ProgrammeSettings) -> Iterator[Finding]:
    """项目的某一程序晚于规定的期限，或公示期短于规定（龙岗第十五条：筛选后5个工作日内评议、
    公示5个工作日、联合评审后10个工作日内审定、审定结果公示3个工作日、确定后5个工作日内备案；
    海沧：实施主体确定后服务项目1个月内开展、工程项目6个月内完工）。

    工作日按国家公布的节假日和调休安排计算（chinesecalendar）；尚未公布安排的年份按周一至
    周五计算，并在说明中注明。两个日期缺一的项目不作判断，只在运行记录中计数。
    """
    projects = ctx.dataset.table("projects")
    for key, step in STEPS.items():
        provision = settings.provision(key)
        if provision is None or provision.value is None:
            continue
        if step.first not in projects.columns or step.second not in projects.columns:
            continue
        rows = projects
        if step.categories:
            rows = rows[rows["category"].isin(step.categories)]
        dated = rows[rows[step.first].notna() & rows[step.second].notna()]
        undated = int((rows[step.first].notna() & rows[step.second].isna()).sum())
        if undated:
            ctx.note(
                "timeline",
                f"{provision.topic}：{undated}个项目有{_label(step.first)}而无"
                f"{_label(step.second)}，未作判断。",
            )
        for r in records(dated):
            found = _judge(ctx, provision, step, r, projects)
            if found is not None:
                yield found


def _judge(
    ctx: ScanContext, provision: Provision, step: Step, r: dict[str, object], projects: pd.DataFrame
) -> Finding | None:
    first = pd.Timestamp(r[step.first]).date()  # type: ignore[arg-type]
    second = pd.Timestamp(r[step.second]).date()  # type: ignore[arg-type]
    n = int(float(provision.value))  # type: ignore[arg-type]
    unit = provision.unit or "工作日"
    a, b = _label(step.first), _label(step.second)
    note = ""
    if step.kind == "lasts":
        if unit != "工作日":
            return None
        span = working_days(first, second)
        if span.days >= n:
            return None
        note = "" if span.official else CALENDAR_NOTE
        said = f"{a}{first}至{b}{second}共{span.days}个工作日，短于规定的{n}个工作日{note}。"
        figures: dict[str, object] = {"working_days": span.days, "required": n}
    else:
        if unit == "工作日":
            deadline, official = add_working_days(first, n)
            note = "" if official else CALENDAR_NOTE
        elif unit == "月":
            deadline = (pd.Timestamp(first) + pd.DateOffset(months=n)).date()
        elif unit in ("日", "天"):
            deadline = first + dt.timedelta(days=n)
        else:
            return None
        if second <= deadline:
            return None
        late = (second - deadline).days
        limit = f"{n}{'个' if unit in ('月', '工作日') else ''}{unit}"
        said = f"{a}{first}，{b}{second}，超过{limit}的期限（最迟应为{deadline}）{late}天{note}。"
        figures = {"deadline": str(deadline), "days_late": late, "limit": n, "unit": unit}
    figures |= {step.first: str(first), step.second: str(second)}
    return GroupFinding(
        rule="timeline",
        provision=provision,
        severity="low",
        explanation=f"{project_label(r)}{said}",
        scope={"project": r["project_id"]},
        figures=figures,
        figure_text=f"{provision.topic}：{said}",
        rows=rows_of(projects, r),
    ).build(ctx.profile)
