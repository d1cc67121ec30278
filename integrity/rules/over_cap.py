"""over_cap: a project whose amount exceeds the programme's cap for its category."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pandas as pd

from integrity.findings import EvidenceStep, Finding, SourceRef, finding_id, yuan_wan
from integrity.policy import Category, Profile, RuleSettings
from integrity.rules.registry import ScanContext, assessor, rule
from integrity.screening.award import Assessment, Award, AwardContext
from integrity.screening.evidence import source_label, source_ref


class OverCapSettings(RuleSettings):
    caps: dict[Category, float]  # yuan per project; a category absent here has no cap
    # 海沧 三（三）: the excess over the cap is to be self-funded, so only the funded part
    # (projects.funded_amount, 财政资金) must stay under it; without that column the finding
    # is a medium-severity prompt to check the funding
    excess_self_funded: bool = False


def _text(value: Any) -> str | None:
    return None if value is None or pd.isna(value) else str(value)


@rule(
    "over_cap",
    title="超过单项资金上限",
    settings=OverCapSettings,
    needs=("projects",),
    screening=False,
)
def over_cap(ctx: ScanContext, settings: OverCapSettings) -> Iterator[Finding]:
    """单个项目金额超过本政策对该类别（工程类、服务类、货物类）规定的单项资金上限。

    依据政策配置中各类别的上限（“不超过”即金额等于上限仍合规）逐项比对项目台账的金额；
    以万元填写的金额已换算为元。若政策规定超出部分须自筹（如海沧），则比对财政资金一列，
    缺少该列时提示核实资金来源。上限以下但接近上限的拆分项目由 split_bid 规则处理。
    """
    projects = ctx.dataset.table("projects")
    # the rows that could be over (vectorised); each judged by the function the pre-award
    # check calls
    caps = projects["category"].map(pd.Series(settings.caps, dtype=float))
    funded = projects.get("funded_amount", pd.Series(float("nan"), index=projects.index))
    could = caps.notna() & ((projects["amount"] > caps) | (funded > caps))
    for row in projects[could].to_dict("records"):
        found = judge(row, settings, ctx.profile)
        if found is not None:
            yield found


def judge(row: dict[Any, Any], settings: OverCapSettings, profile: Profile) -> Finding | None:
    """One project (a ledger row, or the award a pre-award check is asked about): the
    finding when its amount (or, where the excess is to be self-funded, its funded part)
    exceeds its category's cap."""
    caps = {str(k): float(v) for k, v in settings.caps.items()}
    cap_value = caps.get(_text(row.get("category")) or "")
    amount_value = row.get("amount")
    if cap_value is None or amount_value is None or pd.isna(amount_value):
        return None
    cap = float(cap_value)
    amount = float(amount_value)
    funded = row.get("funded_amount")
    by_funded = settings.excess_self_funded and funded is not None and not pd.isna(funded)
    checked = float(funded) if funded is not None and by_funded else amount
    if not checked > cap:
        return None
    category = str(row["category"])
    pid = str(row["project_id"])
    where = "".join(x for x in (_text(row.get("street")), _text(row.get("community"))) if x)
    supplier = _text(row.get("uscc")) if bool(row.get("uscc_valid", False)) else None
    supplier = supplier or _text(row.get("supplier_name"))
    self_funded_unknown = settings.excess_self_funded and not by_funded
    what = "财政资金" if by_funded else "金额"
    explanation = (
        f"{where}项目「{row['name']}」（{pid}，{category}）{what}{yuan_wan(checked)}，"
        f"超过{settings.clause.ref}规定的{category}单项上限{yuan_wan(cap)}，"
        f"超出{yuan_wan(checked - cap)}。"
    )
    if self_funded_unknown:
        explanation += "该政策规定超出部分由村居自筹，台账未列财政资金，请核实超出部分的资金来源。"
    evidence = [
        EvidenceStep(
            kind="project",
            text=(
                f"{source_label(row.get('_file'))}：{pid}「{row['name']}」，{category}，"
                f"金额{yuan_wan(amount)}"
                + (f"，财政资金{yuan_wan(checked)}" if by_funded else "")
                + (f"，承接单位 {row['supplier_name']}" if _text(row.get("supplier_name")) else "")
            ),
            source=source_ref(row.get("_file"), row.get("_row"), "projects"),
            data={"amount": amount, "checked_amount": checked, "category": category},
        ),
        *(
            EvidenceStep(
                kind="policy",
                text=f"{c.ref}：“{c.text}”"
                + (f"（{category}上限{yuan_wan(cap)}）" if i == 0 else ""),
                source=SourceRef(f"policy:{profile.name}"),
                data={"cap": cap} if i == 0 else {},
            )
            for i, c in enumerate(settings.clauses)
        ),
    ]
    return Finding(
        finding_id=finding_id("over_cap", profile.name, pid),
        rule="over_cap",
        severity="medium" if self_funded_unknown else "high",
        confidence=1.0,
        project_ids=[pid],
        staff_ids=[],
        suppliers=[supplier] if supplier else [],
        citation=settings.citation,
        explanation=explanation,
        evidence=evidence,
        street=_text(row.get("street")),
        community=_text(row.get("community")),
        policy=profile.name,
        details={
            "cap": cap,
            "amount": amount,
            "checked_amount": checked,
            "excess": checked - cap,
        },
    )


@assessor("over_cap")
def assess(
    award: Award, ctx: AwardContext, settings: OverCapSettings, profile: Profile
) -> Assessment:
    """The award before it is made: is its amount over its category's cap?"""
    p = award.project
    category = _text(p.get("category"))
    if category is None or p.get("amount") is None or pd.isna(p.get("amount")):
        return Assessment.unable("over_cap", "需要项目类别和金额")
    if category not in settings.caps:
        return Assessment("over_cap", reason=f"{category}无单项资金上限")
    found = judge(p, settings, profile)
    cap = yuan_wan(float(settings.caps[category]))
    return Assessment("over_cap", [found] if found else [], reason=f"{category}上限{cap}")
