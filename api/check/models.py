"""The pre-award check's request and answer (the OpenAPI schema the reviewer's page and
clients read)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from integrity.load.schema import CATEGORY_CANONICAL, PARTICIPANT_ROLES, canonical_category

Verdict = Literal["conflict", "caution", "clear", "unknown"]


class PanelMember(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {
                    "required": ["staff_id"],
                    "properties": {"staff_id": {"type": "string", "minLength": 1}},
                },
                {"required": ["name"], "properties": {"name": {"type": "string", "minLength": 1}}},
            ]
        }
    )

    staff_id: str | None = Field(default=None, max_length=64)
    name: str | None = Field(default=None, max_length=64)
    step: str = Field(
        default="评审",
        max_length=10,
        description="the decision step the member takes part in (评审, 审核, 筛选, 评议, 审定, "
        "采购经办, 验收 …, as the participants table writes it); recused members are left off",
        json_schema_extra={"enum": list(PARTICIPANT_ROLES)},
    )

    recused: bool = Field(
        default=False, description="recorded as stepping aside from this step (it is not judged)"
    )

    @field_validator("step")
    @classmethod
    def ledger_step(cls, value: str) -> str:
        found = PARTICIPANT_ROLES.get(value.strip())
        if found is None:
            raise ValueError(
                f"未知的环节「{value}」/ unknown step; 可用 / use: " + "、".join(PARTICIPANT_ROLES)
            )
        return found

    @model_validator(mode="after")
    def one_of(self) -> PanelMember:
        if not (self.staff_id or self.name):
            raise ValueError("give staff_id or name / 需给出工号或姓名")
        return self


class SupplierPerson(BaseModel):
    name: str = Field(min_length=1, max_length=64)
    id_number: str | None = Field(default=None, max_length=32)
    role: str = Field(default="法定代表人", max_length=20)


class SupplierIn(BaseModel):
    # the schema says what the validator below checks: a name or a USCC, not empty
    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {"required": ["name"], "properties": {"name": {"type": "string", "minLength": 1}}},
                {"required": ["uscc"], "properties": {"uscc": {"type": "string", "minLength": 1}}},
            ]
        }
    )

    name: str | None = Field(default=None, max_length=200)
    uscc: str | None = Field(default=None, max_length=32)
    quote: float | None = Field(default=None, ge=0, le=1e10, description="its quote, yuan")
    quote_wan: float | None = Field(default=None, ge=0, le=1e6, description="its quote, 万元")
    people: list[SupplierPerson] = Field(
        default_factory=list,
        max_length=50,
        description="role holders named in the bid (e.g. its legal representative)",
    )

    @model_validator(mode="after")
    def one_of(self) -> SupplierIn:
        if not (self.name or self.uscc):
            raise ValueError("give the supplier's name or USCC / 需给出单位名称或统一社会信用代码")
        return self


class ProjectIn(BaseModel):
    project_id: str | None = Field(
        default=None,
        max_length=64,
        description="the ledger's id of the project under check: its own row is left out of "
        "the supplier's earlier awards",
    )
    category: str | None = Field(
        default=None,
        max_length=20,
        description="工程类 / 服务类 / 货物类, or a ledger's spelling of one "
        f"({'、'.join(CATEGORY_CANONICAL)})",
        examples=["服务类", "实物类"],
        json_schema_extra={"enum": [*CATEGORY_CANONICAL, None]},
    )
    amount: float | None = Field(default=None, ge=0, le=1e10, description="yuan")
    amount_wan: float | None = Field(default=None, ge=0, le=1e6, description="万元")
    community: str | None = Field(default=None, max_length=100)
    street: str | None = Field(default=None, max_length=100)
    date: dt.date | None = Field(default=None, description="award (signing) date")
    title: str | None = Field(default=None, max_length=300)
    funded_amount: float | None = Field(
        default=None, ge=0, le=1e10, description="the government-funded part, yuan (财政资金)"
    )
    funded_amount_wan: float | None = Field(default=None, ge=0, le=1e6, description="万元")
    declared_package: str | None = Field(
        default=None, max_length=100, description="a declared 拆开申报、合并实施 package (罗湖)"
    )
    nominator_count: int | None = Field(
        default=None, ge=0, le=100_000, description="residents or organisations who chose it"
    )
    catalogue_item: str | None = Field(
        default=None,
        max_length=64,
        description="the catalogue entry (项目库编号) the project implements: a catalogued "
        "supplier doing an item outside its own entries is reported",
    )

    @field_validator("category")
    @classmethod
    def ledger_category(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        found = canonical_category(value)
        if found is None:
            raise ValueError(
                f"未知的项目类别「{value}」/ unknown category; 可用 / use: "
                + "、".join(CATEGORY_CANONICAL)
            )
        return found


class CheckIn(BaseModel):
    supplier: SupplierIn
    project: ProjectIn = Field(default_factory=ProjectIn)
    panel: list[PanelMember] = Field(default_factory=list, max_length=100)
    quoting_suppliers: list[SupplierIn] = Field(default_factory=list, max_length=20)


class CandidateOut(BaseModel):
    """Something the request may have meant, to pick and check again."""

    id: str = Field(description="the USCC (or organisation key), or the staff id")
    name: str
    similarity: float = Field(description="0-100")
    street: str | None = None


class SourceOut(BaseModel):
    file: str
    row: int | None = None
    table: str | None = None


class HolderOut(BaseModel):
    name: str
    role: str
    source: SourceOut | None = None


class SupplierOut(BaseModel):
    given: dict[str, str]
    found: bool
    found_by: str = Field(description="统一社会信用代码, 规范化名称, 未找到, 名称不唯一")
    org_key: str | None = None
    name: str | None = None
    notes: list[str] = Field(default_factory=list)
    candidates: list[CandidateOut] = Field(default_factory=list)
    holders: list[HolderOut] = Field(default_factory=list)


class PanelOut(BaseModel):
    given: str
    step: str
    found: bool
    staff_id: str | None = None
    name: str | None = None
    street: str | None = None
    community: str | None = None
    note: str = ""
    candidates: list[CandidateOut] = Field(default_factory=list)


class RuleOut(BaseModel):
    """What one rule said of the award: checked or not, and why."""

    rule: str
    title: str
    applicable: bool = Field(description="false: the programme has no such provision")
    checked: bool
    reason: str
    findings: int = 0


class EvidenceOut(BaseModel):
    kind: str
    text: str
    source: SourceOut | None = None
    data: dict[str, Any] = Field(default_factory=dict)


class AssessmentOut(BaseModel):
    """A finding about the award: the same object, produced by the same code, as the batch
    screening writes about the award once it is in the ledger."""

    finding_id: str
    rule: str
    severity: Literal["high", "medium", "low"]
    confidence: float
    status: str = Field(description="风险提示, or 线索待核 below confidence 0.5")
    project_ids: list[str]
    staff_ids: list[str]
    suppliers: list[str]
    citation: str
    explanation: str
    evidence: list[EvidenceOut]
    street: str | None = None
    community: str | None = None
    policy: str
    details: dict[str, Any] = Field(default_factory=dict)


class CheckOut(BaseModel):
    screening_id: str
    dataset_id: str
    policy: str
    verdict: Verdict = Field(
        description="conflict: a panel member must step aside; unknown: the supplier or a "
        "panel member cannot be told apart (see the candidates); caution: something to check "
        "first; clear: every rule that applies was checked and found nothing"
    )
    summary: str = Field(description="the verdict in one Chinese sentence")
    supplier: SupplierOut
    panel: list[PanelOut]
    rules: list[RuleOut]
    assessments: list[AssessmentOut]
    elapsed_ms: float
