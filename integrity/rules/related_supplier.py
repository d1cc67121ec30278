"""related_supplier: the recusal notice (回避提示) a street commission runs on its roster."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pandas as pd

from integrity.findings import LEAD_THRESHOLD, EvidenceStep, Finding, SourceRef, finding_id
from integrity.identity.calibration import KIN
from integrity.identity.mentions import normalised
from integrity.identity.priors import ROSTER_PRIOR
from integrity.policy import RuleSettings, Severity
from integrity.rules.registry import ScanContext, rule
from integrity.screening.decisions import decision_kin, decisions_taken, role_rank
from integrity.screening.evidence import identity_step, policy_steps, role_steps, text

CLOSE = ("本人", "配偶", "直系血亲")


class RelatedSupplierSettings(RuleSettings):
    roles: tuple[str, ...] = ("法定代表人", "负责人", "股东", "董事", "监事", "经理")
    # the decision steps in which an official who took part met the supplier (as avoidance)
    decision_roles: tuple[str, ...] = ("筛选", "评议", "审核", "评审", "审定", "采购经办", "验收")
    # identity links below this are not listed; up to 0.5 they are leads to check
    min_confidence: float = 0.05
    # where the official took part in a decision on the supplier's award, the link is judged
    # in that project (as avoidance judges it) and taken from this confidence up: the
    # avoidance rule's floor, so that a notice and the avoidance finding agree
    decided_min_confidence: float = 0.1


def roster(ctx: ScanContext) -> pd.DataFrame:
    """Every organisation in the supplier roster, the people table or the catalogue."""
    t = ctx.screening.keyed
    frames = [
        t[name][["org_key"]].dropna()
        for name in ("suppliers", "supplier_people", "catalogue")
        if name in t and "org_key" in t[name]
    ]
    if not frames:
        return pd.DataFrame(columns=["org_key"])
    return pd.concat(frames, ignore_index=True).drop_duplicates()


@rule(
    "related_supplier",
    title="供应商关联回避提示",
    settings=RelatedSupplierSettings,
    needs=("staff",),
    checks={"related_supplier.favouritism": ()},
)
def related_supplier(ctx: ScanContext, settings: RelatedSupplierSettings) -> Iterator[Finding]:
    """供应商名录（及项目库）中，法定代表人、负责人、股东、董事、监事或经理是本街道公职人员
    本人，或是其配偶、直系血亲、三代以内旁系血亲、近姻亲的单位。

    这不是违规认定，而是回避提示：列出谁在涉及哪家单位的任何决策中应当回避，并给出关系路径。
    无需项目台账即可运行（供应商入库或评审前的名录筛查），结果按街道另附一张表。与企业登记
    人员的身份关联没有身份证号佐证的，按姓名常见程度等给出置信度，低于0.5为线索待核。
    """
    scr = ctx.screening
    t = scr.keyed
    staff = t["staff"]
    if "street" not in staff:
        staff = staff.assign(street=None)
    officials = staff[["staff_id", "person_key", "name", "street"]].rename(
        columns={"name": "staff_name", "street": "staff_street"}
    )
    orgs = roster(ctx)
    if orgs.empty and scr.registry is None:
        return
    hits = scr.kin_in_roles(
        officials.assign(_all=1),
        orgs.assign(_all=1),
        on=["_all"],
        roles=settings.roles,
        prior=ROSTER_PRIOR,
        floor=settings.min_confidence,
        context=KIN,
        roster_wide=True,
    )
    hits = hits if hits.empty else hits[hits["confidence"] >= settings.min_confidence]
    # where the official took part in a decision on the supplier's award, the identity link
    # is judged in that project's context (as avoidance judges it): the notice says so, and
    # never gives the same link a lower confidence than the avoidance finding that cites it
    decided = decision_kin(
        ctx,
        settings.decision_roles,
        settings.roles,
        max(settings.min_confidence, settings.decided_min_confidence),
    )
    if not decided.empty:
        one = officials.drop_duplicates("staff_id")
        street = pd.Series(one["staff_street"].to_numpy(), index=one["staff_id"].astype(str))
        decided = decided.assign(staff_street=decided["staff_id"].astype(str).map(street))
        hits = pd.concat([hits, decided], ignore_index=True)
    if hits.empty:
        return
    hits = hits.assign(
        _holder=hits["h_org_key"] + "|" + hits["h_name"].map(normalised),
        _neg=-hits["confidence"],
        _rank=hits["category"].map({c: i for i, c in enumerate(CLOSE)}).fillna(9),
    ).sort_values(["_rank", "_neg", "hops"], kind="stable")
    # grouped as plain records: a pandas group per notice costs more than the notice
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in hits.to_dict("records"):
        groups.setdefault((str(r["staff_id"]), str(r["_holder"])), []).append(
            {str(k): v for k, v in r.items()}
        )
    staff_rows = staff.set_index(staff["staff_id"].astype(str))
    for staff_id, holder in sorted(groups):
        yield _notice(ctx, settings, staff_rows, staff_id, groups[(staff_id, holder)])


def _notice(
    ctx: ScanContext,
    settings: RelatedSupplierSettings,
    staff_rows: pd.DataFrame,
    staff_id: str,
    group: list[dict[str, Any]],
) -> Finding:
    """One notice: an official and one holder of one organisation, the closest path first,
    every role and every decision the official already took on the organisation's awards."""
    scr = ctx.screening
    best = group[0]
    roles = sorted(dict.fromkeys(str(r["h_role"]) for r in group), key=role_rank)
    org = str(best["h_org_name"])
    category = str(best["category"])
    who = f"{best['staff_name']}（{staff_id}）"
    confidence = float(best["confidence"])
    if category == "本人":
        said = f"{who}本人是{org}的{'、'.join(roles)}"
    else:
        said = (
            f"{who}的{category}{scr.name_of(best['relative'])}是{org}的{'、'.join(roles)}"
            f"（{scr.kin_sentence(best['nodes'], best['via'])}）"
        )
    explanation = f"回避提示：{said}，{who}应回避涉及{org}的筛选、评审、采购、验收等一切决策。"
    # the decisions the official already took part in on this supplier's awards
    sat, done, taken = decisions_taken(group, who, org, staff_id, settings.decision_roles)
    if sat:
        explanation += f"其已参与该单位承接的项目{done}的决策且未回避。"
    if confidence < LEAD_THRESHOLD:
        explanation += f"（身份关联置信度{confidence:.2f}，为线索待核。）"
    person = staff_rows.loc[str(staff_id)] if str(staff_id) in staff_rows.index else None
    if isinstance(person, pd.DataFrame):
        person = person.iloc[0]
    steps: list[EvidenceStep] = []
    if person is not None:
        steps.append(
            EvidenceStep(
                kind="person",
                text=(
                    f"公职人员：{person['name']}（{staff_id}）"
                    + "".join(
                        f"，{text(person.get(c))}"
                        for c in ("street", "organisation", "position")
                        if text(person.get(c))
                    )
                ),
                source=SourceRef(str(person["_file"]), int(person["_row"]), "staff"),
            )
        )
    steps += taken
    steps += [
        *scr.kin_steps(best["official"], best["nodes"], best["via"]),
        identity_step(scr, best),
        *role_steps(group),
        *policy_steps(ctx.profile.name, settings.clauses),
    ]
    severity: Severity = "medium" if category in CLOSE else "low"
    return Finding(
        finding_id=finding_id("related_supplier", ctx.profile.name, staff_id, best["_holder"]),
        rule="related_supplier",
        severity=severity,
        confidence=round(confidence, 4),
        project_ids=[],
        staff_ids=[str(staff_id)],
        suppliers=[str(best["h_org_key"]).split(":", 1)[1]],
        citation=settings.citation,
        explanation=explanation,
        evidence=steps,
        street=text(best.get("staff_street")),
        community=None,
        policy=ctx.profile.name,
        details={
            "notice": "回避提示",
            "official": str(best["staff_name"]),
            "position": "、".join(
                t for c in ("organisation", "position") if (t := text(person.get(c)))
            )
            if person is not None
            else "",
            "relation": category,
            "relative": scr.name_of(best["relative"]),
            "organisation": org,
            "roles": roles,
            "path": (scr.kin_sentence(best["nodes"], best["via"]) + f" —{roles[0]}→ {org}"),
            "identity_confidence": round(float(best["match_conf"]), 4),
            "decided_projects": sat,
        },
    )
