"""nomination: a project chosen by fewer residents or organisations than the programme asks."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pandas as pd

from integrity.findings import EvidenceStep, Finding, SourceRef, finding_id
from integrity.policy import Profile, RuleSettings
from integrity.rules.registry import ScanContext, assessor, rule
from integrity.screening.award import Assessment, Award, AwardContext
from integrity.screening.evidence import policy_steps, project_step, source_label, source_ref, text


class NominationSettings(RuleSettings):
    min_nominators: int = 5


def nominators(ctx: ScanContext) -> pd.DataFrame:
    """The 点选 rows of the participants table (empty where there is none)."""
    if not ctx.dataset.has("participants"):
        return pd.DataFrame(columns=["project_id", "staff_id", "name", "_file", "_row"])
    part = ctx.dataset.table("participants")
    return part[part["role"] == "点选"]


@rule(
    "nomination",
    title="点选人数不足",
    settings=NominationSettings,
    needs=("projects",),
    screening=False,
    checks={"nomination.min_nominators": ()},
)
def nomination(ctx: ScanContext, settings: NominationSettings) -> Iterator[Finding]:
    """单个项目的点选居民或组织少于政策规定的人数（龙岗为5个），却进入了后续程序。

    点选人数取项目台账的“点选人数”；台账未填时，按经办与评审记录中“点选”环节的人数计。
    两者都没有的项目不作判断，只在运行记录中列为数据缺口。
    """
    projects = ctx.dataset.table("projects").rename(
        columns={"name": "project_name", "category": "project_category"}
    )
    projects = projects.rename(columns={"_file": "project_file", "_row": "project_row"})
    picked = nominators(ctx)
    ident = picked["staff_id"].astype("string")
    if "name" in picked:
        ident = ident.fillna("name:" + picked["name"].astype("string"))
    counted = ident.groupby(picked["project_id"]).nunique()
    recorded = projects.get("nominator_count", pd.Series(float("nan"), index=projects.index))
    from_rows = projects["project_id"].map(counted)
    count = recorded.where(recorded.notna(), from_rows.astype(float))
    missing = projects[count.isna()]
    if len(missing):
        ctx.note(
            "nomination",
            f"{len(missing)}个项目既无“点选人数”也无点选记录，未作判断："
            + "、".join(str(p) for p in missing["project_id"].head(20))
            + ("……" if len(missing) > 20 else ""),
        )
    # (assign before filtering: assigning a Series to an empty frame adopts its index)
    projects = projects.assign(_count=count)
    low = projects[count.notna() & (count < settings.min_nominators)]
    for row in low.sort_values("project_id").to_dict("records"):
        record = {str(k): v for k, v in row.items()}
        by_rows = pd.isna(row.get("nominator_count"))
        rows = (
            picked[picked["project_id"] == row["project_id"]].to_dict("records") if by_rows else []
        )
        found = judge(record, int(row["_count"]), rows, settings, ctx.profile)
        if found is not None:
            yield found


def judge(
    row: dict[str, Any],
    n: int,
    picked: list[dict[Any, Any]],
    settings: NominationSettings,
    profile: Profile,
) -> Finding | None:
    """One project (awarded_projects' shape; a ledger row or the award a pre-award check is
    asked about) chosen by ``n`` nominators: the finding when they are fewer than the
    programme asks. ``picked``: the 点选 rows counted, when the count comes from them."""
    if n >= settings.min_nominators:
        return None
    pid = str(row["project_id"])
    steps = [project_step(row)]
    if picked:
        steps += [
            EvidenceStep(
                kind="participation",
                text=f"经办与评审记录：{r.get('name') or r.get('staff_id')} 点选",
                source=SourceRef(str(r["_file"]), int(r["_row"]), "participants"),
            )
            for r in picked
        ]
        source = "点选记录"
    else:
        label = source_label(row.get("project_file"))
        steps.append(
            EvidenceStep(
                kind="project",
                text=f"{label}：点选人数 {n}",
                source=source_ref(row.get("project_file"), row.get("project_row"), "projects"),
            )
        )
        source = f"{label}“点选人数”"
    where = "".join(x for x in (text(row.get("street")), text(row.get("community"))) if x)
    return Finding(
        finding_id=finding_id("nomination", profile.name, pid),
        rule="nomination",
        severity="medium",
        confidence=1.0,
        project_ids=[pid],
        staff_ids=[],
        suppliers=[],
        citation=settings.citation,
        explanation=(
            f"{where}项目「{row['project_name']}」（{pid}）按{source}只有{n}个居民或组织点选，"
            f"少于规定的{settings.min_nominators}个。"
        ),
        evidence=[*steps, *policy_steps(profile.name, settings.clauses)],
        street=text(row.get("street")),
        community=text(row.get("community")),
        policy=profile.name,
        details={"nominators": n, "minimum": settings.min_nominators},
    )


@assessor("nomination")
def assess(
    award: Award, ctx: AwardContext, settings: NominationSettings, profile: Profile
) -> Assessment:
    """The award before it is made: were there enough nominators?"""
    n = award.project.get("nominator_count")
    if n is None or pd.isna(n):
        return Assessment.unable("nomination", "需要点选人数")
    found = judge(award.awarded(), int(n), [], settings, profile)
    return Assessment("nomination", [found] if found else [], reason=f"点选人数{int(n)}")
