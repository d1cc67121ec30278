"""The pre-award check's answer: the request as an award, judged by the rules' own
``assess`` functions, with a verdict and one sentence a reviewer reads in five seconds.

Verdicts, from the most pressing: ``conflict`` (a panel member must step aside: an avoidance
finding asserted, confidence 0.5 or more), ``unknown`` (the supplier or a panel member cannot
be told apart: the answer lists candidates to pick; nothing unchecked is ever called clear),
``caution`` (any other finding: a lead, off-catalogue, over the cap, a split, related
quotes, too few nominators), ``clear`` (every rule that applies judged the award and found
nothing).
"""

from __future__ import annotations

import time
from typing import Any

import pandas as pd

from api.check.index import CheckIndex
from api.check.lookups import Candidate, Resolved
from api.check.models import (
    AssessmentOut,
    CandidateOut,
    CheckIn,
    CheckOut,
    HolderOut,
    PanelOut,
    RuleOut,
    SourceOut,
    SupplierOut,
    Verdict,
)
from api.jsonable import plain
from integrity.findings import LEAD_THRESHOLD, REQUEST_SOURCE, Finding
from integrity.identity.ids import uscc_normalise
from integrity.identity.names import org_name
from integrity.rules import REGISTRY
from integrity.screening.award import Assessment, Award
from integrity.screening.evidence import text

PENDING_PROJECT = "未编号"  # a project the request gives no id
PENDING_TITLE = "待签约项目"


def _candidates(found: list[Candidate]) -> list[CandidateOut]:
    return [
        CandidateOut(id=c.id, name=c.name, similarity=c.similarity, street=c.street) for c in found
    ]


def _yuan(value: float | None, wan: float | None) -> float | None:
    if value is not None:
        return float(value)
    return None if wan is None else float(wan) * 10_000


def _org_key(resolved: Resolved, name: str | None, uscc: str | None) -> str | None:
    """The key the batch would give the supplier: the resolved one, else its valid USCC,
    else its name's comparable core."""
    if resolved.org_key is not None:
        return resolved.org_key
    if uscc:
        code, problem = uscc_normalise(uscc)
        if problem is None:
            return f"uscc:{code}"
    return f"org:{org_name(name)}" if name else None


def _panel(
    index: CheckIndex, request: CheckIn
) -> tuple[list[PanelOut], list[dict[str, Any]], list[dict[str, Any]]]:
    """The panel as shown, the participation rows of those who decide, the recusals."""
    shown: list[PanelOut] = []
    rows: list[dict[str, Any]] = []
    recusals: list[dict[str, Any]] = []
    for member in request.panel:
        sid, note, candidates = index.panel_member(text(member.staff_id), text(member.name))
        given = member.staff_id or member.name or ""
        if sid is None:
            shown.append(
                PanelOut(
                    given=given,
                    step=member.step,
                    found=False,
                    staff_id=member.staff_id,
                    name=member.name,
                    note=note,
                    candidates=_candidates(candidates),
                )
            )
            continue
        staff = index.staff[sid]
        shown.append(
            PanelOut(
                given=given,
                step=member.step,
                found=True,
                staff_id=sid,
                name=str(staff["name"]),
                street=text(staff.get("street")),
                community=text(staff.get("community")),
            )
        )
        (recusals if member.recused else rows).append(
            {
                "staff_id": sid,
                "staff_name": str(staff["name"]),
                "person_key": str(staff["person_key"]),
                "part_role": member.step,
                "part_file": REQUEST_SOURCE,
                "part_row": None,
            }
        )
    return shown, rows, recusals


def _street_of(index: CheckIndex, community: str | None) -> str | None:
    projects = index.scr.keyed.get("projects")
    if community is None or projects is None or "street" not in projects:
        return None
    streets = projects.loc[projects["community"] == community, "street"].dropna().unique()
    return str(streets[0]) if len(streets) == 1 else None


def to_award(index: CheckIndex, request: CheckIn) -> tuple[Award, Resolved, list[PanelOut]]:
    """The request as the rows the rules read, its supplier and panel resolved in the index."""
    s, p = request.supplier, request.project
    resolved = index.resolve_supplier(text(s.name), text(s.uscc))
    key = _org_key(resolved, text(s.name), text(s.uscc))
    # the USCC as the request writes it (a ledger's uscc column); the key as resolved
    given, problem = uscc_normalise(s.uscc) if s.uscc else (None, "")
    code = given if problem is None else None
    when = pd.Timestamp(p.date) if p.date is not None else None
    project = {
        "project_id": p.project_id or PENDING_PROJECT,
        "name": p.title or PENDING_TITLE,
        "category": p.category,
        "amount": _yuan(p.amount, p.amount_wan),
        "funded_amount": _yuan(p.funded_amount, p.funded_amount_wan),
        "street": p.street or _street_of(index, p.community),
        "community": p.community,
        "award_date": when,
        "approved_date": None,
        # as the request writes it, as the batch takes the ledger's own spelling
        "supplier_name": s.name or resolved.name,
        "uscc": code,
        "uscc_valid": code is not None,
        "org_key": key,
        "declared_package": p.declared_package,
        "nominator_count": p.nominator_count,
        "catalogue_item": p.catalogue_item,
        "_file": REQUEST_SOURCE,
        "_row": None,
    }
    shown, panel, recusals = _panel(index, request)
    quotes = []
    winner = _yuan(s.quote, s.quote_wan)
    for q, selected in [(s, True), *((q, False) for q in request.quoting_suppliers)]:
        found = resolved if q is s else index.resolve_supplier(text(q.name), text(q.uscc))
        qkey = _org_key(found, text(q.name), text(q.uscc))
        if qkey is None:
            continue
        amount = winner if q is s else _yuan(q.quote, q.quote_wan)
        quotes.append(
            {
                "project_id": project["project_id"],
                "org_key": qkey,
                "supplier_name": q.name or found.name or q.uscc,
                "amount": amount,
                "selected": selected,
                "_file": REQUEST_SOURCE,
                "_row": None,
            }
        )
    people = [person.model_dump() for person in s.people]
    award = Award(project, panel, quotes if len(quotes) > 1 else [], recusals, people)
    return award, resolved, shown


def assess_all(index: CheckIndex, award: Award) -> tuple[list[RuleOut], list[Finding]]:
    """Every rule that can judge one award, under the index's profile."""
    rules: list[RuleOut] = []
    findings: list[Finding] = []
    profile = index.profile
    for code, rule in sorted(REGISTRY.items()):
        if rule.assess is None:
            continue
        settings = profile.settings(code)
        if settings is None:
            why = profile.rules_not_applicable.get(code, "政策未作此项规定")
            rules.append(
                RuleOut(rule=code, title=rule.title, applicable=False, checked=False, reason=why)
            )
            continue
        done: Assessment = rule.assess(award, index, settings, profile)
        findings += done.findings
        rules.append(
            RuleOut(
                rule=code,
                title=rule.title,
                applicable=True,
                checked=done.checked,
                reason=done.reason,
                findings=len(done.findings),
            )
        )
    return rules, findings


def verdict_of(findings: list[Finding], supplier_found: bool, panel: list[PanelOut]) -> Verdict:
    if any(f.rule == "avoidance" and f.confidence >= LEAD_THRESHOLD for f in findings):
        return "conflict"
    if not supplier_found or not all(m.found for m in panel):
        return "unknown"
    return "caution" if findings else "clear"


def summary_of(
    verdict: Verdict,
    findings: list[Finding],
    resolved: Resolved,
    panel: list[PanelOut],
    rules: list[RuleOut],
) -> str:
    """The verdict in one Chinese sentence."""
    conflicts = [f for f in findings if f.rule == "avoidance" and f.confidence >= LEAD_THRESHOLD]
    others = [f for f in findings if f not in conflicts]
    titles = "、".join(dict.fromkeys(REGISTRY[f.rule].title for f in others))
    more = f"；另有{len(others)}项需核实（{titles}）" if others else ""
    if verdict == "conflict":
        paths = "；".join(dict.fromkeys(str(f.details.get("path", "")) for f in conflicts))
        who = "、".join(dict.fromkeys(str(f.explanation.split("参与了", 1)[0]) for f in conflicts))
        return f"存在利益冲突：{paths}，{who}须回避后再作决定{more}。"
    if verdict == "unknown":
        missing = []
        if not resolved.found:
            shown = resolved.name or "该单位"
            why = "对应多个单位" if resolved.basis == "名称不唯一" else "在筛查数据中未找到"
            missing.append(f"承接单位「{shown}」{why}")
        for m in panel:
            if not m.found:
                missing.append(f"评审人员「{m.given}」{m.note}")
        found = f"；已查到{len(findings)}项需核实（{titles}）" if findings else ""
        return f"无法判断：{'；'.join(missing)}，请从候选中选定后重新核查{found}。"
    unchecked = [r.title for r in rules if r.applicable and not r.checked]
    gap = f"（{'、'.join(unchecked)}因缺少信息未核查）" if unchecked else ""
    if verdict == "caution":
        return f"未发现须回避的关系，但有{len(findings)}项需核实：{titles}{gap}。"
    done = "、".join(r.title for r in rules if r.applicable and r.checked)
    return f"未发现问题：已核查{done}{gap}。"


def _source(step: Any) -> SourceOut | None:
    s = step.get("source")
    return None if s is None else SourceOut(**s)


def answer(index: CheckIndex, request: CheckIn) -> CheckOut:
    """The check of one award against the index's screening."""
    began = time.perf_counter()
    award, resolved, panel = to_award(index, request)
    rules, findings = assess_all(index, award)
    holders = index.supplier_holders(award)
    supplier = SupplierOut(
        given={
            k: v for k, v in (("name", request.supplier.name), ("uscc", request.supplier.uscc)) if v
        },
        found=resolved.found,
        found_by=resolved.basis,
        org_key=resolved.org_key if resolved.found else None,
        name=resolved.name,
        notes=resolved.notes,
        candidates=_candidates(resolved.candidates),
        holders=[
            HolderOut(
                name=str(h["name"]),
                role=str(h["role"]),
                source=SourceOut(file=str(h["file"]), row=h["row"], table=h["table"])
                if text(h.get("file"))
                else None,
            )
            for h in plain(holders)
        ],
    )
    verdict = verdict_of(findings, resolved.found, panel)
    assessments = [AssessmentOut.model_validate(plain(f.to_dict())) for f in findings]
    return CheckOut(
        screening_id=index.screening_id,
        dataset_id=index.dataset_id,
        policy=index.profile.name,
        verdict=verdict,
        summary=summary_of(verdict, findings, resolved, panel, rules),
        supplier=supplier,
        panel=panel,
        rules=rules,
        assessments=assessments,
        elapsed_ms=round((time.perf_counter() - began) * 1000, 2),
    )
