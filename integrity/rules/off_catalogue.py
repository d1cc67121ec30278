"""off_catalogue: a service project whose supplier was not in the catalogue on the award date."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pandas as pd
from rapidfuzz import fuzz, process

from integrity.evidence import awarded_projects, policy_steps, project_step, text
from integrity.findings import EvidenceStep, Finding, SourceRef, finding_id
from integrity.names import org_name
from integrity.policy import Category, Profile, RuleSettings, Severity
from integrity.rules import ScanContext, rule


class OffCatalogueSettings(RuleSettings):
    categories: tuple[Category, ...] = ("服务类",)
    # names whose comparable cores are at least this similar (rapidfuzz ratio, 0-100) but
    # carry different USCCs are reported as near misses of a catalogue supplier
    near_name_ratio: float = 90.0


def _date(value: Any) -> pd.Timestamp | None:
    if value is None or pd.isna(value):
        return None
    return pd.Timestamp(value)


def _day(value: Any) -> str:
    stamp = _date(value)
    return "" if stamp is None else str(stamp.date())


def _core(value: Any) -> str | None:
    return None if value is None or pd.isna(value) else org_name(str(value))


def _entries(catalogue: pd.DataFrame) -> pd.DataFrame:
    c = catalogue.copy()
    c["core"] = c["supplier_name"].map(_core)
    valid = c.get("uscc_valid", pd.Series(False, index=c.index)).fillna(False).astype(bool)
    c["code"] = c["uscc"].where(valid) if "uscc" in c else None
    for col in ("valid_from", "valid_to", "level"):
        if col not in c:
            c[col] = None
    return c


def _entry_text(e: dict[Any, Any]) -> str:
    level = text(e.get("level")) or ""
    span = f"入库{_day(e['valid_from']) or '日期未填'}"
    span += f"，出库{_day(e['valid_to'])}" if _date(e["valid_to"]) else "，未出库"
    code = f"（{e['uscc']}）" if text(e.get("uscc")) else ""
    return f"项目库（{level}）：「{e['item_name']}」承接单位 {e['supplier_name']}{code}，{span}"


@rule(
    "off_catalogue",
    title="项目库以外的服务类项目",
    settings=OffCatalogueSettings,
    needs=("projects", "catalogue"),
)
def off_catalogue(ctx: ScanContext, settings: OffCatalogueSettings) -> Iterator[Finding]:
    """服务类项目的承接单位在签约日期不在市级或区级服务类项目库内：从未入库、签约时已出库、
    或签约时尚未入库。

    承接单位按统一社会信用代码比对，无代码时按规范化名称（去除“深圳市”“龙岗区”等地域前缀，
    统一“有限公司”等组织形式和“社工/社会工作”等简称）比对；入库、出库日期逐条核对（未填
    出库日期即仍在库）。名称与项目库单位相同或相近、统一社会信用代码却不同的，单独说明
    （可能冒用库内单位名义）。按第十六条第（二）项，此类项目应逐一列表分报街道纪工委和区
    专责领导小组办公室备案，运行结果另附按街道分组的报备清单。
    """
    projects = awarded_projects(ctx.screening.keyed["projects"])
    projects = projects[projects["project_category"].isin(settings.categories)]
    if projects.empty:
        return
    cat = Catalogue.of(ctx.dataset.table("catalogue"))
    projects = projects.assign(
        core=projects["supplier_name"].map(_core) if "supplier_name" in projects else None,
        code=projects["org_key"].where(projects["org_key"].str.startswith("uscc:")).str[5:],
    )
    near_of = _near_names(projects["core"], cat.cores, settings.near_name_ratio)
    # a supplier wins many projects: its near names are looked up once
    near_rows: dict[tuple[str | None, str | None], list[dict[Any, Any]]] = {}

    def near(core: str | None, code: str | None) -> list[dict[Any, Any]]:
        if (core, code) not in near_rows:
            found = _near(near_of.get(core, []) if core else [], code, cat.by_core)
            near_rows[(core, code)] = [] if found is None else found.to_dict("records")
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
    core = text(row.get("core")) if "core" in row else _core(row.get("supplier_name"))
    mine = cat.entries_of(code, core)
    when = _date(row.get("award_date")) or _date(row.get("approved_date"))
    if mine is not None:
        if when is None:
            return None  # in the catalogue; without a date its validity cannot be checked
        if Catalogue.valid_on(mine, when):
            return None
    return _finding(profile, settings, row, mine, when, near(core, code), code)


@dataclass
class Catalogue:
    """The catalogue's entries by USCC and by name core, as the rule and the pre-award check
    look a supplier up."""

    by_code: dict[str, pd.DataFrame]
    by_core: dict[str, pd.DataFrame]

    @classmethod
    def of(cls, table: pd.DataFrame) -> Catalogue:
        entries = _entries(table)
        return cls(
            {str(k): g for k, g in entries.dropna(subset=["code"]).groupby("code")},
            {str(k): g for k, g in entries.dropna(subset=["core"]).groupby("core")},
        )

    @property
    def cores(self) -> list[str]:
        return list(self.by_core)

    def entries_of(self, code: str | None, core: str | None) -> pd.DataFrame | None:
        """The supplier's own entries: same USCC; without one on either side, same name core
        (a bare name carried by two catalogue suppliers: no guess)."""
        mine = self.by_code.get(code) if code else None
        if mine is None and core in self.by_core:
            named = self.by_core[core]
            mine = named[named["code"].isna() | (code is None)]
            if code is None and named["code"].nunique() > 1:
                mine = None
            mine = mine if mine is not None and len(mine) else None
        return mine

    @staticmethod
    def valid_on(mine: pd.DataFrame, when: pd.Timestamp) -> bool:
        starts = pd.to_datetime(mine["valid_from"])
        ends = pd.to_datetime(mine["valid_to"])
        return bool(((starts.isna() | (starts <= when)) & (ends.isna() | (ends >= when))).any())

    def near(self, code: str | None, core: str | None, ratio: float) -> pd.DataFrame | None:
        """Entries whose name core is the same or close but whose USCC differs."""
        if not core:
            return None
        close = _near_names(pd.Series([core]), self.cores, ratio).get(core, [])
        return _near(close, code, self.by_core)


def _near_names(cores: pd.Series, catalogue: list[str], ratio: float) -> dict[str, list[str]]:
    """For each supplier name core, the catalogue cores at least ``ratio`` similar: one
    vectorised similarity matrix over the distinct names (rapidfuzz cdist)."""
    queries = sorted({str(c) for c in cores.dropna()})
    if not queries or not catalogue:
        return {}
    scores = process.cdist(queries, catalogue, scorer=fuzz.ratio, score_cutoff=ratio, workers=-1)
    return {
        q: [catalogue[j] for j in scores[i].nonzero()[0]]
        for i, q in enumerate(queries)
        if scores[i].any()
    }


def _near(
    close: list[str], code: str | None, by_core: dict[str, pd.DataFrame]
) -> pd.DataFrame | None:
    """Catalogue entries whose name is the same or close but whose USCC differs."""
    if not close or not code:
        return None
    near = pd.concat([by_core[c] for c in close])
    near = near[near["code"].notna() & (near["code"] != code)]
    return near if len(near) else None


def _finding(
    profile: Profile,
    settings: OffCatalogueSettings,
    row: dict[Any, Any],
    mine: pd.DataFrame | None,
    when: pd.Timestamp | None,
    near: list[dict[Any, Any]],
    code: str | None,
) -> Finding:
    pid = str(row["project_id"])
    supplier = str(row.get("supplier_name"))
    on = f"签约日期{when.date()}" if when is not None else "签约日期未填"
    steps: list[EvidenceStep] = [project_step(row)]
    severity: Severity = "low"
    if mine is not None:
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
            "amount": float(row["amount"]) if text(row.get("amount")) else None,
        },
    )
