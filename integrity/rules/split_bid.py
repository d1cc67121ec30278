"""split_bid: one job split into several projects under the cap (化整为零)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from itertools import combinations
from typing import Any

import pandas as pd
from rapidfuzz import fuzz

from integrity.findings import (
    LEAD_THRESHOLD,
    EvidenceStep,
    Finding,
    SourceRef,
    finding_id,
    yuan_wan,
)
from integrity.policy import Category, Profile, RuleSettings, Severity
from integrity.rules.registry import ScanContext, assessor, rule
from integrity.screening.award import Assessment, Award, AwardContext
from integrity.screening.evidence import (
    AWARDED_COLUMNS,
    PROJECT_COLUMNS,
    policy_steps,
    project_step,
    text,
)
from integrity.screening.org_relations import org_relations

# phase and batch markers that make one job look like several: 一期, 二期, 第一批, (二),
# 一标段, 第3次, A区 ... removed before titles are compared
PHASE = re.compile(
    r"[（(【\[]?\s*(第?\s*[一二三四五六七八九十百\d]+\s*(期|批|标段|标|包|阶段|次|部分|号)"
    r"|[A-Za-z一二三四五六七八九十\d]\s*(区|段|片))\s*[）)】\]]?"
)


def subject(title: Any) -> str:
    """A title without phase markers, brackets and spaces: 路面修缮一期 -> 路面修缮."""
    core = PHASE.sub("", str(title))
    return re.sub(r"[\s（）()【】\[\]“”\"'、，,·\-—_]", "", core)


class SplitBidSettings(RuleSettings):
    # yuan per project; by default the caps of the profile's over_cap section
    caps: dict[Category, float] | None = None
    # projects are one job's pieces when their subjects are at least this similar (0-100)
    title_similarity: float = 85.0
    window: str = "fiscal_year"  # pieces awarded in the same fiscal (calendar) year
    # ... or in consecutive years, this many days apart at most: a job split across the year
    # end (December and January) to stay under the cap (0: within one year only)
    across_year_days: int = 60
    # 罗湖 两年规划: two pieces of one works need in consecutive years, together at most this
    # (yuan), are the programme's own two-year route: reported as explained, not as a split
    two_year_plan_max: float | None = None
    two_year_plan_categories: tuple[Category, ...] = ("工程类",)  # the route is for works
    close_days: int = 90  # stronger when all pieces fall within this many days
    near_cap_ratio: float = 0.9  # a piece at or above this share of the cap raises severity
    # 罗湖: projects marked with one declared package (合并实施批次) were split openly under
    # the programme's own 拆开申报、合并实施 route: reported as explained, not as a split
    declared_packages_explained: bool = False
    # where: the same community, else the same street
    scope: tuple[str, ...] = ("community", "street")
    min_confidence: float = LEAD_THRESHOLD


def caps_of(profile: Profile, settings: SplitBidSettings) -> dict[str, float]:
    """The caps the pieces are held to: the rule's own, else the profile's over_cap caps."""
    if settings.caps is not None:
        return {str(k): float(v) for k, v in settings.caps.items()}
    over = profile.settings("over_cap")
    return dict(getattr(over, "caps", {}) or {})


def _caps(ctx: ScanContext, settings: SplitBidSettings) -> dict[str, float]:
    return caps_of(ctx.profile, settings)


Piece = dict[str, Any]
# the columns awarded_projects() keeps, and the declared package beside them
PIECE_SOURCE_COLUMNS = (*AWARDED_COLUMNS, "declared_package")


def piece_columns(columns: Any, settings: SplitBidSettings) -> tuple[str | None, list[str]]:
    """Which date a table's pieces are placed in the year by (the award date where the table
    has that column, else the approval date) and which place columns it has."""
    when = next((c for c in ("award_date", "approved_date") if c in columns), None)
    return when, [c for c in settings.scope if c in columns]


def piece_of(
    row: dict[Any, Any], caps: dict[str, float], when_col: str | None, scope: list[str]
) -> Piece | None:
    """One project as a piece (awarded_projects' columns with date, year, subject, cap and
    place), or None: not awarded, no cap for its category, no date, over its cap, no place.
    The batch makes its pieces row by row with this, and the pre-award check its award."""
    if _missing(row.get("org_key")) or when_col is None:
        return None
    piece = {PROJECT_COLUMNS.get(k, k): v for k, v in row.items() if k in PIECE_SOURCE_COLUMNS}
    category = piece.get("project_category")
    cap = caps.get(str(category)) if not _missing(category) else None
    when: Any = row.get(when_col)
    if cap is None or _missing(when):
        return None
    amount: Any = piece.get("amount")
    if _missing(amount) or not float(amount) <= cap:
        return None
    place = next((row[c] for c in scope if not _missing(row.get(c))), None)
    if place is None:
        return None
    stamp = pd.Timestamp(when)
    return piece | {
        "_when": stamp,
        "_subject": subject(piece.get("project_name")),
        "_cap": cap,
        "_year": stamp.year,
        "_place": place,
    }


def _missing(value: Any) -> bool:
    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))


def pieces(
    table: pd.DataFrame, caps: dict[str, float], settings: SplitBidSettings
) -> list[Piece] | None:
    """The table's awarded projects under their cap, as pieces (None: the table has no date
    or no place to group them by)."""
    when_col, scope = piece_columns(table.columns, settings)
    if when_col is None or not scope:
        return None
    keep = [c for c in table.columns if c in PIECE_SOURCE_COLUMNS or c in scope]
    rows = table.loc[table["org_key"].notna(), keep].to_dict("records")
    return [p for r in rows if (p := piece_of(r, caps, when_col, scope)) is not None]


@rule(
    "split_bid",
    title="化整为零拆分项目",
    settings=SplitBidSettings,
    needs=("projects",),
    checks={
        "split_bid.declared_packages": (),
        "split_bid.two_year_plan": ("projects.award_date|projects.approved_date",),
    },
)
def split_bid(ctx: ScanContext, settings: SplitBidSettings) -> Iterator[Finding]:
    """同一社区（或街道）同一年度内，同一类别、内容相近的两个以上项目（去除“一期”“第二批”等
    字样后标题相近），由同一单位或关联单位（法定代表人或股东为同一人、法定代表人互为近亲属、
    联系电话相同等）承接，每个项目都在单项资金上限以内而合计超过上限，疑似化整为零规避限额。

    相邻两个年度、签约相隔不超过60天（跨年底拆分）的，也作为同一项目的拆分。全部项目在90天内
    签约、或有项目金额达到上限的90%以上的，严重程度提高。罗湖“拆开申报、合并实施”的做法，
    如台账已标明同一合并实施批次，则作为已说明的情形列出，不作为拆分；罗湖“两年规划”（相邻
    两个年度各实施一个、合计不超过100万元）同样作为已说明的情形列出，超出的仍按拆分报告。
    """
    caps = _caps(ctx, settings)
    if not caps:
        return
    scr = ctx.screening
    found = pieces(scr.keyed["projects"], caps, settings)
    if found is None:
        return

    def relate(pairs: list[tuple[str, str]]) -> pd.DataFrame:
        return org_relations(scr, pd.DataFrame(pairs, columns=["a", "b"]), label="split_bid")

    for group, why in groups(found, settings, relate):
        finding = judge(ctx.profile, settings, [found[i] for i in group], why)
        if finding is not None:
            yield finding


# org_relations on (a, b) pairs of organisation keys: its rows (a, b, confidence, ...)
Relate = Callable[[list[tuple[str, str]]], pd.DataFrame]
Why = dict[frozenset[str], list[dict[Any, Any]]]


def groups(
    pieces: list[Piece], settings: SplitBidSettings, relate: Relate
) -> list[tuple[list[int], Why]]:
    """The pieces (positions in ``pieces``) that look like one job's: the same place,
    category and year, similar subjects, and the same supplier or related ones (``relate``:
    org_relations on (a, b) pairs of organisation keys, in the batch's or the check's
    context) — each group with the relations that join it. ``pieces`` may be a whole
    district's or one award beside its place's history (the pre-award check). Plain records:
    a check's few pieces cost microseconds, not the milliseconds of small frames."""
    buckets: dict[tuple[str, str], list[int]] = {}
    for i, p in enumerate(pieces):
        key = (str(p["_place"]), str(p["project_category"]))
        buckets.setdefault(key, []).append(i)
    candidates: list[tuple[int, int]] = []
    for key in sorted(buckets):
        for i, j in combinations(buckets[key], 2):
            if together(pieces[i], pieces[j], settings) and (
                fuzz.ratio(pieces[i]["_subject"], pieces[j]["_subject"])
                >= settings.title_similarity
            ):
                candidates.append((i, j))
    if not candidates:
        return []
    # each pair of suppliers in one order, whatever the order of their rows: a relation is
    # told the same way for a district's ledger and for one award beside its history
    ends = [(str(pieces[i]["org_key"]), str(pieces[j]["org_key"])) for i, j in candidates]
    pairs = [(min(a, b), max(a, b)) for a, b in ends]
    # every pair, the same supplier's too: the batch's prior counts the holder pairs of the
    # suppliers asked about together
    related = relate(pairs)
    why: Why = {}
    if len(related):
        related = related[related["confidence"] >= settings.min_confidence]
        for r in related.to_dict("records"):
            why.setdefault(frozenset((r["a"], r["b"])), []).append(r)
    parent = list(range(len(pieces)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    joined: set[int] = set()
    for (i, j), (a, b) in zip(candidates, ends, strict=True):
        if a == b or frozenset((a, b)) in why:
            parent[root(i)] = root(j)
            joined.update((i, j))
    found: dict[int, list[int]] = {}
    for i in sorted(joined):
        found.setdefault(root(i), []).append(i)
    out = []
    for group in found.values():
        # links join pairs; a chain of them must not carry a job over more than two years
        # (December, January, ..., December, January): such a chain is split by year
        years = sorted({int(pieces[i]["_year"]) for i in group})
        parts = [group] if len(years) <= 2 else [
            [i for i in group if int(pieces[i]["_year"]) == y] for y in years
        ]  # fmt: skip
        out += [
            (sorted(part, key=lambda i: (pieces[i]["_when"], str(pieces[i]["project_id"]))), why)
            for part in parts
            if len(part) > 1
        ]
    return out


def together(a: Piece, b: Piece, settings: SplitBidSettings) -> bool:
    """Two pieces in one window: the same year, or consecutive years at most
    ``across_year_days`` apart (the year end between them)."""
    years = abs(int(a["_year"]) - int(b["_year"]))
    if years == 0:
        return True
    apart = abs((a["_when"] - b["_when"]).days)
    return years == 1 and apart <= settings.across_year_days


def two_year_plan(settings: SplitBidSettings, members: pd.DataFrame, total: float) -> bool:
    """罗湖 两年规划: two pieces in consecutive years, together within the plan's ceiling."""
    years = sorted(int(y) for y in members["_year"])
    return (
        settings.two_year_plan_max is not None
        and bool(members["project_category"].isin(settings.two_year_plan_categories).all())
        and len(years) == 2
        and years[1] == years[0] + 1
        and total <= settings.two_year_plan_max
    )


def judge(
    profile: Profile, settings: SplitBidSettings, members: list[Piece], why: Why
) -> Finding | None:
    """One group of pieces (the batch's, or the one a pre-award check's award would join):
    the finding when together they exceed the cap."""
    total = float(sum(float(m["amount"]) for m in members))
    cap = float(members[0]["_cap"])
    if total <= cap:
        return None
    return _finding(profile, settings, pd.DataFrame(members), total, cap, why)


def _finding(
    profile: Profile,
    settings: SplitBidSettings,
    members: pd.DataFrame,
    total: float,
    cap: float,
    why: dict[frozenset[str], list[dict[Any, Any]]],
) -> Finding:
    ids = [str(p) for p in members["project_id"]]
    span = int((members["_when"].max() - members["_when"].min()).days)
    close = span <= settings.close_days
    near = members[members["amount"] >= settings.near_cap_ratio * cap]
    orgs = list(dict.fromkeys(members["org_key"]))
    links = [r for a, b in combinations(orgs, 2) for r in why.get(frozenset((a, b)), [])]
    packages: list[str] = (
        [str(p) for p in members["declared_package"].dropna().unique()]
        if "declared_package" in members
        else []
    )
    explained = (
        settings.declared_packages_explained
        and len(packages) == 1
        and members["declared_package"].notna().all()
    )
    years = sorted({int(y) for y in members["_year"]})
    planned = not explained and two_year_plan(settings, members, total)
    level = int(close) + int(len(near) > 0)
    severity: Severity = "low" if explained or planned else ("high", "medium", "low")[2 - level]
    confidence = min((float(r["confidence"]) for r in links), default=1.0)
    category = str(members["project_category"].iloc[0])
    place = str(members["_place"].iloc[0])
    suppliers = "、".join(dict.fromkeys(str(s) for s in members["supplier_name"]))
    who = "同一单位" if len(orgs) == 1 else f"关联单位（{'；'.join(r['label'] for r in links)}）"
    explanation = (
        f"{place}{len(ids)}个内容相近的{category}项目（{'、'.join(ids)}）由{who}{suppliers}承接，"
        f"每个都不超过单项上限{yuan_wan(cap)}，合计{yuan_wan(total)}，超过上限"
        f"{yuan_wan(total - cap)}，签约相隔{span}天"
    )
    if len(years) > 1:
        explanation += f"，跨{'、'.join(str(y) for y in years)}年度签约"
    if len(near):
        explanation += f"，其中{len(near)}个达到上限的{settings.near_cap_ratio:.0%}以上"
    if planned:
        explanation += (
            f"。两个项目分属相邻两个年度、合计不超过{yuan_wan(settings.two_year_plan_max or 0)}，"
            "符合“两年规划”的做法，请核对两年规划的审议材料。"
        )
    elif explained:
        explanation += (
            f"。台账标明为同一合并实施批次（{packages[0]}），属“拆开申报、合并实施”的已说明情形，"
            "请核对批次审批材料。"
        )
    elif len(years) > 1 and settings.two_year_plan_max is not None:
        explanation += (
            f"，超出“两年规划”（相邻两年、合计{yuan_wan(settings.two_year_plan_max)}以内）"
            "的范围，疑似化整为零规避单项资金限额。"
        )
    else:
        explanation += "，疑似化整为零规避单项资金限额。"
    steps: list[EvidenceStep] = [
        project_step({str(k): v for k, v in p.items()}) for p in members.to_dict("records")
    ]
    for r in links:
        steps.extend(r["evidence"])
    if explained:
        steps.append(
            EvidenceStep(
                kind="declaration",
                text=f"台账“合并实施批次”均为 {packages[0]}",
                source=SourceRef(str(members["project_file"].iloc[0]), None, "projects"),
            )
        )
    steps += policy_steps(profile.name, settings.clauses)
    over = profile.settings("over_cap")
    citation = settings.citation
    if over is not None and over.clause.ref not in citation:
        citation = f"{over.clause.ref}；{citation}"
        steps += policy_steps(profile.name, [over.clause])
    first = members.iloc[0]
    return Finding(
        finding_id=finding_id("split_bid", profile.name, *ids),
        rule="split_bid",
        severity=severity,
        confidence=round(confidence, 4),
        project_ids=ids,
        staff_ids=[],
        suppliers=[str(k).split(":", 1)[1] for k in orgs],
        citation=citation,
        explanation=explanation,
        evidence=steps,
        street=text(first.get("street")),
        community=text(first.get("community")),
        policy=profile.name,
        details={
            "total": total,
            "cap": cap,
            "span_days": span,
            "near_cap": [str(p) for p in near["project_id"]],
            "explained_declared_package": bool(explained),
            "explained_two_year_plan": bool(planned),
            "years": years,
            "subject": str(first["_subject"]),
            "relations": [r["label"] for r in links],
        },
    )


@assessor("split_bid")
def assess(
    award: Award, ctx: AwardContext, settings: SplitBidSettings, profile: Profile
) -> Assessment:
    """The award before it is made: would it complete a split with the awards before it in
    its place, category and year (the same supplier's or a related one's)?"""
    caps = caps_of(profile, settings)
    p = award.project
    if not caps:
        return Assessment("split_bid", reason="未设单项资金上限")
    missing = [
        what
        for what, ok in (
            ("项目类别", p.get("category")),
            ("金额", p.get("amount")),
            ("签约日期", p.get("award_date") or p.get("approved_date")),
            ("社区或街道", p.get("community") or p.get("street")),
            ("承接单位", award.org_key),
        )
        if ok is None or (not isinstance(ok, str) and pd.isna(ok))
    ]
    if missing:
        return Assessment.unable("split_bid", "需要" + "、".join(missing))
    when_col, scope = piece_columns(p.keys(), settings)
    mine = piece_of(p, caps, when_col, scope)
    if mine is None:
        return Assessment("split_bid", reason="该项目超过单项上限或其类别无上限，不作拆分判断")
    year = int(mine["_year"])
    years = [year - 1, year, year + 1] if settings.across_year_days > 0 else [year]
    place, category = str(mine["_place"]), str(mine["project_category"])
    history = [p for y in years for p in ctx.history(award, place, category, y)]
    span = "本年度及相邻年度" if len(years) > 1 else "本年度"
    looked = f"已比对{mine['_place']}{span}同类已签约项目{len(history)}个"
    combined = [*history, mine]
    at = len(combined) - 1
    findings = [
        f
        for group, why in groups(
            combined, settings, lambda pairs: ctx.relations(pairs, "split_bid")
        )
        if at in group
        for f in [judge(profile, settings, [combined[i] for i in group], why)]
        if f is not None
    ]
    return Assessment("split_bid", findings, reason=looked)
