"""Request and response bodies (the OpenAPI schema the clients and schemathesis read)."""

from __future__ import annotations

import datetime as dt
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

Role = Literal["admin", "commission", "reviewer", "auditor"]
Status = Literal["new", "confirmed", "dismissed", "referred"]


class DatasetOut(BaseModel):
    id: str
    name: str
    sha256: str
    files: list[dict[str, Any]]
    rows: int
    warnings: int
    created_by: str
    created_at: datetime
    created: bool = False  # false: the same files were uploaded before


class ScreeningIn(BaseModel):
    dataset_id: str = Field(min_length=1, max_length=40)
    policy: str = Field(min_length=1, max_length=100, examples=["longgang-2023"])
    rules: list[str] | None = Field(default=None, description="rule codes; all when omitted")


class ScreeningOut(BaseModel):
    id: str
    dataset_id: str
    policy: str
    rules: list[str] | None
    status: str
    progress: str
    findings: int
    created_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    error: dict[str, Any] | None = None
    run: dict[str, Any] | None = None


class DemoOut(BaseModel):
    dataset: DatasetOut
    screening: ScreeningOut


class FindingOut(BaseModel):
    finding_id: str
    rule: str
    severity: str
    confidence: float
    street: str | None
    community: str | None
    policy: str
    status: Status
    first_seen: datetime
    updated_at: datetime
    last_screening_id: str
    finding: dict[str, Any]


class FindingPage(BaseModel):
    total: int
    offset: int
    limit: int
    items: list[FindingOut]


class StatusIn(BaseModel):
    status: Status
    reason: str = Field(min_length=2, max_length=4000, description="why: required, kept forever")


class EventOut(BaseModel):
    id: int
    finding_id: str
    from_status: str
    to_status: str
    reason: str
    actor: str
    actor_role: str
    at: datetime


class PanelMember(BaseModel):
    staff_id: str | None = Field(default=None, max_length=64)
    name: str | None = Field(default=None, max_length=64)

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
    name: str | None = Field(default=None, max_length=200)
    uscc: str | None = Field(default=None, max_length=32)
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
    category: Literal["工程类", "服务类", "货物类"] | None = None
    amount: float | None = Field(default=None, ge=0, le=1e10, description="yuan")
    amount_wan: float | None = Field(default=None, ge=0, le=1e6, description="万元")
    community: str | None = Field(default=None, max_length=100)
    street: str | None = Field(default=None, max_length=100)
    date: dt.date | None = Field(default=None, description="award (signing) date")
    title: str | None = Field(default=None, max_length=300)


class CheckIn(BaseModel):
    supplier: SupplierIn
    project: ProjectIn = Field(default_factory=ProjectIn)
    panel: list[PanelMember] = Field(default_factory=list, max_length=100)
    quoting_suppliers: list[SupplierIn] = Field(default_factory=list, max_length=20)


class TokenIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    role: Role
    streets: list[str] = Field(default_factory=list, max_length=100)


class TokenOut(BaseModel):
    id: int
    name: str
    role: str
    streets: list[str]
    prefix: str
    created_at: datetime
    revoked_at: datetime | None
    token: str | None = Field(default=None, description="shown once, when issued")


class AuditOut(BaseModel):
    id: int
    at: datetime
    actor: str
    role: str
    method: str
    path: str
    subject: dict[str, Any]
    outcome: int


class GraphOut(BaseModel):
    nodes: list[dict[str, Any]]
    edges: list[dict[str, Any]]
    truncated: bool = False
