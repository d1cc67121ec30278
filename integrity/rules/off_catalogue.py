"""off_catalogue: a service project whose supplier was not in the catalogue on the award date."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pandas as pd

from integrity.findings import EvidenceStep, Finding, SourceRef, finding_id
from integrity.policy import Category, Profile, RuleSettings, Severity
from integrity.rules.registry import ScanContext, assessor, rule
from integrity.screening.award import Assessment, Award, AwardContext
from integrity.screening.catalogue import (
    Catalogue,
    catalogue_date,
    name_core,
    near_entries,
    near_names,
)
from integrity.screening.evidence import awarded_projects, policy_steps, project_step, text


class OffCatalogueSettings(RuleSettings):
    categories: tuple[Category, ...] = ("服务类",)
    # names whose comparable cores are at least this similar (rapidfuzz ratio, 0-100) but
    # carry different USCCs are reported as near misses of a catalogue supplier
    near_name_ratio: float = 90.0


def _day(value: Any) -> str:
    stamp = catalogue_date(value)
    return "" if stamp is None else str(stamp.date())


def _entry_text(e: dict[Any, Any]) -> str:
    level = text(e.get("level")) or ""
    span = f"入库{_day(e['valid_from']) or '日期未填'}"
    span += f"，出库{_day(e['valid_to'])}" if catalogue_date(e["valid_to"]) else "，未出库"
    code = f"（{e['uscc']}）" if text(e.get("uscc")) else ""
    return f"项目库（{level}）：「{e['item_name']}」承接单位 {e['supplier_name']}{code}，{span}"


@rule(
    "off_catalogue",
    title="项目库以外的服务类项目",
    settings=OffCatalogueSettings,
    needs=("projects", "catalogue"),
    checks={
        "off_catalogue.report": (),
        "off_catalogue.catalogue_item": ("projects.catalogue_item", "catalogue.item_id"),
    },
    kin=False,
)
def off_catalogue(ctx: ScanContext, settings: OffCatalogueSettings) -> Iterator[Finding]:
    """服务类项目的承接单位在签约日期不在市级或区级服务类项目库内：从未入库、签约时已出库、
    或签约时尚未入库。

    承接单位按统一社会信用代码比对，无代码时按规范化名称（去除“深圳市”“龙岗区”等地域前缀，
    统一“有限公司”等组织形式和“社工/社会工作”等简称）比对；入库、出库日期逐条核对（未填
    出库日期即仍在库）。名称与项目库单位相同或相近、统一社会信用代码却不同的，单独说明
    （可能冒用库内单位名义）。按第十六条第（二）项，此类项目应逐一列表分报街道纪工委和区
    专责领导小组办公室备案，运行结果另附按街道分组的报备清单。

    台账有“项目库编号”、项目库有“入库编号”时，还核对项目本身：承接单位虽在库内，但项目的
    项目库编号不是该单位签约时有效的入库项目（库外项目，或库内其他单位的项目），同样列出。
    """
    projects = awarded_projects(ctx.screening.keyed["projects"])
    projects = projects[projects["project_category"].isin(settings.categories)]
    if projects.empty:
        return
    cat = Catalogue.of(ctx.dataset.table("catalogue"))
    projects = projects.assign(
        core=projects["supplier_name"].map(name_core) if "supplier_name" in projects else None,
        code=projects["org_key"].where(projects["org_key"].str.startswith("uscc:")).str[5:],
    )
    near_of = near_names(projects["core"], cat.cores, settings.near_name_ratio)
    # a supplier wins many projects: its near names are looked up once
    near_rows: dict[tuple[str | None, str | None], list[dict[Any, Any]]] = {}

    def near(core: str | None, code: str | None) -> list[dict[Any, Any]]:
        if (core, code) not in near_rows:
            near_rows[(core, code)] = near_entries(
                near_of.get(core, []) if core else [], code, cat.by_core
            )
        return near_rows[(core, code)]

    for row in projects.sort_values("project_id").to_dict("records"):
        finding = judge(row, settings, ctx.profile, cat, near)
        if finding is not None:
            yield finding


Near = Callable[[str | None, str | None], list[dict[Any, Any]]]


def judge(
    row: dict[Any, Any],
    settings: OffCatalogueSettings,
    profile: Profile,
    cat: Catalogue,
    near: Near,
) -> Finding | None:
    """One awarded project (a ledger row, or the award a pre-award check is asked about):
    the finding when it is of a category the catalogue governs and its supplier was not in
    the catalogue on the award date. ``near(core, code)``: catalogue entries named like the
    supplier under another USCC."""
    if row.get("project_category") not in settings.categories:
        return None
    key = text(row.get("org_key"))
    code = text(row.get("code")) if "code" in row else None
    if "code" not in row and key and key.startswith("uscc:"):
        code = key[5:]
    core = text(row.get("core")) if "core" in row else name_core(row.get("supplier_name"))
    mine = cat.entries_of(code, core)
    when = catalogue_date(row.get("award_date")) or catalogue_date(row.get("approved_date"))
    if mine is not None:
        if when is None:
            return None  # in the catalogue; without a date its validity cannot be checked
        if Catalogue.valid_on(mine, when):
            return _item_finding(profile, settings, row, mine, when, cat, code)
    return _finding(profile, settings, row, mine, when, near(core, code), code)


def _item_finding(
    profile: Profile,
    settings: OffCatalogueSettings,
    row: dict[Any, Any],
    mine: pd.DataFrame,
    when: pd.Timestamp,
    cat: Catalogue,
    code: str | None,
) -> Finding | None:
    """第十六条: a catalogued supplier doing an item outside its own entries — the project's
    项目库编号 is none of the supplier's entries valid on the award date."""
    item = text(row.get("catalogue_item"))
    if item is None or "item_id" not in mine.columns:
        return None
    valid = Catalogue.valid_entries(mine, when)
    if item in {str(i) for i in valid["item_id"].dropna()}:
        return None
    other = cat.items.get(item)
    own = other is not None and (
        (code is not None and str(other.get("code") or "") == code)
        or str(other.get("core") or "")
        == str(row.get("core") or name_core(row.get("supplier_name")))
    )
    if own:
        why = f"项目库编号{item}是该单位的入库项目，但签约日期不在其有效期内"
    elif other is None:
        why = f"项目库编号{item}不在项目库中，不是该单位的入库项目"
    else:
        owner, name = other["supplier_name"], other["item_name"]
        why = f"项目库编号{item}是{owner}的入库项目「{name}」，不是该单位的"
    return _finding(profile, settings, row, valid, when, [], code, item_reason=why)


def _finding(
    profile: Profile,
    settings: OffCatalogueSettings,
    row: dict[Any, Any],
    mine: pd.DataFrame | None,
    when: pd.Timestamp | None,
    near: list[dict[Any, Any]],
    code: str | None,
    item_reason: str | None = None,
) -> Finding:
    pid = str(row["project_id"])
    supplier = str(row.get("supplier_name"))
    on = f"签约日期{when.date()}" if when is not None else "签约日期未填"
    steps: list[EvidenceStep] = [project_step(row)]
    severity: Severity = "low"
    if item_reason is not None and mine is not None:
        kind, why, severity = "item_outside_catalogue", f"虽在项目库内，但{item_reason}", "medium"
        steps += [
            EvidenceStep(
                kind="catalogue",
                text=_entry_text(e) + f"（入库编号 {e.get('item_id') or '未填'}）",
                source=SourceRef(str(e["_file"]), int(e["_row"]), "catalogue"),
            )
            for e in mine.to_dict("records")
        ]
    elif mine is not None:
        kind = "expired_or_not_yet"
        first = pd.to_datetime(mine["valid_from"]).min()
        last = pd.to_datetime(mine["valid_to"]).max()
        if when is not None and pd.notna(first) and when < first:
            kind, why = "not_yet", f"签约时尚未入库（{first.date()}才入库）"
        else:
            kind, why = "expired", f"签约前已出库（{last.date()}出库）"
        severity = "medium"
        steps += [
            EvidenceStep(
                kind="catalogue",
                text=_entry_text(e),
                source=SourceRef(str(e["_file"]), int(e["_row"]), "catalogue"),
            )
            for e in mine.to_dict("records")
        ]
        near = []
    elif near:
        kind = "near_name_other_uscc"
        names = "、".join(dict.fromkeys(str(e["supplier_name"]) for e in near))
        why = f"不在项目库；名称与项目库单位{names}相同或相近，但统一社会信用代码不同"
        severity = "medium"
        steps += [
            EvidenceStep(
                kind="catalogue",
                text=_entry_text(e) + "（名称相近、代码不同）",
                source=SourceRef(str(e["_file"]), int(e["_row"]), "catalogue"),
            )
            for e in near
        ]
    else:
        kind, why = "absent", "不在市级或区级服务类项目库中"
    steps += policy_steps(profile.name, settings.clauses)
    where = "".join(x for x in (text(row.get("street")), text(row.get("community"))) if x)
    explanation = (
        f"{where}{row.get('project_category')}项目「{row['project_name']}」（{pid}）由{supplier}"
        f"承接，{on}，该单位{why}，应逐一列表报街道纪工委和区专责领导小组办公室备案。"
    )
    return Finding(
        finding_id=finding_id("off_catalogue", profile.name, pid),
        rule="off_catalogue",
        severity=severity,
        confidence=1.0 if code or kind == "absent" else 0.9,
        project_ids=[pid],
        staff_ids=[],
        suppliers=[code or supplier],
        citation=settings.citation,
        explanation=explanation,
        evidence=steps,
        street=text(row.get("street")),
        community=text(row.get("community")),
        policy=profile.name,
        details={
            "project_name": str(row["project_name"]),
            "supplier_name": supplier,
            "reason": kind,
            "award_date": str(when.date()) if when is not None else None,
            "near_catalogue_suppliers": sorted({str(e["supplier_name"]) for e in near}),
            "catalogue_item": text(row.get("catalogue_item")),
            "amount": float(row["amount"]) if text(row.get("amount")) else None,
        },
    )


@assessor("off_catalogue")
def assess(
    award: Award, ctx: AwardContext, settings: OffCatalogueSettings, profile: Profile
) -> Assessment:
    """The award before it is made: is its supplier in the catalogue on the award date?"""
    row = award.awarded()
    category = text(row.get("project_category"))
    if category is None:
        return Assessment.unable("off_catalogue", "需要项目类别")
    if category not in settings.categories:
        return Assessment("off_catalogue", reason=f"{category}项目不要求入库")
    if ctx.catalogue is None:
        return Assessment.unable("off_catalogue", "筛查数据中没有项目库表")
    if (
        catalogue_date(row.get("award_date")) is None
        and catalogue_date(row.get("approved_date")) is None
    ):
        return Assessment.unable("off_catalogue", "需要签约日期")
    found = judge(row, settings, profile, ctx.catalogue, ctx.catalogue_near)
    return Assessment("off_catalogue", [found] if found else [], reason="已按签约日期核对项目库")
