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
)

from api.profiles import NAME_PATTERN

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
    # where this worker's index came from: screening (built at its end), snapshot (the file
    # it kept), rebuilt (from stored state), shared (the parent's, `serve --workers N`)
    source: str | None = None


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


class ProvisionOut(BaseModel):
    """One provision of the screening's profile and what the run did with it."""

    key: str
    topic: str
    clause: str = Field(description="the reference a referral cites")
    status: Literal["checked", "not_checked", "not_applicable"]
    rule: str | None = Field(description="the rule that checks it")
    reason: str = Field("", description="why it was not checked, or why it does not apply")
    missing: list[str] = Field(
        default_factory=list, description="the columns or tables that would let it be checked"
    )


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
    provisions: list[ProvisionOut] = Field(
        default_factory=list,
        description="every provision of the profile: checked, not checked (and why), or not "
        "applicable (empty until the screening is done)",
    )


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
