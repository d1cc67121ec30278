"""What the pages say in place of codes and numbers: verdicts, severities, statuses,
confidences in plain Chinese."""

from __future__ import annotations

from integrity.documents.words import SEVERITIES, TRIAGE, confidence_words, rule_title, where

VERDICTS = {
    "conflict": ("存在利益冲突", "须回避后再作决定"),
    "unknown": ("无法判断", "请先从候选中选定"),
    "caution": ("需核实", "签约前请先核实"),
    "clear": ("未发现问题", "已核查的各项均未发现问题"),
}
CATEGORIES = ("工程类", "服务类", "货物类")
STEPS = ("评审", "审核", "筛选", "评议", "审定", "采购经办", "验收")
STATUSES = TRIAGE
__all__ = [
    "CATEGORIES",
    "SEVERITIES",
    "STATUSES",
    "STEPS",
    "VERDICTS",
    "confidence_words",
    "rule_title",
    "where",
]
