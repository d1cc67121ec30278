"""Evidence steps the rules share: a project row, an identity match, a company role, a clause.

Each step says in Chinese what the row shows and cites the row (file, row, table), so a
referral can be checked line by line against the ledgers it came from.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd

from integrity.findings import REQUEST_SOURCE, EvidenceStep, SourceRef, yuan_wan
from integrity.policy import Clause
from integrity.screening.kin import Screening
from integrity.screening.org_relations import holder_step, identity_evidence

LEDGER_LABELS = {"projects": "项目台账", "participants": "经办与评审记录", "quotes": "询价比价记录"}


def source_label(file: Any, table: str = "projects") -> str:
    """How a step names where its row comes from: the ledger, or the check's request."""
    return "本次核查请求" if file == REQUEST_SOURCE else LEDGER_LABELS[table]


def source_ref(file: Any, row: Any, table: str) -> SourceRef:
    """The step's source: a ledger row, or the request (no row number)."""
    if file == REQUEST_SOURCE or row is None or pd.isna(row):
        return SourceRef(str(file), None, table)
    return SourceRef(str(file), int(row), table)


def text(value: Any) -> str | None:
    """A cell as text, None where empty."""
    return (
        None
        if value is None or (not isinstance(value, (list, tuple)) and pd.isna(value))
        else str(value)
    )


def identity_step(scr: Screening, row: dict[str, Any]) -> EvidenceStep:
    """The match between a kin-side person (``relative``) and a registered role holder
    (``h_name``, ``h_key``), with its confidence and the resolver's reasons."""
    return identity_evidence(
        scr.name_of(row["relative"]),
        row["relative"],
        str(row["h_name"]),
        row["h_key"],
        float(row["match_conf"]),
        row["reasons"],
    )


def role_steps(rows: Iterable[dict[Any, Any]]) -> list[EvidenceStep]:
    """The role steps of one holder's rows: the first row of each role, in the order the
    roles first appear."""
    first: dict[str, dict[Any, Any]] = {}
    for r in rows:
        first.setdefault(str(r["h_role"]), r)
    return [role_step(r) for r in first.values()]


def role_step(row: dict[Any, Any]) -> EvidenceStep:
    """A holder row with columns prefixed ``h_`` (kin_in_roles): 李四 —法定代表人→ 某公司."""
    holder = {k[2:]: v for k, v in row.items() if isinstance(k, str) and k.startswith("h_")}
    holder |= {"file": row["h_h_file"], "row": row["h_h_row"], "table": row["h_h_table"]}
    return holder_step(holder)


def project_step(row: dict[str, Any], pid_col: str = "project_id") -> EvidenceStep:
    """A project row: id, name, category, amount and awarded supplier, with its source."""
    parts = [f"{source_label(row.get('project_file'))}：{row[pid_col]}「{row['project_name']}」"]
    if text(row.get("project_category")):
        parts.append(str(row["project_category"]))
    if text(row.get("amount")):
        parts.append(f"金额{yuan_wan(float(row['amount']))}")
    if text(row.get("supplier_name")):
        parts.append(f"承接单位 {row['supplier_name']}")
    if text(row.get("award_date")):
        parts.append(f"签约日期 {pd.Timestamp(row['award_date']).date()}")
    return EvidenceStep(
        kind="project",
        text="，".join(parts),
        source=source_ref(row["project_file"], row.get("project_row"), "projects"),
        data={"project_id": row[pid_col]},
    )


def policy_steps(profile: str, clauses: Iterable[Clause]) -> list[EvidenceStep]:
    return [
        EvidenceStep(
            kind="policy", text=f"{c.ref}：“{c.text}”", source=SourceRef(f"policy:{profile}")
        )
        for c in dict.fromkeys(clauses)
    ]


PROJECT_COLUMNS = {
    "name": "project_name",
    "category": "project_category",
    "_file": "project_file",
    "_row": "project_row",
}


# the columns of an awarded project's row the rules read
AWARDED_COLUMNS = (
    "project_id",
    "name",
    "category",
    "amount",
    "street",
    "community",
    "award_date",
    "approved_date",
    "acceptance_date",
    "nominator_count",
    "catalogue_item",
    "supplier_name",
    "uscc",
    "org_key",
    "_file",
    "_row",
)


def awarded_projects(projects: pd.DataFrame) -> pd.DataFrame:
    """Projects with an awarded supplier (``org_key``), columns renamed for evidence steps."""
    cols = [c for c in AWARDED_COLUMNS if c in projects]
    return projects[cols].dropna(subset=["org_key"]).rename(columns=PROJECT_COLUMNS)
