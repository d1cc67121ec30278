"""undeclared_relation: a relative the official did not declare holds a role at a winner."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

import pandas as pd

from integrity.findings import LEAD_THRESHOLD, EvidenceStep, Finding, SourceRef, finding_id
from integrity.identity.calibration import KIN
from integrity.identity.mentions import normalised
from integrity.identity.priors import ROSTER_PRIOR
from integrity.policy import RuleSettings, Severity
from integrity.rules.registry import ScanContext, rule
from integrity.screening.decisions import decision_kin, decisions_taken, role_rank
from integrity.screening.evidence import (
    awarded_projects,
    identity_step,
    policy_steps,
    project_step,
    role_step,
    text,
)


class UndeclaredSettings(RuleSettings):
    roles: tuple[str, ...] = ("法定代表人", "负责人", "股东", "董事", "监事", "经理")
    # whose projects an official answers for: his street, or only his community where the
    # staff table gives one
    jurisdiction: Literal["street", "community"] = "street"
    min_confidence: float = 0.05
    # the decision steps in which an official who took part met the winner (as avoidance)
    decision_roles: tuple[str, ...] = ("筛选", "评议", "审核", "评审", "审定", "采购经办", "验收")
    # links judged in the project the official decided on, taken from this confidence up
    # (the avoidance rule's floor)
    decided_min_confidence: float = 0.1


# a street holds far more (relative, role holder) pairs than one project's panel: the prior
# that any one of them is a single person is correspondingly lower (that of a roster)
STREET_PRIOR = ROSTER_PRIOR


def declared(ctx: ScanContext) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    """(official key, relative key) and (official key, normalised name) pairs declared."""
    t = ctx.screening.keyed
    if "relatives" not in t:
        return set(), set()
    staff = dict(zip(t["staff"]["staff_id"].astype(str), t["staff"]["person_key"], strict=True))
    rel = t["relatives"]
    official = rel["staff_id"].astype(str).map(staff)
    keys = set(zip(official, rel["person_key"], strict=True))
    names = set(zip(official, rel["relative_name"].map(normalised), strict=True))
    return keys, names


@rule(
    "undeclared_relation",
    title="未申报的亲属关系",
    settings=UndeclaredSettings,
    needs=("staff", "projects", "family_links"),
    checks={"undeclared_relation.declaration_system": ()},
)
def undeclared_relation(ctx: ScanContext, settings: UndeclaredSettings) -> Iterator[Finding]:
    """公职人员的近亲属（配偶、直系血亲、三代以内旁系血亲、近姻亲）经户籍、婚姻登记等关系
    查出，在本人辖区（街道，或按配置为社区）承接项目的单位担任法定代表人、负责人、股东、
    董事、监事或经理，而本人的亲属申报中没有此人。

    申报以身份证号或规范化后的姓名比对：已申报的亲属不在此列（其是否回避由 avoidance 判断）。
    未申报本身违反利益冲突申报制度，应作为问题线索移送纪检监察机关。配偶、直系血亲未申报的
    列为高严重度；与企业登记人员的身份关联置信度低于0.5的只作线索待核。
    """
    scr = ctx.screening
    t = scr.keyed
    where = settings.jurisdiction
    staff = t["staff"]
    if where not in staff or where not in t["projects"]:
        return
    officials = staff[["staff_id", "person_key", "name", where]].dropna(subset=[where])
    officials = officials.rename(columns={"name": "staff_name"})
    projects = awarded_projects(t["projects"]).dropna(subset=[where])
    if officials.empty or projects.empty:
        return
    hits = scr.kin_in_roles(
        officials,
        projects[[where, "org_key"]],
        on=[where],
        roles=settings.roles,
        prior=STREET_PRIOR,
        floor=settings.min_confidence,
        context=KIN,
    )
    # where the official took part in the decision on that winner's award in his own
    # jurisdiction, the identity link is judged in that project (as avoidance and the
    # recusal notice judge it): one link, one confidence, whichever rule cites it
    decided = decision_kin(
        ctx,
        settings.decision_roles,
        settings.roles,
        max(settings.min_confidence, settings.decided_min_confidence),
    )
    if not decided.empty:
        mine = officials.drop_duplicates("staff_id")
        home = pd.Series(mine[where].to_numpy(), index=mine["staff_id"].astype(str))
        at = projects.drop_duplicates("project_id").set_index("project_id")[where]
        decided = decided.assign(**{where: decided["staff_id"].astype(str).map(home)})
        decided = decided[
            decided[where].notna() & (decided[where] == decided["project_id"].map(at))
        ]
        hits = pd.concat([hits, decided], ignore_index=True)
    if hits.empty:
        return
    hits = hits[(hits["category"] != "本人") & (hits["confidence"] >= settings.min_confidence)]
    keys, names = declared(ctx)
    relative_names = hits["relative"].map(scr.name_of).map(normalised)
    is_declared = [
        (o, r) in keys or (o, n) in names
        for o, r, n in zip(hits["official"], hits["relative"], relative_names, strict=True)
    ]
    hits = hits[~pd.Series(is_declared, index=hits.index, dtype=bool)]
    if hits.empty:
        return
    hits = hits.assign(
        _holder=hits["h_org_key"] + "|" + hits["h_name"].map(normalised), _neg=-hits["confidence"]
    ).sort_values(["_neg", "hops"], kind="stable")
    by_org = projects.groupby("org_key")
    declarations = t.get(
        "relatives", pd.DataFrame(columns=["staff_id", "relative_name", "relation", "_file"])
    )
    for (staff_id, _), group in hits.groupby(["staff_id", "_holder"], sort=True):
        best = {str(k): v for k, v in group.iloc[0].to_dict().items()}
        won = by_org.get_group(best["h_org_key"])
        won = won[won[where] == best[where]].sort_values("project_id")
        roles = sorted(dict.fromkeys(str(r) for r in group["h_role"]), key=role_rank)
        category = str(best["category"])
        severity: Severity = "high" if category in ("配偶", "直系血亲") else "medium"
        confidence = float(best["confidence"])
        relative = scr.name_of(best["relative"])
        org = str(best["h_org_name"])
        ids = [str(p) for p in won["project_id"]]
        explanation = (
            f"{best['staff_name']}（{staff_id}）的{category}{relative}"
            f"（{scr.kin_sentence(best['nodes'], best['via'])}）"
            f"是{org}的{'、'.join(roles)}，该单位在其辖区{best[where]}承接了{len(ids)}个项目，"
            f"但本人的亲属申报中没有{relative}。"
        )
        # the decisions the official took part in on the winner's awards (the identity link
        # was then judged in that project)
        sat, done, taken = decisions_taken(
            [{str(k): v for k, v in r.items()} for r in group.to_dict("records")],
            f"{best['staff_name']}（{staff_id}）",
            org,
            str(staff_id),
            settings.decision_roles,
        )
        if sat:
            explanation += f"其本人参与了{done}的决策且未回避。"
        if confidence < LEAD_THRESHOLD:
            explanation += f"（身份关联置信度{confidence:.2f}，为线索待核。）"
        own = declarations[declarations["staff_id"].astype(str) == str(staff_id)]
        listed = "、".join(
            f"{n}（{r}）" for n, r in zip(own["relative_name"], own["relation"], strict=True)
        )
        evidence = [
            EvidenceStep(
                kind="declaration",
                text=(
                    f"亲属申报：{best['staff_name']}（{staff_id}）申报了{len(own)}名亲属"
                    + (f"：{listed}" if listed else "")
                    + f"，其中没有{relative}"
                ),
                source=SourceRef(str(own["_file"].iloc[0]), None, "relatives")
                if len(own)
                else None,
                data={"staff_id": staff_id, "declared": [str(n) for n in own["relative_name"]]},
            ),
            *scr.kin_steps(best["official"], best["nodes"], best["via"]),
            identity_step(scr, best),
            *taken,
            *(
                role_step(r)
                for r in sorted(
                    group.drop_duplicates("h_role").to_dict("records"),
                    key=lambda r: role_rank(str(r["h_role"])),
                )
            ),
            *(project_step(p) for p in won.to_dict("records")),
            *policy_steps(ctx.profile.name, settings.clauses),
        ]
        supplier = str(best["h_org_key"]).split(":", 1)[1]
        yield Finding(
            finding_id=finding_id(
                "undeclared_relation", ctx.profile.name, staff_id, best["_holder"]
            ),
            rule="undeclared_relation",
            severity=severity,
            confidence=round(confidence, 4),
            project_ids=ids,
            staff_ids=[str(staff_id)],
            suppliers=[supplier],
            citation=settings.citation,
            explanation=explanation,
            evidence=evidence,
            street=text(won["street"].iloc[0]) if "street" in won else None,
            community=text(won["community"].iloc[0])
            if "community" in won and won["community"].nunique() == 1
            else None,
            policy=ctx.profile.name,
            details={
                "relation": category,
                "detail": best["detail"],
                "roles": roles,
                "path": scr.kin_sentence(best["nodes"], best["via"]) + f" —{roles[0]}→ {org}",
                "kin_confidence": round(float(best["conf"]), 4),
                "identity_confidence": round(float(best["match_conf"]), 4),
                "decided_projects": sat,
            },
        )
