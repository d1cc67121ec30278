"""Request and response bodies (the OpenAPI schema the clients and schemathesis read)."""

from __future__ import annotations

import datetime as dt
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from api.profiles import NAME_PATTERN
from integrity.schema import CATEGORY_CANONICAL, canonical_category

Role = Literal["admin", "commission", "reviewer", "auditor"]
Status = Literal["new", "confirmed", "dismissed", "referred"]
ScreeningStatus = Literal["queued", "running", "cancelling", "done", "failed", "cancelled"]


def _utc(value: datetime) -> datetime:
    # SQLite hands back naive datetimes although they were stored in UTC
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


# a timestamp as answered: always with its time zone (UTC)
Utc = Annotated[datetime, AfterValidator(_utc)]


class IndexOut(BaseModel):
    screening_id: str
    policy: str


class HealthOut(BaseModel):
    status: str
    version: str
    check_index: IndexOut | None = None


class PolicyOut(BaseModel):
    name: str
    label: str


class DatasetOut(BaseModel):
    id: str
    name: str
    sha256: str
    files: list[dict[str, Any]]
    rows: int
    warnings: int
    streets: list[str] | None = None
    created_by: str
    created_at: Utc
    created: bool = False  # false: the same files were uploaded before


class ScreeningIn(BaseModel):
    dataset_id: str = Field(min_length=1, max_length=40)
    policy: str = Field(
        min_length=1,
        max_length=64,
        pattern=NAME_PATTERN,
        examples=["longgang-2023"],
        description="a profile's name (GET /policies), never a path",
    )
    rules: list[str] | None = Field(default=None, description="rule codes; all when omitted")


class ScreeningOut(BaseModel):
    id: str
    dataset_id: str
    policy: str
    rules: list[str] | None
    status: ScreeningStatus
    progress: str
    findings: int
    created_by: str
    created_at: Utc
    started_at: Utc | None
    finished_at: Utc | None
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
    first_seen: Utc
    updated_at: Utc
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
    at: Utc


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


class TokenIn(BaseModel):
    # a commission's token names its streets
    model_config = ConfigDict(
        json_schema_extra={
            "if": {"properties": {"role": {"const": "commission"}}},
            "then": {"required": ["streets"], "properties": {"streets": {"minItems": 1}}},
        }
    )

    name: str = Field(min_length=1, max_length=200)
    role: Role
    streets: list[Annotated[str, Field(min_length=1, max_length=100, pattern=r"\S")]] = Field(
        default_factory=list, max_length=100
    )


class TokenOut(BaseModel):
    id: int
    name: str
    role: str
    streets: list[str]
    prefix: str
    created_at: Utc
    revoked_at: Utc | None
    token: str | None = Field(default=None, description="shown once, when issued")


class AuditOut(BaseModel):
    id: int
    at: Utc
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
