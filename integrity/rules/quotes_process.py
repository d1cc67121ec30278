"""quotes_process: the three quotes behind a services or goods award (货比三家, 留存书面记录):
too few, the winner not among them, not the one marked selected, or not the lowest without a
stated reason."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pandas as pd

from integrity.findings import EvidenceStep, Finding, yuan_wan
from integrity.identity.names import org_names
from integrity.policy import ProgrammeSettings, Provision, Severity
from integrity.programme import GroupFinding, project_label, records
from integrity.rules.registry import ScanContext, rule
from integrity.screening.evidence import source_ref, text

THREE_QUOTES = "quotes_process.three_quotes"


class QuotesProcessSettings(ProgrammeSettings):
    # the categories bought by quotes (龙岗 第十六条（二）（三）; works follow their own rules)
    categories: tuple[str, ...] = ("服务类", "货物类")


def _quote_step(r: dict[str, Any]) -> EvidenceStep:
    parts = [f"询价比价记录：{_name(r)}"]
    if text(r.get("amount")):
        parts.append(f"报价{yuan_wan(float(r['amount']))}")
    if r.get("selected") is True:
        parts.append("中选")
    return EvidenceStep(
        kind="quote", text="，".join(parts), source=source_ref(r["_file"], r["_row"], "quotes")
    )


@rule(
    "quotes_process",
    title="比价程序不合规",
    settings=QuotesProcessSettings,
    needs=("projects", "quotes"),
    screening=False,
    checks={THREE_QUOTES: ("projects.supplier_name|projects.uscc",)},
    programme=True,
)
def quotes_process(ctx: ScanContext, settings: QuotesProcessSettings) -> Iterator[Finding]:
    """服务类、货物类项目的比价不符合“货比三家、留存书面记录”：报价单位少于三家或没有报价
    记录；中标单位不在报价单位之中；报价记录中标明中选的不是中标单位；中标单位的报价不是
    最低且台账“备注/说明”中没有写明理由。

    单位按统一社会信用代码比对，没有代码时按规范化后的单位名称比对。
    """
    provision = settings.provision(THREE_QUOTES)
    minimum = settings.value(THREE_QUOTES) or 3
    if provision is None:
        return
    projects = ctx.dataset.table("projects")
    projects = _keyed(projects[projects["category"].isin(settings.categories)])
    projects = projects[projects["_name"].notna() | projects["_uscc"].notna()]
    quotes = _keyed(ctx.dataset.table("quotes"))
    # one pass over each table: per-project frames would cost a pandas call per project
    by_project: dict[Any, list[dict[str, Any]]] = {}
    for q in records(quotes):
        if _filled(q.get("project_id")):
            by_project.setdefault(q["project_id"], []).append(q)
    ledger = dict(projects.groupby("project_id", sort=False).indices)
    for r in records(projects):
        mine = by_project.get(r["project_id"], [])
        problems = list(_problems(r, mine, int(minimum)))
        if not problems:
            continue
        rows = projects.iloc[ledger.get(r["project_id"], [])]
        steps = [_quote_step(q) for q in mine]
        for severity, check, said, figures in problems:
            yield _finding(ctx, provision, r, rows, steps, severity, check, said, figures)


def _filled(value: Any) -> bool:
    """A value the ledger filled in (evidence.text's reading: not None, NaN or NA)."""
    return text(value) is not None


def _keyed(frame: pd.DataFrame) -> pd.DataFrame:
    """``_uscc`` (a valid code) and ``_name`` (the name's comparable core) of each row's
    supplier: two rows name one supplier when either agrees."""
    valid = frame.get("uscc_valid", pd.Series(False, index=frame.index)).fillna(False)
    uscc = frame["uscc"].where(valid.astype(bool)) if "uscc" in frame else None
    names = (
        frame["supplier_name"] if "supplier_name" in frame else pd.Series(None, index=frame.index)
    )
    filled = names.dropna()
    cores = pd.Series(org_names([str(n) for n in filled])[1], index=filled.index, dtype=object)
    return frame.assign(
        _uscc=uscc if uscc is not None else pd.Series(None, index=frame.index, dtype=object),
        _name=cores.reindex(frame.index),
    )


def _same(quote: dict[str, Any], r: dict[str, Any]) -> bool:
    """Whether a quote row names the project's own supplier (same code, or same name)."""
    for col in ("_uscc", "_name"):
        value = r.get(col)
        if isinstance(value, str) and value and quote.get(col) == value:
            return True
    return False


def _suppliers(quotes: list[dict[str, Any]]) -> int:
    """How many suppliers quoted (a code, else a name, counts one)."""
    keys = set()
    for q in quotes:
        key = q.get("_uscc") if _filled(q.get("_uscc")) else q.get("_name")
        if _filled(key):
            keys.add(key)
    return len(keys)


def _name(quote: dict[str, Any]) -> str:
    """A quote's supplier as the sentence names it (a row without a name says so)."""
    return text(quote.get("supplier_name")) or "（未注明单位）"


def _selected(quote: dict[str, Any]) -> bool:
    """Whether the quote row is marked as the one selected (中选)."""
    value = quote.get("selected")
    return _filled(value) and bool(value == True)  # noqa: E712 - True, 1 and numpy's True


def _problems(
    r: dict[str, Any], mine: list[dict[str, Any]], minimum: int
) -> Iterator[tuple[Severity, str, str, dict[str, Any]]]:
    if not mine:
        yield "medium", "no_quotes", "没有询价比价记录", {"quotes": 0, "min": minimum}
        return
    suppliers = _suppliers(mine)
    if suppliers < minimum:
        yield (
            "medium",
            "few_quotes",
            f"只有{suppliers}家单位报价，少于{minimum}家",
            {"quotes": int(suppliers), "min": minimum},
        )
    winner = [q for q in mine if _same(q, r)]
    if not winner:
        yield (
            "high",
            "winner_not_quoted",
            f"中标单位{r.get('supplier_name')}不在{suppliers}家报价单位之中",
            {"quotes": int(suppliers)},
        )
        return
    selected = [q for q in mine if _selected(q)]
    if selected and not any(_same(q, r) for q in selected):
        names = "、".join(_name(q) for q in selected)
        yield (
            "medium",
            "selected_other",
            f"报价记录标明中选的是{names}，而台账的中标单位是{r.get('supplier_name')}",
            {"selected": names},
        )
    if "amount" not in mine[0]:  # the quotes carry no prices: nothing to compare
        return
    priced = [q for q in mine if _filled(q.get("amount"))]
    own = [float(q["amount"]) for q in winner if _filled(q.get("amount"))]
    if not own or not priced:
        return
    lowest = min(float(q["amount"]) for q in priced)
    bid = min(own)
    if bid > lowest and not text(r.get("remarks")):
        low = "、".join(_name(q) for q in priced if float(q["amount"]) == lowest)
        yield (
            "medium",
            "not_lowest",
            f"中标单位报价{yuan_wan(bid)}，高于最低报价{yuan_wan(lowest)}（{low}），台账未说明理由",
            {"winner_quote": bid, "lowest_quote": lowest},
        )


def _finding(
    ctx: ScanContext,
    provision: Provision,
    r: dict[str, Any],
    rows: pd.DataFrame,
    steps: list[EvidenceStep],
    severity: Severity,
    check: str,
    said: str,
    figures: dict[str, Any],
) -> Finding:
    return GroupFinding(
        rule="quotes_process",
        provision=provision,
        severity=severity,
        explanation=f"{project_label(r, category=True)}{said}。",
        scope={"project": r["project_id"], "check": check},
        figures=figures,
        figure_text=said,
        rows=rows.drop(columns=["_uscc", "_name"]),
        extra_steps=steps,
    ).build(ctx.profile)
