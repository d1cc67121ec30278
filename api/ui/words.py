"""What the pages say in place of codes and numbers: verdicts, severities, statuses,
confidences in plain Chinese."""

from __future__ import annotations

from integrity.rules import REGISTRY

VERDICTS = {
    "conflict": ("存在利益冲突", "须回避后再作决定"),
    "unknown": ("无法判断", "请先从候选中选定"),
    "caution": ("需核实", "签约前请先核实"),
    "clear": ("未发现问题", "已核查的各项均未发现问题"),
}
SEVERITIES = {"high": "高", "medium": "中", "low": "低"}
STATUSES = {"new": "待处理", "confirmed": "已核实", "dismissed": "已排除", "referred": "已移送"}
CATEGORIES = ("工程类", "服务类", "货物类")
STEPS = ("评审", "审核", "筛选", "评议", "审定", "采购经办", "验收")


def rule_title(code: str) -> str:
    rule = REGISTRY.get(code)
    return rule.title if rule else code


def confidence_words(value: float) -> str:
    """How sure an identity link is, as a reviewer reads it."""
    if value >= 0.99:
        return "确定（身份证号相同，或证据足以认定同一人）"
    if value >= 0.8:
        return f"很可能是同一人（约{value:.0%}）"
    if value >= 0.5:
        return f"可能是同一人（约{value:.0%}），须核实身份"
    if value >= 0.25:
        return f"有一定可能（约{value:.0%}），仅为线索，须核实身份"
    return f"可能性较低（约{value:.0%}），仅为线索"


def where(source: dict[str, object] | None) -> str:
    """A source row as a clerk finds it: 文件 第N行."""
    if not source:
        return ""
    file = str(source.get("file") or "")
    if file.startswith("policy:"):
        return "政策文件"
    if file == "核查请求":
        return "本次核查请求"
    row = source.get("row")
    return f"{file} 第{row}行" if row is not None else file
