"""What the programme-level rules share: which columns a provision reads and whether the
dataset has them, the year a project belongs to, and findings over a group of projects (a
street, a community, a year) that show the figures behind the verdict and every row.

A rule module checks its provisions with these; the scan reports a provision as not checked,
naming the columns, from the same :func:`missing_columns`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from integrity.findings import EvidenceStep, Finding, SourceRef, finding_id, yuan_wan
from integrity.load.dataset import Dataset
from integrity.load.schema import TABLES
from integrity.policy import Profile, Provision, Severity
from integrity.screening.evidence import PROJECT_COLUMNS, policy_steps, project_step

# the dates a project is placed in a year by, first found first
YEAR_COLUMNS = ("award_date", "approved_date", "proposal_date")
NO_YEAR = "年度不详"


def column_label(spec: str) -> str:
    """``projects.council_date`` -> ``项目台账.议事日期（council_date）``."""
    table_name, _, column = spec.partition(".")
    table = TABLES[table_name]
    if not column:
        return f"{table.zh_name}（{table_name}）"
    col = table.column(column)
    zh = col.aliases[0] if col.aliases else column
    return f"{table.zh_name}.{zh}（{column}）"


def _has(dataset: Dataset, spec: str) -> bool:
    table, _, column = spec.partition(".")
    if not dataset.has(table):
        return False
    frame = dataset.table(table)
    return not column or (column in frame.columns and bool(frame[column].notna().any()))


def missing_columns(dataset: Dataset, needs: Iterable[str]) -> list[str]:
    """The needed columns the dataset lacks (absent, or present with no value in any row), as
    users name them; ``a|b`` is satisfied by either."""
    out = []
    for need in needs:
        options = need.split("|")
        if not any(_has(dataset, o) for o in options):
            out.append(" 或 ".join(column_label(o) for o in options))
    return out


def missing_text(missing: Sequence[str]) -> str:
    return "缺少列 / missing columns: " + "、".join(missing)


def with_years(projects: pd.DataFrame) -> pd.DataFrame:
    """The projects with ``_year``: the year of the first of award, approval or proposal
    date a row has, else 年度不详."""
    year = pd.Series(NO_YEAR, index=projects.index, dtype=object)
    for col in reversed(YEAR_COLUMNS):
        if col in projects.columns:
            known = projects[col].notna()
            years = pd.to_datetime(projects.loc[known, col]).dt.year
            year[known] = pd.Series(
                [int(y) for y in years], index=years.index, dtype=object
            )  # Python ints: scopes and lookups compare them
    return projects.assign(_year=year)


def plain(value: Any) -> Any:
    """A numpy scalar (a groupby key) as the Python value it holds: 2024, not np.int64(2024)."""
    return value.item() if hasattr(value, "item") and not isinstance(value, str) else value


PLACE_COLUMNS = ("street", "community")


def ledger(dataset: Dataset) -> pd.DataFrame:
    """The projects as the programme rules read them: with ``_year`` (:func:`with_years`), and
    the place columns present even where the ledger has none (empty), so that a rule grouping
    by place reads the same frame whatever optional columns a district keeps; a provision
    that needs a place declares it in its rule's ``checks`` and is not run without it."""
    projects = dataset.table("projects")
    missing = {c: None for c in PLACE_COLUMNS if c not in projects.columns}
    return with_years(projects.assign(**missing) if missing else projects)


def year_text(year: object) -> str:
    """「2024年度」, or 「（年度不详）」 for rows with no date to place them in a year."""
    return "（年度不详）" if year == NO_YEAR else f"{year}年度"


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of ``frame`` as dicts keyed by column name."""
    return [{str(k): v for k, v in r.items()} for r in frame.to_dict("records")]


def project_evidence(rows: pd.DataFrame) -> list[EvidenceStep]:
    """A project step per row, in ledger order."""
    renamed = rows.sort_values("_row").rename(columns=PROJECT_COLUMNS)
    return [project_step(r) for r in records(renamed)]


def figures_step(sentence: str, figures: dict[str, Any]) -> EvidenceStep:
    """The computed figures behind a verdict (no ledger row of their own)."""
    return EvidenceStep(kind="figures", text=sentence, source=None, data=dict(figures))


def row_step(table: str, row: dict[str, Any], sentence: str) -> EvidenceStep:
    """A row of a programme table (communities, street_quotas) as evidence."""
    return EvidenceStep(
        kind="programme",
        text=sentence,
        source=SourceRef(str(row["_file"]), int(row["_row"]), table),
    )


def place(street: Any, community: Any = None) -> str:
    return "".join(str(x) for x in (street, community) if isinstance(x, str) and x)


def share(part: float, whole: float) -> str:
    """A share with two decimals, so that 54.98% is never shown as the 55% it falls short of."""
    return f"{part / whole:.2%}" if whole else "—"


def project_label(r: dict[str, Any], category: bool = False) -> str:
    """「龙城街道回龙埔社区项目「…」（LG2024-LC-0013）」: how a sentence names one project."""
    kind = str(r.get("category") or "") if category else ""
    where = place(r.get("street"), r.get("community"))
    return f"{where}{kind}项目「{r['name']}」（{r['project_id']}）"


def rows_of(frame: pd.DataFrame, r: dict[str, Any]) -> pd.DataFrame:
    """The ledger row(s) of the project ``r`` names."""
    mine: pd.DataFrame = frame[frame["project_id"] == r["project_id"]]
    return mine


def wan(amount: float) -> str:
    return yuan_wan(amount)


def _only(rows: pd.DataFrame, column: str) -> Any:
    """The one value a column has in every row (None: absent, or several)."""
    if column not in rows.columns:
        return None
    values = rows[column].dropna().unique()
    return values[0] if len(values) == 1 else None


@dataclass
class GroupFinding:
    """A finding over a group of projects (or one project) under one provision."""

    rule: str
    provision: Provision
    severity: Severity
    explanation: str
    scope: dict[str, Any]  # street / community / year / project
    figures: dict[str, Any]
    rows: pd.DataFrame  # the projects behind it (may be empty)
    extra_steps: list[EvidenceStep] = field(default_factory=list)
    figure_text: str = ""
    also: list[Provision] = field(default_factory=list)

    def build(self, profile: Profile) -> Finding:
        clauses = [self.provision.clause, *(p.clause for p in self.also)]
        steps = [
            *([figures_step(self.figure_text, self.figures)] if self.figure_text else []),
            *self.extra_steps,
            *project_evidence(self.rows),
            *policy_steps(profile.name, clauses),
        ]
        scope = {k: plain(v) for k, v in self.scope.items() if v is not None and v != ""}
        street = scope.get("street", _only(self.rows, "street"))
        community = scope.get("community", _only(self.rows, "community"))
        ids = sorted(str(p) for p in self.rows["project_id"]) if len(self.rows) else []
        key = sorted((k, str(v)) for k, v in scope.items())
        return Finding(
            finding_id=finding_id(self.rule, profile.name, self.provision.key, key),
            rule=self.rule,
            severity=self.severity,
            confidence=1.0,
            project_ids=ids,
            staff_ids=[],
            suppliers=[],
            citation="；".join(dict.fromkeys(c.ref for c in clauses)),
            explanation=self.explanation,
            evidence=steps,
            street=str(street) if isinstance(street, str) else None,
            community=str(community) if isinstance(community, str) else None,
            policy=profile.name,
            details={
                "provision": self.provision.key,
                "scope": {
                    k: (v if isinstance(v, (int, str)) else str(v)) for k, v in scope.items()
                },
                "figures": self.figures,
            },
        )
