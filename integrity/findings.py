"""Findings as data-contract.md defines them, with stable ids and a row-by-row evidence path."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from integrity.policy import Severity

SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}
LEAD_THRESHOLD = 0.5  # below it a finding is a lead to check (线索待核), not an assertion
# the file a step cites when its row is the award a pre-award check was asked about, not a
# row of the ledgers (the same judgement, another source)
REQUEST_SOURCE = "核查请求"


@dataclass(frozen=True)
class SourceRef:
    """The input row a piece of evidence came from."""

    file: str
    row: int | None = None
    table: str | None = None


@dataclass(frozen=True)
class EvidenceStep:
    """One hop of the path: what it says, in Chinese, and where it was read."""

    kind: str  # project, supplier, person, kin, role, participation, catalogue, policy
    text: str
    source: SourceRef | None = None
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        source = None
        if self.source is not None:
            source = {"file": self.source.file, "row": self.source.row, "table": self.source.table}
        return {"kind": self.kind, "text": self.text, "source": source, "data": dict(self.data)}


@dataclass(frozen=True)
class Finding:
    finding_id: str
    rule: str
    severity: Severity
    confidence: float
    project_ids: list[str]
    staff_ids: list[str]
    suppliers: list[str]
    citation: str
    explanation: str
    evidence: list[EvidenceStep]
    street: str | None = None
    community: str | None = None
    policy: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def is_lead(self) -> bool:
        return self.confidence < LEAD_THRESHOLD

    @property
    def status(self) -> str:
        """风险提示, or 线索待核 below the confidence an assertion needs."""
        return "线索待核" if self.is_lead else "风险提示"

    def to_dict(self) -> dict[str, Any]:
        # by hand: dataclasses.asdict deep-copies every value and is slow for 10^5 findings
        return {
            "finding_id": self.finding_id,
            "rule": self.rule,
            "severity": self.severity,
            "confidence": self.confidence,
            "status": self.status,
            "project_ids": list(self.project_ids),
            "staff_ids": list(self.staff_ids),
            "suppliers": list(self.suppliers),
            "citation": self.citation,
            "explanation": self.explanation,
            "evidence": [step.to_dict() for step in self.evidence],
            "street": self.street,
            "community": self.community,
            "policy": self.policy,
            "details": dict(self.details),
        }


# rules whose findings rest on a chain official → relative → role holder → organisation
PERSON_CHAIN_RULES = ("avoidance", "related_supplier", "undeclared_relation")


def person_chain(finding: Finding) -> str | None:
    """The official, the person who holds the role and the organisation a finding's chain
    joins (``BT0234|张军海|9144…``), where that person was matched by name rather than by an
    ID number: a commission that rules "not the same person" rules on this chain, whatever
    project or rule it next appears in. None for other findings."""
    if finding.rule not in PERSON_CHAIN_RULES or not finding.staff_ids or not finding.suppliers:
        return None
    identity = finding.details.get("identity_confidence")
    if identity is None or float(identity) >= 1.0:
        return None  # an ID number decided: no namesake to rule out
    path = str(finding.details.get("path") or "")
    people = [part.split("→")[-1].strip() for part in path.split(" —")]
    if len(people) < 2:
        return None
    return f"{finding.staff_ids[0]}|{people[-2]}|{finding.suppliers[0]}"


def finding_from_dict(d: dict[str, Any]) -> Finding:
    """A finding read back from its ``to_dict`` form (the service stores findings as JSON)."""
    steps = []
    for e in d.get("evidence") or []:
        src = e.get("source")
        steps.append(
            EvidenceStep(
                kind=e["kind"],
                text=e["text"],
                source=SourceRef(src["file"], src.get("row"), src.get("table")) if src else None,
                data=dict(e.get("data") or {}),
            )
        )
    return Finding(
        finding_id=d["finding_id"],
        rule=d["rule"],
        severity=d["severity"],
        confidence=float(d["confidence"]),
        project_ids=list(d.get("project_ids") or []),
        staff_ids=list(d.get("staff_ids") or []),
        suppliers=list(d.get("suppliers") or []),
        citation=d.get("citation", ""),
        explanation=d.get("explanation", ""),
        evidence=steps,
        street=d.get("street"),
        community=d.get("community"),
        policy=d.get("policy", ""),
        details=dict(d.get("details") or {}),
    )


def finding_id(rule: str, policy: str, *key: object) -> str:
    """Stable id: the same rule, policy and key facts give the same id in every run."""
    payload = json.dumps([rule, policy, *key], ensure_ascii=False, sort_keys=True, default=str)
    digest = hashlib.sha256(payload.encode("utf-8")).hexdigest()[:12]
    return f"{rule}-{digest}"


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    return sorted(
        findings,
        key=lambda f: (
            SEVERITY_ORDER[f.severity],
            f.rule,
            f.street or "",
            f.project_ids,
            f.finding_id,
        ),
    )


def yuan_wan(amount: float) -> str:
    """An amount in yuan as the 万元 figure people read: 620000 -> '62.00万元'."""
    return f"{amount / 10_000:,.2f}万元"
