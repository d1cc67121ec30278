"""collusive_quotes: the quotes behind one award come from related suppliers."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import combinations
from typing import Any

import pandas as pd

from integrity import prices
from integrity.findings import LEAD_THRESHOLD, EvidenceStep, Finding, finding_id, yuan_wan
from integrity.policy import Profile, RuleSettings, Severity
from integrity.prices import PricePattern
from integrity.rules.registry import ScanContext, assessor, rule
from integrity.screening.award import Assessment, Award, AwardContext
from integrity.screening.evidence import (
    awarded_projects,
    policy_steps,
    project_step,
    source_label,
    source_ref,
    text,
)
from integrity.screening.org_relations import org_relations

SEVERITY_OF = {"same_person": "high", "kin": "high", "contact": "medium"}


class CollusiveSettings(RuleSettings):
    # losing quotes each at an exact multiple of this step above the winner (1.05, 1.10...)
    ratio_step: float = 0.05
    # independent losing quotes taken to fall evenly within this share above the winner
    # (the published 比价 records and the demo's generator: 3%-25%)
    quote_spread: float = 0.25
    # amounts read on a grid no coarser than this (yuan): 万元 with two decimals
    amount_step: float = 100.0
    # the share of quote sets taken to be coordinated before the prices are looked at
    pattern_prior: float = 0.001
    min_confidence: float = LEAD_THRESHOLD


def _quotes(ctx: ScanContext) -> pd.DataFrame:
    q = ctx.screening.keyed["quotes"].dropna(subset=["org_key"])
    q = q.assign(selected=q.get("selected", pd.Series(None, index=q.index)))
    return q


def price_pattern(rows: list[dict[Any, Any]], settings: CollusiveSettings) -> PricePattern | None:
    """Identical quotes, or every losing quote at an exact step above the winner, weighed
    against the chance that independent quotes show it (integrity.prices)."""
    return prices.find(
        rows,
        ratio_step=settings.ratio_step,
        spread=settings.quote_spread,
        max_step=settings.amount_step,
        prior=settings.pattern_prior,
    )


@rule(
    "collusive_quotes",
    title="关联供应商陪标",
    settings=CollusiveSettings,
    needs=("projects", "quotes"),
)
def collusive_quotes(ctx: ScanContext, settings: CollusiveSettings) -> Iterator[Finding]:
    """同一项目“货比三家”的报价单位之间存在关联：同一人在两家单位任职（法定代表人、股东等，
    按身份证号或姓名比对），两家单位的法定代表人等互为近亲属，或登记的联系电话、邮箱相同，
    或注册地址相同且精确到房号（仅同一栋楼不足以认定）。

    没有身份证号、只凭姓名的关联，按本数据中有身份证号的报价单位人员之间实际有多少属同一人
    或近亲属来衡量：各单位之间从不相关的数据里，同名只是巧合的可能大，置信度相应降低；两家
    单位的人员都只有姓名时，须两人的姓名同时与登记的一对亲属相符。置信度不足0.5的关联不报。

    关联报价意味着比价可能是陪标，违反政府采购法实施条例第十八条和招标投标法实施条例第四十条
    所列情形。报价金额完全相同、或落选报价恰为中选价的固定倍数（如1.05倍、1.10倍）另作为
    低严重度的价格规律信号：先算各家独立报价时（按账目的记账精度、落选价在中选价以上一定幅度内
    均匀分布）出现这种规律的概率，再按事先设定的串通比例（千分之一）换算成串通的把握；巧合
    概率大的只作线索待核，不作认定。
    """
    scr = ctx.screening
    quotes = _quotes(ctx)
    projects = awarded_projects(scr.keyed["projects"])
    co = quotes[["project_id", "org_key"]].drop_duplicates()
    pair_frame = co.merge(co, on="project_id", suffixes=("_a", "_b"))
    pair_frame = pair_frame[pair_frame["org_key_a"] < pair_frame["org_key_b"]].rename(
        columns={"org_key_a": "a", "org_key_b": "b"}
    )
    relations = (
        org_relations(scr, pair_frame[["a", "b"]], label="collusive_quotes")
        if len(pair_frame)
        else None
    )
    by_pair: dict[tuple[str, str], list[dict[Any, Any]]] = {}
    if relations is not None:
        relations = relations[relations["confidence"] >= settings.min_confidence]
        for r in relations.to_dict("records"):
            by_pair.setdefault((str(r["a"]), str(r["b"])), []).append(r)
    rows_of: dict[object, list[dict[Any, Any]]] = {}
    for q in quotes.to_dict("records"):
        rows_of.setdefault(q["project_id"], []).append(q)
    awarded = {r["project_id"]: r for r in projects.to_dict("records")}
    for pid in sorted(rows_of, key=str):
        project = awarded.get(pid, {"project_id": pid})
        found = judge(ctx.profile, settings, str(pid), rows_of[pid], by_pair, project)
        if found is not None:
            yield found


def judge(
    profile: Profile,
    settings: CollusiveSettings,
    pid: str,
    rows: list[dict[Any, Any]],
    by_pair: dict[tuple[str, str], list[dict[Any, Any]]],
    project: dict[Any, Any],
) -> Finding | None:
    """The quotes behind one award (the ledger's, or those a pre-award check is given):
    the finding when quoting suppliers are related (``by_pair``: org_relations' rows at or
    above the rule's floor, by sorted pair of organisation keys) or the prices fall in a
    pattern."""
    keys = sorted({str(r["org_key"]) for r in rows})
    links = [r for a, b in combinations(keys, 2) for r in by_pair.get((a, b), [])]
    pattern = price_pattern(rows, settings)
    if not links and pattern is None:
        return None
    severity: Severity = "low"
    for r in links:
        if SEVERITY_OF[r["kind"]] == "high":
            severity = "high"
        elif severity == "low":
            severity = "medium"
    confidence = max(
        [float(r["confidence"]) for r in links] + ([pattern.confidence] if pattern else [])
    )
    said = "；".join(str(r["label"]) for r in links)
    if pattern:
        shown = f"{pattern.said}（{pattern.words()}）"
        said = f"{said}；{shown}" if said else shown
    name = project.get("project_name", "")
    found = "之间存在关联" if links else "的报价呈规律性差异"
    chance_explains = not links and confidence < LEAD_THRESHOLD
    explanation = f"项目「{name}」（{pid}）的{len(rows)}家报价单位{found}：{said}，" + (
        "巧合的可能较大，仅作线索待核，不作认定。"
        if chance_explains
        else "比价可能为陪标，需核查“货比三家”是否真实。"
    )
    steps: list[EvidenceStep] = []
    if "project_file" in project:
        steps.append(project_step(project))
    ordered = sorted(rows, key=lambda q: (q.get("_row") is None, q.get("_row") or 0))
    for q in ordered:
        chosen = "中选" if q.get("selected") is True else ""
        amount = f"，报价{yuan_wan(float(q['amount']))}" if text(q.get("amount")) else ""
        steps.append(
            EvidenceStep(
                kind="quote",
                text=f"{source_label(q.get('_file'), 'quotes')}：{q['supplier_name']}{amount}"
                + (f"，{chosen}" if chosen else ""),
                source=source_ref(q.get("_file"), q.get("_row"), "quotes"),
                data={"organisation": q["org_key"]},
            )
        )
    for r in links:
        steps.extend(r["evidence"])
    steps += policy_steps(profile.name, settings.clauses)
    suppliers = sorted({str(r["org_key"]).split(":", 1)[1] for r in rows})
    return Finding(
        finding_id=finding_id("collusive_quotes", profile.name, pid),
        rule="collusive_quotes",
        severity=severity,
        confidence=round(confidence, 4),
        project_ids=[pid],
        staff_ids=[],
        suppliers=suppliers,
        citation=settings.citation,
        explanation=explanation,
        evidence=steps,
        street=text(project.get("street")),
        community=text(project.get("community")),
        policy=profile.name,
        details={
            "relations": [{"kind": r["kind"], "label": r["label"]} for r in links],
            "price_pattern": pattern.said if pattern else None,
            "pattern_chance": round(pattern.chance, 6) if pattern else None,
        },
    )


@assessor("collusive_quotes")
def assess(
    award: Award, ctx: AwardContext, settings: CollusiveSettings, profile: Profile
) -> Assessment:
    """The award before it is made: are the suppliers quoting for it related, or their
    prices patterned?"""
    rows = award.quotes
    if len({str(r["org_key"]) for r in rows}) < 2:
        return Assessment.unable("collusive_quotes", "需要两家以上报价单位")
    keys = sorted({str(r["org_key"]) for r in rows})
    related = ctx.relations(list(combinations(keys, 2)), "collusive_quotes")
    by_pair: dict[tuple[str, str], list[dict[Any, Any]]] = {}
    if len(related):
        related = related[related["confidence"] >= settings.min_confidence]
        for r in related.to_dict("records"):
            by_pair.setdefault((str(r["a"]), str(r["b"])), []).append(r)
    found = judge(profile, settings, award.project_id, rows, by_pair, award.awarded())
    return Assessment(
        "collusive_quotes", [found] if found else [], reason=f"已核对{len(keys)}家报价单位"
    )
