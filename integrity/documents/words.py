"""What a finding says to a reader in place of codes and numbers: rule titles, severities,
statuses, confidences in words, source rows as a clerk finds them, and each evidence step in
plain words. The workbooks, the report, the referral letters and the pages all say it so; the
numbers themselves stay in findings.json and run.json."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from integrity.findings import LEAD_THRESHOLD, EvidenceStep, Finding
from integrity.identity.calibration import CALIBRATION_LABEL, KIND_NOTES, SHARED
from integrity.rules import REGISTRY

SEVERITIES = {"high": "高", "medium": "中", "low": "低"}
TRIAGE = {"new": "待处理", "confirmed": "已核实", "dismissed": "已排除", "referred": "已移送"}
LEAD, NOTICE = "线索待核", "风险提示"


def rule_title(code: str) -> str:
    rule = REGISTRY.get(code)
    return rule.title if rule else code


# 确定 from here: a link decided by names is stated at most 0.99 (identity.calibration), so
# only ID numbers (and findings that rest on no name) are called certain
CERTAIN = 0.995


def confidence_words(value: float) -> str:
    """How sure an identity link is, as a reviewer reads it."""
    if value >= CERTAIN:
        return "确定（身份证号相同，或证据足以认定同一人）"
    if value >= 0.8:
        return f"很可能是同一人（约{value:.0%}）"
    if value >= LEAD_THRESHOLD:
        return f"可能是同一人（约{value:.0%}），须核实身份"
    if value >= 0.25:
        return f"有一定可能（约{value:.0%}），仅为线索，须核实身份"
    return f"可能性较低（约{value:.0%}），仅为线索"


def confidence_word(value: float) -> str:
    """The same in one or two words, for a table column."""
    if value >= CERTAIN:
        return "确定"
    if value >= 0.8:
        return "很可能"
    if value >= LEAD_THRESHOLD:
        return "可能，须核实"
    return "线索，须核实"


def where(source: Mapping[str, object] | None) -> str:
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


def _identity(step: EvidenceStep) -> str:
    """身份比对 in words: what agreed, and how sure, without the resolver's arithmetic."""
    data: dict[str, Any] = step.data or {}
    confidence = data.get("confidence")
    head = step.text.split("，置信度")[0].split("（")[0]
    if confidence is None or float(confidence) >= 1.0:
        return head
    # what agreed or differed: not the base rate, not the calibration's part (the share
    # below says it)
    labels = [str(r[0]) for r in data.get("reasons") or []]
    reasons = [x.split("（")[0] for x in labels if not x.startswith(("先验", CALIBRATION_LABEL))]
    said = "、".join(dict.fromkeys(reasons)) or "姓名比对"
    # how crowded the data's names are, where it chose the calibration: why a name weighs
    # as much or as little as it does here (本数据中有多人同名; 本数据中两人同名的机会约百万分之1.3)
    said += "".join(f"；{x}" for x in _crowding(labels))
    c = float(confidence)
    caveat = "，仅为线索，须核实身份" if c < LEAD_THRESHOLD else ("，须核实身份" if c < 0.8 else "")
    return f"{head}：{said}；双方未同时有可核对的身份证号；判断为同一人的把握约{c:.0%}{caveat}"


def _crowding(labels: list[str]) -> list[str]:
    """What the calibration's reason says of how crowded the names are, in words: that the
    data's people share this name (the map of all pairs stated it), and the data's rate."""
    mapped = next((x for x in labels if x.startswith(CALIBRATION_LABEL)), None)
    if mapped is None:
        return []
    rest, out = mapped.removeprefix(CALIBRATION_LABEL), []
    for kind, note in KIND_NOTES.items():
        if note and rest.startswith(note):
            rest = rest.removeprefix(note)
            out += [note.strip("（）")] if kind == SHARED else []
    return out + ([rest.removeprefix("，")] if rest.startswith("，") else [])


def plain_step(step: EvidenceStep) -> str:
    """One evidence step as a reader takes it (the identity arithmetic put in words)."""
    if step.kind == "identity":
        return _identity(step)
    return step.text


def plain_text(step: Mapping[str, Any]) -> str:
    """:func:`plain_step` of a step in its JSON form (the service stores findings as JSON)."""
    return plain_step(
        EvidenceStep(
            str(step.get("kind", "")), str(step.get("text", "")), None, dict(step.get("data") or {})
        )
    )


def plain_evidence(finding: Finding) -> str:
    """The evidence as numbered lines, each with its source row."""
    lines = []
    for n, step in enumerate(finding.evidence, 1):
        source = step.to_dict()["source"]
        at = where(source)
        lines.append(f"{n}. {plain_step(step)}" + (f"（{at}）" if at else ""))
    return "\n".join(lines)


def relation_path(finding: Finding) -> str:
    """The chain of people and roles behind a finding (张波龙 —堂弟→ 张军海 —负责人→ 某公司),
    or the relations between suppliers; empty where there is none."""
    path = finding.details.get("path")
    if isinstance(path, str) and path:
        return path
    relations = finding.details.get("relations")
    if isinstance(relations, list) and relations:
        return "；".join(
            str(r.get("label", "")) if isinstance(r, dict) else str(r) for r in relations
        )
    return ""
