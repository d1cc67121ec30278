"""avoidance: a decision-maker who did not step aside from an award to his or her relative."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pandas as pd

from integrity.findings import LEAD_THRESHOLD, REQUEST_SOURCE, EvidenceStep, Finding, finding_id
from integrity.identity.mentions import normalised
from integrity.policy import Clause, Profile, RuleSettings, Severity
from integrity.rules.registry import ScanContext, assessor, rule
from integrity.screening.award import Assessment, Award, AwardContext
from integrity.screening.decisions import decision_kin, recusals, role_rank
from integrity.screening.evidence import (
    identity_step,
    policy_steps,
    project_step,
    role_steps,
    source_label,
    source_ref,
    text,
)
from integrity.screening.kin import Screening


class AvoidanceSettings(RuleSettings):
    # the decision steps whose participants must step aside (点选 is the residents' choice)
    decision_roles: tuple[str, ...] = ("筛选", "评议", "审核", "评审", "审定", "采购经办", "验收")
    # roles at the supplier whose holder's relatives must step aside (the programme's clause)
    head_roles: tuple[str, ...] = ("法定代表人", "负责人")
    # further roles (政府采购法实施条例 第九条), cited by ``roles_clause``
    other_roles: tuple[str, ...] = ("股东", "董事", "监事", "经理")
    roles_clause: Clause
    # links below this confidence are not reported at all; from it up to 0.5 a finding is a
    # lead to check (线索待核), from 0.5 an assertion
    min_confidence: float = 0.1


def _row(value: Any) -> int | None:
    return None if value is None or pd.isna(value) else int(value)


@rule(
    "avoidance",
    title="应当回避而未回避",
    settings=AvoidanceSettings,
    needs=("staff", "projects", "participants"),
    checks={"avoidance.kin_of_legal_rep": (), "avoidance.conflict_of_interest_rule": ()},
)
def avoidance(ctx: ScanContext, settings: AvoidanceSettings) -> Iterator[Finding]:
    """参与项目决策（筛选、评议、审核、评审、审定、采购经办、验收）且未记录回避的人员，
    本人或其配偶、直系血亲、三代以内旁系血亲、近姻亲是中标（承接）单位的法定代表人或负责人，
    或是其股东、董事、监事、经理。

    亲属关系来自本人申报和户籍/婚姻登记，逐条列出来源行；亲属与企业登记人员是否同一人，
    有身份证号时按身份证号判定（号码不同即为不同的人），无身份证号时按姓名（含繁简、同音、
    一字之差）、出生日期、性别、电话综合评分，置信度低于0.5的只作为线索待核。
    本人即为中标单位法定代表人或股东的属自我交易，最为严重；已记录回避的不构成违规；
    超出法定范围的亲属（如配偶的表兄弟姐妹）不在此列。
    """
    scr = ctx.screening
    roles = (*settings.head_roles, *settings.other_roles)
    hits = decision_kin(ctx, settings.decision_roles, roles, settings.min_confidence)
    if hits.empty:
        return
    groups = group_hits(hits.to_dict("records"))
    recorded = recusals(ctx, settings.decision_roles)
    for pid, staff_id in sorted(groups):
        yield from judge(
            ctx.profile,
            settings,
            scr,
            pid,
            staff_id,
            groups[(pid, staff_id)],
            recorded.get((pid, staff_id), []),
        )


def group_hits(
    hits: list[dict[Any, Any]],
) -> dict[tuple[str, str], dict[str, list[dict[str, Any]]]]:
    """The (participant or relative, role holder) pairs met in decisions (decision_kin's
    rows, or the pre-award check's), by (project, official) and by holder: within each, the
    official's own roles first, then the most certain, then the closest role. One person at
    the supplier may stand under two keys (an ID number in one table, none in the other):
    a holder is an organisation and a normalised name. Plain records (a pandas group per
    finding costs more than it)."""
    order = sorted(
        (
            (row["category"] != "本人", -float(row["confidence"]), role_rank(str(row["h_role"])), i)
            for i, row in enumerate(hits)
        ),
    )
    groups: dict[tuple[str, str], dict[str, list[dict[str, Any]]]] = {}
    for *_, i in order:
        row = {str(k): v for k, v in hits[i].items()}
        row["_holder"] = f"{row['h_org_key']}|{normalised(row['h_name'])}"
        by_holder = groups.setdefault((str(row["project_id"]), str(row["staff_id"])), {})
        by_holder.setdefault(row["_holder"], []).append(row)
    return groups


def judge(
    profile: Profile,
    settings: AvoidanceSettings,
    scr: Screening,
    pid: str,
    staff_id: str,
    by_holder: dict[str, list[dict[str, Any]]],
    recused: list[tuple[str, str, int | None]],
) -> Iterator[Finding]:
    """One finding per (project, official, holder) — for the batch's decisions and for the
    award a pre-award check is asked about alike: the closest path, every role and every
    step the official took part in named, and the steps he or she did recuse from."""
    order = {r: i for i, r in enumerate(settings.decision_roles)}
    for same in by_holder.values():
        best = same[0]
        sittings = sorted(
            {(str(r["part_role"]), str(r["part_file"]), _row(r["part_row"])) for r in same},
            key=lambda x: (order.get(x[0], 99), x[2] if x[2] is not None else -1),
        )
        steps_taken = "、".join(dict.fromkeys(x[0] for x in sittings))
        steps_recused = "、".join(dict.fromkeys(x[0] for x in recused))
        roles = sorted({r["h_role"] for r in same}, key=role_rank)
        head = [r for r in roles if r in settings.head_roles]
        self_dealing = best["category"] == "本人"
        project = f"「{best['project_name']}」（{pid}）"
        where = "".join(x for x in (text(best.get("street")), text(best.get("community"))) if x)
        role_text = "、".join(roles)
        org = str(best["h_org_name"])
        participant = f"{best['staff_name']}（{staff_id}）"
        if self_dealing:
            relation = "本人"
            explanation = (
                f"{participant}参与了{where}项目{project}的{steps_taken}且未回避，"
                f"而其本人即为承接单位{org}的{role_text}，属自我交易。"
            )
        else:
            relation = f"{best['category']}（{scr.kin_sentence(best['nodes'], best['via'])}）"
            explanation = (
                f"{participant}参与了{where}项目{project}的{steps_taken}且未回避，"
                f"而其{best['category']}{scr.name_of(best['relative'])}"
                f"是承接单位{org}的{role_text}。"
            )
        if steps_recused:
            explanation += f"其在{steps_recused}环节记录了回避，但{steps_taken}环节未回避。"
        severity: Severity = "high" if self_dealing or head else "medium"
        clauses = settings.clauses if head else []
        if not head or self_dealing:
            clauses = [*clauses, settings.roles_clause]
        citation = "；".join(dict.fromkeys(c.ref for c in clauses))
        confidence = float(best["confidence"])
        if confidence < LEAD_THRESHOLD:
            explanation += f"（身份关联置信度{confidence:.2f}，为线索待核，须先核实身份。）"
        evidence = [
            project_step(best),
            *(
                EvidenceStep(
                    kind="participation",
                    text=(
                        f"{source_label(file, 'participants')}：{participant} 参与{role}，"
                        "未记录回避"
                    ),
                    source=source_ref(file, row, "participants"),
                    data={"staff_id": staff_id, "role": role},
                )
                for role, file, row in sittings
            ),
            *(
                EvidenceStep(
                    kind="participation",
                    text=(
                        f"{source_label(file, 'participants')}：{participant} 在{role}环节记录回避"
                    ),
                    source=source_ref(file, row, "participants"),
                    data={"staff_id": staff_id, "role": role, "recused": True},
                )
                for role, file, row in recused
            ),
            *scr.kin_steps(best["official"], best["nodes"], best["via"]),
            identity_step(scr, best),
            *role_steps(same),
            *policy_steps(profile.name, clauses),
        ]
        supplier = str(best["h_org_key"]).split(":", 1)[1]
        yield Finding(
            finding_id=finding_id("avoidance", profile.name, pid, staff_id, best["_holder"]),
            rule="avoidance",
            severity=severity,
            confidence=round(confidence, 4),
            project_ids=[pid],
            staff_ids=[staff_id],
            suppliers=[supplier],
            citation=citation,
            explanation=explanation,
            evidence=evidence,
            street=text(best.get("street")),
            community=text(best.get("community")),
            policy=profile.name,
            details={
                "relation": relation,
                "category": best["category"],
                "detail": best["detail"],
                "roles": roles,
                "self_dealing": self_dealing,
                "steps": list(dict.fromkeys(x[0] for x in sittings)),
                "recused_steps": list(dict.fromkeys(x[0] for x in recused)),
                "path": scr.kin_sentence(best["nodes"], best["via"]) + f" —{roles[0]}→ {org}",
                "kin_confidence": round(float(best["conf"]), 4),
                "identity_confidence": round(float(best["match_conf"]), 4),
            },
        )


@assessor("avoidance")
def assess(
    award: Award, ctx: AwardContext, settings: AvoidanceSettings, profile: Profile
) -> Assessment:
    """The award before it is made: must a member of its panel step aside?"""
    panel = [m for m in award.panel if m.get("part_role") in settings.decision_roles]
    if not panel:
        return Assessment.unable("avoidance", "未给出参与决策（筛选、评审、审核等）的人员")
    roles = (*settings.head_roles, *settings.other_roles)
    holders = ctx.supplier_holders(award)
    if not any(h["role"] in roles for h in holders):
        return Assessment.unable(
            "avoidance",
            "承接单位的法定代表人、负责人、股东等不在筛查数据中，请求中也未给出，无法核对",
        )
    deciding = replace(award, panel=panel)
    groups = group_hits(ctx.decision_kin(deciding, roles, settings.min_confidence))
    recused: dict[str, list[tuple[str, str, int | None]]] = {}
    for r in award.recusals:
        if r.get("part_role") in settings.decision_roles:
            recused.setdefault(str(r["staff_id"]), []).append(
                (str(r["part_role"]), str(r.get("part_file", REQUEST_SOURCE)), r.get("part_row"))
            )
    findings = [
        f
        for pid, staff_id in sorted(groups)
        for f in judge(
            profile,
            settings,
            ctx.screening,
            pid,
            staff_id,
            groups[(pid, staff_id)],
            recused.get(staff_id, []),
        )
    ]
    who = "、".join(str(m.get("staff_name") or m.get("staff_id")) for m in panel)
    return Assessment("avoidance", findings, reason=f"已核对{who}及其近亲属与承接单位的关系")
