"""What the service stores (SQLModel): tokens, datasets, screenings, findings and their triage,
the audit log. The schema is created and changed only by Alembic migrations (api/migrations);
the two history tables (finding_events, audit_log) are append-only, enforced in the database.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Text
from sqlmodel import Field, SQLModel

ROLES = ("admin", "commission", "reviewer", "auditor")
STATUSES = ("new", "confirmed", "dismissed", "referred")
# triage moves: a finding is confirmed or dismissed after checking, referred to the
# disciplinary body once confirmed (or straight away); a dismissal can be reopened
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "new": ("confirmed", "dismissed", "referred"),
    "confirmed": ("referred", "dismissed"),
    "dismissed": ("new",),
    "referred": (),
}


def now() -> datetime:
    return datetime.now(UTC)


class ApiToken(SQLModel, table=True):
    __tablename__ = "api_tokens"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    role: str = Field(max_length=20)
    # a commission's streets: it sees only findings, people and lists of these streets
    streets: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    token_hash: str = Field(max_length=64, unique=True, index=True)
    prefix: str = Field(max_length=12)  # the token's first characters, to tell tokens apart
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    revoked_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )


class DatasetRecord(SQLModel, table=True):
    __tablename__ = "datasets"

    id: str = Field(primary_key=True, max_length=40)
    name: str = Field(max_length=300)
    sha256: str = Field(max_length=64, unique=True, index=True)  # of the files as uploaded
    path: str = Field(max_length=500)  # folder under the data directory
    files: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    rows: int = 0
    warnings: int = 0
    # the streets the dataset names (staff, projects): a commission token must name one
    streets: list[str] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class ScreeningRecord(SQLModel, table=True):
    __tablename__ = "screenings"

    id: str = Field(primary_key=True, max_length=40)
    dataset_id: str = Field(foreign_key="datasets.id", index=True, max_length=40)
    policy: str = Field(max_length=100)
    rules: list[str] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    # queued, running, done, failed; cancelling (asked to stop while running), cancelled
    status: str = Field(default="queued", max_length=20)
    progress: str = Field(default="", max_length=200)
    # the host and process whose queue holds it, then that runs it (recovery ends only the
    # jobs of owners that are gone)
    owner: str | None = Field(default=None, max_length=100)
    findings: int = 0
    run: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    error: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    started_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    finished_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )


class FindingRecord(SQLModel, table=True):
    """One finding, keyed by its stable id: a re-run updates it, never duplicates it, and its
    triage status survives the re-run."""

    __tablename__ = "findings"

    finding_id: str = Field(primary_key=True, max_length=80)
    rule: str = Field(index=True, max_length=40)
    severity: str = Field(index=True, max_length=10)
    confidence: float = Field(index=True)
    street: str | None = Field(default=None, index=True, max_length=100)
    community: str | None = Field(default=None, index=True, max_length=100)
    policy: str = Field(max_length=100)
    status: str = Field(default="new", index=True, max_length=20)
    data: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    # what ``q`` matches: the finding's text normalised, ID numbers masked (api.search)
    search_text: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    first_screening_id: str = Field(max_length=40)
    last_screening_id: str = Field(index=True, max_length=40)
    first_seen: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    updated_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class ScreeningFinding(SQLModel, table=True):
    """Which findings a screening produced (a finding seen by two runs has two rows)."""

    __tablename__ = "screening_findings"

    screening_id: str = Field(foreign_key="screenings.id", primary_key=True, max_length=40)
    finding_id: str = Field(foreign_key="findings.finding_id", primary_key=True, max_length=80)


class FindingEvent(SQLModel, table=True):
    """A change of a finding's status: append-only (the database refuses UPDATE and DELETE)."""

    __tablename__ = "finding_events"

    id: int | None = Field(default=None, primary_key=True)
    finding_id: str = Field(foreign_key="findings.finding_id", index=True, max_length=80)
    from_status: str = Field(max_length=20)
    to_status: str = Field(max_length=20)
    reason: str = Field(sa_column=Column(Text, nullable=False))
    actor: str = Field(max_length=200)
    actor_role: str = Field(max_length=20)
    at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class AuditEntry(SQLModel, table=True):
    """Who asked what, when: append-only (the database refuses UPDATE and DELETE)."""

    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False, index=True))
    token_id: int | None = None
    actor: str = Field(max_length=200)
    role: str = Field(max_length=20)
    method: str = Field(max_length=10)
    path: str = Field(max_length=500)
    # what the request named: persons, suppliers, staff ids, finding ids, filters
    subject: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    outcome: int = 200  # the HTTP status answered
