"""search text of findings (masked, normalised); streets of datasets

``findings.search_text``: what ``GET /findings?q=`` matches, every resident ID number masked
(the JSON column was searched before, unmasked and with ``%``/``_`` as wildcards).
``datasets.streets``: the streets a dataset names, so a commission token can be refused for a
street no dataset has.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 07:30:00
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

from api.search import search_text

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def upgrade() -> None:
    # plain ADD COLUMN (SQLite can): no table is rebuilt under its foreign keys
    op.add_column(
        "findings", sa.Column("search_text", sa.Text(), nullable=False, server_default="")
    )
    op.add_column("datasets", sa.Column("streets", sa.JSON(), nullable=True))
    bind = op.get_bind()
    findings = sa.table(
        "findings",
        sa.column("finding_id", sa.String),
        sa.column("data", sa.JSON),
        sa.column("search_text", sa.Text),
    )
    rows = bind.execute(sa.select(findings.c.finding_id, findings.c.data)).all()
    for finding_id, data in rows:
        bind.execute(
            findings.update()
            .where(findings.c.finding_id == finding_id)
            .values(search_text=search_text(_json(data) or {}))
        )


def downgrade() -> None:
    with op.batch_alter_table("datasets") as batch:
        batch.drop_column("streets")
    with op.batch_alter_table("findings") as batch:
        batch.drop_column("search_text")
