"""quote_screens: quoting behaviour across the ledger's awards that fair competition seldom
shows — a supplier that always quotes and never wins, a fixed set of suppliers that meets
again and again, a street or community whose quotes sit too close together or whose winners
stand apart from a tight cluster of losing quotes. Each is weighed against chance
(integrity.bidstats) and reported only when chance explains it poorly."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from math import comb
from typing import Any

from integrity import bidstats
from integrity.findings import LEAD_THRESHOLD, EvidenceStep, Finding, finding_id, yuan_wan
from integrity.policy import Profile, RuleSettings
from integrity.prices import about, posterior
from integrity.rules.registry import ScanContext, rule
from integrity.screening.evidence import policy_steps, source_ref, text


class QuoteScreenSettings(RuleSettings):
    # a supplier is screened as a repeat loser once it has quoted in this many tenders
    min_tenders: int = 6
    # a set of suppliers is screened once it has quoted together in this many tenders
    min_together: int = 4
    # a street or community is screened on this many tenders of three quotes or more
    min_group: int = 8
    # reported when the chance that the ledger shows as much anywhere is at most this
    alpha: float = 0.05
    # the share of suppliers, sets or places taken to be colluding before the quotes are read
    screen_prior: float = 0.01


@dataclass
class Tender:
    """The quotes behind one award."""

    project_id: str
    street: str | None
    community: str | None
    rows: list[dict[str, Any]] = field(default_factory=list)

    @property
    def bidders(self) -> list[str]:
        return sorted({str(r["org_key"]) for r in self.rows})

    @property
    def winners(self) -> set[str]:
        return {str(r["org_key"]) for r in self.rows if r.get("selected") is True}

    @property
    def bids(self) -> list[float]:
        return [float(r["amount"]) for r in self.rows if text(r.get("amount"))]


def tenders(ctx: ScanContext) -> list[Tender]:
    """Every award with quotes from two suppliers or more, in project order."""
    scr = ctx.screening
    quotes = scr.keyed["quotes"].dropna(subset=["org_key"])
    projects = scr.keyed["projects"]
    where = {
        str(r["project_id"]): (text(r.get("street")), text(r.get("community")))
        for r in projects.to_dict("records")
    }
    by_project: dict[str, Tender] = {}
    for q in ({str(k): v for k, v in r.items()} for r in quotes.to_dict("records")):
        pid = str(q["project_id"])
        street, community = where.get(pid, (None, None))
        by_project.setdefault(pid, Tender(pid, street, community)).rows.append(q)
    return [t for _, t in sorted(by_project.items()) if len(t.bidders) >= 2]


@rule(
    "quote_screens",
    title="报价行为异常",
    settings=QuoteScreenSettings,
    needs=("projects", "quotes"),
    kin=False,
)
def quote_screens(ctx: ScanContext, settings: QuoteScreenSettings) -> Iterator[Finding]:
    """全台账的比价记录中，公平竞争很少出现的报价行为（招标投标法实施条例第三十九条所列
    “约定中标人”“约定部分投标人放弃投标或者中标”的迹象）：

    - 陪标专业户：一家单位多次参与比价（默认6次以上）却从未中选。若每次比价各家中选机会
      均等，全部落选的概率为各次“1 − 1/报价家数”之积；
    - 固定组合：同样几家单位（三家以上）多次（默认4次以上）同为一个项目的全部报价单位，中选
      常在其中轮流。若各单位按各自的参与频率独立参与比价，这几家同场这么多次的概率按泊松分布
      计算；
    - 报价过于接近：某街道或社区的比价（三家以上报价，默认8次以上）报价离散系数（标准差÷
      均值）明显低于全台账（Huber & Imhof 2019）；
    - 中选价与其余报价明显分开：最低两家之差与落选报价标准差之比（相对距离，Imhof 2017）
      明显高于全台账。后两项比较各次比价在全台账中的排位，按秩和检验（从全台账不放回地
      抽取同样多次比价）计算偶然出现的概率。

    每项都按本台账同时筛查的单位、组合或地区数校正（Bonferroni），校正后偶然出现的概率不超过
    5%才列出；把握按事先设定的百分之一先验换算。这些都是筛查信号，不是认定：列出的是需要
    调取报价文件核查的对象。
    """
    all_tenders = tenders(ctx)
    yield from _repeat_losers(ctx.profile, settings, all_tenders)
    yield from _fixed_sets(ctx.profile, settings, all_tenders)
    yield from _place_screens(ctx.profile, settings, all_tenders)


def _repeat_losers(
    profile: Profile, settings: QuoteScreenSettings, all_tenders: list[Tender]
) -> Iterator[Finding]:
    mine: dict[str, list[Tender]] = defaultdict(list)
    for t in all_tenders:
        if t.winners:
            for key in t.bidders:
                mine[key].append(t)
    screened = {k: ts for k, ts in mine.items() if len(ts) >= settings.min_tenders}
    for key, ts in sorted(screened.items()):
        if any(key in t.winners for t in ts):
            continue
        chance = bidstats.never_wins_chance([len(t.bidders) for t in ts])
        overall = bidstats.adjusted(chance, len(screened))
        if overall > settings.alpha:
            continue
        name = _name(ts, key)
        beat_by = Counter(_name([t], w) for t in ts for w in t.winners)
        said = "、".join(f"{n}{c}次" for n, c in beat_by.most_common(3))
        explanation = (
            f"{name}在本台账的{len(ts)}次比价中报价，一次也未中选（中选的是{said}）。若每次"
            f"比价各家中选机会均等，{len(ts)}次全部落选的概率{about(chance)}；本台账有"
            f"{len(screened)}家单位报价{settings.min_tenders}次以上，至少一家如此的概率"
            f"{about(overall)}。"
        )
        yield _finding(
            profile,
            settings,
            ("repeat_loser", key),
            explanation,
            overall,
            ts,
            [key.split(":", 1)[-1]],
            {"screen": "repeat_loser", "tenders": len(ts), "chance": chance, "overall": overall},
        )


def _fixed_sets(
    profile: Profile, settings: QuoteScreenSettings, all_tenders: list[Tender]
) -> Iterator[Finding]:
    wide = [t for t in all_tenders if len(t.bidders) >= 3]
    if not wide:
        return
    joined = Counter(k for t in wide for k in t.bidders)
    rate = {k: n / len(wide) for k, n in joined.items()}
    eligible = sum(1 for n in joined.values() if n >= settings.min_together)
    sets: dict[tuple[str, ...], list[Tender]] = defaultdict(list)
    for t in wide:
        sets[tuple(t.bidders)].append(t)
    for members, ts in sorted(sets.items()):
        if len(ts) < settings.min_together:
            continue
        chance = bidstats.together_chance(len(ts), len(wide), [rate[k] for k in members])
        overall = bidstats.adjusted(chance, comb(max(eligible, len(members)), len(members)))
        if overall > settings.alpha:
            continue
        wins = Counter(w for t in ts for w in t.winners)
        names = "、".join(_name(ts, k) for k in members)
        said = "、".join(f"{_name(ts, k)}{wins[k]}次" for k in members if wins[k])
        turns = "中选在其中轮流" if sum(1 for k in members if wins[k]) >= 2 else "中选的总是同一家"
        explanation = (
            f"{names}在{len(ts)}次比价中同为全部报价单位，{turns}（{said}）。若各单位按各自"
            f"的参与频率独立参与比价（本台账{len(wide)}次三家以上比价），这几家同场至少"
            f"{len(ts)}次的概率{about(chance)}，按本台账可能的组合数校正后"
            f"{about(overall)}。"
        )
        yield _finding(
            profile,
            settings,
            ("fixed_set", *members),
            explanation,
            overall,
            ts,
            [k.split(":", 1)[-1] for k in members],
            {"screen": "fixed_set", "tenders": len(ts), "chance": chance, "overall": overall},
        )


SCREENS = (("low_spread", True), ("winner_apart", False))  # (screen, low values suspicious)


def _place_screens(
    profile: Profile, settings: QuoteScreenSettings, all_tenders: list[Tender]
) -> Iterator[Finding]:
    """Communities first; then each street without the communities already listed for the
    same screen (a street is not listed again for the tenders of its listed community)."""
    priced = [t for t in all_tenders if len(t.bids) >= 3]
    measured = {
        "low_spread": {t.project_id: bidstats.cv(t.bids) for t in priced},
        "winner_apart": {t.project_id: bidstats.relative_distance(t.bids) for t in priced},
    }
    communities: dict[tuple[str, str], list[Tender]] = defaultdict(list)
    streets: dict[str, list[Tender]] = defaultdict(list)
    for t in priced:
        if t.street:
            streets[t.street].append(t)
            if t.community:
                communities[(t.street, t.community)].append(t)
    groups: list[tuple[tuple[str, str | None], list[Tender]]] = [
        ((street, community), ts)
        for (street, community), ts in sorted(communities.items())
        if len(ts) >= settings.min_group
    ]
    groups += [
        ((k, None), ts) for k, ts in sorted(streets.items()) if len(ts) >= settings.min_group
    ]
    tests = len(SCREENS) * len(groups)
    for screen, lower in SCREENS:
        values = measured[screen]
        rank = _ranks(values)
        listed: set[tuple[str, str]] = set()
        for (street, community), ts in groups:
            mine = [
                t
                for t in ts
                if values[t.project_id] is not None and (street, t.community or "") not in listed
            ]
            if len(mine) < settings.min_group:
                continue
            test = bidstats.mean_below_chance if lower else bidstats.mean_above_chance
            chance = test([rank[t.project_id] for t in mine], list(rank.values()))
            overall = bidstats.adjusted(chance, tests)
            if overall > settings.alpha:
                continue
            if community is not None:
                listed.add((street, community))
            without: list[str] = (
                sorted({c for s_, c in listed if s_ == street}) if community is None else []
            )
            yield _place_finding(
                profile, settings, screen, (street, community), without, mine, values,
                (chance, overall, len(groups)), measured,
            )  # fmt: skip


def _place_finding(
    profile: Profile,
    settings: QuoteScreenSettings,
    screen: str,
    place: tuple[str, str | None],
    without: list[str],
    mine: list[Tender],
    values: dict[str, float | None],
    odds: tuple[float, float, int],
    measured: dict[str, dict[str, float | None]],
) -> Finding:
    chance, overall, groups = odds
    street, community = place
    own = [float(values[t.project_id] or 0.0) for t in mine]
    median = statistics.median(own)
    everywhere = statistics.median(v for v in values.values() if v is not None)
    if screen == "low_spread":
        measure = f"报价离散系数（标准差÷均值）中位数{median:.1%}，全台账{everywhere:.1%}"
        meaning = "各家报价过于接近"
    else:
        measure = (
            f"最低两家报价之差与落选报价标准差之比（相对距离）中位数{median:.2f}，"
            f"全台账{everywhere:.2f}"
        )
        meaning = "中选价与彼此接近的落选报价明显分开"
    apart = f"（不含已列出的{'、'.join(without)}）" if without else ""
    explanation = (
        f"{street}{community or ''}{apart}的{len(mine)}次比价中，{measure}，{meaning}。"
        f"从全台账随机抽取同样多次比价，其排位平均达到这一程度的概率{about(chance)}，"
        f"按本台账同时筛查的{groups}个街道和社区校正后{about(overall)}。"
    )
    return _finding(
        profile,
        settings,
        (screen, street, community),
        explanation,
        overall,
        mine,
        [],
        {
            "screen": screen,
            "tenders": len(mine),
            "median": round(median, 4),
            "ledger_median": round(everywhere, 4),
            "chance": chance,
            "overall": overall,
        },
        per_tender=lambda t: _measures(t, measured["low_spread"], measured["winner_apart"]),
    )


def _ranks(measured: dict[str, float | None]) -> dict[str, float]:
    """Each tender's percentile among the ledger's tenders that have the measure."""
    have = {pid: v for pid, v in measured.items() if v is not None}
    return dict(zip(have, bidstats.percentiles(list(have.values())), strict=True))


def _measures(t: Tender, cvs: dict[str, float | None], rds: dict[str, float | None]) -> str:
    parts = []
    if (c := cvs.get(t.project_id)) is not None:
        parts.append(f"离散系数{c:.1%}")
    if (r := rds.get(t.project_id)) is not None:
        parts.append(f"相对距离{r:.2f}")
    if (s := bidstats.skewness(t.bids)) is not None:
        parts.append(f"偏度{s:.2f}")
    if (k := bidstats.kurtosis(t.bids)) is not None:
        parts.append(f"峰度{k:.2f}")
    return "，".join(parts)


def _name(ts: list[Tender], key: str) -> str:
    """The supplier's name as its first quote row writes it (报价单位 is a required column)."""
    return next(str(r["supplier_name"]) for t in ts for r in t.rows if str(r["org_key"]) == key)


def _finding(
    profile: Profile,
    settings: QuoteScreenSettings,
    key: tuple[Any, ...],
    explanation: str,
    overall: float,
    ts: list[Tender],
    suppliers: list[str],
    details: dict[str, Any],
    per_tender: Any = None,
) -> Finding:
    confidence = posterior(overall, settings.screen_prior)
    ending = (
        "可能存在约定中标或陪标，需调取报价文件核查。"
        if confidence >= LEAD_THRESHOLD
        else "偶然的可能不能排除，仅作线索待核。"
    )
    steps: list[EvidenceStep] = []
    for t in ts:
        extra = per_tender(t) if per_tender else ""
        for q in sorted(t.rows, key=lambda r: (r.get("_row") is None, r.get("_row") or 0)):
            amount = f"，报价{yuan_wan(float(q['amount']))}" if text(q.get("amount")) else ""
            chosen = "，中选" if q.get("selected") is True else ""
            steps.append(
                EvidenceStep(
                    kind="quote",
                    text=f"询价比价记录：{t.project_id} {q['supplier_name']}{amount}{chosen}"
                    + (f"（本次{extra}）" if extra and q is t.rows[0] else ""),
                    source=source_ref(q.get("_file"), q.get("_row"), "quotes"),
                    data={"organisation": q["org_key"]},
                )
            )
    steps += policy_steps(profile.name, settings.clauses)
    streets = {t.street for t in ts}
    communities = {t.community for t in ts}
    return Finding(
        finding_id=finding_id("quote_screens", profile.name, *key),
        rule="quote_screens",
        severity="low",
        confidence=round(confidence, 4),
        project_ids=sorted(t.project_id for t in ts),
        staff_ids=[],
        suppliers=sorted(suppliers),
        citation=settings.citation,
        explanation=explanation + ending,
        evidence=steps,
        street=next(iter(streets)) if len(streets) == 1 else None,
        community=next(iter(communities)) if len(communities) == 1 else None,
        policy=profile.name,
        details={k: (float(f"{v:.6g}") if isinstance(v, float) else v) for k, v in details.items()},
    )
